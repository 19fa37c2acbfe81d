"""LiveKitVideoStream: the newest frame of a remote video track, as RGBA pixels or I420 planes.

The SDK decodes (and, in RGBA mode, converts to RGBA) in native code on its own threads; the
runtime thread keeps only the newest frame (older ones are dropped, never queued). ``poll()``
on the main thread just takes over that buffer: no pixel work there.

Two modes:
- ``MODE_RGBA`` (the default): ``get_texture()`` is a (h, w, 4) RGBA view.
- ``MODE_I420``: the decoder's own format, no conversion at all; ``get_planes()`` is the Y
  (h, w), U and V (ceil(h/2), ceil(w/2)) planes as views. 1.5 bytes per pixel instead of 4:
  what a GPU shader converts (the Godot layer's video tiles).
``set_mode()`` works on a live stream: a new SDK stream in the other format replaces the old
one on the runtime thread; frames of the old one are never handed out after the switch.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from livekit import rtc

from . import _runtime, links, poller
from ._sdk_stream import CLOSE_TIMEOUT, SdkStreamOwner, followed_source, live_sdk_track
from .media_convert import I420, RGBA, i420_planes
from .participant import LiveKitParticipant
from .signals import notify_activity, signal
from .track import LiveKitTrack

logger = logging.getLogger(__name__)

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]
OpenStream = Callable[[Any], rtc.VideoStream]


class LiveKitVideoStream(SdkStreamOwner):
    """Receives frames from a remote video track (or a participant's source)."""

    MODE_RGBA = 0
    MODE_I420 = 1

    frame_received = signal()

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._incoming: rtc.VideoFrame | None = None
        self._frame: np.ndarray | None = None
        self._planes: Planes | None = None
        self._frame_sdk: rtc.VideoFrame | None = None
        self._size = (0, 0)
        self._mode = LiveKitVideoStream.MODE_RGBA
        self._open: OpenStream | None = None
        self._generation = 0  # which reader may deliver: bumped by each (re)start and close
        self._received = 0
        self._dropped = 0
        self._auto_poll = True
        poller.register(self)

    @staticmethod
    def from_track(track: LiveKitTrack | None) -> LiveKitVideoStream | None:
        """A stream of ``track``'s frames (a subscribed remote video track); None, with an
        error logged, for no track or one that is not a live video track (as the original)."""
        sdk = live_sdk_track(track, LiveKitTrack.KIND_VIDEO, "LiveKitVideoStream.from_track")
        if sdk is None:
            return None
        assert track is not None
        stream = LiveKitVideoStream()
        stream._origin = track
        stream._start(
            lambda buffer_type: rtc.VideoStream.from_track(
                track=sdk, format=buffer_type, capacity=1
            )
        )
        return stream

    @staticmethod
    def from_participant(participant: LiveKitParticipant, source: int) -> LiveKitVideoStream:
        """A stream of ``participant``'s video from ``source`` (e.g. SOURCE_CAMERA); it
        starts delivering once that track is published and subscribed."""
        if not isinstance(participant, LiveKitParticipant):
            raise TypeError("from_participant: participant must be a LiveKitParticipant")
        followed = followed_source(
            source,
            "video",
            (LiveKitTrack.SOURCE_CAMERA, LiveKitTrack.SOURCE_SCREENSHARE),
            "LiveKitVideoStream.from_participant",
        )
        stream = LiveKitVideoStream()
        stream._origin = participant
        sdk = links.sdk_of(participant)
        if sdk is None or followed is None:
            stream._ended = True
            return stream
        stream._start(
            lambda buffer_type: rtc.VideoStream.from_participant(
                participant=sdk,
                track_source=rtc.TrackSource.ValueType(source),
                format=buffer_type,
                capacity=1,
            )
        )
        return stream

    # -- the reader (runtime thread) ---------------------------------------------------------

    def _start(self, open_stream: OpenStream) -> None:
        self._open = open_stream
        self._launch()

    def _launch(self) -> None:
        """Start a reader for the current mode; it replaces (and closes) the one before."""
        with self._lock:
            self._generation += 1
            generation = self._generation
            buffer_type = _buffer_type(self._mode)
        _runtime.submit(self._read(generation, buffer_type))

    def _current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation and not (self._closed or self._ended)

    async def _read(self, generation: int, buffer_type: Any) -> None:
        if not self._current(generation) or self._open is None:
            return  # replaced or closed before it ran: nothing opened
        previous_stream, previous_task = self._sdk_stream, self._task
        sdk_stream: rtc.VideoStream | None = None
        try:
            sdk_stream = self._open(buffer_type)
            self._sdk_stream, self._task = sdk_stream, asyncio.current_task()
            await _close_reader(previous_stream, previous_task)
            if not self._current(generation):  # closed while it opened
                return
            async for event in sdk_stream:
                if not self._offer(event.frame, generation):
                    break
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("video stream ended with an error")
        finally:
            if self._current(generation):
                self._ended = True  # the SDK stream ended by itself
                notify_activity()
            elif sdk_stream is not None and self._sdk_stream is sdk_stream:
                self._sdk_stream = self._task = None
                await _close_reader(sdk_stream, None)

    def _offer(self, frame: rtc.VideoFrame, generation: int | None = None) -> bool:
        """Keep ``frame`` as the newest (any thread); False when ``generation`` is no longer
        the reader that may deliver."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return False
            if self._incoming is not None:
                self._dropped += 1
            self._incoming = frame
        notify_activity()
        return True

    # -- main thread -------------------------------------------------------------------------

    def set_mode(self, mode: int) -> None:
        """MODE_RGBA (default) or MODE_I420; on a live stream the next frame comes in the
        new format (the current frame and planes are let go at once)."""
        if isinstance(mode, bool) or mode not in (self.MODE_RGBA, self.MODE_I420):
            raise ValueError(f"set_mode: mode must be MODE_RGBA (0) or MODE_I420 (1), got {mode!r}")
        if mode == self._mode:
            return
        self._mode = mode
        with self._lock:
            self._incoming = None
        self._frame = self._planes = self._frame_sdk = None
        if self._open is not None and not (self._closed or self._ended):
            self._launch()

    def get_mode(self) -> int:
        return self._mode

    def poll(self) -> bool:
        """Take over the newest frame if one arrived; emits ``frame_received``."""
        self._check_origin()
        with self._lock:
            frame, self._incoming = self._incoming, None
        if frame is None or self._closed or self._ended:
            return False
        if frame.type != _buffer_type(self._mode):  # raced a mode switch
            self._dropped += 1
            return False
        self._frame_sdk = frame  # keeps the buffer alive under the numpy views
        if self._mode == self.MODE_I420:
            self._planes = i420_planes(frame)
        else:
            self._frame = np.frombuffer(frame.data, dtype=np.uint8).reshape(
                frame.height, frame.width, 4
            )
        self._size = (frame.width, frame.height)
        self._received += 1
        self.frame_received.emit()
        return True

    def get_texture(self) -> np.ndarray | None:
        """The latest frame as a (height, width, 4) RGBA uint8 array (the Godot layer
        turns it into an ImageTexture); None before the first frame and in MODE_I420."""
        return self._frame

    def get_frame(self) -> np.ndarray | None:
        return self._frame

    def get_planes(self) -> Planes | None:
        """MODE_I420: the latest frame's Y (h, w), U and V (ceil(h/2), ceil(w/2)) uint8
        planes (views of the SDK's buffer, valid until the next poll that returns true);
        None before the first I420 frame and in MODE_RGBA."""
        return self._planes

    def get_frame_size(self) -> tuple[int, int]:
        """(width, height) of the latest frame, (0, 0) before the first."""
        return self._size

    def get_frames_received(self) -> int:
        return self._received

    def get_frames_dropped(self) -> int:
        """Frames replaced by a newer one before any poll() took them."""
        return self._dropped

    def close(self) -> None:
        """Stop receiving; poll() returns False from now on."""
        if self._closed:
            return
        with self._lock:
            self._closed = True
            self._generation += 1
            self._incoming = None
        poller.unregister(self)
        self._stop_sdk_stream()
        self._frame = self._planes = self._frame_sdk = None

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


def receive_video_frame(stream: LiveKitVideoStream, frame: rtc.VideoFrame) -> None:
    """Hand ``stream`` a decoded frame as its SDK reader does (any thread); its next
    ``poll()`` takes it (for tests and tools: see godot_livekit.testing)."""
    stream._offer(frame)


def _buffer_type(mode: int) -> Any:
    return I420 if mode == LiveKitVideoStream.MODE_I420 else RGBA


async def _close_reader(stream: rtc.VideoStream | None, task: asyncio.Task[None] | None) -> None:
    """Close a replaced SDK stream and cancel its reader (bounded)."""
    if stream is not None:
        try:
            await asyncio.wait_for(stream.aclose(), timeout=CLOSE_TIMEOUT)
        except Exception:
            logger.debug("SDK stream close", exc_info=True)
    if task is not None and not task.done() and task is not asyncio.current_task():
        task.cancel()
