"""LiveKitAudioSource for GDScript: send audio (interleaved float32 in [-1, 1]) to a track.

py4godot scripts cannot have static methods callable from GDScript, so the reference's static
``create(sample_rate, num_channels, queue_size_ms)`` is an instance method that initialises
this object and returns it; GDScript uses ``LiveKit.create_audio_source(...)`` (LiveKit.gd
attaches this script to a new RefCounted and calls ``create``).

``capture_frame`` reads the PackedFloat32Array through a numpy view of its memory (no Python
copy) and returns at once; the core converts to int16 and queues the frame for sending.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.core import PackedFloat32Array
from py4godot.classes.RefCounted import RefCounted

import godot_livekit
from addons.godot_livekit.bridge.convert import float32_view
from addons.godot_livekit.bridge.objects import Wrapper, adopt, guard


@gdclass
class LiveKitAudioSource(Wrapper, RefCounted):
    LK_CREATE_HINT = "create(sample_rate, num_channels, queue_size_ms)"

    @guard()
    def create(self, sample_rate: int, num_channels: int, queue_size_ms: int) -> Any:
        """Reference static ``create``: initialises this source and returns it."""
        core = godot_livekit.LiveKitAudioSource.create(sample_rate, num_channels, queue_size_ms)
        adopt(self, core)
        return self

    @guard()
    def capture_frame(
        self,
        data: PackedFloat32Array,
        sample_rate: int,
        num_channels: int,
        samples_per_channel: int,
    ) -> None:
        samples = float32_view(data)  # a view: `data` stays referenced for this whole call
        self._lk().capture_frame(samples, sample_rate, num_channels, samples_per_channel)

    @guard()
    def clear_queue(self) -> None:
        self._lk().clear_queue()

    @guard(0.0)
    def get_queued_duration(self) -> float:
        return self._lk().get_queued_duration()

    @guard(0)
    def get_sample_rate(self) -> int:
        return self._lk().get_sample_rate()

    @guard(0)
    def get_num_channels(self) -> int:
        return self._lk().get_num_channels()

    def _lk_close(self) -> None:
        if self._lk_core is not None:
            self._lk_core.clear_queue()

    @guard(0)
    def get_dropped_frames(self) -> int:
        """Frames dropped because more than queue_size_ms of audio was waiting."""
        return self._lk().get_dropped_frames()
