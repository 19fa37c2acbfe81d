"""LiveKitDataTrackSubscription for GDScript: the frames of one remote data track.

Get one from ``LiveKitRemoteDataTrack.subscribe(mode, queue_size)``.
``frame_received(payload, user_timestamp)`` fires during the room's poll (``user_timestamp``
is -1 when the frame has none); ``ended(reason)`` once when the publisher unpublishes or
leaves. The payload is one PackedByteArray per subscription, refilled in place for each frame
(one memcpy): a handler that keeps a payload keeps its own copy (Godot copies on write), so
reading it at once costs nothing extra.

Lifetime: ``close()`` stops receiving (idempotent, no ``ended``); a subscription the game
drops is closed and freed by the LiveKitPoller within a second.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.core import PackedByteArray
from py4godot.classes.RefCounted import RefCounted
from py4godot.signals import SignalArg, signal

from addons.godot_livekit.bridge.convert import ReusedBytes
from addons.godot_livekit.bridge.objects import Wrapper, godot_scalar, guard

_FRAME = [SignalArg("payload", PackedByteArray), SignalArg("user_timestamp", int)]


@gdclass
class LiveKitDataTrackSubscription(Wrapper, RefCounted):
    MODE_LATEST = 0
    MODE_ORDERED = 1
    LK_CREATE_HINT = "LiveKitRemoteDataTrack.subscribe()"

    frame_received = signal(_FRAME)
    ended = signal([SignalArg("reason", str)])

    def __init__(self) -> None:
        super().__init__()
        self._lk_payload = ReusedBytes()

    def _lk_on_core_signal(self, name: str, *args: Any) -> None:
        if name == "frame_received":
            payload, user_timestamp = args
            packed = self._lk_payload.write(payload)
            # a microsecond timestamp does not fit Windows' 32-bit C long: godot_scalar
            self.frame_received.emit(packed, godot_scalar(int(user_timestamp)))
            return
        self._lk_emit(name, *args)

    def _lk_close(self) -> None:
        if self._lk_core is not None:
            self._lk_core.close()
        self._lk_payload = ReusedBytes()

    @guard(0)
    def poll(self) -> int:
        """Emit the frames received since the last poll now (the room's poll does it
        otherwise); returns the signals emitted."""
        return self._lk().poll()

    @guard()
    def close(self) -> None:
        """Stop receiving (idempotent; no ``ended`` signal)."""
        self._lk_close()

    @guard(False)
    def is_active(self) -> bool:
        return self._lk().is_active()

    @guard()
    def get_track(self) -> Any:
        """The LiveKitRemoteDataTrack, or null once it is no longer published."""
        track = self._lk().get_track()
        return self._lk_godot(track) if track is not None and track.is_published() else None

    @guard(0)
    def get_mode(self) -> int:
        return self._lk().get_mode()

    @guard(0)
    def get_queue_size(self) -> int:
        return self._lk().get_queue_size()

    @guard(0)
    def get_received_count(self) -> int:
        """Frames received from the SDK (delivered or dropped)."""
        return self._lk().get_received_count()

    @guard(0)
    def get_dropped_count(self) -> int:
        """Frames dropped: replaced by a newer one (latest mode), pushed out of a full
        queue (ordered mode), or over 64 KiB."""
        return self._lk().get_dropped_count()

    @guard("")
    def get_end_reason(self) -> str:
        """Why the subscription ended ("" while active)."""
        return self._lk().get_end_reason()
