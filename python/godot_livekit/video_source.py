"""LiveKitVideoSource: frames from Godot (RGBA8 / RGB8 pixels) into a LiveKit track.

The main thread only copies the pixels once into a spare buffer; a worker thread hands
them to the SDK, whose native code converts RGBA to I420 and encodes. When frames come
faster than they are sent, the older pending frame is replaced (never queued).
"""

from __future__ import annotations

import logging
import threading
import weakref

import numpy as np
from livekit import rtc

from . import links
from .e2ee import SendGate
from .media_convert import rgba_from_image_bytes, video_frame_from_rgba

logger = logging.getLogger(__name__)

_ROTATIONS = {
    0: rtc.VideoRotation.VIDEO_ROTATION_0,
    90: rtc.VideoRotation.VIDEO_ROTATION_90,
    180: rtc.VideoRotation.VIDEO_ROTATION_180,
    270: rtc.VideoRotation.VIDEO_ROTATION_270,
}
MAX_SIDE = 8192


class LiveKitVideoSource:
    """Source for a local video track.

    ``width`` x ``height`` is the size the track announces; frames of another size are sent
    as they are (as the original addon does: the encoder follows the frame size). Pixels
    are RGBA8 or RGB8, rows tightly packed.
    """

    def __init__(self, width: int = 1280, height: int = 720) -> None:
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int")
            if not 1 <= value <= MAX_SIDE:
                raise ValueError(f"{name} must be between 1 and {MAX_SIDE}, got {value}")
        self._width = width
        self._height = height
        self._sdk = rtc.VideoSource(width, height)
        links.attach(self, links.Link(self._sdk))
        self._buffers = [np.empty((height, width, 4), np.uint8) for _ in range(3)]
        self._slot = threading.Condition()
        self._pending: tuple[np.ndarray, int, int] | None = None
        self._in_flight: np.ndarray | None = None
        self._closed = False
        self._frames_sent = 0
        self._frames_replaced = 0
        self._gate = SendGate()  # closed while a track it feeds is being published encrypted
        self._worker = threading.Thread(
            target=_send_loop,
            args=(weakref.ref(self),),
            name="godot-livekit-video-send",
            daemon=True,
        )
        self._worker.start()

    @staticmethod
    def create(width: int, height: int) -> LiveKitVideoSource:
        """Make a source for frames of ``width`` x ``height`` pixels."""
        return LiveKitVideoSource(width, height)

    def get_width(self) -> int:
        return self._width

    def get_height(self) -> int:
        return self._height

    def capture_frame(self, image: object, timestamp_us: int = 0, rotation: int = 0) -> None:
        """Queue one frame: a (height, width, 4|3) uint8 array of RGBA/RGB pixels, of any
        size up to 8192 on a side.

        ``timestamp_us`` 0 (or less) lets the SDK stamp the frame; ``rotation`` is
        0/90/180/270, anything else counts as 0 (as in the original), with a warning.
        """
        pixels = _as_pixels(image)
        height, width = pixels.shape[:2]
        if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
            raise ValueError(f"capture_frame: a {width}x{height} frame is larger than {MAX_SIDE}")
        if isinstance(rotation, bool) or not isinstance(rotation, int):
            raise TypeError(f"capture_frame: rotation must be an int, got {rotation!r}")
        if rotation not in _ROTATIONS:
            logger.warning("capture_frame: rotation %d is not 0/90/180/270: sent as 0", rotation)
            rotation = 0
        if isinstance(timestamp_us, bool) or not isinstance(timestamp_us, int):
            raise TypeError("capture_frame: timestamp_us must be an int (microseconds)")
        timestamp_us = max(0, timestamp_us)
        with self._slot:
            if self._closed:
                return
            target = self._spare_buffer(height, width)
            if pixels.shape[2] == 4:
                np.copyto(target, pixels)
            else:
                target[..., :3] = pixels
                target[..., 3] = 255
            if self._pending is not None:
                self._frames_replaced += 1
            self._pending = (target, timestamp_us, rotation)
            self._slot.notify()

    def capture_bytes(
        self,
        data: object,
        width: int,
        height: int,
        fmt: str = "RGBA8",
        timestamp_us: int = 0,
        rotation: int = 0,
    ) -> None:
        """Like :meth:`capture_frame`, from raw bytes of an RGBA8 or RGB8 image."""
        self.capture_frame(rgba_from_image_bytes(data, width, height, fmt), timestamp_us, rotation)

    def _spare_buffer(self, height: int, width: int) -> np.ndarray:
        """A buffer neither pending nor being sent, of this frame's size (a buffer of
        another size is replaced: frames of a new size cost one allocation each)."""
        busy = {id(self._in_flight)}
        if self._pending is not None:
            busy.add(id(self._pending[0]))
        free = [index for index, b in enumerate(self._buffers) if id(b) not in busy]
        for index in free:
            if self._buffers[index].shape[:2] == (height, width):
                return self._buffers[index]
        # three buffers, at most two busy
        self._buffers[free[0]] = np.empty((height, width, 4), np.uint8)
        return self._buffers[free[0]]

    def get_frames_sent(self) -> int:
        return self._frames_sent

    def close(self) -> None:
        """Stop the send worker and give the frame buffers back (idempotent; a game may keep
        the closed object forever under py4godot). Frames captured afterwards are ignored."""
        with self._slot:
            self._closed = True
            self._pending = None
            self._buffers = []
            self._slot.notify()

    def _hold_until_encrypted(self) -> None:
        """A track of this source is being published encrypted: hold its frames back until
        :meth:`_release_hold` (see ``e2ee.SendGate``)."""
        self._gate.hold()

    def _release_hold(self) -> None:
        self._gate.release()

    def __repr__(self) -> str:
        return f"<LiveKitVideoSource {self._width}x{self._height}>"


def _as_pixels(image: object) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(
            "capture_frame: image must be a (height, width, 4) uint8 array "
            "(the Godot layer converts Image for you)"
        )
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(
            f"capture_frame: expected a (height, width, 4|3) uint8 array, got {image.dtype} "
            f"{image.shape}"
        )
    return image


def _send_loop(source_ref: weakref.ReferenceType[LiveKitVideoSource]) -> None:
    """Worker thread: hand the newest pending frame to the SDK (native conversion)."""
    while True:
        source = source_ref()
        if source is None:
            return
        slot = source._slot
        with slot:
            while source._pending is None and not source._closed:
                # wake up now and then so a dropped source lets this thread end
                if not slot.wait(timeout=1.0):
                    break
            if source._closed:
                return
            pending = source._pending
            source._pending = None
            if pending is not None:
                source._in_flight = pending[0]
        if pending is None:
            del source
            continue
        buffer, timestamp_us, rotation = pending
        if not source._gate.passes():  # it would leave unencrypted
            with slot:
                source._in_flight = None
            del source
            continue
        try:
            frame = video_frame_from_rgba(buffer)
            source._sdk.capture_frame(
                frame, timestamp_us=timestamp_us, rotation=_ROTATIONS[rotation]
            )
            source._frames_sent += 1
        except Exception:
            logger.exception("video capture failed")
        finally:
            with slot:
                source._in_flight = None
        del source
