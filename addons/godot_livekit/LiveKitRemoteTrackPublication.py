"""LiveKitRemoteTrackPublication for GDScript: a track another participant published.

Made by the room (``track_published``, ``track_subscribed``...). ``set_subscribed(false)``
stops receiving it; the outcome arrives as ``track_unsubscribed`` / ``track_subscribed``.
``set_video_quality(LiveKit.VIDEO_QUALITY_LOW)`` asks for a smaller simulcast layer.
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

    # -- large rooms (issue 12): simulcast layer (GDScript: LiveKit.VIDEO_QUALITY_*) ------------
    VIDEO_QUALITY_LOW = 0
    VIDEO_QUALITY_MEDIUM = 1
    VIDEO_QUALITY_HIGH = 2

    @guard()
    def set_video_quality(self, quality: int) -> None:
        """Receive this simulcast video at layer ``quality`` (VIDEO_QUALITY_LOW, _MEDIUM or
        _HIGH); an error for audio or a video published without simulcast."""
        self._lk().set_video_quality(quality)

    @guard(2)
    def get_video_quality(self) -> int:
        """The layer last asked for (VIDEO_QUALITY_HIGH until then)."""
        return self._lk().get_video_quality()

    # -- end large rooms
