"""Lifetimes of the addon's objects under py4godot, where nothing is freed for us (no server).

The game's side is played by :class:`addon_env.GD` variables; the LiveKitPoller autoload's
``_process`` runs the sweep (bridge/lifecycle.py). What a real py4godot process would crash on
fails the test (addon_env.no_standin_crashes).
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from typing import Any

import addon_env
import pytest
from addon_env import gd_null, gd_var, is_freed, new_object, no_standin_crashes
from py4godot import functions
from py4godot.classes import ResourceLoader as resource_loader
from py4godot.classes.AudioStreamGenerator import AudioStreamGenerator

from addons.godot_livekit.bridge import lifecycle

_ = no_standin_crashes


@pytest.fixture
def poller() -> Any:
    handle = new_object("LiveKitPoller")
    handle._ready()
    return handle


def sweep(poller: Any) -> None:
    """One LiveKitPoller frame after the sweep interval."""
    lifecycle._last_sweep = 0.0
    poller._process(1 / 60)


def test_a_dropped_room_is_freed_with_its_objects(poller: Any) -> None:
    from godot_livekit import LiveKitRemoteParticipant

    room = new_object("LiveKitRoom")
    room.get_connection_state()  # the first call makes the core room
    core = room.script_instance._lk_core
    registry = room.script_instance._lk_registry
    participant = gd_var(registry.wrapper_for(LiveKitRemoteParticipant()))
    room_id, participant_id = room.instance_id, participant.instance_id
    sweep(poller)
    assert not is_freed(room_id)  # the game still holds it
    room.drop()
    sweep(poller)
    assert is_freed(room_id)
    assert not is_freed(participant_id)  # the game still holds the participant: kept, stale
    assert participant.get_identity() == ""
    participant.drop()
    sweep(poller)
    assert is_freed(participant_id)
    assert core.get_connection_state() == core.STATE_DISCONNECTED


def test_an_object_never_called_owns_nothing(poller: Any) -> None:
    held = lifecycle.held_count()
    room = new_object("LiveKitRoom")
    options = new_object("LiveKitE2eeOptions")
    assert room.script_instance._lk_core is None and options.script_instance._lk_core is None
    assert lifecycle.held_count() == held
    room_id = room.instance_id
    room.drop()
    options.drop()
    assert is_freed(room_id)  # Godot frees it right away: the addon never held it


def test_a_dropped_video_source_stops_its_worker(poller: Any) -> None:
    def workers() -> int:
        return sum(t.name == "godot-livekit-video-send" for t in threading.enumerate())

    before = workers()
    source = new_object("LiveKitVideoSource").create(64, 32)
    assert workers() == before + 1
    source.drop()
    sweep(poller)
    deadline = time.monotonic() + 5.0
    while workers() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert workers() == before


def silent_stream(room: Any) -> Any:
    """An addon LiveKitAudioStream that stays silent: from_participant of a participant with
    no SDK side (from_track of a track without one answers null, as in the original)."""
    from godot_livekit import LiveKitRemoteParticipant, LiveKitTrack

    participant = room.script_instance._lk_registry.wrapper_for(LiveKitRemoteParticipant())
    stream = new_object("LiveKitAudioStream")
    assert stream.from_participant(gd_var(participant), LiveKitTrack.SOURCE_MICROPHONE) is not None
    return stream


def test_a_stream_from_a_track_with_nothing_behind_it_is_null(poller: Any) -> None:
    from godot_livekit import LiveKitRemoteAudioTrack, LiveKitRemoteVideoTrack

    room = new_object("LiveKitRoom")
    room.get_connection_state()
    registry = room.script_instance._lk_registry
    for name, core in (
        ("LiveKitAudioStream", LiveKitRemoteAudioTrack()),
        ("LiveKitVideoStream", LiveKitRemoteVideoTrack()),
    ):
        track = gd_var(registry.wrapper_for(core))
        assert gd_null(new_object(name).from_track(track))
        assert gd_null(new_object(name).from_track(None))  # reported, never raised into Godot


def test_an_attached_playback_is_held_until_the_stream_lets_go(poller: Any) -> None:
    room = new_object("LiveKitRoom")
    room.get_connection_state()  # the first call makes the core room
    stream = silent_stream(room)  # stays silent: no SDK track
    playback = gd_var(AudioStreamGenerator.new().instantiate_playback())
    gc.collect()  # py4godot's own wrapper of the return value lets go of its count
    stream.attach_playback(playback)
    assert playback.reference_count() == 2  # the game's variable and the stream's
    playback_id = playback.instance_id
    playback.drop()
    assert not is_freed(playback_id)  # the stream still pushes into it
    stream.close()
    assert is_freed(playback_id)


def test_a_stream_polls_a_new_playback_after_the_last_one_was_freed(poller: Any) -> None:
    """The poll adapter recognises a playback by the id it noted, never by calling into the
    playback it wrapped (a freed object: a crash under py4godot)."""
    room = new_object("LiveKitRoom")
    room.get_connection_state()
    stream = silent_stream(room)
    first = gd_var(AudioStreamGenerator.new().instantiate_playback())
    gc.collect()
    stream.poll(first)
    first_id = first.instance_id
    first.drop()
    assert is_freed(first_id)
    second = gd_var(AudioStreamGenerator.new().instantiate_playback())
    gc.collect()
    assert stream.poll(second) == 0  # silent stream: nothing to push, and no crash


def test_a_playback_pushed_into_on_arrival_is_held_until_the_stream_lets_go(poller: Any) -> None:
    """With push on arrival the network thread pushes into the playback last given to
    ``poll``: the stream holds it (a new one replaces it) until switched off or closed."""
    room = new_object("LiveKitRoom")
    room.get_connection_state()  # the first call makes the core room
    stream = silent_stream(room)  # stays silent: no SDK track
    stream.set_push_on_arrival(True)
    assert stream.get_push_on_arrival()
    first = gd_var(AudioStreamGenerator.new().instantiate_playback())
    second = gd_var(AudioStreamGenerator.new().instantiate_playback())
    gc.collect()  # py4godot's own wrappers of the return values let go of their counts
    stream.poll(first)
    assert first.reference_count() == 2  # the game's variable and the stream's
    stream.poll(first)
    assert first.reference_count() == 2  # held once
    stream.poll(second)
    assert (first.reference_count(), second.reference_count()) == (1, 2)
    second_id = second.instance_id
    second.drop()
    assert not is_freed(second_id)  # the network thread may still push into it
    stream.set_push_on_arrival(False)
    assert is_freed(second_id)
    stream.set_push_on_arrival(True)
    stream.poll(first)
    first_id = first.instance_id
    first.drop()
    assert not is_freed(first_id)
    stream.close()
    assert is_freed(first_id)


def test_an_attached_playback_stays_held_when_poll_hands_over_another(poller: Any) -> None:
    """Attached playback and the one poll gives the network thread are held apart: handing
    over and switching the mode off release only the latter."""
    room = new_object("LiveKitRoom")
    room.get_connection_state()
    stream = silent_stream(room)
    attached = gd_var(AudioStreamGenerator.new().instantiate_playback())
    polled = gd_var(AudioStreamGenerator.new().instantiate_playback())
    gc.collect()
    stream.attach_playback(attached)
    stream.set_push_on_arrival(True)
    stream.poll(polled)
    assert (attached.reference_count(), polled.reference_count()) == (2, 2)
    stream.set_push_on_arrival(False)
    assert (attached.reference_count(), polled.reference_count()) == (2, 1)
    attached_id = attached.instance_id
    attached.drop()
    assert not is_freed(attached_id)  # the poller still pushes into it
    stream.close()
    assert is_freed(attached_id)


def test_room_made_objects_live_while_the_room_lists_them(poller: Any) -> None:
    from godot_livekit import LiveKitRemoteParticipant

    room = new_object("LiveKitRoom")
    room.get_connection_state()  # the first call makes the core room
    registry = room.script_instance._lk_registry
    core_participant = LiveKitRemoteParticipant()
    participant = gd_var(registry.wrapper_for(core_participant))
    participant_id = participant.instance_id
    participant.drop()
    sweep(poller)
    assert not is_freed(participant_id)  # still in the room: the same object next time
    held_again = gd_var(registry.wrapper_for(core_participant))
    assert held_again.instance_id == participant_id
    registry.release(core_participant)  # left the room, but the game holds it
    assert not is_freed(participant_id)
    held_again.drop()
    sweep(poller)
    assert is_freed(participant_id)


def test_poller_prints_core_errors(poller: Any) -> None:
    import logging

    errors = len(functions.standin_errors())
    logging.getLogger("godot_livekit.video_stream").error("decoder went away")
    poller._process(1 / 60)
    assert any("decoder went away" in e for e in functions.standin_errors()[errors:])


def test_one_object_failing_to_free_leaves_the_others_freed_and_says_so(
    poller: Any, monkeypatch: Any
) -> None:
    rooms = [new_object("LiveKitRoom") for _ in range(2)]
    for room in rooms:
        room.get_connection_state()  # the first call makes the core room: the addon holds it
    ids = [room.instance_id for room in rooms]
    broken = rooms[0].script_instance

    def forget() -> None:
        raise RuntimeError("forget failed")

    monkeypatch.setattr(broken, "_lk_forget", forget)
    errors = len(functions.standin_errors())
    for room in rooms:
        room.drop()
    sweep(poller)
    assert is_freed(ids[0]) and is_freed(ids[1])  # the Godot object goes all the same
    printed = functions.standin_errors()[errors:]
    assert any("freeing LiveKitRoom failed" in e for e in printed)  # in the same frame


def test_is_available_probe_names_the_import_error(monkeypatch: Any) -> None:
    probe = new_object("LiveKitProbe")
    assert probe.import_error() == ""
    path = "res://addons/godot_livekit/LiveKitRoom.py"
    addon_env.load_script("LiveKitRoom")  # the good one stays cached for the other tests
    monkeypatch.delitem(resource_loader._cache, path)  # Godot loads it afresh
    for name in [m for m in sys.modules if m == "godot_livekit" or m.startswith("godot_livekit.")]:
        monkeypatch.setitem(sys.modules, name, sys.modules[name])
    monkeypatch.setitem(sys.modules, "godot_livekit", None)  # the core cannot be imported
    monkeypatch.setitem(sys.modules, "addons.godot_livekit.LiveKitRoom", None)
    engine_errors = len(functions.standin_engine_errors())
    script = resource_loader.ResourceLoader.instance().load(path)
    assert script is not None and script.get_instance_base_type() == ""
    assert any("godot_livekit" in e for e in functions.standin_engine_errors()[engine_errors:])
    reason = probe.import_error()
    assert reason.startswith("cannot import godot_livekit in py4godot's Python")
