"""The addon's test environment: the py4godot stand-in, the Godot project root, and GDScript.

Import this module before anything from ``py4godot`` or ``addons``. It puts
``tests/py4godot_standin`` (the stand-in package ``py4godot``) and the repository root (the Godot
project root, ``res://``) at the front of ``sys.path``. py4godot itself appends the project root
(Godot's working directory) to ``sys.path`` and loads ``res://addons/godot_livekit/X.py`` as
module ``addons.godot_livekit.X``; adding the root rather than ``addons/`` keeps that naming.

Tests play GDScript's part:
- :func:`new_object` is LiveKit.gd's ``instantiate``: ``ClassDB.instantiate`` of the script's
  base class, held in a variable, then ``set_script``.
- :class:`GD` is a GDScript variable: it holds one Variant (an object in it keeps a reference, as
  in Godot) and calls methods, reads and writes properties and connects signals through the
  engine object, the way GDScript reaches a Python script. Dropping the handle (``drop()`` or
  garbage collection) releases that reference.
- :func:`gd_list` / :func:`gd_dict` read Godot containers the way GDScript does (``a[i]``), not
  through py4godot's Python wrappers.
- The autouse fixture :func:`no_standin_crashes` (import it into a test module) fails a test
  that did something a real py4godot process would crash on.
"""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STANDIN_DIR = REPO_ROOT / "tests" / "py4godot_standin"
ADDON_DIR = REPO_ROOT / "addons" / "godot_livekit"
RES_ADDON_DIR = "res://addons/godot_livekit"

for _path in (str(REPO_ROOT), str(STANDIN_DIR)):
    if _path in sys.path:
        sys.path.remove(_path)
    sys.path.insert(0, _path)

import py4godot.pluginscript_api.utils.annotations as _annotations  # noqa: E402
from py4godot import _engine  # noqa: E402
from py4godot.classes.ClassDB import ClassDB  # noqa: E402
from py4godot.classes.core import Array, Dictionary, to_godot  # noqa: E402
from py4godot.classes.Object import (  # noqa: E402
    object_call,
    object_connect,
    object_get,
    object_has_method,
    object_has_signal,
    object_set,
    script_database,
)
from py4godot.classes.ResourceLoader import ResourceLoader  # noqa: E402

_annotations.standin_project_root = str(REPO_ROOT)
_scripts: dict[str, Any] = {}  # LiveKit.gd's `_loaded`: scripts stay loaded


def gd_null(value: Any) -> bool:
    """True for what GDScript receives where an addon method returns None (the reference's
    null): py4godot 4.7-alpha21 hands Godot the int 0 instead (the stand-in's core.NIL_INT;
    the addon's bridge.convert.NO_OBJECT for signal arguments and containers)."""
    return type(value) is int and value == 0


def res_file(res_path: str) -> Path:
    """The repository file behind a ``res://`` path."""
    return REPO_ROOT / res_path.removeprefix("res://")


def shader_source(path: Path) -> str:
    """A .gdshader with its ``#include`` files pasted in, as Godot's shader preprocessor does
    (a missing include fails the test that reads it)."""
    text = path.read_text(encoding="utf-8")

    def include(match: re.Match[str]) -> str:
        target = res_file(match.group(1))
        assert target.is_file(), f"{path.name} includes missing {match.group(1)}"
        return shader_source(target)

    return re.sub(r'^#include "([^"]+)"$', include, text, flags=re.M)


def script_path(class_name: str) -> str:
    return f"{RES_ADDON_DIR}/{class_name}.py"


def load_script(class_name: str) -> Any:
    """The addon script ``class_name`` as Godot loads it (None when it cannot be read)."""
    if class_name not in _scripts:
        script = ResourceLoader.instance().load(script_path(class_name))
        if script is None:
            return None
        _scripts[class_name] = script
    return _scripts[class_name]


def new_object(class_name: str) -> GD:
    """A new engine object running the addon script, as LiveKit.gd's ``instantiate`` makes it."""
    script = load_script(class_name)
    assert script is not None, f"cannot load {class_name}.py"
    base = script.get_instance_base_type()
    assert base and ClassDB.instance().can_instantiate(base), f"{class_name}.py: base {base!r}"
    handle = GD(ClassDB.instance().instantiate(base))
    object_call(handle.engine_object, "set_script", [to_godot(script)])
    return handle


def gd_new(class_name: str) -> GD:
    """``var x = ClassName.new()`` in GDScript, for an engine class."""
    return GD(ClassDB.instance().instantiate(class_name))


def gd_var(value: Any) -> GD:
    """``var x = value`` for an object a py4godot call returned (a Python wrapper)."""
    return GD(to_godot(value))


def _godot_arg(value: Any) -> Any:
    """A GDScript value as it reaches the engine."""
    if isinstance(value, GD):
        return value.godot_value
    return to_godot(value)


