"""LiveKitTrackPublication for GDScript: the getters every publication has.

Publications GDScript receives are LiveKitLocalTrackPublication (from ``publish_track``) or
LiveKitRemoteTrackPublication (from the room's signals); this script is the reference's base
class. A publication is one Godot object until it is unpublished, then stale.
"""

from __future__ import annotations

from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted

from addons.godot_livekit.bridge.members import PublicationMembers


@gdclass
class LiveKitTrackPublication(PublicationMembers, RefCounted):
    pass
