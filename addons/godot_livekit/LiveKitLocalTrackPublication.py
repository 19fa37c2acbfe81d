"""LiveKitLocalTrackPublication for GDScript: a track you published.

``publish_track`` returns it at once; it fills in (sid, name...) when the server confirms,
which is also when the room emits ``local_track_published(publication, track)`` with this same
object. ``get_error()`` says why publishing failed ("" when it did not).
"""

from __future__ import annotations

from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted

from addons.godot_livekit.bridge.members import PublicationMembers
from addons.godot_livekit.bridge.objects import guard


@gdclass
class LiveKitLocalTrackPublication(PublicationMembers, RefCounted):
    @guard("")
    def get_error(self) -> str:
        return self._lk().get_error()
