"""LiveKitE2eeOptions for GDScript: end-to-end encryption settings for connect_to_room.

Make one with ``LiveKit.new_e2ee_options()`` and pass it as ``{"e2ee": options}`` in
``connect_to_room``'s options. Keys and salts are PackedByteArrays; they are never printed.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.core import PackedByteArray
from py4godot.classes.RefCounted import RefCounted

import godot_livekit
from addons.godot_livekit.bridge.convert import bytes_to_packed, packed_to_bytes
from addons.godot_livekit.bridge.objects import Wrapper, adopt, guard


@gdclass
class LiveKitE2eeOptions(Wrapper, RefCounted):
    ENCRYPTION_NONE = 0
    ENCRYPTION_GCM = 1
    ENCRYPTION_CUSTOM = 2

    def _lk_new_core(self) -> Any:
        """The core options, made on first use."""
        core = godot_livekit.LiveKitE2eeOptions()
        adopt(self, core)
        return core

    @guard()
    def set_encryption_type(self, type: int) -> None:
        self._lk().set_encryption_type(type)

    @guard(0)
    def get_encryption_type(self) -> int:
        return self._lk().get_encryption_type()

    @guard()
    def set_shared_key(self, key: PackedByteArray) -> None:
        self._lk().set_shared_key(packed_to_bytes(key))

    @guard(PackedByteArray.new0)
    def get_shared_key(self) -> PackedByteArray:
        return bytes_to_packed(self._lk().get_shared_key())

    @guard()
    def set_ratchet_salt(self, salt: PackedByteArray) -> None:
        self._lk().set_ratchet_salt(packed_to_bytes(salt))

    @guard(PackedByteArray.new0)
    def get_ratchet_salt(self) -> PackedByteArray:
        return bytes_to_packed(self._lk().get_ratchet_salt())

    @guard()
    def set_ratchet_window_size(self, size: int) -> None:
        self._lk().set_ratchet_window_size(size)

    @guard(0)
    def get_ratchet_window_size(self) -> int:
        return self._lk().get_ratchet_window_size()

    @guard()
    def set_failure_tolerance(self, tolerance: int) -> None:
        self._lk().set_failure_tolerance(tolerance)

    @guard(0)
    def get_failure_tolerance(self) -> int:
        return self._lk().get_failure_tolerance()
