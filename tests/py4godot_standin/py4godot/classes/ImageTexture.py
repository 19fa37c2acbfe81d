# Mirrors py4godot/classes/ImageTexture.py at 4.7-alpha21 (generated; static create_from_image
# returns a Ref, so the wrapper owns that count). Engine behaviour (Godot
# scene/resources/image_texture.cpp): the texture keeps a GPU copy of the pixels (the
# RenderingServer's, modelled as a copy into the texture's storage, reused while the size and
# format stay: RenderingServer texture_2d_update writes into the existing texture);
# update(image) needs the same size and format (engine error, no change, otherwise);
# set_image(image) recreates it at any size; get_image() reads the pixels back as a new Image.
# Image arguments are Ref<Image> parameters: a temporary Ref holds them during the call (see
# _engine.held). Stand-in counters count uploads.

from __future__ import annotations

from typing import Any

import numpy as np

from py4godot import _engine
from py4godot.classes.core import PackedByteArray, _Buffer
from py4godot.classes.Image import Image
from py4godot.classes.Object import register_native
from py4godot.classes.RefCounted import RefCounted
from py4godot.functions import standin_engine_error
from py4godot.utils.functools import native_method


@register_native
class ImageTexture(RefCounted):  # Godot: ImageTexture -> Texture2D -> Texture -> Resource
    @staticmethod
    def get_type() -> str:
        return "ImageTexture"

    @classmethod
    def _standin_engine_init(cls, engine: Any) -> None:
        engine.texture = None  # (width, height, format, pixel bytes) once created
        engine.standin_creates = engine.standin_updates = 0

    @staticmethod
    def create_from_image(image: Image) -> ImageTexture:
        assert isinstance(image, Image), "image must be Image"
        texture = ImageTexture.new()
        texture.init_ref()
        texture.set_image(image)
        return texture

    def _upload(self, image: Image) -> None:
        engine = self._engine("upload")
        source = image._engine("upload source")
        width, height = source.image_size
        pixels = source.image_data.data
        old = engine.texture
        if old is not None and old[:3] == (width, height, source.image_format):
            stored = old[3]
        else:
            stored = np.empty_like(pixels)
        # The engine's copy keeps the GIL: py4godot's generated calls hold it across the
        # ptrcall (FACTS.md, "Python threads may call Godot"); a numpy copy would let it go.
        memoryview(stored).cast("B")[:] = memoryview(pixels).cast("B")
        engine.texture = (width, height, source.image_format, stored)

    @native_method
    def set_image(self, image: Image) -> None:
        assert isinstance(image, Image), "image must be Image"
        with _engine.held([image]):
            if image.is_empty():
                standin_engine_error("Invalid image")
                return
            self._upload(image)
            self._engine().standin_creates += 1

    @native_method
    def update(self, image: Image) -> None:
        assert isinstance(image, Image), "image must be Image"
        engine = self._engine("update")
        with _engine.held([image]):
            if engine.texture is None:
                standin_engine_error("Texture is not initialized.")
                return
            width, height, format_, _ = engine.texture
            if (image.get_width(), image.get_height()) != (width, height):
                standin_engine_error("The new image dimensions must match the texture size.")
                return
            if image.get_format() != format_:
                standin_engine_error("The new image format must match the texture's image format.")
                return
            self._upload(image)
            engine.standin_updates += 1

    @native_method
    def get_width(self) -> int:
        texture = self._engine("get_width").texture
        return texture[0] if texture else 0

    @native_method
    def get_height(self) -> int:
        texture = self._engine("get_height").texture
        return texture[1] if texture else 0

    @native_method
    def get_format(self) -> int:
        texture = self._engine("get_format").texture
        return texture[2] if texture else 0

    @native_method
    def get_image(self) -> Image:
        texture = self._engine("get_image").texture
        if texture is None:
            standin_engine_error("Texture is not initialized.")
            return None  # type: ignore[return-value]
        width, height, format_, pixels = texture
        data = PackedByteArray._wrap(_Buffer(pixels.copy()))
        return Image.create_from_data(width, height, False, format_, data)

    @property
    def standin_creates(self) -> int:
        return self._engine().standin_creates

    @property
    def standin_updates(self) -> int:
        return self._engine().standin_updates
