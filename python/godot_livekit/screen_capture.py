"""LiveKitScreenCapture: monitors and windows as RGBA frames, engine-free.

Pixels come from ``mss`` (X11 on Linux, GDI on Windows, CoreGraphics on macOS). A capture
runs on its own daemon thread at the set frame rate and keeps **only the newest frame** in a
single slot under a lock (older frames are replaced, never queued). :meth:`poll` on the main
thread takes that frame over and emits ``frame_received``.

The core is engine-free: :meth:`LiveKitScreenCapture.get_image`,
:meth:`~LiveKitScreenCapture.get_texture` and :meth:`~LiveKitScreenCapture.screenshot` return
(height, width, 4) uint8 RGBA numpy arrays; the Godot layer wraps them as ``Image`` /
``ImageTexture``.

Window listing and tracking on X11 talk to the X server through ``libxcb`` (the library
``libX11`` itself is built on) with ctypes: XCB reports protocol and connection errors as
return values, whereas Xlib's default handlers end the whole process on a ``BadWindow`` or a
closed display. A window capture grabs the window's current rectangle of the screen, so
whatever overlaps the window is captured too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import math
import os
import sys
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import mss as mss_module
import numpy as np

from . import poller
from .media_convert import rgba_from_bgra
from .signals import notify_activity, signal

logger = logging.getLogger(__name__)

DEFAULT_FRAME_RATE = 30.0
MAX_FRAME_RATE = 240.0
STOP_JOIN_TIMEOUT = 2.0  # seconds stop()/close() wait for the capture thread
RETRY_INTERVAL = 1.0  # seconds between attempts after a capture error (e.g. display lost)

Frame = np.ndarray  # (height, width, 4) uint8 RGBA
Rect = tuple[int, int, int, int]  # x, y, width, height


class _WindowGone(Exception):
    """The captured window no longer exists."""


class _DisplayError(Exception):
    """The X display cannot be reached (not set, refused, closed, or no libxcb)."""


# ------------------------------------------------------------------------ mss access


def _new_mss(display: str | None = None) -> Any:
    """A new mss instance for the calling thread.

    mss >= 10.2 is required: its default Linux backend is XCB, which survives a closed
    display (mss 9 used Xlib, whose I/O error handler exits the process).
    """
    if sys.platform.startswith("linux") and display:
        return mss_module.MSS(display=display)
    return mss_module.MSS()


def _monitor_dicts(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """mss monitors -> API dictionaries: primary first with id 0.

    mss puts an "all monitors" bounding box at index 0; it is skipped unless it is the only
    entry (a display without RandR monitor information).
    """
    entries = list(raw[1:]) or list(raw[:1])
    ordered = [m for m in entries if m.get("is_primary")] + [
        m for m in entries if not m.get("is_primary")
    ]
    return [
        {
            "id": index,
            "name": str(m.get("name") or m.get("output") or f"Monitor {index}"),
            "x": int(m["left"]),
            "y": int(m["top"]),
            "width": int(m["width"]),
            "height": int(m["height"]),
            "scale": 1.0,  # mss works in physical pixels and reports no DPI scale
        }
        for index, m in enumerate(ordered)
    ]


# ---------------------------------------------------------------- X11 through libxcb


_XCB_WINDOW_ATOM = 33  # predefined atoms of the core protocol
_XCB_STRING_ATOM = 31
_XCB_WM_NAME_ATOM = 39
_XCB_BAD_WINDOW = 3
_XCB_BAD_DRAWABLE = 9
_XCB_MAP_STATE_VIEWABLE = 2
_XCB_WINDOW_CLASS_INPUT_ONLY = 2
_MAX_PROPERTY_LONGS = 1 << 16

_u8, _u16, _u32, _i16 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_int16


class _Cookie(ctypes.Structure):
    _fields_ = (("sequence", ctypes.c_uint),)


class _GenericError(ctypes.Structure):
    _fields_ = (
        ("response_type", _u8),
        ("error_code", _u8),
        ("sequence", _u16),
        ("resource_id", _u32),
        ("minor_code", _u16),
        ("major_code", _u8),
        ("pad0", _u8),
        ("pad", _u32 * 5),
        ("full_sequence", _u32),
    )


class _Screen(ctypes.Structure):
    _fields_ = (
        ("root", _u32),
        ("default_colormap", _u32),
        ("white_pixel", _u32),
        ("black_pixel", _u32),
        ("current_input_masks", _u32),
        ("width_in_pixels", _u16),
        ("height_in_pixels", _u16),
        ("width_in_millimeters", _u16),
        ("height_in_millimeters", _u16),
        ("min_installed_maps", _u16),
        ("max_installed_maps", _u16),
        ("root_visual", _u32),
        ("backing_stores", _u8),
        ("save_unders", _u8),
        ("root_depth", _u8),
        ("allowed_depths_len", _u8),
    )


class _ScreenIterator(ctypes.Structure):
    _fields_ = (("data", ctypes.POINTER(_Screen)), ("rem", ctypes.c_int), ("index", ctypes.c_int))


class _GeometryReply(ctypes.Structure):
    _fields_ = (
        ("response_type", _u8),
        ("depth", _u8),
        ("sequence", _u16),
        ("length", _u32),
        ("root", _u32),
        ("x", _i16),
        ("y", _i16),
        ("width", _u16),
        ("height", _u16),
        ("border_width", _u16),
        ("pad0", _u8 * 2),
    )


class _TranslateReply(ctypes.Structure):
    _fields_ = (
        ("response_type", _u8),
        ("same_screen", _u8),
        ("sequence", _u16),
        ("length", _u32),
        ("child", _u32),
        ("dst_x", _i16),
        ("dst_y", _i16),
    )


class _QueryTreeReply(ctypes.Structure):
    _fields_ = (
        ("response_type", _u8),
        ("pad0", _u8),
        ("sequence", _u16),
        ("length", _u32),
        ("root", _u32),
        ("parent", _u32),
        ("children_len", _u16),
        ("pad1", _u8 * 14),
    )


class _AttributesReply(ctypes.Structure):
    _fields_ = (
        ("response_type", _u8),
        ("backing_store", _u8),
        ("sequence", _u16),
        ("length", _u32),
        ("visual", _u32),
        ("window_class", _u16),
        ("bit_gravity", _u8),
        ("win_gravity", _u8),
        ("backing_planes", _u32),
        ("backing_pixel", _u32),
        ("save_under", _u8),
        ("map_is_installed", _u8),
        ("map_state", _u8),
        ("override_redirect", _u8),
        ("colormap", _u32),
        ("all_event_masks", _u32),
        ("your_event_mask", _u32),
        ("do_not_propagate_mask", _u16),
        ("pad0", _u8 * 2),
    )


class _InternAtomReply(ctypes.Structure):
    _fields_ = (
        ("response_type", _u8),
        ("pad0", _u8),
        ("sequence", _u16),
        ("length", _u32),
        ("atom", _u32),
    )


class _PropertyReply(ctypes.Structure):
    _fields_ = (
        ("response_type", _u8),
        ("format", _u8),
        ("sequence", _u16),
        ("length", _u32),
        ("type", _u32),
        ("bytes_after", _u32),
        ("value_len", _u32),
        ("pad0", _u8 * 12),
    )


_ErrorOut = ctypes.POINTER(ctypes.POINTER(_GenericError))
_REQUESTS: dict[str, tuple[list[Any], type[ctypes.Structure]]] = {
    "xcb_get_geometry": ([_u32], _GeometryReply),
    "xcb_translate_coordinates": ([_u32, _u32, _i16, _i16], _TranslateReply),
    "xcb_query_tree": ([_u32], _QueryTreeReply),
    "xcb_get_window_attributes": ([_u32], _AttributesReply),
    "xcb_intern_atom": ([_u8, _u16, ctypes.c_char_p], _InternAtomReply),
    "xcb_get_property": ([_u8, _u32, _u32, _u32, _u32, _u32], _PropertyReply),
}


@dataclass(frozen=True)
class _Xcb:
    """The loaded libxcb and libc with their ctypes signatures."""

    lib: ctypes.CDLL
    libc: ctypes.CDLL


@cache
def _load_xcb() -> _Xcb:
    """Load libxcb (raises _DisplayError when it is not installed)."""
    name = ctypes.util.find_library("xcb") or "libxcb.so.1"
    try:
        lib = ctypes.CDLL(name)
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError as error:
        raise _DisplayError(f"libxcb is not available ({error}); install libxcb1") from error
    conn = ctypes.c_void_p
    lib.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    lib.xcb_connect.restype = conn
    lib.xcb_connection_has_error.argtypes = [conn]
    lib.xcb_connection_has_error.restype = ctypes.c_int
    lib.xcb_disconnect.argtypes = [conn]
    lib.xcb_disconnect.restype = None
    lib.xcb_get_setup.argtypes = [conn]
    lib.xcb_get_setup.restype = ctypes.c_void_p
    lib.xcb_setup_roots_iterator.argtypes = [ctypes.c_void_p]
    lib.xcb_setup_roots_iterator.restype = _ScreenIterator
    lib.xcb_screen_next.argtypes = [ctypes.POINTER(_ScreenIterator)]
    lib.xcb_screen_next.restype = None
    for name, (args, reply_type) in _REQUESTS.items():
        request = getattr(lib, name)
        request.argtypes = [conn, *args]
        request.restype = _Cookie
        reply = getattr(lib, f"{name}_reply")
        reply.argtypes = [conn, _Cookie, _ErrorOut]
        reply.restype = ctypes.POINTER(reply_type)
    tree = ctypes.POINTER(_QueryTreeReply)
    lib.xcb_query_tree_children.argtypes = [tree]
    lib.xcb_query_tree_children.restype = ctypes.POINTER(_u32)
    lib.xcb_query_tree_children_length.argtypes = [tree]
    lib.xcb_query_tree_children_length.restype = ctypes.c_int
    prop = ctypes.POINTER(_PropertyReply)
    lib.xcb_get_property_value.argtypes = [prop]
    lib.xcb_get_property_value.restype = ctypes.c_void_p
    lib.xcb_get_property_value_length.argtypes = [prop]
    lib.xcb_get_property_value_length.restype = ctypes.c_int
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free.restype = None
    return _Xcb(lib, libc)


class _XRequestError(Exception):
    """An X protocol error (``code`` 3 is BadWindow)."""

    def __init__(self, request: str, code: int) -> None:
        super().__init__(f"{request} failed with X error {code}")
        self.code = code


class _XConnection:
    """One XCB connection, used by one thread at a time. Errors never end the process."""

    def __init__(self, display: str | None = None) -> None:
        self._x = _load_xcb()
        self.display = display if display is not None else os.environ.get("DISPLAY", "")
        if not self.display:
            raise _DisplayError("DISPLAY is not set")
        screen_number = ctypes.c_int(0)
        self._conn: int | None = self._x.lib.xcb_connect(
            self.display.encode(), ctypes.byref(screen_number)
        )
        if not self._conn or self._x.lib.xcb_connection_has_error(self._conn):
            self.close()
            raise _DisplayError(f"cannot open X display {self.display!r}")
        iterator = self._x.lib.xcb_setup_roots_iterator(self._x.lib.xcb_get_setup(self._conn))
        for _ in range(max(screen_number.value, 0)):
            if iterator.rem <= 1:
                break
            self._x.lib.xcb_screen_next(ctypes.byref(iterator))
        screen = iterator.data.contents
        self.root = int(screen.root)
        self.screen_size = (int(screen.width_in_pixels), int(screen.height_in_pixels))

    def __enter__(self) -> _XConnection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn:
            self._x.lib.xcb_disconnect(self._conn)
        self._conn = None

    def healthy(self) -> bool:
        return bool(self._conn) and not self._x.lib.xcb_connection_has_error(self._conn)

    def _request(self, name: str, *args: Any) -> Any:
        """Send ``name`` and wait for its reply; returns a ctypes pointer the caller frees."""
        if not self._conn:
            raise _DisplayError("X connection is closed")
        cookie = getattr(self._x.lib, name)(self._conn, *args)
        error = ctypes.POINTER(_GenericError)()
        reply = getattr(self._x.lib, f"{name}_reply")(self._conn, cookie, ctypes.byref(error))
        if error:
            code = int(error.contents.error_code)
            self._x.libc.free(error)
            if reply:
                self._x.libc.free(reply)
            raise _XRequestError(name, code)
        if not reply:
            raise _DisplayError(f"X display {self.display!r} connection lost")
        return reply

    def _fetch(self, name: str, *args: Any) -> Any:
        """Like :meth:`_request` for fixed-size replies: returns a copy, frees the reply."""
        reply = self._request(name, *args)
        try:
            contents = reply.contents
            return type(contents).from_buffer_copy(contents)
        finally:
            self._x.libc.free(reply)

    def atom(self, name: str) -> int:
        """The atom for ``name``, 0 when the server does not know it."""
        raw = name.encode()
        return int(self._fetch("xcb_intern_atom", 1, len(raw), raw).atom)

    def attributes(self, window: int) -> _AttributesReply:
        return self._fetch("xcb_get_window_attributes", window)

    def rect(self, window: int) -> Rect:
        """``window``'s inside area in root coordinates (x, y, width, height)."""
        geometry = self._fetch("xcb_get_geometry", window)
        origin = self._fetch("xcb_translate_coordinates", window, self.root, 0, 0)
        return int(origin.dst_x), int(origin.dst_y), int(geometry.width), int(geometry.height)

    def children(self, window: int) -> list[int]:
        """The children of ``window``, bottom-most first."""
        reply = self._request("xcb_query_tree", window)
        try:
            count = self._x.lib.xcb_query_tree_children_length(reply)
            pointer = self._x.lib.xcb_query_tree_children(reply)
            return [int(pointer[i]) for i in range(count)]
        finally:
            self._x.libc.free(reply)

    def property(self, window: int, atom: int, type_atom: int = 0) -> tuple[int, int, bytes]:
        """(type, format, value bytes) of a property; type 0 when it is not set."""
        reply = self._request(
            "xcb_get_property", 0, window, atom, type_atom, 0, _MAX_PROPERTY_LONGS
        )
        try:
            length = self._x.lib.xcb_get_property_value_length(reply)
            value = self._x.lib.xcb_get_property_value(reply)
            data = ctypes.string_at(value, length) if length > 0 and value else b""
            return int(reply.contents.type), int(reply.contents.format), data
        finally:
            self._x.libc.free(reply)

    def window_name(self, window: int, net_wm_name: int, utf8_string: int) -> str:
        """``_NET_WM_NAME`` (UTF-8) or else ``WM_NAME``; "" when neither is set."""
        if net_wm_name and utf8_string:
            kind, _, data = self.property(window, net_wm_name, utf8_string)
            if kind and data:
                return data.rstrip(b"\0").decode("utf-8", "replace")
        kind, _, data = self.property(window, _XCB_WM_NAME_ATOM)
        encoding = "latin-1" if kind == _XCB_STRING_ATOM else "utf-8"
        return data.rstrip(b"\0").decode(encoding, "replace")

    def client_list(self) -> list[int] | None:
        """The window manager's ``_NET_CLIENT_LIST``; None when no manager publishes one."""
        atom = self.atom("_NET_CLIENT_LIST")
        if not atom:
            return None
        kind, fmt, data = self.property(self.root, atom, _XCB_WINDOW_ATOM)
        if not kind or fmt != 32:
            return None
        return [int(w) for w in np.frombuffer(data, dtype=np.uint32)]


