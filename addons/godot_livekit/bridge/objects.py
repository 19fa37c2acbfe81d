"""One Godot object per core object, method guards and error reporting.

Every addon class mixes in :class:`Wrapper`: it holds the core object (``_lk_core``) and
forwards the core's signals as Godot signals, converting their arguments.

Identity: a core object reaches GDScript as exactly one Godot object.
- Objects GDScript makes itself (rooms, sources, local tracks, streams, captures, E2EE options)
  are *adopted* when their core object is attached: ``adopted`` maps the core object to them.
- Objects the core makes (participants, publications, remote tracks, E2EE manager...) get a
  Godot object the first time they cross the boundary; their room's :class:`Registry` keeps it
  until the core says the object is gone (participant left, track unpublished or unsubscribed,
  room disconnected), so a participant is the same Godot object in every signal and getter.
Lifetimes (who frees what, without finalizers) are in :mod:`.lifecycle`.

Creating a Godot object for a script from Python is what py4godot's own ``signals.pyx`` does
for lambda handlers: ``X.new()``, ``set_script(ResourceLoader.instance().load(path))``,
``get_pyscript()``; see :func:`new_wrapper` for the reference counting around it.
"""

from __future__ import annotations

import ctypes
import functools
import inspect
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from py4godot import functions
from py4godot.classes.RefCounted import RefCounted
from py4godot.classes.ResourceLoader import ResourceLoader

from godot_livekit.errors import LiveKitError, redact
from godot_livekit.signals import declared_signals

from . import lifecycle

SCRIPT_DIR = "res://addons/godot_livekit"
EXPECTED_ERRORS = (TypeError, ValueError, LiveKitError)

F = TypeVar("F", bound=Callable[..., Any])


# ------------------------------------------------------------------------ errors


def report(where: str, error: BaseException) -> None:
    """Print a core error as a Godot error (tokens and JWTs scrubbed)."""
    if isinstance(error, EXPECTED_ERRORS):
        text = f"{where}: {error}"
    else:
        text = f"{where}: unexpected {type(error).__name__}: {error}\n{traceback.format_exc()}"
    functions.push_error(redact(text))


LONG_LIMIT = 1 << (ctypes.sizeof(ctypes.c_long) * 8 - 1)
"""py4godot hands Godot an int through a C ``long`` (Variant.cpp ``construct_int``:
``PyLong_AsLong``): 64 bits on Linux and macOS, 32 on Windows, where an int outside
[-LONG_LIMIT, LONG_LIMIT) would arrive as -1 with an OverflowError left pending."""


def godot_scalar(value: Any) -> Any:
    """``value`` as a number py4godot can hand Godot intact: an int too wide for a C long as a
    float (exact up to 2^53: a microsecond timestamp, a byte or frame count), a numpy scalar
    as the Python number it holds (py4godot converts by type name, and "float64" would be read
    as an Object pointer: Variant.cpp ``construct_Object``). Anything else unchanged."""
    if type(value) is int:
        return value if -LONG_LIMIT <= value < LONG_LIMIT else float(value)
    if isinstance(value, np.generic):
        return godot_scalar(value.item())
    return value


