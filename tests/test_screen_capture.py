"""LiveKitScreenCapture on a real X server (Xvfb); no LiveKit server needed.

A session fixture starts ``Xvfb -screen 0 640x480x24`` on a free display (``-displayfd``)
and points DISPLAY at it. Known content is drawn with plain Xlib through ctypes: windows
made of four coloured child windows (the server paints window backgrounds itself, and Xvfb
is lossless, so pixels can be compared exactly). There is no window manager, so
``get_windows()`` lists the mapped top-level windows.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from godot_livekit import LiveKitScreenCapture, poller
from godot_livekit.media_convert import rgba_from_bgra
from godot_livekit.signals import activity_counter, wait_for_activity

SCREEN_W, SCREEN_H = 640, 480
XVFB_START_TIMEOUT = 20.0
FRAME_TIMEOUT = 10.0

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


@pytest.fixture(scope="session")
def xvfb() -> Iterator[Xvfb]:
    """One Xvfb for the session; DISPLAY points at it while it runs."""
    server = start_xvfb()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DISPLAY", server.display)
        patch.delenv("WAYLAND_DISPLAY", raising=False)
        patch.delenv("XDG_SESSION_TYPE", raising=False)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(autouse=True)
def _display(xvfb: Xvfb, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with DISPLAY on the session Xvfb (tests may change it)."""
    monkeypatch.setenv("DISPLAY", xvfb.display)


