"""Video tiles without a server: I420 frames made by the SDK's native conversion (libyuv), fed
to a core LiveKitVideoStream as its reader does, shown through the addon's three R8 textures
on the faithful py4godot stand-in; and the shader and material files the addon uses.

Odd sizes are covered here because the real server path cannot carry them: the SDK's
encoder sends 321x181 as 320x180 (seen in tests/integration/test_video_tiles.py's set-up).
"""

from __future__ import annotations

import re

import addon_env
import numpy as np
import pytest
from addon_env import gd_null, new_object, no_standin_crashes, shader_source
from godot_livekit_dev.patterns import quadrant_pattern
from livekit import rtc
from media_helpers import i420_of, polled_i420_stream
from py4godot.classes import core
from py4godot.classes.Image import Format

from addons.godot_livekit.bridge import convert, tiles
from godot_livekit import LiveKitVideoStream, testing
from godot_livekit.media_convert import chroma_size

_ = no_standin_crashes

TILES = addon_env.ADDON_DIR / "video_tiles"
SHADER_TYPES = {"canvas": "canvas_item", "3d": "spatial"}


def i420_frame(width: int, height: int) -> rtc.VideoFrame:
    """The quadrant pattern converted to I420 by the SDK."""
    return i420_of(quadrant_pattern(width, height))


# ----------------------------------------------------------------------- the core


