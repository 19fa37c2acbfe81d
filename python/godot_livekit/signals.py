"""Godot-style signals and the thread-safe event queue behind them.

SDK callbacks run on the runtime thread and only *enqueue* events; ``poll_events()``
(or ``poll()``) drains them on the caller's thread, where the signals are emitted.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

logger = logging.getLogger(__name__)

_activity = threading.Condition()
_activity_numbers = itertools.count(1)  # next() is atomic: every event gets its own number
_activity_counter = 0
_waiting = 0  # threads in wait_for_activity, counted under _activity


def notify_activity() -> None:
    """Wake every thread blocked in :func:`wait_for_activity` (called on each enqueue). With
    nobody waiting (a Godot game) it only numbers the event: no lock per audio frame."""
    global _activity_counter
    _activity_counter = next(_activity_numbers)
    if _waiting:  # a waiter counts itself before it checks the number: none is missed
        with _activity:
            _activity.notify_all()


def activity_counter() -> int:
    """A number that changes each time any event queue receives an event."""
    return _activity_counter


def wait_for_activity(since: int, timeout: float) -> bool:
    """Block until some queue received an event after ``since`` or ``timeout`` passed.

    Meant for scripts and tests that drive the core without a Godot frame loop.
    """
    global _waiting
    with _activity:
        _waiting += 1
        try:
            return _activity.wait_for(lambda: _activity_counter != since, timeout=timeout)
        finally:
            _waiting -= 1


class Signal:
    """A signal bound to one object: ``connect(fn)``, ``disconnect(fn)``, ``emit(*args)``."""

    __slots__ = ("_callbacks", "args", "name")

    def __init__(self, name: str, args: tuple[str, ...] = ()) -> None:
        self.name = name
        self.args = args
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        """Call ``callback`` on every emit. Connecting the same callable twice is an error."""
        if not callable(callback):
            raise TypeError(
                f"{self.name}.connect() needs a callable, got {type(callback).__name__}"
            )
        if callback in self._callbacks:
            raise ValueError(f"{callback!r} is already connected to {self.name}")
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback``. Disconnecting one that is not connected is an error."""
        try:
            self._callbacks.remove(callback)
        except ValueError:
            raise ValueError(f"{callback!r} is not connected to {self.name}") from None

    def is_connected(self, callback: Callable[..., Any]) -> bool:
        return callback in self._callbacks

    def get_connections(self) -> list[Callable[..., Any]]:
        return list(self._callbacks)

    def emit(self, *args: Any) -> None:
        """Call every connected callable in order; one that raises is logged and skipped,
        as Godot does, so one bad handler never stops the others."""
        if len(args) != len(self.args):
            raise TypeError(f"{self.name} takes {len(self.args)} arguments, got {len(args)}")
        for callback in list(self._callbacks):
            try:
                callback(*args)
            except Exception:
                logger.exception("error in a handler of signal %s", self.name)

    def __repr__(self) -> str:
        return f"<Signal {self.name}({', '.join(self.args)}) connections={len(self._callbacks)}>"


T = TypeVar("T")


class SignalDef(Generic[T]):
    """Class-level declaration of a signal; each instance gets its own :class:`Signal`."""

    def __init__(self, *args: str) -> None:
        self.args: tuple[str, ...] = args
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> SignalDef[T]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> Signal: ...
    def __get__(self, obj: object | None, owner: type) -> Signal | SignalDef[T]:
        if obj is None:
            return self
        bound = obj.__dict__.get(self.name)
        if bound is None:
            bound = Signal(self.name, self.args)
            obj.__dict__[self.name] = bound
        return bound


def signal(*args: str) -> Any:
    """Declare a signal with its argument names: ``connected = signal()``."""
    return SignalDef(*args)


def declared_signals(cls: type) -> dict[str, tuple[str, ...]]:
    """Every signal a class declares (own and inherited), name -> argument names."""
    found: dict[str, tuple[str, ...]] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, SignalDef):
                found[name] = value.args
    return found


ItemT = TypeVar("ItemT")


class EventQueue(Generic[ItemT]):
    """A thread-safe FIFO: producers (the runtime thread) :meth:`put`, the owner drains on
    its own thread. Each put wakes threads waiting in :func:`wait_for_activity`."""

    def __init__(self) -> None:
        self._items: deque[ItemT] = deque()
        self._lock = threading.Lock()

    def put(self, item: ItemT) -> None:
        with self._lock:
            self._items.append(item)
        notify_activity()

    def drain(self) -> list[ItemT]:
        with self._lock:
            items = list(self._items)
            self._items.clear()
        return items

    def __len__(self) -> int:
        return len(self._items)
