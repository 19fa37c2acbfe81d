# Mirrors py4godot/classes/AudioStreamGenerator.py at 4.7-alpha21 (generated). Engine behaviour
# (Godot servers/audio/effects/audio_stream_generator.cpp): mix_rate default 44100, buffer_length
# default 0.5 s; instantiate_playback() sizes the playback's ring buffer to 1 << nearest_shift(
# mix_rate * buffer_length) frames (nearest_shift = position of the highest set bit + 1).

from __future__ import annotations

from typing import Any

from py4godot.classes.AudioStreamGeneratorPlayback import AudioStreamGeneratorPlayback
from py4godot.classes.Object import register_native
from py4godot.classes.RefCounted import RefCounted
from py4godot.utils.functools import native_method


@register_native
class AudioStreamGenerator(RefCounted):  # Godot: AudioStreamGenerator -> AudioStream -> Resource
    @staticmethod
    def get_type() -> str:
        return "AudioStreamGenerator"

    @classmethod
    def _standin_engine_init(cls, engine: Any) -> None:
        engine.mix_rate, engine.buffer_length = 44100.0, 0.5

    @native_method
    def set_mix_rate(self, hz: float) -> None:
        assert isinstance(hz, int | float), "hz must be int or float"
        self._engine("set_mix_rate").mix_rate = float(hz)

    @native_method
    def get_mix_rate(self) -> float:
        return self._engine("get_mix_rate").mix_rate

    @native_method
    def set_buffer_length(self, seconds: float) -> None:
        assert isinstance(seconds, int | float), "seconds must be int or float"
        self._engine("set_buffer_length").buffer_length = float(seconds)

    @native_method
    def get_buffer_length(self) -> float:
        return self._engine("get_buffer_length").buffer_length

    @native_method
    def instantiate_playback(self) -> AudioStreamGeneratorPlayback:
        frames = int(self.get_mix_rate() * self.get_buffer_length())
        return AudioStreamGeneratorPlayback.standin_with_ring(1 << frames.bit_length())
