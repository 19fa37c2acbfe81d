"""Whether capture can work here: a probe per platform, answered as (status, summary, details).

Each probe only reads: it opens the display (X11) or asks the OS (macOS), never prompts.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any, Final

from .errors import DisplayError
from .monitors import monitor_dicts, new_mss

PERMISSION_OK: Final = 0
PERMISSION_WARNING: Final = 1
PERMISSION_ERROR: Final = 2

Probe = tuple[int, str, list[str]]


def check_permissions() -> dict[str, Any]:
    """The API's dictionary: ``status`` (PERMISSION_*), ``summary``, ``details``."""
    if sys.platform.startswith("linux"):
        status, summary, details = check_x11()
    elif sys.platform == "darwin":
        status, summary, details = check_macos()
    elif sys.platform == "win32":
        status, summary, details = (
            PERMISSION_OK,
            "Screen capture available (GDI)",
            ["Windows needs no permission for desktop capture"],
        )
    else:
        status, summary, details = (
            PERMISSION_ERROR,
            f"Screen capture is not supported on {sys.platform}",
            [],
        )
    return {"status": status, "summary": summary, "details": details}


def _no_display(wayland: str) -> Probe:
    if wayland:
        return (
            PERMISSION_ERROR,
            "Wayland session without X access: DISPLAY is not set",
            [
                f"WAYLAND_DISPLAY={wayland}",
                "screen capture uses X11; native Wayland capture (portal/PipeWire) "
                "is not supported",
                "enable XWayland and set DISPLAY (often :0), or log into an X11 session",
            ],
        )
    return (
        PERMISSION_ERROR,
        "No X display: DISPLAY is not set",
        [
            "screen capture needs an X11 display",
            "on a headless machine start a virtual one: Xvfb :99 & export DISPLAY=:99",
        ],
    )


def check_x11() -> Probe:
    """Linux: is there an X display that mss can read, and does a window manager list windows?"""
    from .x11 import XConnection

    display = os.environ.get("DISPLAY", "")
    wayland = os.environ.get("WAYLAND_DISPLAY", "")
    if not display:
        return _no_display(wayland)
    details: list[str] = []
    try:
        with XConnection(display) as x:
            width, height = x.screen_size
            details.append(f"X display {display}: {width}x{height} screen")
            (client_list_atom,) = x.atoms(("_NET_CLIENT_LIST",))
            if x.client_list(client_list_atom) is None:
                details.append(
                    "no window manager publishes _NET_CLIENT_LIST: get_windows() lists the "
                    "mapped, named top-level windows"
                )
    except DisplayError as failure:
        return (
            PERMISSION_ERROR,
            f"Cannot open X display {display}",
            [str(failure), "is the X server running? is access allowed (XAUTHORITY, xhost)?"],
        )
    try:
        with new_mss(display) as sct:
            monitors = monitor_dicts(sct.monitors)
            sct.grab({"left": 0, "top": 0, "width": 1, "height": 1})
    except Exception as failure:
        return (
            PERMISSION_ERROR,
            f"X display {display} opens but cannot be captured",
            [*details, f"mss: {failure}"],
        )
    details.append(f"{len(monitors)} monitor(s)")
    if wayland or os.environ.get("XDG_SESSION_TYPE") == "wayland":
        details.append(f"WAYLAND_DISPLAY={wayland or '?'}: capturing through XWayland")
        return (
            PERMISSION_WARNING,
            "Wayland session: only X11 (XWayland) content can be captured reliably",
            [*details, "native Wayland windows may be missing from get_windows() or black"],
        )
    return PERMISSION_OK, f"Screen capture available on X display {display}", details


def check_macos() -> Probe:
    """macOS: the Screen Recording privacy permission (CGPreflightScreenCaptureAccess)."""
    details = ["get_windows() is not implemented on macOS and returns []; capture monitors instead"]
    try:
        graphics = ctypes.CDLL("/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics")
        preflight = graphics.CGPreflightScreenCaptureAccess
    except (OSError, AttributeError):
        return (
            PERMISSION_WARNING,
            "Screen recording permission unknown",
            [
                "CGPreflightScreenCaptureAccess is unavailable (macOS < 10.15?)",
                "if frames show only the desktop background, allow this app under System "
                "Settings > Privacy & Security > Screen Recording",
                *details,
            ],
        )
    preflight.restype = ctypes.c_bool
    if preflight():
        return PERMISSION_OK, "Screen recording permission granted", details
    return (
        PERMISSION_ERROR,
        "Screen recording permission not granted",
        [
            "allow this app (or the terminal running it) under System Settings > "
            "Privacy & Security > Screen Recording, then restart it",
            *details,
        ],
    )
