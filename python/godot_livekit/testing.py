"""Hooks for tests, benchmarks and tools, documented here so they need no private names.

Some of these block the calling thread: never call them from a game's frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from . import _runtime
from .data_tracks import LiveKitDataTrackSubscription, end_subscription, receive_frame
from .links import sdk_of
from .video_stream import LiveKitVideoStream, receive_video_frame

T = TypeVar("T")

__all__ = [
    "end_data_track_subscription",
    "feed_data_track_frame",
    "feed_video_frame",
    "run_on_runtime",
    "runtime_is_running",
    "runtime_loop",
    "sdk_of",
]


def run_on_runtime(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    """Run ``coro`` on the runtime loop (where every SDK object lives) and wait for it."""
    return _runtime.run_sync(coro, timeout)


def runtime_loop() -> asyncio.AbstractEventLoop:
    """The runtime loop (e.g. to list its tasks when a test hangs)."""
    return _runtime.get_loop()


def runtime_is_running() -> bool:
    """True while the runtime thread is alive."""
    return _runtime.is_running()


class _NoRoom:
    """Stands in for a session: nothing is posted (the test calls ``poll()`` itself)."""

    def post(self, event: object) -> None:
        pass


def feed_data_track_frame(
    subscription: LiveKitDataTrackSubscription, payload: bytes, user_timestamp: int | None
) -> None:
    """Hand ``subscription`` one frame as the SDK's reader does (any thread); its next
    ``poll()`` delivers what its mode keeps."""
    receive_frame(subscription, payload, user_timestamp, _NoRoom())


def end_data_track_subscription(subscription: LiveKitDataTrackSubscription, reason: str) -> None:
    """End ``subscription`` as its reader does when the track goes away."""
    end_subscription(subscription, reason, _NoRoom())


def feed_video_frame(stream: LiveKitVideoStream, frame: Any) -> None:
    """Hand ``stream`` one decoded ``rtc.VideoFrame`` as its SDK reader does (any thread);
    its next ``poll()`` takes it if the frame's format is the stream's mode."""
    receive_video_frame(stream, frame)
