"""LiveKitVideoStream: the newest frame of a remote video track, as RGBA pixels.

The SDK decodes and converts to RGBA in native code on its own threads; the runtime
thread keeps only the newest frame (older ones are dropped, never queued). ``poll()`` on
the main thread just takes over that buffer: no pixel work there.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import numpy as np
from livekit import rtc

from . import _runtime, links, poller
from ._sdk_stream import SdkStreamOwner
from .participant import LiveKitParticipant
from .signals import notify_activity, signal
from .track import LiveKitTrack

logger = logging.getLogger(__name__)


class LiveKitVideoStream(SdkStreamOwner):
    """Receives frames from a remote video track (or a participant's source)."""

    frame_received = signal()

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._incoming: rtc.VideoFrame | None = None
        self._frame: np.ndarray | None = None
        self._frame_sdk: rtc.VideoFrame | None = None
        self._received = 0
        self._dropped = 0
        self._auto_poll = True
        poller.register(self)

    @staticmethod
    def from_track(track: LiveKitTrack) -> LiveKitVideoStream:
        """A stream of ``track``'s frames (a subscribed remote video track)."""
        if not isinstance(track, LiveKitTrack):
            raise TypeError("from_track: track must be a LiveKitTrack")
        stream = LiveKitVideoStream()
        stream._origin = track
        sdk = links.sdk_of(track)
        if sdk is None or track.get_kind() != LiveKitTrack.KIND_VIDEO:
            logger.warning("from_track: not a live video track; the stream stays empty")
            stream._ended = True
            return stream
        stream._start(
            lambda: rtc.VideoStream.from_track(
                track=sdk, format=rtc.VideoBufferType.RGBA, capacity=1
            )
        )
        return stream

    @staticmethod
    def from_participant(participant: LiveKitParticipant, source: int) -> LiveKitVideoStream:
        """A stream of ``participant``'s video from ``source`` (e.g. SOURCE_CAMERA); it
        starts delivering once that track is published and subscribed."""
        if not isinstance(participant, LiveKitParticipant):
            raise TypeError("from_participant: participant must be a LiveKitParticipant")
        if source not in (LiveKitTrack.SOURCE_CAMERA, LiveKitTrack.SOURCE_SCREENSHARE):
            raise ValueError("from_participant: source must be SOURCE_CAMERA or SOURCE_SCREENSHARE")
        stream = LiveKitVideoStream()
        stream._origin = participant
        sdk = links.sdk_of(participant)
        if sdk is None:
            stream._ended = True
            return stream
        stream._start(
            lambda: rtc.VideoStream.from_participant(
                participant=sdk,
                track_source=rtc.TrackSource.ValueType(source),
                format=rtc.VideoBufferType.RGBA,
                capacity=1,
            )
        )
        return stream

    def _start(self, make: Any) -> None:
        async def run() -> None:
            self._task = asyncio.current_task()
            try:
                sdk_stream = make()
                self._sdk_stream = sdk_stream
                async for event in sdk_stream:
                    with self._lock:
                        if self._incoming is not None:
                            self._dropped += 1
                        self._incoming = event.frame
                    notify_activity()
            except asyncio.CancelledError:
                pass
            except Exception:
                logger.exception("video stream ended with an error")
            finally:
                self._ended = True
                notify_activity()

        _runtime.submit(run())

    # -- main thread -------------------------------------------------------------------------

    def poll(self) -> bool:
        """Take over the newest frame if one arrived; emits ``frame_received``."""
        self._check_origin()
        with self._lock:
            frame, self._incoming = self._incoming, None
        if frame is None or self._closed or self._ended:
            return False
        self._frame_sdk = frame  # keeps the buffer alive under the numpy view
        self._frame = np.frombuffer(frame.data, dtype=np.uint8).reshape(
            frame.height, frame.width, 4
        )
        self._received += 1
        self.frame_received.emit()
        return True

    def get_texture(self) -> np.ndarray | None:
        """The latest frame as a (height, width, 4) RGBA uint8 array (the Godot layer
        turns it into an ImageTexture), or None before the first frame."""
        return self._frame

    def get_frame(self) -> np.ndarray | None:
        return self._frame

    def get_frame_size(self) -> tuple[int, int]:
        frame = self._frame
        return (frame.shape[1], frame.shape[0]) if frame is not None else (0, 0)

    def get_frames_received(self) -> int:
        return self._received

    def get_frames_dropped(self) -> int:
        """Frames replaced by a newer one before any poll() took them."""
        return self._dropped

    def close(self) -> None:
        """Stop receiving; poll() returns False from now on."""
        if self._closed:
            return
        self._closed = True
        poller.unregister(self)
        self._stop_sdk_stream()
        self._frame = self._frame_sdk = None

    @property
    def auto_poll(self) -> bool:
        """When true the frame poller calls ``poll()`` every frame."""
        return self._auto_poll

    @auto_poll.setter
    def auto_poll(self, enabled: bool) -> None:
        self._auto_poll = bool(enabled)

    def set_auto_poll(self, enabled: bool) -> None:
        self._auto_poll = bool(enabled)

    def get_auto_poll(self) -> bool:
        return self._auto_poll

    def _auto_pump(self) -> None:
        self.poll()
