"""Receiving data streams: LiveKit's text and byte streams, accepted per topic.

A room accepts streams on the topics the game registers (``register_text_stream_handler``,
``register_byte_stream_handler`` on :class:`~godot_livekit.room.LiveKitRoom`), as LiveKit's
SDKs do. The registrations live in the room's :class:`StreamHandlers`, are installed on every
session's SDK room and survive reconnects. Each accepted stream is read on the runtime thread
by :func:`receive`, which posts typed events: every chunk as it arrives
(``STREAM_CHUNKS``) or the whole payload at the end (``STREAM_WHOLE``), and an error naming
the stream when it breaks a limit or fails. Streams on topics nobody registered are dropped,
as the SDKs do.

Everything a sender controls is bounded: the payload (``max_bytes`` per registration, and a
room-wide native ceiling the SDK enforces before anything reaches Python, compressed streams
included), the streams open at once per topic, the time without data and the whole duration,
and the text of the stream's info (ids, names, MIME types, attributes).

Sending is in :mod:`godot_livekit.stream_sending`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from livekit import rtc

from . import _runtime
from .events import StreamChunkReceived, StreamFailed, StreamFinished, StreamReceived

if TYPE_CHECKING:
    from .session import Session

logger = logging.getLogger(__name__)

StreamKind = Literal["text", "bytes"]

STREAM_WHOLE = 0
"""Deliver a stream once, whole, when it ends (``text_stream_received``, ...)."""
STREAM_CHUNKS = 1
"""Deliver every chunk as it arrives (``*_stream_chunk_received``), then ``stream_finished``."""

MAX_STREAM_BYTES = 128 * 1024 * 1024
"""Largest stream sent or received (the SDK refuses larger incoming streams natively)."""
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_OPEN_STREAMS = 8
DEFAULT_IDLE_TIMEOUT = 30.0
DEFAULT_MAX_DURATION = 600.0
MAX_TOPIC_BYTES = 256
MAX_INFO_TEXT = 256
"""Longest stream id, name or MIME type kept from a sender (longer ones are cut)."""
MAX_ATTRIBUTES = 64
MAX_ATTRIBUTE_TEXT = 1024
_HANDLER_OPTIONS = ("delivery", "max_bytes", "max_open_streams", "idle_timeout", "max_duration")


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What is known of one stream; ``to_dict()`` is what signals carry."""

    stream_id: str
    kind: StreamKind
    topic: str
    sender_identity: str
    mime_type: str
    name: str
    total_size: int
    """-1 when the sender did not say."""
    attributes: Mapping[str, str] = field(default_factory=dict)
    timestamp: int = 0
    """Milliseconds since the Unix epoch, as the sender stamped it."""

    def to_dict(self) -> dict[str, Any]:
        """A new plain dictionary: id, kind, topic, sender_identity, mime_type, name,
        total_size, attributes, timestamp."""
        return {
            "id": self.stream_id,
            "kind": self.kind,
            "topic": self.topic,
            "sender_identity": self.sender_identity,
            "mime_type": self.mime_type,
            "name": self.name,
            "total_size": self.total_size,
            "attributes": dict(self.attributes),
            "timestamp": self.timestamp,
        }


def stream_info(
    sdk_info: rtc.TextStreamInfo | rtc.ByteStreamInfo, kind: StreamKind, sender: str
) -> StreamInfo:
    """A :class:`StreamInfo` from the SDK's, with every sender-controlled field bounded."""
    size = sdk_info.size
    total = size if isinstance(size, int) and 0 < size <= MAX_STREAM_BYTES else -1
    name = sdk_info.name if isinstance(sdk_info, rtc.ByteStreamInfo) else ""
    timestamp = sdk_info.timestamp if isinstance(sdk_info.timestamp, int) else 0
    return StreamInfo(
        stream_id=_bounded(sdk_info.stream_id),
        kind=kind,
        topic=sdk_info.topic,
        sender_identity=sender,
        mime_type=_bounded(sdk_info.mime_type),
        name=_bounded(name),
        total_size=total,
        attributes=bounded_attributes(sdk_info.attributes or {}),
        timestamp=max(0, min(timestamp, 2**63 - 1)),
    )


def _bounded(text: object, limit: int = MAX_INFO_TEXT) -> str:
    return text[:limit] if isinstance(text, str) else ""


def bounded_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    """At most MAX_ATTRIBUTES pairs, each key and value cut to MAX_ATTRIBUTE_TEXT."""
    bounded: dict[str, str] = {}
    for key, value in attributes.items():
        if len(bounded) >= MAX_ATTRIBUTES:
            break
        bounded[_bounded(key, MAX_ATTRIBUTE_TEXT)] = _bounded(value, MAX_ATTRIBUTE_TEXT)
    return bounded


