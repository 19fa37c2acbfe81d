# Mirrors py4godot/classes/AudioStreamMicrophone.py at 4.7-alpha21 (generated). Engine behaviour
# (Godot servers/audio/audio_stream.cpp, AudioStreamMicrophone / AudioStreamPlaybackMicrophone):
# a resource whose playback plays the audio driver's input; it records only while the project
# enables input (audio/driver/enable_input). What the microphone hears is
# AudioServer.standin_record's argument.

from __future__ import annotations

from typing import Any

from py4godot.classes.Object import register_native
from py4godot.classes.RefCounted import RefCounted
from py4godot.utils.functools import native_method


@register_native
class AudioStreamPlaybackMicrophone(RefCounted):
    @staticmethod
    def get_type() -> str:
        return "AudioStreamPlaybackMicrophone"


@register_native
class AudioStreamMicrophone(RefCounted):  # Godot: AudioStreamMicrophone -> AudioStream -> Resource
    @staticmethod
    def get_type() -> str:
        return "AudioStreamMicrophone"

    @native_method
    def instantiate_playback(self) -> Any:
        playback = AudioStreamPlaybackMicrophone.new()
        playback.init_ref()  # returns a Ref
        return playback
