"""Sending data streams: text, bytes and files, or a writer the game fills, with progress.

Every outgoing stream gets its id at once (the call returns it; the receivers see the same
id in the stream's info) and goes out through the SDK's stream writer on the runtime thread
in pieces of PIECE_BYTES, so the local participant's ``stream_progress(stream_id,
bytes_sent, total_bytes)`` follows each piece the SDK has taken, then ``stream_sent`` or
``stream_failed(stream_id, error)``. Every SDK step is bounded (STEP_TIMEOUT); a
session that ends cancels its transfers (``disconnected`` says it, no per-stream signal).

Writers (:class:`LiveKitTextStreamWriter`, :class:`LiveKitByteStreamWriter`) never block
the game: ``write`` queues (at most MAX_WRITER_PENDING_BYTES waiting) and ``close`` ends
the stream once everything queued is sent.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import os
import threading
import uuid
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from livekit import rtc

from . import _runtime
from .data_streams import MAX_STREAM_BYTES, bounded_attributes
from .errors import LiveKitError
from .events import OutgoingStreamFailed, OutgoingStreamProgress, OutgoingStreamSent

if TYPE_CHECKING:
    from .session import Session

logger = logging.getLogger(__name__)

PIECE_BYTES = 64 * 1024
"""Bytes handed to the SDK per step: one progress report each."""
PIECE_CHARS = PIECE_BYTES // 4
"""Characters per step of a text (at most PIECE_BYTES in UTF-8)."""
MAX_WRITER_PENDING_BYTES = 8 * 1024 * 1024
"""Most bytes a writer holds waiting to be sent; ``write`` beyond it is refused."""
MAX_NAME_BYTES = 256
MAX_MIME_TYPE_BYTES = 128
UNKNOWN_TOTAL = -1
STEP_TIMEOUT = 20.0
"""Bound on one SDK step (open, write one piece, close)."""
_SEND_OPTIONS = ("destination_identities", "attributes", "name", "mime_type", "total_size")

WriterKind = Literal["text", "bytes"]


@dataclass(frozen=True, slots=True)
class SendOptions:
    """The options dictionary of the sending calls, checked."""

    destination_identities: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    name: str = ""
    mime_type: str = ""
    total_size: int | None = None


def send_options(options: Mapping[str, Any] | None, where: str) -> SendOptions:
    """Check ``options``: ``destination_identities`` (identities; empty: everyone),
    ``attributes`` (text to text), ``name`` and ``mime_type`` (byte streams),
    ``total_size`` (``stream_bytes``). Unknown keys are logged and ignored."""
    if options is None:
        return SendOptions()
    if not isinstance(options, Mapping):
        raise TypeError(f"{where}: options must be a Dictionary, got {type(options).__name__}")
    for key in options:
        if key not in _SEND_OPTIONS:
            logger.warning("%s: unknown option %r ignored", where, key)
    destinations = _identities(options.get("destination_identities", ()), where)
    attributes = options.get("attributes", {})
    if not isinstance(attributes, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()
    ):
        raise ValueError(f"{where}: attributes must be a Dictionary of strings")
    if bounded_attributes(attributes) != dict(attributes):
        raise ValueError(f"{where}: attributes are limited to 64 pairs of at most 1024 characters")
    name = _short_text(options.get("name", ""), "name", MAX_NAME_BYTES, where)
    mime_type = _short_text(options.get("mime_type", ""), "mime_type", MAX_MIME_TYPE_BYTES, where)
    total = options.get("total_size")
    if total is not None and (
        isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= MAX_STREAM_BYTES
    ):
        raise ValueError(f"{where}: total_size must be an int from 0 to {MAX_STREAM_BYTES}")
    return SendOptions(destinations, dict(attributes), name, mime_type, total)


def _identities(values: object, where: str) -> list[str]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValueError(f"{where}: destination_identities must be a list of identities")
    items = list(values)
    if not all(isinstance(item, str) and item for item in items):
        raise ValueError(f"{where}: destination_identities must hold non-empty strings")
    return items


def _short_text(value: object, key: str, limit: int, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key} must be a string")
    if len(value.encode("utf-8", "replace")) > limit:
        raise ValueError(f"{where}: {key} is limited to {limit} bytes")
    return value


def new_stream_id() -> str:
    """A fresh stream id (the receivers see the same one)."""
    return str(uuid.uuid4())


def utf8(text: object, where: str) -> bytes:
    """``text`` in UTF-8, at most MAX_STREAM_BYTES; TypeError/ValueError otherwise."""
    if not isinstance(text, str):
        raise TypeError(f"{where}: text must be a string, got {type(text).__name__}")
    if len(text) > MAX_STREAM_BYTES:
        raise ValueError(f"{where}: text is over the limit of {MAX_STREAM_BYTES} bytes")
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"{where}: text is not valid Unicode ({error.reason})") from None
    if len(encoded) > MAX_STREAM_BYTES:
        raise ValueError(
            f"{where}: text is {len(encoded)} bytes; the limit is {MAX_STREAM_BYTES} bytes"
        )
    return encoded


def payload_bytes(data: object, where: str) -> bytes:
    """A copy of ``data`` (bytes-like), at most MAX_STREAM_BYTES."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"{where}: data must be bytes, got {type(data).__name__}")
    copy = bytes(data)
    if len(copy) > MAX_STREAM_BYTES:
        raise ValueError(
            f"{where}: data is {len(copy)} bytes; the limit is {MAX_STREAM_BYTES} bytes"
        )
    return copy


