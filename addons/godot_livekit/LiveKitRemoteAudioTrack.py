"""LiveKitRemoteAudioTrack for GDScript: a remote audio track (from ``track_subscribed``).

Made by the room; the same Godot object until it is unsubscribed or unpublished, then stale.
Receive its audio with LiveKitAudioStream.
"""

from __future__ import annotations

from py4godot.classes import gdclass
from py4godot.classes.core import Array
from py4godot.classes.RefCounted import RefCounted
from py4godot.signals import SignalArg, signal

from addons.godot_livekit.bridge.members import TrackMembers


@gdclass
class LiveKitRemoteAudioTrack(TrackMembers, RefCounted):
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
