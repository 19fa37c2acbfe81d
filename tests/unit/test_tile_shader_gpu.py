"""The video-tile shaders run for real: GLSL on Mesa's llvmpipe (a GPU driver on the CPU,
through EGL without a display), fed by the addon on the py4godot stand-in.

No Godot can run here, so nothing else executes ``video_i420.gdshader`` and
``video_i420_3d.gdshader``. These tests compile each shader as GLSL 3.30 and draw a frame with
it: the textures and the ``chroma_scale`` come from the addon's own ``PlaneTextures`` (what
``LiveKitVideoStream`` in MODE_I420 hands Godot), the frame from the SDK's own RGB -> I420
conversion (libyuv). What they check is what the shader draws: the test pattern's colours and
the SDK's own I420 -> RGBA conversion of the same frame, in the 2D and the 3D shader, odd sizes
included.

The Godot shading language is GLSL with a few additions, which :func:`glsl_from_godot` maps
mechanically and refuses anything else: ``shader_type`` and ``render_mode`` lines are dropped;
uniform hints become the texture's sampler state (``filter_linear``: bilinear, no mipmaps;
``repeat_disable``: clamp to edge); ``varying`` becomes a global; the built-ins the shaders use
(``UV``, ``COLOR``, ``ALBEDO``) are globals that ``main()`` sets and reads around Godot's
``vertex()`` and ``fragment()``, the way Godot's canvas and spatial pipelines do (in a
canvas_item ``vertex()``, ``COLOR`` is the vertex colour times the node's modulate).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import moderngl
import numpy as np
import pytest
from addon_env import no_standin_crashes, res_file, shader_source
from godot_livekit_dev.patterns import QUADRANT_COLORS, quadrant_pattern
from livekit import rtc
from media_helpers import i420_of, polled_i420_stream

from addons.godot_livekit.bridge import tiles

_ = no_standin_crashes

SAMPLER_HINTS = {"filter_linear", "repeat_disable"}
"""The uniform hints this translation knows; any other one fails the test (unknown sampler
state would make a passing test meaningless)."""

GLSL_HEADER = """#version 330
out vec4 lk_out;
uniform vec2 lk_size;
uniform vec4 lk_vertex_color;
vec2 UV;
vec4 COLOR;
vec3 ALBEDO;
"""

MAIN = {
    "canvas_item": """
void main() {
    UV = gl_FragCoord.xy / lk_size;
    COLOR = lk_vertex_color;
    vertex();
    COLOR = vec4(0.0);
    fragment();
    lk_out = COLOR;
}
""",
    "spatial": """
