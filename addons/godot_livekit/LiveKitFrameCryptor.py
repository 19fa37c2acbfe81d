"""LiveKitFrameCryptor for GDScript: the encryptor/decryptor of one track.

Get them from ``room.get_e2ee_manager().get_frame_cryptors()``; the same track's cryptor is the
same Godot object each time. Once its session or track is gone the getters return
""/0/false and the setters do nothing.
"""

from __future__ import annotations

from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted

from addons.godot_livekit.bridge.objects import Wrapper, guard


@gdclass
class LiveKitFrameCryptor(Wrapper, RefCounted):
    @guard("")
    def get_participant_identity(self) -> str:
        return self._lk().get_participant_identity()

    @guard("")
    def get_track_sid(self) -> str:
        return self._lk().get_track_sid()

    @guard(0)
    def get_key_index(self) -> int:
        return self._lk().get_key_index()

    @guard(False)
    def get_enabled(self) -> bool:
        return self._lk().get_enabled()

    @guard()
    def set_enabled(self, enabled: bool) -> None:
        self._lk().set_enabled(enabled)

    @guard()
    def set_key_index(self, key_index: int) -> None:
        self._lk().set_key_index(key_index)

    @guard(False)
    def is_stale(self) -> bool:
        return self._lk().is_stale()
