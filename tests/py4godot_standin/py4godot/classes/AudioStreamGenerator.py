# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/classes/AudioStreamGenerator.py (generated from
# Godot's AudioStreamGenerator: mix_rate default 44100, buffer_length default 0.5 s). Playback ring
# size as in Godot servers/audio/effects/audio_stream_generator.cpp: the next power of two of
# buffer_length * mix_rate frames.

from __future__ import annotations

from py4godot.classes.AudioStreamGeneratorPlayback import AudioStreamGeneratorPlayback
from py4godot.classes.Object import register_native
from py4godot.classes.RefCounted import RefCounted


@register_native
class AudioStreamGenerator(RefCounted):
    @staticmethod
    def get_type() -> str:
        return "AudioStreamGenerator"

    def set_mix_rate(self, hz: float) -> None:
        self._mix_rate = float(hz)

    def get_mix_rate(self) -> float:
        return getattr(self, "_mix_rate", 44100.0)

    def set_buffer_length(self, seconds: float) -> None:
        self._buffer_length = float(seconds)

    def get_buffer_length(self) -> float:
        return getattr(self, "_buffer_length", 0.5)

    def instantiate_playback(self) -> AudioStreamGeneratorPlayback:
        frames = int(self.get_buffer_length() * self.get_mix_rate())
        size = 1 << max(0, (frames - 1).bit_length())  # nearest_shift
        return AudioStreamGeneratorPlayback.standin_with_ring(size)
