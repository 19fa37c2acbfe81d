"""LiveKitRoom: connecting, disconnecting and the room-level signals.

Every public call returns at once. The SDK room lives on the runtime thread; its callbacks
only enqueue events, and :meth:`LiveKitRoom.poll_events` (called every frame by the poller
when ``auto_poll`` is on) applies them to the main-thread view and emits the signals.

Each connect attempt has a *generation*; events of an attempt that was given up
(timed out, cancelled, disconnected) are dropped, so a late callback never leaks into a
newer session.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import copy
import logging
import math
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from livekit import rtc

from . import _runtime, poller
from ._connect_errors import describe_connect_error, precheck_connect
from .participant import LiveKitLocalParticipant, LiveKitParticipant, LiveKitRemoteParticipant
from .signals import EventQueue, signal
from .track import LiveKitRemoteAudioTrack, LiveKitRemoteVideoTrack, LiveKitTrack
from .track_publication import (
    LiveKitLocalTrackPublication,
    LiveKitRemoteTrackPublication,
    LiveKitTrackPublication,
)

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 15.0
_KNOWN_OPTIONS = ("auto_subscribe", "dynacast", "auto_reconnect", "connect_timeout", "e2ee")
_live_rooms: weakref.WeakSet[LiveKitRoom] = weakref.WeakSet()
_ANY_GENERATION = (
    -1
)  # events about a session that already ended: delivered even after a new connect


@dataclass(frozen=True)
class ConnectOptions:
    """The options dictionary of ``connect_to_room``, checked and typed."""

    auto_subscribe: bool = True
    dynacast: bool = False
    auto_reconnect: bool = True
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    e2ee: Any = None

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None) -> ConnectOptions:
        """Build from the user's dictionary; raises ``ValueError`` with plain words."""
        if options is None:
            return cls()
        if not isinstance(options, Mapping):
            raise ValueError(f"options must be a Dictionary, got {type(options).__name__}")
        for key in options:
            if key not in _KNOWN_OPTIONS:
                logger.warning(
                    "connect_to_room: unknown option %r ignored (known: %s)",
                    key,
                    ", ".join(_KNOWN_OPTIONS),
                )
        values: dict[str, Any] = {}
        for key in ("auto_subscribe", "dynacast", "auto_reconnect"):
            if key in options:
                value = options[key]
                if not isinstance(value, bool):
                    raise ValueError(f"option {key!r} must be true or false, got {value!r}")
                values[key] = value
        if "connect_timeout" in options:
            timeout = options["connect_timeout"]
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
                raise ValueError(f"option 'connect_timeout' must be seconds, got {timeout!r}")
            if math.isnan(timeout) or timeout < 0:
                raise ValueError("option 'connect_timeout' must be 0 (no limit) or more")
            values["connect_timeout"] = float(timeout)
        e2ee = options.get("e2ee")
        if e2ee is not None:
            if not hasattr(e2ee, "_to_sdk_options"):
                raise ValueError("option 'e2ee' must be a LiveKitE2eeOptions")
            values["e2ee"] = copy.copy(e2ee)  # later changes must not reach this connect
        return cls(**values)