def guard(default: Any = None) -> Callable[[F], F]:
    """Never let an exception reach Godot: print it with :func:`report` and return
    ``default`` (called when it is a factory such as ``Dictionary.new0``).

    The wrapper keeps the method's ``__signature__``: py4godot registers methods with
    ``inspect.getfullargspec``, which reads it, so Godot sees the real argument names.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return godot_scalar(func(self, *args, **kwargs))
            except Exception as error:
                report(f"{type(self).__name__}.{func.__name__}", error)
                return default() if callable(default) else default

        guarded.__signature__ = inspect.signature(func)  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


# ------------------------------------------------------------------------ wrappers


class Wrapper:
    """Mixin of every addon class (no class annotations here: py4godot reads them as
    property declarations, see declarations.py)."""

    _lk_core = None
    _lk_registry = None
    _lk_slots = None
    _lk_held = False  # the addon holds one Godot reference (lifecycle.py)
    _lk_in_registry = False  # a room still hands this object out
    _lk_freed = False  # lifecycle.free ran: the Godot object is gone
    LK_CREATE_HINT = ""  # e.g. "create()": what GDScript calls to initialise the object

    def _lk(self) -> Any:
        """The core object; LiveKitError when the object was never initialised."""
        core = self._lk_core
        if core is None and not self._lk_freed:
            core = self._lk_new_core()
        if core is None:
            hint = f": call {self.LK_CREATE_HINT} first" if self.LK_CREATE_HINT else ""
            raise LiveKitError(f"this {type(self).__name__} is not initialised{hint}")
        return core

    def _lk_new_core(self) -> Any:
        """Classes whose core object needs no arguments make it on first use (here)."""
        return None

    def _lk_bind(self, core: Any, registry: Registry | None = None) -> None:
        """Attach the core object and forward each core signal this class declares too
        (a core signal the Godot class does not declare is not forwarded)."""
        self._lk_unbind()
        self._lk_core = core
        self._lk_registry = registry if registry is not None else DETACHED
        self._lk_slots = []
        for name in declared_signals(type(core)):
            if not _declares(type(self), name):
                continue
            handler = functools.partial(self._lk_on_core_signal, name)
            getattr(core, name).connect(handler)
            self._lk_slots.append((getattr(core, name), handler))

    def _lk_unbind(self) -> None:
        for core_signal, handler in self._lk_slots or ():
            if core_signal.is_connected(handler):
                core_signal.disconnect(handler)
        self._lk_slots = []

    def _lk_on_core_signal(self, name: str, *args: Any) -> None:
        """A core signal fired (main thread, inside a poll): emit the Godot one."""
        self._lk_emit(name, *args)

    def _lk_emit(self, name: str, *args: Any) -> None:
        getattr(self, name).emit(*[self._lk_godot(arg) for arg in args])

    def _lk_godot(self, value: Any) -> Any:
        """A core value for Godot, core objects mapped through this object's registry."""
        from .convert import to_godot

        registry = self._lk_registry
        return to_godot(value, registry if registry is not None else DETACHED)

    # -- lifecycle hooks (lifecycle.free) ----------------------------------------------------

    def _lk_close(self) -> None:
        """Free what this object owns (native streams, threads, connections)."""

    def _lk_forget(self) -> None:
        """Drop every Python reference this object keeps: py4godot never frees the script
        instance itself, so whatever it still points to would live forever."""
        self._lk_unbind()
        core = self._lk_core
        if core is not None and adopted.get(id(core)) is self:
            del adopted[id(core)]
        for name in list(vars(self)):
            if name.startswith("_lk_") and name != "_lk_held":
                delattr(self, name)
        self._lk_freed = True


def _declares(cls: type, name: str) -> bool:
    """Whether the Godot class declares a signal ``name`` (``name = signal(...)`` leaves a
    class attribute; py4godot makes the instance's signal object from it)."""
    return any(name in vars(klass) for klass in cls.__mro__ if klass.__module__ != "builtins")


adopted: dict[int, Wrapper] = {}
"""id(core object) -> the GDScript-made Godot object it belongs to (removed when freed)."""


def adopt(wrapper: Wrapper, core: Any, registry: Registry | None = None) -> None:
    """``wrapper`` (made by GDScript) is the Godot object of ``core``; the addon holds it from
    now on (call only inside one of the object's methods)."""
    previous = wrapper._lk_core
    if previous is not None and adopted.get(id(previous)) is wrapper:
        del adopted[id(previous)]
    wrapper._lk_bind(core, registry)
    adopted[id(core)] = wrapper
    lifecycle.hold(wrapper)  # type: ignore[arg-type]


def _identity_key(core: Any) -> Any:
    """What makes two core objects the same thing for GDScript: the object itself, except
    for frame cryptors, which the core makes anew on every ``get_frame_cryptors()`` call and
    which are the same cryptor when participant and track are."""
    if type(core).__name__ == "LiveKitFrameCryptor":
        return ("LiveKitFrameCryptor", core.get_participant_identity(), core.get_track_sid())
    return id(core)


