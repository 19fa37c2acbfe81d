# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/functions.pyx, generated from Godot's utility
# functions by generation_files/generate_common_functions.py (vararg functions take
# `arg1, *varargs`; pluginscript_api/utils/forward_print.pyx imports `print`/`printerr` here).
# Stand-in: messages are recorded in `standin_messages` instead of reaching Godot's log.

from __future__ import annotations

import builtins
from typing import Any

from py4godot.variant_types import check_variant

standin_messages: list[tuple[str, str]] = []


def _record(level: str, arg1: Any, varargs: tuple[Any, ...]) -> None:
    for value in (arg1, *varargs):
        check_variant(value, f"{level} argument")
    standin_messages.append((level, "".join(str(v) for v in (arg1, *varargs))))


def push_error(arg1: Any, *varargs: Any) -> None:
    _record("error", arg1, varargs)


def push_warning(arg1: Any, *varargs: Any) -> None:
    _record("warning", arg1, varargs)


def printerr(arg1: Any, *varargs: Any) -> None:
    _record("printerr", arg1, varargs)


def print(arg1: Any, *varargs: Any) -> None:
    _record("print", arg1, varargs)


def standin_errors() -> list[str]:
    """Stand-in only: every push_error message so far."""
    return [text for level, text in standin_messages if level == "error"]


def standin_engine_errors() -> list[str]:
    """Stand-in only: every error the engine printed itself (see standin_engine_error)."""
    return [text for level, text in standin_messages if level == "engine"]


def standin_engine_error(text: str) -> None:
    """Stand-in only: an error the engine itself prints (ERR_FAIL_* in Godot's C++)."""
    standin_messages.append(("engine", text))
    builtins.print(f"[stand-in engine error] {text}")
