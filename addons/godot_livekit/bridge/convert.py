"""Conversions between Godot (py4godot) values and the core's Python values.

What py4godot 4.7-alpha21 gives us to work with (tests/py4godot_standin/FACTS.md):
- ``Array[i]`` and iterating an Array yield None; ``Array.get(i)`` and ``size()`` work.
  ``Dictionary[k]`` raises KeyError for a missing key and a Dictionary cannot be iterated;
  ``keys()`` (an Array) and ``get(k)`` work. So containers are read with get/size/keys only.
- An Object read out of a Variant (``Array.get``, ``Dictionary.get``) is a wrapper whose
  ``__del__`` releases a reference it never took (and deletes a count-1 object): it gets a
  ``reference()`` of its own first (:func:`_owned`).
- ``from_memory_view`` never releases the buffer it acquires (the source stays alive forever),
  so it is never used. Bytes go into a PackedByteArray through ``resize`` and one memcpy into
  its ``get_memory_view()``, which acquires nothing; media buffers are resized once and reused.
- ``get_memory_view()`` goes through Godot's writable accessor: on an array another holder
  shares (GDScript's, an Image's) Godot copies it once in C++ first; on an empty array it is an
  engine error. The view owns nothing: it is used at once and never kept.

Media never loops per element in Python:
- PackedByteArray -> bytes: one ``bytes`` copy of the memory view.
- PackedFloat32Array -> numpy float32: a view of its memory, no copy.
- Image -> numpy (h, w, 4|3): a view of ``get_data().get_memory_view()``.
- RGBA frame -> ImageTexture (:class:`FrameTexture`): one memcpy into one of two reused
  PackedByteArrays, ``Image.set_data`` (keeps that buffer, no copy), ``ImageTexture.update``.
  Alternating the two arrays means the one written to is never shared with the Image, so
  Godot's copy-on-write never copies.
- numpy (n, 2) float32 audio -> PackedVector2Array: one memcpy into a reused PackedByteArray,
  then Godot's ``to_vector2_array()`` (one C++ copy); py4godot has no memory-view helper for
  PackedVector2Array and its ``from_list`` is a push_back loop.
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
from py4godot.classes.RefCounted import RefCounted

from .objects import Registry, Wrapper, core_of, godot_scalar, script_instance

# ------------------------------------------------------------------------ generic values


NO_OBJECT = 0
"""What GDScript gets where the reference has null. py4godot 4.7-alpha21 cannot hand Godot a
null: it turns a Python None into an int (py4godot/cppcore/Variant.cpp ``construct_Nil``: 0
when it converts a script method's return value, a property or ``Dictionary[key] = value``;
``construct_Nil_native_ptr``: a 32-bit 0 read as an int64, upper half undefined, for signal
arguments, ``Array.push_back`` and other Variant parameters). The addon therefore never
hands py4godot a None where it converts through the second path: it passes this 0, the
value the first path gives, so GDScript always sees the same thing (falsy; README)."""


def to_godot(value: Any, registry: Registry) -> Any:
    """A core value as a Variant py4godot can pass to Godot (core objects -> their one Godot
    object, bytes -> PackedByteArray, dict -> Dictionary, list -> Array, None ->
    :data:`NO_OBJECT`)."""
    if value is None:
        return NO_OBJECT
    value = godot_scalar(value)
    # py4godot converts by the exact type *name*: hand over plain bool/int/float/str
    if isinstance(value, bool):
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
            array.push_back(to_godot(item, registry))
        return array
    if type(value).__module__.startswith("godot_livekit.") and type(value).__name__.startswith(
        "LiveKit"
    ):
        return registry.wrapper_for(value)
    raise TypeError(f"cannot pass a {type(value).__name__} to Godot")


def _owned(value: Any) -> Any:
    """An Object read out of a Variant, made safe to drop (see the module docstring)."""
    if isinstance(value, RefCounted):
        value.reference()
    return value


def to_python(value: Any) -> Any:
    """A Variant from GDScript as a core value (Dictionary -> dict, Array -> list,
    PackedStringArray -> list[str], PackedByteArray -> bytes, LiveKit object -> its core)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, String | StringName):
        return str(value)
    if isinstance(value, Dictionary):
        keys = value.keys()
        result = {}
        for index in range(keys.size()):
            key = _owned(keys.get(index))
            result[to_python(key)] = to_python(_owned(value.get(key)))
        return result
    if isinstance(value, Array):
        return [to_python(_owned(value.get(index))) for index in range(value.size())]
    if isinstance(value, PackedStringArray):
        return strings(value)
    if isinstance(value, PackedByteArray):
        return packed_to_bytes(value)
    if isinstance(script_instance(value), Wrapper):
        return core_of(value, "value")
    return value


def strings(values: Any) -> list[str]:
    """PackedStringArray -> list[str] (``values[i]`` is a String wrapper)."""
    if values is None:
        return []
    if isinstance(values, str | String | StringName):
        raise TypeError("expected a PackedStringArray, got a single String")
    if isinstance(values, Array):
        return [str(item) for item in to_python(values)]
    if not isinstance(values, PackedStringArray):
        raise TypeError(f"expected a PackedStringArray, got {type(values).__name__}")
    return [str(values[index]) for index in range(values.size())]


