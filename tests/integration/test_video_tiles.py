"""Video tiles: LiveKitVideoStream's MODE_I420 on the real server, in the core and the addon.

Real parts: livekit-server, the livekit SDK (VP8 encoder and decoder, its native RGBA
conversion), WebRTC over the test namespace's network; for the addon, the faithful py4godot
stand-in. Assertions are on what arrives: plane sizes, the Y/U/V values of the test pattern's
quadrants, and the same colours through the RGBA path and through the tile shader's own
conversion (its constants read from the shader file).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import addon_env
import numpy as np
from addon_env import GD, gd_dictionary, new_object, no_standin_crashes
from godot_livekit_dev.patterns import QUADRANT_COLORS, pattern_error, quadrant_centres
from media_helpers import video_feeder
from peers import Peer, wait_for_event, wait_until
from py4godot import functions
from py4godot.classes import core
from py4godot.classes.Image import Format

from godot_livekit import LiveKitLocalVideoTrack, LiveKitVideoSource, LiveKitVideoStream
from godot_livekit.signals import activity_counter, wait_for_activity

_ = no_standin_crashes

MEDIA_WAIT = 25.0
SHADER_INCLUDE = addon_env.ADDON_DIR / "video_tiles" / "i420.gdshaderinc"
# codec tolerance: VP8 at a few hundred kbit/s on flat colours, patches at quadrant centres
YUV_TOLERANCE = 14
RGB_TOLERANCE = 40


# ----------------------------------------------------------------------- colour maths


def yuv_from_rgb(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited range, what WebRTC's I420 carries (rgb in 0..255, last axis)."""
    rgb = np.asarray(rgb, np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16 + 0.256788 * r + 0.504129 * g + 0.097906 * b
    u = 128 - 0.148223 * r - 0.290993 * g + 0.439216 * b
    v = 128 + 0.439216 * r - 0.367788 * g - 0.071427 * b
    return np.stack([y, u, v], axis=-1)


def shader_conversion() -> tuple[np.ndarray, np.ndarray]:
    """(matrix, offset) of the tile shader's YUV -> RGB, read from i420.gdshaderinc:
    rgb = matrix @ (yuv - offset), everything in 0..1."""
    text = SHADER_INCLUDE.read_text(encoding="utf-8")

    def numbers(body: str) -> list[float]:
        values = re.findall(r"-?\d+\.\d*(?:\s*/\s*\d+\.\d*)?", body)
        return [eval(value) for value in values]  # plain "a / b" literals only

    offset = re.search(r"const vec3 YUV_OFFSET = vec3\(([^;]*)\);", text)
    matrix = re.search(r"const mat3 YUV_TO_RGB = mat3\(([^;]*)\);", text, re.S)
    assert offset and matrix, "i420.gdshaderinc lost YUV_OFFSET or YUV_TO_RGB"
    columns = np.array(numbers(matrix.group(1)), np.float64).reshape(3, 3)  # GLSL: columns
    return columns.T, np.array(numbers(offset.group(1)), np.float64)


def shader_rgb(yuv: np.ndarray) -> np.ndarray:
    """What the tile shader draws for 8-bit Y, U, V values (0..255 out)."""
    matrix, offset = shader_conversion()
    rgb = (np.asarray(yuv, np.float64) / 255.0 - offset) @ matrix.T
    return np.clip(rgb, 0.0, 1.0) * 255.0


def plane_centres(planes: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
    """Y, U, V at the centre of each quadrant (the chroma planes at half resolution)."""
    y, u, v = planes
    height, width = y.shape
    result = {}
    for name, (row, col) in {
        "top_left": (height // 4, width // 4),
        "top_right": (height // 4, 3 * width // 4),
        "bottom_left": (3 * height // 4, width // 4),
        "bottom_right": (3 * height // 4, 3 * width // 4),
    }.items():
        patch = max(1, min(height, width) // 16)
        luma = y[row - patch : row + patch + 1, col - patch : col + patch + 1].mean()
        chroma = (
            slice((row - patch) // 2, (row + patch) // 2 + 1),
            slice((col - patch) // 2, (col + patch) // 2 + 1),
        )
        result[name] = np.array([luma, u[chroma].mean(), v[chroma].mean()])
    return result


# ----------------------------------------------------------------------- helpers


def publish_pattern(alice: Peer, width: int, height: int) -> tuple[LiveKitVideoSource, Any]:
    source = LiveKitVideoSource.create(width, height)
    track = LiveKitLocalVideoTrack.create("pattern", source)
    alice.local.publish_track(track, {"simulcast": False, "video_codec": "vp8"})
    return source, track


def remote_video_track(alice: Peer, bob: Peer) -> Any:
    track, _, _ = wait_for_event(bob, "track_subscribed", also=[alice], timeout=MEDIA_WAIT)
    return track


def stream_of(track: Any, mode: int) -> LiveKitVideoStream:
    stream = LiveKitVideoStream.from_track(track)
    stream.set_auto_poll(False)
    stream.set_mode(mode)
    return stream


last_seen: dict[str, Any] = {}


def good_planes(stream: LiveKitVideoStream, width: int, height: int) -> bool:
    """A new I420 frame of the full size whose quadrants have the pattern's colours (what
    was seen last is in ``last_seen`` for the failure message)."""
    if not stream.poll():
        return False
    planes = stream.get_planes()
    last_seen["shapes"] = None if planes is None else [p.shape for p in planes]
    if planes is None or planes[0].shape != (height, width):
        return False
    centres = plane_centres(planes)
    last_seen["centres"] = {n: c.round().tolist() for n, c in centres.items()}
    return all(
        np.abs(centres[name] - yuv_from_rgb(colour)).max() <= YUV_TOLERANCE
        for name, colour in QUADRANT_COLORS.items()
    )


def wait_for_planes(peers: list[Peer], stream: LiveKitVideoStream, width: int, height: int) -> None:
    last_seen.clear()
    try:
        wait_until(peers, lambda: good_planes(stream, width, height), MEDIA_WAIT, "I420 planes")
    except AssertionError as error:
        raise AssertionError(f"{error}\nlast I420 frame: {last_seen}") from None


def good_rgba(stream: LiveKitVideoStream, width: int, height: int) -> bool:
    if not stream.poll():
        return False
    frame = stream.get_texture()
    return frame is not None and frame.shape == (height, width, 4) and pattern_error(frame) <= 40


# ----------------------------------------------------------------------- the core


def test_i420_planes_carry_the_pattern_and_match_the_rgba_path(alice_bob) -> None:
    alice, bob = alice_bob
    width, height = 320, 180
    source, _ = publish_pattern(alice, width, height)
    with video_feeder(source):
        track = remote_video_track(alice, bob)
        tiles = stream_of(track, LiveKitVideoStream.MODE_I420)
        rgba = stream_of(track, LiveKitVideoStream.MODE_RGBA)
        assert tiles.get_mode() == LiveKitVideoStream.MODE_I420
        frames: list[int] = []
        tiles.frame_received.connect(lambda: frames.append(1))
        wait_for_planes([alice, bob], tiles, width, height)
        wait_until([alice, bob], lambda: good_rgba(rgba, width, height), MEDIA_WAIT, "RGBA")
        planes = tiles.get_planes()
        assert planes is not None and frames
        y, u, v = planes
        assert (y.shape, u.shape, v.shape) == ((180, 320), (90, 160), (90, 160))
        assert all(p.dtype == np.uint8 for p in planes)
        assert tiles.get_texture() is None and tiles.get_frame_size() == (width, height)
        assert rgba.get_planes() is None

        yuv = plane_centres(planes)
        rgb = quadrant_centres(rgba.get_texture())
        for name in QUADRANT_COLORS:
            # the RGBA path's colours converted back to YUV agree with the planes
            back = yuv_from_rgb(np.array(rgb[name], np.float64))
            assert np.abs(yuv[name] - back).max() <= 8, (name, yuv[name], back)
            # the tile shader's conversion of the planes gives the RGBA path's colours
            drawn = shader_rgb(yuv[name])
            assert np.abs(drawn - np.array(rgb[name])).max() <= 8, (name, drawn, rgb[name])
        tiles.close()
        rgba.close()
        assert not tiles.poll() and tiles.get_planes() is None


def test_mode_switches_on_a_live_stream(alice_bob) -> None:
    alice, bob = alice_bob
    width, height = 320, 180
    source, _ = publish_pattern(alice, width, height)
    with video_feeder(source):
        stream = stream_of(remote_video_track(alice, bob), LiveKitVideoStream.MODE_RGBA)
        wait_until([alice, bob], lambda: good_rgba(stream, width, height), MEDIA_WAIT, "RGBA")
        received = stream.get_frames_received()

        stream.set_mode(LiveKitVideoStream.MODE_I420)
        assert stream.get_texture() is None and stream.get_planes() is None  # let go at once
        wait_for_planes([alice, bob], stream, width, height)
        assert stream.get_texture() is None and stream.is_active()
        assert stream.get_frames_received() > received

        stream.set_mode(LiveKitVideoStream.MODE_RGBA)
        wait_until([alice, bob], lambda: good_rgba(stream, width, height), MEDIA_WAIT, "RGBA")
        assert stream.get_planes() is None
        # every frame handed out since the switch is RGBA
        for _ in range(5):
            wait_until([alice, bob], stream.poll, MEDIA_WAIT, "another frame")
            assert stream.get_texture() is not None and stream.get_planes() is None
        stream.close()


# ----------------------------------------------------------------------- the addon


def run_frames(poller: GD, done: Callable[[], bool], what: str, seen: Any = None) -> None:
    """The LiveKitPoller's frames until ``done()`` (bounded)."""
    deadline = time.monotonic() + MEDIA_WAIT
    while not done():
        activity = activity_counter()
        poller._process(1 / 60)
        remaining = deadline - time.monotonic()
        errors = functions.standin_errors() + functions.standin_engine_errors()
        assert remaining > 0, f"timed out waiting for {what} ({seen}); errors: {errors[-5:]}"
        wait_for_activity(activity, min(remaining, 1 / 60))


def test_addon_stream_fills_three_textures_and_its_material(connect_peer, livekit_server) -> None:
    alice = connect_peer("alice")
    width, height = 320, 180
    source, _ = publish_pattern(alice, width, height)
    poller = new_object("LiveKitPoller")
    poller._ready()
    bob = new_object("LiveKitRoom")
    subscribed: list[GD] = []
    bob.connect("track_subscribed", lambda track, *_: subscribed.append(track))
    bob.connect_to_room(
        livekit_server.url, livekit_server.token("bob", alice.room.get_name()), gd_dictionary()
    )
    with video_feeder(source):
        run_frames(poller, lambda: bool(subscribed), "bob subscribed")
        stream = new_object("LiveKitVideoStream").from_track(subscribed[0])
        stream.set_mode(1)  # LiveKit.VIDEO_MODE_I420
        shown: list[int] = []
        stream.connect("frame_received", lambda: shown.append(1))
        textures = (stream.get_y_texture(), stream.get_u_texture(), stream.get_v_texture())
        y_texture, u_texture, v_texture = textures
        material = stream.get_material()
        assert stream.get_texture() == y_texture  # the Y plane sizes the node
        assert (y_texture.get_width(), y_texture.get_height()) == (1, 1)  # black until a frame

        def full_frame() -> bool:
            size = (y_texture.get_width(), y_texture.get_height())
            last_seen["size"], last_seen["frames"] = size, len(shown)
            if size != (width, height):
                return False
            centres = plane_centres(texture_planes(stream))
            last_seen["centres"] = {n: c.round().tolist() for n, c in centres.items()}
            return all(
                np.abs(c - yuv_from_rgb(QUADRANT_COLORS[n])).max() <= YUV_TOLERANCE
                for n, c in centres.items()
            )

        last_seen.clear()
        run_frames(poller, full_frame, "a full-size I420 frame in the textures", last_seen)
        for texture, size in (
            (y_texture, (width, height)),
            (u_texture, (width // 2, height // 2)),
            (v_texture, (width // 2, height // 2)),
        ):
            assert (texture.get_width(), texture.get_height()) == size
            assert texture.get_format() == Format.FORMAT_R8
        # the same objects, updated in place; the material draws exactly these
        assert stream.get_y_texture() == y_texture and stream.get_material() == material
        parameters = material.engine_object.parameters  # the material's parameter cache
        for name, texture in zip(("y_plane", "u_plane", "v_plane"), textures, strict=True):
            assert parameters[name].engine is texture.engine_object
        assert material.get_shader().get_path().endswith("video_tiles/video_i420.gdshader")
        count = len(shown)
        cow_copies = core.standin_cow_copies
        run_frames(poller, lambda: len(shown) >= count + 5, "five more frames")
        assert core.standin_cow_copies == cow_copies  # no copy-on-write copy per frame
        stream.close()
        bob.disconnect_from_room()
        poller._process(1 / 60)


def texture_planes(stream: GD) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three textures' pixels as (h, w) arrays (what the GPU samples)."""
    planes = []
    for texture in (stream.get_y_texture(), stream.get_u_texture(), stream.get_v_texture()):
        image = texture.get_image()
        data = image.get_data()  # keep it: the memory view owns nothing
        pixels = np.frombuffer(data.get_memory_view(), np.uint8)
        planes.append(pixels.reshape(image.get_height(), image.get_width()).copy())
    return planes[0], planes[1], planes[2]
