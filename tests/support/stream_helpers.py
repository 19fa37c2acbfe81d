"""Data stream test helpers: a misbehaving remote sender and signal collectors.

:class:`RawStreamSender` plays a remote client that does not follow the rules: it sends
data stream packets one by one (header, chunks, trailer) through the SDK's low-level FFI
requests, so a test can send invalid UTF-8 in a text stream, more than the header's
declared length, or a header and never the rest. It uses the SDK's FFI client (private to
the SDK): this is the hostile peer, not our code.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from livekit.rtc._ffi_client import FfiClient
from livekit.rtc._proto import ffi_pb2, room_pb2
from peers import Peer

from godot_livekit import testing

STEP_TIMEOUT = 10.0


class RawStreamSender:
    """Sends data stream packets by hand as ``peer``'s SDK participant."""

    def __init__(self, peer: Peer) -> None:
        self.identity = peer.identity
        self.sdk = testing.sdk_of(peer.local)
        assert self.sdk is not None, f"{peer.identity} is not connected"

    def header(
        self,
        stream_id: str,
        topic: str,
        *,
        text: bool = True,
        total_length: int | None = None,
        name: str = "raw",
        mime_type: str | None = None,
        destinations: tuple[str, ...] = (),
    ) -> None:
        header = room_pb2.DataStream.Header(
            stream_id=stream_id,
            timestamp=int(time.time() * 1000),
            topic=topic,
            mime_type=mime_type or ("text/plain" if text else "application/octet-stream"),
        )
        if total_length is not None:
            header.total_length = total_length
        if text:
            header.text_header.CopyFrom(
                room_pb2.DataStream.TextHeader(
                    operation_type=0, version=0, reply_to_stream_id="", generated=False
                )
            )
        else:
            header.byte_header.CopyFrom(room_pb2.DataStream.ByteHeader(name=name))
        request = room_pb2.SendStreamHeaderRequest(
            local_participant_handle=self.sdk._ffi_handle.handle,
            header=header,
            sender_identity=self.identity,
            destination_identities=list(destinations),
        )
        self._send("send_stream_header", request)

    def chunk(self, stream_id: str, index: int, content: bytes) -> None:
        chunk = room_pb2.DataStream.Chunk(
            stream_id=stream_id, chunk_index=index, content=content, version=0
        )
        request = room_pb2.SendStreamChunkRequest(
            local_participant_handle=self.sdk._ffi_handle.handle,
            chunk=chunk,
            sender_identity=self.identity,
        )
        self._send("send_stream_chunk", request)

    def trailer(self, stream_id: str, reason: str = "") -> None:
        trailer = room_pb2.DataStream.Trailer(stream_id=stream_id, reason=reason)
        request = room_pb2.SendStreamTrailerRequest(
            local_participant_handle=self.sdk._ffi_handle.handle,
            trailer=trailer,
            sender_identity=self.identity,
        )
        self._send("send_stream_trailer", request)

    def _send(self, field: str, message: Any) -> None:
        async def send() -> None:
            request = ffi_pb2.FfiRequest()
            getattr(request, field).CopyFrom(message)
            queue = FfiClient.instance.queue.subscribe()
            try:
                response = FfiClient.instance.request(request)
                async_id = getattr(response, field).async_id
                callback = await queue.wait_for(
                    lambda event: getattr(event, field).async_id == async_id
                )
            finally:
                FfiClient.instance.queue.unsubscribe(queue)
            error = getattr(callback, field).error
            assert not error, f"{field} failed: {error}"

        testing.run_on_runtime(asyncio.wait_for(send(), STEP_TIMEOUT), STEP_TIMEOUT + 1)
