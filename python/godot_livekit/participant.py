"""Participants: the base getters, the local participant's actions and RPC, remote peers.

A participant object wraps an SDK participant that lives on the runtime thread. Once the
participant leaves or the room disconnects the object is *stale*: every getter returns its
default (``""``, ``0``, ``{}``) and actions are refused with a clear error; nothing crashes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from livekit import rtc

from . import _runtime
from .errors import LiveKitError
from .signals import signal
from .track import LiveKitTrack
from .track_publication import LiveKitLocalTrackPublication

if TYPE_CHECKING:
    from .room import LiveKitRoom

logger = logging.getLogger(__name__)

MAX_DATA_BYTES = 15 * 1024
"""Largest data packet accepted by ``publish_data`` (LiveKit's documented reliable limit)."""
MAX_RPC_PAYLOAD_BYTES = 15 * 1024
"""Largest RPC request or response payload (the SDK's limit)."""
DEFAULT_RPC_TIMEOUT = 10.0
OPERATION_TIMEOUT = 20.0
ORDERED_UPDATE_HOLD = 1.0
"""Longest time one metadata/name/attributes update holds back the next one."""
"""Bound on a background SDK call (set_metadata, unpublish_track...)."""


class LiveKitParticipant:
    """Base class for a user in the room."""

    KIND_STANDARD = 0
    KIND_INGRESS = 1
    KIND_EGRESS = 2
    KIND_SIP = 3
    KIND_AGENT = 4

    def __init__(self) -> None:
        self._sdk: rtc.Participant | None = None
        self._identity = ""
        self._room_ref: weakref.ReferenceType[LiveKitRoom] | None = None

    def _bind(self, sdk: rtc.Participant) -> None:
        self._sdk = sdk
        self._identity = sdk.identity

    def _mark_stale(self) -> None:
        self._sdk = None

    def is_stale(self) -> bool:
        """True once the participant left or the room disconnected."""
        return self._sdk is None

    def get_sid(self) -> str:
        sdk = self._sdk
        return sdk.sid if sdk is not None else ""

    def get_name(self) -> str:
        sdk = self._sdk
        return sdk.name if sdk is not None else ""

    def get_identity(self) -> str:
        sdk = self._sdk
        return sdk.identity if sdk is not None else ""

    def get_metadata(self) -> str:
        sdk = self._sdk
        return sdk.metadata if sdk is not None else ""

    def get_attributes(self) -> dict[str, str]:
        sdk = self._sdk
        return dict(sdk.attributes) if sdk is not None else {}

    def get_kind(self) -> int:
        sdk = self._sdk
        return int(sdk.kind) if sdk is not None else self.KIND_STANDARD

    def get_track_publications(self) -> dict[str, Any]:
        """Track publications keyed by their SID ({} when stale)."""
        sdk = self._sdk
        room = self._room_ref() if self._room_ref is not None else None
        if sdk is None or room is None:
            return {}
        publications = list(sdk.track_publications.items())
        return {sid: room._wrap_publication(pub) for sid, pub in publications}

    def __repr__(self) -> str:
        state = "stale" if self._sdk is None else "live"
        return f"<{type(self).__name__} identity={self._identity!r} {state}>"


class LiveKitRemoteParticipant(LiveKitParticipant):
    """A remote user in the room."""

    def __init__(self, sdk: rtc.RemoteParticipant | None = None) -> None:
        super().__init__()
        if sdk is not None:
            self._bind(sdk)


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

    def __init__(self, room: LiveKitRoom | None = None) -> None:
        super().__init__()
        self._room_ref = weakref.ref(room) if room is not None else None
        self._rpc_methods: set[str] = set()
        self._pending_lock = threading.Lock()
        self._pending_rpc: dict[str, asyncio.Future[str]] = {}
        self._update_lock: asyncio.Lock | None = None  # runtime thread only
        self._operations: set[asyncio.Task[None]] = set()  # runtime thread only
        self._publish_lock = threading.Lock()
        self._local_tracks: dict[int, LiveKitTrack] = {}  # id(SDK track) -> track object
        self._pending_publications: dict[int, LiveKitLocalTrackPublication] = {}

    # -- state helpers -------------------------------------------------------------------

    def _room(self) -> LiveKitRoom | None:
        return self._room_ref() if self._room_ref is not None else None

    def _require_sdk(self, action: str) -> tuple[rtc.LocalParticipant, LiveKitRoom]:
        sdk, room = self._sdk, self._room()
        if sdk is None or room is None or not room._is_connected_for_actions():
            raise LiveKitError(f"cannot {action}: the room is not connected")
        assert isinstance(sdk, rtc.LocalParticipant)
        return sdk, room

    def _run(self, room: LiveKitRoom, what: str, coro: Any, *, ordered: bool = False) -> None:
        """Run an SDK coroutine in the background; a failure is logged, never raised.

        ``ordered`` calls run one after another: the SDK sends name, metadata and attributes
        together, so overlapping updates could undo each other.
        """
        generation = room._generation

        async def runner() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._operations.add(task)
            try:
                if ordered:
                    if self._update_lock is None:
                        self._update_lock = asyncio.Lock()
                    async with self._update_lock:
                        # the server applies an update at once, but the SDK's reply now and
                        # then takes seconds: hold the order only briefly
                        call = asyncio.ensure_future(asyncio.wait_for(coro, OPERATION_TIMEOUT))
                        await asyncio.wait({call}, timeout=ORDERED_UPDATE_HOLD)
                    await call
                else:
                    await asyncio.wait_for(coro, OPERATION_TIMEOUT)
            except asyncio.CancelledError:
                logger.debug("%s cancelled: the room disconnected", what)
            except Exception as error:
                if room._generation == generation:
                    logger.warning("%s failed: %s", what, error or type(error).__name__)
            finally:
                self._operations.discard(task)

        room._track_background(_runtime.submit(runner()))

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
        elif isinstance(data, (bytes, bytearray, memoryview)):
            payload = bytes(data)
        else:
            raise TypeError(f"publish_data: data must be bytes, got {type(data).__name__}")
        if len(payload) > MAX_DATA_BYTES:
            raise ValueError(
                f"publish_data: payload is {len(payload)} bytes; the limit is {MAX_DATA_BYTES} "
                "bytes per packet (split it, or use several messages)"
            )
        if not isinstance(reliable, bool):
            raise TypeError("publish_data: reliable must be a bool")
        destinations = _string_list(destination_identities, "destination_identities")
        if not isinstance(topic, str):
            raise TypeError(f"publish_data: topic must be a string, got {type(topic).__name__}")
        sdk, room = self._require_sdk("publish data")
        self._run(
            room,
            "publish_data",
            sdk.publish_data(
                payload, reliable=reliable, destination_identities=destinations, topic=topic
            ),
        )

    def set_metadata(self, metadata: str) -> None:
        """Set this participant's metadata; peers get ``participant_metadata_changed``."""
        _require_str(metadata, "set_metadata", "metadata")
        sdk, room = self._require_sdk("set metadata")
        self._run(room, "set_metadata", sdk.set_metadata(metadata), ordered=True)

    def set_name(self, name: str) -> None:
        """Set this participant's display name; peers get ``participant_name_changed``."""
        _require_str(name, "set_name", "name")
        sdk, room = self._require_sdk("set the name")
        self._run(room, "set_name", sdk.set_name(name), ordered=True)

    def set_attributes(self, attributes: Mapping[str, str]) -> None:
        """Merge ``attributes`` (string keys and values) into this participant's attributes;
        a key set to ``""`` is removed."""
        if not isinstance(attributes, Mapping):
            raise TypeError("set_attributes: attributes must be a dictionary of strings")
        clean: dict[str, str] = {}
        for key, value in attributes.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(
                    f"set_attributes: keys and values must be strings, got {key!r}: {value!r}"
                )
            clean[key] = value
        sdk, room = self._require_sdk("set attributes")
        self._run(room, "set_attributes", sdk.set_attributes(clean), ordered=True)

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
        from .track import LiveKitLocalAudioTrack, LiveKitLocalVideoTrack

        if not isinstance(track, (LiveKitLocalAudioTrack, LiveKitLocalVideoTrack)):
            raise TypeError("publish_track: track must be a LiveKitLocalAudioTrack/VideoTrack")
        sdk_track = track._sdk
        if sdk_track is None:
            raise LiveKitError("publish_track: the track was closed")
        is_video = isinstance(track, LiveKitLocalVideoTrack)
        media_source = getattr(track, "_media_source", None)
        pixels = (
            media_source.get_width() * media_source.get_height()
            if is_video and media_source is not None
            else 1280 * 720
        )
        publish_options, source = _publish_options(options, is_video, pixels)
        sdk, room = self._require_sdk("publish a track")
        publication = LiveKitLocalTrackPublication()
        publication._local_track = track
        track._source = source
        with self._publish_lock:
            self._local_tracks[id(sdk_track)] = track
            self._pending_publications[id(sdk_track)] = publication
        generation = room._generation

        async def publish() -> None:
            try:
                sdk_publication = await sdk.publish_track(sdk_track, publish_options)
            except Exception as error:
                publication._failed = f"publish failed: {error}"
                logger.warning("publish_track failed: %s", error)
                if room._generation == generation:
                    room._events.put(generation, "_publish_failed", publication)
                return
            publication._track_wrapper = room._wrap_track
            room._remember(sdk_publication, publication)
            publication._sdk = sdk_publication

        room._track_background(_runtime.submit(publish()))
        return publication

    def unpublish_track(self, track_sid: str) -> None:
        """Stop publishing the track with this SID; ``local_track_unpublished`` follows."""
        _require_str(track_sid, "unpublish_track", "track_sid")
        sdk, room = self._require_sdk("unpublish a track")
        if track_sid not in sdk.track_publications:
            raise ValueError(f"unpublish_track: no published track with sid {track_sid!r}")
        self._run(room, "unpublish_track", sdk.unpublish_track(track_sid))

    def _pending_publication_for(
        self, sdk_publication: rtc.TrackPublication
    ) -> LiveKitLocalTrackPublication | None:
        track = sdk_publication.track
        if track is None:
            return None
        with self._publish_lock:
            return self._pending_publications.get(id(track))

    def _local_track_for(self, sdk_track: rtc.Track) -> LiveKitTrack | None:
        with self._publish_lock:
            return self._local_tracks.get(id(sdk_track))

    def _forget_publications(self) -> None:
        with self._publish_lock:
            for publication in self._pending_publications.values():
                publication._mark_stale()
            self._pending_publications.clear()
            self._local_tracks.clear()

    # -- RPC: calling ------------------------------------------------------------------------

    def perform_rpc(
        self, destination: str, method: str, payload: str, timeout: float = DEFAULT_RPC_TIMEOUT
    ) -> None:
        """Call ``method`` on participant ``destination``; the answer arrives as
        ``rpc_response_received(method, result)`` or ``rpc_error(method, error_message)``."""
        _require_str(destination, "perform_rpc", "destination")
        _require_str(method, "perform_rpc", "method")
        _require_str(payload, "perform_rpc", "payload")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError("perform_rpc: timeout must be a number of seconds")
        room = self._room()
        if room is None:
            raise LiveKitError("cannot perform an RPC: this participant has no room")
        generation = room._generation
        if len(payload.encode("utf-8")) > MAX_RPC_PAYLOAD_BYTES:
            room._events.put(
                generation,
                "rpc_error",
                method,
                f"request payload too large: the limit is {MAX_RPC_PAYLOAD_BYTES} bytes",
            )
            return
        if not timeout > 0 or timeout != timeout or timeout == float("inf"):
            room._events.put(generation, "rpc_error", method, "timeout must be above 0 seconds")
            return
        sdk = self._sdk
        if sdk is None or not room._is_connected_for_actions():
            room._events.put(generation, "rpc_error", method, "not connected to a room")
            return
        assert isinstance(sdk, rtc.LocalParticipant)

        async def call() -> None:
            try:
                result = await sdk.perform_rpc(
                    destination_identity=destination,
                    method=method,
                    payload=payload,
                    response_timeout=float(timeout),
                    max_round_trip_latency=_round_trip_allowance(float(timeout)),
                )
            except rtc.RpcError as error:
                room._events.put(generation, "rpc_error", method, _describe_rpc_error(error))
            except Exception as error:
                room._events.put(generation, "rpc_error", method, f"RPC failed: {error}")
            else:
                room._events.put(generation, "rpc_response_received", method, result)

        room._track_background(_runtime.submit(call()))

    # -- RPC: answering ----------------------------------------------------------------------

    def register_rpc_method(self, method: str) -> None:
        """Accept calls to ``method``; each call fires ``rpc_method_invoked``. Registration
        made before connecting takes effect on connect and survives reconnects."""
        _require_str(method, "register_rpc_method", "method")
        if not method:
            raise ValueError("register_rpc_method: method name must not be empty")
        self._rpc_methods.add(method)
        sdk = self._sdk
        if isinstance(sdk, rtc.LocalParticipant):
            _runtime.call_soon(self._register_on_sdk, sdk, method)

    def unregister_rpc_method(self, method: str) -> None:
        """Stop accepting calls to ``method`` (callers then get 'method not supported')."""
        _require_str(method, "unregister_rpc_method", "method")
        self._rpc_methods.discard(method)
        sdk = self._sdk
        if isinstance(sdk, rtc.LocalParticipant):
            _runtime.call_soon(sdk.unregister_rpc_method, method)

    def get_registered_rpc_methods(self) -> list[str]:
        return sorted(self._rpc_methods)

    def respond_to_rpc(self, request_id: str, payload: str) -> bool:
        """Answer invocation ``request_id`` with ``payload``. False when it is unknown,
        already answered or timed out."""
        _require_str(request_id, "respond_to_rpc", "request_id")
        _require_str(payload, "respond_to_rpc", "payload")
        size = len(payload.encode("utf-8"))
        if size > MAX_RPC_PAYLOAD_BYTES:
            raise ValueError(
                f"respond_to_rpc: payload is {size} bytes; the limit is {MAX_RPC_PAYLOAD_BYTES}"
            )
        return self._settle(request_id, payload, None)

    def respond_to_rpc_error(self, request_id: str, code: int, message: str) -> bool:
        """Answer invocation ``request_id`` with an error the caller sees as
        ``rpc_error``. Use codes below 1000 for your own errors (1xxx are LiveKit's)."""
        _require_str(request_id, "respond_to_rpc_error", "request_id")
        _require_str(message, "respond_to_rpc_error", "message")
        if isinstance(code, bool) or not isinstance(code, int):
            raise TypeError("respond_to_rpc_error: code must be an int")
        code = max(0, min(int(code), 0xFFFF))
        return self._settle(request_id, None, rtc.RpcError(code, message[:256]))

    def _settle(self, request_id: str, payload: str | None, error: rtc.RpcError | None) -> bool:
        with self._pending_lock:
            future = self._pending_rpc.pop(request_id, None)
        if future is None:
            logger.warning("no pending RPC invocation with request id %r", request_id)
            return False

        def settle() -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(payload or "")

        _runtime.call_soon(settle)
        return True

    def _register_on_sdk(self, sdk: rtc.LocalParticipant, method: str) -> None:
        """Runtime thread: install the handler that hands invocations to the main thread."""
        room = self._room()
        if room is None or method not in self._rpc_methods:
            return
        generation = room._generation

        async def handler(data: rtc.RpcInvocationData) -> str:
            future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            with self._pending_lock:
                self._pending_rpc[data.request_id] = future
            room._events.put(
                generation,
                "rpc_method_invoked",
                method,
                data.request_id,
                data.caller_identity,
                data.payload,
                float(data.response_timeout),
            )
            try:
                return await future
            finally:
                with self._pending_lock:
                    self._pending_rpc.pop(data.request_id, None)

        try:
            sdk.unregister_rpc_method(method)
            sdk.register_rpc_method(method, handler)
        except Exception:
            logger.exception("could not register RPC method %r", method)

    def _cancel_operations(self) -> None:
        """Runtime thread: end SDK calls still waiting once their session is gone (some
        SDK calls wait for a reply that never comes after a disconnect)."""
        for task in list(self._operations):
            task.cancel()

    def _drop_pending_rpcs(self) -> None:
        with self._pending_lock:
            self._pending_rpc.clear()


def _round_trip_allowance(timeout: float) -> float:
    """Seconds of the caller's timeout kept for the network round trip.

    The SDK gives the handler ``timeout - allowance`` (at least 1 s); its default allowance
    of 7 s suits cloud relays but would leave a game's handler 1 s of a 5 s call. We keep
    30 % of the timeout, between 1 and 7 s.
    """
    return min(7.0, max(1.0, 0.3 * timeout))


def _require_str(value: object, where: str, name: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{where}: {name} must be a string, got {type(value).__name__}")


def _string_list(values: Iterable[str] | None, name: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a list of strings, not a single string")
    try:
        items = list(values)
    except TypeError:
        raise TypeError(f"{name} must be a list of strings") from None
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{name} must hold strings, got {type(item).__name__}")
    return items


_RPC_ERROR_WORDS = {
    rtc.RpcError.ErrorCode.UNSUPPORTED_METHOD: "method not supported at the destination",
    rtc.RpcError.ErrorCode.RECIPIENT_NOT_FOUND: "destination participant not found",
    rtc.RpcError.ErrorCode.RESPONSE_TIMEOUT: "timed out waiting for the response",
    rtc.RpcError.ErrorCode.CONNECTION_TIMEOUT: "timed out reaching the destination",
    rtc.RpcError.ErrorCode.RECIPIENT_DISCONNECTED: "destination disconnected",
    rtc.RpcError.ErrorCode.APPLICATION_ERROR: "the handler failed",
    rtc.RpcError.ErrorCode.REQUEST_PAYLOAD_TOO_LARGE: "request payload too large",
    rtc.RpcError.ErrorCode.RESPONSE_PAYLOAD_TOO_LARGE: "response payload too large",
}


def _describe_rpc_error(error: rtc.RpcError) -> str:
    """``"<plain words>: <remote message> (code N)"`` for an RPC failure."""
    words = _RPC_ERROR_WORDS.get(error.code)  # type: ignore[call-overload]
    message = error.message or ""
    builtin = rtc.RpcError.ErrorMessage.get(error.code)  # type: ignore[call-overload]
    if words and message and message != builtin:
        text = f"{words}: {message}"
    else:
        text = words or message or "RPC failed"
    return f"{text} (code {error.code})"


_CODECS = {
    "vp8": rtc.VideoCodec.VP8,
    "h264": rtc.VideoCodec.H264,
    "vp9": rtc.VideoCodec.VP9,
    "av1": rtc.VideoCodec.AV1,
    "h265": rtc.VideoCodec.H265,
}
_PUBLISH_KEYS = ("source", "simulcast", "dtx", "red", "video_codec", "max_bitrate", "max_framerate")


DEFAULT_MAX_FRAMERATE = 30.0
BITS_PER_PIXEL = 0.07  # a usual VP8/H.264 budget: 1280x720 at 30 fps is about 1.9 Mbit/s


def _publish_options(
    options: Mapping[str, Any] | None, is_video: bool, pixels: int = 1280 * 720
) -> tuple[rtc.TrackPublishOptions, int]:
    """Check the ``publish_track`` options dictionary; returns SDK options and the source."""
    options = dict(options or {})
    framerate_hint = options.get("max_framerate", DEFAULT_MAX_FRAMERATE)
    if isinstance(framerate_hint, bool) or not isinstance(framerate_hint, (int, float)):
        framerate_hint = DEFAULT_MAX_FRAMERATE
    default_bitrate = int(pixels * max(1.0, float(framerate_hint)) * BITS_PER_PIXEL)
    for key in options:
        if key not in _PUBLISH_KEYS:
            logger.warning("publish_track: unknown option %r ignored", key)
    default_source = LiveKitTrack.SOURCE_CAMERA if is_video else LiveKitTrack.SOURCE_MICROPHONE
    source = options.get("source", default_source)
    if isinstance(source, bool) or source not in range(5):
        raise ValueError(f"publish_track: source must be a SOURCE_* value, got {source!r}")
    result = rtc.TrackPublishOptions(source=int(source))
    for key, default in (("simulcast", is_video), ("dtx", True), ("red", True)):
        value = options.get(key, default)
        if not isinstance(value, bool):
            raise ValueError(f"publish_track: option {key!r} must be true or false")
        setattr(result, key, value)
    if "video_codec" in options:
        codec = options["video_codec"]
        if isinstance(codec, str) and codec.lower() in _CODECS:
            result.video_codec = _CODECS[codec.lower()]
        else:
            raise ValueError(f"publish_track: video_codec must be one of {sorted(_CODECS)}")
    if "max_bitrate" in options or "max_framerate" in options:
        # the SDK needs both: one left out gets a usual value (a 0 framerate sends nothing)
        bitrate = options.get("max_bitrate", default_bitrate)
        framerate = options.get("max_framerate", DEFAULT_MAX_FRAMERATE)
        if isinstance(bitrate, bool) or not isinstance(bitrate, int) or bitrate < 0:
            raise ValueError("publish_track: max_bitrate must be bits per second (int >= 0)")
        if (
            isinstance(framerate, bool)
            or not isinstance(framerate, (int, float))
            or not 0 <= framerate <= 240
        ):
            raise ValueError("publish_track: max_framerate must be between 0 and 240")
        if is_video:
            result.video_encoding.max_bitrate = bitrate
            result.video_encoding.max_framerate = float(framerate)
        elif bitrate:
            result.audio_encoding.max_bitrate = bitrate
    return result, int(source)
