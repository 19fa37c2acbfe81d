"""What the audio and video streams share: the SDK stream's lifetime and their origin."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from . import _runtime

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT = 2.0


class _Stale(Protocol):
    def is_stale(self) -> bool: ...


class SdkStreamOwner:
    """Holds one SDK media stream (made and iterated on the runtime thread) and ends it
    when closed or when its origin (track or participant) goes stale."""

    def __init__(self) -> None:
        self._sdk_stream: Any = None
        self._task: asyncio.Task[None] | None = None
        self._origin: _Stale | None = None
        self._ended = False
        self._closed = False

    def is_active(self) -> bool:
        """False once closed, or once the track (or participant) went away."""
        self._check_origin()
        return not (self._closed or self._ended)

    def _check_origin(self) -> None:
        """End the stream when what it reads from became stale (unsubscribed, left)."""
        origin = self._origin
        if origin is not None and origin.is_stale() and not self._ended:
            self._ended = True
            self._stop_sdk_stream()

    def _stop_sdk_stream(self) -> None:
        """Close the SDK stream and its reader task in the background (bounded)."""
        stream, task = self._sdk_stream, self._task
        self._sdk_stream, self._task = None, None

        async def stop() -> None:
            if stream is not None:
                try:
                    await asyncio.wait_for(stream.aclose(), timeout=CLOSE_TIMEOUT)
                except Exception:
                    logger.debug("SDK stream close", exc_info=True)
            if task is not None and not task.done():
                task.cancel()

        _runtime.submit(stop())
