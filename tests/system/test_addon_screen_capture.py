"""LiveKitScreenCapture through the addon on a real X server (Xvfb); no LiveKit server.

Real parts: Xvfb and the core's capture (mss, XCB); the engine is the py4godot stand-in. The
window content is drawn with Xlib by tests/test_screen_capture.py's helpers, so pixels are
compared exactly. The LiveKitPoller autoload's ``_process`` pumps the capture each frame.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import addon_env  # noqa: F401 - sets up sys.path before py4godot/addons imports
import numpy as np
import pytest
from addon_env import GD, gd_value, new_object
from py4godot import functions
from py4godot.classes.core import Array, Dictionary
from xvfb import SCREEN_H, SCREEN_W, XClient, Xvfb, pattern_image, start_xvfb

from godot_livekit.signals import activity_counter, wait_for_activity

FRAME_WAIT = 10.0


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
        assert (monitors[0]["width"], monitors[0]["height"]) == (SCREEN_W, SCREEN_H)
        windows = [w for w in capture.get_windows().to_list() if w["id"] == window]
        assert len(windows) == 1 and isinstance(windows[0], Dictionary)
        assert capture.check_permissions()["status"] == capture.script_instance.PERMISSION_OK

        assert capture.create_for_window(windows[0]) == capture
        shot = capture.screenshot()
        assert isinstance(shot, GD)
        np.testing.assert_array_equal(pixels_of(shot), pattern_image())

        frames: list[int] = []
        capture.connect("frame_received", lambda: frames.append(1))
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
        np.testing.assert_array_equal(pixels_of(gd_value(texture.get_image())), pattern_image())
        np.testing.assert_array_equal(pixels_of(image), pattern_image())
        assert texture.engine_object.standin_updates >= 2  # one texture, updated per frame

        source = new_object("LiveKitVideoSource").create(160, 120)
        source.capture_frame(image, 0, 0)  # share the screen: the Image feeds a video source
        source.close()
        capture.close()
        assert not capture.poll()
    finally:
        client.close()
    assert functions.standin_errors()[errors_before:] == []
