"""LiveKitScreenCapture on a real X server (Xvfb); no LiveKit server needed.

A session fixture starts ``Xvfb -screen 0 640x480x24`` on a free display (``-displayfd``)
and points DISPLAY at it. Known content is drawn with plain Xlib through ctypes: windows
made of four coloured child windows (the server paints window backgrounds itself, and Xvfb
is lossless, so pixels can be compared exactly). There is no window manager, so
``get_windows()`` lists the mapped top-level windows.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from typing import Any

import numpy as np
import pytest
from xvfb import (
    BLACK,
    BLUE,
    CARDINAL_ATOM,
    GREEN,
    RED,
    SCREEN_H,
    SCREEN_W,
    YELLOW,
    XClient,
    Xvfb,
    pattern_image,
    rgba,
    start_xvfb,
    window_entry,
)

from godot_livekit import LiveKitScreenCapture, poller
from godot_livekit.media_convert import rgba_from_bgra
from godot_livekit.screen_capture import x11
from godot_livekit.signals import activity_counter, wait_for_activity

pytestmark = pytest.mark.usefixtures("on_xvfb_display")
FRAME_TIMEOUT = 10.0


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


def open_sockets() -> set[str]:
    """This process's open sockets (an X connection is one)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed while we looked
        if link.startswith("socket:"):
            found.add(link)
    return found


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


def test_a_monitor_by_id_alone_or_with_float_geometry_as_the_original_takes_it(
    x: XClient, captures: Any
) -> None:
    x.pattern_window("by id", 100, 80)
    by_id = captures(LiveKitScreenCapture.create_for_monitor({"id": 0}))
    floats = captures(
        LiveKitScreenCapture.create_for_monitor(
            {"x": 0.0, "y": 0.0, "width": float(SCREEN_W), "height": float(SCREEN_H)}
        )
    )
    for capture in (by_id, floats):
        frame = capture.screenshot()
        assert frame is not None and frame.shape == (SCREEN_H, SCREEN_W, 4)
        np.testing.assert_array_equal(frame[80:200, 100:260], pattern_image())


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


# ------------------------------------------------------------- window list edges


def test_many_windows_are_listed_in_stacking_order_with_their_geometry(x: XClient) -> None:
    made = [x.window(i * 11, i * 7, 20 + i, 10 + i, RED, name=f"w{i}") for i in range(40)]
    assert LiveKitScreenCapture.get_windows() == [
        {"id": w, "name": f"w{i}", "x": i * 11, "y": i * 7, "width": 20 + i, "height": 10 + i}
        for i, w in enumerate(made)
    ]


@pytest.mark.parametrize("stage", ["candidates", "shown"])
@pytest.mark.parametrize("managed", [False, True], ids=["query-tree", "client-list"])
def test_a_window_destroyed_mid_listing_is_skipped(x: XClient, managed: bool, stage: str) -> None:
    """Destroyed after the candidates are read, or after their attributes are."""
    first = x.window(0, 0, 10, 10, RED, name="first")
    doomed = x.window(20, 0, 10, 10, GREEN, name="doomed")
    last = x.window(40, 0, 10, 10, BLUE, name="last")
    if managed:
        x.set_window_list(x.root, "_NET_CLIENT_LIST", [first, doomed, last])
    seen: list[int] = []

    def destroy_one(reached: str, windows: list[int]) -> None:
        if reached == stage:
            seen.extend(windows)
            x.destroy(doomed)

    try:
        windows = x11.list_windows(on_stage=destroy_one)
    finally:
        x.delete_property(x.root, "_NET_CLIENT_LIST")
    assert seen == [first, doomed, last]
    assert [w["id"] for w in windows] == [first, last]
    assert [w["name"] for w in windows] == ["first", "last"]


def test_stale_ids_in_the_client_list_are_skipped(x: XClient) -> None:
    shown = x.window(0, 0, 10, 10, RED, name="shown")
    gone = x.window(20, 0, 10, 10, GREEN, name="gone")
    x.destroy(gone)
    x.set_window_list(x.root, "_NET_CLIENT_LIST", [gone, shown, 0x7FFFFFF])
    try:
        assert [w["id"] for w in LiveKitScreenCapture.get_windows()] == [shown]
    finally:
        x.delete_property(x.root, "_NET_CLIENT_LIST")


@pytest.mark.parametrize("managed", [False, True], ids=["query-tree", "client-list"])
def test_what_is_listed_with_and_without_a_client_list(x: XClient, managed: bool) -> None:
    """The manager's list is trusted for unnamed and override-redirect windows; the root's
    children are not. Unmapped and InputOnly windows are never listed."""
    named = x.window(0, 0, 10, 10, RED, name="named")
    unnamed = x.window(20, 0, 10, 10, GREEN)
    menu = x.window(40, 0, 10, 10, BLUE, name="menu")
    x.set_override_redirect(menu)
    input_only = x.input_only_window(60, 0, 10, 10, name="input only")
    unmapped = x.window(80, 0, 10, 10, RED, name="unmapped", mapped=False)
    if managed:
        x.set_window_list(x.root, "_NET_CLIENT_LIST", [named, unnamed, menu, input_only, unmapped])
    try:
        windows = LiveKitScreenCapture.get_windows()
    finally:
        x.delete_property(x.root, "_NET_CLIENT_LIST")
    if managed:
        assert [(w["id"], w["name"]) for w in windows] == [
            (named, "named"),
            (unnamed, ""),
            (menu, "menu"),
        ]
    else:
        assert [w["id"] for w in windows] == [named]


