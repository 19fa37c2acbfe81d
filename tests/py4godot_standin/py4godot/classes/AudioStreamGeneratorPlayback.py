# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/classes/AudioStreamGeneratorPlayback.py
# (generated from Godot's AudioStreamGeneratorPlayback). Engine behaviour mirrored (Godot
# servers/audio/effects/audio_stream_generator.cpp): a ring buffer of Vector2 frames;
# get_frames_available() is its free space (size - used - 1); push_buffer(frames) pushes all or,
# when they do not fit, nothing (engine error, returns false); the mixer pulls frames on the
# audio thread -- here `standin_mix(n)` plays that role.

from __future__ import annotations

import numpy as np

from py4godot.classes.core import PackedVector2Array, Vector2
from py4godot.classes.Object import register_native
from py4godot.classes.RefCounted import RefCounted
from py4godot.functions import standin_engine_error


@register_native
class AudioStreamGeneratorPlayback(RefCounted):
    @staticmethod
    def get_type() -> str:
        return "AudioStreamGeneratorPlayback"

    @classmethod
    def standin_with_ring(cls, size: int) -> AudioStreamGeneratorPlayback:
        playback = cls.new()
        playback._size = size
        playback._frames = np.zeros((0, 2), np.float32)
        playback._skips = 0
        return playback

    def get_frames_available(self) -> int:
        return self._size - len(self._frames) - 1

    def can_push_buffer(self, amount: int) -> bool:
        return self.get_frames_available() >= amount

    def push_buffer(self, frames: PackedVector2Array) -> bool:
        if not isinstance(frames, PackedVector2Array):
            raise AssertionError("push_buffer needs a PackedVector2Array")
        if frames.size() > self.get_frames_available():
            standin_engine_error('Condition "buffer.space_left() < to_write" is true.')
            return False
        self._frames = np.concatenate([self._frames, frames._data])
        return True

    def push_frame(self, frame: Vector2) -> bool:
        if self.get_frames_available() < 1:
            return False
        self._frames = np.concatenate([self._frames, np.float32([[frame.x, frame.y]])])
        return True

    def get_skips(self) -> int:
        return self._skips

    def clear_buffer(self) -> None:
        self._frames = np.zeros((0, 2), np.float32)

    def standin_mix(self, count: int) -> np.ndarray:
        """Stand-in only: the mixer takes up to ``count`` frames, (n, 2) float32."""
        taken, self._frames = self._frames[:count], self._frames[count:]
        return taken