def _x11_windows() -> list[dict[str, Any]]:
    """Viewable top-level windows of the X display: the WM's list, else the root's children."""
    windows: list[dict[str, Any]] = []
    with _XConnection() as x:
        net_wm_name, utf8_string = x.atom("_NET_WM_NAME"), x.atom("UTF8_STRING")
        managed = x.client_list()
        candidates = managed if managed is not None else x.children(x.root)
        for window in candidates:
            try:
                attributes = x.attributes(window)
                if attributes.map_state != _XCB_MAP_STATE_VIEWABLE:
                    continue
                if attributes.window_class == _XCB_WINDOW_CLASS_INPUT_ONLY:
                    continue
                if managed is None and attributes.override_redirect:
                    continue  # menus, tooltips, drag icons
                name = x.window_name(window, net_wm_name, utf8_string)
                if managed is None and not name:
                    continue  # unnamed helper windows of toolkits
                left, top, width, height = x.rect(window)
            except _XRequestError:
                continue  # the window went away while we were looking at it
            windows.append(
                {"id": window, "name": name, "x": left, "y": top, "width": width, "height": height}
            )
    return windows


# ------------------------------------------------------------------- Windows (win32)


def _user32() -> Any:
    """user32 through ctypes (Windows only)."""
    from ctypes import wintypes

    windll: Any = getattr(ctypes, "WinDLL")  # noqa: B009 - exists on Windows only
    user32 = windll("user32", use_last_error=True)
    user32.GetWindowRect.argtypes = [wintypes.HWND, ctypes.POINTER(wintypes.RECT)]
    user32.GetWindowTextLengthW.argtypes = [wintypes.HWND]
    user32.GetWindowTextW.argtypes = [wintypes.HWND, wintypes.LPWSTR, ctypes.c_int]
    for name in ("IsWindow", "IsWindowVisible", "IsIconic"):
        getattr(user32, name).argtypes = [wintypes.HWND]
    return user32


