# Mirrors py4godot/classes/__init__.py at 4.7-alpha21 (written by generate.py): `gdclass` and
# `gdtool` delegate to py4godot.pluginscript_api.utils.annotations.

from __future__ import annotations

from typing import Any

import py4godot.pluginscript_api.utils.annotations as annotations


def gdclass(cls: Any = None, icon: Any = None) -> Any:
    return annotations.gdclass(cls, icon)


def gdtool(cls: Any = None, icon: Any = None) -> Any:
    return annotations.gdtool(cls, icon)
