# Mirrors the Script resource py4godot makes for a .py file: py4godot/script_extension/
# PyScriptExtension.cpp at 4.7-alpha21 (constructed by format_loader/PyResourceFormatLoader.cpp
# _load, which runs _set_source_code_internal -> apply_code -> annotations.exec_class).
# - _instance_create (set_script on an object): instantiate_class (script_extension_helpers);
#   update_instance_data writes every registered property's default with setattr
#   (instance_utils.pyx set_default_val: exceptions printed) *before* the engine object is attached
#   and before any signal attribute exists, and puts the property and signal names into
#   custom_properties; then set_owner attaches the engine object, the script is reference()d (and
#   never released), the instance is Py_INCREF'd and registered in ScriptDatabase by instance id,
#   and create_signals sets one GDSignal attribute per declared signal.
# - _get_instance_base_type: get_type() of the class, "" when exec_class left it None.
# - _can_instantiate: true outside the editor; _is_valid: always true; _has_static_method: false
#   (so Script.new() is not available: GDScript must instantiate the base class and set_script);
#   _has_script_signal: always true; _get_script_method_list/_get_script_property_list: empty;
#   _get_constants: empty (UPPERCASE class constants are not visible to GDScript).
# - _get_script_signal_list: one dictionary per declared signal: name and args (name, type).

from __future__ import annotations

from typing import Any

from py4godot.classes.core import Array, Dictionary
from py4godot.classes.Object import register_native, script_database
from py4godot.classes.RefCounted import RefCounted
from py4godot.utils.functools import native_method


@register_native
class Script(RefCounted):  # Godot: Script -> Resource -> RefCounted
    @staticmethod
    def get_type() -> str:
        return "Script"

    @classmethod
    def _standin_engine_init(cls, engine: Any) -> None:
        engine.path, engine.transfer, engine.instance_datas = "", None, []

    def _transfer(self) -> dict[str, Any]:
        return self._engine("script").transfer

    def standin_class(self) -> Any:
        """Stand-in only: the Python class the script registered (None when it failed)."""
        return self._transfer()["class_"]

    @native_method
    def get_path(self) -> str:
        return self._engine("get_path").path

    @native_method
    def can_instantiate(self) -> bool:
        return True

    @native_method
    def is_valid(self) -> bool:
        return True

    @native_method
    def is_tool(self) -> bool:
        return bool(self._transfer()["is_tool"])

    @native_method
    def get_instance_base_type(self) -> str:
        klass = self._transfer()["class_"]
        return klass.get_type() if klass is not None else ""

    @native_method
    def has_script_signal(self, signal_name: str) -> bool:
        return True

    @native_method
    def get_script_signal_list(self) -> Array:
        result = Array.new0()
        for name, args in self._transfer()["signals"]:
            entry, arg_list = Dictionary.new0(), Array.new0()
            for arg in args:
                item = Dictionary.new0()
                item["name"], item["type"] = arg.name, arg.variant_type
                arg_list.append(item)
            entry["name"], entry["args"] = name, arg_list
            result.append(entry)
        return result

    @native_method
    def get_script_method_list(self) -> Array:
        return Array.new0()  # PyScriptExtension::_get_script_method_list is empty

    @native_method
    def get_script_property_list(self) -> Array:
        return Array.new0()

    @native_method
    def get_script_constant_map(self) -> Dictionary:
        return Dictionary.new0()

    def standin_registered_properties(self) -> list[tuple[str, Any, Any]]:
        """Stand-in only: (name, type, default written at creation) as py4godot registers."""
        return list(self._transfer()["properties"])

    def standin_registered_methods(self) -> dict[str, list[str]]:
        """Stand-in only: the method list instances report (c_instance_get_method_list)."""
        return dict(self._transfer()["methods"])

    def _standin_instance_create(self, target: Any) -> None:
        from py4godot.classes.core import StringName  # noqa: F401 - create_signals needs it
        from py4godot.script_extension import script_extension_helpers as helpers
        from py4godot.script_instance.PyScriptInstance import InstanceData

        transfer = self._transfer()
        owner = helpers.instantiate_class(transfer["class_"])
        data = InstanceData(owner=owner)
        for name, _type, default in transfer["properties"]:  # update_instance_data
            if name not in data.already_set_properties:
                try:
                    setattr(owner, name, default)
                except Exception as error:
                    from py4godot.functions import standin_engine_error

                    standin_engine_error(f"Exception when setting attribute: {error}")
                data.already_set_properties.append(name)
            data.custom_properties.add(name)
        for name, _args in transfer["signals"]:
            data.custom_properties.add(name)
        self._engine().instance_datas.append(data)
        owner._ptr.godot_owner = target  # set_owner
        self.reference()
        target.script, target.instance = self, data
        script_database[target.instance_id] = owner
        helpers.create_signals(owner, [name for name, _ in transfer["signals"]])
