"""Hooks for tests, benchmarks and tools, documented here so they need no private names.

Some of these block the calling thread: never call them from a game's frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from . import _runtime
from .links import sdk_of

T = TypeVar("T")

__all__ = ["run_on_runtime", "runtime_is_running", "runtime_loop", "sdk_of"]


def run_on_runtime(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    """Run ``coro`` on the runtime loop (where every SDK object lives) and wait for it."""
    return _runtime.run_sync(coro, timeout)


def runtime_loop() -> asyncio.AbstractEventLoop:
    """The runtime loop (e.g. to list its tasks when a test hangs)."""
    return _runtime.get_loop()


def runtime_is_running() -> bool:
    """True while the runtime thread is alive."""
    return _runtime.is_running()