class LiveKitRoom:
    """A LiveKit room: connect, disconnect and room-level signals."""

    STATE_DISCONNECTED = 0
    STATE_CONNECTED = 1
    STATE_RECONNECTING = 2

    DATA_KIND_LOSSY = 0
    DATA_KIND_RELIABLE = 1

    QUALITY_POOR = 0
    QUALITY_GOOD = 1
    QUALITY_EXCELLENT = 2
    QUALITY_LOST = 3

    connected = signal()
    disconnected = signal()
    connection_failed = signal("error")
    reconnecting = signal()
    reconnected = signal()
    participant_connected = signal("participant")
    participant_disconnected = signal("participant")
    participant_metadata_changed = signal("participant", "old_metadata", "new_metadata")
    participant_name_changed = signal("participant", "old_name", "new_name")
    participant_attributes_changed = signal("participant", "changed_attributes")
    room_metadata_changed = signal("old_metadata", "new_metadata")
    connection_quality_changed = signal("participant", "quality")
    track_published = signal("publication", "participant")
    track_unpublished = signal("publication", "participant")
    track_subscribed = signal("track", "publication", "participant")
    track_unsubscribed = signal("track", "publication", "participant")
    track_muted = signal("participant", "publication")
    track_unmuted = signal("participant", "publication")
    local_track_published = signal("publication", "track")
    local_track_unpublished = signal("publication")
    data_received = signal("data", "participant", "kind", "topic")
    e2ee_state_changed = signal("participant", "state")
    participant_encryption_status_changed = signal("participant", "is_encrypted")

    def __init__(self) -> None:
        self._events = EventQueue()
        self._generation = 0
        self._state = self.STATE_DISCONNECTED
        self._connecting = False
        self._connect_deadline: float | None = None
        self._connect_timeout = 0.0
        self._options = ConnectOptions()
        self._auto_poll = True
        self._sdk_room: rtc.Room | None = None
        self._local = LiveKitLocalParticipant(self)
        self._remote: dict[str, LiveKitRemoteParticipant] = {}
        self._sid = ""
        self._name = ""
        self._metadata = ""
        self._disconnect_reason = ""
        self._secrets: tuple[str, ...] = ()
        # runtime-thread side: SDK participant -> wrapper, for one generation
        self._wrap_lock = threading.Lock()
        self._wrappers: dict[int, Any] = {}  # id(SDK object) -> wrapper
        self._sdk_room_runtime: rtc.Room | None = None
        self._background: set[concurrent.futures.Future[Any]] = set()
        self._background_lock = threading.Lock()
        poller.register(self)
        _live_rooms.add(self)

    # -- properties and getters ------------------------------------------------------------

    @property
    def local_participant(self) -> LiveKitLocalParticipant:
        """The local participant object."""
        return self._local

    @property
    def remote_participants(self) -> dict[str, LiveKitRemoteParticipant]:
        """Remote participants keyed by identity (a copy)."""
        return dict(self._remote)

    @property
    def sid(self) -> str:
        """The room's session ID ("" until known)."""
        return self._sid

    @property
    def name(self) -> str:
        """The room's name."""
        return self._name

    @property
    def metadata(self) -> str:
        """The room's metadata."""
        return self._metadata

    @property
    def connection_state(self) -> int:
        """One of the ``STATE_*`` constants."""
        return self._state

    @property
    def auto_poll(self) -> bool:
        """When true the frame poller calls ``poll_events()`` every frame."""
        return self._auto_poll

    @auto_poll.setter
    def auto_poll(self, enabled: bool) -> None:
        self.set_auto_poll(enabled)

    def get_local_participant(self) -> LiveKitLocalParticipant:
        return self._local

    def get_remote_participants(self) -> dict[str, LiveKitRemoteParticipant]:
        return dict(self._remote)

    def get_sid(self) -> str:
        return self._sid

    def get_name(self) -> str:
        return self._name

    def get_metadata(self) -> str:
        return self._metadata

    def get_connection_state(self) -> int:
        return self._state

    def get_disconnect_reason(self) -> str:
        """Why the last session ended, in plain words ("" while connected or never)."""
        return self._disconnect_reason

    def set_auto_poll(self, enabled: bool) -> None:
        self._auto_poll = bool(enabled)

    def get_auto_poll(self) -> bool:
        return self._auto_poll

    def get_e2ee_manager(self) -> Any:
        """The E2EE manager (defaults when not connected or without E2EE)."""
        from .e2ee import LiveKitE2eeManager

        return LiveKitE2eeManager._for_room(self)

    def is_connecting(self) -> bool:
        """True between ``connect_to_room`` and ``connected``/``connection_failed``."""
        return self._connecting

    # -- connect / disconnect ------------------------------------------------------------------

    def connect_to_room(
        self, url: str, token: str, options: Mapping[str, Any] | None = None
    ) -> bool:
        """Start connecting; returns true at once. The outcome arrives as ``connected`` or
        ``connection_failed(error)``. Calling it while connected or connecting is refused
        with ``connection_failed`` (disconnect first)."""
        if self._connecting or self._state != self.STATE_DISCONNECTED:
            self._events.put(
                self._generation,
                "_failed_keep_state",
                "already connected or connecting: call disconnect_from_room() first",
            )
            return True
        self._generation += 1
        generation = self._generation
        self._disconnect_reason = ""
        self._secrets = tuple(s for s in (token,) if isinstance(s, str))
        try:
            self._options = ConnectOptions.from_mapping(options)
            precheck_connect(url, token)
        except ValueError as error:
            self._events.put(generation, "_failed", str(error))
            return True
        self._connecting = True
        timeout = self._options.connect_timeout
        self._connect_timeout = timeout
        self._connect_deadline = time.monotonic() + timeout if timeout > 0 else None
        self._track_background(
            _runtime.submit(self._connect_on_runtime(generation, url, token, self._options))
        )
        return True

    def disconnect_from_room(self) -> None:
        """Leave the room. Never blocks: the SDK disconnect finishes in the background.
        A connect in flight is abandoned and reported as ``connection_failed``;
        a live session ends with ``disconnected`` on the next ``poll_events()``."""
        if self._connecting:
            self._abandon_connect("connection cancelled by disconnect_from_room()")
            return
        if self._state == self.STATE_DISCONNECTED:
            return
        sdk_room = self._sdk_room
        self._generation += 1
        self._end_session("client initiated")
        self._events.put(_ANY_GENERATION, "_emit_disconnected")
        if sdk_room is not None:
            self._track_background(_runtime.submit(_disconnect_sdk_room(sdk_room, self._local)))

    def poll_events(self) -> int:
        """Apply queued events and emit their signals on this thread; also enforces
        ``connect_timeout``. Returns how many signals were emitted."""
        if (
            self._connecting
            and self._connect_deadline is not None
            and time.monotonic() >= self._connect_deadline
        ):
            self._abandon_connect(
                f"timed out: no connection within connect_timeout ({self._connect_timeout:g} s)"
            )
        emitted = 0
        for generation, name, args in self._events.drain():
            if generation != self._generation and generation != _ANY_GENERATION:
                continue
            try:
                emitted += self._apply(name, args)
            except Exception:
                logger.exception("error applying room event %s", name)
        return emitted

    def _auto_pump(self) -> None:
        self.poll_events()

    # -- main-thread event application --------------------------------------------------------

    def _apply(self, name: str, args: tuple[Any, ...]) -> int:
        handler: Callable[..., int] | None = getattr(self, f"_on_{name.lstrip('_')}", None)
        if handler is not None:
            return handler(*args)
        if name.startswith("rpc_"):
            getattr(self._local, name).emit(*args)
            return 1
        getattr(self, name).emit(*args)
        return 1

    def _on_connected(
        self,
        sdk_room: rtc.Room,
        local_sdk: rtc.LocalParticipant,
        remotes: list[LiveKitRemoteParticipant],
        name: str,
        metadata: str,
        sid: str,
    ) -> int:
        self._connecting = False
        self._connect_deadline = None
        self._sdk_room = sdk_room
        self._local._bind(local_sdk)
        self._remote = {p._identity: p for p in remotes}
        self._name, self._metadata = name, metadata
        if sid:
            self._sid = sid
        self._state = self.STATE_CONNECTED
        self.connected.emit()
        return 1

    def _on_sid(self, sid: str) -> int:
        self._sid = sid
        return 0

    def _on_failed(self, error: str) -> int:
        self._connecting = False
        self._connect_deadline = None
        self._state = self.STATE_DISCONNECTED
        self.connection_failed.emit(error)
        return 1

    def _on_failed_keep_state(self, error: str) -> int:
        self.connection_failed.emit(error)
        return 1

    def _on_participant_connected(self, participant: LiveKitRemoteParticipant) -> int:
        self._remote[participant._identity] = participant
        self.participant_connected.emit(participant)
        return 1

    def _on_participant_disconnected(self, participant: LiveKitRemoteParticipant) -> int:
        if self._remote.get(participant._identity) is participant:
            del self._remote[participant._identity]
        self.participant_disconnected.emit(participant)
        participant._mark_stale()
        return 1

    def _on_publish_failed(self, publication: Any) -> int:
        publication._mark_stale()
        return 0

    def _on_track_unpublished(self, publication: Any, participant: Any) -> int:
        self.track_unpublished.emit(publication, participant)
        publication._mark_stale()
        return 1

    def _on_local_track_unpublished(self, publication: Any) -> int:
        self.local_track_unpublished.emit(publication)
        publication._mark_stale()
        return 1

    def _on_track_unsubscribed(self, track: Any, publication: Any, participant: Any) -> int:
        self.track_unsubscribed.emit(track, publication, participant)
        track._mark_stale()
        return 1

    def _on_room_metadata_changed(self, old: str, new: str) -> int:
        self._metadata = new
        self.room_metadata_changed.emit(old, new)
        return 1

    def _on_reconnecting(self) -> int:
        if not self._options.auto_reconnect:
            sdk_room = self._sdk_room
            self._generation += 1
            self._end_session("connection lost (auto_reconnect is off)")
            if sdk_room is not None:
                self._track_background(_runtime.submit(_disconnect_sdk_room(sdk_room, self._local)))
            self.disconnected.emit()
            return 1
        self._state = self.STATE_RECONNECTING
        self.reconnecting.emit()
        return 1

    def _on_reconnected(self) -> int:
        self._state = self.STATE_CONNECTED
        self.reconnected.emit()
        return 1

    def _on_sdk_disconnected(self, reason: str) -> int:
        if reason == _UNKNOWN_REASON and self._state == self.STATE_RECONNECTING:
            # the SDK gives up reconnecting with UNKNOWN_REASON: say what happened
            reason = "connection lost: could not reconnect"
        _runtime.call_soon(self._local._cancel_operations)
        self._end_session(reason)
        self.disconnected.emit()
        return 1

    def _on_emit_disconnected(self) -> int:
        self.disconnected.emit()
        return 1

    def _end_session(self, reason: str) -> None:
        """Main thread: forget the session; every participant object becomes stale."""
        self._connecting = False
        self._connect_deadline = None
        self._state = self.STATE_DISCONNECTED
        self._disconnect_reason = reason
        self._sdk_room = None
        for participant in self._remote.values():
            participant._mark_stale()
        self._remote = {}
        self._local._mark_stale()
        self._local._drop_pending_rpcs()
        self._sid = self._name = self._metadata = ""
        with self._wrap_lock:
            for wrapper in self._wrappers.values():
                wrapper._mark_stale()
            self._wrappers = {}
        self._local._forget_publications()

    def _abandon_connect(self, reason: str) -> None:
        """Main thread: give up the attempt in flight; the SDK connect finishes (or fails)
        in the background and a late success is disconnected at once."""
        self._generation += 1
        self._connecting = False
        self._connect_deadline = None
        self._state = self.STATE_DISCONNECTED
        self._events.put(_ANY_GENERATION, "_failed_keep_state", reason)

    def _is_connected_for_actions(self) -> bool:
        return self._state != self.STATE_DISCONNECTED and self._sdk_room is not None

    # -- runtime-thread side ------------------------------------------------------------------

    def _track_background(self, future: concurrent.futures.Future[Any]) -> None:
        with self._background_lock:
            self._background.add(future)
        future.add_done_callback(self._forget_background)

    def _forget_background(self, future: concurrent.futures.Future[Any]) -> None:
        with self._background_lock:
            self._background.discard(future)

    def _wait_background(self, timeout: float) -> bool:
        """Block until background work of this room is done (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._background_lock:
                pending = list(self._background)
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            concurrent.futures.wait(pending, timeout=remaining)

    async def _connect_on_runtime(
        self, generation: int, url: str, token: str, options: ConnectOptions
    ) -> None:
        sdk_room = rtc.Room(loop=asyncio.get_running_loop())
        self._sdk_room_runtime = sdk_room
        self._attach_handlers(sdk_room, generation)
        room_options = rtc.RoomOptions(
            auto_subscribe=options.auto_subscribe,
            dynacast=options.dynacast,
            connect_timeout=options.connect_timeout if options.connect_timeout > 0 else None,
        )
        if options.e2ee is not None:
            room_options.encryption = options.e2ee._to_sdk_options()
        connect_task = asyncio.ensure_future(sdk_room.connect(url, token, room_options))
        timeout = options.connect_timeout if options.connect_timeout > 0 else None
        done, _ = await asyncio.wait({connect_task}, timeout=timeout)
        if not done:
            # keep the SDK connect running: cancelling it could leave a half-made session on
            # the server; when it lands it is disconnected at once.
            connect_task.add_done_callback(lambda task: _disconnect_if_connected(task, sdk_room))
            self._events.put(
                generation,
                "_failed",
                f"timed out: no connection within connect_timeout ({options.connect_timeout:g} s)",
            )
            return
        error = connect_task.exception()
        if error is not None:
            message = describe_connect_error(error, url, token)
            logger.info("connect failed: %s", message)
            self._events.put(generation, "_failed", message)
            return
        if generation != self._generation:
            await _disconnect_sdk_room(sdk_room)
            return
        local_sdk = sdk_room.local_participant
        for method in list(self._local._rpc_methods):
            self._local._register_on_sdk(local_sdk, method)
        remotes = [self._wrap(p) for p in sdk_room.remote_participants.values()]
        sid = sdk_room._info.sid if hasattr(sdk_room, "_info") else ""
        self._events.put(
            generation,
            "_connected",
            sdk_room,
            local_sdk,
            remotes,
            sdk_room.name,
            sdk_room.metadata,
            sid,
        )
        if not sid:
            _runtime.spawn(self._fetch_sid(sdk_room, generation))

    async def _fetch_sid(self, sdk_room: rtc.Room, generation: int) -> None:
        try:
            sid = await asyncio.wait_for(sdk_room.sid, timeout=30.0)
        except Exception:
            return
        self._events.put(generation, "_sid", sid)

    def _wrap(self, sdk: rtc.Participant) -> LiveKitParticipant:
        """The one wrapper object for an SDK participant (any thread)."""
        if isinstance(sdk, rtc.LocalParticipant):
            return self._local
        wrapper = self._lookup(sdk)
        if wrapper is None:
            wrapper = LiveKitRemoteParticipant(sdk)  # type: ignore[arg-type]
            wrapper._room_ref = weakref.ref(self)
            wrapper = self._remember(sdk, wrapper)
        return wrapper

    def _wrap_publication(self, sdk: rtc.TrackPublication) -> LiveKitTrackPublication:
        wrapper = self._lookup(sdk)
        if wrapper is None:
            if isinstance(sdk, rtc.RemoteTrackPublication):
                wrapper = LiveKitRemoteTrackPublication(sdk)
            else:
                wrapper = self._local._pending_publication_for(sdk) or LiveKitLocalTrackPublication(
                    sdk
                )
            wrapper._track_wrapper = self._wrap_track
            wrapper = self._remember(sdk, wrapper)
        return wrapper

    def _wrap_track(self, sdk: rtc.Track) -> LiveKitTrack:
        wrapper = self._lookup(sdk)
        if wrapper is None:
            wrapper = self._local._local_track_for(sdk)
            if wrapper is None:
                source = LiveKitTrack.SOURCE_UNKNOWN
                for participant in list(sdk_room_participants(self._sdk_room_runtime)):
                    for publication in list(participant.track_publications.values()):
                        if publication.track is sdk:
                            source = int(publication.source)
                kind = (
                    LiveKitRemoteVideoTrack
                    if sdk.kind == rtc.TrackKind.KIND_VIDEO
                    else (LiveKitRemoteAudioTrack)
                )
                wrapper = kind(sdk, source)
            wrapper = self._remember(sdk, wrapper)
        return wrapper

    def _lookup(self, sdk: object) -> Any:
        with self._wrap_lock:
            wrapper = self._wrappers.get(id(sdk))
        if wrapper is not None and wrapper._sdk is sdk:
            return wrapper
        return None

    def _remember(self, sdk: object, wrapper: Any) -> Any:
        with self._wrap_lock:
            existing = self._wrappers.get(id(sdk))
            if existing is not None and existing._sdk is sdk:
                return existing
            self._wrappers[id(sdk)] = wrapper
        return wrapper

    def _forget(self, sdk: object) -> None:
        with self._wrap_lock:
            self._wrappers.pop(id(sdk), None)

    def _attach_handlers(self, sdk_room: rtc.Room, generation: int) -> None:
        put = self._events.put
        wrap = self._wrap

        def on_participant_connected(p: rtc.RemoteParticipant) -> None:
            put(generation, "participant_connected", wrap(p))

        def on_participant_disconnected(p: rtc.RemoteParticipant) -> None:
            wrapper = wrap(p)
            self._forget(p)
            put(generation, "participant_disconnected", wrapper)

        wrap_pub, wrap_track = self._wrap_publication, self._wrap_track

        def on_track_published(pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant) -> None:
            put(generation, "track_published", wrap_pub(pub), wrap(p))

        def on_track_unpublished(pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant) -> None:
            wrapper = wrap_pub(pub)
            self._forget(pub)
            put(generation, "track_unpublished", wrapper, wrap(p))

        def on_track_subscribed(
            track: rtc.Track, pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant
        ) -> None:
            put(generation, "track_subscribed", wrap_track(track), wrap_pub(pub), wrap(p))

        def on_track_unsubscribed(
            track: rtc.Track, pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant
        ) -> None:
            wrapper = wrap_track(track)
            self._forget(track)
            put(generation, "track_unsubscribed", wrapper, wrap_pub(pub), wrap(p))

        def on_track_muted(p: rtc.Participant, pub: rtc.TrackPublication) -> None:
            put(generation, "track_muted", wrap(p), wrap_pub(pub))

        def on_track_unmuted(p: rtc.Participant, pub: rtc.TrackPublication) -> None:
            put(generation, "track_unmuted", wrap(p), wrap_pub(pub))

        def on_local_published(pub: rtc.LocalTrackPublication, track: rtc.Track) -> None:
            put(generation, "local_track_published", wrap_pub(pub), wrap_track(track))

        def on_local_unpublished(pub: rtc.LocalTrackPublication) -> None:
            wrapper = wrap_pub(pub)
            self._forget(pub)
            put(generation, "local_track_unpublished", wrapper)

        def on_e2ee_state(p: rtc.Participant | None, state: int) -> None:
            if p is not None:
                put(generation, "e2ee_state_changed", wrap(p), int(state))

        def on_encryption_status(p: rtc.Participant | None, is_encrypted: bool) -> None:
            if p is not None:
                put(
                    generation, "participant_encryption_status_changed", wrap(p), bool(is_encrypted)
                )

        def on_metadata(p: rtc.Participant, old: str, new: str) -> None:
            put(generation, "participant_metadata_changed", wrap(p), old, new)

        def on_name(p: rtc.Participant, old: str, new: str) -> None:
            put(generation, "participant_name_changed", wrap(p), old, new)

        def on_attributes(changed: dict[str, str], p: rtc.Participant) -> None:
            put(generation, "participant_attributes_changed", wrap(p), dict(changed))

        def on_room_metadata(old: str, new: str) -> None:
            put(generation, "room_metadata_changed", old, new)

        def on_quality(p: rtc.Participant | None, quality: int) -> None:
            if p is not None:
                put(generation, "connection_quality_changed", wrap(p), int(quality))

        def on_data(packet: rtc.DataPacket) -> None:
            sender = wrap(packet.participant) if packet.participant is not None else None
            put(
                generation,
                "data_received",
                bytes(packet.data),
                sender,
                int(packet.kind),
                packet.topic or "",
            )

        def on_disconnected(reason: int) -> None:
            put(generation, "_sdk_disconnected", _disconnect_reason_words(reason))

        sdk_room.on("participant_connected", on_participant_connected)
        sdk_room.on("participant_disconnected", on_participant_disconnected)
        sdk_room.on("participant_metadata_changed", on_metadata)
        sdk_room.on("participant_name_changed", on_name)
        sdk_room.on("participant_attributes_changed", on_attributes)
        sdk_room.on("room_metadata_changed", on_room_metadata)
        sdk_room.on("connection_quality_changed", on_quality)
        sdk_room.on("data_received", on_data)
        sdk_room.on("track_published", on_track_published)
        sdk_room.on("track_unpublished", on_track_unpublished)
        sdk_room.on("track_subscribed", on_track_subscribed)
        sdk_room.on("track_unsubscribed", on_track_unsubscribed)
        sdk_room.on("track_muted", on_track_muted)
        sdk_room.on("track_unmuted", on_track_unmuted)
        sdk_room.on("local_track_published", on_local_published)
        sdk_room.on("local_track_unpublished", on_local_unpublished)
        sdk_room.on("e2ee_state_changed", on_e2ee_state)
        sdk_room.on("participant_encryption_status_changed", on_encryption_status)
        sdk_room.on("reconnecting", lambda: put(generation, "reconnecting"))
        sdk_room.on("reconnected", lambda: put(generation, "reconnected"))
        sdk_room.on("disconnected", on_disconnected)

    def __repr__(self) -> str:
        return f"<LiveKitRoom name={self._name!r} state={self._state}>"


async def _disconnect_sdk_room(
    sdk_room: rtc.Room, local: LiveKitLocalParticipant | None = None
) -> None:
    try:
        await asyncio.wait_for(sdk_room.disconnect(), timeout=10.0)
    except Exception as error:
        logger.debug("SDK disconnect ended with %s", type(error).__name__)
    if local is not None:
        local._cancel_operations()


def _disconnect_if_connected(task: asyncio.Future[None], sdk_room: rtc.Room) -> None:
    if task.cancelled() or task.exception() is not None:
        return
    _runtime.spawn(_disconnect_sdk_room(sdk_room))


_REASON_WORDS = {
    "CLIENT_INITIATED": "client initiated",
    "DUPLICATE_IDENTITY": "another participant joined with the same identity",
    "SERVER_SHUTDOWN": "the server shut down",
    "PARTICIPANT_REMOVED": "removed from the room by the server",
    "ROOM_DELETED": "the room was deleted",
    "STATE_MISMATCH": "state mismatch with the server",
    "JOIN_FAILURE": "could not join",
    "MIGRATION": "migrated to another server",
    "SIGNAL_CLOSE": "the signal connection closed",
    "ROOM_CLOSED": "the room was closed",
    "CONNECTION_TIMEOUT": "connection timed out",
    "MEDIA_FAILURE": "media connection failed",
}


def sdk_room_participants(sdk_room: rtc.Room | None) -> list[rtc.Participant]:
    """Every SDK participant of a room, local first (empty without a room)."""
    if sdk_room is None:
        return []
    try:
        local = [sdk_room.local_participant]
    except Exception:
        local = []
    return local + list(sdk_room.remote_participants.values())


_UNKNOWN_REASON = "unknown reason"


def _disconnect_reason_words(reason: int) -> str:
    try:
        name = rtc.DisconnectReason.Name(reason)  # type: ignore[attr-defined]
    except Exception:
        return _UNKNOWN_REASON
    return _REASON_WORDS.get(name, name.replace("_", " ").lower())


def _disconnect_all_at_exit() -> None:
    """Leave every connected room before the runtime thread stops (short grace)."""
    rooms = list(_live_rooms)
    for room in rooms:
        try:
            room.disconnect_from_room()
        except Exception:
            pass
    deadline = time.monotonic() + 1.0
    for room in rooms:
        room._wait_background(max(0.0, deadline - time.monotonic()))


atexit.register(_disconnect_all_at_exit)