def check_topic(topic: object, where: str) -> str:
    """``topic`` as a str of at most MAX_TOPIC_BYTES UTF-8 bytes; TypeError/ValueError."""
    if not isinstance(topic, str):
        raise TypeError(f"{where}: topic must be a string, got {type(topic).__name__}")
    try:
        size = len(topic.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError(f"{where}: topic is not valid Unicode") from None
    if size > MAX_TOPIC_BYTES:
        raise ValueError(f"{where}: topic is {size} bytes; the limit is {MAX_TOPIC_BYTES}")
    return topic


# -- registrations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandlerOptions:
    """The options dictionary of ``register_*_stream_handler``, checked."""

    delivery: int = STREAM_WHOLE
    max_bytes: int = DEFAULT_MAX_BYTES
    max_open_streams: int = DEFAULT_MAX_OPEN_STREAMS
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    """Seconds without a chunk before the stream is dropped (0: no limit)."""
    max_duration: float = DEFAULT_MAX_DURATION
    """Seconds from the header to the end before the stream is dropped (0: no limit)."""

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | None, where: str) -> HandlerOptions:
        """Build from the game's dictionary; unknown keys are logged and ignored."""
        if options is None:
            return cls()
        if not isinstance(options, Mapping):
            raise TypeError(f"{where}: options must be a Dictionary, got {type(options).__name__}")
        for key in options:
            if key not in _HANDLER_OPTIONS:
                logger.warning("%s: unknown option %r ignored", where, key)
        values: dict[str, Any] = {}
        if "delivery" in options:
            delivery = options["delivery"]
            if isinstance(delivery, bool) or delivery not in (STREAM_WHOLE, STREAM_CHUNKS):
                raise ValueError(f"{where}: delivery must be STREAM_WHOLE or STREAM_CHUNKS")
            values["delivery"] = int(delivery)
        for key, low, high in (
            ("max_bytes", 1, MAX_STREAM_BYTES),
            ("max_open_streams", 1, 1024),
        ):
            if key in options:
                value = options[key]
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int)
                    or not low <= value <= high
                ):
                    raise ValueError(f"{where}: {key} must be an int from {low} to {high}")
                values[key] = value
        for key in ("idle_timeout", "max_duration"):
            if key in options:
                seconds = options[key]
                if (
                    isinstance(seconds, bool)
                    or not isinstance(seconds, int | float)
                    or not math.isfinite(seconds)
                    or seconds < 0
                ):
                    raise ValueError(f"{where}: {key} must be seconds (0 for no limit)")
                values[key] = float(seconds)
        return cls(**values)


class StreamHandlers:
    """The topics a room accepts streams on (any thread), and the streams open per topic
    (runtime thread). Registrations are installed on every session's SDK room."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._topics: dict[tuple[StreamKind, str], HandlerOptions] = {}
        self._open: dict[tuple[StreamKind, str], int] = {}  # runtime thread only

    def register(
        self, kind: StreamKind, topic: str, options: HandlerOptions, session: Session | None
    ) -> None:
        """Accept ``kind`` streams on ``topic``; ValueError when it is already registered."""
        with self._lock:
            if (kind, topic) in self._topics:
                raise ValueError(
                    f"a {kind} stream handler for topic {topic!r} is already registered "
                    "(unregister it first)"
                )
            self._topics[(kind, topic)] = options
        if session is not None and session.sdk_room is not None:
            _runtime.call_soon(self._install_one, session, session.sdk_room, kind, topic)

    def unregister(self, kind: StreamKind, topic: str, session: Session | None) -> bool:
        """Stop accepting new streams on ``topic`` (open ones finish); False if it was not
        registered."""
        with self._lock:
            known = self._topics.pop((kind, topic), None) is not None
        if known and session is not None and session.sdk_room is not None:
            _runtime.call_soon(_unregister_sdk, session.sdk_room, kind, topic)
        return known

    def options(self, kind: StreamKind, topic: str) -> HandlerOptions | None:
        with self._lock:
            return self._topics.get((kind, topic))

    def topics(self, kind: StreamKind) -> list[str]:
        with self._lock:
            return sorted(topic for k, topic in self._topics if k == kind)

    def install(self, session: Session, sdk_room: rtc.Room) -> None:
        """Runtime thread: install every registered topic on a new session's SDK room."""
        with self._lock:
            keys = list(self._topics)
        for kind, topic in keys:
            self._install_one(session, sdk_room, kind, topic)

    def _install_one(
        self, session: Session, sdk_room: rtc.Room, kind: StreamKind, topic: str
    ) -> None:
        if self.options(kind, topic) is None:  # unregistered meanwhile
            return
        _unregister_sdk(sdk_room, kind, topic)
        if kind == "text":

            def on_text(reader: rtc.TextStreamReader, identity: str) -> None:
                self._opened(session, "text", reader, identity)

            sdk_room.register_text_stream_handler(topic, on_text)
        else:

            def on_bytes(reader: rtc.ByteStreamReader, identity: str) -> None:
                self._opened(session, "bytes", reader, identity)

            sdk_room.register_byte_stream_handler(topic, on_bytes)

    def _opened(
        self,
        session: Session,
        kind: StreamKind,
        reader: rtc.TextStreamReader | rtc.ByteStreamReader,
        identity: str,
    ) -> None:
        """Runtime thread: a stream opened on a registered topic; read it, or refuse it."""
        info = stream_info(reader.info, kind, identity)
        options = self.options(kind, info.topic)
        if options is None:
            reader.close()  # unregistered since the SDK handed it over: dropped, as the SDKs do
            return
        key = (kind, info.topic)
        open_now = self._open.get(key, 0)
        if open_now >= options.max_open_streams:
            reader.close()
            session.post(
                StreamFailed(
                    info,
                    f"refused: {open_now} {kind} streams already open on topic "
                    f"{info.topic!r} (max_open_streams {options.max_open_streams})",
                )
            )
            return
        self._open[key] = open_now + 1

        def closed() -> None:
            left = self._open.get(key, 1) - 1
            if left > 0:
                self._open[key] = left
            else:
                self._open.pop(key, None)

        session.run_transfer(
            f"receiving stream {info.stream_id}", receive(session, reader, info, options, closed)
        )


