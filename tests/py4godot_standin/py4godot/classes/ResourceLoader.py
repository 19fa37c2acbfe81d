# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/classes/ResourceLoader.py (generated singleton:
# ResourceLoader.instance().load(path, type_hint="", cache_mode=1)). Loading a .py file yields its
# script (annotations.exec_class runs the file); resources are cached per path like Godot does.

from __future__ import annotations

import os
from typing import Any

import py4godot.pluginscript_api.utils.annotations as annotations
from py4godot.classes.Object import Object
from py4godot.classes.Script import Script
from py4godot.functions import standin_engine_error

_singleton: ResourceLoader | None = None


class ResourceLoader(Object):
    @staticmethod
    def get_type() -> str:
        return "ResourceLoader"

    @staticmethod
    def instance() -> ResourceLoader:
        global _singleton
        if _singleton is None:
            _singleton = ResourceLoader.new()
            _singleton._cache = {}
        return _singleton

    def exists(self, path: str, type_hint: str = "") -> bool:
        return os.path.isfile(annotations._resolve(str(path)))

    def load(self, path: str, type_hint: str = "", cache_mode: int = 1) -> Any:
        path = str(path)
        if path in self._cache:
            return self._cache[path]
        if not path.endswith(".py") or not self.exists(path):
            standin_engine_error(f"Resource file not found: {path} (expected type: {type_hint})")
            return None
        klass, signals, _ = annotations.exec_class(path)
        script = Script.standin_from(path, klass, signals)
        self._cache[path] = script
        return script
