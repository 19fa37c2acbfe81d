"""A room's sessions: the narrow context its objects act through.

A :class:`RoomContext` is what a :class:`~godot_livekit.room.LiveKitRoom` shares with the
objects that outlive its sessions (its local participant and E2EE manager): the event queue,
background work, the RPC responder and the live session, if any. A :class:`Session` is one
connect attempt: it posts events for the room, runs SDK calls in the background (bounded,
cancelled when it ends) and keeps the one wrapper object of each SDK object
(:class:`ObjectMap`). Participants and publications are handed their session, as livekit-rtc
hands ``room_queue`` to its participants: none of them reaches into the room.

Once the room gives a session up (disconnect, cancel, timeout) its events no longer reach
the room: late SDK callbacks of an abandoned attempt are dropped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
import weakref
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from livekit import rtc

from . import _runtime, links
from .data_streams import StreamHandlers
from .data_tracks import DataTrackMap
from .events import ANY_SESSION, Event, Posted
from .participant import LiveKitParticipant, LiveKitRemoteParticipant
from .signals import EventQueue
from .track import LiveKitRemoteAudioTrack, LiveKitRemoteVideoTrack, LiveKitTrack
from .track_publication import (
    LiveKitLocalTrackPublication,
    LiveKitRemoteTrackPublication,
    LiveKitTrackPublication,
)

if TYPE_CHECKING:
    from .local_participant import LiveKitLocalParticipant
    from .rpc import RpcResponder

logger = logging.getLogger(__name__)

OPERATION_TIMEOUT = 20.0
"""Bound on one background SDK call (set_metadata, unpublish_track...)."""
ORDERED_UPDATE_HOLD = 1.0
"""Longest time one metadata/name/attributes update holds back the next one."""


class BackgroundWork:
    """Futures of runtime-thread work started for one room, so it can be awaited (tests,
    tools, shutdown) and nothing is left running unnoticed."""

    def __init__(self) -> None:
        self._futures: set[concurrent.futures.Future[Any]] = set()
        self._lock = threading.Lock()

    def track(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)

    def pending(self) -> list[concurrent.futures.Future[Any]]:
        with self._lock:
            return list(self._futures)

    def wait(self, timeout: float) -> bool:
        """Block until every tracked future is done; False when ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        while True:
            pending = self.pending()
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            concurrent.futures.wait(pending, timeout=remaining)


LEVEL_HOLD_SECONDS = 0.3
"""A level not reported again within this time reads as 0 (the audio stopped arriving)."""


class LevelSource(Protocol):
    """Something that measures a participant's level when asked (a LiveKitAudioStream)."""

    def measure_level(self) -> float: ...


class Speakers:
    """Who is speaking in a room (the server's active-speaker updates, main thread) and how
    loud: levels reported from any thread (what the microphone sends), and level sources
    asked when a level is read (the streams receiving a participant's audio)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._active: tuple[object, ...] = ()
        self._levels: dict[str, tuple[float, float]] = {}  # identity -> (level, when)
        self._sources: dict[str, weakref.WeakSet[LevelSource]] = {}
        self._lock = threading.Lock()

    def set_active(self, speakers: list[Any]) -> None:
        self._active = tuple(speakers)

    def active(self) -> list[Any]:
        return list(self._active)

    def is_speaking(self, participant: object) -> bool:
        return any(speaker is participant for speaker in self._active)

    def report_level(self, identity: str, level: float) -> None:
        """The latest audio level (0..1) measured for ``identity`` (any thread)."""
        value = min(1.0, max(0.0, float(level)))
        when = self._clock()
        with self._lock:
            self._levels[identity] = (value, when)

    def add_level_source(self, identity: str, source: LevelSource) -> None:
        """Ask ``source`` (held weakly) too when ``identity``'s level is read."""
        with self._lock:
            self._sources.setdefault(identity, weakref.WeakSet()).add(source)

    def level_of(self, participant: LiveKitParticipant) -> float:
        """The loudest of the level last reported for ``participant`` (0 when none arrived
        for ``LEVEL_HOLD_SECONDS``) and what its level sources measure now."""
        identity = participant.get_identity()
        with self._lock:
            entry = self._levels.get(identity)
            sources = list(self._sources.get(identity, ()))
        level = 0.0
        if entry is not None and self._clock() - entry[1] <= LEVEL_HOLD_SECONDS:
            level = entry[0]
        for source in sources:
            level = max(level, source.measure_level())
        return level

    def clear(self) -> None:
        self._active = ()
        with self._lock:
            self._levels = {}
            self._sources = {}