# ------------------------------------------------------------------ Xlib test client


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
    ) -> int:
        """A window with a solid background colour (painted by the server)."""
        window = int(
            self.lib.XCreateSimpleWindow(
                self.dpy, parent or self.root, x, y, width, height, 0, BLACK, color
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

    def atom(self, name: str) -> int:
        return int(self.lib.XInternAtom(self.dpy, name.encode(), 0))

    def set_utf8_property(self, window: int, name: str, value: str) -> None:
        data = value.encode("utf-8")
        self.lib.XChangeProperty(
            self.dpy, window, self.atom(name), self.atom("UTF8_STRING"), 8, 0, data, len(data)
        )
        self.sync()

    def set_window_list(self, window: int, name: str, windows: list[int]) -> None:
        """A format-32 WINDOW list property (Xlib wants C longs for format 32)."""
        data = (ctypes.c_ulong * len(windows))(*windows)
        window_atom = 33
        self.lib.XChangeProperty(
            self.dpy, window, self.atom(name), window_atom, 32, 0, data, len(windows)
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


@pytest.fixture
def x(xvfb: Xvfb) -> Iterator[XClient]:
    """An Xlib client on the session Xvfb; its windows vanish when the test ends."""
    client = XClient(xvfb.display)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def captures() -> Iterator[Callable[[LiveKitScreenCapture], LiveKitScreenCapture]]:
    """`track(capture)`: closes every tracked capture at the end of the test."""
    made: list[LiveKitScreenCapture] = []

    def track(capture: LiveKitScreenCapture) -> LiveKitScreenCapture:
        made.append(capture)
        return capture

    yield track
    for capture in made:
        capture.close()


def window_entry(window: int) -> dict[str, Any]:
    """The get_windows() dictionary of ``window`` (fails when it is not listed)."""
    found = [w for w in LiveKitScreenCapture.get_windows() if w["id"] == window]
    assert len(found) == 1, f"window {window:#x} listed {len(found)} times"
    return found[0]


def wait_for_frames(capture: LiveKitScreenCapture, count: int = 1) -> None:
    """poll() until ``count`` new frames arrived (bounded; sleeps on frame activity)."""
    deadline = time.monotonic() + FRAME_TIMEOUT
    received = 0
    while True:
        seen = activity_counter()
        if capture.poll():
            received += 1
            if received >= count:
                return
            continue
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"got {received} of {count} frames in {FRAME_TIMEOUT:.0f} s"
        wait_for_activity(seen, min(remaining, 0.1))


def assert_no_frames(capture: LiveKitScreenCapture, seconds: float) -> None:
    """poll() stays False for ``seconds``."""
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        seen = activity_counter()
        assert not capture.poll(), "a frame arrived"
        wait_for_activity(seen, min(remaining, 0.05))


def capture_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("LiveKitScreenCapture")}


# ------------------------------------------------------------------------ monitors


def test_monitors_list_the_xvfb_screen() -> None:
    monitors = LiveKitScreenCapture.get_monitors()
    assert len(monitors) == 1, monitors
    monitor = monitors[0]
    assert set(monitor) == {"id", "name", "x", "y", "width", "height", "scale"}
    assert monitor["id"] == 0
    assert (monitor["x"], monitor["y"]) == (0, 0)
    assert (monitor["width"], monitor["height"]) == (SCREEN_W, SCREEN_H)
    assert monitor["scale"] == 1.0
    assert isinstance(monitor["name"], str) and monitor["name"]


def test_monitor_screenshot_has_the_exact_pixels(x: XClient, captures: Any) -> None:
    x.pattern_window("pixels", 100, 80)
    capture = captures(
        LiveKitScreenCapture.create_for_monitor(LiveKitScreenCapture.get_monitors()[0])
    )
    frame = capture.screenshot()
    assert frame is not None
    assert frame.shape == (SCREEN_H, SCREEN_W, 4) and frame.dtype == np.uint8
    np.testing.assert_array_equal(frame[80:200, 100:260], pattern_image())
    assert tuple(frame[100, 120]) == rgba(RED)
    assert tuple(frame[100, 200]) == rgba(GREEN)
    assert tuple(frame[160, 120]) == rgba(BLUE)
    assert tuple(frame[160, 200]) == rgba(YELLOW)
    outside = np.ones((SCREEN_H, SCREEN_W), dtype=bool)
    outside[80:200, 100:260] = False
    assert (frame[outside] == rgba(BLACK)).all(), "the root window around it is black"


def test_create_captures_the_primary_monitor(x: XClient, captures: Any) -> None:
    x.window(10, 20, 30, 40, GREEN, name="primary")
    capture = captures(LiveKitScreenCapture.create())
    frame = capture.screenshot()
    assert frame is not None and frame.shape == (SCREEN_H, SCREEN_W, 4)
    assert (frame[20:60, 10:40] == rgba(GREEN)).all()
    assert tuple(frame[19, 10]) == rgba(BLACK) and tuple(frame[60, 10]) == rgba(BLACK)


# ------------------------------------------------------------------------- windows


def test_created_window_is_listed_with_name_and_geometry(x: XClient) -> None:
    window = x.pattern_window("lk-listed", 100, 80)
    assert window_entry(window) == {
        "id": window,
        "name": "lk-listed",
        "x": 100,
        "y": 80,
        "width": 160,
        "height": 120,
    }
    ids = {w["id"] for w in LiveKitScreenCapture.get_windows()}
    assert len(ids) == 1, "the quadrant children are not top-level windows"


def test_window_list_skips_unmapped_and_unnamed_windows(x: XClient) -> None:
    hidden = x.pattern_window("hidden", 0, 0, mapped=False)
    unnamed = x.window(5, 5, 20, 20, RED)
    shown = x.window(300, 200, 50, 40, BLUE, name="shown")
    ids = [w["id"] for w in LiveKitScreenCapture.get_windows()]
    assert ids == [shown]
    x.unmap(shown)
    assert LiveKitScreenCapture.get_windows() == []
    assert hidden and unnamed


def test_window_name_prefers_utf8_net_wm_name(x: XClient) -> None:
    window = x.window(0, 0, 10, 10, RED, name="plain name")
    x.set_utf8_property(window, "_NET_WM_NAME", "Fenêtre ✓")
    assert window_entry(window)["name"] == "Fenêtre ✓"


def test_window_list_uses_the_window_manager_client_list(x: XClient) -> None:
    listed = x.window(0, 0, 10, 10, RED, name="managed")
    x.window(20, 0, 10, 10, GREEN, name="not in the client list")
    x.set_window_list(x.root, "_NET_CLIENT_LIST", [listed])
    try:
        windows = LiveKitScreenCapture.get_windows()
        assert [w["id"] for w in windows] == [listed]
        assert windows[0]["name"] == "managed"
    finally:
        x.delete_property(x.root, "_NET_CLIENT_LIST")


def test_window_screenshot_is_the_window_content(x: XClient, captures: Any) -> None:
    window = x.pattern_window("content", 200, 150)
    capture = captures(LiveKitScreenCapture.create_for_window(window_entry(window)))
    assert capture.get_frame_size() == (160, 120)
    frame = capture.screenshot()
    assert frame is not None
    np.testing.assert_array_equal(frame, pattern_image())


def test_window_capture_follows_moves_and_resizes(x: XClient, captures: Any) -> None:
    window = x.pattern_window("follow", 20, 30)
    capture = captures(LiveKitScreenCapture.create_for_window(window_entry(window)))
    capture.set_frame_rate(120)
    capture.start()
    wait_for_frames(capture)
    np.testing.assert_array_equal(capture.get_image(), pattern_image())

    x.move(window, 400, 300)
    screen = captures(LiveKitScreenCapture.create()).screenshot()
    assert screen is not None and (screen[30:150, 20:180] == rgba(BLACK)).all(), "it moved"
    capture.poll()
    wait_for_frames(capture, 2)  # the second one was grabbed after the move
    np.testing.assert_array_equal(capture.get_image(), pattern_image())

    x.resize(window, 200, 100)
    capture.poll()
    wait_for_frames(capture, 2)
    assert capture.get_frame_size() == (200, 100)
    np.testing.assert_array_equal(capture.get_image(), pattern_image(200, 100))

    x.move(window, SCREEN_W - 40, SCREEN_H - 30)  # partly off screen: clipped
    capture.poll()
    wait_for_frames(capture, 2)
    assert capture.get_frame_size() == (40, 30)
    assert (capture.get_image() == rgba(RED)).all()


def test_window_gone_stops_frames_and_logs_once(
    x: XClient, captures: Any, caplog: pytest.LogCaptureFixture
) -> None:
    window = x.window(50, 50, 64, 48, BLUE, name="short-lived")
    capture = captures(LiveKitScreenCapture.create_for_window(window_entry(window)))
    before = capture_threads()
    capture.start()
    (thread,) = capture_threads() - before
    wait_for_frames(capture)
    assert (capture.get_image() == rgba(BLUE)).all()
    with caplog.at_level(logging.WARNING, logger="godot_livekit.screen_capture"):
        x.destroy(window)
        thread.join(timeout=FRAME_TIMEOUT)
        assert not thread.is_alive(), "the capture thread ends when its window is gone"
    gone = [r for r in caplog.records if "is gone" in r.getMessage()]
    assert len(gone) == 1
    capture.poll()  # at most one frame grabbed before the window went away
    assert not capture.poll()
    assert capture.screenshot() is None


# -------------------------------------------------------------- threaded capture


def test_start_and_poll_deliver_frames_and_the_signal(x: XClient, captures: Any) -> None:
    x.window(0, 0, SCREEN_W, SCREEN_H // 2, YELLOW, name="top half")
    capture = captures(LiveKitScreenCapture.create())
    received: list[None] = []
    capture.frame_received.connect(lambda: received.append(None))
    assert capture.get_image() is None and capture.get_texture() is None
    assert not capture.poll(), "nothing before start()"
    capture.start()
    wait_for_frames(capture, 3)
    assert len(received) == 3
    image = capture.get_image()
    assert image is not None and image is capture.get_texture()
    assert image.shape == (SCREEN_H, SCREEN_W, 4) and image.dtype == np.uint8
    assert capture.get_frame_size() == (SCREEN_W, SCREEN_H)
    assert (image[: SCREEN_H // 2] == rgba(YELLOW)).all()
    assert (image[SCREEN_H // 2 :] == rgba(BLACK)).all()


def test_only_the_newest_frame_is_kept(captures: Any) -> None:
    capture = captures(LiveKitScreenCapture.create())
    capture.set_frame_rate(240)
    start = activity_counter()
    capture.start()
    deadline = time.monotonic() + FRAME_TIMEOUT
    while activity_counter() - start < 5:  # at least five frames made, none polled
        assert time.monotonic() < deadline, "the capture thread produces no frames"
        wait_for_activity(activity_counter(), 0.1)
    capture.pause()
    assert capture.poll()
    assert not capture.poll(), "older frames were replaced, not queued"


def test_pause_stops_frames_and_resume_brings_them_back(captures: Any) -> None:
    capture = captures(LiveKitScreenCapture.create())
    capture.set_frame_rate(60)
    before = capture_threads()
    capture.start()
    (thread,) = capture_threads() - before
    wait_for_frames(capture)
    capture.pause()
    assert capture.is_paused()
    capture.poll()  # drain a frame grabbed before the pause
    assert_no_frames(capture, 0.5)
    assert thread.is_alive(), "pause keeps the thread"
    capture.resume()
    assert not capture.is_paused()
    wait_for_frames(capture, 2)


def test_start_while_paused_waits_for_resume(captures: Any) -> None:
    capture = captures(LiveKitScreenCapture.create())
    capture.pause()
    capture.start()
    assert_no_frames(capture, 0.3)
    capture.resume()
    wait_for_frames(capture)


def test_close_stops_the_thread(captures: Any, caplog: pytest.LogCaptureFixture) -> None:
    capture = captures(LiveKitScreenCapture.create())
    before = capture_threads()
    capture.start()
    (thread,) = capture_threads() - before
    wait_for_frames(capture)
    capture.close()
    assert not thread.is_alive()
    assert not capture.poll()
    assert capture.get_image() is None
    with caplog.at_level(logging.ERROR, logger="godot_livekit.screen_capture"):
        capture.start()
    assert "closed" in caplog.text
    assert capture_threads() == before


def test_stop_then_start_again(captures: Any) -> None:
    capture = captures(LiveKitScreenCapture.create())
    before = capture_threads()
    capture.start()
    (first,) = capture_threads() - before
    wait_for_frames(capture)
    capture.stop()
    assert not first.is_alive()
    assert not capture.poll()
    assert capture.get_image() is not None, "the last frame stays readable"
    capture.start()
    wait_for_frames(capture)


def test_dropping_a_running_capture_ends_its_thread() -> None:
    capture = LiveKitScreenCapture.create()
    before = capture_threads()
    capture.start()
    (thread,) = capture_threads() - before
    wait_for_frames(capture)
    del capture
    gc.collect()
    thread.join(timeout=FRAME_TIMEOUT)
    assert not thread.is_alive()


def test_auto_poll_pumps_through_the_poller(captures: Any) -> None:
    capture = captures(LiveKitScreenCapture.create())
    assert capture.auto_poll is True and capture.get_auto_poll() is True
    received: list[None] = []
    capture.frame_received.connect(lambda: received.append(None))
    capture.start()
    assert poller.pump_until(lambda: bool(received), FRAME_TIMEOUT, objects=[capture])
    capture.auto_poll = False
    assert capture.get_auto_poll() is False
    count = len(received)
    poller.pump_all()
    assert len(received) == count
    capture.set_auto_poll(True)
    assert capture.auto_poll is True


def test_frame_rate_setting(captures: Any) -> None:
    capture = captures(LiveKitScreenCapture.create())
    assert capture.get_frame_rate() == 30
    capture.set_frame_rate(60)
    assert capture.get_frame_rate() == 60
    for bad in (0, -1, 241, float("nan"), float("inf"), "30", True):
        with pytest.raises(ValueError, match="frame rate"):
            capture.set_frame_rate(bad)
    assert capture.get_frame_rate() == 60


# ------------------------------------------------------------------------ factories


@pytest.mark.parametrize(
    ("monitor", "message"),
    [
        (None, "Dictionary from LiveKitScreenCapture.get_monitors"),
        ([0, 0, 640, 480], "Dictionary from LiveKitScreenCapture.get_monitors"),
        ({}, "'x' must be an int"),
        ({"x": 0, "y": 0, "width": 0, "height": 480}, "'width' must be > 0"),
        ({"x": 0, "y": 0, "width": 640, "height": "480"}, "'height' must be an int"),
        ({"x": True, "y": 0, "width": 640, "height": 480}, "'x' must be an int"),
    ],
)
def test_create_for_monitor_rejects_bad_dictionaries(monitor: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LiveKitScreenCapture.create_for_monitor(monitor)


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (None, "Dictionary from LiveKitScreenCapture.get_windows"),
        (12, "Dictionary from LiveKitScreenCapture.get_windows"),
        ({}, "'id' must be an int"),
        ({"id": 0}, "'id' must be > 0"),
        ({"id": "0x400001"}, "'id' must be an int"),
        ({"id": 5, "x": 0, "y": 0, "width": 1.5, "height": 1}, "'width' must be an int"),
    ],
)
def test_create_for_window_rejects_bad_dictionaries(window: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LiveKitScreenCapture.create_for_window(window)


def test_window_that_never_existed(captures: Any) -> None:
    capture = captures(LiveKitScreenCapture.create_for_window({"id": 0x7FFFFFF}))
    assert capture.get_frame_size() == (0, 0)
    assert capture.screenshot() is None


# ---------------------------------------------------------------------- permissions


def test_check_permissions_ok_on_xvfb(xvfb: Xvfb) -> None:
    result = LiveKitScreenCapture.check_permissions()
    assert set(result) == {"status", "summary", "details"}
    assert result["status"] == LiveKitScreenCapture.PERMISSION_OK, result
    assert xvfb.display in result["summary"]
    assert all(isinstance(line, str) for line in result["details"])
    assert any("640x480" in line for line in result["details"])


def test_check_permissions_without_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY")
    result = LiveKitScreenCapture.check_permissions()
    assert result["status"] == LiveKitScreenCapture.PERMISSION_ERROR
    assert "DISPLAY is not set" in result["summary"]
    assert any("Xvfb" in line for line in result["details"])
    assert LiveKitScreenCapture.get_monitors() == []
    assert LiveKitScreenCapture.get_windows() == []
    assert LiveKitScreenCapture.create().screenshot() is None


def test_check_permissions_wayland_without_x(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    result = LiveKitScreenCapture.check_permissions()
    assert result["status"] == LiveKitScreenCapture.PERMISSION_ERROR
    assert "Wayland" in result["summary"]


def test_check_permissions_warns_under_xwayland(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    result = LiveKitScreenCapture.check_permissions()
    assert result["status"] == LiveKitScreenCapture.PERMISSION_WARNING
    assert "Wayland" in result["summary"]


def test_check_permissions_unreachable_display(monkeypatch: pytest.MonkeyPatch) -> None:
    number = next(n for n in range(4242, 4300) if not os.path.exists(f"/tmp/.X11-unix/X{n}"))
    monkeypatch.setenv("DISPLAY", f":{number}")
    result = LiveKitScreenCapture.check_permissions()
    assert result["status"] == LiveKitScreenCapture.PERMISSION_ERROR
    assert f"Cannot open X display :{number}" == result["summary"]
    assert LiveKitScreenCapture.get_windows() == []


# ------------------------------------------------------------------ display lost


class _Records(logging.Handler):
    """Collects records and signals each one (for waiting without sleeps)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.arrived = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.arrived.set()


def test_a_closed_display_is_logged_not_fatal(
    monkeypatch: pytest.MonkeyPatch, captures: Any
) -> None:
    server = start_xvfb()
    handler = _Records()
    logger = logging.getLogger("godot_livekit.screen_capture")
    logger.addHandler(handler)
    try:
        monkeypatch.setenv("DISPLAY", server.display)
        capture = captures(LiveKitScreenCapture.create())
        monkeypatch.setenv("DISPLAY", "")  # the capture keeps the display it was made on
        before = capture_threads()
        capture.start()
        (thread,) = capture_threads() - before
        wait_for_frames(capture)
        server.stop()
        assert handler.arrived.wait(FRAME_TIMEOUT)
        deadline = time.monotonic() + FRAME_TIMEOUT
        while not any(r.levelno == logging.ERROR for r in handler.records):
            assert time.monotonic() < deadline, [r.getMessage() for r in handler.records]
            handler.arrived.clear()
            handler.arrived.wait(0.2)
        errors = [r for r in handler.records if r.levelno == logging.ERROR]
        assert "failed" in errors[0].getMessage()
        assert thread.is_alive(), "the thread survives and retries"
        assert capture.screenshot() is None
        capture.close()
        assert not thread.is_alive()
    finally:
        logger.removeHandler(handler)
        server.stop()


# ---------------------------------------------------------------------- conversion


def test_rgba_from_bgra_swaps_channels_and_sets_alpha() -> None:
    bgra = np.array([[[1, 2, 3, 0], [10, 20, 30, 99]]], dtype=np.uint8)
    out = rgba_from_bgra(bgra.tobytes(), 2, 1)
    assert out.shape == (1, 2, 4)
    assert out.tolist() == [[[3, 2, 1, 255], [30, 20, 10, 255]]]
    with pytest.raises(ValueError, match="needs 8 bytes"):
        rgba_from_bgra(b"\x00" * 7, 2, 1)
