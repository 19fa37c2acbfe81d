"""Test helpers for media: the feeders (shared with the demo) and a playback stand-in."""

from __future__ import annotations

import numpy as np
from godot_livekit_dev.feeders import Feeder, tone_feeder, video_feeder

__all__ = ["CollectingPlayback", "Feeder", "tone_feeder", "video_feeder"]


class CollectingPlayback:
    """Stands in for Godot's AudioStreamGeneratorPlayback: takes everything, keeps it."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self.chunks: list[np.ndarray] = []

    def get_frames_available(self) -> int:
        return self.capacity

    def push_buffer(self, frames: np.ndarray) -> None:
        self.chunks.append(np.array(frames, copy=True))

    def frames(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros((0, 2), np.float32)
