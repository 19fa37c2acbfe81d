"""The core's and the SDK's log records in Godot's console, from the main thread.

The core logs through :mod:`logging` (loggers ``godot_livekit`` and ``livekit``) on whatever
thread notices a problem, and attaches only a NullHandler. :class:`GodotLogRouter` queues each
record (warnings and above, bounded, already scrubbed of tokens and keys) and :func:`drain` --
called by the LiveKitPoller every frame, on the main thread -- hands them to Godot: errors with
``push_error`` (the debugger's error list), warnings with ``push_warning``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from py4godot import functions

from godot_livekit.errors import redact

LOGGERS = ("godot_livekit", "livekit")
MAX_QUEUED = 500


class GodotLogRouter(logging.Handler):
    """Queues records for :func:`drain` (any thread); never calls into Godot itself."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self._queue: deque[tuple[int, str]] = deque(maxlen=MAX_QUEUED)
        self._queue_lock = threading.Lock()
        self.dropped = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = redact(self.format(record))
        except Exception:
            self.handleError(record)
            return
        with self._queue_lock:
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1
            self._queue.append((record.levelno, text))

    def take(self) -> list[tuple[int, str]]:
        with self._queue_lock:
            records = list(self._queue)
            self._queue.clear()
        return records


_router = GodotLogRouter()
_router.setFormatter(logging.Formatter("godot-livekit: %(name)s: %(message)s"))


def install() -> GodotLogRouter:
    """Attach the router to the core's and the SDK's loggers (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _router not in logger.handlers:
            logger.addHandler(_router)
    return _router


def drain() -> int:
    """Print the queued records in Godot's console (main thread); returns how many."""
    records = _router.take()
    for level, text in records:
        if level >= logging.ERROR:
            functions.push_error(text)
        else:
            functions.push_warning(text)
    return len(records)


def drain_silently() -> int:
    """Forget the queued records (tests start each case with an empty queue)."""
    return len(_router.take())
