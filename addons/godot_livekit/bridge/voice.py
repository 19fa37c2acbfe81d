"""What the voice nodes (LiveKitMicrophone, LiveKitSpatialVoice) share: Godot's capture as the
core's capture source, the microphone's own audio bus, and node lifetimes.

Nodes live differently from the addon's RefCounted objects: the scene tree owns them, and
py4godot never tells a script that its node was freed (no notification callback; the Python
side lives on, tests/py4godot_standin/FACTS.md). So a voice node holds what it owns only while
it is inside the tree (``_enter_tree`` / ``_exit_tree``), and a :class:`NodeWatch` -- pumped by
the LiveKitPoller with everything else -- checks each frame that the node still exists before
doing its per-frame work; a node freed without leaving the tree (it never entered) is released
by the watch, and nothing calls into a freed node.

Conversions never loop per sample in Python:
- ``AudioEffectCapture.get_buffer(n)`` (a PackedVector2Array) -> ``to_byte_array()`` (one
  C++ copy) -> a float32 view of its bytes -> one ``copyto`` into a reused (n, 2) array, which
  the core reads before the next call. The view is used at once and never kept (it owns
  nothing); ``from_memory_view`` is never used (py4godot never releases its buffer).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from py4godot import functions
from py4godot.classes.AudioEffectCapture import AudioEffectCapture
from py4godot.classes.AudioServer import AudioServer
from py4godot.classes.RefCounted import RefCounted

from godot_livekit import poller

logger = logging.getLogger("godot_livekit.addon.voice")

CAPTURE_BUFFER_SECONDS = 0.5
"""The capture ring: a frame hitch shorter than this loses no microphone audio (the core then
sends at most its newest 200 ms)."""


class CaptureAdapter:
    """Godot's AudioEffectCapture as the core's ``CaptureSource``: ``get_buffer(n)`` returns
    (n, 2) float32 frames in a reused array (valid until the next call)."""

    __slots__ = ("_frames", "capture")

    def __init__(self, capture: Any) -> None:
        self.capture = capture
        self._frames = np.zeros((0, 2), np.float32)

    def get_frames_available(self) -> int:
        return int(self.capture.get_frames_available())

    def get_buffer(self, frames: int) -> np.ndarray:
        stereo = self.capture.get_buffer(int(frames))
        count = int(stereo.size())
        if count == 0:
            return self._frames[:0]
        raw = stereo.to_byte_array()
        if self._frames.shape[0] < count:
            self._frames = np.zeros((max(count, 2 * self._frames.shape[0]), 2), np.float32)
        out = self._frames[:count]
        # Vector2 is two real_t: float32 in standard builds, float64 in double-precision ones
        if int(raw.size()) == count * 8:  # a memcpy, keeping the GIL (see convert.copy_into)
            out.data.cast("B")[:] = raw.get_memory_view()[: count * 8]
        else:
            np.copyto(
                out.reshape(-1), np.frombuffer(raw.get_memory_view(), np.float64, count=count * 2)
            )
        return out


class CaptureBus:
    """A muted audio bus of its own with an AudioEffectCapture: an AudioStreamPlayer playing
    an AudioStreamMicrophone on it is recorded there and never heard (the effect runs before
    the bus's mute). Named ``base_name`` ("base_name 2"... when taken); :meth:`remove` takes
    it away again."""

    def __init__(self, base_name: str, buffer_seconds: float = CAPTURE_BUFFER_SECONDS) -> None:
        server = AudioServer.instance()
        server.add_bus(-1)
        index = server.get_bus_count() - 1
        server.set_bus_name(index, base_name)
        self.name: str = str(server.get_bus_name(index))  # made unique by Godot
        server.set_bus_mute(index, True)
        capture = AudioEffectCapture.new()
        capture.init_ref()  # this wrapper's count (py4godot: new() leaves it pending)
        capture.set_buffer_length(float(buffer_seconds))  # before the bus instantiates it
        server.add_bus_effect(index, capture, -1)
        self.capture: Any = capture

    def remove(self) -> None:
        """Remove the bus (and with it the capture effect); idempotent."""
        if self.capture is None:
            return
        self.capture = None
        server = AudioServer.instance()
        index = server.get_bus_index(self.name)
        if index > 0:
            server.remove_bus(index)


def keep_returned(value: Any) -> Any:
    """An engine object an engine method returned (``get_stream_playback()``), given a
    reference of its own: the wrapper py4godot hands back may release a count it never took
    when it is collected (tests/py4godot_standin/FACTS.md), and the object must outlive it."""
    if isinstance(value, RefCounted):
        value.reference()
    return value


class NodeWatch:
    """Pumped by the frame poller for one voice node: ``each_frame()`` while the node exists,
    ``gone()`` once (and no more pumping) when Godot freed it."""

    def __init__(self, instance_id: int, each_frame: Callable[[], None], gone: Callable[[], None]):
        self.instance_id = instance_id
        self._each_frame = each_frame
        self._gone = gone
        self.enabled = True

    def start(self) -> None:
        poller.register(self)

    def stop(self) -> None:
        poller.unregister(self)

    def get_auto_poll(self) -> bool:
        return self.enabled

    def _auto_pump(self) -> None:
        self.pump()

    def pump(self) -> None:
        if not functions.is_instance_id_valid(self.instance_id):
            self.stop()
            self._gone()
            return
        self._each_frame()