def _win32_rect(user32: Any, hwnd: int) -> Rect | None:
    from ctypes import wintypes

    rect = wintypes.RECT()
    if not user32.GetWindowRect(hwnd, ctypes.byref(rect)):
        return None
    return rect.left, rect.top, rect.right - rect.left, rect.bottom - rect.top


def _win32_windows() -> list[dict[str, Any]]:
    """Visible, titled, not minimised top-level windows (EnumWindows)."""
    from ctypes import wintypes

    user32 = _user32()
    windows: list[dict[str, Any]] = []

    def visit(hwnd: int, _param: int) -> bool:
        if not hwnd or not user32.IsWindowVisible(hwnd) or user32.IsIconic(hwnd):
            return True
        length = user32.GetWindowTextLengthW(hwnd)
        if length <= 0:
            return True
        title = ctypes.create_unicode_buffer(length + 1)
        user32.GetWindowTextW(hwnd, title, length + 1)
        rect = _win32_rect(user32, hwnd)
        if rect is not None:
            x, y, w, h = rect
            windows.append(
                {"id": int(hwnd), "name": title.value, "x": x, "y": y, "width": w, "height": h}
            )
        return True

    winfunctype: Any = getattr(ctypes, "WINFUNCTYPE")  # noqa: B009 - exists on Windows only
    callback = winfunctype(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)(visit)
    user32.EnumWindows(callback, 0)
    return windows


