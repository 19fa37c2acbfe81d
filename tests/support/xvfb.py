"""A private X server (Xvfb) and a plain Xlib client that draws known test windows.

``start_xvfb()`` starts ``Xvfb -screen 0 640x480x24`` on a free display (``-displayfd``).
Known content is drawn with plain Xlib through ctypes: windows made of four coloured child
windows (the server paints window backgrounds itself, and Xvfb is lossless, so pixels can be
compared exactly). There is no window manager. The pytest fixtures are in
tests/system/conftest.py.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from godot_livekit import LiveKitScreenCapture

SCREEN_W, SCREEN_H = 640, 480
XVFB_START_TIMEOUT = 20.0

BLACK = 0x000000
RED, GREEN, BLUE, YELLOW, MAGENTA = 0xFF0000, 0x00FF00, 0x0000FF, 0xFFFF00, 0xFF00FF
QUADRANT_W, QUADRANT_H = 80, 60  # a pattern window is 160x120: four 80x60 children


def rgba(pixel: int) -> tuple[int, int, int, int]:
    """A 24-bit TrueColor pixel value as opaque RGBA."""
    return (pixel >> 16) & 0xFF, (pixel >> 8) & 0xFF, pixel & 0xFF, 255


# ------------------------------------------------------------------------------- Xvfb


@dataclass
class Xvfb:
    """A running Xvfb server started by this module."""

    display: str
    process: subprocess.Popen[bytes]
    log: Any

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def _read_display_number(read_fd: int, process: subprocess.Popen[bytes], log: Any) -> str:
    """Wait (bounded) for the number Xvfb writes to -displayfd once it accepts clients."""
    deadline = time.monotonic() + XVFB_START_TIMEOUT
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([read_fd], [], [], max(remaining, 0))
        if not ready:
            break
        chunk = os.read(read_fd, 64)
        if not chunk:
            break
        data += chunk
    if not data.strip().isdigit():
        process.kill()
        process.wait(timeout=10)
        log.seek(0)
        pytest.fail(
            f"Xvfb did not report a display within {XVFB_START_TIMEOUT:.0f} s "
            f"(exit {process.returncode}):\n{log.read().decode(errors='replace')}",
            pytrace=False,
        )
    return f":{int(data)}"


def start_xvfb() -> Xvfb:
    """Start Xvfb on a free display and wait until it accepts connections."""
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.fail(
            "Xvfb is not installed: install the xvfb package (`apt-get install xvfb`; "
            "`python3 build.py setup` does it when run as root on Debian/Ubuntu)",
            pytrace=False,
        )
    read_fd, write_fd = os.pipe()
    log = tempfile.TemporaryFile()
    setpriv = shutil.which("setpriv")  # util-linux: end Xvfb if this process dies abruptly
    command = [
        *([setpriv, "--pdeathsig", "TERM"] if setpriv else []),
        binary,
        "-displayfd",
        str(write_fd),
        "-screen",
        "0",
        f"{SCREEN_W}x{SCREEN_H}x24",
        "-nolisten",
        "tcp",
        "-br",  # black root window instead of the grey weave
        "-noreset",  # keep running when the last client disconnects
    ]
    try:
        process = subprocess.Popen(
            command, pass_fds=(write_fd,), stdout=log, stderr=subprocess.STDOUT
        )
    finally:
        os.close(write_fd)
    try:
        display = _read_display_number(read_fd, process, log)
    finally:
        os.close(read_fd)
    server = Xvfb(display, process, log)
    deadline = time.monotonic() + XVFB_START_TIMEOUT
    while True:  # -displayfd is written once the server listens; confirm with a client
        try:
            XClient(display).close()
            return server
        except ConnectionError:
            if time.monotonic() > deadline:
                server.stop()
                pytest.fail(f"Xvfb on {display} does not accept connections", pytrace=False)
            time.sleep(0.05)


# ------------------------------------------------------------------ Xlib test client


INPUT_ONLY = 2  # window class
CW_OVERRIDE_REDIRECT = 1 << 9  # XChangeWindowAttributes value mask bit
WINDOW_ATOM, CARDINAL_ATOM = 33, 6


class XSetWindowAttributes(ctypes.Structure):
    """Xlib's XSetWindowAttributes (only override_redirect is ever set here)."""

    _fields_ = (
        ("background_pixmap", ctypes.c_ulong),
        ("background_pixel", ctypes.c_ulong),
        ("border_pixmap", ctypes.c_ulong),
        ("border_pixel", ctypes.c_ulong),
        ("bit_gravity", ctypes.c_int),
        ("win_gravity", ctypes.c_int),
        ("backing_store", ctypes.c_int),
        ("backing_planes", ctypes.c_ulong),
        ("backing_pixel", ctypes.c_ulong),
        ("save_under", ctypes.c_int),
        ("event_mask", ctypes.c_long),
        ("do_not_propagate_mask", ctypes.c_long),
        ("override_redirect", ctypes.c_int),
        ("colormap", ctypes.c_ulong),
        ("cursor", ctypes.c_ulong),
    )


