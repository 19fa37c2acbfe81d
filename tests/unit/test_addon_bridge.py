"""The addon's conversions and object mapping (addons/godot_livekit/bridge), on the stand-in.

Checks the copy behaviour each conversion relies on (views where there should be no copy,
exactly one memcpy where there is one), the py4godot quirks they avoid, the one-Godot-object-
per-core-object mapping, and the guard that turns exceptions into Godot errors. No server.
"""

from __future__ import annotations

import inspect

import addon_env  # noqa: F401 - sets up sys.path before py4godot/addons imports
import numpy as np
import pytest
from addon_env import new_object
from godot_livekit_dev.patterns import quadrant_pattern
from py4godot import functions
from py4godot.classes.AudioStreamGenerator import AudioStreamGenerator
from py4godot.classes.core import (
    Array,
    Dictionary,
    PackedByteArray,
    PackedFloat32Array,
    PackedStringArray,
    String,
)
from py4godot.classes.Image import Format, Image

from addons.godot_livekit.bridge import convert, objects

# --- what the stand-in mirrors (the reasons for the bridge's choices) -----------------------


def test_standin_mirrors_from_memory_view_copying_element_count_bytes() -> None:
    samples = np.arange(1, 9, dtype=np.float32)
    packed = PackedFloat32Array.from_memory_view(memoryview(samples))
    assert packed.size() == 8
    copied = np.frombuffer(packed.get_memory_view(), np.float32)
    assert copied[0] == 1.0 and copied[1] == 2.0  # 8 bytes = the first two floats
    assert not np.array_equal(copied, samples)
    # the bridge's way: bytes in with itemsize 1, then Godot's own conversion
    via_bytes = PackedByteArray.from_memory_view(samples.view(np.uint8)).to_float32_array()
    assert np.array_equal(np.frombuffer(via_bytes.get_memory_view(), np.float32), samples)


def test_standin_packed_arrays_are_copy_on_write() -> None:
    image = Image.create_from_data(
        2, 1, False, Format.FORMAT_RGBA8, PackedByteArray.from_list(range(8))
    )
    data = image.get_data()
    view = np.frombuffer(data.get_memory_view(), np.uint8)
    view[0] = 200
    assert image.get_data().to_list()[0] == 0  # writing un-shared the buffer first


# --- bytes ---------------------------------------------------------------------------------


def test_bytes_round_trip_and_empty() -> None:
    payload = bytes(range(256)) * 3
    packed = convert.bytes_to_packed(payload)
    assert packed.size() == len(payload)
    assert convert.packed_to_bytes(packed) == payload
    engine_errors = len(functions.standin_engine_errors())
    assert convert.packed_to_bytes(PackedByteArray.new0()) == b""
    assert convert.bytes_to_packed(b"").size() == 0
    assert functions.standin_engine_errors()[engine_errors:] == []


def test_bytes_from_a_wide_buffer_are_all_copied() -> None:
    wide = np.arange(10, dtype=np.uint16)
    assert convert.packed_to_bytes(convert.bytes_to_packed(memoryview(wide))) == wide.tobytes()


# --- audio ---------------------------------------------------------------------------------


def test_float32_view_is_zero_copy() -> None:
    samples = np.linspace(-1, 1, 16, dtype=np.float32)
    packed = PackedByteArray.from_memory_view(samples.view(np.uint8)).to_float32_array()
    view = convert.float32_view(packed)
    assert np.array_equal(view, samples)
    view[0] = 0.25
    assert packed[0] == 0.25


def test_playback_adapter_pushes_stereo_frames_in_bulk() -> None:
    playback = AudioStreamGenerator.new().instantiate_playback()  # 44100 * 0.5 -> 32768 ring
    adapter = convert.PlaybackAdapter(playback)
    assert adapter.get_frames_available() == 32767
    frames = np.stack([np.linspace(0, 1, 480), -np.linspace(0, 1, 480)], axis=1)
    adapter.push_buffer(frames.astype(np.float32))
    assert adapter.get_frames_available() == 32767 - 480
    assert np.array_equal(playback.standin_mix(1000), frames.astype(np.float32))
    with pytest.raises(TypeError):
        convert.PlaybackAdapter(None)


# --- images --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [Format.FORMAT_RGBA8, Format.FORMAT_RGB8])
def test_image_pixels_view(fmt: int) -> None:
    channels = 4 if fmt == Format.FORMAT_RGBA8 else 3
    pattern = quadrant_pattern(8, 6)[..., :channels].copy()
    image = Image.create_from_data(8, 6, False, fmt, PackedByteArray.from_memory_view(pattern))
    pixels, owner = convert.image_pixels(image)
    assert pixels.shape == (6, 8, channels) and np.array_equal(pixels, pattern)
    assert isinstance(owner, PackedByteArray)


