# Mirrors py4godot/classes/AudioStreamGeneratorPlayback.py at 4.7-alpha21 (generated). Engine
# behaviour (Godot servers/audio/effects/audio_stream_generator.cpp, core/templates/ring_buffer.h):
# a ring buffer of stereo frames; get_frames_available() is its free space (size - used - 1);
# push_buffer(frames) writes all of them, or nothing when they do not fit (engine error, false);
# the audio thread's mixer pulls frames -- `standin_mix(n)` plays that role and counts a skip
# when it finds fewer frames than it needs.

from __future__ import annotations

from typing import Any

import numpy as np

from py4godot.classes.core import PackedVector2Array, Vector2
from py4godot.classes.Object import register_native
from py4godot.classes.RefCounted import RefCounted
from py4godot.functions import standin_engine_error
from py4godot.utils.functools import native_method


@register_native
class AudioStreamGeneratorPlayback(RefCounted):
    @staticmethod
    def get_type() -> str:
        return "AudioStreamGeneratorPlayback"

    @classmethod
    def _standin_engine_init(cls, engine: Any) -> None:
        engine.ring_size, engine.frames, engine.skips = 0, np.zeros((0, 2), np.float32), 0

    @classmethod
    def standin_with_ring(cls, size: int) -> AudioStreamGeneratorPlayback:
        playback = cls.new()
        playback.init_ref()  # instantiate_playback returns a Ref
        playback._engine().ring_size = size
        return playback

    @native_method
    def get_frames_available(self) -> int:
        engine = self._engine("get_frames_available")
        return engine.ring_size - len(engine.frames) - 1

    @native_method
    def can_push_buffer(self, amount: int) -> bool:
        return self.get_frames_available() >= amount

    @native_method
    def push_buffer(self, frames: PackedVector2Array) -> bool:
        assert isinstance(frames, PackedVector2Array), "frames must be PackedVector2Array"
        engine = self._engine("push_buffer")
        if frames.size() > self.get_frames_available():
            standin_engine_error('Condition "buffer.space_left() < to_write" is true.')
            return False
        engine.frames = np.concatenate([engine.frames, frames._data])
        return True

    @native_method
    def push_frame(self, frame: Vector2) -> bool:
        assert isinstance(frame, Vector2), "frame must be Vector2"
        engine = self._engine("push_frame")
        if self.get_frames_available() < 1:
            return False
        engine.frames = np.concatenate([engine.frames, np.float32([[frame.x, frame.y]])])
        return True

    @native_method
    def get_skips(self) -> int:
        return self._engine("get_skips").skips

    @native_method
    def clear_buffer(self) -> None:
        self._engine("clear_buffer").frames = np.zeros((0, 2), np.float32)

    def standin_mix(self, count: int) -> np.ndarray:
        """Stand-in only: the mixer takes up to ``count`` frames, (n, 2) float32."""
        engine = self._engine("standin_mix")
        taken, engine.frames = engine.frames[:count], engine.frames[count:]
        if len(taken) < count:
            engine.skips += 1
        return taken

    def standin_buffered(self) -> int:
        """Stand-in only: frames waiting in the ring."""
        return len(self._engine("standin_buffered").frames)
