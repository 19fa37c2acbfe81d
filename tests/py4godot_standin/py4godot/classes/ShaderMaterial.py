# Mirrors py4godot/classes/ShaderMaterial.py at 4.7-alpha21 (generated from extension_api.json by
# generation_files/generate_py_classes.py): set_shader(Shader) takes a Ref<Shader> (type
# assertion on the class), set_shader_parameter(param: StringName, value: Variant) asserts
# `isinstance(param, (str, StringName))` (generate_type_assertion) and checks the Variant
# (generate_variant_checks: core types or Object, else ValueError); get_shader_parameter returns
# the Variant converted as every Variant return (an Object -> a wrapper of its native class, with
# the hazard of cast_helpers: it owns no count yet releases one); get_shader returns a typed
# Ref<Shader>, whose count the returned wrapper owns (smart_cast of the returned Ref).
# Engine behaviour (Godot scene/resources/material.cpp ShaderMaterial): the material holds a
# Ref to its shader; set_shader_parameter stores the value in its parameter cache under any
# name, declared by the shader or not (nothing is checked), and holding an Object there keeps a
# reference to it; a null value erases the entry (py4godot never passes one: None becomes
# an int, core.NIL_INT_NATIVE); get_shader_parameter reads the cache (null
# when unset). Stand-in only: standin_parameter_names() lists the names set.

from __future__ import annotations

from typing import Any

from py4godot import _engine
from py4godot.classes.core import NIL_INT_NATIVE, StringName, to_godot, to_python
from py4godot.classes.Object import CPPWrapper, register_native
from py4godot.classes.RefCounted import RefCounted
from py4godot.classes.Shader import Shader
from py4godot.utils.functools import native_method
from py4godot.variant_types import check_variant


@register_native
class ShaderMaterial(RefCounted):  # Godot: ShaderMaterial -> Material -> Resource
    @staticmethod
    def get_type() -> str:
        return "ShaderMaterial"

    @classmethod
    def _standin_engine_init(cls, engine: Any) -> None:
        engine.shader = None  # a Variant holding the Ref<Shader>
        engine.parameters = {}  # name -> Variant

        def release() -> None:
            for slot in [engine.shader, *engine.parameters.values()]:
                if slot is not None:
                    slot.clear()

        engine.standin_release = release

    @native_method
    def set_shader(self, shader: Shader) -> None:
        assert isinstance(shader, Shader), "shader must be Shader"
        engine = self._engine("set_shader")
        old, engine.shader = engine.shader, _engine.Variant(shader)
        if old is not None:
            old.clear()

    @native_method
    def get_shader(self) -> Any:
        slot = self._engine("get_shader").shader
        if slot is None:
            return None
        slot.engine.reference()  # the returned Ref's count, owned by the wrapper
        shader = Shader.construct_without_init()
        shader._ptr = CPPWrapper(slot.engine)
        return shader

    @native_method
    def set_shader_parameter(self, param: Any, value: Any) -> None:
        assert isinstance(param, str | StringName), "param must be str or StringName"
        check_variant(value, "value")
        engine = self._engine("set_shader_parameter")
        old = engine.parameters.pop(str(param), None)
        # a Python None reaches Godot as an int (core.NIL_INT_NATIVE), never as the null
        # that would erase the entry
        engine.parameters[str(param)] = _engine.Variant(to_godot(value, NIL_INT_NATIVE))
        if old is not None:
            old.clear()

    @native_method
    def get_shader_parameter(self, param: Any) -> Any:
        assert isinstance(param, str | StringName), "param must be str or StringName"
        slot = self._engine("get_shader_parameter").parameters.get(str(param))
        return None if slot is None else to_python(slot.value)

    def standin_parameter_names(self) -> list[str]:
        """Stand-in only: the parameter names set on this material."""
        return sorted(self._engine("standin_parameter_names").parameters)