def file_to_send(path: object, where: str) -> tuple[str, int]:
    """``path`` as an absolute path of a readable regular file, and its size."""
    if not isinstance(path, str):
        raise TypeError(f"{where}: path must be a string, got {type(path).__name__}")
    if not path:
        raise ValueError(f"{where}: path is empty")
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise ValueError(f"{where}: no such file: {path}")
    if not os.access(full, os.R_OK):
        raise ValueError(f"{where}: the file is not readable: {path}")
    size = os.path.getsize(full)
    if size > MAX_STREAM_BYTES:
        raise ValueError(f"{where}: the file is {size} bytes; the limit is {MAX_STREAM_BYTES}")
    return full, size


# -- the runtime side -----------------------------------------------------------------------


async def _open_writer(
    sdk: rtc.LocalParticipant,
    kind: WriterKind,
    stream_id: str,
    topic: str,
    options: SendOptions,
) -> rtc.TextStreamWriter | rtc.ByteStreamWriter:
    """Open the SDK's writer of one stream (bounded)."""
    destinations = options.destination_identities or None
    attributes = options.attributes or None
    if kind == "text":
        return await asyncio.wait_for(
            sdk.stream_text(
                topic=topic,
                destination_identities=destinations,
                attributes=attributes,
                stream_id=stream_id,
            ),
            STEP_TIMEOUT,
        )
    return await asyncio.wait_for(
        sdk.stream_bytes(
            options.name or "unknown",
            total_size=options.total_size,
            mime_type=options.mime_type or "application/octet-stream",
            attributes=attributes,
            stream_id=stream_id,
            destination_identities=destinations,
            topic=topic,
        ),
        STEP_TIMEOUT,
    )


async def _write(writer: rtc.TextStreamWriter | rtc.ByteStreamWriter, piece: str | bytes) -> None:
    if isinstance(writer, rtc.TextStreamWriter):
        assert isinstance(piece, str)
        await asyncio.wait_for(writer.write(piece), STEP_TIMEOUT)
    else:
        assert isinstance(piece, bytes)
        await asyncio.wait_for(writer.write(piece), STEP_TIMEOUT)


def describe_send_error(error: BaseException) -> str:
    """Why sending failed, in plain words."""
    if isinstance(error, TimeoutError):
        return f"timed out: the SDK took more than {STEP_TIMEOUT:g} s for one step"
    if isinstance(error, rtc.StreamError):
        return f"send failed: {error.description}"
    if isinstance(error, OSError):
        return f"could not read the file: {error.strerror or error}"
    return f"send failed: {error or type(error).__name__}"


