"""LiveKitRemoteParticipant for GDScript: another user in the room.

Made by the room (``participant_connected``, ``get_remote_participants()``...); the same Godot
object in every signal until the participant leaves, then stale (getters return defaults).
"""

from __future__ import annotations

from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted

from addons.godot_livekit.bridge.members import ParticipantMembers


@gdclass
class LiveKitRemoteParticipant(ParticipantMembers, RefCounted):
    KIND_STANDARD = 0
    KIND_INGRESS = 1
    KIND_EGRESS = 2
    KIND_SIP = 3
    KIND_AGENT = 4
