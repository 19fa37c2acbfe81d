"""The addon's conversions, object mapping and log routing (addons/godot_livekit/bridge), on the
faithful py4godot stand-in. No server.

Checks that containers are read the way py4godot allows (get/size/keys), that bytes and media
go through reused PackedByteArrays with nothing retained by ``from_memory_view``, that video
frames cause no copy-on-write copies in steady state, that objects read out of containers and
objects made by the room keep correct Godot reference counts, and that core log records reach
Godot's console from the main thread.
"""

from __future__ import annotations

import ctypes
import gc
import inspect
import logging
import threading

import addon_env
import numpy as np
import pytest
from addon_env import gd_dict, gd_dictionary, gd_new, new_object, no_standin_crashes
from gil_probe import runs_beside
from godot_livekit_dev.patterns import quadrant_pattern
from py4godot import _engine, functions
from py4godot.classes import core
from py4godot.classes.AudioStreamGenerator import AudioStreamGenerator
from py4godot.classes.core import (
    Array,
    Dictionary,
    PackedByteArray,
    PackedStringArray,
    String,
)
from py4godot.classes.Image import Format, Image
from py4godot.core.variant4 import cast_helpers

from addons.godot_livekit.bridge import convert, lifecycle, logs, objects

_ = no_standin_crashes


def _pinned() -> int:
    return len(core.pinned_buffers)


# --- containers ------------------------------------------------------------------------------


def test_a_numpy_scalar_result_reaches_godot_as_a_python_number() -> None:
    """py4godot converts a method's result by type name: "float32" would go to
    construct_Object (a crash); the guard hands over a Python float instead."""

    class Probe:
        @objects.guard(0.0)
        def level(self) -> object:
            return np.float32(0.5)

    value = Probe().level()
    assert type(value) is float and value == 0.5
    assert core.to_godot(value, core.NIL_INT) == 0.5
    with pytest.raises(_engine.StandinCrash):
        core.to_godot(np.float32(0.5), core.NIL_INT)
    _engine.crashes.pop()  # the expected one


