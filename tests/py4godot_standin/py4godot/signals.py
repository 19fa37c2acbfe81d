# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/signals.pyx (+ signals.pyi).
# - `signal(args)` returns None; the signal's name is parsed from the *calling source line*
#   (text before "=" / ":"), so a declaration must sit on one line. The name is registered for the
#   script file being loaded (annotations.signal).
# - SignalArg(name, type_): type_ must be int/str/bool/float, exactly Object, or a core type
#   (pluginscript_api/utils/helpers.pyx types_dict); anything else prints an error and is NIL.
# - After instantiation each declared signal is an instance attribute GDSignal
#   (script_extension/script_extension_helpers.pyx create_signals: GDSignal.new2(instance, name)).
# - emit(*args) is the builtin Signal.emit vararg: each argument must pass the Variant check.
# Stand-in simplifications: connect() takes any Python callable (the real one builds a Callable
# from a bound method or a helper Node for lambdas); emit() with the wrong argument count raises
# (Godot prints an error per connection).

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

import py4godot.pluginscript_api.utils.annotations as annotations
from py4godot.classes import core
from py4godot.classes.core import Signal
from py4godot.functions import standin_engine_error
from py4godot.variant_types import check_variant

_VARIANT_TYPES = {
    int: "INT", str: "STRING", bool: "BOOL", float: "FLOAT", core.Vector2: "VECTOR2",
    core.Array: "ARRAY", core.Dictionary: "DICTIONARY", core.PackedByteArray: "PACKED_BYTE_ARRAY",
    core.PackedFloat32Array: "PACKED_FLOAT32_ARRAY", core.PackedStringArray: "PACKED_STRING_ARRAY",
    core.PackedVector2Array: "PACKED_VECTOR2_ARRAY", core.Callable: "CALLABLE",
    core.Signal: "SIGNAL", core.StringName: "STRING_NAME",
}  # fmt: skip


class SignalArg:
    def __init__(self, name: str, type_: Any) -> None:
        from py4godot.classes.Object import Object

        self.name = name
        if type_ is Object:
            self.variant_type = "OBJECT"
        elif type_ in _VARIANT_TYPES:
            self.variant_type = _VARIANT_TYPES[type_]
        else:
            standin_engine_error(f"couldn't find type: {type_}")
            self.variant_type = "NIL"

    def get_name(self) -> bytes:
        return self.name.encode("utf-8")


def signal(args: list[SignalArg] | None = None) -> None:
    caller = inspect.getframeinfo(sys._getframe(1), context=1)
    line = (caller.code_context or [""])[0]
    name = line.split("=")[0].split(":")[0].strip()
    if not name.isidentifier():  # stand-in strictness: the real code registers the bad name
        raise ValueError(f"signal() must be declared on one line as `name = signal(...)`: {line!r}")
    annotations.signal(name, list(args or []))
    return None


class GDSignal(Signal):
    def __init__(self, *args: Any) -> None:
        self._owner: Any = None
        self._name = ""
        self._args: list[SignalArg] = []
        self._callables: list[Callable[..., Any]] = []

    @staticmethod
    def new2(object_: Any, signal: Any) -> GDSignal:
        result = GDSignal()
        result._owner, result._name = object_, str(signal)
        return result

    def connect(self, function: Callable[..., Any], flags: int = 0) -> None:
        self._callables.append(function)

    def disconnect(self, function: Callable[..., Any]) -> None:
        self._callables.remove(function)

    def is_connected(self, function: Callable[..., Any]) -> bool:
        return function in self._callables

    def get_name(self) -> str:
        return self._name

    def emit(self, *varargs: Any) -> None:
        for arg in varargs:
            check_variant(arg, f"argument of signal {self._name}")
        if len(varargs) != len(self._args):
            raise TypeError(
                f"signal {self._name} declares {len(self._args)} arguments, emitted with "
                f"{len(varargs)}"
            )
        for function in list(self._callables):
            function(*varargs)
