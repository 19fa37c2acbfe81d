"""The one background asyncio loop that owns every LiveKit SDK object.

This is the only module that crosses threads: the main (Godot) thread hands work to the
loop with :func:`submit` or :func:`call_soon` and never waits on the network. SDK objects
are created on the loop (they bind to the running loop at construction).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

_THREAD_NAME = "godot-livekit-runtime"
_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def _run_loop(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    try:
        loop.run_forever()
    finally:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending, timeout=1.0))
        except Exception:  # pragma: no cover - best effort at shutdown
            logger.debug("error while cancelling runtime tasks", exc_info=True)
        loop.close()


def get_loop() -> asyncio.AbstractEventLoop:
    """The runtime loop, started on first use (a daemon thread, one per process)."""
    global _loop, _thread
    with _lock:
        if _loop is None or _thread is None or not _thread.is_alive():
            loop = asyncio.new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(
                target=_run_loop, args=(loop, ready), name=_THREAD_NAME, daemon=True
            )
            thread.start()
            if not ready.wait(timeout=5.0):
                raise RuntimeError("the godot-livekit runtime thread did not start")
            _loop, _thread = loop, thread
        return _loop


def on_runtime_thread() -> bool:
    return threading.current_thread() is _thread


def submit(coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Schedule ``coro`` on the runtime loop; returns at once with a thread-safe future.

    Exceptions are kept in the future; one nobody retrieves is logged when the future is
    garbage-collected by asyncio's own machinery, so callers that do not care may drop it.
    """
    future = asyncio.run_coroutine_threadsafe(coro, get_loop())
    future.add_done_callback(_log_unexpected_error)
    return future


def call_soon(callback: Callable[..., Any], *args: Any) -> None:
    """Run a plain function on the runtime thread as soon as possible."""
    get_loop().call_soon_threadsafe(callback, *args)


def _log_unexpected_error(future: concurrent.futures.Future[Any]) -> None:
    if future.cancelled():
        return
    error = future.exception()
    if error is not None and not getattr(error, "_godot_livekit_handled", False):
        logger.debug("background task ended with %s: %s", type(error).__name__, error)


def run_sync(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    """Run ``coro`` on the runtime loop and wait for it (tests and tools only: it blocks)."""
    if on_runtime_thread():
        raise RuntimeError("run_sync() called on the runtime thread would deadlock")
    return asyncio.run_coroutine_threadsafe(coro, get_loop()).result(timeout)


def shutdown(timeout: float = 2.0) -> None:
    """Stop the loop and join its thread within ``timeout`` (also runs at interpreter exit)."""
    global _loop, _thread
    with _lock:
        loop, thread = _loop, _thread
        _loop, _thread = None, None
    if loop is None or thread is None:
        return
    try:
        loop.call_soon_threadsafe(loop.stop)
    except RuntimeError:
        return
    thread.join(timeout)
    if thread.is_alive():
        logger.warning("the godot-livekit runtime thread did not stop within %.1fs", timeout)


def is_running() -> bool:
    return _thread is not None and _thread.is_alive()


atexit.register(shutdown)


_tasks: set[asyncio.Task[Any]] = set()


def spawn(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """Runtime thread only: start a task and keep a reference until it ends."""
    task = asyncio.get_running_loop().create_task(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return task