# ------------------------------------------------------------------- capture targets


@dataclass(frozen=True)
class _Target:
    """What to capture: a monitor rectangle, the primary monitor, or a window."""

    kind: str  # "primary" | "monitor" | "window"
    display: str | None
    rect: Rect | None = None  # monitor rectangle, or the window's rectangle when created
    window_id: int = 0
    name: str = ""

    def describe(self) -> str:
        if self.kind == "window":
            return f"window {self.window_id:#x} {self.name!r}"
        if self.kind == "monitor":
            return f"monitor {self.name!r}"
        return "primary monitor"


class _WindowTracker:
    """Reads a window's current on-screen rectangle; lives on one thread."""

    def __init__(self, target: _Target) -> None:
        self._window = target.window_id
        self._x: _XConnection | None = None
        self._user32: Any = None
        if sys.platform == "win32":
            self._user32 = _user32()
        elif sys.platform.startswith("linux"):
            self._x = _XConnection(target.display)
        else:
            raise _DisplayError(f"window capture is not supported on {sys.platform}")

    def rect(self) -> Rect | None:
        """Current rectangle; None while the window is not shown. Raises _WindowGone."""
        if self._user32 is not None:
            if not self._user32.IsWindow(self._window):
                raise _WindowGone
            if self._user32.IsIconic(self._window):
                return None
            return _win32_rect(self._user32, self._window)
        assert self._x is not None
        try:
            if self._x.attributes(self._window).map_state != _XCB_MAP_STATE_VIEWABLE:
                return None
            return self._x.rect(self._window)
        except _XRequestError as error:
            if error.code in (_XCB_BAD_WINDOW, _XCB_BAD_DRAWABLE):
                raise _WindowGone from error
            raise

    def close(self) -> None:
        if self._x is not None:
            self._x.close()
            self._x = None


