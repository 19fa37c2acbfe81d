"""One Godot object per core object, method guards and error reporting.

Every addon class mixes in :class:`Wrapper`: it holds the core object (``_lk_core``) and
forwards the core's signals as Godot signals, converting their arguments.

Identity: a core object reaches GDScript as exactly one Godot object.
- Objects GDScript makes itself (rooms, sources, local tracks, streams, captures) are
  *adopted*: a weak map ``id(core) -> wrapper``; GDScript (through py4godot) keeps them alive.
- Objects the core makes (participants, publications, remote tracks) get a Godot object the
  first time they cross the boundary; their room's :class:`Registry` keeps it until the core
  says the object is gone (participant left, track unpublished/unsubscribed, room
  disconnected), so a participant is the same Godot object in every signal and getter.

Creating a Godot object for a script from Python is what py4godot's own ``signals.pyx`` does
for lambda handlers: ``Node.new()``, ``set_script(ResourceLoader.instance().load(path))``,
``get_pyscript()``.
"""

from __future__ import annotations

import functools
import inspect
import traceback
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from py4godot import functions
from py4godot.classes.RefCounted import RefCounted
from py4godot.classes.ResourceLoader import ResourceLoader

from godot_livekit.errors import LiveKitError, redact
from godot_livekit.signals import declared_signals

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
                return func(self, *args, **kwargs)
            except Exception as error:
                report(f"{type(self).__name__}.{func.__name__}", error)
                return default() if callable(default) else default

        guarded.__signature__ = inspect.signature(func)  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


# ------------------------------------------------------------------------ wrappers


class Wrapper:
    """Mixin of every addon class (no class annotations: py4godot evaluates them)."""

    _lk_core = None
    _lk_registry = None
    _lk_holder = None  # the RefCounted that keeps a Python-made Godot object alive
    _lk_slots = None  # (core signal, handler) pairs, to disconnect on release
    LK_CREATE_HINT = ""  # e.g. "create()": what GDScript calls to initialise the object

    def _lk(self) -> Any:
        """The core object; LiveKitError when the object was never initialised."""
        core = self._lk_core
        if core is None:
            hint = f": call {self.LK_CREATE_HINT} first" if self.LK_CREATE_HINT else ""
            raise LiveKitError(f"this {type(self).__name__} is not initialised{hint}")
        return core

    def _lk_bind(self, core: Any, registry: Registry | None = None) -> None:
        """Attach the core object and forward each core signal this class declares too."""
        self._lk_unbind()
        self._lk_core = core
        self._lk_registry = registry or DETACHED
        self._lk_slots = []
        for name in declared_signals(type(core)):
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

        return to_godot(value, self._lk_registry or DETACHED)


_adopted: weakref.WeakValueDictionary[int, Wrapper] = weakref.WeakValueDictionary()


def adopt(wrapper: Wrapper, core: Any, registry: Registry | None = None) -> None:
    """``wrapper`` (made and kept alive by GDScript) is the Godot object of ``core``."""
    wrapper._lk_bind(core, registry)
    _adopted[id(core)] = wrapper


def _identity_key(core: Any) -> Any:
    """What makes two core objects the same thing for GDScript: the object itself, except
    for frame cryptors, which the core makes anew on every ``get_frame_cryptors()`` call and
    which are the same cryptor when participant and track are."""
    if type(core).__name__ == "LiveKitFrameCryptor":
        return ("LiveKitFrameCryptor", core._identity, core._track_sid)
    return id(core)


class Registry:
    """The Godot objects of the core objects one room hands out (see the module docstring)."""

    def __init__(self) -> None:
        self._owned: dict[Any, Wrapper] = {}

    def wrapper_for(self, core: Any) -> Wrapper:
        found = _adopted.get(id(core))
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
        self._owned[key] = wrapper
        return wrapper

    def pin(self, core: Any) -> Wrapper:
        """The Godot object of ``core``, kept by the caller from now on (never released)."""
        wrapper = self.wrapper_for(core)
        self._owned.pop(_identity_key(core), None)
        _adopted[id(core)] = wrapper
        return wrapper

    def release(self, core: Any) -> None:
        """The core object is gone: stop forwarding its signals and let Godot free its object
        once GDScript drops it (getters then return the defaults of a stale object)."""
        key = _identity_key(core)
        wrapper = self._owned.get(key)
        if wrapper is not None and wrapper._lk_core is core:
            del self._owned[key]
            wrapper._lk_unbind()
            wrapper._lk_holder = None

    def release_stale(self) -> None:
        """Release every object whose core says it is stale (after a disconnect)."""
        for wrapper in list(self._owned.values()):
            is_stale = getattr(wrapper._lk_core, "is_stale", None)
            if is_stale is not None and is_stale():
                self.release(wrapper._lk_core)

    def __len__(self) -> int:
        return len(self._owned)


DETACHED = Registry()  # for objects that belong to no room


# ------------------------------------------------------------------------ scripts

_scripts: dict[str, Any] = {}


def new_wrapper(class_name: str) -> Wrapper:
    """A new Godot object running the addon script ``<class_name>.py``; its Python side."""
    script = _scripts.get(class_name)
    if script is None:
        path = f"{SCRIPT_DIR}/{class_name}.py"
        script = ResourceLoader.instance().load(path)
        if script is None:
            raise LiveKitError(f"cannot load {path}")
        _scripts[class_name] = script
    holder = RefCounted.new()
    holder.set_script(script)
    wrapper = holder.get_pyscript()
    if not isinstance(wrapper, Wrapper):
        raise LiveKitError(f"{class_name}.py did not make a {class_name} object")
    wrapper._lk_holder = holder
    return wrapper


def core_of(value: Any, what: str) -> Any:
    """The core object behind a Godot object GDScript passed in (``what`` names the
    argument). py4godot hands Python a wrapper of the *native* class; ``get_pyscript()``
    reaches the addon object."""
    instance = value
    if not isinstance(instance, Wrapper):
        get_pyscript = getattr(value, "get_pyscript", None)
        instance = get_pyscript() if get_pyscript is not None else None
    if not isinstance(instance, Wrapper):
        raise TypeError(f"{what} must be a LiveKit object, got {type(value).__name__}")
    return instance._lk()
