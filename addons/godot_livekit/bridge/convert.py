"""Conversions between Godot (py4godot) values and the core's Python values.

Media never loops per element in Python:
- PackedByteArray -> bytes: ``get_memory_view()`` (zero-copy view) then one ``bytes`` copy.
- bytes -> PackedByteArray: ``PackedByteArray.from_memory_view`` (one memcpy). The buffer is
  always handed over with itemsize 1: py4godot copies ``len / itemsize`` *bytes*.
- PackedFloat32Array -> numpy float32: a view of ``get_memory_view()``, no copy.
- Image -> numpy (h, w, 4|3): a view of ``get_data().get_memory_view()``, no Python copy.
- RGBA numpy frame -> ImageTexture: one memcpy into a PackedByteArray, ``Image.set_data``
  keeps that buffer (no copy), ``ImageTexture.update`` uploads it.
- numpy (n, 2) float32 audio -> PackedVector2Array: one memcpy into a PackedByteArray, then
  Godot's ``PackedByteArray.to_vector2_array()`` (one C++ copy). py4godot has no memory-view
  helper for PackedVector2Array, and its ``from_list`` is a push_back loop.
Godot's packed arrays are copy-on-write: ``get_memory_view()`` goes through the writable
accessor, so when GDScript still holds the same array (or the Image shares it), Godot copies it
once in C++ first.

Control values (option dictionaries, attributes, stats, identity lists) are small and are
converted element by element: Dictionary/Array/PackedStringArray have no bulk accessor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from py4godot.classes.core import (
    Array,
    Dictionary,
    PackedByteArray,
    PackedStringArray,
    String,
    StringName,
)
from py4godot.classes.Image import Format, Image
from py4godot.classes.ImageTexture import ImageTexture

from .objects import Registry, Wrapper, core_of

# ------------------------------------------------------------------------ generic values


def to_godot(value: Any, registry: Registry) -> Any:
    """A core value as a Variant py4godot can pass to Godot (core objects -> their one Godot
    object, bytes -> PackedByteArray, dict -> Dictionary, list -> Array)."""
    if isinstance(value, np.generic):
        value = value.item()
    # py4godot converts by the exact type *name*: hand over plain bool/int/float/str
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes_to_packed(value)
    if isinstance(value, Mapping):
        result = Dictionary.new0()
        for key, item in value.items():
            result[to_godot(key, registry)] = to_godot(item, registry)
        return result
    if isinstance(value, list | tuple):
        array = Array.new0()
        for item in value:
            array.append(to_godot(item, registry))
        return array
    if type(value).__module__.startswith("godot_livekit.") and type(value).__name__.startswith(
        "LiveKit"
    ):
        return registry.wrapper_for(value)
    raise TypeError(f"cannot pass a {type(value).__name__} to Godot")


def to_python(value: Any) -> Any:
    """A Variant from GDScript as a core value (Dictionary -> dict, Array -> list,
    PackedStringArray -> list[str], PackedByteArray -> bytes, LiveKit object -> its core)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, String | StringName):
        return str(value)
    if isinstance(value, Dictionary):
        keys = value.keys()
        return {to_python(keys[i]): to_python(value[keys[i]]) for i in range(len(keys))}
    if isinstance(value, Array):
        return [to_python(value[i]) for i in range(len(value))]
    if isinstance(value, PackedStringArray):
        return strings(value)
    if isinstance(value, PackedByteArray):
        return packed_to_bytes(value)
    if isinstance(value, Wrapper) or hasattr(value, "get_pyscript"):
        return core_of(value, "value")
    return value


def strings(values: Any) -> list[str]:
    """PackedStringArray (or Array of Strings) -> list[str]; ``[i]`` yields a String wrapper."""
    if values is None:
        return []
    if isinstance(values, str | String | StringName):
        raise TypeError("expected a PackedStringArray, got a single String")
    return [str(values[i]) for i in range(len(values))]


def text(value: Any) -> Any:
    """A String/StringName argument as str (anything else unchanged, for the core to check)."""
    return str(value) if isinstance(value, String | StringName) else value


def dictionary(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Dictionary | Mapping):
        raise TypeError(f"{what} must be a Dictionary, got {type(value).__name__}")
    return to_python(value) if isinstance(value, Dictionary) else dict(value)


# ------------------------------------------------------------------------ bytes


def packed_to_bytes(data: Any) -> bytes:
    if not isinstance(data, PackedByteArray):
        raise TypeError(f"expected a PackedByteArray, got {type(data).__name__}")
    if data.size() == 0:  # get_memory_view() on an empty array trips Godot's bounds check
        return b""
    return bytes(data.get_memory_view())


