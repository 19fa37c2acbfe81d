"""The voice nodes on the py4godot stand-in (no server): the microphone node's bus, capture and
settings, the spatial voice node's player and lifetime, and the speaking members of the room
and participant classes.

The stand-in plays Godot's part: the scene tree (``standin_enter_tree`` / ``standin_exit_tree``
/ ``standin_free``), the AudioServer's buses and mixer (``standin_record`` feeds the
microphone), py4godot's reference counting. What a real py4godot process would crash on fails
the test (addon_env.no_standin_crashes).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import addon_env
import numpy as np
import pytest
from addon_env import gd_list, gd_null, gd_var, is_freed, new_object, no_standin_crashes
from py4godot import functions
from py4godot.classes import core
from py4godot.classes.AudioEffectCapture import AudioEffectCapture
from py4godot.classes.AudioServer import AudioServer
from py4godot.classes.core import Array, PackedByteArray

from addons.godot_livekit.bridge.voice import CaptureAdapter, NodeWatch
from godot_livekit import poller

_ = no_standin_crashes
RATE = 48000


@pytest.fixture
def server() -> Iterator[AudioServer]:
    audio = AudioServer.instance()
    audio.standin_reset()
    audio.standin_set_mix_rate(RATE, output_latency=0.042)
    yield audio
    audio.standin_reset()


@pytest.fixture
def pump() -> Any:
    """One LiveKitPoller frame."""
    handle = new_object("LiveKitPoller")
    handle._ready()
    return lambda: handle._process(1 / 60)


def tone(frames: int, amplitude: float = 0.5, frequency: float = 440.0, start: int = 0):
    t = (np.arange(frames) + start) / RATE
    mono = (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    return np.repeat(mono[:, None], 2, axis=1)


def bus_names(server: AudioServer) -> list[str]:
    return [server.get_bus_name(index) for index in range(server.get_bus_count())]


# --- reading Godot's capture ---------------------------------------------------------------------


def test_the_capture_reaches_the_core_sample_for_sample_through_one_reused_array() -> None:
    capture = AudioEffectCapture.new()
    capture.init_ref()
    capture.standin_instantiate(RATE)
    adapter = CaptureAdapter(capture)
    pinned = len(core.pinned_buffers)
    heard = tone(700, start=0)
    capture.standin_process(heard)
    assert adapter.get_frames_available() == 700
    first = adapter.get_buffer(700)
    assert first.dtype == np.float32 and first.shape == (700, 2)
    assert np.array_equal(first, heard)
    capture.standin_process(tone(300, start=700))
    second = adapter.get_buffer(300)
    assert np.array_equal(second, tone(300, start=700))
    assert np.shares_memory(first, second)  # one array, reused: no allocation per frame
    assert len(adapter.get_buffer(10)) == 0  # nothing waiting: empty, no engine error
    assert len(core.pinned_buffers) == pinned  # from_memory_view never used


def test_a_double_precision_capture_reaches_the_core_as_float32() -> None:
    """In a double-precision Godot build Vector2 is two float64: the capture's bytes are 16
    per frame, converted (the same samples, float32) into the same reused array."""
    heard = tone(500, start=0)

    class DoubleBuildFrames:  # what get_buffer returns there: PackedVector2Array of float64
        def size(self) -> int:
            return len(heard)

        def to_byte_array(self) -> PackedByteArray:
            data = PackedByteArray.new0()
            data.resize(heard.size * 8)
            data.get_memory_view()[:] = memoryview(heard.astype(np.float64)).cast("B")
            return data

    class DoubleBuildCapture:
        def get_frames_available(self) -> int:
            return len(heard)

        def get_buffer(self, frames: int) -> DoubleBuildFrames:
            assert frames == len(heard)
            return DoubleBuildFrames()

    adapter = CaptureAdapter(DoubleBuildCapture())
    got = adapter.get_buffer(len(heard))
    assert got.dtype == np.float32 and got.shape == (500, 2)
    assert np.array_equal(got, heard)
    assert np.shares_memory(got, adapter.get_buffer(len(heard)))


# --- the microphone node -------------------------------------------------------------------------


def test_the_microphone_node_records_on_a_muted_bus_of_its_own(server: AudioServer, pump) -> None:
    microphone = new_object("LiveKitMicrophone")
    for stage in ("echo_cancellation", "noise_suppression", "auto_gain_control"):
        microphone.set(stage, False)  # unprocessed, the level is the tone's own
    microphone.set_high_pass_filter(False)
    assert not microphone.is_recording() and bus_names(server) == ["Master"]
    node = microphone.script_instance
    node.standin_enter_tree()
    assert microphone.is_recording() and microphone.get_bus_name() == "LiveKitMicrophone"
    index = server.get_bus_index("LiveKitMicrophone")
    assert server.is_bus_mute(index) and server.get_bus_effect_count(index) == 1
    assert microphone.is_playing() and microphone.get_bus() == "LiveKitMicrophone"
    sent_on = []
    for block in range(0, RATE, 480):  # one second, as Godot's audio thread and frames would
        sent_on.append(server.standin_record(tone(480, start=block)))
        pump()
    assert not np.concatenate(sent_on).any()  # nobody hears their own microphone
    core_microphone = node._lk_core
    assert microphone.get_frames_captured() == RATE
    deadline = time.monotonic() + 5.0
    while microphone.get_frames_sent() < RATE and time.monotonic() < deadline:
        time.sleep(0.01)  # the runtime thread processes what the poll handed it
    assert microphone.get_frames_sent() == RATE
    assert abs(microphone.get_level_db() - 20 * np.log10(0.5)) < 0.1  # the tone's peak
    assert core_microphone.get_mix_rate() == RATE
    assert microphone.get_output_latency() == pytest.approx(0.042)  # AudioServer's, for the AEC
    assert core_microphone in poller.registered()

    other = new_object("LiveKitMicrophone")  # a second microphone gets a bus of its own
    other.script_instance.standin_enter_tree()
    assert other.get_bus_name() == "LiveKitMicrophone 2"
    other.script_instance.standin_free()

    node.standin_exit_tree()  # leaving the tree ends everything it started
    assert not microphone.is_recording() and not microphone.is_playing()
    assert bus_names(server) == ["Master"]
    assert core_microphone.is_closed() and core_microphone not in poller.registered()
    assert microphone.get_frames_captured() == 0 and gd_null(microphone.get_publication())
    node.standin_enter_tree()  # and coming back records again
    assert microphone.is_recording()
    node.standin_free()
    assert bus_names(server) == ["Master"]


def test_microphone_settings_are_properties_that_reach_the_core(server: AudioServer) -> None:
    microphone = new_object("LiveKitMicrophone")
    defaults = {
        "echo_cancellation": True, "noise_suppression": True, "auto_gain_control": True,
        "high_pass_filter": True, "push_to_talk": False, "muted": False,
    }  # fmt: skip
    assert {name: microphone.get(name) for name in defaults} == defaults
    microphone.set("noise_suppression", False)  # before the core exists: kept, then applied
    microphone.set_push_to_talk(True)
    microphone.script_instance.standin_enter_tree()
    core_microphone = microphone.script_instance._lk_core
    assert core_microphone.get_noise_suppression() is False
    assert core_microphone.get_echo_cancellation() is True
    assert core_microphone.is_push_to_talk() and not core_microphone.is_transmitting()
    for stage in (
        "echo_cancellation",
        "noise_suppression",
        "auto_gain_control",
        "high_pass_filter",
    ):
        getattr(microphone, f"set_{stage}")(False)  # each stage switches while running
        assert getattr(core_microphone, f"get_{stage}")() is False
        assert microphone.get(stage) is False and getattr(microphone, f"get_{stage}")() is False
        microphone.set(stage, True)
        assert getattr(core_microphone, f"get_{stage}")() is True
    microphone.set_talking(True)
    assert core_microphone.is_transmitting()
    microphone.set("muted", True)
    assert core_microphone.is_muted() and microphone.is_muted()
    assert not microphone.is_transmitting()  # and not published anyway
    microphone.script_instance.standin_free()


def test_publishing_needs_the_local_participant(server: AudioServer) -> None:
    microphone = new_object("LiveKitMicrophone")
    room = new_object("LiveKitRoom")
    errors = len(functions.standin_errors())
    assert gd_null(microphone.publish(room))
    assert gd_null(microphone.publish(None))
    found = functions.standin_errors()[errors:]
    assert len(found) == 2 and all(e.startswith("LiveKitMicrophone.publish: ") for e in found)
    assert not microphone.is_recording()


# --- the spatial voice node ----------------------------------------------------------------------


def test_the_spatial_voice_plays_a_short_generator_only_inside_the_tree(pump) -> None:
    voice = new_object("LiveKitSpatialVoice")
    assert voice.get("identity") == "" and voice.get_source() == 2
    voice.set("identity", "alice")
    assert voice.get_identity() == "alice"
    node = voice.script_instance
    assert not voice.is_playing()
    node.standin_enter_tree()
    assert voice.is_playing()
    generator = voice.engine_object.stream.engine  # the player's stream (engine state)
    assert (generator.mix_rate, generator.buffer_length) == (48000.0, 0.1)
    assert gd_null(voice.get_room()) and gd_null(voice.get_participant())
    assert not voice.is_receiving() and voice.poll() == 0
    pump()  # the poller's frame: nothing to play, nothing fails
    errors = len(functions.standin_errors())
    voice.set_source(3)  # not an audio source
    assert len(functions.standin_errors()) == errors + 1 and voice.get_source() == 2
    voice.set_source(4)
    assert voice.get_source() == 4
    node.standin_exit_tree()
    assert not voice.is_playing() and not voice.is_receiving()
    node_id = voice.instance_id
    node.standin_free()
    pump()  # the freed node is never touched
    assert is_freed(node_id)


def test_the_spatial_voice_follows_a_room_it_does_not_keep(pump) -> None:
    room = new_object("LiveKitRoom")
    voice = new_object("LiveKitSpatialVoice")
    voice.set_room(room)
    voice.set_identity("alice")
    voice.script_instance.standin_enter_tree()
    core_voice = voice.script_instance._lk_voice
    assert core_voice.get_room() is room.script_instance._lk_core
    assert room.reference_count() == 2  # the game's variable and the addon's own hold only
    errors = len(functions.standin_errors())
    voice.set_room(new_object("LiveKitE2eeOptions"))  # not a room
    assert len(functions.standin_errors()) == errors + 1
    assert voice.get_room() == room
    room_id = room.instance_id
    room.drop()  # the game lets go: the poller frees the room, the voice lets go of it too
    addon_env_sweep(pump)
    assert is_freed(room_id)
    pump()
    assert core_voice.get_room() is None and gd_null(voice.get_room())
    voice.close()
    voice.script_instance.standin_free()


def addon_env_sweep(pump: Any) -> None:
    from addons.godot_livekit.bridge import lifecycle

    lifecycle._last_sweep = 0.0
    pump()


def test_a_watch_reports_a_freed_node_once_and_stops() -> None:
    node = addon_env.gd_new("Node")
    frames: list[int] = []
    gone: list[int] = []
    watch = NodeWatch(node.instance_id, lambda: frames.append(1), lambda: gone.append(1))
    watch.start()
    poller.pump_all()
    assert frames == [1] and gone == []
    node.engine_object.memdelete()
    poller.pump_all()
    poller.pump_all()
    assert frames == [1] and gone == [1] and watch not in poller.registered()


# --- speaking, on the room and the participants --------------------------------------------------


def test_speaking_members_of_the_room_and_participants_answer_before_anything_is_said() -> None:
    from godot_livekit import LiveKitRemoteParticipant

    room = new_object("LiveKitRoom")
    speakers = room.get_active_speakers()
    assert isinstance(speakers, Array) and gd_list(speakers) == []
    registry = room.script_instance._lk_registry
    participant = gd_var(registry.wrapper_for(LiveKitRemoteParticipant()))
    assert participant.is_speaking() is False and participant.get_audio_level() == 0.0
    assert room.has_signal("active_speakers_changed")


def test_livekit_gd_makes_the_voice_nodes() -> None:
    source = (addon_env.ADDON_DIR / "LiveKit.gd").read_text(encoding="utf-8")
    for factory, script in (
        ("new_microphone", "MICROPHONE_SCRIPT"),
        ("new_spatial_voice", "SPATIAL_VOICE_SCRIPT"),
    ):
        body = re.search(rf"^static func {factory}\(.*?(?=^\S)", source, re.M | re.S)
        assert body and f"instantiate({script})" in body.group(0)
        assert re.search(rf"^\t{script},$", source, re.M), f"{script} is not in SCRIPTS"
