"""Process-wide registry of objects that want a per-frame pump.

Rooms, video streams and screen captures register themselves (weakly) when created. The
Godot autoload ``LiveKitPoller`` calls :func:`pump_all` from ``_process`` every frame; each
object whose ``auto_poll`` is on gets its ``_auto_pump()`` called on the main thread.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Protocol

logger = logging.getLogger(__name__)


class Pumpable(Protocol):
    def get_auto_poll(self) -> bool: ...
    def _auto_pump(self) -> None: ...


_lock = threading.Lock()
_registry: weakref.WeakSet[Pumpable] = weakref.WeakSet()
_snapshot: tuple[weakref.ref[Pumpable], ...] | None = None
"""Weak references to the registry's members, made again only after it changed: every frame
reads the registry, and copying a WeakSet (a lock, an iteration guard, a dereference per
member) cost more than pumping a room."""


def register(obj: Pumpable) -> None:
    """Add ``obj`` to the registry; it leaves by itself when garbage-collected."""
    global _snapshot
    with _lock:
        _registry.add(obj)
        _snapshot = None


def unregister(obj: Pumpable) -> None:
    global _snapshot
    with _lock:
        _registry.discard(obj)
        _snapshot = None


def registered() -> list[Pumpable]:
    """A snapshot of the live registered objects."""
    global _snapshot
    snapshot = _snapshot
    if snapshot is None:
        with _lock:
            snapshot = _snapshot = tuple(weakref.ref(obj) for obj in _registry)
    live = [obj for ref in snapshot if (obj := ref()) is not None]
    if len(live) != len(snapshot):  # some were garbage-collected: forget their references
        with _lock:
            if _snapshot is snapshot:
                _snapshot = None
    return live


def pump_all() -> int:
    """Pump every registered object whose auto_poll is on; returns how many were pumped.

    One object that raises is logged and does not stop the others.
    """
    pumped = 0
    for obj in registered():
        try:
            if obj.get_auto_poll():
                obj._auto_pump()
                pumped += 1
        except Exception:
            logger.exception("auto-poll of %r failed", obj)
    return pumped


def pump_until(
    predicate: Callable[[], bool],
    timeout: float,
    objects: Iterable[Pumpable] | None = None,
) -> bool:
    """Pump ``objects`` (default: every auto-polled object) until ``predicate()`` is true.

    For scripts, tools and tests that run without a Godot frame loop: between pumps it
    sleeps on the event queues' activity, never longer than 50 ms. Returns False when
    ``timeout`` seconds pass first.
    """
    from .signals import activity_counter, wait_for_activity

    targets = list(objects) if objects is not None else None
    deadline = time.monotonic() + timeout
    while True:
        seen = activity_counter()
        if targets is None:
            pump_all()
        else:
            for obj in targets:
                obj._auto_pump()
        if predicate():
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        wait_for_activity(seen, min(remaining, 0.05))
