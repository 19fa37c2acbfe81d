# Mirrors py4godot/classes/Shader.py at 4.7-alpha21 (generated from extension_api.json by
# generation_files/generate_py_classes.py; the Mode enum is a module-level class, as Image's
# Format). Engine behaviour (Godot scene/resources/shader.cpp): a .gdshader file is loaded by
# ResourceFormatLoaderShader::load, which reads the whole file as text and calls set_code (the
# preprocessor resolves #include there, against the include path); get_mode() is the
# `shader_type` the code declares (spatial, canvas_item, particles, sky, fog). Only what the
# addon uses is modelled: code, mode, path. Loading (and the resource cache) is in
# ResourceLoader.py.

from __future__ import annotations

import re
from typing import Any

from py4godot.classes.Object import register_native
from py4godot.classes.RefCounted import RefCounted
from py4godot.utils.functools import native_method


class Mode:
    MODE_SPATIAL = 0
    MODE_CANVAS_ITEM = 1
    MODE_PARTICLES = 2
    MODE_SKY = 3
    MODE_FOG = 4


_MODES = {"spatial": 0, "canvas_item": 1, "particles": 2, "sky": 3, "fog": 4}
_SHADER_TYPE = re.compile(r"^\s*shader_type\s+(\w+)\s*;", re.M)


@register_native
class Shader(RefCounted):  # Godot: Shader -> Resource -> RefCounted
    @staticmethod
    def get_type() -> str:
        return "Shader"

    @classmethod
    def _standin_engine_init(cls, engine: Any) -> None:
        engine.code, engine.path, engine.mode = "", "", Mode.MODE_SPATIAL

    @native_method
    def set_code(self, code: str) -> None:
        assert isinstance(code, str), "code must be str or String"
        engine = self._engine("set_code")
        engine.code = str(code)
        found = _SHADER_TYPE.search(engine.code)
        engine.mode = _MODES.get(found.group(1), Mode.MODE_SPATIAL) if found else Mode.MODE_SPATIAL

    @native_method
    def get_code(self) -> str:
        return self._engine("get_code").code

    @native_method
    def get_mode(self) -> int:
        return self._engine("get_mode").mode

    @native_method
    def get_path(self) -> str:
        return self._engine("get_path").path
