# Mirrors py4godot/classes/ResourceLoader.py at 4.7-alpha21 (generated singleton:
# ResourceLoader.instance().load(path, type_hint="", cache_mode=1)) and, for .py paths,
# py4godot/format_loader/PyResourceFormatLoader.cpp: _exists is always true (any .py path
# "exists"); _load reads the file (null when it cannot be opened) and makes a PyScriptExtension
# whose source runs through annotations.exec_class. Godot's resource cache (core/io/
# resource_loader.cpp) keeps a loaded resource only while something references it; a load after
# it was freed runs exec_class (re-executes the module) again. load() returns a Ref: the wrapper
# owns a count.

from __future__ import annotations

import os
from typing import Any

import py4godot.pluginscript_api.utils.annotations as annotations
from py4godot.classes.Object import CPPWrapper, Object, register_native
from py4godot.classes.Script import Script
from py4godot.functions import standin_engine_error
from py4godot.utils.functools import native_method

_singleton: ResourceLoader | None = None
_cache: dict[str, Any] = {}  # path -> engine object of the loaded Script (weak in Godot)


@register_native
class ResourceLoader(Object):
    @staticmethod
    def get_type() -> str:
        return "ResourceLoader"

    @staticmethod
    def instance() -> ResourceLoader:
        global _singleton
        if _singleton is None:
            _singleton = ResourceLoader.new()
        return _singleton

    @native_method
    def exists(self, path: str, type_hint: str = "") -> bool:
        return str(path).endswith((".py", ".pyw", ".pyi"))

    @native_method
    def load(self, path: str, type_hint: str = "", cache_mode: int = 1) -> Any:
        path = str(path)
        cached = _cache.get(path)
        if cached is not None and cached.alive:
            script = Script.construct_without_init()
            script._ptr = CPPWrapper(cached)
            cached.reference()
            return script
        if not path.endswith((".py", ".pyw", ".pyi")) or not os.path.isfile(
            annotations._resolve(path)
        ):
            standin_engine_error(f"Cannot open file '{path}'.")
            return None
        script = Script.new()
        script.init_ref()
        engine = script._engine()
        engine.path = path
        engine.transfer = annotations.exec_class(path)
        _cache[path] = engine
        return script
