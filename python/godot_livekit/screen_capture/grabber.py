"""One grab of a capture target as RGBA: the mss instance and the window's geometry source.

A :class:`Grabber` lives on one thread (mss and X connections are not shared between
threads) and reconnects lazily after :meth:`Grabber.close`.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Protocol

from ..media_convert import rgba_from_bgra
from . import macos
from .errors import DisplayError
from .monitors import monitor_dicts, new_mss
from .target import CaptureTarget, Frame, Rect, clip

logger = logging.getLogger(__name__)


class WindowGeometry(Protocol):
    """Where a window is now, from the platform's window system."""

    def window_rect(self, window: int) -> Rect | None:
        """The window's rectangle; None while hidden; raises WindowGone once destroyed."""
        ...

    def close(self) -> None: ...


def open_window_geometry(display: str | None) -> WindowGeometry:
    """The window-geometry source of this platform (raises DisplayError where there is none)."""
    if sys.platform == "win32":
        from .win32 import User32

        return User32()
    if sys.platform.startswith("linux"):
        from .x11 import XConnection

        return XConnection(display)
    if sys.platform == "darwin":
        raise macos.window_tracking_unsupported()
    raise DisplayError(f"window capture is not supported on {sys.platform}")


class Grabber:
    """Grabs the target as RGBA; owns its thread's mss instance and window-geometry source."""

    def __init__(self, target: CaptureTarget) -> None:
        self.target = target
        self._sct: Any = None
        self._geometry: WindowGeometry | None = None

    def grab(self) -> Frame | None:
        """One frame now; None when the target is not visible. Raises on errors."""
        if self._sct is None:
            self._sct = new_mss(self.target.display)
        region = self._region()
        if region is None:
            return None
        shot = self._sct.grab(region)
        return rgba_from_bgra(shot.raw, int(shot.width), int(shot.height))

    def _region(self) -> dict[str, int] | None:
        monitors = self._sct.monitors
        rect: Rect | None
        if self.target.kind == "primary":
            found = monitor_dicts(monitors)
            if not found:
                raise DisplayError("the display reports no monitor")
            primary = found[0]
            rect = (primary["x"], primary["y"], primary["width"], primary["height"])
        elif self.target.kind == "monitor":
            rect = self.target.rect
        else:
            if self._geometry is None:
                self._geometry = open_window_geometry(self.target.display)
            rect = self._geometry.window_rect(self.target.window_id)
        if rect is None:
            return None
        return clip(rect, monitors[0])  # index 0: the bounding box of every monitor

    def close(self) -> None:
        """Release mss and the window-geometry source (idempotent); the next grab reconnects."""
        geometry, self._geometry = self._geometry, None
        if geometry is not None:
            geometry.close()
        sct, self._sct = self._sct, None
        if sct is not None:
            try:
                sct.close()
            except Exception:
                logger.debug("closing mss failed", exc_info=True)