@pytest.mark.parametrize("size", [(320, 180), (321, 181), (1, 1), (7, 3)])
def test_planes_are_views_with_rounded_up_chroma(size: tuple[int, int]) -> None:
    width, height = size
    frame = i420_frame(width, height)
    stream = polled_i420_stream(frame)
    y, u, v = stream.get_planes()
    chroma_width, chroma_height = chroma_size(width, height)
    assert (chroma_width, chroma_height) == ((width + 1) // 2, (height + 1) // 2)
    assert (y.shape, u.shape, v.shape) == (
        (height, width),
        (chroma_height, chroma_width),
        (chroma_height, chroma_width),
    )
    data = np.frombuffer(frame.data, np.uint8)
    assert np.array_equal(np.concatenate([y.ravel(), u.ravel(), v.ravel()]), data)
    for plane in (y, u, v):  # views of the frame's buffer, no copy
        assert np.shares_memory(plane, data)
    assert stream.get_texture() is None and stream.get_frame_size() == (width, height)
    stream.close()
    assert stream.get_planes() is None


def test_a_frame_of_the_other_format_is_not_handed_out() -> None:
    stream = LiveKitVideoStream()
    stream.set_auto_poll(False)
    testing.feed_video_frame(stream, i420_frame(8, 8))  # the stream is in MODE_RGBA
    assert not stream.poll() and stream.get_texture() is None
    stream.set_mode(LiveKitVideoStream.MODE_I420)
    testing.feed_video_frame(stream, i420_frame(8, 8))
    stream.set_mode(LiveKitVideoStream.MODE_RGBA)  # a switch drops what waits
    assert not stream.poll()
    with pytest.raises(ValueError):
        stream.set_mode(2)
    stream.close()


# ----------------------------------------------------------------------- the addon's textures


@pytest.mark.parametrize("size", [(16, 8), (321, 181)])
def test_plane_textures_hold_the_planes_without_copy_on_write(size: tuple[int, int]) -> None:
    width, height = size
    planes_of = [polled_i420_stream(i420_frame(width, height)).get_planes() for _ in range(2)]
    textures = tiles.PlaneTextures()
    textures.ensure()
    first = list(textures.textures)
    assert [(t.get_width(), t.get_height(), t.get_format()) for t in first] == [
        (1, 1, Format.FORMAT_R8)
    ] * 3
    copied = textures.show(planes_of[0])
    assert copied == width * height + 2 * np.prod(chroma_size(width, height))
    pinned, cow_copies = len(core.pinned_buffers), core.standin_cow_copies
    for step in range(6):
        y, u, v = planes_of[step % 2]
        flipped = (y[::-1].copy(), u[::-1].copy(), v[::-1].copy()) if step % 3 else (y, u, v)
        textures.show(flipped)
        for texture, plane in zip(textures.textures, flipped, strict=True):
            image = texture.get_image()
            assert image.get_format() == Format.FORMAT_R8
            assert np.array_equal(image.standin_pixels()[..., 0], plane)
    assert textures.textures == first  # the same objects, updated in place
    assert [t.standin_updates for t in first] == [6] * 3
    assert core.standin_cow_copies == cow_copies  # the buffer written is never the Image's
    assert len(core.pinned_buffers) == pinned  # nothing kept by from_memory_view
    chroma = chroma_size(width, height)
    assert [(t.get_width(), t.get_height()) for t in first] == [(width, height), chroma, chroma]
    textures.clear()
    assert not textures.textures and not textures.materials


ENGINE_CALLS = ("resize", "get_memory_view", "set_data", "update", "set_image", "get_data")


def spy_on(objects: list[object], calls: list[str]) -> None:
    """Record every call of ENGINE_CALLS on ``objects`` (stand-in wrappers) in ``calls``."""
    for obj in objects:
        for name in ENGINE_CALLS:
            method = getattr(obj, name, None)
            if method is not None:
                setattr(obj, name, lambda *a, _m=method, _n=name: calls.append(_n) or _m(*a))


def test_a_steady_frame_costs_three_engine_calls_per_texture() -> None:
    """Per frame the main thread pays for its engine calls: once the buffers are sized, each
    plane (tile) or frame (RGBA) is one memory view, one set_data, one update -- no resize,
    no set_image, no read back, no new object."""
    planes = polled_i420_stream(i420_frame(64, 36)).get_planes()
    textures = tiles.PlaneTextures()
    for _ in range(2):  # both buffers of each plane get their size
        textures.show(planes)
    calls: list[str] = []
    buffers = [reused.packed for pair in textures._buffers for reused in pair]
    spy_on([*textures.images, *textures.textures, *buffers], calls)
    created = [t.standin_creates for t in textures.textures]
    textures.show(planes)
    assert sorted(calls) == sorted(["get_memory_view", "set_data", "update"] * 3)
    assert [t.standin_creates for t in textures.textures] == created
    textures.clear()

    frames = convert.FrameTexture()
    rgba = quadrant_pattern(64, 36)
    for _ in range(2):
        frames.show(rgba)
    calls.clear()
    buffers = [reused.packed for reused in frames._buffers]
    spy_on([frames.image, frames.texture, *buffers], calls)
    frames.show(rgba)
    assert sorted(calls) == sorted(["get_memory_view", "set_data", "update"])
    frames.clear()


def test_materials_draw_these_textures_with_the_right_chroma_scale() -> None:
    textures = tiles.PlaneTextures()
    canvas, spatial = textures.material("canvas"), textures.material("3d")
    assert textures.material("canvas") is canvas
    assert canvas.get_shader().get_path() == tiles.SHADERS["canvas"]
    assert spatial.get_shader().get_path() == tiles.SHADERS["3d"]
    for material in (canvas, spatial):
        parameters = material._engine().parameters
        assert set(material.standin_parameter_names()) == {
            *tiles.PLANE_PARAMETERS,
            tiles.CHROMA_SCALE_PARAMETER,
        }
        for name, texture in zip(tiles.PLANE_PARAMETERS, textures.textures, strict=True):
            assert parameters[name].engine is texture._engine()
    textures.show(polled_i420_stream(i420_frame(321, 181)).get_planes())
    scale = canvas._engine().parameters[tiles.CHROMA_SCALE_PARAMETER].value
    assert scale == pytest.approx((321 / 322, 181 / 182))  # the luma frame on 161x91 chroma
    textures.show(polled_i420_stream(i420_frame(320, 180)).get_planes())
    assert spatial._engine().parameters[tiles.CHROMA_SCALE_PARAMETER].value == (1.0, 1.0)
    textures.clear()


def test_the_addon_stream_in_i420_mode_gives_textures_and_material_before_any_frame() -> None:
    stream = new_object("LiveKitVideoStream")
    assert gd_null(stream.get_texture()) and stream.get_mode() == 0  # RGBA: as the reference
    stream.set_mode(1)
    y, u, v = stream.get_y_texture(), stream.get_u_texture(), stream.get_v_texture()
    assert stream.get_texture() == y and stream.get_mode() == 1
    assert len({y, u, v}) == 3 and u.get_format() == v.get_format() == Format.FORMAT_R8
    assert y.get_format() == Format.FORMAT_R8 and (y.get_width(), y.get_height()) == (1, 1)
    image = stream.get_image()
    data = image.get_data()
    assert np.frombuffer(data.get_memory_view(), np.uint8).tolist() == [16]  # black
    material = stream.get_material()
    assert material.get_class() == "ShaderMaterial" and stream.get_material() == material
    assert stream.get_material_3d().get_class() == "ShaderMaterial"
    stream.set_mode(5)  # refused with a Godot error, mode unchanged
    assert stream.get_mode() == 1
    stream.set_mode(0)
    assert gd_null(stream.get_texture())  # RGBA again: no RGBA frame yet
    assert stream.get_y_texture() == y  # the plane textures stay the same objects
    stream.close()


# ----------------------------------------------------------------------- shader and material files


def test_shaders_exist_and_declare_the_uniforms_the_addon_sets() -> None:
    for kind, res_path in tiles.SHADERS.items():
        path = addon_env.REPO_ROOT / res_path.removeprefix("res://")
        assert path.is_file(), res_path
        source = shader_source(path)
        assert re.search(rf"^shader_type {SHADER_TYPES[kind]};", source, re.M), kind
        declared = {n: t for t, n in re.findall(r"^uniform (\w+) (\w+)\b", source, re.M)}
        for name in tiles.PLANE_PARAMETERS:
            assert declared.get(name) == "sampler2D", f"{path.name}: uniform {name}"
        assert declared.get(tiles.CHROMA_SCALE_PARAMETER) == "vec2", path.name
        assert "void fragment()" in source and "i420_rgb(UV)" in source
        assert source.count("{") == source.count("}") and source.count("(") == source.count(")")


@pytest.mark.parametrize("kind", sorted(tiles.SHADERS))
def test_material_files_reference_the_shaders(kind: str) -> None:
    shader = tiles.SHADERS[kind]
    material = (addon_env.REPO_ROOT / shader.removeprefix("res://")).with_suffix(".tres")
    text = material.read_text(encoding="utf-8")
    assert text.startswith('[gd_resource type="ShaderMaterial"')
    assert f'[ext_resource type="Shader" path="{shader}" id="' in text
    ext_id = re.search(r'id="([^"]+)"\]', text).group(1)
    assert f'shader = ExtResource("{ext_id}")' in text
    assert "resource_local_to_scene = true" in text  # each node gets its own parameters
