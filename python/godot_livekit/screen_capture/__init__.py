"""LiveKitScreenCapture: monitors and windows as RGBA frames, engine-free.

Pixels come from ``mss`` (X11 on Linux, GDI on Windows, CoreGraphics on macOS). A capture
runs on its own daemon thread at the set frame rate and keeps **only the newest frame** in a
single slot (older frames are replaced, never queued). :meth:`LiveKitScreenCapture.poll` on
the main thread takes that frame over and emits ``frame_received``.

The core is engine-free: ``get_image()``, ``get_texture()`` and ``screenshot()`` return
(height, width, 4) uint8 RGBA numpy arrays; the Godot layer wraps them as ``Image`` /
``ImageTexture``. A window capture grabs the window's current rectangle of the screen, so
whatever overlaps the window is captured too.

Modules: ``target`` (what to capture), ``monitors`` (mss), ``x11`` / ``win32`` / ``macos``
(window listing and geometry per platform), ``grabber`` (one grab), ``worker`` (the
thread and its frame slot), ``permissions`` (the probes).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import poller
from ..signals import signal
from . import permissions
from .errors import WindowGone
from .grabber import Grabber
from .monitors import list_monitors
from .target import CaptureTarget, Frame, Rect
from .worker import CaptureWorker, stop_worker

logger = logging.getLogger(__name__)

DEFAULT_FRAME_RATE = 30.0
MAX_FRAME_RATE = 240.0

__all__ = ["LiveKitScreenCapture"]


def _int_field(data: Mapping[str, Any], key: str, where: str, *, positive: bool = False) -> int:
    if key not in data:
        source = "get_windows()" if where == "create_for_window" else "get_monitors()"
        raise ValueError(f"{where}: missing {key!r} key (pass a dictionary from {source})")
    value = data.get(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # GDScript numbers that went through JSON or math arrive as floats
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{where}: {key!r} must be an int, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{where}: {key!r} must be > 0, got {value!r}")
    return int(value)


def _require_mapping(value: Any, where: str, source: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(
            f"{where} needs a Dictionary from LiveKitScreenCapture.{source}(), "
            f"got {type(value).__name__}"
        )
    return value


def _list_windows() -> list[dict[str, Any]]:
    """This platform's window list (raises on display errors)."""
    if sys.platform.startswith("linux"):
        from .x11 import list_windows as list_x11_windows

        return list_x11_windows()
    if sys.platform == "win32":
        from .win32 import list_windows as list_win32_windows

        return list_win32_windows()
    if sys.platform == "darwin":
        from .macos import list_windows as list_macos_windows

        return list_macos_windows()
    logger.info("get_windows() is not implemented on %s", sys.platform)
    return []


