# Mirrors py4godot/core/variant4/cast_helpers.pyx at 4.7-alpha21 (written by
# generation_files/generate_cast_helpers.py) and py4godot/cppcore/cast_type.cpp `cast_to_type`:
# an Object leaving a Variant (Variant::create_object: method arguments, Array/Dictionary reads,
# return values of Variant-typed engine methods) becomes `<NativeClass>.cast_without_reference(o)`
# of its *native* class (Object::get_class(), e.g. "RefCounted" for a scripted object). That
# wrapper has casted_from None, so its __del__ runs RefCounted.py_destroy_ref (see RefCounted.py).
# Each such wrapper is also appended to `vals`, which only PyScriptInstance.instance_call clears.

from __future__ import annotations

from typing import Any

vals: list[Any] = []


def clear_vals() -> None:
    vals.clear()


def cast_to_type(engine: Any) -> Any:
    """The wrapper py4godot makes for an Object coming out of a Variant."""
    from py4godot.classes.Object import CPPWrapper, Object, native_class

    temporary = Object.__new__(Object)  # type_helpers.pyx type_helper_create_object
    temporary._ptr = CPPWrapper(engine)
    wrapper = native_class(engine.class_name).cast_without_reference(temporary)
    vals.append(wrapper)
    return wrapper
