# Mirrors py4godot/classes/ResourceLoader.py at 4.7-alpha21 (generated singleton:
# ResourceLoader.instance().load(path, type_hint="", cache_mode=1)) and, for .py paths,
# py4godot/format_loader/PyResourceFormatLoader.cpp: _exists is always true (any .py path
# "exists"); _load reads the file (null when it cannot be opened) and makes a PyScriptExtension
# whose source runs through annotations.exec_class. Godot's resource cache (core/io/
# resource_loader.cpp) keeps a loaded resource only while something references it; a load after
# it was freed runs exec_class (re-executes the module) again. load() returns a Ref: the wrapper
# owns a count.
# .gdshader paths: Godot's ResourceFormatLoaderShader (scene/resources/shader.cpp) reads the file
# as text into a new Shader (set_code), cached like any resource; load() of a missing file is an
# engine error and null. py4godot's generated load() returns smart_cast(_ret): a wrapper of the
# resource's class (utils/smart_cast.py), owning the returned Ref's count.

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
        path = str(path)
        if path.endswith(".gdshader"):
            return os.path.isfile(annotations._resolve(path))
        return path.endswith((".py", ".pyw", ".pyi"))

    @native_method
    def load(self, path: str, type_hint: str = "", cache_mode: int = 1) -> Any:
        path = str(path)
        if path.endswith(".gdshader"):
            return _load_shader(path)
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


def _load_shader(path: str) -> Any:
    from py4godot.classes.Shader import Shader

    cached = _cache.get(path)
    if cached is not None and cached.alive:
        shader = Shader.construct_without_init()
        shader._ptr = CPPWrapper(cached)
        cached.reference()
        return shader
    try:
        with open(annotations._resolve(path), encoding="utf-8") as source:
            code = source.read()
    except OSError:
        standin_engine_error(f"Cannot open file '{path}'.")
        return None
    shader = Shader.new()
    shader.init_ref()
    shader.set_code(code)
    engine = shader._engine()
    engine.path = path
    _cache[path] = engine
    return shader
