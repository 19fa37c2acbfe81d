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