def _load_xlib() -> ctypes.CDLL:
    name = ctypes.util.find_library("X11") or "libX11.so.6"
    lib = ctypes.CDLL(name)
    dpy, win, ulong = ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong
    signatures: dict[str, tuple[list[Any], Any]] = {
        "XOpenDisplay": ([ctypes.c_char_p], ctypes.c_void_p),
        "XCloseDisplay": ([dpy], ctypes.c_int),
        "XDefaultRootWindow": ([dpy], win),
        "XCreateSimpleWindow": (
            [dpy, win, ctypes.c_int, ctypes.c_int, *[ctypes.c_uint] * 3, ulong, ulong],
            win,
        ),
        "XStoreName": ([dpy, win, ctypes.c_char_p], ctypes.c_int),
        "XMapWindow": ([dpy, win], ctypes.c_int),
        "XMapSubwindows": ([dpy, win], ctypes.c_int),
        "XUnmapWindow": ([dpy, win], ctypes.c_int),
        "XDestroyWindow": ([dpy, win], ctypes.c_int),
        "XMoveWindow": ([dpy, win, ctypes.c_int, ctypes.c_int], ctypes.c_int),
        "XResizeWindow": ([dpy, win, ctypes.c_uint, ctypes.c_uint], ctypes.c_int),
        "XSync": ([dpy, ctypes.c_int], ctypes.c_int),
        "XInternAtom": ([dpy, ctypes.c_char_p, ctypes.c_int], ulong),
        "XChangeProperty": (
            [dpy, win, ulong, ulong, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_int],
            ctypes.c_int,
        ),
        "XDeleteProperty": ([dpy, win, ulong], ctypes.c_int),
        "XSetCloseDownMode": ([dpy, ctypes.c_int], ctypes.c_int),
        "XCreateWindow": (
            [
                dpy,
                win,
                ctypes.c_int,
                ctypes.c_int,
                *[ctypes.c_uint] * 3,
                ctypes.c_int,
                ctypes.c_uint,
                ctypes.c_void_p,
                ulong,
                ctypes.POINTER(XSetWindowAttributes),
            ],
            win,
        ),
        "XChangeWindowAttributes": (
            [dpy, win, ulong, ctypes.POINTER(XSetWindowAttributes)],
            ctypes.c_int,
        ),
    }
    for function, (argtypes, restype) in signatures.items():
        getattr(lib, function).argtypes = argtypes
        getattr(lib, function).restype = restype
    return lib


