"""Windows backend: top-level window listing and window geometry through user32 (ctypes).

user32 ships with every Windows, so this needs no package; ctypes is the plain way to call it.
"""

from __future__ import annotations

import ctypes
from typing import Any

from .errors import WindowGone
from .target import Rect

WindowInfo = dict[str, Any]  # id, name, x, y, width, height (the API's dictionary)


class User32:
    """user32's window functions with their ctypes signatures (Windows only)."""

    def __init__(self) -> None:
        from ctypes import wintypes

        windll: Any = getattr(ctypes, "WinDLL")  # noqa: B009 - exists on Windows only
        self.lib: Any = windll("user32", use_last_error=True)
        self.lib.GetWindowRect.argtypes = [wintypes.HWND, ctypes.POINTER(wintypes.RECT)]
        self.lib.GetWindowTextLengthW.argtypes = [wintypes.HWND]
        self.lib.GetWindowTextW.argtypes = [wintypes.HWND, wintypes.LPWSTR, ctypes.c_int]
        for name in ("IsWindow", "IsWindowVisible", "IsIconic"):
            getattr(self.lib, name).argtypes = [wintypes.HWND]

    def rect(self, hwnd: int) -> Rect | None:
        """The window's outer rectangle on the desktop; None when it cannot be read."""
        from ctypes import wintypes

        rect = wintypes.RECT()
        if not self.lib.GetWindowRect(hwnd, ctypes.byref(rect)):
            return None
        return rect.left, rect.top, rect.right - rect.left, rect.bottom - rect.top

    def window_rect(self, hwnd: int) -> Rect | None:
        """Like :meth:`rect`, None while minimised; raises WindowGone once it is destroyed."""
        if not self.lib.IsWindow(hwnd):
            raise WindowGone(f"window {hwnd:#x} is gone")
        if self.lib.IsIconic(hwnd):
            return None
        return self.rect(hwnd)

    def close(self) -> None:
        """Nothing to release: user32 stays loaded for the process."""

    def title(self, hwnd: int) -> str:
        length = self.lib.GetWindowTextLengthW(hwnd)
        if length <= 0:
            return ""
        buffer = ctypes.create_unicode_buffer(length + 1)
        self.lib.GetWindowTextW(hwnd, buffer, length + 1)
        return buffer.value


def list_windows() -> list[WindowInfo]:
    """Visible, titled, not minimised top-level windows (EnumWindows)."""
    from ctypes import wintypes

    user32 = User32()
    windows: list[WindowInfo] = []

    def visit(hwnd: int, _param: int) -> bool:
        if not hwnd or not user32.lib.IsWindowVisible(hwnd) or user32.lib.IsIconic(hwnd):
            return True
        title = user32.title(hwnd)
        rect = user32.rect(hwnd) if title else None
        if rect is not None:
            x, y, width, height = rect
            windows.append(
                {"id": int(hwnd), "name": title, "x": x, "y": y, "width": width, "height": height}
            )
        return True

    winfunctype: Any = getattr(ctypes, "WINFUNCTYPE")  # noqa: B009 - exists on Windows only
    callback = winfunctype(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)(visit)
    user32.lib.EnumWindows(callback, 0)
    return windows
