# Mirrors py4godot/classes/ClassDB.py at 4.7-alpha21 (generated singleton). Engine behaviour
# (Godot core/object/class_db.cpp): instantiate(class) makes a new object of an engine class and
# returns it as a Variant (for a RefCounted, that Variant's init_ref takes the initial count).
# Used by the tests the way GDScript's ClassDB.instantiate is used by LiveKit.gd.

from __future__ import annotations

from typing import Any

from py4godot.classes.Object import Object, _construct, _native_classes, register_native
from py4godot.utils.functools import native_method

_singleton: ClassDB | None = None


@register_native
class ClassDB(Object):
    @staticmethod
    def get_type() -> str:
        return "ClassDB"

    @staticmethod
    def instance() -> ClassDB:
        """The engine singleton (py4godot's generated singleton accessor)."""
        global _singleton
        if _singleton is None:
            _singleton = ClassDB.new()
        return _singleton

    @native_method
    def can_instantiate(self, class_: str) -> bool:
        return str(class_) in _native_classes and str(class_) not in (
            "ClassDB",
            "ResourceLoader",
            "AudioServer",
        )

    @native_method
    def instantiate(self, class_: str) -> Any:
        """The Godot-side value: the new engine object (hold it in a Variant)."""
        return _construct(str(class_)).godot_owner