@pytest.mark.parametrize("managed", [False, True], ids=["query-tree", "client-list"])
def test_a_bordered_window_is_listed_and_captured_by_its_inside_area(
    x: XClient, captures: Any, managed: bool
) -> None:
    window = x.window(50, 40, 30, 20, GREEN, name="bordered", border=3)
    if managed:
        x.set_window_list(x.root, "_NET_CLIENT_LIST", [window])
    try:
        entry = window_entry(window)
    finally:
        x.delete_property(x.root, "_NET_CLIENT_LIST")
    assert (entry["x"], entry["y"], entry["width"], entry["height"]) == (53, 43, 30, 20)
    frame = captures(LiveKitScreenCapture.create_for_window(entry)).screenshot()
    assert frame is not None and frame.shape == (20, 30, 4)
    assert (frame == rgba(GREEN)).all(), "no black border pixels"


def test_a_client_list_that_is_not_a_window_list_is_ignored(x: XClient) -> None:
    shown = x.window(0, 0, 10, 10, RED, name="shown")
    unnamed = x.window(20, 0, 10, 10, GREEN)
    x.set_window_list(x.root, "_NET_CLIENT_LIST", [unnamed], type_atom=CARDINAL_ATOM)
    try:
        assert [w["id"] for w in LiveKitScreenCapture.get_windows()] == [shown]
    finally:
        x.delete_property(x.root, "_NET_CLIENT_LIST")


def test_window_names_latin1_wm_name_and_a_bounded_length(x: XClient) -> None:
    cafe = x.window(0, 0, 10, 10, RED, name="caf\xe9")
    long = x.window(20, 0, 10, 10, GREEN, name="a" * 5000)
    assert window_entry(cafe)["name"] == "caf\xe9"
    assert window_entry(long)["name"] == "a" * 4096, "titles are read up to 4 KiB"


def test_listing_and_probes_leave_no_connection_open(x: XClient) -> None:
    x.window(0, 0, 10, 10, RED, name="listed")
    before = open_sockets()
    for _ in range(10):
        assert len(LiveKitScreenCapture.get_windows()) == 1
        assert len(LiveKitScreenCapture.get_monitors()) == 1
        assert LiveKitScreenCapture.check_permissions()["status"] == 0
    assert not open_sockets() - before


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


def test_close_releases_the_thread_the_connections_and_the_poller_entry(
    x: XClient, captures: Any, caplog: pytest.LogCaptureFixture
) -> None:
    entry = window_entry(x.pattern_window("lifecycle", 10, 10))
    before_sockets, before_threads = open_sockets(), capture_threads()
    capture = captures(LiveKitScreenCapture.create_for_window(entry))
    assert capture in poller.registered()
    capture.start()
    wait_for_frames(capture)
    assert open_sockets() - before_sockets, "the capture thread holds its X connections"
    capture.close()
    assert capture_threads() == before_threads
    assert not open_sockets() - before_sockets
    assert capture not in poller.registered()
    assert capture.get_image() is None and not capture.poll()
    with caplog.at_level(logging.DEBUG, logger="godot_livekit.screen_capture"):
        capture.close()  # idempotent
    assert not caplog.records


def test_close_while_paused_ends_the_thread(captures: Any) -> None:
    capture = captures(LiveKitScreenCapture.create())
    capture.pause()
    before = capture_threads()
    capture.start()
    (thread,) = capture_threads() - before
    capture.close()
    assert not thread.is_alive()


def test_start_leaves_the_display_to_the_capture_thread(
    monkeypatch: pytest.MonkeyPatch, captures: Any
) -> None:
    """start() returns without contacting X: a dead display is found on the capture thread."""
    number = next(n for n in range(4242, 4300) if not os.path.exists(f"/tmp/.X11-unix/X{n}"))
    monkeypatch.setenv("DISPLAY", f":{number}")
    capture = captures(LiveKitScreenCapture.create_for_window({"id": 0x400001}))
    handler = _Records()
    logger = logging.getLogger("godot_livekit.screen_capture")
    logger.addHandler(handler)
    try:
        capture.start()
        deadline = time.monotonic() + FRAME_TIMEOUT
        while not any(r.levelno == logging.ERROR for r in handler.records):
            assert time.monotonic() < deadline, "no error logged"
            handler.arrived.clear()
            handler.arrived.wait(0.2)
    finally:
        logger.removeHandler(handler)
    errors = [r for r in handler.records if r.levelno == logging.ERROR]
    assert f":{number}" in errors[0].getMessage()
    assert errors[0].threadName.startswith("LiveKitScreenCapture")


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
        ({}, "missing 'id' key"),
        ({"id": 7}, "no monitor with id 7"),
        ({"x": 0, "y": 0, "width": 0, "height": 480}, "'width' must be > 0"),
        ({"x": 0, "y": 0, "width": 640.5, "height": 480}, "'width' must be an int"),
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
        ({}, "missing 'id' key"),
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


@pytest.mark.parametrize("kind", ["primary", "window"])
def test_a_closed_display_is_logged_not_fatal(
    monkeypatch: pytest.MonkeyPatch, captures: Any, kind: str
) -> None:
    server = start_xvfb()
    handler = _Records()
    logger = logging.getLogger("godot_livekit.screen_capture")
    logger.addHandler(handler)
    try:
        monkeypatch.setenv("DISPLAY", server.display)
        if kind == "window":
            client = XClient(server.display)
            client.keep_windows_after_close()  # Xlib must not meet the dead server
            window = client.pattern_window("doomed display", 10, 10)
            client.close()
            capture = captures(LiveKitScreenCapture.create_for_window(window_entry(window)))
        else:
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
        monkeypatch.setenv("DISPLAY", server.display)
        assert LiveKitScreenCapture.get_windows() == []
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
