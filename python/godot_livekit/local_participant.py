"""The local participant: publishes data and tracks, updates its own state, calls and
answers RPCs.

It is one object for the room's whole life (``room.local_participant``), acting on the
room's live session through the room's :class:`~godot_livekit.session.RoomContext`. RPC
methods registered before connecting take effect on connect and survive reconnects.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncGenerator, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from livekit import rtc

from . import data_tracks, links, rpc, stream_sending
from .data_streams import check_topic
from .data_tracks import LiveKitLocalDataTrack
from .e2ee import is_encrypted
from .errors import LiveKitError
from .events import PublishFailed, RpcFailed
from .participant import LiveKitParticipant
from .publish_options import publish_options
from .signals import signal
from .stream_sending import LiveKitByteStreamWriter, LiveKitTextStreamWriter
from .track import LiveKitLocalAudioTrack, LiveKitLocalVideoTrack, LiveKitTrack
from .track_publication import LiveKitLocalTrackPublication, LiveKitTrackPublication

if TYPE_CHECKING:
    from .session import RoomContext, Session

logger = logging.getLogger(__name__)

MAX_DATA_BYTES = 15 * 1024
"""Largest data packet accepted by ``publish_data`` (LiveKit's documented reliable limit)."""
MAX_RPC_PAYLOAD_BYTES = rpc.MAX_RPC_PAYLOAD_BYTES
DEFAULT_RPC_TIMEOUT = rpc.DEFAULT_RPC_TIMEOUT


class LiveKitLocalParticipant(LiveKitParticipant):
    """The local user: publishes data, updates its own metadata, performs and answers RPCs.

    RPC answers: when ``rpc_method_invoked`` fires, reply with :meth:`respond_to_rpc` or
    :meth:`respond_to_rpc_error` (using its ``request_id``) before ``response_timeout``
    seconds pass; an invocation left unanswered returns a timeout error to the caller.
    """

    rpc_method_invoked = signal(
        "method", "request_id", "caller_identity", "payload", "response_timeout"
    )
    rpc_response_received = signal("method", "result")
    rpc_error = signal("method", "error_message")
    # data streams sent by this participant (see stream_sending.py)
    stream_progress = signal("stream_id", "bytes_sent", "total_bytes")
    stream_sent = signal("stream_id")
    stream_failed = signal("stream_id", "error")

    def __init__(self, room: RoomContext | None = None) -> None:
        super().__init__(links.Link(), room)
        self._context = room

    def _live(self, action: str) -> tuple[Session, rtc.LocalParticipant]:
        """The live session and the SDK's local participant; LiveKitError when there is
        none."""
        context = self._context
        session = context.session if context is not None else None
        sdk = links.sdk_of(self)
        if session is None or not isinstance(sdk, rtc.LocalParticipant):
            raise LiveKitError(f"cannot {action}: the room is not connected")
        return session, sdk

    def get_track_publications(self) -> dict[str, LiveKitTrackPublication]:
        """Published tracks keyed by their SID ({} when not connected)."""
        context = self._context
        session = context.session if context is not None else None
        sdk = links.sdk_of(self)
        if session is None or sdk is None:
            return {}
        publications = list(sdk.track_publications.items())
        return {sid: session.objects.publication(pub) for sid, pub in publications}

    # -- data and own state ----------------------------------------------------------------

    def publish_data(
        self,
        data: bytes | bytearray | memoryview | str,
        reliable: bool = True,
        destination_identities: Iterable[str] = (),
        topic: str = "",
    ) -> None:
        """Send ``data`` to everyone, or only to ``destination_identities``, under ``topic``.

        Payloads over 15 KiB are refused with ``ValueError``; lossy packets may be dropped.
        """
        if isinstance(data, str):
            payload = data.encode("utf-8")
        elif isinstance(data, bytes | bytearray | memoryview):
            payload = bytes(data)
        else:
            raise TypeError(f"publish_data: data must be bytes, got {type(data).__name__}")
        if len(payload) > MAX_DATA_BYTES:
            raise ValueError(
                f"publish_data: payload is {len(payload)} bytes; the limit is {MAX_DATA_BYTES} "
                "bytes per packet (split it, or use several messages)"
            )
        if not isinstance(reliable, bool | int | float):
            raise TypeError("publish_data: reliable must be a bool")
        reliable = bool(reliable)
        destinations = string_list(destination_identities, "destination_identities")
        if not isinstance(topic, str):
            raise TypeError(f"publish_data: topic must be a string, got {type(topic).__name__}")
        session, sdk = self._live("publish data")
        session.run(
            "publish_data",
            sdk.publish_data(
                payload, reliable=reliable, destination_identities=destinations, topic=topic
            ),
        )

    def set_metadata(self, metadata: str) -> None:
        """Set this participant's metadata; peers get ``participant_metadata_changed``."""
        require_str(metadata, "set_metadata", "metadata")
        session, sdk = self._live("set metadata")
        session.run("set_metadata", sdk.set_metadata(metadata), ordered=True)

    def set_name(self, name: str) -> None:
        """Set this participant's display name; peers get ``participant_name_changed``."""
        require_str(name, "set_name", "name")
        session, sdk = self._live("set the name")
        session.run("set_name", sdk.set_name(name), ordered=True)

    def set_attributes(self, attributes: Mapping[str, str]) -> None:
        """Merge ``attributes`` into this participant's attributes; a key set to ``""`` is
        removed. Numbers and bools are turned into text as GDScript's ``str()`` does."""
        if not isinstance(attributes, Mapping):
            raise TypeError("set_attributes: attributes must be a dictionary of strings")
        clean = {
            attribute_text(key, "key"): attribute_text(value, "value")
            for key, value in attributes.items()
        }
        session, sdk = self._live("set attributes")
        session.run("set_attributes", sdk.set_attributes(clean), ordered=True)

    # -- tracks ------------------------------------------------------------------------------

    def publish_track(
        self, track: LiveKitTrack, options: Mapping[str, Any] | None = None
    ) -> LiveKitLocalTrackPublication:
        """Publish a local track; returns its publication at once (filled in, and
        ``local_track_published`` emitted, when the server confirms).

        Options: ``source`` (a ``SOURCE_*``), ``simulcast`` (default true for video),
        ``dtx``/``red`` (audio, default true), ``video_codec`` ("vp8", "h264", "vp9",
        "av1", "h265"), ``max_bitrate`` (bits/s), ``max_framerate`` (fps).
        """
        if not isinstance(track, LiveKitLocalAudioTrack | LiveKitLocalVideoTrack):
            raise TypeError("publish_track: track must be a LiveKitLocalAudioTrack/VideoTrack")
        track_link = links.link_of(track)
        assert isinstance(track_link, links.TrackLink)
        sdk_track = track_link.sdk
        if sdk_track is None:
            raise LiveKitError("publish_track: the track was closed")
        is_video = isinstance(track, LiveKitLocalVideoTrack)
        media_source = track_link.media_source
        pixels = (
            media_source.get_width() * media_source.get_height()
            if is_video and media_source is not None
            else 1280 * 720
        )
        sdk_options, source = publish_options(options, is_video, pixels)
        session, sdk = self._live("publish a track")
        publication_link = links.PublicationLink()
        publication = LiveKitLocalTrackPublication(publication_link, session)
        track_link.source = source
        session.objects.remember(sdk_track, track, owned=False)
        session.objects.expect_publication(sdk_track, publication)
        # in an encrypted room no frame may leave before the SDK has attached the track's
        # encryptor, which it does as publishing completes (e2ee.SendGate)
        held = media_source if is_encrypted(session.room) and media_source is not None else None
        if held is not None:
            held._hold_until_encrypted()

        async def publish() -> None:
            try:
                sdk_publication = await sdk.publish_track(sdk_track, sdk_options)
            except Exception as error:
                publication_link.error = f"publish failed: {error}"
                logger.warning("publish_track failed: %s", error)
                session.post(PublishFailed(publication))
                return
            publication_link.sdk = sdk_publication
            session.objects.remember(sdk_publication, publication)

        done = session.room.run(publish())
        if held is not None:  # however it ends (published, failed, cancelled unstarted)
            done.add_done_callback(lambda _: held._release_hold())
        return publication

    def unpublish_track(self, track_sid: str) -> None:
        """Stop publishing the track with this SID; ``local_track_unpublished`` follows."""
        require_str(track_sid, "unpublish_track", "track_sid")
        if not track_sid:
            return  # as the original: nothing to unpublish
        session, sdk = self._live("unpublish a track")
        if track_sid not in sdk.track_publications:
            raise ValueError(f"unpublish_track: no published track with sid {track_sid!r}")
        session.run("unpublish_track", sdk.unpublish_track(track_sid))

    # -- RPC ---------------------------------------------------------------------------------

    def perform_rpc(
        self, destination: str, method: str, payload: str, timeout: float = DEFAULT_RPC_TIMEOUT
    ) -> None:
        """Call ``method`` on participant ``destination``; the answer arrives as
        ``rpc_response_received(method, result)`` or ``rpc_error(method, error_message)``."""
        require_str(destination, "perform_rpc", "destination")
        require_str(method, "perform_rpc", "method")
        require_str(payload, "perform_rpc", "payload")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise TypeError("perform_rpc: timeout must be a number of seconds")
        context = self._context
        if context is None:
            raise LiveKitError("cannot perform an RPC: this participant has no room")
        problem = ""
        if len(payload.encode("utf-8")) > MAX_RPC_PAYLOAD_BYTES:
            problem = f"request payload too large: the limit is {MAX_RPC_PAYLOAD_BYTES} bytes"
        elif not (timeout > 0 and math.isfinite(timeout)):
            problem = "timeout must be above 0 seconds"
        elif context.session is None or not isinstance(links.sdk_of(self), rtc.LocalParticipant):
            problem = "not connected to a room"
        if problem:
            context.post_now(RpcFailed(method, problem))
            return
        session, sdk = self._live("perform an RPC")
        rpc.perform(session, sdk, destination, method, payload, float(timeout))

    def register_rpc_method(self, method: str) -> None:
        """Accept calls to ``method``; each call fires ``rpc_method_invoked``. Registration
        made before connecting takes effect on connect and survives reconnects."""
        require_str(method, "register_rpc_method", "method")
        if not method:
            raise ValueError("register_rpc_method: method name must not be empty")
        context = self._context
        if context is None:
            raise LiveKitError("cannot register an RPC method: this participant has no room")
        sdk = links.sdk_of(self)
        context.rpc.register(
            method, sdk if isinstance(sdk, rtc.LocalParticipant) else None, context.session
        )

    def unregister_rpc_method(self, method: str) -> None:
        """Stop accepting calls to ``method`` (callers then get 'method not supported')."""
        require_str(method, "unregister_rpc_method", "method")
        context = self._context
        if context is None:
            logger.warning("unregister_rpc_method: the participant is not bound to a room")
            return
        sdk = links.sdk_of(self)
        context.rpc.unregister(method, sdk if isinstance(sdk, rtc.LocalParticipant) else None)

    def get_registered_rpc_methods(self) -> list[str]:
        context = self._context
        return context.rpc.methods() if context is not None else []

    def respond_to_rpc(self, request_id: str, payload: str) -> bool:
        """Answer invocation ``request_id`` with ``payload``. False when it is unknown,
        already answered or timed out."""
        require_str(request_id, "respond_to_rpc", "request_id")
        require_str(payload, "respond_to_rpc", "payload")
        size = len(payload.encode("utf-8"))
        if size > MAX_RPC_PAYLOAD_BYTES:
            raise ValueError(
                f"respond_to_rpc: payload is {size} bytes; the limit is {MAX_RPC_PAYLOAD_BYTES}"
            )
        context = self._context
        return context.rpc.settle(request_id, payload, None) if context is not None else False

    def respond_to_rpc_error(self, request_id: str, code: int, message: str) -> bool:
        """Answer invocation ``request_id`` with an error the caller sees as
        ``rpc_error``. Use codes below 1000 for your own errors (1xxx are LiveKit's)."""
        require_str(request_id, "respond_to_rpc_error", "request_id")
        require_str(message, "respond_to_rpc_error", "message")
        if isinstance(code, bool) or not isinstance(code, int):
            raise TypeError("respond_to_rpc_error: code must be an int")
        code = max(0, min(int(code), 0xFFFF))
        context = self._context
        if context is None:
            return False
        error = rtc.RpcError(code, message[: rpc.MAX_ERROR_MESSAGE])
        return context.rpc.settle(request_id, None, error)

    # -- data streams and data tracks --------------------------------------------------------

    def send_text(
        self, text: str, topic: str = "", options: Mapping[str, Any] | None = None
    ) -> str:
        """Send ``text`` as a text stream on ``topic``; returns the stream's id at once.

        Options: ``destination_identities`` (default: everyone), ``attributes``. Progress
        arrives as ``stream_progress``, then ``stream_sent`` or ``stream_failed``.
        """
        encoded = stream_sending.utf8(text, "send_text")
        topic = check_topic(topic, "send_text")
        opts = stream_sending.send_options(options, "send_text")
        return self._send_stream(
            "send a text stream",
            "text",
            topic,
            opts,
            stream_sending.text_pieces(text),
            len(encoded),
        )

    def send_bytes(
        self,
        data: bytes | bytearray | memoryview,
        topic: str = "",
        options: Mapping[str, Any] | None = None,
    ) -> str:
        """Send a copy of ``data`` as a byte stream on ``topic``; returns its id at once.

        Options: ``destination_identities``, ``attributes``, ``name``, ``mime_type``.
        """
        payload = stream_sending.payload_bytes(data, "send_bytes")
        topic = check_topic(topic, "send_bytes")
        opts = stream_sending.send_options(options, "send_bytes")
        opts = stream_sending.SendOptions(
            opts.destination_identities, opts.attributes, opts.name, opts.mime_type, len(payload)
        )
        return self._send_stream(
            "send a byte stream",
            "bytes",
            topic,
            opts,
            stream_sending.byte_pieces(payload),
            len(payload),
        )

    def send_file(
        self, path: str, topic: str = "", options: Mapping[str, Any] | None = None
    ) -> str:
        """Send the file at ``path`` (an OS path) as a byte stream; returns its id at once.

        The stream is named after the file and typed by its extension unless ``name`` /
        ``mime_type`` are given; the file is read in the background.
        """
        full, size = stream_sending.file_to_send(path, "send_file")
        topic = check_topic(topic, "send_file")
        opts = stream_sending.file_options(
            stream_sending.send_options(options, "send_file"), full, size
        )
        return self._send_stream(
            "send a file", "bytes", topic, opts, stream_sending.file_pieces(full, size), size
        )

    def _send_stream(
        self,
        what: str,
        kind: stream_sending.WriterKind,
        topic: str,
        opts: stream_sending.SendOptions,
        pieces: AsyncGenerator[tuple[str | bytes, int], None],
        total: int,
    ) -> str:
        """Start sending ``pieces`` (``total`` bytes) as a ``kind`` stream in the background;
        returns its id at once (progress and the end arrive as signals)."""
        session, sdk = self._live(what)
        stream_id = stream_sending.new_stream_id()
        session.run_transfer(
            f"stream {stream_id}",
            stream_sending.send_stream(session, sdk, kind, stream_id, topic, opts, pieces, total),
        )
        return stream_id

    def stream_text(
        self, topic: str = "", options: Mapping[str, Any] | None = None
    ) -> LiveKitTextStreamWriter:
        """Open a text stream on ``topic`` the game writes into and closes."""
        topic = check_topic(topic, "stream_text")
        opts = stream_sending.send_options(options, "stream_text")
        session, sdk = self._live("open a text stream")
        return LiveKitTextStreamWriter(session, sdk, topic, opts)

    def stream_bytes(
        self, topic: str = "", options: Mapping[str, Any] | None = None
    ) -> LiveKitByteStreamWriter:
        """Open a byte stream on ``topic`` the game writes into and closes (options as
        ``send_bytes``, plus ``total_size`` when known: receivers see it, and a write past
        it is refused)."""
        topic = check_topic(topic, "stream_bytes")
        opts = stream_sending.send_options(options, "stream_bytes")
        session, sdk = self._live("open a byte stream")
        return LiveKitByteStreamWriter(session, sdk, topic, opts)

    def publish_data_track(self, name: str) -> LiveKitLocalDataTrack:
        """Publish a data track named ``name`` (unique among this participant's); returns
        it at once: ``published`` or ``publish_failed(error)`` follows on it."""
        data_tracks.check_track_name(name)
        session, sdk = self._live("publish a data track")
        track = LiveKitLocalDataTrack(name, session)
        session.run("publish_data_track", data_tracks.publish_local(session, sdk, track))
        return track


def require_str(value: object, where: str, name: str) -> None:
    """TypeError naming the argument unless ``value`` is a str."""
    if not isinstance(value, str):
        raise TypeError(f"{where}: {name} must be a string, got {type(value).__name__}")


def attribute_text(value: object, what: str) -> str:
    """An attribute key or value as text: strings as they are, bools as ``true``/``false``
    and numbers as digits (GDScript's ``str()``); anything else is a TypeError."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise TypeError(f"set_attributes: a {what} must be text, got {type(value).__name__}")


def string_list(values: Iterable[str] | None, name: str) -> list[str]:
    """A list of strings from any iterable of strings (not a single string)."""
    if values is None:
        return []
    if isinstance(values, str | bytes):
        raise TypeError(f"{name} must be a list of strings, not a single string")
    try:
        items = list(values)
    except TypeError:
        raise TypeError(f"{name} must be a list of strings") from None
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{name} must hold strings, got {type(item).__name__}")
    return items
