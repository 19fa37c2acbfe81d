"""LiveKitKeyProvider for GDScript: shared and per-participant E2EE keys of a room.

Get it from ``room.get_e2ee_manager().get_key_provider()`` (one Godot object per room). Keys
are PackedByteArrays; while the room is not connected with E2EE the getters return an empty
PackedByteArray and the setters do nothing. Keys are never printed.
"""

from __future__ import annotations

from py4godot.classes import gdclass
from py4godot.classes.core import PackedByteArray
from py4godot.classes.RefCounted import RefCounted

from addons.godot_livekit.bridge.convert import bytes_to_packed, packed_to_bytes, text
from addons.godot_livekit.bridge.objects import Wrapper, guard


@gdclass
class LiveKitKeyProvider(Wrapper, RefCounted):
    @guard()
    def set_shared_key(self, key: PackedByteArray, key_index: int = 0) -> None:
        self._lk().set_shared_key(packed_to_bytes(key), key_index)

    @guard(PackedByteArray.new0)
    def get_shared_key(self, key_index: int = 0) -> PackedByteArray:
        return bytes_to_packed(self._lk().get_shared_key(key_index))

    @guard(PackedByteArray.new0)
    def ratchet_shared_key(self, key_index: int = 0) -> PackedByteArray:
        return bytes_to_packed(self._lk().ratchet_shared_key(key_index))

    @guard()
    def set_key(self, participant_identity: str, key: PackedByteArray, key_index: int = 0) -> None:
        self._lk().set_key(text(participant_identity), packed_to_bytes(key), key_index)

    @guard(PackedByteArray.new0)
    def get_key(self, participant_identity: str, key_index: int = 0) -> PackedByteArray:
        return bytes_to_packed(self._lk().get_key(text(participant_identity), key_index))

    @guard(PackedByteArray.new0)
    def ratchet_key(self, participant_identity: str, key_index: int = 0) -> PackedByteArray:
        return bytes_to_packed(self._lk().ratchet_key(text(participant_identity), key_index))
