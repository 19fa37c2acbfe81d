# Mirrors py4godot/script_instance/PyScriptInstance.pyx and the C side in
# script_instance/instance.h at 4.7-alpha21 (InstanceData: instance_data/CPPInstanceData.h):
# - c_instance_get / c_instance_set only answer for names in `custom_properties` (the registered
#   properties and the signal names, PyScriptExtension.cpp update_instance_data); any other name
#   is left to the native object (so a plain Python @property is invisible to GDScript).
# - instance_get: getattr(owner, name); a str becomes a String; the value is converted by type
#   name (Variant::init_from_py_object); an exception is printed and the result is Nil.
# - instance_set: the Variant is converted (get_converted_value(true)); a Signal value is
#   ignored; a RefCounted value gets reference() (a count nobody releases); then
#   setattr(owner, name, value); an exception is printed.
# - is_overridden: getattr(owner, name, None) is not None and has no gd_is_native mark; only then
#   does the script handle a call (else Godot calls the native method).
# - instance_call: each argument is converted (get_converted_value(true)); RefCounted arguments
#   get casted_from = 1 ("unrefcount": their __del__ releases nothing, and they hold no count);
#   cast_helpers.clear_vals(); a missing attribute returns nothing; an exception is printed (three
#   print_error lines) and the result is None; the result is converted by type name.
# - instance_has_method: getattr(owner, name, None) is not None.
# - c_free_func is empty: nothing happens to the Python instance when Godot frees the object.

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any

from py4godot.core.variant4 import cast_helpers
from py4godot.functions import standin_engine_error


@dataclass
class InstanceData:
    owner: Any
    custom_properties: set[str] = field(default_factory=set)
    already_set_properties: list[str] = field(default_factory=list)
    is_placeholder: bool = False


def c_instance_get(instance: InstanceData, name: str) -> tuple[bool, Any]:
    from py4godot.classes.core import NIL_INT, String, to_godot

    if name not in instance.custom_properties or name == "script":
        return False, None
    try:
        value = getattr(instance.owner, name)
        if type(value) is str:
            value = String(value)  # fix_string_behavior
        return True, to_godot(value, NIL_INT)
    except Exception as error:
        standin_engine_error(f"Exception while getting attribute: {error}")
        standin_engine_error(f"traceback: {traceback.format_exc()}")
        return True, None


def c_instance_set(instance: InstanceData, name: str, value: Any) -> bool:
    from py4godot.classes.core import Signal, to_python
    from py4godot.classes.RefCounted import RefCounted

    if name not in instance.custom_properties:
        return False
    try:
        converted = to_python(value)
        if isinstance(converted, Signal):
            return True
        if isinstance(converted, RefCounted):
            converted.reference()
        setattr(instance.owner, name, converted)
    except Exception as error:
        standin_engine_error(f"An Exception happened while setting attribute:{error}")
        standin_engine_error(f"traceback: {traceback.format_exc()}")
    return True


def is_overridden(instance: InstanceData, name: str) -> bool:
    method = getattr(instance.owner, name, None)
    return method is not None and not hasattr(method, "gd_is_native")


def instance_has_method(instance: InstanceData, name: str) -> bool:
    return getattr(instance.owner, name, None) is not None


def c_instance_call(instance: InstanceData, name: str, args: list[Any]) -> tuple[bool, Any]:
    """(handled, Godot-side result); not handled means Godot tries the native method."""
    from py4godot.classes.core import NIL_INT, CoreType, to_godot, to_python
    from py4godot.classes.RefCounted import RefCounted

    if instance.is_placeholder or not is_overridden(instance, name):
        return False, None
    converted: list[Any] = []
    result = None
    try:
        for arg in args:
            value = to_python(arg)
            if isinstance(value, CoreType):
                value.shouldBeDeleted = True
            elif isinstance(value, RefCounted):
                value.casted_from = 1
            converted.append(value)
        cast_helpers.clear_vals()
        if not hasattr(instance.owner, name):
            return True, None
        result = getattr(instance.owner, name)(*converted)
    except Exception as error:
        standin_engine_error(f"An Exception happened while calling a method:{error}")
        standin_engine_error(f"traceback: {traceback.format_exc()}")
        standin_engine_error(f"method name:{name}")
    return True, to_godot(result, NIL_INT)
