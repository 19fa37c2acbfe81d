"""The addon's test environment: the py4godot stand-in plus the Godot project root on sys.path.

Import this module before anything from ``py4godot`` or ``addons``. It puts
``tests/py4godot_standin`` (the stand-in package ``py4godot``) and the repository root (the
Godot project root, ``res://``) at the front of ``sys.path``. py4godot itself appends the project
root (Godot's working directory) to ``sys.path`` and loads ``res://addons/godot_livekit/X.py`` as
module ``addons.godot_livekit.X``; adding the root rather than ``addons/`` keeps that naming.

The helpers below do what GDScript does: :func:`new_object` is LiveKit.gd's ``instantiate``
(ClassDB.instantiate of the script's base class + ``set_script``) and :class:`GD` calls methods
and connects signals through the engine object, the way GDScript reaches a Python script.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
STANDIN_DIR = REPO_ROOT / "tests" / "py4godot_standin"
ADDON_DIR = REPO_ROOT / "addons" / "godot_livekit"
RES_ADDON_DIR = "res://addons/godot_livekit"

for _path in (str(REPO_ROOT), str(STANDIN_DIR)):
    if _path in sys.path:
        sys.path.remove(_path)
    sys.path.insert(0, _path)

import py4godot.pluginscript_api.utils.annotations as _annotations  # noqa: E402
from py4godot.classes.Object import Object, _native_classes  # noqa: E402
from py4godot.classes.ResourceLoader import ResourceLoader  # noqa: E402

_annotations.standin_project_root = str(REPO_ROOT)


def script_path(class_name: str) -> str:
    return f"{RES_ADDON_DIR}/{class_name}.py"


def load_script(class_name: str) -> Any:
    """The addon script ``class_name`` as Godot loads it (None when it does not exist)."""
    return ResourceLoader.instance().load(script_path(class_name))


def new_object(class_name: str) -> GD:
    """A new engine object running the addon script, as LiveKit.gd's ``instantiate`` makes it."""
    script = load_script(class_name)
    assert script is not None and script.can_instantiate(), f"cannot load {class_name}.py"
    engine_object = _native_classes[script.get_instance_base_type()].new()
    engine_object.set_script(script)
    return GD(engine_object)


def gd_value(value: Any) -> Any:
    """A value as GDScript sees it: engine objects become :class:`GD` handles."""
    if isinstance(value, Object) and getattr(value, "_native", None) is not None:
        return GD(value)
    return value


class GD:
    """What GDScript holds: an engine object. ``handle.method(args)`` is a GDScript call."""

    def __init__(self, engine_object: Any) -> None:
        self.__dict__["engine_object"] = engine_object

    def __getattr__(self, method: str) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            engine_args = [a.engine_object if isinstance(a, GD) else a for a in args]
            return gd_value(self.engine_object.call(method, *engine_args))

        return call

    def get(self, prop: str) -> Any:
        return gd_value(self.engine_object.get(prop))

    def set(self, prop: str, value: Any) -> None:
        self.engine_object.set(prop, value.engine_object if isinstance(value, GD) else value)

    def connect(self, signal: str, handler: Callable[..., Any]) -> int:
        return self.engine_object.connect(signal, lambda *a: handler(*[gd_value(v) for v in a]))

    def has_signal(self, signal: str) -> bool:
        return self.engine_object.has_signal(signal)

    @property
    def script_instance(self) -> Any:
        """The Python object behind the engine object (py4godot's get_pyscript())."""
        return self.engine_object.get_pyscript()

    @property
    def instance_id(self) -> int:
        return self.engine_object.get_instance_id()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GD) and other.instance_id == self.instance_id

    def __hash__(self) -> int:
        return self.instance_id

    def __repr__(self) -> str:
        return f"<GD {type(self.script_instance).__name__} #{self.instance_id}>"
