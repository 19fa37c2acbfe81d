# Mirrors py4godot/signals.pyx at 4.7-alpha21 (and pluginscript_api/utils/helpers.pyx
# `get_variant_type`):
# - signal(args) takes the signal's name from the source line of the calling statement
#   (inspect code context: text before "=" and then before ":", stripped) and registers it for the
#   script file being loaded (annotations.signal); it returns None, so the class attribute is
#   None until an instance exists. `a = 1; b = signal()` registers "a"; a name that is not an
#   identifier is registered as it is (Godot then has a signal with that odd name).
# - SignalArg(name, type_): types_dict knows int, str, bool, float, exactly Object, and the core
#   types; anything else prints "couldn't find type:" and becomes NIL.
# - After an instance is created each declared signal is an instance attribute GDSignal
#   (script_extension_helpers.pyx create_signals: GDSignal.new2(instance, StringName(name))).
# - GDSignal.emit(*args) is the builtin Signal.emit: a vararg method, so every argument passes the
#   Variant check (variant_types.py) and is converted by type name; connected callables receive
#   Variants of the arguments. GDSignal.connect(bound method) connects a Callable(owner, name);
#   a plain function gets a helper Node running addons/py4godot/signal_script.py (modelled as a
#   direct call of the function with the converted arguments).
# - BuiltinSignal: engine signals of generated classes (Object.init_signals).

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import py4godot.pluginscript_api.utils.annotations as annotations
from py4godot import _engine
from py4godot.classes import core
from py4godot.classes.core import Signal
from py4godot.functions import standin_engine_error
from py4godot.variant_types import check_variant

_VARIANT_TYPES = {
    int: "INT", str: "STRING", bool: "BOOL", float: "FLOAT", core.Vector2: "VECTOR2",
    core.Vector3: "VECTOR3", core.Array: "ARRAY", core.Dictionary: "DICTIONARY",
    core.PackedByteArray: "PACKED_BYTE_ARRAY", core.PackedInt32Array: "PACKED_INT32_ARRAY",
    core.PackedInt64Array: "PACKED_INT64_ARRAY", core.PackedFloat32Array: "PACKED_FLOAT32_ARRAY",
    core.PackedFloat64Array: "PACKED_FLOAT64_ARRAY", core.PackedStringArray: "PACKED_STRING_ARRAY",
    core.PackedVector2Array: "PACKED_VECTOR2_ARRAY", core.Callable: "CALLABLE",
    core.Signal: "SIGNAL", core.StringName: "STRING_NAME",
}  # fmt: skip


def get_variant_type(type_: Any) -> str:
    """helpers.pyx get_variant_type."""
    from py4godot.classes.Object import Object

    if type_ is Object:
        return "OBJECT"
    if type_ in _VARIANT_TYPES:
        return _VARIANT_TYPES[type_]
    standin_engine_error("couldn't find type:")
    standin_engine_error(str(type_))
    return "NIL"


class SignalArg:
    def __init__(self, name: str, type_: Any) -> None:
        self.name = name
        self.variant_type = get_variant_type(type_)

    def get_name(self) -> bytes:
        return self.name.encode("utf-8")


def signal(args: list[SignalArg] | None = None) -> None:
    caller = inspect.stack()[1]
    name = (caller.code_context or [""])[0].split("=")[0].split(":")[0].strip()
    annotations.signal(name, list(args or []))
    return None


def _connection(function: Callable[..., Any]) -> Callable[..., Any]:
    """What GDSignal.connect registers: a Callable whose call converts the Variants."""

    def call(*godot_args: Any) -> Any:
        return function(*[core.to_python(arg) for arg in godot_args])

    call.standin_function = function  # type: ignore[attr-defined]
    return call


class GDSignal(Signal):
    def __init__(self, *args: Any) -> None:
        self._owner: Any = None
        self._name = ""

    @staticmethod
    def new2(object_: Any, signal: Any) -> GDSignal:
        assert object_ is not None and signal is not None
        result = GDSignal()
        result._owner, result._name = object_, str(signal)
        return result

    def _engine_object(self) -> _engine.EngineObject:
        return self._owner._engine(f"signal {self._name}")

    def connect(self, function: Callable[..., Any], flags: int = 0) -> None:
        self._engine_object().connect(self._name, _connection(function))

    def disconnect(self, function: Callable[..., Any]) -> None:
        engine = self._engine_object()
        for slot in list(engine.connections.get(self._name, [])):
            if getattr(slot, "standin_function", None) == function:
                engine.disconnect(self._name, slot)

    def is_connected(self, function: Callable[..., Any]) -> bool:
        slots = self._engine_object().connections.get(self._name, [])
        return any(getattr(slot, "standin_function", None) == function for slot in slots)

    def get_name(self) -> str:
        return self._name

    def emit(self, *varargs: Any) -> None:
        for arg in varargs:
            check_variant(arg, "varargs")
        engine = self._engine_object()
        engine.emit(self._name, [core.to_godot(arg, core.NIL_INT_NATIVE) for arg in varargs])


class BuiltinSignal(Signal):
    def __init__(self, parent: Any, name: str) -> None:
        self._parent = parent
        self.signal_name = name

    def get_name(self) -> str:
        return self.signal_name

    def connect(self, function: Callable[..., Any], flags: int = 0) -> None:
        self._parent._engine(f"signal {self.signal_name}").connect(
            self.signal_name, _connection(function)
        )
