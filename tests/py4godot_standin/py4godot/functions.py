# Mirrors py4godot/functions.pyx at 4.7-alpha21, generated from Godot's utility functions by
# generation_files/generate_common_functions.py: vararg functions take `arg1, *varargs` and
# convert each argument by type name without the Variant checks of class methods. Godot prints
# push_error/push_warning to the console and the debugger's error list, print/printerr to the
# console.
# Stand-in: messages are recorded in `standin_messages` (level, text) instead.

from __future__ import annotations

import builtins
from typing import Any

from py4godot import _engine

standin_messages: list[tuple[str, str]] = []


def _record(level: str, arg1: Any, varargs: tuple[Any, ...]) -> None:
    # No Variant checks here (generate_common_functions.py converts each argument with
    # Variant4.pyx create_variant_from_py_object, by type name): a list or dict is read as an
    # Object pointer (a crash), None becomes an int (core.NIL_INT_NATIVE).
    from py4godot.classes import core

    texts = []
    for value in (arg1, *varargs):
        godot = core.to_godot(value, core.NIL_INT_NATIVE)
        texts.append(str(godot) if value is None else str(value))
    standin_messages.append((level, "".join(texts)))


def push_error(arg1: Any, *varargs: Any) -> None:
    _record("error", arg1, varargs)


def push_warning(arg1: Any, *varargs: Any) -> None:
    _record("warning", arg1, varargs)


def printerr(arg1: Any, *varargs: Any) -> None:
    _record("printerr", arg1, varargs)


def print(arg1: Any, *varargs: Any) -> None:
    _record("print", arg1, varargs)


def is_instance_id_valid(id: int) -> bool:
    return _engine.is_instance_id_valid(int(id))


def standin_errors() -> list[str]:
    """Stand-in only: every push_error message so far."""
    return [text for level, text in standin_messages if level == "error"]


def standin_warnings() -> list[str]:
    """Stand-in only: every push_warning message so far."""
    return [text for level, text in standin_messages if level == "warning"]


def standin_engine_errors() -> list[str]:
    """Stand-in only: every error the engine (or py4godot's C++/Cython side) printed itself."""
    return [text for level, text in standin_messages if level == "engine"]


def standin_engine_error(text: str) -> None:
    """Stand-in only: an error Godot or py4godot prints itself (ERR_FAIL_*, print_error)."""
    standin_messages.append(("engine", text))
    builtins.print(f"[stand-in engine error] {text}")