async def send_stream(
    session: Session,
    sdk: rtc.LocalParticipant,
    kind: WriterKind,
    stream_id: str,
    topic: str,
    options: SendOptions,
    pieces: AsyncGenerator[tuple[str | bytes, int], None],
    total: int,
    failed: Callable[[str], None] | None = None,
) -> None:
    """Runtime thread: open one stream, write ``pieces`` ((piece, its UTF-8 size)), close
    it; posts progress after each piece, then sent or failed (also told to ``failed``)."""
    sent = 0
    writer: rtc.TextStreamWriter | rtc.ByteStreamWriter | None = None
    try:
        writer = await _open_writer(sdk, kind, stream_id, topic, options)
        async for piece, size in pieces:
            await _write(writer, piece)
            sent += size
            session.post(OutgoingStreamProgress(stream_id, sent, total))
        await asyncio.wait_for(writer.aclose(), STEP_TIMEOUT)
    except asyncio.CancelledError:
        if failed is not None:
            failed("the session ended")
        raise
    except Exception as error:
        words = describe_send_error(error)
        logger.warning("stream %s: %s", stream_id, words)
        if failed is not None:
            failed(words)
        session.post(OutgoingStreamFailed(stream_id, words))
        if writer is not None:
            await _abort(writer, words)
        return
    finally:
        await pieces.aclose()  # a file is closed now, not whenever the generator is collected
    if sent == 0:
        session.post(OutgoingStreamProgress(stream_id, 0, total))
    session.post(OutgoingStreamSent(stream_id))


async def _abort(writer: rtc.TextStreamWriter | rtc.ByteStreamWriter, reason: str) -> None:
    """Best effort: end a failed stream so its receivers see an error, not silence."""
    try:
        await asyncio.wait_for(writer.aclose(reason=reason[:256]), STEP_TIMEOUT)
    except Exception as error:
        logger.debug("could not end the failed stream: %s", error)


async def text_pieces(text: str) -> AsyncGenerator[tuple[str | bytes, int], None]:
    """``text`` in pieces of PIECE_CHARS characters (never splitting a character)."""
    for start in range(0, len(text), PIECE_CHARS):
        piece = text[start : start + PIECE_CHARS]
        yield piece, len(piece.encode("utf-8"))


async def byte_pieces(data: bytes) -> AsyncGenerator[tuple[str | bytes, int], None]:
    view = memoryview(data)
    for start in range(0, len(data), PIECE_BYTES):
        piece = bytes(view[start : start + PIECE_BYTES])
        yield piece, len(piece)


async def file_pieces(path: str, size: int) -> AsyncGenerator[tuple[str | bytes, int], None]:
    """The first ``size`` bytes of the file, read off the loop; OSError when it shrank."""
    loop = asyncio.get_running_loop()
    handle = await loop.run_in_executor(None, open, path, "rb")
    try:
        left = size
        while left > 0:
            piece = await loop.run_in_executor(None, handle.read, min(PIECE_BYTES, left))
            if not piece:
                raise OSError(f"the file became shorter than {size} bytes while sending")
            left -= len(piece)
            yield piece, len(piece)
    finally:
        await loop.run_in_executor(None, handle.close)


def file_options(options: SendOptions, path: str, size: int) -> SendOptions:
    """The name (the file's), MIME type (guessed from its name) and size of a file stream,
    unless the game gave them."""
    name = options.name or os.path.basename(path)
    mime_type = options.mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return SendOptions(options.destination_identities, options.attributes, name, mime_type, size)


# -- writers --------------------------------------------------------------------------------

_CLOSE = object()


