"""LiveKitRemoteTrackPublication for GDScript: a track another participant published.

Made by the room (``track_published``, ``track_subscribed``...). ``set_subscribed(false)``
stops receiving it; the outcome arrives as ``track_unsubscribed`` / ``track_subscribed``.
"""

from __future__ import annotations

from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted

from addons.godot_livekit.bridge.members import PublicationMembers
from addons.godot_livekit.bridge.objects import guard


@gdclass
class LiveKitRemoteTrackPublication(PublicationMembers, RefCounted):
    @guard(False)
    def get_subscribed(self) -> bool:
        return self._lk().get_subscribed()

    @guard()
    def set_subscribed(self, subscribed: bool) -> None:
        self._lk().set_subscribed(subscribed)