class LiveKitScreenCapture:
    """Captures a monitor or a window as RGBA frames (see the package docstring).

    Public methods are meant for the main thread; only the capture itself runs on a
    background thread. Under py4godot nothing is garbage-collected: call :meth:`close`.
    """

    PERMISSION_OK = permissions.PERMISSION_OK
    PERMISSION_WARNING = permissions.PERMISSION_WARNING
    PERMISSION_ERROR = permissions.PERMISSION_ERROR

    frame_received = signal()

    def __init__(self, _target: CaptureTarget | None = None) -> None:
        """Prefer the factories; without arguments this captures the primary monitor."""
        self._target = _target or CaptureTarget("primary", os.environ.get("DISPLAY"))
        self._frame_rate = DEFAULT_FRAME_RATE
        self._auto_poll = True
        self._paused = False
        self._closed = False
        self._frame: Frame | None = None
        self._seen = 0
        self._holder: list[CaptureWorker | None] = [None]
        self._finalizer = weakref.finalize(self, stop_worker, self._holder)
        poller.register(self)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running" if self._worker else "idle"
        return f"<LiveKitScreenCapture {self._target.describe()} {state}>"

    @property
    def _worker(self) -> CaptureWorker | None:
        return self._holder[0]

    # ----------------------------------------------------------------- static queries

    @staticmethod
    def get_monitors() -> list[dict[str, Any]]:
        """Monitors as dictionaries: id, name, x, y, width, height, scale (primary: id 0).

        Returns [] (and logs why) when no display can be opened.
        """
        try:
            return list_monitors(os.environ.get("DISPLAY"))
        except Exception as error:
            logger.warning("cannot list monitors: %s (see check_permissions())", error)
            return []

    @staticmethod
    def get_windows() -> list[dict[str, Any]]:
        """Shown top-level windows as dictionaries: id, name, x, y, width, height.

        X11: the window manager's ``_NET_CLIENT_LIST``, else the mapped, named, top-level
        children of the root window; a window closed while it is being listed is left out.
        Windows: visible, titled, not minimised windows. macOS: not implemented, returns []
        (see the ``macos`` module). Returns [] (and logs why) when no display can be opened.
        """
        try:
            return _list_windows()
        except Exception as error:
            logger.warning("cannot list windows: %s (see check_permissions())", error)
            return []

    @staticmethod
    def check_permissions() -> dict[str, Any]:
        """Whether capture can work here: ``status`` (PERMISSION_*), ``summary``, ``details``."""
        return permissions.check_permissions()

    # ---------------------------------------------------------------------- factories

    @staticmethod
    def create() -> LiveKitScreenCapture:
        """A capture of the primary monitor (resolved when capturing)."""
        return LiveKitScreenCapture()

    @staticmethod
    def create_for_monitor(monitor: dict[str, Any]) -> LiveKitScreenCapture:
        """A capture of ``monitor`` (a dictionary from get_monitors(); ``{"id": n}`` alone
        is enough, as in the original)."""
        where = "create_for_monitor"
        data = _require_mapping(monitor, where, "get_monitors")
        if not all(key in data for key in ("x", "y", "width", "height")):
            wanted = _int_field(data, "id", where)
            found = [m for m in LiveKitScreenCapture.get_monitors() if m["id"] == wanted]
            if not found:
                raise ValueError(f"{where}: no monitor with id {wanted} (see get_monitors())")
            data = found[0]
        rect = (
            _int_field(data, "x", where),
            _int_field(data, "y", where),
            _int_field(data, "width", where, positive=True),
            _int_field(data, "height", where, positive=True),
        )
        name = str(data.get("name") or f"Monitor {data.get('id', '?')}")
        target = CaptureTarget("monitor", os.environ.get("DISPLAY"), rect=rect, name=name)
        return LiveKitScreenCapture(target)

    @staticmethod
    def create_for_window(window: dict[str, Any]) -> LiveKitScreenCapture:
        """A capture of ``window`` (a dictionary from get_windows()); follows moves/resizes."""
        where = "create_for_window"
        data = _require_mapping(window, where, "get_windows")
        window_id = _int_field(data, "id", where, positive=True)
        rect: Rect | None = None
        if all(key in data for key in ("x", "y", "width", "height")):
            rect = (
                _int_field(data, "x", where),
                _int_field(data, "y", where),
                _int_field(data, "width", where),
                _int_field(data, "height", where),
            )
        target = CaptureTarget(
            "window",
            os.environ.get("DISPLAY"),
            rect=rect,
            window_id=window_id,
            name=str(data.get("name", "")),
        )
        return LiveKitScreenCapture(target)

    # ---------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start capturing on a background thread; frames arrive through poll()."""
        if self._closed:
            logger.error("start(): this LiveKitScreenCapture is closed")
            return
        if self._worker is not None:
            if self._worker.thread.is_alive():
                return
            self._worker.stop(timeout=0.0)  # the thread ended by itself (window gone)
        worker = CaptureWorker(self._target, self._frame_rate, self._paused)
        self._holder[0] = worker
        self._seen = 0
        worker.start()

    def stop(self) -> None:
        """Stop capturing and join the thread (bounded); a frame not yet polled is dropped."""
        worker, self._holder[0] = self._worker, None
        if worker is not None:
            worker.stop()

    def pause(self) -> None:
        """Stop producing frames without ending the thread; after this, poll() gets no new one
        (a frame captured before the pause may still be delivered once)."""
        self._paused = True
        if self._worker is not None:
            self._worker.set_paused(True)

    def resume(self) -> None:
        """Produce frames again after pause()."""
        self._paused = False
        if self._worker is not None:
            self._worker.set_paused(False)

    def is_paused(self) -> bool:
        return self._paused

    def close(self) -> None:
        """Stop capturing and release everything (thread, X connection, frames, poller
        entry); idempotent. The object cannot be started again."""
        self.stop()
        self._closed = True
        self._frame = None
        poller.unregister(self)
        self._finalizer.detach()

    # ------------------------------------------------------------------------- frames

    def poll(self) -> bool:
        """Take over the newest frame if one arrived since the last poll; emits
        ``frame_received`` and returns True then, else returns False."""
        worker = self._worker
        if worker is None:
            return False
        taken = worker.take(self._seen)
        if taken is None:
            return False
        self._seen, self._frame = taken
        self.frame_received.emit()
        return True

    def get_texture(self) -> Frame | None:
        """The latest polled frame, (h, w, 4) uint8 RGBA, or None (Godot: an ImageTexture)."""
        return self._frame

    def get_image(self) -> Frame | None:
        """The latest polled frame, (h, w, 4) uint8 RGBA, or None (Godot: an Image)."""
        return self._frame

    def get_frame_size(self) -> tuple[int, int]:
        """(width, height) of the latest frame; before one, the target's size or (0, 0)."""
        if self._frame is not None:
            return int(self._frame.shape[1]), int(self._frame.shape[0])
        if self._target.rect is not None:
            return self._target.rect[2], self._target.rect[3]
        return 0, 0

    def screenshot(self) -> Frame | None:
        """Capture once now, without start(): (h, w, 4) uint8 RGBA, or None (logged)."""
        if self._closed:
            logger.error("screenshot(): this LiveKitScreenCapture is closed")
            return None
        grabber = Grabber(self._target)
        try:
            frame = grabber.grab()
        except WindowGone:
            logger.warning("screenshot(): %s is gone", self._target.describe())
            return None
        except Exception as error:
            logger.error("screenshot() of %s failed: %s", self._target.describe(), error)
            return None
        finally:
            grabber.close()
        if frame is None:
            logger.warning("screenshot(): %s is not visible", self._target.describe())
        return frame

    # ----------------------------------------------------------------------- settings

    def set_frame_rate(self, fps: float) -> None:
        """Frames per second of the capture thread (default 30, at most 240)."""
        if isinstance(fps, bool) or not isinstance(fps, int | float):
            raise ValueError(f"frame rate must be a number, got {fps!r}")
        if not math.isfinite(fps) or not 0 < fps <= MAX_FRAME_RATE:
            raise ValueError(f"frame rate must be in (0, {MAX_FRAME_RATE:g}], got {fps!r}")
        self._frame_rate = float(fps)
        if self._worker is not None:
            self._worker.frame_rate = self._frame_rate

    def get_frame_rate(self) -> float:
        return self._frame_rate

    def set_auto_poll(self, enabled: bool) -> None:
        """When on (default), the per-frame poller calls poll() for this capture."""
        self._auto_poll = bool(enabled)

    def get_auto_poll(self) -> bool:
        return self._auto_poll

    auto_poll = property(get_auto_poll, set_auto_poll)

    def _auto_pump(self) -> None:
        if self._worker is not None:
            self.poll()
