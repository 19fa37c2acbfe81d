# Mirrors py4godot/script_extension/script_extension_helpers.pyx at 4.7-alpha21:
# - instantiate_class(class_): shouldCreateObject = False; o = class_(); o._ptr =
#   o.generate_wrapper(); shouldCreateObject = True; o.init_signals(). When __init__ raises, the
#   error is printed and a plain Object() takes its place -- and shouldCreateObject stays False.
#   Every instance is appended to the module-level list `instantiated_classes`, which nothing
#   ever empties: script instances are never freed (PyScriptExtension::_instance_create also
#   Py_INCREFs them, and the instance free callback in script_instance/instance.h is empty).
#   Python never finalizes (no Py_Finalize), so weakref.finalize, WeakSet membership of
#   instances and atexit handlers never fire for them.
# - create_signals(instance, signals): setattr(instance, name, GDSignal.new2(instance, name)).

from __future__ import annotations

import traceback
from typing import Any

from py4godot.functions import standin_engine_error
from py4godot.utils import utils

instantiated_classes: list[Any] = []


def instantiate_class(class_: Any) -> Any:
    from py4godot.classes.Object import Object

    if class_ is None:
        class_ = Object
    try:
        utils.shouldCreateObject = False
        instance = class_()
        instance._ptr = instance.generate_wrapper()
        utils.shouldCreateObject = True
        instance.init_signals()
    except Exception as error:
        standin_engine_error("Exception - creating class didn't work")
        standin_engine_error(str(error))
        standin_engine_error(traceback.format_exc())
        instance = Object()
    instantiated_classes.append(instance)
    return instance


def create_signals(instance: Any, signal_names: list[str]) -> None:
    from py4godot.classes.core import StringName
    from py4godot.signals import GDSignal

    try:
        for name in signal_names:
            setattr(instance, name, GDSignal.new2(instance, StringName(name)))
    except Exception as error:
        standin_engine_error(f"Exception happened: {error}")
