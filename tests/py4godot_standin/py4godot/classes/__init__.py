# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/classes/__init__.py, written by generate.py:
# `gdclass`/`gdtool` delegate to py4godot.pluginscript_api.utils.annotations.

from __future__ import annotations

from typing import Any

import py4godot.pluginscript_api.utils.annotations as annotations


def gdclass(cls: Any = None, icon: Any = None) -> Any:
    return annotations.gdclass(cls, icon)


def gdtool(cls: Any = None, icon: Any = None) -> Any:
    return annotations.gdtool(cls, icon)
