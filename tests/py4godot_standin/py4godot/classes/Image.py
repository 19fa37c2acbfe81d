# Mirrors py4godot/classes/Image.py at 4.7-alpha21 (generated; the Format enum is a module-level
# class: `from py4godot.classes.Image import Image, Format`; static methods returning Ref<Image>
# hand the wrapper that Ref's count; type assertions as in generate_type_assertion).
# Engine behaviour (Godot core/io/image.cpp): create_from_data/set_data check the data size
# against width x height x bytes-per-pixel (engine error, nothing changes, on a mismatch) and
# keep the PackedByteArray's storage without copying (Vector copy-on-write: the Image and the
# array share one buffer until one of them writes); get_data() returns the storage shared.
# Only mipmap-free images of the uncompressed formats below are modelled.

from __future__ import annotations

from typing import Any

import numpy as np

from py4godot.classes.core import PackedByteArray, _Buffer
from py4godot.classes.Object import register_native
from py4godot.classes.RefCounted import RefCounted
from py4godot.functions import standin_engine_error
from py4godot.utils.functools import native_method


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


BYTES_PER_PIXEL = {0: 1, 1: 2, 2: 1, 3: 2, 4: 3, 5: 4, 6: 2, 7: 2, 8: 4, 9: 8, 10: 12, 11: 16,
                   12: 2, 13: 4, 14: 6, 15: 8}  # fmt: skip


@register_native
class Image(RefCounted):  # Godot: Image -> Resource -> RefCounted
    @staticmethod
    def get_type() -> str:
        return "Image"

    @classmethod
    def _standin_engine_init(cls, engine: Any) -> None:
        engine.image_size = (0, 0)
        engine.image_format = Format.FORMAT_L8
        engine.image_data = _Buffer(np.zeros(0, np.uint8))

        def release() -> None:
            engine.image_data.release()

        engine.standin_release = release

    @staticmethod
    def create_from_data(
        width: int, height: int, use_mipmaps: bool, format: int, data: PackedByteArray
    ) -> Image:
        image = Image.new()
        image.init_ref()  # the factory's Ref takes the initial count; the caller gets it
        image.set_data(width, height, use_mipmaps, format, data)
        return image

    @native_method
    def set_data(
        self, width: int, height: int, use_mipmaps: bool, format: int, data: PackedByteArray
    ) -> None:
        assert isinstance(width, int | float), "width must be int or float"
        assert isinstance(height, int | float), "height must be int or float"
        assert isinstance(use_mipmaps, bool), "use_mipmaps must be bool"
        assert isinstance(format, int | float), "format must be int or float"
        assert isinstance(data, PackedByteArray), "data must be PackedByteArray"
        engine = self._engine("set_data")
        if use_mipmaps or int(format) not in BYTES_PER_PIXEL:
            standin_engine_error("stand-in Image: mipmaps and compressed formats are not modelled")
            return
        expected = int(width) * int(height) * BYTES_PER_PIXEL[int(format)]
        if data.size() != expected:
            standin_engine_error(
                f"Expected Image data size of {width}x{height} ({expected} bytes), got "
                f"{data.size()} bytes instead."
            )
            return
        old = engine.image_data
        engine.image_data = data._buffer.share()
        old.release()
        engine.image_size = (int(width), int(height))
        engine.image_format = int(format)

    @native_method
    def get_data(self) -> PackedByteArray:
        return PackedByteArray._wrap(self._engine("get_data").image_data.share())

    @native_method
    def get_width(self) -> int:
        return self._engine("get_width").image_size[0]

    @native_method
    def get_height(self) -> int:
        return self._engine("get_height").image_size[1]

    @native_method
    def get_format(self) -> int:
        return self._engine("get_format").image_format

    @native_method
    def is_empty(self) -> bool:
        width, height = self._engine("is_empty").image_size
        return width == 0 or height == 0

    @native_method
    def has_mipmaps(self) -> bool:
        return False

    def standin_pixels(self) -> Any:
        """Stand-in only: the pixels as a (h, w, bytes_per_pixel) numpy copy."""
        engine = self._engine("standin_pixels")
        width, height = engine.image_size
        channels = BYTES_PER_PIXEL[engine.image_format]
        return engine.image_data.data.reshape(height, width, channels).copy()