def text(value: Any) -> Any:
    """A String/StringName argument as str (anything else unchanged, for the core to check)."""
    return str(value) if isinstance(value, String | StringName) else value


def dictionary(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Dictionary):
        raise TypeError(f"{what} must be a Dictionary, got {type(value).__name__}")
    return to_python(value)


# ------------------------------------------------------------------------ bytes


def packed_to_bytes(data: Any) -> bytes:
    if not isinstance(data, PackedByteArray):
        raise TypeError(f"expected a PackedByteArray, got {type(data).__name__}")
    if data.size() == 0:  # get_memory_view() on an empty array trips Godot's bounds check
        return b""
    return bytes(data.get_memory_view())


def copy_into(packed: Any, data: Any) -> None:
    """Resize ``packed`` to ``data``'s byte size (C-contiguous) and copy ``data`` in: one
    memcpy between byte memoryviews, which keeps the GIL. (A numpy copy of more than 500
    elements lets go of it, and under load the main thread then waits up to the interpreter's
    switch interval, 5 ms, to get it back: once per voice and frame.)"""
    source = memoryview(data).cast("B")
    packed.resize(source.nbytes)
    if source.nbytes:
        packed.get_memory_view()[:] = source


class ReusedBytes:
    """One PackedByteArray written again and again (a frame's pixels, a voice's samples):
    ``copy_into`` without the ``resize`` call while the size stays. Only this holder resizes
    the array; whoever else holds it (an Image after ``set_data``, GDScript after a signal)
    shares it copy-on-write, so the next ``get_memory_view`` unshares it for us."""

    __slots__ = ("packed", "size")

    def __init__(self) -> None:
        self.packed = PackedByteArray.new0()
        self.size = 0

    def write(self, data: Any) -> PackedByteArray:
        """Copy ``data`` (C-contiguous) in; returns the array."""
        source = memoryview(data).cast("B")
        if source.nbytes != self.size:
            self.packed.resize(source.nbytes)
            self.size = source.nbytes
        if source.nbytes:
            self.packed.get_memory_view()[:] = source
        return self.packed


def bytes_to_packed(data: bytes | bytearray | memoryview | np.ndarray) -> PackedByteArray:
    """A new PackedByteArray holding a copy of ``data`` (nothing of ``data`` is retained)."""
    packed = PackedByteArray.new0()
    copy_into(packed, data)
    return packed


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
    """Godot's AudioStreamGeneratorPlayback as the core's ``Playback`` (numpy frames in),
    pushing through one reused PackedByteArray."""

    __slots__ = ("_bytes", "instance_id", "playback")

    def __init__(self, playback: Any) -> None:
        if playback is None or not hasattr(playback, "push_buffer"):
            raise TypeError(
                f"playback must be an AudioStreamGeneratorPlayback, got {type(playback).__name__}"
            )
        self.playback = playback
        self.instance_id = int(playback.get_instance_id())
        """Which Godot object this is, known without calling into it (it may be gone)."""
        self._bytes = ReusedBytes()

    def get_frames_available(self) -> int:
        return int(self.playback.get_frames_available())

    def push_buffer(self, frames: np.ndarray) -> None:
        # (n, 2) float32 -> bytes -> PackedVector2Array: Vector2 is two float32 (real_t) in
        # standard Godot builds; a double-precision build would need float64 here.
        flat = np.ascontiguousarray(frames, dtype=np.float32).reshape(-1)
        if flat.size == 0:
            return
        self.playback.push_buffer(self._bytes.write(flat).to_vector2_array())


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
    data = bytes_to_packed(np.ascontiguousarray(frame, dtype=np.uint8))
    return Image.create_from_data(width, height, False, Format.FORMAT_RGBA8, data)


class FrameTexture:
    """The newest RGBA frame as one Image and one ImageTexture, both reused: the pixels go
    into whichever of two PackedByteArrays the Image does not hold, the Image takes it with
    ``set_data`` (no copy) and the texture is ``update``d (``set_image`` only when the size
    changed), so a TextureRect holding the texture shows every frame."""

    __slots__ = ("_buffers", "_next", "image", "size", "texture")

    def __init__(self) -> None:
        self.image: Image | None = None
        self.texture: ImageTexture | None = None
        self.size = (0, 0)
        self._buffers = (ReusedBytes(), ReusedBytes())
        self._next = 0

    def show(self, frame: np.ndarray) -> None:
        height, width = frame.shape[:2]
        data = self._buffers[self._next].write(np.ascontiguousarray(frame, dtype=np.uint8))
        self._next ^= 1
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

    def clear(self) -> None:
        """Let go of the Image, the texture and the pixel buffers."""
        self.image = self.texture = None
        self._buffers = (ReusedBytes(), ReusedBytes())
        self.size = (0, 0)