class LiveKitStreamWriter:
    """An outgoing stream the game writes into and closes (base of the text and byte
    writers). Never blocks: ``write`` queues, the runtime thread sends in order."""

    _kind: WriterKind = "bytes"

    def __init__(
        self,
        session: Session | None = None,
        sdk: rtc.LocalParticipant | None = None,
        topic: str = "",
        options: SendOptions | None = None,
    ) -> None:
        self._stream_id = new_stream_id()
        self._session = session
        self._options = options or SendOptions()
        self._lock = threading.Lock()
        self._pending = 0
        self._written = 0
        self._closing = False
        self._error = ""
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        if session is None or sdk is None:
            self._closing = True
            self._error = "not connected"
            return
        session.run_transfer(f"stream {self._stream_id}", self._pump(session, sdk, topic))

    def get_stream_id(self) -> str:
        """The stream's id (the receivers see it in the stream's info)."""
        return self._stream_id

    def is_open(self) -> bool:
        """True until ``close()``, a failure, or the end of the session."""
        session = self._session
        live = session is not None and session.is_live()
        return live and not self._closing and not self._error

    def get_error(self) -> str:
        """Why the stream failed ("" when it did not)."""
        return self._error

    def get_pending_bytes(self) -> int:
        """Bytes written but not yet taken by the SDK."""
        return self._pending

    def get_written_bytes(self) -> int:
        return self._written

    def _queue_piece(self, piece: str | bytes, size: int, where: str) -> None:
        if self._error:
            raise LiveKitError(f"{where}: the stream failed: {self._error}")
        if self._closing:
            raise LiveKitError(f"{where}: the stream is closed")
        session = self._session
        if session is None or not session.is_live():
            raise LiveKitError(f"{where}: the room is not connected")
        total = self._options.total_size
        if total is not None and self._written + size > total:
            raise ValueError(f"{where}: this would write past the stream's total_size ({total})")
        if self._written + size > MAX_STREAM_BYTES:
            raise ValueError(f"{where}: a stream holds at most {MAX_STREAM_BYTES} bytes")
        with self._lock:
            if self._pending + size > MAX_WRITER_PENDING_BYTES:
                raise LiveKitError(
                    f"{where}: {self._pending} bytes are still waiting to be sent (limit "
                    f"{MAX_WRITER_PENDING_BYTES}); write more after stream_progress"
                )
            self._pending += size
        self._written += size
        _runtime.call_soon(self._queue.put_nowait, (piece, size))

    def close(self) -> None:
        """End the stream once everything written is sent (idempotent); ``stream_sent``
        follows."""
        if self._closing:
            return
        self._closing = True
        if _runtime.is_running():
            _runtime.call_soon(self._queue.put_nowait, _CLOSE)

    async def _pump(self, session: Session, sdk: rtc.LocalParticipant, topic: str) -> None:
        await send_stream(
            session,
            sdk,
            self._kind,
            self._stream_id,
            topic,
            self._options,
            self._pieces(),
            self._options.total_size if self._options.total_size is not None else UNKNOWN_TOTAL,
            self._failed,
        )

    async def _pieces(self) -> AsyncGenerator[tuple[str | bytes, int], None]:
        """What the game wrote, in order, in steps of at most PIECE_BYTES, until closed."""
        while True:
            item = await self._queue.get()
            if item is _CLOSE:
                return
            piece, size = item
            for part, part_size in _split(piece, size):
                yield part, part_size
                with self._lock:
                    self._pending -= part_size

    def _failed(self, error: str) -> None:
        """Runtime thread: the stream failed; later writes raise."""
        self._error = error


def _split(piece: str | bytes, size: int) -> Iterable[tuple[str | bytes, int]]:
    """One write in steps of at most PIECE_BYTES (a text never split inside a character)."""
    if size <= PIECE_BYTES:
        return [(piece, size)]
    if isinstance(piece, str):
        parts = [piece[i : i + PIECE_CHARS] for i in range(0, len(piece), PIECE_CHARS)]
        return [(part, len(part.encode("utf-8"))) for part in parts]
    view = memoryview(piece)
    return [
        (bytes(view[i : i + PIECE_BYTES]), min(PIECE_BYTES, size - i))
        for i in range(0, size, PIECE_BYTES)
    ]


class LiveKitTextStreamWriter(LiveKitStreamWriter):
    """A text stream the game writes into (``stream_text``); receivers get the text in
    chunks that never split a character."""

    _kind: WriterKind = "text"

    def write(self, text: str) -> None:
        """Queue ``text`` for sending; LiveKitError when closed, failed, disconnected or
        too much is still waiting."""
        encoded = utf8(text, "write")
        if encoded:
            self._queue_piece(text, len(encoded), "write")


class LiveKitByteStreamWriter(LiveKitStreamWriter):
    """A byte stream the game writes into (``stream_bytes``)."""

    _kind: WriterKind = "bytes"

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue a copy of ``data`` for sending; LiveKitError when closed, failed,
        disconnected or too much is still waiting."""
        copy = payload_bytes(data, "write")
        if copy:
            self._queue_piece(copy, len(copy), "write")