void main() {
    UV = gl_FragCoord.xy / lk_size;
    fragment();
    lk_out = vec4(ALBEDO, 1.0);
}
""",
}

FULL_SCREEN = """#version 330
void main() {
    vec2 corner = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
"""

EDGE = 3
"""Pixels this close to a quadrant border are left out of the colour checks: there the
shader's bilinear chroma and libyuv's nearest chroma differ, as they should."""


def glsl_from_godot(source: str) -> tuple[str, str, dict[str, set[str]]]:
    """(shader type, GLSL fragment shader, sampler hints per uniform) of a Godot shader
    whose includes are pasted in."""
    shader_type = re.search(r"^shader_type (\w+);$", source, re.M)
    assert shader_type, "no shader_type line"
    kind = shader_type.group(1)
    assert kind in MAIN, f"shader_type {kind} is not translated here"
    body = re.sub(r"^(shader_type|render_mode) [^;]*;$", "", source, flags=re.M)
    hints: dict[str, set[str]] = {}

    def uniform(match: re.Match[str]) -> str:
        type_, name, hint_text = match.group(1), match.group(2), match.group(3)
        hints[name] = {h.strip() for h in hint_text.split(",")}
        unknown = hints[name] - SAMPLER_HINTS
        assert not unknown, f"uniform {name}: hints {unknown} are not translated here"
        return f"uniform {type_} {name};"

    body = re.sub(r"^uniform (\w+) (\w+) : ([^;=]+);$", uniform, body, flags=re.M)
    assert ":" not in re.sub(r"//[^\n]*", "", body), "a hint or construct left untranslated"
    body = re.sub(r"^varying ", "", body, flags=re.M)
    return kind, GLSL_HEADER + body + MAIN[kind], hints


@pytest.fixture(scope="module")
def gl() -> Iterator[Any]:
    """A GL 3.3 context on Mesa's llvmpipe, without a display. Software rendering is asked
    for even where a GPU exists, so the tolerances below (measured on llvmpipe) hold."""
    before = os.environ.get("LIBGL_ALWAYS_SOFTWARE")
    os.environ["LIBGL_ALWAYS_SOFTWARE"] = "1"
    try:
        context = moderngl.create_standalone_context(require=330, backend="egl")
    except Exception as error:  # any EGL failure means the same thing here
        pytest.fail(
            "no EGL context on Mesa's llvmpipe; `python build.py setup` installs the Debian "
            f"packages libegl1 libegl-mesa0 libgl1-mesa-dri ({error})"
        )
    finally:
        if before is None:
            os.environ.pop("LIBGL_ALWAYS_SOFTWARE", None)
        else:
            os.environ["LIBGL_ALWAYS_SOFTWARE"] = before
    yield context
    context.release()


def addon_textures(frame: rtc.VideoFrame) -> tiles.PlaneTextures:
    """The addon's PlaneTextures after showing ``frame`` (via a core stream in MODE_I420)."""
    stream = polled_i420_stream(frame)
    textures = tiles.PlaneTextures()
    textures.show(stream.get_planes())
    stream.close()
    return textures


def draw(gl: Any, kind: str, textures: tiles.PlaneTextures, modulate: tuple[float, ...]) -> Any:
    """Draw the addon's material of ``kind`` ("canvas" or "3d") at the frame's size; returns
    (height, width, 4) float32 in 0..1, row 0 the frame's first row (Godot's UV.y = 0)."""
    shader_type, fragment, hints = glsl_from_godot(shader_source(res_file(tiles.SHADERS[kind])))
    assert shader_type == {"canvas": "canvas_item", "3d": "spatial"}[kind]
    program = gl.program(vertex_shader=FULL_SCREEN, fragment_shader=fragment)
    material = textures.material(kind)
    # the material's parameters as Godot holds them (the addon never reads them back:
    # get_shader_parameter's wrapper releases a count it does not own, FACTS.md)
    parameters = material._engine().parameters
    width, height = textures.sizes[0]
    bound = []
    for unit, name in enumerate(tiles.PLANE_PARAMETERS):
        plane_texture = textures.textures[unit]
        assert parameters[name].engine is plane_texture._engine(), f"{name} is not drawn"
        image = plane_texture.get_image()
        packed = image.get_data()  # held: get_memory_view() keeps nothing alive (FACTS.md)
        data = np.frombuffer(packed.get_memory_view(), np.uint8).tobytes()
        texture = gl.texture((image.get_width(), image.get_height()), 1, data)
        texture.filter = (
            (moderngl.LINEAR, moderngl.LINEAR)
            if "filter_linear" in hints[name]
            else (moderngl.NEAREST, moderngl.NEAREST)
        )
        texture.repeat_x = texture.repeat_y = "repeat_disable" not in hints[name]
        texture.use(unit)
        program[name] = unit
        bound.append(texture)
    program[tiles.CHROMA_SCALE_PARAMETER] = tuple(parameters[tiles.CHROMA_SCALE_PARAMETER].value)
    program["lk_size"] = (float(width), float(height))
    if "lk_vertex_color" in program:
        program["lk_vertex_color"] = modulate
    target = gl.texture((width, height), 4, dtype="f4")
    framebuffer = gl.framebuffer(color_attachments=[target])
    framebuffer.use()
    triangle = gl.vertex_array(program, [])
    triangle.render(moderngl.TRIANGLES, vertices=3)
    pixels = np.frombuffer(framebuffer.read(components=4, dtype="f4"), np.float32)
    for resource in (*bound, triangle, target, framebuffer, program):
        resource.release()
    return pixels.reshape(height, width, 4)


def sdk_rgb(frame: rtc.VideoFrame) -> np.ndarray:
    """The SDK's own I420 -> RGBA (libyuv) of ``frame``, (height, width, 3) in 0..255."""
    rgba = frame.convert(rtc.VideoBufferType.RGBA)
    return np.frombuffer(rgba.data, np.uint8).reshape(frame.height, frame.width, 4)[..., :3]


def interior(width: int, height: int) -> np.ndarray:
    """Pixels at least EDGE away from the quadrant borders."""
    rows, cols = np.arange(height)[:, None], np.arange(width)[None, :]
    return (np.abs(rows - height // 2) >= EDGE) & (np.abs(cols - width // 2) >= EDGE)


def srgb_to_linear(value: np.ndarray) -> np.ndarray:
    return np.where(value <= 0.04045, value / 12.92, ((value + 0.055) / 1.055) ** 2.4)


@pytest.mark.parametrize("size", [(320, 180), (321, 181), (64, 36), (33, 19)])
def test_canvas_shader_draws_the_pattern_and_what_the_sdk_converts(
    gl: Any, size: tuple[int, int]
) -> None:
    width, height = size
    frame = i420_of(quadrant_pattern(width, height))
    textures = addon_textures(frame)
    drawn = draw(gl, "canvas", textures, (1.0, 1.0, 1.0, 1.0))
    rgb = drawn[..., :3] * 255.0
    assert np.all(drawn[..., 3] == 1.0)
    inside = interior(width, height)
    error_to_sdk = np.abs(rgb - sdk_rgb(frame))[inside]
    # measured: 1.2 (the shader in float, libyuv in fixed point)
    assert error_to_sdk.max() <= 2.0, f"shader vs libyuv: max {error_to_sdk.max():.2f}"
    half_w, half_h = width // 2, height // 2
    quadrants = {
        "top_left": (slice(0, half_h - EDGE), slice(0, half_w - EDGE)),
        "top_right": (slice(0, half_h - EDGE), slice(half_w + EDGE, width)),
        "bottom_left": (slice(half_h + EDGE, height), slice(0, half_w - EDGE)),
        "bottom_right": (slice(half_h + EDGE, height), slice(half_w + EDGE, width)),
    }
    for name, (rows, cols) in quadrants.items():
        region = rgb[rows, cols].reshape(-1, 3)
        error = np.abs(region - np.asarray(QUADRANT_COLORS[name], np.float64)).max()
        # measured: 2.8 (RGB -> I420 -> RGB in 8 bits)
        assert error <= 4.0, f"{size} {name}: {region.mean(axis=0).round(1)} (max error {error})"
    textures.clear()


def test_canvas_shader_follows_the_nodes_modulate(gl: Any) -> None:
    frame = i420_of(quadrant_pattern(64, 36))
    textures = addon_textures(frame)
    plain = draw(gl, "canvas", textures, (1.0, 1.0, 1.0, 1.0))
    tinted = draw(gl, "canvas", textures, (0.5, 1.0, 0.25, 0.75))
    assert np.allclose(tinted, plain * np.array([0.5, 1.0, 0.25, 0.75], np.float32), atol=1e-5)
    textures.clear()


def test_spatial_shader_writes_the_colours_as_linear_albedo(gl: Any) -> None:
    width, height = 64, 36
    frame = i420_of(quadrant_pattern(width, height))
    textures = addon_textures(frame)
    canvas = draw(gl, "canvas", textures, (1.0, 1.0, 1.0, 1.0))[..., :3]
    albedo = draw(gl, "3d", textures, (1.0, 1.0, 1.0, 1.0))[..., :3]
    assert np.allclose(albedo, srgb_to_linear(canvas.astype(np.float64)), atol=1e-4)
    textures.clear()


def test_a_smooth_picture_matches_the_sdk_everywhere(gl: Any) -> None:
    """Colour changing across the whole frame (no hard edges): bilinear chroma on the GPU
    and libyuv's conversion agree on every pixel, borders and the odd last row and column
    included, so the chroma planes sit where the addon's chroma_scale puts them."""
    width, height = 161, 91
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    rgba = np.empty((height, width, 4), np.uint8)
    rgba[..., 0] = 40 + 170 * cols / (width - 1)
    rgba[..., 1] = 200 - 150 * rows / (height - 1)
    rgba[..., 2] = 60 + 90 * (cols + rows) / (width + height - 2)
    rgba[..., 3] = 255
    frame = i420_of(rgba)
    textures = addon_textures(frame)
    rgb = draw(gl, "canvas", textures, (1.0, 1.0, 1.0, 1.0))[..., :3] * 255.0
    error = np.abs(rgb - sdk_rgb(frame))
    # measured: 2.8 (bilinear against nearest chroma); chroma_scale left out gives 4.8, chroma
    # half a texel off gives 5.4
    where = np.unravel_index(error.argmax(), error.shape)
    assert error.max() <= 3.5, f"max {error.max():.2f} at {where}"
    assert np.abs(rgb - rgba[..., :3]).max() <= 6.0  # and the picture sent (measured: 4.1)
    textures.clear()


def test_translation_refuses_what_it_does_not_know() -> None:
    with pytest.raises(AssertionError, match="hints"):
        glsl_from_godot("shader_type canvas_item;\nuniform sampler2D t : hint_normal;\n")
    with pytest.raises(AssertionError, match="not translated"):
        glsl_from_godot("shader_type particles;\n")
