# Mirrors the script resource py4godot loads for a .py file (niklas2902/py4godot@4.7-alpha21:
# script_extension/PyScriptExtension.cpp + script_extension_helpers.pyx `instantiate_class`):
# attaching it to an object runs `class_()` with utils.shouldCreateObject = False (so the class's
# __init__ must not touch the engine), falls back to a plain Object when __init__ raises, then
# sets one GDSignal attribute per declared signal (create_signals). The introspection methods are
# Godot's Script API (get_instance_base_type, get_script_signal_list, get_script_method_list).

from __future__ import annotations

import inspect
import traceback
from typing import Any

from py4godot.classes.core import Array, Dictionary
from py4godot.classes.RefCounted import RefCounted
from py4godot.functions import standin_engine_error
from py4godot.utils import utils


class Script(RefCounted):
    @staticmethod
    def get_type() -> str:
        return "Script"

    @classmethod
    def standin_from(cls, path: str, klass: Any, signals: list[tuple[str, list[Any]]]) -> Script:
        script = cls.new()
        script._path, script._class, script._signals = path, klass, signals
        return script

    def get_path(self) -> str:
        return self._path

    def can_instantiate(self) -> bool:
        return self._class is not None

    def get_instance_base_type(self) -> str:
        return self._class.get_type() if self._class is not None else "Object"

    def get_script_signal_list(self) -> Array:
        result = Array()
        for name, args in self._signals:
            entry, arg_list = Dictionary(), Array()
            for arg in args:
                item = Dictionary()
                item["name"], item["type"] = arg.name, arg.variant_type
                arg_list.append(item)
            entry["name"], entry["args"] = name, arg_list
            result.append(entry)
        return result

    def has_script_signal(self, signal: str) -> bool:
        return any(name == str(signal) for name, _ in self._signals)

    def get_script_method_list(self) -> Array:
        """annotations.collect_methods: every function, args from inspect.getfullargspec."""
        result = Array()
        for name, func in inspect.getmembers(self._class, predicate=inspect.isfunction):
            entry = Dictionary()
            entry["name"] = name
            entry["args"] = Array.from_list(inspect.getfullargspec(func).args)
            result.append(entry)
        return result

    def _standin_attach(self, native: Any) -> None:
        from py4godot.classes.Object import Object
        from py4godot.signals import GDSignal

        klass = self._class or Object
        try:
            utils.shouldCreateObject = False
            instance = klass()
            utils.shouldCreateObject = True
        except Exception:
            utils.shouldCreateObject = True
            standin_engine_error(f"Exception - creating class didn't work {traceback.format_exc()}")
            instance = Object()
        instance._native = native
        native.script, native.script_instance = self, instance
        for name, args in self._signals:
            signal = GDSignal.new2(instance, name)
            signal._args = args
            setattr(instance, name, signal)
