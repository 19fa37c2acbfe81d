"""X11 backend: window listing and window geometry through xcffib, the XCB binding.

XCB, unlike Xlib, reports protocol and connection errors as values (xcffib raises them as
Python exceptions), so a ``BadWindow`` or a closed display never ends the process. xcffib
was chosen over python-xlib and over our former hand-made ctypes binding of libxcb after
``bench/window_listing.py`` on Xvfb: 50 windows listed in about 0.3x the former binding's
time and 0.5x python-xlib's (both pipelined); all of them skip a window destroyed
mid-listing. xcffib is pure Python over cffi (cffi has CPython 3.14 wheels for Linux x86_64
and aarch64); it is published as a source archive that pip builds without a compiler.

Requests are pipelined: a listing sends every request about every candidate window before
it reads the first reply, so it costs a few round trips whatever the number of windows. A
window destroyed after the candidate list was read answers ``BadWindow`` and is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from .errors import DisplayError, WindowGone
from .target import Rect

WINDOW_ATOM = 33  # predefined atoms of the core protocol
STRING_ATOM = 31
WM_NAME_ATOM = 39
ANY_PROPERTY_TYPE = 0
MAP_STATE_VIEWABLE = 2
WINDOW_CLASS_INPUT_ONLY = 2
CLIENT_LIST_LONGS = 1 << 16  # at most 65,536 managed windows
NAME_LONGS = 1024  # window titles are read up to 4 KiB

WindowInfo = dict[str, Any]  # id, name, x, y, width, height (the API's dictionary)
StageHook = Callable[[str, list[int]], None]  # (stage, window ids): a test hook


@dataclass(frozen=True)
class _Xcb:
    """The imported xcffib package and its core protocol module."""

    package: ModuleType
    proto: ModuleType


def _load_xcffib() -> _Xcb:
    """Import xcffib (it loads libxcb); raises DisplayError when either is missing."""
    try:
        import xcffib
        import xcffib.xproto
    except ImportError as error:
        raise DisplayError(f"xcffib is not installed ({error}); pip install xcffib") from error
    except OSError as error:  # xcffib could not load libxcb
        raise DisplayError(f"libxcb is not available ({error}); install libxcb1") from error
    return _Xcb(xcffib, xcffib.xproto)


class XRequestError(Exception):
    """An X protocol error other than the window being gone."""


class XConnection:
    """One XCB connection, used by one thread at a time. Close it (or use ``with``)."""

    def __init__(self, display: str | None = None) -> None:
        """Connect to ``display`` (default: ``$DISPLAY``); raises DisplayError."""
        self._xcb = _load_xcffib()
        self.display = display if display is not None else os.environ.get("DISPLAY", "")
        if not self.display:
            raise DisplayError("DISPLAY is not set")
        try:
            self._conn: Any = self._xcb.package.connect(display=self.display)
        except self._xcb.package.XcffibException as error:
            raise DisplayError(f"cannot open X display {self.display!r} ({error})") from error
        try:
            with self._connection_errors():
                setup = self._conn.setup  # parsed once by xcffib.connect
                screen = setup.roots[min(max(self._conn.pref_screen, 0), len(setup.roots) - 1)]
        except BaseException:
            self.close()
            raise
        self.root = int(screen.root)
        self.screen_size = (int(screen.width_in_pixels), int(screen.height_in_pixels))

    def __enter__(self) -> XConnection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect (idempotent)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.disconnect()

    @contextmanager
    def _connection_errors(self) -> Iterator[None]:
        """Turn a lost or closed connection into DisplayError."""
        if self._conn is None:
            raise DisplayError(f"the connection to X display {self.display!r} is closed")
        try:
            yield
        except self._xcb.package.Error:
            raise  # protocol errors are the caller's to judge
        except self._xcb.package.XcffibException as error:
            raise DisplayError(f"X display {self.display!r} connection lost ({error})") from error

    def _replies(self, cookies: Sequence[Any]) -> list[Any]:
        """Each cookie's reply, or the protocol error the server sent for it, in order."""
        replies: list[Any] = []
        with self._connection_errors():
            for cookie in cookies:
                try:
                    replies.append(cookie.reply())
                except self._xcb.package.Error as error:
                    replies.append(error)
        return replies

    def _is_error(self, reply: Any) -> bool:
        return isinstance(reply, self._xcb.package.Error)

    def atoms(self, names: Sequence[str]) -> list[int]:
        """The atoms of ``names`` in one round trip; 0 for a name the server does not know."""
        with self._connection_errors():
            cookies = [self._conn.core.InternAtom(True, len(n), n.encode()) for n in names]
        return [0 if self._is_error(r) else int(r.atom) for r in self._replies(cookies)]

    def client_list(self, client_list_atom: int) -> list[int] | None:
        """The window manager's ``_NET_CLIENT_LIST``; None when no manager publishes one."""
        if not client_list_atom:
            return None
        with self._connection_errors():
            cookie = self._conn.core.GetProperty(
                False, self.root, client_list_atom, WINDOW_ATOM, 0, CLIENT_LIST_LONGS
            )
        (reply,) = self._replies([cookie])
        if self._is_error(reply) or reply.type != WINDOW_ATOM or reply.format != 32:
            return None  # not set, or not a list of windows: as if no manager published one
        return [int(w) for w in np.frombuffer(reply.value.buf(), dtype=np.uint32)]

    def children(self, window: int) -> list[int]:
        """The children of ``window``, bottom-most first ([] when it is gone)."""
        with self._connection_errors():
            cookie = self._conn.core.QueryTree(window)
        (reply,) = self._replies([cookie])
        return [] if self._is_error(reply) else [int(w) for w in reply.children]

    def describe_windows(
        self,
        candidates: Sequence[int],
        *,
        managed: bool,
        net_wm_name: int,
        utf8_string: int,
        on_stage: StageHook | None = None,
    ) -> list[WindowInfo]:
        """API dictionaries of the listable ``candidates``, in three pipelined round trips.

        Unmanaged candidates (children of the root) must also be named. A candidate the
        server answers with an error for (gone since it was listed) is skipped.
        ``on_stage("shown", ids)`` runs after the attributes pass (see list_windows).
        """
        shown = self._listable(candidates, managed)
        if on_stage is not None:
            on_stage("shown", list(shown))
        with self._connection_errors():
            core = self._conn.core
            geometry_cookies = [core.GetGeometry(window) for window in shown]
            # a managed window's parent may be the manager's frame; a root child's is the root
            origin_cookies = (
                [core.TranslateCoordinates(window, self.root, 0, 0) for window in shown]
                if managed
                else []
            )
        names = self._names(shown, net_wm_name, utf8_string)  # same round trip as geometry
        geometries = self._replies(geometry_cookies)
        origins = self._replies(origin_cookies) if managed else geometries
        windows: list[WindowInfo] = []
        for window, geometry, origin, name in zip(shown, geometries, origins, names, strict=True):
            if self._is_error(geometry) or self._is_error(origin):
                continue  # the window went away while we were looking at it
            if not managed and not name:
                continue  # unnamed helper windows of toolkits
            if managed:
                x, y = origin.dst_x, origin.dst_y
            else:  # the inside area starts inside the border
                x, y = geometry.x + geometry.border_width, geometry.y + geometry.border_width
            windows.append(
                {
                    "id": int(window),
                    "name": name,
                    "x": int(x),
                    "y": int(y),
                    "width": int(geometry.width),
                    "height": int(geometry.height),
                }
            )
        return windows

    def _listable(self, candidates: Sequence[int], managed: bool) -> list[int]:
        """The candidates that are viewable, have pixels and (unless managed) are not
        override-redirect (menus, tooltips, drag icons); one round trip."""
        with self._connection_errors():
            cookies = [self._conn.core.GetWindowAttributes(window) for window in candidates]
        return [
            window
            for window, attributes in zip(candidates, self._replies(cookies), strict=True)
            if not self._is_error(attributes)  # gone already
            and attributes.map_state == MAP_STATE_VIEWABLE
            and attributes._class != WINDOW_CLASS_INPUT_ONLY
            and (managed or not attributes.override_redirect)
        ]

    def _names(self, windows: Sequence[int], net_wm_name: int, utf8_string: int) -> list[str]:
        """Each window's ``_NET_WM_NAME`` (UTF-8), else its ``WM_NAME``, else ""; the second
        round trip only asks the windows without the first."""
        names = [""] * len(windows)
        if net_wm_name and utf8_string:
            with self._connection_errors():
                cookies = [
                    self._conn.core.GetProperty(
                        False, window, net_wm_name, utf8_string, 0, NAME_LONGS
                    )
                    for window in windows
                ]
            for index, reply in enumerate(self._replies(cookies)):
                if not self._is_error(reply) and reply.type == utf8_string:
                    names[index] = _decoded(reply, "utf-8")
        unnamed = [index for index, name in enumerate(names) if not name]
        with self._connection_errors():
            cookies = [
                self._conn.core.GetProperty(
                    False, windows[index], WM_NAME_ATOM, ANY_PROPERTY_TYPE, 0, NAME_LONGS
                )
                for index in unnamed
            ]
        for index, reply in zip(unnamed, self._replies(cookies), strict=True):
            if not self._is_error(reply):
                names[index] = _decoded(reply, "latin-1" if reply.type == STRING_ATOM else "utf-8")
        return names

    def window_rect(self, window: int) -> Rect | None:
        """``window``'s inside area in root coordinates, in one round trip.

        None while it is not viewable (unmapped or minimised); raises WindowGone once it
        no longer exists and XRequestError on another protocol error.
        """
        with self._connection_errors():
            core = self._conn.core
            cookies = [
                core.GetWindowAttributes(window),
                core.GetGeometry(window),
                core.TranslateCoordinates(window, self.root, 0, 0),
            ]
        attributes, geometry, origin = self._replies(cookies)
        for reply in (attributes, geometry, origin):
            if isinstance(reply, self._xcb.proto.WindowError | self._xcb.proto.DrawableError):
                raise WindowGone(f"window {window:#x} is gone")
            if self._is_error(reply):
                raise XRequestError(f"X error {type(reply).__name__} for window {window:#x}")
        if attributes.map_state != MAP_STATE_VIEWABLE:
            return None
        return int(origin.dst_x), int(origin.dst_y), int(geometry.width), int(geometry.height)


def _decoded(reply: Any, encoding: str) -> str:
    """A text property's value without trailing NULs; undecodable bytes replaced."""
    return bytes(reply.value.buf()).rstrip(b"\0").decode(encoding, "replace")


def list_windows(
    display: str | None = None, *, on_stage: StageHook | None = None
) -> list[WindowInfo]:
    """Viewable top-level windows: the window manager's list, else the root's children.

    ``on_stage`` is a test hook, called on this thread between round trips so a test can
    destroy a window exactly where a real race would: ``("candidates", ids)`` once the
    candidates are read, before any request about them; ``("shown", ids)`` once their
    attributes are read, before their geometry and names are asked.
    """
    with XConnection(display) as x:
        client_list_atom, net_wm_name, utf8_string = x.atoms(
            ("_NET_CLIENT_LIST", "_NET_WM_NAME", "UTF8_STRING")
        )
        managed = x.client_list(client_list_atom)
        candidates = managed if managed is not None else x.children(x.root)
        if on_stage is not None:
            on_stage("candidates", list(candidates))
        return x.describe_windows(
            candidates,
            managed=managed is not None,
            net_wm_name=net_wm_name,
            utf8_string=utf8_string,
            on_stage=on_stage,
        )
