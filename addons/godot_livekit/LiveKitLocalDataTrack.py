"""LiveKitLocalDataTrack for GDScript: a data track you publish and push frames into.

Get one from ``room.get_local_participant().publish_data_track(name)``; ``published`` (or
``publish_failed(error)``) follows on it. ``push(payload, user_timestamp)`` hands one frame
(a PackedByteArray of 1 to 64 KiB, copied once) to the SDK's native queue without waiting on
the network and returns false when it was not taken (not published yet, unpublished, or
frames come faster than they can leave). Frames are unreliable by design: for positions and
inputs at a game's tick rate, not for anything that must arrive.

Lifetime: ``unpublish()`` (or ``close()``) stops publishing; a track the game drops is
unpublished and freed by the LiveKitPoller within a second.
"""

from __future__ import annotations

from py4godot.classes import gdclass
from py4godot.classes.core import PackedByteArray
from py4godot.classes.RefCounted import RefCounted
from py4godot.signals import SignalArg, signal

from addons.godot_livekit.bridge.convert import packed_to_bytes
from addons.godot_livekit.bridge.objects import Wrapper, guard


@gdclass
class LiveKitLocalDataTrack(Wrapper, RefCounted):
    LK_CREATE_HINT = "LiveKitLocalParticipant.publish_data_track()"

    published = signal()
    publish_failed = signal([SignalArg("error", str)])

    def _lk_close(self) -> None:
        if self._lk_core is not None:
            self._lk_core.unpublish()

    @guard(False)
    def push(self, payload: PackedByteArray, user_timestamp: int = -1) -> bool:
        """Send one frame; ``user_timestamp`` (0 to 2^63-1, e.g. microseconds since the
        epoch, or -1 for none) reaches the subscribers with it. A whole float is taken too:
        on Windows py4godot cuts ints from GDScript to 32 bits (README), floats it keeps."""
        if isinstance(user_timestamp, float) and user_timestamp.is_integer():
            user_timestamp = int(user_timestamp)
        return self._lk().push(packed_to_bytes(payload), user_timestamp)

    @guard()
    def unpublish(self) -> None:
        """Stop publishing (idempotent); subscribers' subscriptions end."""
        self._lk_close()

    @guard()
    def close(self) -> None:
        """Same as ``unpublish()``."""
        self._lk_close()

    @guard(False)
    def is_published(self) -> bool:
        return self._lk().is_published()

    @guard("")
    def get_name(self) -> str:
        return self._lk().get_name()

    @guard("")
    def get_sid(self) -> str:
        """The SID the server gave the track ("" before it is published or once stale)."""
        return self._lk().get_sid()

    @guard("")
    def get_error(self) -> str:
        """Why publishing failed ("" when it did not)."""
        return self._lk().get_error()

    @guard(0)
    def get_pushed_count(self) -> int:
        """Frames the SDK took."""
        return self._lk().get_pushed_count()

    @guard(0)
    def get_refused_count(self) -> int:
        """Frames ``push`` returned false for."""
        return self._lk().get_refused_count()