class RoomContext:
    """What a room shares with its local participant and E2EE manager.

    ``generation`` numbers the room's connect attempts; ``session`` is the live session
    (connected or reconnecting), ``None`` otherwise. The main thread changes both.
    """

    def __init__(self, rpc: RpcResponder) -> None:
        self.queue: EventQueue[Posted] = EventQueue()
        self.background = BackgroundWork()
        self.rpc = rpc
        self.speakers = Speakers()
        self.generation = 0
        self.session: Session | None = None
        self.local: LiveKitLocalParticipant | None = None
        # -- data streams --
        self.streams = StreamHandlers()

    def post_now(self, event: Event) -> None:
        """Post an event for the room's current attempt (e.g. an error found at once)."""
        self.queue.put((self.generation, event))

    def post_any(self, event: Event) -> None:
        """Post an event delivered whatever session the room is on when it is applied."""
        self.queue.put((ANY_SESSION, event))

    def run(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Start ``coro`` on the runtime loop, tracked as this room's background work."""
        future = _runtime.submit(coro)
        self.background.track(future)
        return future


class Session:
    """One connect attempt of a room (see the module docstring)."""

    def __init__(self, room: RoomContext, generation: int) -> None:
        self.room = room
        self.generation = generation
        self.objects = ObjectMap(self)
        self.sdk_room: rtc.Room | None = None  # the runtime thread sets it
        self._operations: set[asyncio.Task[Any]] = set()  # runtime thread only
        self._update_lock: asyncio.Lock | None = None  # runtime thread only
        # -- data streams and data tracks --
        self.data_tracks = DataTrackMap()
        self.transfers_closed = False  # runtime thread: set once cancel_operations ran

    def end(self) -> rtc.Room | None:
        """Main thread: the room is done with this session. Every object it made goes
        stale, and the session lets go of the SDK room (returned, for the caller to leave):
        under py4godot the game's stale objects live forever, and whatever they reach
        through their session must not keep the SDK's native room alive."""
        self.objects.end()
        self.data_tracks.end()
        sdk_room, self.sdk_room = self.sdk_room, None
        return sdk_room

    def is_current(self) -> bool:
        """True while the room is still on this attempt."""
        return self.room.generation == self.generation

    def is_live(self) -> bool:
        """True while this session is the room's connected (or reconnecting) session."""
        return self.room.session is self

    def post(self, event: Event) -> None:
        """Hand ``event`` to the room; dropped if the room moved on when it is applied."""
        self.room.queue.put((self.generation, event))

    def run(
        self,
        what: str,
        call: Coroutine[Any, Any, Any],
        *,
        ordered: bool = False,
    ) -> concurrent.futures.Future[Any]:
        """Run one SDK call in the background: bounded by OPERATION_TIMEOUT, cancelled when
        the session ends, a failure logged (never raised on the main thread).

        ``ordered`` calls run one after another: the SDK sends name, metadata and attributes
        together, so overlapping updates could undo each other.
        """
        return self.room.run(self._operation(what, call, ordered))

    async def _operation(self, what: str, call: Coroutine[Any, Any, Any], ordered: bool) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._operations.add(task)
        try:
            if ordered:
                if self._update_lock is None:
                    self._update_lock = asyncio.Lock()
                async with self._update_lock:
                    # the server applies an update at once, but the SDK's reply now and then
                    # takes seconds: hold the order only briefly
                    pending = asyncio.ensure_future(asyncio.wait_for(call, OPERATION_TIMEOUT))
                    await asyncio.wait({pending}, timeout=ORDERED_UPDATE_HOLD)
                await pending
            else:
                await asyncio.wait_for(call, OPERATION_TIMEOUT)
        except asyncio.CancelledError:
            logger.debug("%s cancelled: the session ended", what)
        except Exception as error:
            if self.is_current():
                logger.warning("%s failed: %s", what, error or type(error).__name__)
        finally:
            self._operations.discard(task)

    def cancel_operations(self) -> None:
        """Runtime thread: end SDK calls still waiting once the session is gone (some SDK
        calls wait for a reply that never comes after a disconnect)."""
        self.transfers_closed = True
        for task in list(self._operations):
            task.cancel()

    # -- data streams and data tracks ------------------------------------------------------

    def run_transfer(self, what: str, call: Coroutine[Any, Any, Any]) -> None:
        """Run work that lasts as long as it needs (a stream transfer, a data track reader):
        not bounded by OPERATION_TIMEOUT (it bounds its own steps), cancelled when the session
        ends, an unexpected failure logged."""
        self.room.run(self._transfer(what, call))

    async def _transfer(self, what: str, call: Coroutine[Any, Any, Any]) -> None:
        if self.transfers_closed:  # the session ended before this started
            call.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._operations.add(task)
        try:
            await call
        except asyncio.CancelledError:
            logger.debug("%s cancelled: the session ended", what)
        except Exception:
            logger.exception("%s failed", what)
        finally:
            self._operations.discard(task)


_owners_lock = threading.Lock()
_track_owners: weakref.WeakKeyDictionary[LiveKitTrack, LiveKitParticipant] = (
    weakref.WeakKeyDictionary()
)


def track_owner(track: LiveKitTrack) -> LiveKitParticipant | None:
    """The participant whose subscribed track ``track`` is (None when not known: a local
    track, or a track object that was never subscribed)."""
    with _owners_lock:
        return _track_owners.get(track)


Wrapper = LiveKitParticipant | LiveKitTrackPublication | LiveKitTrack
"""What an ObjectMap holds for an SDK object."""
W = TypeVar("W", bound=Wrapper)


class ObjectMap:
    """The one wrapper object of each SDK object of a session, made on first sight (any
    thread) and the same object in every signal and getter afterwards."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._lock = threading.Lock()
        # id(SDK object) -> (it, its wrapper, whether the session made the wrapper)
        self._wrappers: dict[int, tuple[object, Wrapper, bool]] = {}
        # id(SDK track) -> (it, the publication publish_track returned for it)
        self._expected: dict[int, tuple[rtc.Track, LiveKitLocalTrackPublication]] = {}

    def _lookup(self, sdk: object, kind: type[W]) -> W | None:
        with self._lock:
            entry = self._wrappers.get(id(sdk))
        if entry is None or entry[0] is not sdk or not isinstance(entry[1], kind):
            return None
        return entry[1]

    def remember(self, sdk: object, wrapper: W, *, owned: bool = True) -> W:
        """Make ``wrapper`` the wrapper of ``sdk`` unless it has one; returns the one.

        ``owned`` wrappers were made for this session and go stale with it; the others (a
        local track the game made) only leave the map."""
        with self._lock:
            entry = self._wrappers.get(id(sdk))
            if entry is not None and entry[0] is sdk and isinstance(entry[1], type(wrapper)):
                return entry[1]
            self._wrappers[id(sdk)] = (sdk, wrapper, owned)
        return wrapper

    def forget(self, sdk: object) -> None:
        """The SDK object went away (its wrapper's link is cut when the room applies the
        event that says so)."""
        with self._lock:
            self._wrappers.pop(id(sdk), None)

    def participant(self, sdk: rtc.Participant) -> LiveKitParticipant:
        """The participant object of ``sdk`` (the room's local participant for the local
        one)."""
        if isinstance(sdk, rtc.RemoteParticipant):
            return self.remote_participant(sdk)
        local = self._session.room.local
        assert local is not None, "a room context always has its local participant"
        return local

    def remote_participant(self, sdk: rtc.RemoteParticipant) -> LiveKitRemoteParticipant:
        found = self._lookup(sdk, LiveKitRemoteParticipant)
        if found is None:
            found = self.remember(sdk, LiveKitRemoteParticipant(links.Link(sdk), self._session))
        return found

    def expect_publication(
        self, sdk_track: rtc.Track, publication: LiveKitLocalTrackPublication
    ) -> None:
        """``publish_track`` returned ``publication`` for ``sdk_track``: the SDK's
        publication of that track gets this object."""
        with self._lock:
            self._expected[id(sdk_track)] = (sdk_track, publication)

    def publication(self, sdk: rtc.TrackPublication) -> LiveKitTrackPublication:
        """The publication object of ``sdk``, local or remote."""
        if isinstance(sdk, rtc.RemoteTrackPublication):
            return self.remote_publication(sdk)
        assert isinstance(sdk, rtc.LocalTrackPublication)
        return self.local_publication(sdk)

    def remote_publication(self, sdk: rtc.RemoteTrackPublication) -> LiveKitRemoteTrackPublication:
        found = self._lookup(sdk, LiveKitRemoteTrackPublication)
        if found is None:
            made = LiveKitRemoteTrackPublication(links.Link(sdk), self._session)
            found = self.remember(sdk, made)
        return found

    def local_publication(self, sdk: rtc.LocalTrackPublication) -> LiveKitLocalTrackPublication:
        """The object ``publish_track`` returned for this publication (a new one for a
        publication the SDK made by itself, e.g. after a full reconnect)."""
        found = self._lookup(sdk, LiveKitLocalTrackPublication)
        if found is None:
            made = self._expected_publication(sdk) or LiveKitLocalTrackPublication(
                links.PublicationLink(sdk), self._session
            )
            found = self.remember(sdk, made)
        return found

    def _expected_publication(
        self, sdk: rtc.LocalTrackPublication
    ) -> LiveKitLocalTrackPublication | None:
        track = sdk.track
        if track is None:
            return None
        with self._lock:
            entry = self._expected.get(id(track))
            if entry is None or entry[0] is not track:
                return None
            del self._expected[id(track)]
        publication = entry[1]
        links.link_of(publication).sdk = sdk
        return publication

    def track(
        self, sdk: rtc.Track, source: int = 0, owner: LiveKitParticipant | None = None
    ) -> LiveKitTrack:
        """The track object of ``sdk``; ``source`` (a ``SOURCE_*``) comes from its
        publication, ``owner`` (when subscribing) is the participant who publishes it
        (:func:`track_owner`)."""
        found = self._lookup(sdk, LiveKitTrack)
        if found is None:
            kind = (
                LiveKitRemoteVideoTrack
                if sdk.kind == rtc.TrackKind.KIND_VIDEO
                else LiveKitRemoteAudioTrack
            )
            found = self.remember(sdk, kind(links.TrackLink(sdk, source)))
        if owner is not None:
            with _owners_lock:
                _track_owners[found] = owner
        return found

    def end(self) -> None:
        """Main thread: the session is over; every object it made becomes stale."""
        with self._lock:
            owned: list[Wrapper] = [w for _, w, made in self._wrappers.values() if made]
            owned += [publication for _, publication in self._expected.values()]
            self._wrappers.clear()
            self._expected.clear()
        for wrapper in owned:
            links.link_of(wrapper).cut()
