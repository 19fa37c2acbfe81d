# Mirrors py4godot/variant_types.py at 4.7-alpha21 (`core_types`), and the checks built on it:
# generation_files/generate_py_classes.py `generate_variant_checks` makes every generated method
# with a Variant or vararg parameter (Signal.emit, push_error, Array.push_back, Dictionary.get...)
# raise ValueError unless type(value).__name__ is in core_types or the value is an Object.

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
    """generate_variant_checks: ValueError unless ``value`` can be a Variant."""
    from py4godot.classes.Object import Object

    if type(value).__name__ in core_types or isinstance(value, Object):
        return
    raise ValueError(
        f"Unsupported type for argument '{what}': {type(value).__name__}. Supported types are: "
        "Godot types (Vector3, Vector2, Array, Object, ...) "
        "and built-in types int, float, and bool."
    )
