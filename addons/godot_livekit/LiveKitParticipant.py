"""LiveKitParticipant for GDScript: the getters every participant has.

The objects GDScript receives are LiveKitLocalParticipant / LiveKitRemoteParticipant; this
script exists for the base class of the API reference. Participants are made by the room
(never by GDScript); each is one Godot object for as long as it is in the room.
"""

from __future__ import annotations

from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted

from addons.godot_livekit.bridge.members import ParticipantMembers


@gdclass
class LiveKitParticipant(ParticipantMembers, RefCounted):
    KIND_STANDARD = 0
    KIND_INGRESS = 1
    KIND_EGRESS = 2
    KIND_SIP = 3
    KIND_AGENT = 4