def _clip(rect: Rect, bounds: Mapping[str, int]) -> dict[str, int] | None:
    """``rect`` intersected with the mss region ``bounds``; None when nothing is left."""
    x, y, w, h = rect
    left = max(x, bounds["left"])
    top = max(y, bounds["top"])
    right = min(x + w, bounds["left"] + bounds["width"])
    bottom = min(y + h, bounds["top"] + bounds["height"])
    if right <= left or bottom <= top:
        return None
    return {"left": left, "top": top, "width": right - left, "height": bottom - top}


class _Grabber:
    """Grabs the target as RGBA; owns the per-thread mss instance (and window tracker)."""

    def __init__(self, target: _Target) -> None:
        self.target = target
        self._sct: Any = None
        self._tracker: _WindowTracker | None = None

    def grab(self) -> Frame | None:
        """One frame now; None when the target is not visible. Raises on errors."""
        if self._sct is None:
            self._sct = _new_mss(self.target.display)
        region = self._region()
        if region is None:
            return None
        shot = self._sct.grab(region)
        return rgba_from_bgra(shot.raw, int(shot.width), int(shot.height))

    def _region(self) -> dict[str, int] | None:
        monitors = self._sct.monitors
        if self.target.kind == "primary":
            found = _monitor_dicts(monitors)
            if not found:
                raise _DisplayError("the display reports no monitor")
            m = found[0]
            rect: Rect | None = (m["x"], m["y"], m["width"], m["height"])
        elif self.target.kind == "monitor":
            rect = self.target.rect
        else:
            if self._tracker is None:
                self._tracker = _WindowTracker(self.target)
            rect = self._tracker.rect()
        if rect is None:
            return None
        return _clip(rect, monitors[0])  # index 0: the bounding box of every monitor

    def close(self) -> None:
        """Release mss and the tracker; the next grab reconnects."""
        if self._tracker is not None:
            self._tracker.close()
            self._tracker = None
        if self._sct is not None:
            try:
                self._sct.close()
            except Exception:
                logger.debug("closing mss failed", exc_info=True)
            self._sct = None