def _unregister_sdk(sdk_room: rtc.Room, kind: StreamKind, topic: str) -> None:
    if kind == "text":
        sdk_room.unregister_text_stream_handler(topic)
    else:
        sdk_room.unregister_byte_stream_handler(topic)


# -- reading one stream ---------------------------------------------------------------------


class StreamLimitError(Exception):
    """An incoming stream broke one of its registration's limits."""


async def receive(
    session: Session,
    reader: rtc.TextStreamReader | rtc.ByteStreamReader,
    info: StreamInfo,
    options: HandlerOptions,
    closed: Any,
) -> None:
    """Runtime thread: read one stream to its end, posting chunks or the whole payload, or
    ``StreamFailed`` naming it; the reader is closed in every case."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.max_duration if options.max_duration > 0 else math.inf
    received = 0
    parts: list[Any] = []
    chunks = options.delivery == STREAM_CHUNKS
    try:
        while True:
            wait = _next_wait(options.idle_timeout, deadline - loop.time())
            try:
                chunk: str | bytes = await asyncio.wait_for(reader.__anext__(), wait)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise StreamLimitError(_timeout_words(options, deadline, loop.time())) from None
            received += len(chunk.encode("utf-8")) if isinstance(chunk, str) else len(chunk)
            if received > options.max_bytes:
                raise StreamLimitError(
                    f"too large: over max_bytes ({options.max_bytes} bytes) after {received} bytes"
                )
            if chunks:
                session.post(StreamChunkReceived(info, chunk))
            else:
                parts.append(chunk)
    except StreamLimitError as error:
        session.post(StreamFailed(info, str(error)))
        return
    except rtc.StreamError as error:
        session.post(StreamFailed(info, describe_stream_error(error)))
        return
    finally:
        reader.close()
        closed()
    if chunks:
        session.post(StreamFinished(info))
        return
    # the trailer may add attributes: deliver the final ones
    final = stream_info(reader.info, info.kind, info.sender_identity)
    payload: str | bytes = "".join(parts) if info.kind == "text" else b"".join(parts)
    session.post(StreamReceived(final, payload))


def _next_wait(idle_timeout: float, until_deadline: float) -> float | None:
    """Seconds to wait for the next chunk (None: no limit)."""
    wait = min(idle_timeout if idle_timeout > 0 else math.inf, until_deadline)
    return None if math.isinf(wait) else max(0.0, wait)


def _timeout_words(options: HandlerOptions, deadline: float, now: float) -> str:
    if now >= deadline:
        return f"timed out: not finished within max_duration ({options.max_duration:g} s)"
    return f"timed out: no data for idle_timeout ({options.idle_timeout:g} s)"


def describe_stream_error(error: rtc.StreamError) -> str:
    """The SDK's reason for a failed stream in plain words."""
    description = str(error.description or error) or "unknown error"
    if "utf-8" in description.lower():
        return f"invalid UTF-8 in the text stream ({description})"
    if "exceeds maximum size" in description:
        return f"too large: over the room's limit of {MAX_STREAM_BYTES} bytes ({description})"
    if description == "Disconnected while receiving":
        return "the room disconnected while receiving"
    return f"failed: {description}"
