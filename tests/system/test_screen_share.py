"""Screen sharing end to end: a window on Xvfb is captured, published as SCREENSHARE and
arrives at a peer with the right pixels.

Real parts: Xvfb (drawn with plain Xlib), mss, livekit-server and the livekit SDK. The
capture is driven exactly as the documented GDScript does it: each frame, ``poll()`` the
capture and hand a new image to ``LiveKitVideoSource.capture_frame``.
"""

from __future__ import annotations

import pytest
from godot_livekit_dev.patterns import QUADRANT_COLORS, pattern_error
from peers import wait_until
from xvfb import XClient, window_entry

from godot_livekit import (
    LiveKitLocalVideoTrack,
    LiveKitScreenCapture,
    LiveKitTrack,
    LiveKitVideoSource,
    LiveKitVideoStream,
)

pytestmark = pytest.mark.usefixtures("on_xvfb_display")

WIDTH, HEIGHT = 320, 240


def _pixel(rgb: tuple[int, int, int]) -> int:
    red, green, blue = rgb
    return (red << 16) | (green << 8) | blue


def draw_pattern_window(x: XClient) -> int:
    """A 320x240 window showing the four-quadrant test pattern of tools.patterns."""
    window = x.window(40, 30, WIDTH, HEIGHT, 0, name="shared game window", mapped=False)
    half_w, half_h = WIDTH // 2, HEIGHT // 2
    corners = {
        "top_left": (0, 0),
        "top_right": (half_w, 0),
        "bottom_left": (0, half_h),
        "bottom_right": (half_w, half_h),
    }
    for name, (left, top) in corners.items():
        x.window(left, top, half_w, half_h, _pixel(QUADRANT_COLORS[name]), parent=window)
    x.lib.XMapWindow(x.dpy, window)
    x.sync()
    return window


def test_window_is_shared_and_arrives_with_its_pixels(connect_peer, x: XClient, captures) -> None:
    alice = connect_peer("alice")
    bob = connect_peer("bob")
    wait_until([alice, bob], lambda: "alice" in bob.room.get_remote_participants(), what="join")

    capture = captures(LiveKitScreenCapture.create_for_window(window_entry(draw_pattern_window(x))))
    capture.set_auto_poll(False)
    capture.start()
    source = LiveKitVideoSource.create(WIDTH, HEIGHT)
    track = LiveKitLocalVideoTrack.create("screen", source)
    alice.local.publish_track(
        track, {"source": LiveKitTrack.SOURCE_SCREENSHARE, "simulcast": False}
    )

    def share_one_frame() -> None:
        if capture.poll():
            source.capture_frame(capture.get_image(), 0, 0)

    stream = LiveKitVideoStream.from_participant(
        bob.room.get_remote_participants()["alice"], LiveKitTrack.SOURCE_SCREENSHARE
    )
    stream.set_auto_poll(False)

    def received_pattern() -> bool:
        share_one_frame()
        stream.poll()
        frame = stream.get_texture()
        return (
            frame is not None and frame.shape == (HEIGHT, WIDTH, 4) and pattern_error(frame) <= 40
        )

    try:
        wait_until([alice, bob], received_pattern, 25.0, "the shared window at bob")
        (remote_pub,) = (
            bob.room.get_remote_participants()["alice"].get_track_publications().values()
        )
        assert remote_pub.get_source() == LiveKitTrack.SOURCE_SCREENSHARE
        assert track.get_source() == LiveKitTrack.SOURCE_SCREENSHARE
        assert source.get_frames_sent() > 0
    finally:
        stream.close()
        source.close()
