# Mirrors py4godot/classes/AudioEffectCapture.py at 4.7-alpha21 (generated). Engine behaviour
# (Godot servers/audio/effects/audio_effect_capture.cpp, read at godotengine/godot master):
# - the ring buffer exists once the effect is instantiated on a bus (instantiate():
#   1 << nearest_shift(AudioServer mix rate * buffer_length) frames; buffer_length default 0.1 s);
# - process() on the audio thread writes a block only when it fits whole (space_left >= n),
#   otherwise the whole block is discarded (get_discarded_frames grows);
# - get_buffer(frames): frames outside [0, buffer size) is an engine error returning an empty
#   array; fewer frames available than asked (or 0 asked) returns an empty array silently;
#   otherwise the oldest `frames` frames as a new PackedVector2Array (left, right);
# - can_get_buffer(n) = data_left >= n; get_frames_available() = data_left (engine error and 0
#   before the buffer exists); clear_buffer() drops what is buffered.
# `standin_instantiate(mix_rate)` and `standin_process(frames)` play the audio server's role.

from __future__ import annotations

from typing import Any

import numpy as np

from py4godot.classes.core import PackedVector2Array, _Buffer
from py4godot.classes.Object import register_native
from py4godot.classes.RefCounted import RefCounted
from py4godot.functions import standin_engine_error
from py4godot.utils.functools import native_method


@register_native
class AudioEffectCapture(RefCounted):  # Godot: AudioEffectCapture -> AudioEffect -> Resource
    @staticmethod
    def get_type() -> str:
        return "AudioEffectCapture"

    @classmethod
    def _standin_engine_init(cls, engine: Any) -> None:
        engine.buffer_length = 0.1
        engine.ring_size = 0  # 0: not instantiated on a bus yet
        engine.frames = np.zeros((0, 2), np.float32)
        engine.pushed = engine.discarded = 0

    @native_method
    def set_buffer_length(self, buffer_length_seconds: float) -> None:
        assert isinstance(buffer_length_seconds, int | float)
        self._engine("set_buffer_length").buffer_length = float(buffer_length_seconds)

    @native_method
    def get_buffer_length(self) -> float:
        return self._engine("get_buffer_length").buffer_length

    @native_method
    def can_get_buffer(self, frames: int) -> bool:
        return len(self._engine("can_get_buffer").frames) >= frames

    @native_method
    def get_frames_available(self) -> int:
        engine = self._engine("get_frames_available")
        if not engine.ring_size:
            standin_engine_error('Condition "!buffer_initialized" is true. Returning: 0')
            return 0
        return len(engine.frames)

    @native_method
    def get_buffer_length_frames(self) -> int:
        return self._engine("get_buffer_length_frames").ring_size

    @native_method
    def get_discarded_frames(self) -> int:
        return self._engine("get_discarded_frames").discarded

    @native_method
    def get_pushed_frames(self) -> int:
        return self._engine("get_pushed_frames").pushed

    @native_method
    def get_buffer(self, frames: int) -> PackedVector2Array:
        assert isinstance(frames, int | float), "frames must be int or float"
        engine = self._engine("get_buffer")
        if not engine.ring_size:
            standin_engine_error('Condition "!buffer_initialized" is true.')
            return PackedVector2Array.new0()
        if not 0 <= frames < engine.ring_size:
            standin_engine_error(f"Index p_frames = {frames} is out of bounds.")
            return PackedVector2Array.new0()
        if len(engine.frames) < frames or frames == 0:
            return PackedVector2Array.new0()
        taken, engine.frames = engine.frames[: int(frames)], engine.frames[int(frames) :]
        return PackedVector2Array._wrap(_Buffer(taken.copy()))

    @native_method
    def clear_buffer(self) -> None:
        self._engine("clear_buffer").frames = np.zeros((0, 2), np.float32)

    def standin_instantiate(self, mix_rate: float = 44100.0) -> None:
        """Stand-in only: the effect is added to a bus (AudioEffectCapture::instantiate)."""
        engine = self._engine("standin_instantiate")
        if not engine.ring_size:
            engine.ring_size = 1 << int(mix_rate * engine.buffer_length).bit_length()
        engine.frames = np.zeros((0, 2), np.float32)

    def standin_process(self, frames: np.ndarray) -> None:
        """Stand-in only: the audio thread runs the bus with one block of (n, 2) frames."""
        engine = self._engine("standin_process")
        block = np.asarray(frames, np.float32).reshape(-1, 2)
        if engine.ring_size - len(engine.frames) - 1 >= len(block):
            engine.frames = np.concatenate([engine.frames, block])
            engine.pushed += len(block)
        else:
            engine.discarded += len(block)