def bytes_to_packed(data: bytes | bytearray | memoryview) -> PackedByteArray:
    view = memoryview(data).cast("B")
    if view.nbytes == 0:
        return PackedByteArray.new0()
    return PackedByteArray.from_memory_view(view)


# ------------------------------------------------------------------------ audio


def float32_view(data: Any) -> np.ndarray:
    """PackedFloat32Array -> 1-D float32 numpy view of its storage (no copy). Valid while
    ``data`` lives: use it before returning to Godot."""
    if data.__class__.__name__ != "PackedFloat32Array":
        raise TypeError(f"data must be a PackedFloat32Array, got {type(data).__name__}")
    if data.size() == 0:
        return np.zeros(0, np.float32)
    return np.frombuffer(data.get_memory_view(), dtype=np.float32)


class PlaybackAdapter:
    """Godot's AudioStreamGeneratorPlayback as the core's ``Playback`` (numpy frames in)."""

    __slots__ = ("playback",)

    def __init__(self, playback: Any) -> None:
        if playback is None or not hasattr(playback, "push_buffer"):
            raise TypeError(
                f"playback must be an AudioStreamGeneratorPlayback, got {type(playback).__name__}"
            )
        self.playback = playback

    def get_frames_available(self) -> int:
        return int(self.playback.get_frames_available())

    def push_buffer(self, frames: np.ndarray) -> None:
        # (n, 2) float32 -> bytes -> PackedVector2Array: Vector2 is two float32 (real_t) in
        # standard Godot builds; a double-precision build would need float64 here.
        flat = np.ascontiguousarray(frames, dtype=np.float32).reshape(-1).view(np.uint8)
        if flat.size == 0:
            return
        self.playback.push_buffer(PackedByteArray.from_memory_view(flat).to_vector2_array())


# ------------------------------------------------------------------------ images

_CHANNELS = {Format.FORMAT_RGBA8: 4, Format.FORMAT_RGB8: 3}


def image_pixels(image: Any) -> tuple[np.ndarray, PackedByteArray]:
    """An RGBA8/RGB8 Image as a (h, w, 4|3) uint8 view of its data, plus the PackedByteArray
    that owns the memory (keep it referenced while the view is used)."""
    if image is None or not hasattr(image, "get_data"):
        raise TypeError(f"image must be an Image, got {type(image).__name__}")
    channels = _CHANNELS.get(int(image.get_format()))
    if channels is None:
        raise ValueError(
            "image must be FORMAT_RGBA8 or FORMAT_RGB8 without mipmaps "
            "(use image.convert(Image.FORMAT_RGBA8))"
        )
    width, height = int(image.get_width()), int(image.get_height())
    if width == 0 or height == 0:
        raise ValueError("image is empty")
    data = image.get_data()
    view = np.frombuffer(data.get_memory_view(), np.uint8, count=width * height * channels)
    return view.reshape(height, width, channels), data


def image_from_frame(frame: np.ndarray) -> Image:
    """A new RGBA8 Image holding a (h, w, 4) uint8 frame (one memcpy)."""
    height, width = frame.shape[:2]
    data = _frame_bytes(frame)
    return Image.create_from_data(width, height, False, Format.FORMAT_RGBA8, data)


def _frame_bytes(frame: np.ndarray) -> PackedByteArray:
    flat = np.ascontiguousarray(frame, dtype=np.uint8).reshape(-1)
    return PackedByteArray.from_memory_view(flat)


class FrameTexture:
    """The newest RGBA frame as one Image and one ImageTexture, both reused: the Image gets
    ``set_data`` (it keeps the new buffer, no copy) and the texture ``update`` (``set_image``
    only when the size changed), so a TextureRect holding the texture shows every frame."""

    __slots__ = ("image", "size", "texture")

    def __init__(self) -> None:
        self.image: Image | None = None
        self.texture: ImageTexture | None = None
        self.size = (0, 0)

    def show(self, frame: np.ndarray) -> None:
        height, width = frame.shape[:2]
        data = _frame_bytes(frame)
        if self.image is None:
            self.image = Image.create_from_data(width, height, False, Format.FORMAT_RGBA8, data)
        else:
            self.image.set_data(width, height, False, Format.FORMAT_RGBA8, data)
        if self.texture is None:
            self.texture = ImageTexture.create_from_image(self.image)
        elif self.size == (width, height):
            self.texture.update(self.image)
        else:
            self.texture.set_image(self.image)
        self.size = (width, height)
