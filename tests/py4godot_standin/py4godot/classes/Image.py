# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/classes/Image.py (generated from Godot's Image;
# the Format enum is a module-level class: `from py4godot.classes.Image import Image, Format`).
# Engine behaviour mirrored (Godot core/io/image.cpp): create_from_data/set_data check the data size
# against width x height x bytes-per-pixel (an engine error and nothing changes on mismatch) and
# keep the PackedByteArray's storage without copying it (Vector copy-on-write); get_data() returns
# the storage shared, so writing through its memory view un-shares it first (one copy).
# Only mipmap-free images and the uncompressed formats below are modelled.

from __future__ import annotations

from typing import Any

from py4godot.classes.core import PackedByteArray
from py4godot.classes.Object import register_native
from py4godot.classes.RefCounted import RefCounted
from py4godot.functions import standin_engine_error


class Format:
    FORMAT_L8 = 0
    FORMAT_LA8 = 1
    FORMAT_R8 = 2
    FORMAT_RG8 = 3
    FORMAT_RGB8 = 4
    FORMAT_RGBA8 = 5
    FORMAT_RGBA4444 = 6
    FORMAT_RGB565 = 7
    FORMAT_RF = 8
    FORMAT_RGF = 9
    FORMAT_RGBF = 10
    FORMAT_RGBAF = 11
    FORMAT_RH = 12
    FORMAT_RGH = 13
    FORMAT_RGBH = 14
    FORMAT_RGBAH = 15


_BYTES_PER_PIXEL = {0: 1, 1: 2, 2: 1, 3: 2, 4: 3, 5: 4, 6: 2, 7: 2, 8: 4, 9: 8, 10: 12, 11: 16,
                    12: 2, 13: 4, 14: 6, 15: 8}  # fmt: skip


@register_native
class Image(RefCounted):  # Godot: Image -> Resource -> RefCounted
    @staticmethod
    def get_type() -> str:
        return "Image"

    def _standin_init(self) -> None:
        if not hasattr(self, "_width"):
            self._width = self._height = 0
            self._format = Format.FORMAT_L8
            self._data = PackedByteArray()

    @staticmethod
    def create_from_data(
        width: int, height: int, use_mipmaps: bool, format: int, data: PackedByteArray
    ) -> Image:
        image = Image.new()
        image._standin_init()
        image.set_data(width, height, use_mipmaps, format, data)
        return image

    def set_data(
        self, width: int, height: int, use_mipmaps: bool, format: int, data: PackedByteArray
    ) -> None:
        self._standin_init()
        if use_mipmaps or int(format) not in _BYTES_PER_PIXEL:
            standin_engine_error("stand-in Image: mipmaps and compressed formats are not modelled")
            return
        expected = int(width) * int(height) * _BYTES_PER_PIXEL[int(format)]
        if data.size() != expected:
            standin_engine_error(
                f"Expected Image data size of {width}x{height} ({expected} bytes), got "
                f"{data.size()} bytes instead."
            )
            return
        self._width, self._height, self._format = int(width), int(height), int(format)
        self._data = data._share()

    def get_data(self) -> PackedByteArray:
        self._standin_init()
        return self._data._share()

    def get_width(self) -> int:
        self._standin_init()
        return self._width

    def get_height(self) -> int:
        self._standin_init()
        return self._height

    def get_format(self) -> int:
        self._standin_init()
        return self._format

    def is_empty(self) -> bool:
        self._standin_init()
        return self._width == 0 or self._height == 0

    def has_mipmaps(self) -> bool:
        return False

    def standin_pixels(self) -> Any:
        """Stand-in only: the pixels as a (h, w, bytes_per_pixel) numpy copy."""
        self._standin_init()
        channels = _BYTES_PER_PIXEL[self._format]
        return self._data._data.reshape(self._height, self._width, channels).copy()
