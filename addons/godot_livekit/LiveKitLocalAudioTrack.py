"""LiveKitLocalAudioTrack for GDScript: your audio, published with ``publish_track``.

py4godot scripts cannot have static methods callable from GDScript, so the reference's static
``create(name, source)`` is an instance method that initialises this object and returns it:
LiveKit.gd attaches this script to a new RefCounted and calls it:
``LiveKit.create_local_audio_track(name, source)``.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.core import Array
from py4godot.classes.RefCounted import RefCounted
from py4godot.signals import SignalArg, signal

import godot_livekit
from addons.godot_livekit.bridge.convert import text
from addons.godot_livekit.bridge.members import LocalTrackMembers
from addons.godot_livekit.bridge.objects import adopt, core_of, guard


@gdclass
class LiveKitLocalAudioTrack(LocalTrackMembers, RefCounted):
    KIND_UNKNOWN = 0
    KIND_AUDIO = 1
    KIND_VIDEO = 2

    SOURCE_UNKNOWN = 0
    SOURCE_CAMERA = 1
    SOURCE_MICROPHONE = 2
    SOURCE_SCREENSHARE = 3
    SOURCE_SCREENSHARE_AUDIO = 4

    STATE_UNKNOWN = 0
    STATE_ACTIVE = 1
    STATE_PAUSED = 2

    stats_received = signal([SignalArg("stats", Array)])

    LK_CREATE_HINT = "create(name, source)"

    @guard()
    def create(self, name: str, source: Any) -> Any:
        """Reference static ``create(name, source)``: initialises this object from a
        LiveKitAudioSource and returns it (GDScript: ``LiveKit.create_local_audio_track``)."""
        core = godot_livekit.LiveKitLocalAudioTrack.create(text(name), core_of(source, "source"))
        adopt(self, core)
        return self