class XClient:
    """A plain Xlib connection that draws test windows; closing it destroys them all."""

    def __init__(self, display: str) -> None:
        self.lib = _load_xlib()
        self.dpy = self.lib.XOpenDisplay(display.encode())
        if not self.dpy:
            raise ConnectionError(f"XOpenDisplay({display!r}) failed")
        self.root = int(self.lib.XDefaultRootWindow(self.dpy))

    def close(self) -> None:
        if self.dpy:
            self.lib.XCloseDisplay(self.dpy)
            self.dpy = None

    def keep_windows_after_close(self) -> None:
        """Windows made from now on outlive this client (RetainPermanent close-down mode)."""
        retain_permanent = 1
        self.lib.XSetCloseDownMode(self.dpy, retain_permanent)
        self.sync()

    def sync(self) -> None:
        """Wait until the server has processed every request sent so far."""
        self.lib.XSync(self.dpy, 0)

    def window(
        self,
        x: int,
        y: int,
        width: int,
        height: int,
        color: int,
        *,
        name: str | None = None,
        parent: int | None = None,
        mapped: bool = True,
        border: int = 0,
    ) -> int:
        """A window with a solid background colour (painted by the server); ``x``, ``y`` is
        the outer corner of its ``border`` (black), as X places windows."""
        window = int(
            self.lib.XCreateSimpleWindow(
                self.dpy, parent or self.root, x, y, width, height, border, BLACK, color
            )
        )
        if name is not None:
            self.lib.XStoreName(self.dpy, window, name.encode("latin-1"))
        if mapped:
            self.lib.XMapWindow(self.dpy, window)
        self.sync()
        return window

    def pattern_window(self, name: str, x: int, y: int, *, mapped: bool = True) -> int:
        """A 160x120 top-level window: red, green / blue, yellow quadrants."""
        window = self.window(x, y, 2 * QUADRANT_W, 2 * QUADRANT_H, MAGENTA, name=name, mapped=False)
        for (qx, qy), color in zip(QUADRANT_ORIGINS, QUADRANT_COLORS, strict=True):
            self.window(qx, qy, QUADRANT_W, QUADRANT_H, color, parent=window, mapped=False)
        self.lib.XMapSubwindows(self.dpy, window)
        if mapped:
            self.lib.XMapWindow(self.dpy, window)
        self.sync()
        return window

    def input_only_window(self, x: int, y: int, width: int, height: int, *, name: str) -> int:
        """A mapped, named InputOnly window (it has no pixels to capture)."""
        attributes = XSetWindowAttributes()
        window = int(
            self.lib.XCreateWindow(
                self.dpy, self.root, x, y, width, height, 0, 0, INPUT_ONLY, None, 0, attributes
            )
        )
        self.lib.XStoreName(self.dpy, window, name.encode("latin-1"))
        self.lib.XMapWindow(self.dpy, window)
        self.sync()
        return window

    def set_override_redirect(self, window: int) -> None:
        """Mark ``window`` override-redirect, as menus and tooltips are."""
        attributes = XSetWindowAttributes(override_redirect=1)
        self.lib.XChangeWindowAttributes(self.dpy, window, CW_OVERRIDE_REDIRECT, attributes)
        self.sync()

    def atom(self, name: str) -> int:
        return int(self.lib.XInternAtom(self.dpy, name.encode(), 0))

    def set_utf8_property(self, window: int, name: str, value: str) -> None:
        data = value.encode("utf-8")
        self.lib.XChangeProperty(
            self.dpy, window, self.atom(name), self.atom("UTF8_STRING"), 8, 0, data, len(data)
        )
        self.sync()

    def set_window_list(
        self, window: int, name: str, windows: list[int], type_atom: int = WINDOW_ATOM
    ) -> None:
        """A format-32 list property, of WINDOW by default (Xlib wants C longs for format 32)."""
        data = (ctypes.c_ulong * len(windows))(*windows)
        self.lib.XChangeProperty(
            self.dpy, window, self.atom(name), type_atom, 32, 0, data, len(windows)
        )
        self.sync()

    def delete_property(self, window: int, name: str) -> None:
        self.lib.XDeleteProperty(self.dpy, window, self.atom(name))
        self.sync()

    def move(self, window: int, x: int, y: int) -> None:
        self.lib.XMoveWindow(self.dpy, window, x, y)
        self.sync()

    def resize(self, window: int, width: int, height: int) -> None:
        self.lib.XResizeWindow(self.dpy, window, width, height)
        self.sync()

    def unmap(self, window: int) -> None:
        self.lib.XUnmapWindow(self.dpy, window)
        self.sync()

    def destroy(self, window: int) -> None:
        self.lib.XDestroyWindow(self.dpy, window)
        self.sync()


QUADRANT_ORIGINS = ((0, 0), (QUADRANT_W, 0), (0, QUADRANT_H), (QUADRANT_W, QUADRANT_H))
QUADRANT_COLORS = (RED, GREEN, BLUE, YELLOW)


def pattern_image(width: int = 2 * QUADRANT_W, height: int = 2 * QUADRANT_H) -> np.ndarray:
    """What a pattern window of this size looks like (magenta beyond the quadrants)."""
    image = np.empty((height, width, 4), dtype=np.uint8)
    image[:, :] = rgba(MAGENTA)
    for (qx, qy), color in zip(QUADRANT_ORIGINS, QUADRANT_COLORS, strict=True):
        image[qy : qy + QUADRANT_H, qx : qx + QUADRANT_W] = rgba(color)
    return image


def window_entry(window: int) -> dict[str, Any]:
    """The get_windows() dictionary of ``window`` (fails when it is not listed)."""
    found = [w for w in LiveKitScreenCapture.get_windows() if w["id"] == window]
    assert len(found) == 1, f"window {window:#x} listed {len(found)} times"
    return found[0]