def test_ints_wider_than_a_windows_c_long_reach_godot_as_exact_floats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Playing Windows (a 32-bit C long): py4godot's PyLong_AsLong would hand Godot -1 and
    leave an OverflowError pending for a millisecond timestamp; the addon sends a float."""
    monkeypatch.setattr(core, "C_LONG_BITS", 32)
    monkeypatch.setattr(objects, "LONG_LIMIT", 1 << 31)
    stamp = 1_764_000_000_123  # ms since the epoch, as in a data stream's info
    crashes = len(_engine.crashes)
    assert core.to_godot(stamp, core.NIL_INT) == -1  # what py4godot would do with an int
    assert len(_engine.crashes) == crashes + 1
    del _engine.crashes[crashes:]
    # and one coming from GDScript: PyLong_FromLong keeps the low 32 bits, signed
    assert core.to_python((1 << 40) + 5) == 5
    assert core.to_python(stamp) == ctypes.c_int32(stamp).value != stamp
    godot = convert.to_godot({"timestamp": stamp, "small": 7}, objects.DETACHED)
    assert type(godot.get("timestamp")) is float and godot.get("timestamp") == stamp
    assert type(godot.get("small")) is int

    class Probe:
        @objects.guard(0)
        def frames(self) -> int:
            return 1 << 33

    assert Probe().frames() == float(1 << 33)
    assert len(_engine.crashes) == crashes


def test_containers_are_read_with_get_size_and_keys() -> None:
    value = {"a": [1, 2.5, True, None, "x"], "b": {"c": b"\x00\x01"}, "n": np.int64(7)}
    godot = convert.to_godot(value, objects.DETACHED)
    assert isinstance(godot, Dictionary) and isinstance(godot.get("a"), Array)
    assert godot.get("a")[0] is None  # what py4godot's Array[i] gives: hence get(i)
    assert isinstance(godot.get("b").get("c"), PackedByteArray)
    assert type(godot.get("n")) is int
    # py4godot has no null to give Godot: None goes as 0 (convert.NO_OBJECT)
    assert convert.to_python(godot) == {**value, "a": [1, 2.5, True, 0, "x"], "n": 7}
    with pytest.raises(TypeError):
        convert.to_godot(object(), objects.DETACHED)


def test_options_dictionary_with_an_object_keeps_its_reference_count() -> None:
    options = new_object("LiveKitE2eeOptions")
    options.set_shared_key(convert.bytes_to_packed(b"sixteen byte key"))
    connect_options = gd_dictionary(e2ee=options, auto_subscribe=False, connect_timeout=2.5)
    count = options.reference_count()
    for _ in range(3):
        as_python = convert.dictionary(connect_options, "options")
        assert as_python == {
            "e2ee": options.script_instance._lk_core,
            "auto_subscribe": False,
            "connect_timeout": 2.5,
        }
    del as_python
    cast_helpers.clear_vals()  # py4godot does this at the next call into Python
    gc.collect()
    assert options.reference_count() == count  # reads neither leak nor steal a reference


def test_strings_and_text() -> None:
    identities = PackedStringArray.from_list(["alice", "bob"])
    assert convert.strings(identities) == ["alice", "bob"]
    assert convert.strings(None) == []
    with pytest.raises(TypeError):
        convert.strings("alice")
    assert convert.text(String("x")) == "x" and convert.text(3) == 3


# --- bytes -------------------------------------------------------------------------------------


def test_bytes_round_trip_retain_nothing() -> None:
    payload = bytes(range(256)) * 3
    pinned = _pinned()
    packed = convert.bytes_to_packed(payload)
    assert packed.size() == len(payload)
    assert convert.packed_to_bytes(packed) == payload
    wide = np.arange(10, dtype=np.uint16)
    assert convert.packed_to_bytes(convert.bytes_to_packed(wide)) == wide.tobytes()
    assert _pinned() == pinned  # from_memory_view would pin every source forever
    engine_errors = len(functions.standin_engine_errors())
    assert convert.packed_to_bytes(PackedByteArray.new0()) == b""
    assert convert.bytes_to_packed(b"").size() == 0
    assert functions.standin_engine_errors()[engine_errors:] == []


# --- audio -------------------------------------------------------------------------------------


def test_float32_view_is_zero_copy() -> None:
    samples = np.linspace(-1, 1, 16, dtype=np.float32)
    packed = convert.bytes_to_packed(samples).to_float32_array()
    view = convert.float32_view(packed)
    assert np.array_equal(view, samples)
    view[0] = 0.25
    assert packed[0] == 0.25


def test_reused_bytes_resizes_only_when_the_size_changes_and_never_touches_a_kept_copy() -> None:
    reused = convert.ReusedBytes()
    resizes: list[int] = []
    resize = reused.packed.resize
    reused.packed.resize = lambda size: resizes.append(size) or resize(size)  # a spy
    assert convert.packed_to_bytes(reused.write(b"")) == b"" and resizes == []
    first = reused.write(b"abcd")
    kept = PackedByteArray.new1(first)  # a holder (GDScript, an Image) shares it
    assert reused.write(np.frombuffer(b"wxyz", np.uint8)) is first
    assert resizes == [4]  # the same size again: no resize call
    assert convert.packed_to_bytes(first) == b"wxyz"
    assert convert.packed_to_bytes(kept) == b"abcd"  # copy-on-write: the holder's bytes stay
    assert convert.packed_to_bytes(reused.write(b"hello")) == b"hello" and resizes == [4, 5]
    assert convert.packed_to_bytes(reused.write(b"")) == b"" and resizes == [4, 5, 0]


def test_playback_adapter_pushes_through_one_reused_buffer() -> None:
    playback = AudioStreamGenerator.new().instantiate_playback()  # 44100 * 0.5 -> 32768 ring
    adapter = convert.PlaybackAdapter(playback)
    assert adapter.get_frames_available() == 32767
    frames = np.stack([np.linspace(0, 1, 480), -np.linspace(0, 1, 480)], axis=1)
    pinned = _pinned()
    adapter.push_buffer(frames.astype(np.float32))
    buffer = adapter._bytes.packed._buffer
    for _ in range(2):
        adapter.push_buffer(frames.astype(np.float32))
        assert adapter._bytes.packed._buffer is buffer  # same size: the same storage, no allocation
    assert _pinned() == pinned
    assert adapter.get_frames_available() == 32767 - 3 * 480
    assert np.array_equal(playback.standin_mix(480), frames.astype(np.float32))
    with pytest.raises(TypeError):
        convert.PlaybackAdapter(None)


def test_copies_into_godot_memory_keep_the_gil() -> None:
    """numpy lets go of the GIL for work on more than 500 elements, and a main thread that did
    so waits, under load, up to the switch interval (5 ms) to get it back from a busy thread:
    once per voice and frame for the playback's pushes. copy_into and ReusedBytes.write are a
    memcpy between byte memoryviews instead: no other thread runs during them (one does during
    a numpy copy)."""
    packed = PackedByteArray.new0()
    data = (np.arange(4 << 20) % 251).astype(np.uint8)  # 4 MB: a copy long enough to be seen
    convert.copy_into(packed, data)  # sized once: later copies of this size only copy
    target = np.empty_like(data)
    assert runs_beside(lambda: np.copyto(target, data), 200, until_seen=True) > 0  # it can see
    assert runs_beside(lambda: convert.copy_into(packed, data), 20) == 0
    assert bytes(packed.get_memory_view()) == data.tobytes()
    reused = convert.ReusedBytes()  # the per-frame path (pixels, samples, payloads)
    reused.write(data)
    assert runs_beside(lambda: reused.write(data), 20) == 0
    assert bytes(reused.packed.get_memory_view()) == data.tobytes()


# --- images ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [Format.FORMAT_RGBA8, Format.FORMAT_RGB8])
def test_image_pixels_view(fmt: int) -> None:
    channels = 4 if fmt == Format.FORMAT_RGBA8 else 3
    pattern = quadrant_pattern(8, 6)[..., :channels].copy()
    image = Image.create_from_data(8, 6, False, fmt, convert.bytes_to_packed(pattern))
    pixels, owner = convert.image_pixels(image)
    assert pixels.shape == (6, 8, channels) and np.array_equal(pixels, pattern)
    assert isinstance(owner, PackedByteArray)


def test_image_pixels_rejects_other_formats() -> None:
    image = Image.create_from_data(
        2, 2, False, Format.FORMAT_L8, convert.bytes_to_packed(b"\0" * 4)
    )
    with pytest.raises(ValueError, match="FORMAT_RGBA8"):
        convert.image_pixels(image)
    with pytest.raises(ValueError, match="empty"):
        empty = PackedByteArray.new0()
        convert.image_pixels(Image.create_from_data(0, 0, False, Format.FORMAT_RGBA8, empty))


def test_frame_texture_reuses_image_texture_and_buffers_without_copies() -> None:
    frames = convert.FrameTexture()
    first = quadrant_pattern(16, 8)
    frames.show(first)
    image, texture = frames.image, frames.texture
    assert (texture.get_width(), texture.get_height()) == (16, 8)
    pinned, cow_copies = _pinned(), core.standin_cow_copies
    for step in range(6):
        frame = first[::-1].copy() if step % 2 else first
        frames.show(frame)
        assert np.array_equal(texture.get_image().standin_pixels(), frame)
    assert frames.image is image and frames.texture is texture
    assert texture.standin_creates == 1 and texture.standin_updates == 6
    assert core.standin_cow_copies == cow_copies  # the buffer written is never the Image's
    assert _pinned() == pinned
    frames.show(quadrant_pattern(4, 4))  # a new size: set_image on the same texture
    assert frames.texture is texture and texture.standin_creates == 2
    assert (texture.get_width(), texture.get_height()) == (4, 4)
    frames.clear()
    assert frames.image is None and frames.texture is None


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


def test_room_made_objects_survive_signals_and_are_one_object_each() -> None:
    """A room-made Godot object holds one reference of the addon's: a Variant taking it (a
    signal argument) and letting go must not delete it (the pending-initial-count trap)."""
    handle = new_object("LiveKitRoom")
    handle.get_connection_state()  # the first call makes the core room and its registry
    registry = handle.script_instance._lk_registry
    from godot_livekit import LiveKitRemoteParticipant

    remote = LiveKitRemoteParticipant()
    first = registry.wrapper_for(remote)
    assert registry.wrapper_for(remote) is first and first._lk_core is remote
    assert type(first).__name__ == "LiveKitRemoteParticipant"
    assert first.get_reference_count() == 1 and first._lk_held
    with _engine.held([core.to_godot(first)]):  # a signal argument, say
        pass
    assert first.get_reference_count() == 1  # still alive, still only ours
    instance_id = first.get_instance_id()
    registry.release(remote)  # the participant left; GDScript holds nothing: freed now
    assert addon_env.is_freed(instance_id) and first._lk_core is None
    assert registry.wrapper_for(remote) is not first


def test_core_of_reaches_the_addon_object_through_the_engine_object() -> None:
    source = new_object("LiveKitAudioSource")
    source.create(48000, 1, 100)
    from py4godot.classes.RefCounted import RefCounted

    native = RefCounted.cast_without_reference(source.script_instance)  # what py4godot passes
    native.casted_from = 1
    assert objects.core_of(native, "source") is source.script_instance._lk_core
    with pytest.raises(TypeError, match="source must be a LiveKit object"):
        objects.core_of(gd_new("Image").script_instance, "source")


def test_frame_cryptor_identity_uses_public_getters() -> None:
    class Cryptor:
        def get_participant_identity(self) -> str:
            return "alice"

        def get_track_sid(self) -> str:
            return "TR_1"

    Cryptor.__name__ = "LiveKitFrameCryptor"
    assert objects._identity_key(Cryptor()) == ("LiveKitFrameCryptor", "alice", "TR_1")


# --- logs --------------------------------------------------------------------------------------


def test_core_log_records_reach_godot_from_the_main_thread_errors_as_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logs.install()
    logs.drain()
    core_logger = logging.getLogger("godot_livekit.room")
    sdk_logger = logging.getLogger("livekit")
    for logger in (core_logger, sdk_logger, logging.getLogger("godot_livekit")):
        monkeypatch.setattr(logger, "level", logging.NOTSET)  # other tests may have set one
        monkeypatch.setattr(logger, "disabled", False)
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
    worker = threading.Thread(
        target=lambda: (
            core_logger.error("connect failed with %s", token),
            sdk_logger.warning("ice restart"),
            core_logger.info("too chatty for the console"),
        )
    )
    errors, warnings = len(functions.standin_errors()), len(functions.standin_warnings())
    worker.start()
    worker.join()
    assert functions.standin_errors()[errors:] == []  # nothing reaches Godot off the main thread
    assert logs.drain() == 2
    (error,) = functions.standin_errors()[errors:]
    (warning,) = functions.standin_warnings()[warnings:]
    assert "connect failed" in error and token not in error
    assert warning.endswith("livekit: ice restart")
    assert lifecycle.held_count() >= 0
    assert gd_dict(gd_dictionary(a=1)) == {"a": 1}


def test_harmless_sdk_lines_stay_out_of_godots_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the SDK logs at ERROR/WARNING after a normal disconnect (a publish negotiation
    cut short, a handle dropped twice) or while a newest-frame video stream drops an older
    frame is not an error for the game: DEBUG, not push_error/push_warning."""
    import godot_livekit  # noqa: F401 (installs the record factory)

    logs.install()
    logs.drain()
    sdk_logger = logging.getLogger("livekit")
    monkeypatch.setattr(sdk_logger, "level", logging.NOTSET)
    monkeypatch.setattr(sdk_logger, "disabled", False)
    errors, warnings = len(functions.standin_errors()), len(functions.standin_warnings())
    sdk_logger.error(
        "livekit::rtc_engine::rtc_session:2587 - failed to negotiate the publisher: "
        'Rtc(RtcError { error_type: InvalidState, message: "Failed to set local offer sdp: '
        'Called in wrong state: closed" })'
    )
    sdk_logger.warning(
        "livekit_ffi::room_apis::server:279 - Attempted to drop unknown FFI handle: 7"
    )
    sdk_logger.warning(
        "libwebrtc::imp::video_stream:295 - native video stream queue overflow; dropped 1 "
        "queued frames"
    )
    sdk_logger.error("failed to negotiate the publisher: timeout")  # not the harmless one
    assert logs.drain() == 1
    (error,) = functions.standin_errors()[errors:]
    assert error.endswith("failed to negotiate the publisher: timeout")
    assert functions.standin_warnings()[warnings:] == []


def test_a_core_signal_the_godot_class_does_not_declare_is_not_forwarded() -> None:
    """The core grows signals before the addon declares them (e.g. active speakers): binding
    must not break emission of the others."""
    from godot_livekit.signals import signal

    class GrownCore:
        connected = signal()
        grown_later = signal("things")

        def get_local_participant(self) -> None:
            return None

    room = new_object("LiveKitRoom")
    room.get_connection_state()
    wrapper = room.script_instance
    core = GrownCore()
    wrapper._lk_bind(core)
    seen: list[int] = []
    room.connect("connected", lambda: seen.append(1))
    logs.install()
    logs.drain()
    errors = len(functions.standin_errors())
    core.grown_later.emit([1, 2])
    core.connected.emit()
    logs.drain()
    assert seen == [1] and functions.standin_errors()[errors:] == []
