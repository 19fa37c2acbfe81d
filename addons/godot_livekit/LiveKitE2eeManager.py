"""LiveKitE2eeManager for GDScript: end-to-end encryption of one room.

Get it with ``room.get_e2ee_manager()`` (the same Godot object for the room's lifetime). It
answers defaults while the room is not connected with E2EE.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.core import Array
from py4godot.classes.RefCounted import RefCounted

from addons.godot_livekit.bridge.objects import Wrapper, guard


@gdclass
class LiveKitE2eeManager(Wrapper, RefCounted):
    @guard(False)
    def get_enabled(self) -> bool:
        return self._lk().get_enabled()

    @guard()
    def set_enabled(self, enabled: bool) -> None:
        self._lk().set_enabled(enabled)

    @guard()
    def get_key_provider(self) -> Any:
        return self._lk_godot(self._lk().get_key_provider())

    @guard(Array.new0)
    def get_frame_cryptors(self) -> Array:
        """One LiveKitFrameCryptor per encrypted track of the session."""
        return self._lk_godot(self._lk().get_frame_cryptors())
