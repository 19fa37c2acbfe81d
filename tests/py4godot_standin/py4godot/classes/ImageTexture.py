# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/classes/ImageTexture.py (generated from Godot's
# ImageTexture). Engine behaviour mirrored (Godot scene/resources/image_texture.cpp): the texture
# owns a GPU copy of the pixels; update(image) requires the same size, format and mipmaps (else an
# engine error and no change); set_image(image) recreates it at any size; get_image() reads the
# pixels back as a new Image. Stand-in counters record uploads for the tests.

from __future__ import annotations

from py4godot.classes.core import PackedByteArray
from py4godot.classes.Image import Image
from py4godot.classes.Object import register_native
from py4godot.classes.RefCounted import RefCounted
from py4godot.functions import standin_engine_error


@register_native
class ImageTexture(RefCounted):  # Godot: ImageTexture -> Texture2D -> Texture -> Resource
    @staticmethod
    def get_type() -> str:
        return "ImageTexture"

    @staticmethod
    def create_from_image(image: Image) -> ImageTexture:
        texture = ImageTexture.new()
        texture.standin_creates = texture.standin_updates = 0
        texture.set_image(image)
        return texture

    def _upload(self, image: Image) -> None:
        self._width, self._height = image.get_width(), image.get_height()
        self._format = image.get_format()
        self._pixels = image.get_data().to_byte_array()  # the GPU copy

    def set_image(self, image: Image) -> None:
        if image is None or image.is_empty():
            standin_engine_error("Invalid image")
            return
        self._upload(image)
        self.standin_creates = getattr(self, "standin_creates", 0) + 1

    def update(self, image: Image) -> None:
        if image is None or not hasattr(self, "_pixels"):
            standin_engine_error("Invalid image / texture not created")
            return
        if (image.get_width(), image.get_height()) != (self._width, self._height):
            standin_engine_error("The new image dimensions must match the texture size.")
            return
        if image.get_format() != self._format:
            standin_engine_error("The new image format must match the texture's image format.")
            return
        self._upload(image)
        self.standin_updates += 1

    def get_width(self) -> int:
        return getattr(self, "_width", 0)

    def get_height(self) -> int:
        return getattr(self, "_height", 0)

    def get_format(self) -> int:
        return self._format

    def get_image(self) -> Image:
        data = PackedByteArray.new1(self._pixels)
        return Image.create_from_data(self._width, self._height, False, self._format, data)
