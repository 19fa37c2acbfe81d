"""Data tracks: LiveKit's channel for small, frequent, unreliable frames (positions, inputs).

A game publishes a :class:`LiveKitLocalDataTrack` (``publish_data_track`` on the local
participant) and pushes frames into it, typically once per game tick; ``push`` hands the
frame to the SDK's native queue at once from the calling thread (a native call that never
waits on the network) and says whether it was taken.

Remote data tracks are announced by the room (``data_track_published``); subscribing gives
a :class:`LiveKitDataTrackSubscription` whose frames are read on the runtime thread into a
bounded buffer and emitted as ``frame_received`` during the room's ``poll_events()``:
``MODE_LATEST`` keeps only the newest frame (older ones are dropped and counted),
``MODE_ORDERED`` keeps up to ``queue_size`` frames in order (when full the oldest is
dropped and counted). A subscription ends with ``ended(reason)`` when the publisher
unpublishes or leaves; ``close()`` ends it at once (idempotent, no signal).

Frames are unreliable by design: back-to-back frames can be lost in the SFU's unreliable
data channel. A session's tracks and subscriptions go stale when it ends; after a full
reconnect the publisher's tracks come back under new SIDs (``data_track_published``
again), so subscribe anew.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

from livekit import rtc
from livekit.rtc.participant import PublishDataTrackError

from . import _runtime, links
from .events import DataTrackReceived, LocalDataTrackFailed, LocalDataTrackPublished
from .signals import signal

if TYPE_CHECKING:
    from .events import Event
    from .session import Session


class Poster(Protocol):
    """Where a subscription says frames are waiting (a session, or a test's stand-in)."""

    def post(self, event: Event) -> None: ...


logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
"""Largest data track frame sent or kept (larger received frames are dropped, counted)."""
MAX_TRACK_NAME_BYTES = 256
"""The server's limit on a data track name."""
DEFAULT_QUEUE_SIZE = 64
MAX_QUEUE_SIZE = 1024
MAX_USER_TIMESTAMP = 2**63 - 1
NO_TIMESTAMP = -1
UNPUBLISHED_REASON = "the track was unpublished"
DISCONNECTED_REASON = "the room disconnected"


class LiveKitLocalDataTrack:
    """A data track published by the local participant.

    ``publish_data_track`` returns it at once; ``published`` (or ``publish_failed(error)``)
    follows. Until then, and after ``unpublish()``, ``push`` returns false.
    """

    published = signal()
    publish_failed = signal("error")

    def __init__(self, name: str = "", session: Session | None = None) -> None:
        self._name = name
        self._session = session
        self._link: links.Link[rtc.LocalDataTrack] = links.Link()
        links.attach(self, self._link)
        self._error = ""
        self._pushed = 0
        self._refused = 0

    def get_name(self) -> str:
        return self._name

    def get_sid(self) -> str:
        """The SID the server gave the track ("" before it is published or once stale)."""
        sdk = self._link.sdk
        return sdk.info.sid if sdk is not None else ""

    def get_error(self) -> str:
        """Why publishing failed ("" when it did not)."""
        return self._error

    def is_published(self) -> bool:
        sdk = self._link.sdk
        return sdk is not None and sdk.is_published()

    def push(self, payload: bytes | bytearray | memoryview, user_timestamp: int = -1) -> bool:
        """Send one frame to the track's subscribers; false when it was not taken (not
        published, unpublished, or the SDK's queue is full: frames come too fast).

        ``payload``: 1 to 64 KiB. ``user_timestamp``: any value from 0 to 2^63-1 the
        receiver gets with the frame (e.g. microseconds since the epoch), -1 for none.
        """
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise TypeError(f"push: payload must be bytes, got {type(payload).__name__}")
        data = bytes(payload)
        if not 1 <= len(data) <= MAX_FRAME_BYTES:
            raise ValueError(
                f"push: payload is {len(data)} bytes; a frame holds 1 to {MAX_FRAME_BYTES} bytes"
            )
        if isinstance(user_timestamp, bool) or not isinstance(user_timestamp, int):
            raise TypeError("push: user_timestamp must be an int (-1 for none)")
        if not NO_TIMESTAMP <= user_timestamp <= MAX_USER_TIMESTAMP:
            raise ValueError("push: user_timestamp must be from 0 to 2^63-1, or -1 for none")
        sdk = self._link.sdk
        if sdk is None:
            self._refused += 1
            return False
        frame = rtc.DataTrackFrame(
            payload=data, user_timestamp=None if user_timestamp < 0 else user_timestamp
        )
        try:
            sdk.try_push(frame)  # a native call: queues the frame, never waits on the network
        except rtc.PushFrameError as error:
            self._refused += 1
            logger.debug("data track %r: frame not taken: %s", self._name, error.message)
            return False
        self._pushed += 1
        return True

    def get_pushed_count(self) -> int:
        """Frames the SDK took."""
        return self._pushed

    def get_refused_count(self) -> int:
        """Frames ``push`` returned false for."""
        return self._refused

    def unpublish(self) -> None:
        """Stop publishing (idempotent); subscribers' subscriptions end."""
        sdk = self._link.sdk
        self._link.cut()
        session = self._session
        if sdk is not None and session is not None:
            session.run("unpublish_data_track", sdk.unpublish())

    def close(self) -> None:
        """Same as ``unpublish()``."""
        self.unpublish()

    def __repr__(self) -> str:
        return f"<LiveKitLocalDataTrack {self._name!r} published={self._link.sdk is not None}>"


async def publish_local(
    session: Session, sdk_local: rtc.LocalParticipant, track: LiveKitLocalDataTrack
) -> None:
    """Runtime thread: publish ``track``; posts LocalDataTrackPublished or ...Failed."""
    try:
        sdk_track = await sdk_local.publish_data_track(name=track.get_name())
    except asyncio.CancelledError:
        _publish_failed(session, track, "publish cancelled (timed out, or the session ended)")
        raise
    except PublishDataTrackError as error:
        _publish_failed(session, track, f"publish failed: {error.message}")
        return
    except Exception as error:
        _publish_failed(session, track, f"publish failed: {error}")
        return
    if session.transfers_closed:
        await sdk_track.unpublish()
        return
    track._link.sdk = sdk_track
    session.data_tracks.add_local(track)
    session.post(LocalDataTrackPublished(track))


def _publish_failed(session: Session, track: LiveKitLocalDataTrack, error: str) -> None:
    track._error = error
    logger.warning("publish_data_track %r: %s", track.get_name(), error)
    session.post(LocalDataTrackFailed(track, error))


class LiveKitRemoteDataTrack:
    """A data track published by a remote participant (``data_track_published``)."""

    def __init__(self, sdk: rtc.RemoteDataTrack | None = None, session: Session | None = None):
        self._link: links.Link[rtc.RemoteDataTrack] = links.Link(sdk)
        links.attach(self, self._link)
        self._session = session
        self._sid = sdk.info.sid[:MAX_TRACK_NAME_BYTES] if sdk is not None else ""
        self._name = sdk.info.name[:MAX_TRACK_NAME_BYTES] if sdk is not None else ""
        self._publisher = sdk.publisher_identity if sdk is not None else ""

    def get_sid(self) -> str:
        """The track's SID ("" once stale)."""
        return self._sid if self._link.sdk is not None else ""

    def get_name(self) -> str:
        """The name the publisher gave the track ("" once stale)."""
        return self._name if self._link.sdk is not None else ""

    def get_publisher_identity(self) -> str:
        """The identity of the participant who published it ("" once stale)."""
        return self._publisher if self._link.sdk is not None else ""

    def is_published(self) -> bool:
        """False once unpublished (or the publisher left, or the room disconnected)."""
        return self._link.sdk is not None

    def is_stale(self) -> bool:
        return self._link.sdk is None

    def subscribe(
        self, mode: int = 0, queue_size: int = DEFAULT_QUEUE_SIZE
    ) -> LiveKitDataTrackSubscription:
        """Start receiving frames: ``MODE_LATEST`` (only the newest frame each poll) or
        ``MODE_ORDERED`` (every frame in order, at most ``queue_size`` waiting). On a track
        no longer published, the subscription is already ended."""
        if isinstance(mode, bool) or mode not in (
            LiveKitDataTrackSubscription.MODE_LATEST,
            LiveKitDataTrackSubscription.MODE_ORDERED,
        ):
            raise ValueError("subscribe: mode must be MODE_LATEST or MODE_ORDERED")
        if isinstance(queue_size, bool) or not isinstance(queue_size, int):
            raise TypeError("subscribe: queue_size must be an int")
        if not 1 <= queue_size <= MAX_QUEUE_SIZE:
            raise ValueError(f"subscribe: queue_size must be from 1 to {MAX_QUEUE_SIZE}")
        subscription = LiveKitDataTrackSubscription(self, mode, queue_size)
        sdk, session = self._link.sdk, self._session
        if sdk is None or session is None:
            subscription._finish(UNPUBLISHED_REASON, notify=None)
            return subscription
        session.data_tracks.add_subscription(subscription)
        session.run_transfer(
            f"data track {self._name!r} subscription", _read(subscription, sdk, session)
        )
        return subscription

    def __repr__(self) -> str:
        return f"<LiveKitRemoteDataTrack {self._name!r} of {self._publisher!r}>"


class LiveKitDataTrackSubscription:
    """Frames of one remote data track, emitted as ``frame_received(payload,
    user_timestamp)`` during the room's ``poll_events()`` (``user_timestamp`` is -1 when
    the frame has none)."""

    MODE_LATEST = 0
    MODE_ORDERED = 1

    frame_received = signal("payload", "user_timestamp")
    ended = signal("reason")

    def __init__(
        self,
        track: LiveKitRemoteDataTrack | None = None,
        mode: int = 0,
        queue_size: int = DEFAULT_QUEUE_SIZE,
    ) -> None:
        self._track = track
        self._mode = mode
        self._queue_size = queue_size
        self._lock = threading.Lock()
        self._frames: deque[tuple[bytes, int]] = deque(
            maxlen=1 if mode == self.MODE_LATEST else queue_size
        )
        self._notified = False
        self._received = 0
        self._dropped = 0
        self._end_reason = ""  # set once it ended (or was closed)
        self._end_emitted = False
        self._closed = False
        self._task: asyncio.Task[Any] | None = None  # runtime thread

    def get_track(self) -> LiveKitRemoteDataTrack | None:
        return self._track

    def get_mode(self) -> int:
        return self._mode

    def get_queue_size(self) -> int:
        return self._queue_size

    def get_received_count(self) -> int:
        """Frames received from the SDK (delivered or dropped)."""
        return self._received

    def get_dropped_count(self) -> int:
        """Frames dropped: replaced by a newer one (MODE_LATEST), pushed out of a full
        queue (MODE_ORDERED), or over the frame size limit."""
        return self._dropped

    def get_end_reason(self) -> str:
        """Why the subscription ended ("" while active)."""
        return self._end_reason

    def is_active(self) -> bool:
        return not self._end_reason

    def poll(self) -> int:
        """Emit the frames received since the last poll, then ``ended`` once it ended.
        The room's ``poll_events()`` calls this when frames arrived; returns signals
        emitted."""
        with self._lock:
            frames = list(self._frames)
            self._frames.clear()
            self._notified = False
            end = self._end_reason if not self._closed and not self._end_emitted else ""
            if end:
                self._end_emitted = True
        for payload, timestamp in frames:
            self.frame_received.emit(payload, timestamp)
        if end:
            self.ended.emit(end)
        return len(frames) + (1 if end else 0)

    def close(self) -> None:
        """Stop receiving (idempotent; no ``ended`` signal)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._frames.clear()
            if not self._end_reason:
                self._end_reason = "closed"
        track = self._track
        session = track._session if track is not None else None
        if session is not None:
            session.data_tracks.forget_subscription(self)
        if _runtime.is_running():
            _runtime.call_soon(self._cancel_reader)

    def _cancel_reader(self) -> None:
        if self._task is not None:
            self._task.cancel()

    # -- runtime side ------------------------------------------------------------------------

    def _receive(self, payload: bytes, user_timestamp: int | None, notify: Poster) -> None:
        """Runtime thread: keep one frame (dropping what the mode drops)."""
        timestamp = (
            user_timestamp
            if user_timestamp is not None and 0 <= user_timestamp <= MAX_USER_TIMESTAMP
            else NO_TIMESTAMP
        )
        with self._lock:
            if self._closed:
                return
            self._received += 1
            if len(payload) > MAX_FRAME_BYTES:
                self._dropped += 1
                return
            if len(self._frames) == self._frames.maxlen:
                self._dropped += 1  # the deque pushes the oldest out
            self._frames.append((payload, timestamp))
            post = not self._notified
            self._notified = True
        if post:
            notify.post(DataTrackReceived(self))

    def _finish(self, reason: str, notify: Poster | None) -> None:
        """Any thread: the subscription ended; ``ended`` follows the frames still waiting."""
        with self._lock:
            if self._end_reason:
                return
            self._end_reason = reason
            post = not self._notified and notify is not None
            self._notified = True
        if post and notify is not None:
            notify.post(DataTrackReceived(self))

    def __repr__(self) -> str:
        mode = "latest" if self._mode == self.MODE_LATEST else "ordered"
        return f"<LiveKitDataTrackSubscription {mode} active={self.is_active()}>"


async def _read(
    subscription: LiveKitDataTrackSubscription, sdk: rtc.RemoteDataTrack, session: Session
) -> None:
    """Runtime thread: read the SDK's frames into ``subscription`` until the track ends."""
    if subscription._closed:
        return
    subscription._task = asyncio.current_task()
    buffer = max(16, subscription.get_queue_size())
    try:
        stream = sdk.subscribe(buffer_size=buffer)
    except Exception as error:
        session.data_tracks.forget_subscription(subscription)
        subscription._finish(f"subscription failed: {error}", session)
        return
    reason = UNPUBLISHED_REASON
    try:
        async for frame in stream:
            subscription._receive(frame.payload, frame.user_timestamp, session)
    except rtc.SubscribeDataTrackError as error:
        reason = f"subscription failed: {error.message}"
    finally:
        stream.close()
        subscription._task = None
    session.data_tracks.forget_subscription(subscription)
    subscription._finish(reason, session)


def receive_frame(
    subscription: LiveKitDataTrackSubscription,
    payload: bytes,
    user_timestamp: int | None,
    notify: Poster,
) -> None:
    """Any thread: hand ``subscription`` one frame as its reader does."""
    subscription._receive(payload, user_timestamp, notify)


def end_subscription(
    subscription: LiveKitDataTrackSubscription, reason: str, notify: Poster | None
) -> None:
    """Any thread: end ``subscription`` as its reader does when the track goes away."""
    subscription._finish(reason, notify)


class DataTrackMap:
    """The data tracks and subscriptions of one session (any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._remote: dict[str, LiveKitRemoteDataTrack] = {}
        self._local: list[LiveKitLocalDataTrack] = []
        self._subscriptions: set[LiveKitDataTrackSubscription] = set()

    def remote_published(
        self, sdk: rtc.RemoteDataTrack, session: Session
    ) -> LiveKitRemoteDataTrack:
        """Runtime thread: the wrapper of a newly announced remote track."""
        track = LiveKitRemoteDataTrack(sdk, session)
        with self._lock:
            self._remote[sdk.info.sid] = track
        return track

    def remote_unpublished(self, sid: str) -> LiveKitRemoteDataTrack | None:
        """Runtime thread: the wrapper of a track the SDK says is gone (its link is cut when
        the room applies the event)."""
        with self._lock:
            return self._remote.pop(sid, None)

    def remote_tracks(self) -> list[LiveKitRemoteDataTrack]:
        with self._lock:
            return [track for track in self._remote.values() if track.is_published()]

    def add_local(self, track: LiveKitLocalDataTrack) -> None:
        with self._lock:
            self._local.append(track)

    def add_subscription(self, subscription: LiveKitDataTrackSubscription) -> None:
        with self._lock:
            self._subscriptions.add(subscription)

    def forget_subscription(self, subscription: LiveKitDataTrackSubscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def end(self) -> None:
        """Main thread: the session is over; its tracks go stale and its subscriptions end
        (no signals: ``disconnected`` says it)."""
        with self._lock:
            remote = list(self._remote.values())
            local = list(self._local)
            subscriptions = list(self._subscriptions)
            self._remote.clear()
            self._local.clear()
            self._subscriptions.clear()
        for subscription in subscriptions:
            subscription._finish(DISCONNECTED_REASON, notify=None)
            subscription.close()
        for track in remote:
            track._link.cut()
        for local_track in local:
            local_track._link.cut()


def check_track_name(name: object) -> str:
    """A data track name: 1 to 256 UTF-8 bytes; TypeError/ValueError otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"publish_data_track: name must be a string, got {type(name).__name__}")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("publish_data_track: name is not valid Unicode") from None
    if not 1 <= size <= MAX_TRACK_NAME_BYTES:
        raise ValueError(
            f"publish_data_track: name must be 1 to {MAX_TRACK_NAME_BYTES} bytes, got {size}"
        )
    return name
