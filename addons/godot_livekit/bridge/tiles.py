"""Video tiles: an I420 frame as three single-channel textures and the materials that draw them.

LiveKitVideoStream in MODE_I420 hands Godot the decoder's planes as they are: Y (w x h), U and
V (ceil(w/2) x ceil(h/2)), 1.5 bytes per pixel instead of RGBA's 4, and the conversion to RGB
runs on the GPU in ``video_tiles/video_i420.gdshader`` (CanvasItems) or
``video_i420_3d.gdshader`` (meshes). Per plane and frame: one memcpy into whichever of two
reused PackedByteArrays the plane's Image does not hold (so Godot's copy-on-write never
copies), ``Image.set_data`` (keeps that buffer), ``ImageTexture.update`` (``set_image`` when the
size changed: the same texture object, so materials holding it follow).

The textures exist from :meth:`PlaneTextures.ensure` on (1x1 black until the first frame), so
a node can be given the texture and the material before any frame arrived.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from py4godot.classes.core import Vector2
from py4godot.classes.Image import Format, Image
from py4godot.classes.ImageTexture import ImageTexture
from py4godot.classes.ResourceLoader import ResourceLoader
from py4godot.classes.ShaderMaterial import ShaderMaterial

from godot_livekit.errors import LiveKitError
from godot_livekit.media_convert import chroma_size

from .convert import ReusedBytes

TILES_DIR = "res://addons/godot_livekit/video_tiles"
SHADERS = {
    "canvas": f"{TILES_DIR}/video_i420.gdshader",
    "3d": f"{TILES_DIR}/video_i420_3d.gdshader",
}
PLANE_PARAMETERS = ("y_plane", "u_plane", "v_plane")
CHROMA_SCALE_PARAMETER = "chroma_scale"
BLACK = (16, 128, 128)  # Y, U, V of black in limited range

_shaders: dict[str, Any] = {}


def load_shader(kind: str) -> Any:
    """The tile shader of ``kind`` ("canvas" or "3d"), loaded once and kept."""
    shader = _shaders.get(kind)
    if shader is None:
        shader = ResourceLoader.instance().load(SHADERS[kind])
        if shader is None:
            raise LiveKitError(f"cannot load {SHADERS[kind]}")
        _shaders[kind] = shader
    return shader


class PlaneTextures:
    """The newest I420 frame as three FORMAT_R8 Images/ImageTextures (Y, U, V), reused, and
    the ShaderMaterials that draw them."""

    __slots__ = ("_buffers", "_next", "images", "materials", "sizes", "textures")

    def __init__(self) -> None:
        self.images: list[Image] = []
        self.textures: list[ImageTexture] = []
        self.sizes: list[tuple[int, int]] = []
        self.materials: dict[str, ShaderMaterial] = {}
        self._buffers: list[tuple[ReusedBytes, ReusedBytes]] = []
        self._next = 0

    def ensure(self) -> None:
        """Make the three textures (1x1 black) if they do not exist yet."""
        if self.textures:
            return
        for value in BLACK:
            self._buffers.append((ReusedBytes(), ReusedBytes()))
            data = self._buffers[-1][0].write(np.full(1, value, np.uint8))
            image = Image.create_from_data(1, 1, False, Format.FORMAT_R8, data)
            self.images.append(image)
            self.textures.append(ImageTexture.create_from_image(image))
            self.sizes.append((1, 1))
        self._next = 1

    def show(self, planes: tuple[np.ndarray, np.ndarray, np.ndarray]) -> int:
        """Upload the Y, U and V planes ((h, w) uint8 each); returns the bytes copied."""
        self.ensure()
        copied = 0
        resized = False
        for index, plane in enumerate(planes):
            height, width = plane.shape
            data = self._buffers[index][self._next].write(plane)
            copied += plane.nbytes
            image, texture = self.images[index], self.textures[index]
            image.set_data(width, height, False, Format.FORMAT_R8, data)
            if self.sizes[index] == (width, height):
                texture.update(image)
            else:
                texture.set_image(image)
                self.sizes[index] = (width, height)
                resized = True
        self._next ^= 1
        if resized:
            self._set_chroma_scale()
        return copied

    def material(self, kind: str) -> ShaderMaterial:
        """The stream's ShaderMaterial of ``kind`` ("canvas" or "3d"), made on first use with
        the three textures as its parameters."""
        found = self.materials.get(kind)
        if found is not None:
            return found
        self.ensure()
        material = ShaderMaterial.new()
        material.init_ref()  # settle Godot's pending initial count as this wrapper's
        material.set_shader(load_shader(kind))
        for name, texture in zip(PLANE_PARAMETERS, self.textures, strict=True):
            material.set_shader_parameter(name, texture)
        self.materials[kind] = material
        self._set_chroma_scale()
        return material

    def _set_chroma_scale(self) -> None:
        """Map the luma frame onto the chroma planes (not (1, 1) for odd sizes only)."""
        width, height = self.sizes[0]
        chroma_width, chroma_height = chroma_size(width, height)
        scale = Vector2.new3(width / (2 * chroma_width), height / (2 * chroma_height))
        for material in self.materials.values():
            material.set_shader_parameter(CHROMA_SCALE_PARAMETER, scale)

    def clear(self) -> None:
        """Let go of the images, textures, materials and pixel buffers."""
        self.images, self.textures, self.sizes = [], [], []
        self.materials = {}
        self._buffers = []
        self._next = 0
