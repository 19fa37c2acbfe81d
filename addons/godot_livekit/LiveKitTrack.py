"""LiveKitTrack for GDScript: the getters and stats every track has.

Tracks GDScript receives are LiveKitLocalAudioTrack/VideoTrack (made with ``create``) or
LiveKitRemoteAudioTrack/VideoTrack (made by the room); this script is the reference's base
class. ``request_stats()`` answers with ``stats_received(stats)``, an Array of Dictionaries.
"""

from __future__ import annotations

from py4godot.classes import gdclass
from py4godot.classes.core import Array
from py4godot.classes.RefCounted import RefCounted
from py4godot.signals import SignalArg, signal

from addons.godot_livekit.bridge.members import TrackMembers


@gdclass
class LiveKitTrack(TrackMembers, RefCounted):
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
