"""Track publications: what a participant has published, local or remote."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livekit import rtc

from . import _runtime, links
from .track import LiveKitTrack

if TYPE_CHECKING:
    from .session import Session


class LiveKitTrackPublication(links.Linked):
    """Base class for a published track (stale after unpublish or room disconnect)."""

    def __init__(self, link: links.Link[Any] | None = None, session: Session | None = None):
        super().__init__(link)
        self._session = session

    def _sdk(self) -> rtc.TrackPublication | None:
        return self._link.sdk

    def get_kind(self) -> int:
        sdk = self._sdk()
        return int(sdk.kind) if sdk is not None else LiveKitTrack.KIND_UNKNOWN

    def get_source(self) -> int:
        sdk = self._sdk()
        return int(sdk.source) if sdk is not None else LiveKitTrack.SOURCE_UNKNOWN

    def get_muted(self) -> bool:
        sdk = self._sdk()
        return bool(sdk.muted) if sdk is not None else False

    def get_mime_type(self) -> str:
        sdk = self._sdk()
        return sdk.mime_type if sdk is not None else ""

    def get_simulcasted(self) -> bool:
        sdk = self._sdk()
        return bool(sdk.simulcasted) if sdk is not None else False

    def get_track(self) -> LiveKitTrack | None:
        """The track object, or None before subscription (remote) or once stale."""
        sdk, session = self._sdk(), self._session
        if sdk is None or sdk.track is None or session is None:
            return None
        return session.objects.track(sdk.track, int(sdk.source))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} sid={self.get_sid()!r} name={self.get_name()!r}>"


class LiveKitLocalTrackPublication(LiveKitTrackPublication):
    """A track published by the local participant.

    ``publish_track`` returns this object at once; it fills in (sid, name...) when the
    server confirms, which is also when ``local_track_published`` fires.
    """

    def get_error(self) -> str:
        """Why publishing failed ("" when it did not)."""
        link = self._link
        return link.error if isinstance(link, links.PublicationLink) else ""


class LiveKitRemoteTrackPublication(LiveKitTrackPublication):
    """A track published by a remote participant."""

    VIDEO_QUALITY_LOW = 0
    VIDEO_QUALITY_MEDIUM = 1
    VIDEO_QUALITY_HIGH = 2

    def __init__(self, link: links.Link[Any] | None = None, session: Session | None = None):
        super().__init__(link, session)
        self._video_quality = self.VIDEO_QUALITY_HIGH

    def set_video_quality(self, quality: int) -> None:
        """Receive this simulcast video at layer ``quality`` (``VIDEO_QUALITY_LOW``,
        ``_MEDIUM`` or ``_HIGH``; a small tile needs no more than LOW). The server sends
        that layer from now on, or the nearest one it has; nothing changes for a track that
        is not simulcast (a ValueError says so)."""
        if isinstance(quality, bool) or quality not in (0, 1, 2):
            raise ValueError(
                "set_video_quality: quality must be VIDEO_QUALITY_LOW (0), _MEDIUM (1) or "
                f"_HIGH (2), got {quality!r}"
            )
        sdk = self._sdk()
        if sdk is not None and sdk.kind != rtc.TrackKind.KIND_VIDEO:
            raise ValueError("set_video_quality: this publication is not video")
        if sdk is not None and not sdk.simulcasted:
            raise ValueError(
                "set_video_quality: this video is not simulcast (it has one layer); publish it"
                " with {'simulcast': true} to choose layers"
            )
        self._video_quality = quality
        if isinstance(sdk, rtc.RemoteTrackPublication):
            _runtime.call_soon(sdk.set_video_quality, rtc.VideoQuality.ValueType(quality))

    def get_video_quality(self) -> int:
        """The simulcast layer last asked for (``VIDEO_QUALITY_HIGH`` until then)."""
        return self._video_quality

    def get_subscribed(self) -> bool:
        sdk = self._sdk()
        return bool(getattr(sdk, "subscribed", False)) if sdk is not None else False

    def set_subscribed(self, subscribed: bool) -> None:
        """Subscribe to (or stop receiving) this track; the outcome arrives as
        ``track_subscribed`` / ``track_unsubscribed``."""
        if not isinstance(subscribed, bool):
            raise TypeError("set_subscribed: subscribed must be a bool")
        sdk = self._sdk()
        if isinstance(sdk, rtc.RemoteTrackPublication):
            _runtime.call_soon(sdk.set_subscribed, subscribed)
