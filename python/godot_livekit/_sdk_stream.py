"""What the audio and video streams share: the SDK stream's lifetime and their origin."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from . import _runtime, links
from .track import LiveKitTrack

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT = 2.0


def followed_source(source: object, kind: str, sources: tuple[int, ...], where: str) -> int | None:
    """The track source a ``from_participant`` stream waits for. Any int is accepted, as the
    original casts any int: one no ``kind`` track can come from gives a stream that stays
    silent (None here, with a warning) instead of an error."""
    if isinstance(source, bool) or not isinstance(source, int):
        raise TypeError(f"{where}: source must be an int, got {type(source).__name__}")
    if source not in sources:
        logger.warning(
            "%s: no %s track comes from source %d (%s); the stream stays silent",
            where,
            kind,
            source,
            " or ".join(str(s) for s in sources),
        )
        return None
    return source


def live_sdk_track(track: object, kind: int, where: str) -> Any:
    """The SDK track under ``track`` when it is a live track of ``kind``; else None, with an
    error logged (the original's ``from_track`` answers null for a null or unbound track). A
    value that is not a track at all is a TypeError, as GDScript's typed argument refuses it."""
    if track is None:
        logger.error("%s: invalid track (null)", where)
        return None
    if not isinstance(track, LiveKitTrack):
        raise TypeError(f"{where}: track must be a LiveKitTrack, got {type(track).__name__}")
    sdk = links.sdk_of(track)
    if sdk is None or track.get_kind() != kind:
        wanted = "audio" if kind == LiveKitTrack.KIND_AUDIO else "video"
        logger.error(
            "%s: invalid track: not a live %s track (unbound, stale or another kind)", where, wanted
        )
        return None
    return sdk


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
