# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/variant_types.py. Generated methods with Variant
# or vararg parameters (Signal.emit, push_error, ...) accept a Python value only when its type
# *name* is in this set or it is an Object (generation_files/generate_py_classes.py,
# generate_variant_checks); py4godot/cppcore/Variant.cpp converts return values by the same name.

from __future__ import annotations

from typing import Any

core_types = {
    "NodePath", "StringName", "float", "PackedInt64Array", "Vector3i", "PackedVector4Array",
    "PackedColorArray", "Projection", "Rect2i", "bool", "int", "Vector2", "Nil", "Rect2", "Plane",
    "Array", "Signal", "PackedVector3Array", "Vector2i", "Transform3D", "Quaternion", "Transform2D",
    "Color", "Vector3", "Dictionary", "RID", "PackedFloat32Array", "PackedFloat64Array",
    "PackedStringArray", "Basis", "PackedByteArray", "AABB", "PackedVector2Array", "Vector4",
    "String", "Callable", "Vector4i", "PackedInt32Array", "str", "NoneType",
}  # fmt: skip


def check_variant(value: Any, what: str) -> None:
    """Raise ValueError like the generated variant checks when ``value`` cannot be a Variant.

    Stand-in helper (not in py4godot): the real code raises for Signal.emit/vararg arguments and
    silently builds a broken Object Variant for a bad return value; the stand-in raises for both.
    """
    from py4godot.classes.Object import Object

    if type(value).__name__ in core_types or isinstance(value, Object):
        return
    raise ValueError(
        f"Unsupported type for {what}: {type(value).__name__}. Supported types are: Godot types "
        "(Vector3, Vector2, Array, Object, ...) and built-in types int, float, and bool."
    )
