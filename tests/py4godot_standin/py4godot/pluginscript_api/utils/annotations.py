# Mirrors py4godot/pluginscript_api/utils/annotations.pyx at 4.7-alpha21:
# - exec_class(path): module name = the res:// path with "/" -> "." and ".py" dropped; the file
#   is executed with importlib from the project root (load_module deletes the sys.modules entry
#   first, so every load re-executes it); @gdclass keeps the class only when its name equals the
#   file name (otherwise silently skipped); a second @gdclass in one file raises. Then
#   collect_properties and collect_methods run. ANY exception (an ImportError of the file's
#   imports, a failing get_type_hints...) is printed and swallowed: the script still loads, with
#   gd_class None when the file failed before @gdclass ran, and without the collected methods
#   when collect_properties raised.
# - collect_properties(cls) / get_class_attributes(cls): for every class of cls.__mro__ (except
#   object), base first: get_type_hints(that class) (inherited annotations included), its own
#   vars() minus dunders, callables and UPPERCASE names, and the attribute names read from its
#   *source lines* (inspect.getsource): a stripped line containing "=" and not starting with
#   "def" gives the text before "=" (then before ":"); else a line containing ":" gives the text
#   before ":". Each name found in that class's vars or in the type hints becomes
#   [class value or None, type hint or None], a later (more derived) class overwriting an earlier
#   one. A name is registered when it does not start with "_", is not already a property or
#   signal, and either its value is truthy, not a class and of an accepted type (then
#   prop(name, hint, value)), or else its hint is an accepted type (then prop(name, hint,
#   generate_default_val(hint))). Accepted types: int, str, float, bool, the core classes and
#   Object subclasses. prop() without a type hint registers nothing. So a Python @property alone
#   (its value is a property object, not an accepted type) is NOT a Godot property, and neither is
#   an annotation whose class also defines the @property: the annotated default must sit in a
#   different class of the MRO than the @property. issubclass(None, Object) raises TypeError for
#   an unannotated attribute with a falsy value (swallowed by exec_class as above).
# - generate_default_val: 0, 0.0, "", False, Object subclasses .new() (made once, when the
#   script loads), core types .new0(). prop() records the default *before* replacing a falsy one.
# - collect_methods / gdmethod: every function (inspect.getmembers), argument names from
#   inspect.getfullargspec.
# Classes of the py4godot package itself are skipped by the stand-in's attribute scan: the
# generated engine classes declare no annotated class attributes (their Godot properties are
# Python @property), so they contribute nothing in py4godot either.

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import traceback
from collections import OrderedDict
from typing import Any, get_type_hints

from py4godot.functions import standin_engine_error

class_name = ""
gd_class: Any = None
is_tool = False
signals: list[tuple[str, list[Any]]] = []
properties: list[tuple[str, Any, Any]] = []  # (name, type, default written at instance creation)
methods: list[tuple[str, list[str]]] = []
already_registered_property_names: list[str] = []
already_registered_signal_names: list[str] = []
standin_project_root: str | None = None  # stand-in only: None -> the working directory


def _resolve(path: str) -> str:
    return os.path.join(standin_project_root or os.getcwd(), path.replace("res://", ""))


def load_module(module_name: str, file_to_load: str) -> Any:
    if module_name in sys.modules:
        del sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, _resolve(file_to_load))
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"Cannot find the module file: {file_to_load}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[module_name] = module
    return module


def _source_attribute_names(cls: type) -> list[str]:
    order: list[str] = []
    for raw in inspect.getsource(cls).split("\n"):
        line = raw.strip()
        if "=" in line and not line.startswith("def"):
            name = line.split("=")[0].strip()
            if ":" in name:
                name = name.split(":")[0].strip()
        elif ":" in line and not line.startswith("def"):
            name = line.split(":")[0].strip()
        else:
            continue
        if name not in order and not name.isupper():
            order.append(name)
    return order


