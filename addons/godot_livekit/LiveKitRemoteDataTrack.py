"""LiveKitRemoteDataTrack for GDScript: a data track another participant published.

Made by the room (``data_track_published``, ``get_remote_data_tracks()``): the same Godot
object until the track is unpublished, then stale (getters return defaults).
``subscribe(mode, queue_size)`` returns a LiveKitDataTrackSubscription whose
``frame_received(payload, user_timestamp)`` fires during the room's poll:
``LiveKit.DATA_TRACK_MODE_LATEST`` delivers only the newest frame of each poll,
``LiveKit.DATA_TRACK_MODE_ORDERED`` every frame in order (at most ``queue_size`` waiting).
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted

from addons.godot_livekit.bridge.objects import Wrapper, game_owned, guard


@gdclass
class LiveKitRemoteDataTrack(Wrapper, RefCounted):
    @guard("")
    def get_sid(self) -> str:
        """The track's SID ("" once stale)."""
        return self._lk().get_sid()

    @guard("")
    def get_name(self) -> str:
        """The name the publisher gave the track ("" once stale)."""
        return self._lk().get_name()

    @guard("")
    def get_publisher_identity(self) -> str:
        """The identity of the participant who published it ("" once stale)."""
        return self._lk().get_publisher_identity()

    @guard(False)
    def is_published(self) -> bool:
        """False once unpublished (or the publisher left, or the room disconnected)."""
        return self._lk().is_published()

    @guard(False)
    def is_stale(self) -> bool:
        return self._lk().is_stale()

    @guard()
    def subscribe(self, mode: int = 0, queue_size: int = 64) -> Any:
        """Start receiving frames (a new LiveKitDataTrackSubscription; on a track no
        longer published it is already ended). Keep it, and ``close()`` it when done."""
        return game_owned(self._lk().subscribe(mode, queue_size), self._lk_registry)
