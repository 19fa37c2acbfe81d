"""Object lifetimes under py4godot, where nothing is freed for us.

py4godot keeps every script instance in a module-level list and its free callback is empty:
when Godot deletes an object, its Python side lives on (with its room, streams, threads), and
weakref finalizers never run. So the addon keeps lifetimes explicit:

- The addon holds one Godot reference on every object that owns something: a GDScript-made
  object from the moment a core object is attached to it (``create``, ``from_track``, the first
  call on a room), a room-made object (participant, track, publication...) from its creation.
  Godot therefore never deletes such an object under the addon.
- :func:`sweep` (the LiveKitPoller calls it a few times per second) looks at each held object's
  reference count. At 1 only the addon still holds it -- the game dropped it -- and it is
  freed: :func:`free` closes what it owns (disconnects a room, closes a stream or capture, stops
  a source) and drops the addon's reference, which deletes the Godot object.
- A room-made object is only swept once its room let go of it (participant left, track
  unpublished, room disconnected or freed): until then the room hands out the same object.

What holding means, by py4godot's rules (see tests/py4godot_standin/FACTS.md): ``reference()``
on the script instance adds one count; releasing is ``unreference()`` and, when that returns
true (the count reached 0), ``destroy()``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

logger = logging.getLogger("godot_livekit.addon.lifecycle")  # routed to Godot (logs.py)

SWEEP_INTERVAL = 0.25
"""Seconds between sweeps: a dropped object is freed within this (plus one frame)."""


class Holdable(Protocol):
    _lk_held: bool
    _lk_in_registry: bool

    def reference(self) -> bool: ...
    def unreference(self) -> bool: ...
    def get_reference_count(self) -> int: ...
    def destroy(self) -> None: ...
    def _lk_close(self) -> None: ...
    def _lk_forget(self) -> None: ...


_held: dict[int, Holdable] = {}
_last_sweep = 0.0


def hold(wrapper: Holdable) -> None:
    """Take the addon's reference on ``wrapper`` (no-op when it already has one). Only call
    this while Godot runs one of the object's methods: the engine object exists then."""
    if wrapper._lk_held:
        return
    wrapper.reference()
    take(wrapper)


def take(wrapper: Holdable) -> None:
    """Count ``wrapper``'s current reference as the addon's (a room-made object's first)."""
    wrapper._lk_held = True
    _held[id(wrapper)] = wrapper


def held_count() -> int:
    """How many objects the addon holds a reference on."""
    return len(_held)


def free(wrapper: Holdable) -> None:
    """Close what ``wrapper`` owns and drop the addon's reference (Godot deletes the object
    when that was the last one)."""
    if not wrapper._lk_held:
        return
    _held.pop(id(wrapper), None)
    wrapper._lk_held = False
    try:
        wrapper._lk_close()
    except Exception:
        logger.exception("closing %s failed", type(wrapper).__name__)
    finally:
        try:
            wrapper._lk_forget()
        finally:  # the Godot object goes whatever the Python side did
            if wrapper.unreference():
                wrapper.destroy()


def free_if_unused(wrapper: Holdable) -> bool:
    """Free ``wrapper`` now when nothing but the addon holds it; True when freed."""
    if wrapper._lk_held and not wrapper._lk_in_registry and wrapper.get_reference_count() == 1:
        free(wrapper)
        return True
    return False


def sweep() -> int:
    """Free every held object only the addon still holds; returns how many were freed. One
    object failing to free is logged and leaves the others to be freed."""
    freed = 0
    for wrapper in list(_held.values()):
        try:
            freed += free_if_unused(wrapper)
        except Exception:
            logger.exception("freeing %s failed", type(wrapper).__name__)
    return freed


def sweep_due(now: float | None = None) -> int:
    """:func:`sweep` at most every :data:`SWEEP_INTERVAL` seconds (for the per-frame poller)."""
    global _last_sweep
    now = time.monotonic() if now is None else now
    if now - _last_sweep < SWEEP_INTERVAL:
        return 0
    _last_sweep = now
    return sweep()


def held_objects() -> list[Any]:
    """A snapshot of the held objects (for tests and tools)."""
    return list(_held.values())