def gd_value(godot_value: Any) -> Any:
    """A Godot-side value as GDScript holds it: objects become :class:`GD` handles; builtin
    values are handed over as py4godot wrappers (read them with gd_list/gd_dict)."""
    from py4godot.classes.core import to_python

    if isinstance(godot_value, _engine.EngineObject):
        return GD(godot_value)
    if isinstance(godot_value, str):
        return godot_value
    return to_python(godot_value)


def gd_list(array: Any) -> list[Any]:
    """``[a[0], a[1], ...]`` as GDScript reads an Array."""
    assert isinstance(array, Array), f"not an Array: {type(array).__name__}"
    return [gd_value(slot.value) for slot in array._data.slots]


def gd_dict(dictionary: Any) -> dict[Any, Any]:
    """``{k: d[k]}`` as GDScript reads a Dictionary."""
    assert isinstance(dictionary, Dictionary), f"not a Dictionary: {type(dictionary).__name__}"
    return {gd_value(key): gd_value(slot.value) for key, slot in dictionary._data.slots.items()}


def gd_dictionary(**items: Any) -> Dictionary:
    """A GDScript dictionary literal ``{"key": value, ...}`` (values may be GD handles)."""
    result = Dictionary.new0()
    for key, value in items.items():
        result._data.slots[key] = _engine.Variant(_godot_arg(value))
    return result


def gd_array(*items: Any) -> Array:
    """A GDScript array literal ``[a, b, ...]`` (items may be GD handles)."""
    result = Array.new0()
    for item in items:
        result._data.slots.append(_engine.Variant(_godot_arg(item)))
    return result


class GD:
    """What GDScript holds in a variable: one Variant. ``handle.method(args)`` is a GDScript
    call, ``handle.get(p)`` / ``handle.set(p, v)`` a property access."""

    def __init__(self, godot_value: Any) -> None:
        self.__dict__["_slot"] = _engine.Variant(godot_value)

    @property
    def godot_value(self) -> Any:
        return self._slot.value

    @property
    def engine_object(self) -> _engine.EngineObject:
        engine = self._slot.engine
        assert engine is not None, "this GDScript variable is null"
        return engine.check("GDScript access")

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("__"):
            raise AttributeError(method)

        def call(*args: Any) -> Any:
            with _engine.held([_godot_arg(a) for a in args]) as godot_args:
                return gd_value(object_call(self.engine_object, method, godot_args))

        return call

    def get(self, prop: str) -> Any:
        return gd_value(object_get(self.engine_object, prop))

    def set(self, prop: str, value: Any) -> None:
        object_set(self.engine_object, prop, _godot_arg(value))

    def has_method(self, method: str) -> bool:
        return object_has_method(self.engine_object, method)

    def has_signal(self, signal: str) -> bool:
        return object_has_signal(self.engine_object, signal)

    def connect(self, signal: str, handler: Callable[..., Any]) -> int:
        def slot(*godot_args: Any) -> None:
            handler(*[gd_value(value) for value in godot_args])

        return object_connect(self.engine_object, signal, slot)

    def reference_count(self) -> int:
        return self.engine_object.refcount

    def drop(self) -> None:
        """``variable = null``."""
        self._slot.clear()

    @property
    def script_instance(self) -> Any:
        """The Python object behind the engine object (py4godot's get_pyscript())."""
        return script_database.get(self.engine_object.instance_id)

    @property
    def instance_id(self) -> int:
        return self._slot.engine.instance_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GD) and other._slot.engine is self._slot.engine

    def __hash__(self) -> int:
        return hash(id(self._slot.engine))

    def __repr__(self) -> str:
        engine = self._slot.engine
        if engine is None:
            return "<GD null>"
        instance = script_database.get(engine.instance_id)
        name = type(instance).__name__ if instance else engine.class_name
        return f"<GD {name} #{engine.instance_id}>"


def is_freed(instance_id: int) -> bool:
    """True once Godot deleted the object with this id (ObjectDB no longer has it)."""
    return not _engine.is_instance_id_valid(instance_id)


@pytest.fixture(autouse=True)
def no_standin_crashes() -> Iterator[None]:
    """Fail a test during which something happened that crashes a real py4godot process.
    (Also starts the test with an empty log queue: records other tests logged are not
    this test's.)

    At the end, the wrappers py4godot keeps of Objects that left a Variant are let go, as the
    engine's next call into any script does (``cast_helpers.clear_vals`` in
    ``PyScriptInstance.instance_call``, every frame in a game): a wrapper that releases a count
    it does not own does its harm then, and it is this test's harm."""
    from py4godot.core.variant4 import cast_helpers

    from addons.godot_livekit.bridge import logs

    logs.drain_silently()
    before = len(_engine.crashes)
    yield
    cast_helpers.clear_vals()
    gc.collect()
    gc.freeze()  # what survived is alive: the next test's collection scans only its own objects
    crashes = _engine.crashes[before:]
    assert not crashes, "would crash under py4godot:\n" + "\n".join(crashes)