class Registry:
    """The Godot objects of the core objects one room hands out (see the module docstring)."""

    def __init__(self) -> None:
        self._owned: dict[Any, Wrapper] = {}
        self._pinned: dict[int, Wrapper] = {}

    def wrapper_for(self, core: Any) -> Wrapper:
        found = adopted.get(id(core)) or self._pinned.get(id(core))
        if found is not None and found._lk_core is core:
            return found
        key = _identity_key(core)
        found = self._owned.get(key)
        if found is not None:
            if found._lk_core is not core:  # same cryptor, new core object: follow it
                found._lk_bind(core, self)
            return found
        wrapper = new_wrapper(type(core).__name__)
        wrapper._lk_bind(core, self)
        wrapper._lk_in_registry = True
        self._owned[key] = wrapper
        return wrapper

    def pin(self, core: Any) -> Wrapper:
        """The Godot object of ``core``, kept until :meth:`release_all` whatever the core
        says (the local participant: the same object across sessions)."""
        wrapper = self.wrapper_for(core)
        self._owned.pop(_identity_key(core), None)
        self._pinned[id(core)] = wrapper
        return wrapper

    def release(self, core: Any) -> None:
        """The core object is gone: stop forwarding its signals; the Godot object is freed
        now if GDScript does not hold it, else once it lets go (getters then return the
        defaults of a stale object)."""
        key = _identity_key(core)
        wrapper = self._owned.get(key)
        if wrapper is not None and wrapper._lk_core is core:
            del self._owned[key]
            self._let_go(wrapper)

    def release_stale(self) -> None:
        """Release every object whose core says it is stale (after a disconnect)."""
        for wrapper in list(self._owned.values()):
            is_stale = getattr(wrapper._lk_core, "is_stale", None)
            if is_stale is not None and is_stale():
                self.release(wrapper._lk_core)

    def release_all(self) -> None:
        """Release every object (the room itself is being freed)."""
        owned, self._owned = self._owned, {}
        pinned, self._pinned = self._pinned, {}
        for wrapper in [*owned.values(), *pinned.values()]:
            self._let_go(wrapper)

    @staticmethod
    def _let_go(wrapper: Wrapper) -> None:
        wrapper._lk_unbind()
        wrapper._lk_in_registry = False
        lifecycle.free_if_unused(wrapper)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self._owned) + len(self._pinned)


DETACHED = Registry()  # for objects that belong to no room


# -- large rooms (issue 12): objects the core makes for the game to own -----------------------


def game_owned(core: Any, registry: Registry | None = None) -> Wrapper:
    """A new Godot object for ``core``, owned by the game as if GDScript had made it (stream
    writers, local data tracks, data track subscriptions): not kept by a room, held by the
    addon and freed -- closing what it owns -- once the game drops it (lifecycle.py).
    ``registry`` maps the core objects its getters return (a subscription's track)."""
    wrapper = new_wrapper(type(core).__name__)
    wrapper._lk_bind(core, registry)
    adopted[id(core)] = wrapper
    return wrapper


# -- end large rooms


# ------------------------------------------------------------------------ scripts

_scripts: dict[str, Any] = {}


def load_script(class_name: str) -> Any:
    """The addon script ``<class_name>.py``, loaded once and kept (py4godot re-executes a
    script's module each time Godot loads it afresh)."""
    script = _scripts.get(class_name)
    if script is None:
        path = f"{SCRIPT_DIR}/{class_name}.py"
        script = ResourceLoader.instance().load(path)
        if script is None:
            raise LiveKitError(f"cannot load {path}")
        _scripts[class_name] = script
    return script


def new_wrapper(class_name: str) -> Wrapper:
    """A new Godot object running the addon script ``<class_name>.py``, holding one reference
    that belongs to the addon (lifecycle.py); returns its Python side.

    ``RefCounted.new()`` leaves Godot's initial reference pending: the first Variant to take
    the object (a signal argument) would adopt that count and delete the object when it is
    cleared. ``init_ref()`` settles it as ours. py4godot's wrapper from ``new()`` would release
    a count (or delete the object) in its ``__del__``, which runs whenever the garbage collector
    gets to it (every generated wrapper sits in a reference cycle with its engine signals);
    ``casted_from = 1`` turns that off -- py4godot's own device for wrappers that own nothing
    (PyScriptInstance.pyx ``unrefcount``).
    """
    script = load_script(class_name)
    holder = RefCounted.new()
    holder.casted_from = 1
    holder.init_ref()
    holder.set_script(script)
    wrapper = holder.get_pyscript()
    if not isinstance(wrapper, Wrapper):
        raise LiveKitError(f"{class_name}.py did not make a {class_name} object")
    lifecycle.take(wrapper)  # type: ignore[arg-type]
    return wrapper


def script_instance(value: Any) -> Any:
    """The addon object behind a Godot object py4godot passed in (py4godot hands Python a
    wrapper of the *native* class; ``get_pyscript()`` reaches the script instance)."""
    if isinstance(value, Wrapper):
        return value
    get_pyscript = getattr(value, "get_pyscript", None)
    return get_pyscript() if get_pyscript is not None else None


def core_of(value: Any, what: str) -> Any:
    """The core object behind a Godot object GDScript passed in (``what`` names the
    argument)."""
    instance = script_instance(value)
    if not isinstance(instance, Wrapper):
        raise TypeError(f"{what} must be a LiveKit object, got {type(value).__name__}")
    return instance._lk()
