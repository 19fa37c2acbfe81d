"""Test helpers for media: the feeders (shared with the demo), a playback stand-in, and I420
frames made by the SDK for the video-tile tests."""

from __future__ import annotations

import numpy as np
from godot_livekit_dev.feeders import Feeder, tone_feeder, video_feeder
from livekit import rtc

from godot_livekit import LiveKitVideoStream, testing
from godot_livekit.media_convert import video_frame_from_rgba

__all__ = [
    "CollectingPlayback",
    "Feeder",
    "i420_of",
    "polled_i420_stream",
    "tone_feeder",
    "video_feeder",
]


def i420_of(rgba: np.ndarray) -> rtc.VideoFrame:
    """``rgba`` converted to I420 by the SDK (libyuv, BT.601 limited range)."""
    return video_frame_from_rgba(rgba).convert(rtc.VideoBufferType.I420)


def polled_i420_stream(frame: rtc.VideoFrame) -> LiveKitVideoStream:
    """A core stream in MODE_I420 that has taken ``frame`` (as its SDK reader hands it over)."""
    stream = LiveKitVideoStream()
    stream.set_auto_poll(False)
    stream.set_mode(LiveKitVideoStream.MODE_I420)
    testing.feed_video_frame(stream, frame)
    assert stream.poll()
    return stream


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