class _CaptureWorker:
    """The capture thread and its one-frame slot. Holds no reference to the capture object,
    so dropping a running LiveKitScreenCapture stops the thread (weakref.finalize)."""

    def __init__(self, target: _Target, frame_rate: float, paused: bool) -> None:
        self.target = target
        self.frame_rate = frame_rate
        self._cond = threading.Condition()
        self._paused = paused
        self._stopping = False
        self._frame: Frame | None = None
        self._sequence = 0
        self.frames_published = 0
        self.thread = threading.Thread(
            target=self._run, name=f"LiveKitScreenCapture {target.describe()}", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def set_paused(self, paused: bool) -> None:
        with self._cond:
            self._paused = paused
            self._cond.notify_all()

    def stop(self, timeout: float = STOP_JOIN_TIMEOUT) -> bool:
        """Ask the thread to end and join it for at most ``timeout``; True when it ended."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self.thread.ident is None or self.thread is threading.current_thread():
            return True
        self.thread.join(timeout)
        if self.thread.is_alive() and timeout > 0:
            logger.warning(
                "screen capture thread of %s did not end within %.1f s",
                self.target.describe(),
                timeout,
            )
            return False
        return True

    def take(self, seen: int) -> tuple[int, Frame] | None:
        """The newest frame and its sequence number if it is newer than ``seen``."""
        with self._cond:
            if self._sequence == seen or self._frame is None:
                return None
            return self._sequence, self._frame

    def _publish(self, frame: Frame) -> None:
        with self._cond:
            if self._paused or self._stopping:
                return  # paused while grabbing: this frame is not delivered
            self._frame = frame  # replaces an unpolled older frame: never a queue
            self._sequence += 1
            self.frames_published += 1
        notify_activity()

    def _wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` unless stopped; True when stopping."""
        with self._cond:
            return self._cond.wait_for(lambda: self._stopping, timeout=max(seconds, 0.0))

    def _wait_while_paused(self) -> bool:
        """Block while paused; True when stopping."""
        with self._cond:
            self._cond.wait_for(lambda: self._stopping or not self._paused)
            return self._stopping

    def _run(self) -> None:
        grabber = _Grabber(self.target)
        failing = False
        hidden = False
        next_due = time.monotonic()
        try:
            while True:
                if self._paused:
                    if self._wait_while_paused():
                        return
                    next_due = time.monotonic()
                with self._cond:
                    if self._stopping:
                        return
                try:
                    frame = grabber.grab()
                except _WindowGone:
                    logger.warning(
                        "screen capture: %s is gone; no more frames", self.target.describe()
                    )
                    return
                except Exception as error:
                    if not failing:
                        logger.error(
                            "screen capture of %s failed: %s (retrying every %.0f s)",
                            self.target.describe(),
                            error,
                            RETRY_INTERVAL,
                        )
                    failing = True
                    grabber.close()
                    if self._wait(RETRY_INTERVAL):
                        return
                    next_due = time.monotonic()
                    continue
                if failing:
                    logger.info("screen capture of %s recovered", self.target.describe())
                    failing = False
                if frame is None:
                    if not hidden:
                        logger.debug("%s is not visible: waiting", self.target.describe())
                    hidden = True
                else:
                    hidden = False
                    self._publish(frame)
                period = 1.0 / self.frame_rate
                next_due = max(next_due + period, time.monotonic())
                if self._wait(next_due - time.monotonic()):
                    return
        except Exception:
            logger.exception("screen capture thread of %s crashed", self.target.describe())
        finally:
            grabber.close()


def _stop_worker(holder: list[_CaptureWorker | None]) -> None:
    """Finalizer of a dropped capture: stop its thread without waiting."""
    worker = holder[0]
    holder[0] = None
    if worker is not None:
        worker.stop(timeout=0.0)


# -------------------------------------------------------------------- public class


def _int_field(data: Mapping[str, Any], key: str, where: str, *, positive: bool = False) -> int:
    value = data.get(key)
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


class LiveKitScreenCapture:
    """Captures a monitor or a window as RGBA frames (see the module docstring).

    Public methods are meant for the main thread; only the capture itself runs on a
    background thread.
    """

    PERMISSION_OK = 0
    PERMISSION_WARNING = 1
    PERMISSION_ERROR = 2

    frame_received = signal()

    def __init__(self, _target: _Target | None = None) -> None:
        """Prefer the factories; without arguments this captures the primary monitor."""
        self._target = _target or _Target("primary", os.environ.get("DISPLAY"))
        self._frame_rate = DEFAULT_FRAME_RATE
        self._auto_poll = True
        self._paused = False
        self._closed = False
        self._frame: Frame | None = None
        self._seen = 0
        self._holder: list[_CaptureWorker | None] = [None]
        self._finalizer = weakref.finalize(self, _stop_worker, self._holder)
        poller.register(self)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running" if self._worker else "idle"
        return f"<LiveKitScreenCapture {self._target.describe()} {state}>"

    @property
    def _worker(self) -> _CaptureWorker | None:
        return self._holder[0]

    # ----------------------------------------------------------------- static queries

    @staticmethod
    def get_monitors() -> list[dict[str, Any]]:
        """Monitors as dictionaries: id, name, x, y, width, height, scale (primary: id 0).

        Returns [] (and logs why) when no display can be opened.
        """
        try:
            with _new_mss(os.environ.get("DISPLAY")) as sct:
                return _monitor_dicts(sct.monitors)
        except Exception as error:
            logger.warning("cannot list monitors: %s (see check_permissions())", error)
            return []

    @staticmethod
    def get_windows() -> list[dict[str, Any]]:
        """Shown top-level windows as dictionaries: id, name, x, y, width, height.

        X11: the window manager's ``_NET_CLIENT_LIST``, else the mapped, named, top-level
        children of the root window. Windows: visible, titled, not minimised windows.
        macOS: not implemented, returns [] (see check_permissions()).
        """
        try:
            if sys.platform.startswith("linux"):
                return _x11_windows()
            if sys.platform == "win32":
                return _win32_windows()
        except Exception as error:
            logger.warning("cannot list windows: %s (see check_permissions())", error)
            return []
        logger.info("get_windows() is not implemented on %s", sys.platform)
        return []

    @staticmethod
    def check_permissions() -> dict[str, Any]:
        """Whether capture can work here: ``status`` (PERMISSION_*), ``summary``, ``details``."""
        if sys.platform.startswith("linux"):
            status, summary, details = _check_x11()
        elif sys.platform == "darwin":
            status, summary, details = _check_macos()
        elif sys.platform == "win32":
            status, summary, details = (
                LiveKitScreenCapture.PERMISSION_OK,
                "Screen capture available (GDI)",
                ["Windows needs no permission for desktop capture"],
            )
        else:
            status, summary, details = (
                LiveKitScreenCapture.PERMISSION_ERROR,
                f"Screen capture is not supported on {sys.platform}",
                [],
            )
        return {"status": status, "summary": summary, "details": details}

    # ---------------------------------------------------------------------- factories

    @staticmethod
    def create() -> LiveKitScreenCapture:
        """A capture of the primary monitor (resolved when capturing)."""
        return LiveKitScreenCapture()

    @staticmethod
    def create_for_monitor(monitor: dict[str, Any]) -> LiveKitScreenCapture:
        """A capture of ``monitor`` (a dictionary from get_monitors())."""
        where = "create_for_monitor"
        data = _require_mapping(monitor, where, "get_monitors")
        rect = (
            _int_field(data, "x", where),
            _int_field(data, "y", where),
            _int_field(data, "width", where, positive=True),
            _int_field(data, "height", where, positive=True),
        )
        name = str(data.get("name") or f"Monitor {data.get('id', '?')}")
        return LiveKitScreenCapture(
            _Target("monitor", os.environ.get("DISPLAY"), rect=rect, name=name)
        )

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
        target = _Target(
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
        worker = _CaptureWorker(self._target, self._frame_rate, self._paused)
        self._holder[0] = worker
        self._seen = 0
        worker.start()

    def stop(self) -> None:
        """Stop capturing and join the thread (bounded); a frame not yet polled is dropped."""
        worker = self._worker
        self._holder[0] = None
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
        """Stop capturing and release everything; the object cannot be started again."""
        self.stop()
        self._closed = True
        self._frame = None
        poller.unregister(self)
        self._finalizer.detach()

    # ---------------------------------------------------------------------- frames

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
        grabber = _Grabber(self._target)
        try:
            frame = grabber.grab()
        except _WindowGone:
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

    # ---------------------------------------------------------------------- settings

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


# -------------------------------------------------------------------- permissions


def _check_x11() -> tuple[int, str, list[str]]:
    """Permission check for Linux/BSD: is there an X display that mss can read?"""
    ok, warning, error = (
        LiveKitScreenCapture.PERMISSION_OK,
        LiveKitScreenCapture.PERMISSION_WARNING,
        LiveKitScreenCapture.PERMISSION_ERROR,
    )
    display = os.environ.get("DISPLAY", "")
    wayland = os.environ.get("WAYLAND_DISPLAY", "")
    details: list[str] = []
    if not display:
        if wayland:
            return (
                error,
                "Wayland session without X access: DISPLAY is not set",
                [
                    f"WAYLAND_DISPLAY={wayland}",
                    "screen capture uses X11; native Wayland capture (portal/PipeWire) "
                    "is not supported",
                    "enable XWayland and set DISPLAY (often :0), or log into an X11 session",
                ],
            )
        return (
            error,
            "No X display: DISPLAY is not set",
            [
                "screen capture needs an X11 display",
                "on a headless machine start a virtual one: Xvfb :99 & export DISPLAY=:99",
            ],
        )
    try:
        with _XConnection(display) as x:
            width, height = x.screen_size
            details.append(f"X display {display}: {width}x{height} screen")
            if x.client_list() is None:
                details.append(
                    "no window manager publishes _NET_CLIENT_LIST: get_windows() lists the "
                    "mapped top-level windows"
                )
    except _DisplayError as failure:
        return (
            error,
            f"Cannot open X display {display}",
            [
                str(failure),
                "is the X server running? is access allowed (XAUTHORITY, xhost)?",
            ],
        )
    try:
        with _new_mss(display) as sct:
            monitors = _monitor_dicts(sct.monitors)
            sct.grab({"left": 0, "top": 0, "width": 1, "height": 1})
    except Exception as failure:
        return (
            error,
            f"X display {display} opens but cannot be captured",
            [*details, f"mss: {failure}"],
        )
    details.append(f"{len(monitors)} monitor(s)")
    if wayland or os.environ.get("XDG_SESSION_TYPE") == "wayland":
        details.append(f"WAYLAND_DISPLAY={wayland or '?'}: capturing through XWayland")
        return (
            warning,
            "Wayland session: only X11 (XWayland) content can be captured reliably",
            [*details, "native Wayland windows may be missing from get_windows() or black"],
        )
    return ok, f"Screen capture available on X display {display}", details


def _check_macos() -> tuple[int, str, list[str]]:
    """Permission check for macOS: the Screen Recording privacy permission."""
    details = ["get_windows() is not implemented on macOS and returns []; capture monitors instead"]
    try:
        graphics = ctypes.CDLL("/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics")
        preflight = graphics.CGPreflightScreenCaptureAccess
    except (OSError, AttributeError):
        return (
            LiveKitScreenCapture.PERMISSION_WARNING,
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
        return LiveKitScreenCapture.PERMISSION_OK, "Screen recording permission granted", details
    return (
        LiveKitScreenCapture.PERMISSION_ERROR,
        "Screen recording permission not granted",
        [
            "allow this app (or the terminal running it) under System Settings > "
            "Privacy & Security > Screen Recording, then restart it",
            *details,
        ],
    )
