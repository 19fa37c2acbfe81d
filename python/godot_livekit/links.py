"""How the core's objects reach the ``livekit.rtc`` objects they stand for.

Every room, participant, publication and track object is *linked* to one SDK object (or to
none yet). A :class:`Link` is the one seam between a wrapper and the SDK: the wrapper reads
its SDK object through it, another module that needs it (a stream opening a track, the local
participant publishing one) asks :func:`sdk_of`, and the session that owns the SDK object
*cuts* the link when the object goes away, which makes the wrapper stale (getters answer
defaults, nothing raises). No module reads another's private members.

SDK objects live on the runtime thread: only read plain properties from other threads, and
call their methods on the runtime loop.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Generic, TypeVar

SdkT = TypeVar("SdkT")


class Link(Generic[SdkT]):
    """The SDK object of one wrapper; ``None`` before it is known and once cut."""

    __slots__ = ("sdk",)

    def __init__(self, sdk: SdkT | None = None) -> None:
        self.sdk: SdkT | None = sdk

    def cut(self) -> None:
        """The SDK object went away: the wrapper is stale from now on."""
        self.sdk = None

    def __repr__(self) -> str:
        return f"<Link {type(self.sdk).__name__ if self.sdk is not None else 'cut'}>"


class TrackLink(Link[Any]):
    """A track's link, plus what only the publishing side knows: the media source feeding
    a local track and the source (camera, microphone...) it was published as."""

    __slots__ = ("media_source", "source")

    def __init__(self, sdk: Any = None, source: int = 0, media_source: Any = None) -> None:
        super().__init__(sdk)
        self.source = source
        self.media_source = media_source


class PublicationLink(Link[Any]):
    """A local publication's link, plus why publishing failed ("" when it did not)."""

    __slots__ = ("error",)

    def __init__(self, sdk: Any = None) -> None:
        super().__init__(sdk)
        self.error = ""


class Linked:
    """Base of the objects that stand for one SDK object: the link, staleness, and the SID
    and name every such object has (defaults once stale)."""

    def __init__(self, link: Link[Any] | None = None) -> None:
        self._link: Link[Any] = link if link is not None else Link()
        attach(self, self._link)

    def is_stale(self) -> bool:
        """True once what this object stands for went away (left, unpublished,
        unsubscribed, or the room disconnected)."""
        return self._link.sdk is None

    def get_sid(self) -> str:
        sdk = self._link.sdk
        return str(sdk.sid) if sdk is not None else ""

    def get_name(self) -> str:
        sdk = self._link.sdk
        return str(sdk.name) if sdk is not None else ""


_lock = threading.Lock()
_links: weakref.WeakKeyDictionary[object, Link[Any]] = weakref.WeakKeyDictionary()


def attach(wrapper: object, link: Link[Any]) -> None:
    """Make ``link`` the link of ``wrapper`` (done once, by the wrapper's constructor)."""
    with _lock:
        _links[wrapper] = link


def link_of(wrapper: object) -> Link[Any]:
    """The link of ``wrapper``; ``TypeError`` for an object that is not a core wrapper."""
    with _lock:
        link = _links.get(wrapper)
    if link is None:
        raise TypeError(f"{type(wrapper).__name__} is not a LiveKit object of this core")
    return link


def sdk_of(wrapper: object) -> Any:
    """The SDK object behind ``wrapper`` (``None`` when stale or not known yet)."""
    return link_of(wrapper).sdk
