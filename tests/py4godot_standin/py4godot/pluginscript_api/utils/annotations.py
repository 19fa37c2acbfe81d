# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/pluginscript_api/utils/annotations.pyx.
# exec_class(path): the module name is the res:// path with "/" -> "." (".py" dropped); the
# file is (re)executed with importlib from the project root (sys.modules entry deleted first);
# @gdclass keeps the class only when its name equals the file name (otherwise it is skipped
# silently); a second @gdclass in one file raises; signal() calls made while the file runs are
# collected for it.
# Methods: every function of the class (inspect.getmembers), argument names from
# inspect.getfullargspec (so a decorator must keep __signature__ for names to survive).
# Not mirrored: property collection (the addon declares none through py4godot).

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from typing import Any

from py4godot.functions import standin_engine_error

class_name = ""
gd_class: Any = None
is_tool = False
signals: list[tuple[str, list[Any]]] = []
standin_project_root: str | None = None  # stand-in only: None -> the working directory, as in Godot


def _resolve(path: str) -> str:
    relative = path.replace("res://", "")
    return os.path.join(standin_project_root or os.getcwd(), relative)


def exec_class(path: str) -> tuple[Any, list[tuple[str, list[Any]]], bool]:
    """Run the script file at ``path``; returns (class or None, signals, is_tool)."""
    global class_name, gd_class, is_tool, signals
    class_name = path.split("/")[-1].replace(".py", "")
    gd_class, is_tool, signals = None, False, []
    module_name = path.replace("res://", "").replace("/", ".").replace(".py", "")
    try:
        sys.modules.pop(module_name, None)
        spec = importlib.util.spec_from_file_location(module_name, _resolve(path))
        if spec is None or spec.loader is None:
            raise FileNotFoundError(f"Cannot find the module file: {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[module_name] = module
    except Exception:
        standin_engine_error(f"exec_class: Exception happened: {traceback.format_exc()}")
    return gd_class, list(signals), is_tool


def _decorate(cls: Any, tool: bool) -> Any:
    global gd_class, is_tool
    if cls.__name__ != class_name:
        return cls
    if gd_class is not None:
        raise Exception(
            f"More than one class was marked as gd_class or gdtool class in one file "
            f"({class_name}, {gd_class}, {cls})"
        )
    gd_class, is_tool = cls, tool
    return cls


def gdclass(cls: Any = None, icon: Any = None) -> Any:
    if cls is not None:
        return _decorate(cls, False)
    return lambda klass: _decorate(klass, False)


def gdtool(cls: Any = None, icon: Any = None) -> Any:
    if cls is not None:
        return _decorate(cls, True)
    return lambda klass: _decorate(klass, True)


def signal(name: str, args: list[Any] | None = None) -> None:
    signals.append((name, list(args or [])))
