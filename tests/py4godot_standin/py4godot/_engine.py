# Stand-in for the parts of the Godot ENGINE (C++, not py4godot) that py4godot's behaviour
# depends on. Modelled on Godot 4's source, not on py4godot:
# - core/object/ref_counted.cpp: RefCounted starts with refcount 1 and refcount_init 1;
#   init_ref() = reference() and, while refcount_init is still 1 ("not referenced yet"), drop it
#   to 0 and unreference() once (so the first holder takes over the initial count);
#   reference() fails on a count of 0; unreference() returns True ("die") when the count hits 0
#   and leaves deleting to the caller.
# - core/variant/variant.cpp Variant::ObjData: ref_pointer (a Variant made from an Object*)
#   calls init_ref(); ref (a Variant copied from another) calls reference(); unref calls
#   unreference() and memdelete()s on "die". GDScript variables, container slots, signal
#   arguments and return values are such Variants.
# - core/object/object.cpp: ObjectDB (instance ids, is_instance_id_valid), memdelete frees the
#   script instance through its free callback, connect()/emit_signal() on named signals.
# Touching a freed object is a crash in Godot; here it is recorded in `crashes` and raised as
# StandinCrash (tests assert the list stays empty).

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

crashes: list[str] = []
_ids = itertools.count(1)
objects: dict[int, EngineObject] = {}  # ObjectDB


class StandinCrash(AssertionError):
    """What would crash (or corrupt memory in) a real Godot process."""


def crash(text: str) -> StandinCrash:
    crashes.append(text)
    return StandinCrash(text)


_IDENTITY = ("instance_id", "class_name", "ref_counted", "refcount", "refcount_init", "alive")


class EngineObject:
    """One engine-side object: its class, reference counts, script instance, signal
    connections and whatever engine state its class keeps (attributes set by the classes)."""

    def __init__(self, class_name: str, ref_counted: bool) -> None:
        self.instance_id = next(_ids)
        self.class_name = class_name
        self.ref_counted = ref_counted
        self.refcount = 1
        self.refcount_init = 1
        self.alive = True
        self.script: Any = None
        self.instance: Any = None  # py4godot's InstanceData (script_instance/instance.h)
        self.connections: dict[str, list[Callable[..., Any]]] = {}
        objects[self.instance_id] = self

    def check(self, what: str) -> EngineObject:
        if not self.alive:
            raise crash(f"{what}: use of a freed {self.class_name} (id {self.instance_id})")
        return self

    # -- RefCounted (core/object/ref_counted.cpp) -------------------------------------------

    def reference(self) -> bool:
        self.check("reference")
        if self.refcount == 0:
            return False
        self.refcount += 1
        return True

    def unreference(self) -> bool:
        self.check("unreference")
        self.refcount -= 1
        return self.refcount == 0

    def init_ref(self) -> bool:
        if not self.reference():
            return False
        if self.refcount_init == 1:
            self.refcount_init = 0
            self.unreference()
        return True

    def memdelete(self) -> None:
        """Object destructor: the script instance's free callback runs (py4godot's is empty,
        script_instance/instance.h c_free_func) and the id leaves ObjectDB."""
        self.check("memdelete")
        self.alive = False
        self.connections.clear()
        objects.pop(self.instance_id, None)
        release = getattr(self, "standin_release", None)
        if release is not None:
            release()
        for name in list(vars(self)):  # the object's memory is gone (its class's state too)
            if name not in _IDENTITY:
                delattr(self, name)

    # -- signals (core/object/object.cpp) -----------------------------------------------------

    def connect(self, signal: str, callable_: Callable[..., Any]) -> int:
        self.check("connect")
        slots = self.connections.setdefault(signal, [])
        if callable_ in slots:
            from py4godot.functions import standin_engine_error

            standin_engine_error(f"Signal '{signal}' is already connected to that callable.")
            return 31  # ERR_INVALID_PARAMETER
        slots.append(callable_)
        return 0

    def disconnect(self, signal: str, callable_: Callable[..., Any]) -> None:
        self.check("disconnect")
        slots = self.connections.get(signal, [])
        if callable_ in slots:
            slots.remove(callable_)

    def emit(self, signal: str, args: list[Any]) -> None:
        """Object::emit_signalp: every connected callable gets Variants of the arguments,
        held for the duration of the emission."""
        self.check("emit_signal")
        held = [Variant(arg) for arg in args]
        try:
            for callable_ in list(self.connections.get(signal, [])):
                callable_(*[slot.value for slot in held])
        finally:
            for slot in held:
                slot.clear()


class Variant:
    """One Variant slot. Holding an Object keeps a reference to it (Variant::ObjData):
    made from an Object* it calls init_ref(), copied from a Variant it calls reference(),
    cleared it calls unreference() and deletes the object on "die"."""

    __slots__ = ("engine", "value")

    def __init__(self, value: Any, copy_of: Variant | None = None) -> None:
        self.value = value
        self.engine: EngineObject | None = None
        engine = engine_of(value)
        if engine is None:
            return
        engine.check("Variant from Object")
        if not engine.ref_counted:
            self.engine = engine
        elif engine.init_ref() if copy_of is None else engine.reference():
            self.engine = engine
        else:
            self.value = None

    def copy(self) -> Variant:
        return Variant(self.value, copy_of=self)

    def clear(self) -> None:
        engine, self.engine, self.value = self.engine, None, None
        if engine is None or not engine.ref_counted:
            return
        if not engine.alive:
            raise crash(f"Variant cleared after its {engine.class_name} was freed")
        if engine.unreference():
            engine.memdelete()

    def __del__(self) -> None:
        if self.engine is not None:
            self.clear()


def engine_of(value: Any) -> EngineObject | None:
    """The engine object behind a py4godot wrapper (its C++ ``godot_owner``), if any."""
    if isinstance(value, EngineObject):
        return value
    wrapper = getattr(value, "_ptr", None)
    engine = getattr(wrapper, "godot_owner", None)
    return engine if isinstance(engine, EngineObject) else None


def is_instance_id_valid(instance_id: int) -> bool:
    return instance_id in objects


@contextlib.contextmanager
def held(values: list[Any]) -> Iterator[list[Any]]:
    """Temporary Variants around a call (vararg arguments, a Ref<T> argument of an engine
    method): objects are referenced during the call and released after it -- which deletes
    an object whose only count was the pending initial one."""
    slots = [Variant(value) for value in values]
    try:
        yield [slot.value for slot in slots]
    finally:
        for slot in slots:
            slot.clear()