def test_image_pixels_rejects_other_formats() -> None:
    image = Image.create_from_data(
        2, 2, False, Format.FORMAT_L8, PackedByteArray.from_list([0] * 4)
    )
    with pytest.raises(ValueError, match="FORMAT_RGBA8"):
        convert.image_pixels(image)
    with pytest.raises(ValueError, match="empty"):
        empty = PackedByteArray.new0()
        convert.image_pixels(Image.create_from_data(0, 0, False, Format.FORMAT_RGBA8, empty))


def test_frame_texture_reuses_image_and_texture() -> None:
    frames = convert.FrameTexture()
    first = quadrant_pattern(16, 8)
    frames.show(first)
    image, texture = frames.image, frames.texture
    assert (texture.get_width(), texture.get_height()) == (16, 8)
    frames.show(first[::-1].copy())
    assert frames.image is image and frames.texture is texture
    assert (texture.standin_creates, texture.standin_updates) == (1, 1)
    assert np.array_equal(texture.get_image().standin_pixels(), first[::-1])
    frames.show(quadrant_pattern(4, 4))  # a new size: set_image on the same texture
    assert frames.texture is texture and texture.standin_creates == 2
    assert (texture.get_width(), texture.get_height()) == (4, 4)


# --- values ---------------------------------------------------------------------------------


def test_to_godot_and_back() -> None:
    value = {"a": [1, 2.5, True, None, "x"], "b": {"c": b"\x00\x01"}, "n": np.int64(7)}
    godot = convert.to_godot(value, objects.DETACHED)
    assert isinstance(godot, Dictionary) and isinstance(godot["a"], Array)
    assert isinstance(godot["b"]["c"], PackedByteArray)
    assert type(godot["n"]) is int
    assert convert.to_python(godot) == {**value, "n": 7}
    with pytest.raises(TypeError):
        convert.to_godot(object(), objects.DETACHED)


def test_strings_and_text() -> None:
    identities = PackedStringArray.from_list(["alice", "bob"])
    assert convert.strings(identities) == ["alice", "bob"]
    assert convert.strings(None) == []
    with pytest.raises(TypeError):
        convert.strings("alice")
    assert convert.text(String("x")) == "x" and convert.text(3) == 3


# --- objects and errors -------------------------------------------------------------------------


def test_guard_reports_redacted_and_keeps_the_signature() -> None:
    class Thing:
        @objects.guard(Dictionary.new0)
        def method(self, url: str, token: str, options: object = None) -> Dictionary:
            raise ValueError(f"bad token {token}")

    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
    before = len(functions.standin_errors())
    result = Thing().method("ws://x", jwt)
    assert isinstance(result, Dictionary) and result.size() == 0
    (error,) = functions.standin_errors()[before:]
    assert error.startswith("Thing.method: bad token") and jwt not in error
    assert inspect.getfullargspec(Thing.method).args == ["self", "url", "token", "options"]


def test_registry_one_godot_object_per_core_object_until_released() -> None:
    room = new_object("LiveKitRoom").script_instance
    registry = room._lk_registry
    from godot_livekit import LiveKitRemoteParticipant

    remote = LiveKitRemoteParticipant()
    first = registry.wrapper_for(remote)
    assert registry.wrapper_for(remote) is first and first._lk_core is remote
    assert type(first).__name__ == "LiveKitRemoteParticipant"
    registry.release(remote)
    assert registry.wrapper_for(remote) is not first


def test_core_of_reaches_the_addon_object_through_the_engine_object() -> None:
    source = new_object("LiveKitAudioSource")
    source.create(48000, 1, 100)
    engine_object = source.engine_object  # what py4godot hands Python: the native wrapper
    assert objects.core_of(engine_object, "source") is source.script_instance._lk_core
    with pytest.raises(TypeError, match="source must be a LiveKit object"):
        objects.core_of(Image.new(), "source")


def test_e2ee_options_reach_the_core_through_the_options_dictionary() -> None:
    options = new_object("LiveKitE2eeOptions")
    options.set_shared_key(PackedByteArray.from_memory_view(b"sixteen byte key"))
    assert convert.packed_to_bytes(options.get_shared_key()) == b"sixteen byte key"
    connect_options = Dictionary.new0()
    connect_options["e2ee"] = options.engine_object
    connect_options["auto_subscribe"] = False
    as_python = convert.dictionary(connect_options, "options")
    assert as_python == {
        "e2ee": options.script_instance._lk_core,
        "auto_subscribe": False,
    }
