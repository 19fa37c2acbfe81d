"""LiveKitScreenCapture through the addon on a real X server (Xvfb); no LiveKit server.

Real parts: Xvfb and the core's capture (mss, XCB); the engine is the py4godot stand-in. The
window content is drawn with Xlib by tests/test_screen_capture.py's helpers, so pixels are
compared exactly. The LiveKitPoller autoload's ``_process`` pumps the capture each frame.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import addon_env
import numpy as np
import pytest
from addon_env import (
    GD,
    gd_dict,
    gd_dictionary,
    gd_list,
    gd_null,
    new_object,
    no_standin_crashes,
)
from py4godot import functions
from py4godot.classes.core import Array, Dictionary
from xvfb import SCREEN_H, SCREEN_W, XClient, Xvfb, pattern_image, start_xvfb

from godot_livekit.signals import activity_counter, wait_for_activity

FRAME_WAIT = 10.0
_ = no_standin_crashes


@pytest.fixture(scope="module")
def display() -> Iterator[Xvfb]:
    server = start_xvfb()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DISPLAY", server.display)
        patch.delenv("WAYLAND_DISPLAY", raising=False)
        try:
            yield server
        finally:
            server.stop()


def pixels_of(image: GD) -> np.ndarray:
    data = image.get_data()
    view = np.frombuffer(data.get_memory_view(), np.uint8)
    return view.reshape(image.get_height(), image.get_width(), 4).copy()


def test_window_capture_as_texture_and_image(display: Xvfb) -> None:
    errors_before = len(functions.standin_errors())
    client = XClient(display.display)
    try:
        window = client.pattern_window("lk-addon", 100, 80)
        capture = new_object("LiveKitScreenCapture")
        monitors = capture.get_monitors()
        assert isinstance(monitors, Array) and monitors.size() == 1
        (monitor,) = [gd_dict(m) for m in gd_list(monitors)]
        assert (monitor["width"], monitor["height"]) == (SCREEN_W, SCREEN_H)
        windows = [w for w in gd_list(capture.get_windows()) if gd_dict(w)["id"] == window]
        assert len(windows) == 1 and isinstance(windows[0], Dictionary)
        assert gd_dict(capture.check_permissions())["status"] == 0  # PERMISSION_OK

        # the window's dictionary as GDScript would write it: every key the reference names
        described = gd_dict(windows[0])
        assert capture.create_for_window(gd_dictionary(**described)) == capture
        shot = capture.screenshot()
        assert isinstance(shot, GD)
        np.testing.assert_array_equal(pixels_of(shot), pattern_image())

        frames: list[int] = []
        capture.connect("frame_received", lambda: frames.append(1))
        assert capture.get("auto_poll") is True
        capture.start()
        poller = new_object("LiveKitPoller")
        deadline = time.monotonic() + FRAME_WAIT
        while len(frames) < 3:
            seen = activity_counter()
            poller._process(1 / 60)
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{len(frames)} frames in {FRAME_WAIT:g} s"
            wait_for_activity(seen, min(remaining, 0.05))

        texture, image = capture.get_texture(), capture.get_image()
        assert (texture.get_width(), texture.get_height()) == (160, 120)
        np.testing.assert_array_equal(pixels_of(texture.get_image()), pattern_image())
        np.testing.assert_array_equal(pixels_of(image), pattern_image())
        assert texture.engine_object.standin_updates >= 2  # one texture, updated per frame

        source = new_object("LiveKitVideoSource").create(160, 120)
        source.capture_frame(image, 0, 0)  # share the screen: the Image feeds a video source
        source.close()
        capture.set("auto_poll", False)  # polled by hand from here on
        assert capture.get_auto_poll() is False
        seen = len(frames)
        for _ in range(10):
            poller._process(1 / 60)
        assert len(frames) == seen
        capture.close()
        assert not capture.poll() and gd_null(capture.get_texture())
    finally:
        client.close()
    assert functions.standin_errors()[errors_before:] == []


def test_monitor_capture_from_a_gdscript_dictionary_and_a_dropped_capture(display: Xvfb) -> None:
    from addons.godot_livekit.bridge import lifecycle

    def capture_threads() -> int:
        return sum(t.name.startswith("LiveKitScreenCapture") for t in threading.enumerate())

    threads = capture_threads()
    poller = new_object("LiveKitPoller")
    capture = new_object("LiveKitScreenCapture")
    (monitor,) = [gd_dict(m) for m in gd_list(capture.get_monitors())]
    assert capture.create_for_monitor(gd_dictionary(**monitor)) == capture
    shot = capture.screenshot()
    assert (shot.get_width(), shot.get_height()) == (SCREEN_W, SCREEN_H)
    capture.start()
    assert capture_threads() > threads
    capture_id = capture.instance_id
    capture.drop()  # the game lets go without close(): the poller stops and frees it
    lifecycle._last_sweep = 0.0
    poller._process(1 / 60)
    assert addon_env.is_freed(capture_id)
    deadline = time.monotonic() + FRAME_WAIT
    while capture_threads() > threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert capture_threads() == threads