def get_class_attributes(cls: type) -> OrderedDict[str, list[Any]]:
    attributes: OrderedDict[str, list[Any]] = OrderedDict()
    for base in reversed(cls.__mro__[:-1]):
        hints = get_type_hints(base)
        class_vars = {
            key: value
            for key, value in vars(base).items()
            if not key.startswith("__") and not callable(value) and not key.isupper()
        }
        if base.__module__.split(".")[0] == "py4godot":
            continue  # generated engine classes: see the module comment
        try:
            order = _source_attribute_names(base)
        except (OSError, TypeError):
            continue
        for key in order:
            entry = [class_vars.get(key), hints.get(key)]
            if entry != [None, None]:
                attributes[key] = entry
    return attributes


def generate_default_val(type_: Any) -> Any:
    from py4godot.classes.Object import Object

    if type_ is int:
        return 0
    if type_ is float:
        return 0.0
    if type_ is str:
        return ""
    if type_ is bool:
        return False
    if issubclass(type_, Object):
        return type_.new()
    return type_.new0()


def _is_class(value: Any) -> bool:
    return type(int) is type(value)  # annotations.pyx is_class


def type_is_accepted(type_: Any) -> bool:
    import py4godot.classes.core as core
    from py4godot.classes.Object import Object

    return (
        type_ in (int, str, float, bool) or type_ in core.core_classes or issubclass(type_, Object)
    )


def prop(name: str, type_: Any, default: Any) -> None:
    from py4godot.classes.Object import Object

    if not type_:
        return
    already_registered_property_names.append(name)
    written = default  # default_values.append(defaultval) comes before the falsy fix below
    if issubclass(type_, Object):
        type_ = Object
    properties.append((name, type_, written))


def collect_properties(cls: Any) -> None:
    if cls is None:
        return
    found = get_class_attributes(cls)
    for name, (value, hint) in found.items():
        if name.startswith("_"):
            continue
        if name in already_registered_property_names or name in already_registered_signal_names:
            continue
        if value and not _is_class(value):
            if type_is_accepted(type(value)):
                prop(name, hint, value)
        elif type_is_accepted(hint):
            prop(name, hint, generate_default_val(hint))


def collect_methods(cls: Any) -> None:
    if cls is None:
        return
    for name, func in inspect.getmembers(cls, predicate=inspect.isfunction):
        methods.append((name, inspect.getfullargspec(func).args))


def exec_class(path: str) -> dict[str, Any]:
    """Run the script file at ``path``; the transfer object py4godot hands to C++."""
    global class_name, gd_class, is_tool, signals, properties, methods
    gd_class, is_tool, signals, properties, methods = None, False, [], [], []
    already_registered_property_names.clear()
    already_registered_signal_names.clear()
    try:
        class_name = path.split("/")[-1].replace(".py", "")
        module_name = path.replace("res://", "").replace("/", ".").replace(".py", "")
        load_module(module_name, path.replace("res://", ""))
        collect_properties(gd_class)
        collect_methods(gd_class)
    except Exception:
        standin_engine_error("exec_class: Exception happened:")
        standin_engine_error(f"class to load:{path}")
        standin_engine_error(f"exec_class: Exception happened: {traceback.format_exc()}")
    return {
        "class_": gd_class,
        "signals": list(signals),
        "properties": list(properties),
        "methods": list(methods),
        "is_tool": is_tool,
    }


def _decorate(cls: Any, tool: bool) -> Any:
    global gd_class, is_tool
    if cls.__name__ != class_name:
        properties.clear()
        return cls
    if gd_class is not None:
        raise Exception(
            f"More than one class was marked as gd_class or gd_tool_class in one file "
            f"({class_name}, {gd_class}, {cls})"
        )
    gd_class, is_tool = cls, tool
    return cls


def gdclass(cls: Any = None, icon: Any = None) -> Any:
    if cls is not None:
        return _decorate(cls, False)
    return lambda klass: _decorate(klass, False)


def gdtool(cls: Any = None, icon: Any = None) -> Any:
    if cls is not None:
        return _decorate(cls, True)
    return lambda klass: _decorate(klass, True)


def signal(name: str, args: list[Any] | None = None) -> None:
    already_registered_signal_names.append(name)
    signals.append((name, list(args or [])))
