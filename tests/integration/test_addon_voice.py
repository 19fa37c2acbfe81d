"""Voice through the Godot classes on the real server: the microphone node, the spatial voice
node and active speakers, driven the way GDScript drives them.

Real parts: livekit-server, the livekit SDK and its WebRTC audio processing module, Opus over
the test namespace's network. The engine is the py4godot stand-in: the microphone node plays an
AudioStreamMicrophone on its own bus and the stand-in's AudioServer feeds that bus (and so its
AudioEffectCapture) with a tone, as Godot's audio thread would; the spatial voice node's
generator playback is drained as Godot's mixer would. Assertions are on what arrives: the
frequency and level of a tone, mute signals, who the room says is speaking.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from addon_env import (
    GD,
    gd_dict,
    gd_dictionary,
    gd_list,
    gd_null,
    new_object,
    no_standin_crashes,
)
from addon_scene import AddonScene
from godot_livekit_dev.patterns import dominant_frequency, sine_wave
from py4godot import functions
from py4godot.classes.AudioServer import AudioServer
from py4godot.classes.Object import _native_wrapper
from voice_helpers import band_level_db

from addons.godot_livekit.bridge import convert
from godot_livekit import links, testing

_ = no_standin_crashes

RATE = 48000
FRAME = 1.0 / 60.0
CONNECT_WAIT = 15.0
MEDIA_WAIT = 25.0
SOURCE_MICROPHONE = 2
FULL_RECONNECT = 4  # rtc.SimulateScenarioKind.SIMULATE_FULL_RECONNECT
RECORDED = (
    "connected", "disconnected", "participant_connected", "participant_disconnected",
    "track_subscribed", "track_unsubscribed", "track_published", "track_unpublished",
    "track_muted", "track_unmuted", "active_speakers_changed", "reconnected",
)  # fmt: skip


class Scene(AddonScene):
    """A GDScript-like scene: the poller autoload, rooms, per-frame work and a frame loop."""

    def room(self, label: str, url: str, token: str) -> GD:
        room = new_object("LiveKitRoom")
        self.record(label, room, RECORDED)
        assert room.connect_to_room(url, token, gd_dictionary())
        self.wait_event(label, "connected")
        return room

    def leave(self, *rooms: tuple[str, GD]) -> None:
        for label, room in rooms:
            count = self.count(label, "disconnected")
            room.disconnect_from_room()
            self.wait_event(label, "disconnected", after=count)


class Microphone:
    """What Godot's audio thread does for the microphone: once per frame, the audio due since
    the last frame, as the microphone hears it, mixed into every playing microphone's bus."""

    def __init__(self, amplitude: float = 0.3, frequency: float = 440.0) -> None:
        self.server = AudioServer.instance()
        self.amplitude = amplitude
        self.frequency = frequency
        self.start = time.monotonic()
        self.heard = 0

    def __call__(self) -> None:
        due = min(int((time.monotonic() - self.start) * RATE) - self.heard, RATE // 5)
        if due <= 0:
            return
        t = (np.arange(due) + self.heard) / RATE
        mono = (self.amplitude * np.sin(2 * np.pi * self.frequency * t)).astype(np.float32)
        self.server.standin_record(np.repeat(mono[:, None], 2, axis=1))
        self.heard += due


class Ear:
    """What Godot's mixer does with a player's playback: takes what is queued, once per
    frame (engine-side access, as the audio thread has it)."""

    def __init__(self, player: GD) -> None:
        slot = player.engine_object.playback  # the player's playback (stand-in engine state)
        assert slot is not None, "the player is not playing"
        self.playback = _native_wrapper(slot.engine)
        self.chunks: list[np.ndarray] = []

    def __call__(self) -> None:
        self.chunks.append(self.playback.standin_mix(1 << 16).mean(axis=1))

    def last(self, seconds: float) -> np.ndarray:
        heard = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)
        return heard[-int(seconds * RATE) :]

    def hears_sound(self) -> bool:
        recent = self.last(0.5)
        return len(recent) == RATE // 2 and float(np.abs(recent).max()) > 0.1

    def forget(self) -> None:
        self.chunks.clear()


class StreamEar:
    """bob's stream of a track read directly (``read_frames``): it never goes to a playback,
    so the microphone's echo canceller has no far end in this one process."""

    def __init__(self, track: GD) -> None:
        self.stream = new_object("LiveKitAudioStream").from_track(track)
        self.core = self.stream.script_instance._lk_core
        self.chunks: list[np.ndarray] = []

    def __call__(self) -> None:
        frames = self.core.read_frames(1 << 14)
        if len(frames):
            self.chunks.append(frames.mean(axis=1))

    def last(self, seconds: float) -> np.ndarray:
        heard = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)
        return heard[-int(seconds * RATE) :]

    def hears_sound(self) -> bool:
        recent = self.last(0.5)
        return len(recent) == RATE // 2 and float(np.abs(recent).max()) > 0.05


class ToneSource:
    """A 440 Hz tone (amplitude 0.5) into a LiveKitAudioSource at real-time pace, as a game
    would send any audio it makes."""

    def __init__(self, source: GD, frequency: float = 440.0) -> None:
        self.source, self.frequency = source, frequency
        self.start, self.sent = time.monotonic(), 0

    def __call__(self) -> None:
        due = min(int((time.monotonic() - self.start) * RATE) - self.sent, RATE // 10)
        if due < RATE // 100:
            return
        chunk = sine_wave(self.frequency, RATE, 1, due, start=self.sent)
        self.source.capture_frame(convert.bytes_to_packed(chunk).to_float32_array(), RATE, 1, due)
        self.sent += due


@pytest.fixture
def scene() -> Iterator[Scene]:
    AudioServer.instance().standin_set_mix_rate(RATE)
    made = Scene()
    yield made
    from godot_livekit import poller

    for obj in poller.registered():  # a failed test must not keep pumping into the next
        if type(obj).__name__ == "LiveKitRoom":
            obj.disconnect_from_room()
    AudioServer.instance().standin_reset()


def subscribed_track(scene: Scene, label: str, name: str) -> GD:
    def found() -> GD | None:
        for track, _, _ in scene.args_of(label, "track_subscribed"):
            if track.get_name() == name and not track.is_stale():
                return track
        return None

    scene.run_until(lambda: found() is not None, MEDIA_WAIT, f"{label} subscribed to {name}")
    track = found()
    assert track is not None
    return track


def add_microphone(scene: Scene, room: GD, **settings: Any) -> GD:
    """``var mic = LiveKit.new_microphone()``, settings as properties, ``add_child(mic)``,
    ``mic.publish(room.get_local_participant())``."""
    microphone = new_object("LiveKitMicrophone")
    for name, value in settings.items():
        microphone.set(name, value)
    microphone.script_instance.standin_enter_tree()
    publication = microphone.publish(room.get_local_participant())
    assert not gd_null(publication) and microphone.is_recording()
    return microphone


# --- the microphone node -----------------------------------------------------------------------


def test_a_tone_through_the_microphone_node_arrives_at_the_peer(
    scene: Scene, livekit_server, make_token
) -> None:
    errors = len(functions.standin_errors())
    alice = scene.room("alice", livekit_server.url, make_token("alice"))
    bob = scene.room("bob", livekit_server.url, make_token("bob"))
    # the noise suppressor takes a steady sine for noise: this test is about the path
    microphone = add_microphone(scene, alice, noise_suppression=False)
    scene.each_frame.append(Microphone(amplitude=0.3))
    ear = StreamEar(subscribed_track(scene, "bob", "microphone"))
    scene.each_frame.append(ear)
    scene.run_until(ear.hears_sound, MEDIA_WAIT, "the microphone's tone at bob")
    assert abs(dominant_frequency(ear.last(0.5), RATE) - 440.0) < 5.0
    (_, publication, sender) = scene.args_of("bob", "track_subscribed")[-1]
    assert publication.get_source() == SOURCE_MICROPHONE
    assert sender.get_identity() == "alice"
    assert microphone.get_frames_captured() > RATE // 2 and microphone.get_level_db() > -20.0
    assert microphone.get_publication().get_sid() == publication.get_sid()
    # leaving the tree unpublishes the track and removes the bus
    unpublished = len(scene.args_of("bob", "track_unpublished"))
    microphone.script_instance.standin_exit_tree()
    scene.wait_event("bob", "track_unpublished", after=unpublished)
    assert not microphone.is_recording() and AudioServer.instance().get_bus_count() == 1
    ear.stream.close()
    scene.leave(("alice", alice), ("bob", bob))
    assert functions.standin_errors()[errors:] == []


def test_switching_noise_suppression_on_the_node_changes_what_the_peer_hears(
    scene: Scene, livekit_server, make_token
) -> None:
    """A steady sine is what a noise suppressor removes: with it on the peer hears the tone
    far weaker than with it off (about 12 dB, measured on the module itself)."""
    alice = scene.room("alice", livekit_server.url, make_token("alice"))
    bob = scene.room("bob", livekit_server.url, make_token("bob"))
    microphone = add_microphone(scene, alice, auto_gain_control=False)
    assert microphone.get("noise_suppression") is True  # the default
    scene.each_frame.append(Microphone(amplitude=0.3))
    ear = StreamEar(subscribed_track(scene, "bob", "microphone"))
    scene.each_frame.append(ear)
    scene.run_until(lambda: len(ear.last(2.0)) == 2 * RATE, MEDIA_WAIT, "two seconds at bob")
    scene.run_for(1.0)
    suppressed = band_level_db(ear.last(1.0), RATE, 440.0)
    microphone.set_noise_suppression(False)  # from GDScript; the property reads it back
    assert microphone.get("noise_suppression") is False
    scene.run_for(2.0)
    plain = band_level_db(ear.last(1.0), RATE, 440.0)
    assert plain - suppressed >= 8.0, (suppressed, plain)
    microphone.set("noise_suppression", True)  # the property switches it back on
    scene.run_for(2.5)
    again = band_level_db(ear.last(1.0), RATE, 440.0)
    assert plain - again >= 8.0, (plain, again)
    microphone.close()
    ear.stream.close()
    scene.leave(("alice", alice), ("bob", bob))


def test_push_to_talk_and_mute_on_the_node_mute_the_publication_at_the_peer(
    scene: Scene, livekit_server, make_token
) -> None:
    alice = scene.room("alice", livekit_server.url, make_token("alice"))
    bob = scene.room("bob", livekit_server.url, make_token("bob"))
    microphone = add_microphone(scene, alice)
    scene.each_frame.append(Microphone())
    subscribed_track(scene, "bob", "microphone")
    assert microphone.is_transmitting()
    microphone.set_push_to_talk(True)  # key up: muted
    participant, publication = scene.wait_event("bob", "track_muted", timeout=MEDIA_WAIT)
    assert participant.get_identity() == "alice" and publication.get_muted()
    assert microphone.is_push_to_talk() and not microphone.is_transmitting()
    microphone.set_talking(True)  # key down: on air
    scene.wait_event("bob", "track_unmuted", timeout=MEDIA_WAIT)
    assert microphone.is_transmitting()
    microphone.set_talking(False)
    scene.wait_event("bob", "track_muted", after=1, timeout=MEDIA_WAIT)
    microphone.set("push_to_talk", False)
    scene.wait_event("bob", "track_unmuted", after=1, timeout=MEDIA_WAIT)
    microphone.set("muted", True)  # the property mutes too
    scene.wait_event("bob", "track_muted", after=2, timeout=MEDIA_WAIT)
    assert microphone.is_muted() and not microphone.is_transmitting()
    microphone.close()
    scene.leave(("alice", alice), ("bob", bob))


def test_a_microphone_published_and_freed_before_entering_the_tree_is_released(
    scene: Scene, livekit_server, make_token
) -> None:
    alice = scene.room("alice", livekit_server.url, make_token("alice"))
    bob = scene.room("bob", livekit_server.url, make_token("bob"))
    microphone = new_object("LiveKitMicrophone")
    microphone.publish(alice.get_local_participant())  # publish first, add_child later...
    scene.wait_event("bob", "track_published", timeout=MEDIA_WAIT)
    assert not microphone.is_recording()
    microphone.script_instance.standin_free()  # ...but the node is freed instead
    scene.wait_event("bob", "track_unpublished", timeout=MEDIA_WAIT)  # the poller saw it go
    scene.leave(("alice", alice), ("bob", bob))


# --- the spatial voice node ----------------------------------------------------------------------


def simulate(room: GD, kind: int) -> None:
    """An SDK chaos scenario on ``room``'s live session."""
    sdk_room = links.sdk_of(room.script_instance._lk_core)
    assert sdk_room is not None, "not connected"
    testing.run_on_runtime(sdk_room.simulate_scenario(kind), 10)


def test_the_spatial_voice_plays_its_participant_and_follows_it_everywhere(
    scene: Scene, livekit_server, make_token
) -> None:
    errors = len(functions.standin_errors())
    alice = scene.room("alice", livekit_server.url, make_token("alice"))
    bob = scene.room("bob", livekit_server.url, make_token("bob"))
    source = new_object("LiveKitAudioSource").create(RATE, 1, 0)
    track = new_object("LiveKitLocalAudioTrack").create("microphone", source)
    alice_local = alice.get_local_participant()
    publication = alice_local.publish_track(track, gd_dictionary(source=SOURCE_MICROPHONE))
    scene.each_frame.append(ToneSource(source))

    # bob's scene: one spatial voice for alice, under her avatar
    voice = new_object("LiveKitSpatialVoice")
    voice.set_room(bob)
    voice.set("identity", "alice")
    voice.script_instance.standin_enter_tree()
    assert voice.engine_object.class_name == "AudioStreamPlayer3D" and voice.is_playing()
    ear = Ear(voice)
    scene.each_frame.append(ear)

    def hears_the_tone(what: str) -> None:
        ear.forget()
        scene.run_until(ear.hears_sound, MEDIA_WAIT, what)
        assert abs(dominant_frequency(ear.last(0.5), RATE) - 440.0) < 5.0, what

    hears_the_tone("alice's tone from the spatial voice")
    first = voice.get_participant()
    assert first.get_identity() == "alice" and voice.is_receiving()
    assert first == gd_dict(bob.get_remote_participants())["alice"]  # the room's own object
    assert voice.get_buffered_ms() < 150.0  # the low-latency path: never seconds of audio

    # unsubscribe and resubscribe
    remote = gd_dict(first.get_track_publications())[publication.get_sid()]
    count = len(scene.args_of("bob", "track_subscribed"))
    remote.set_subscribed(False)
    scene.wait_event("bob", "track_unsubscribed", timeout=MEDIA_WAIT)
    remote.set_subscribed(True)
    scene.wait_event("bob", "track_subscribed", after=count, timeout=MEDIA_WAIT)
    hears_the_tone("the tone after resubscribing")

    # unpublish and republish
    alice_local.unpublish_track(publication.get_sid())
    scene.wait_event("bob", "track_unpublished", timeout=MEDIA_WAIT)
    ear.forget()
    scene.run_for(0.3)
    assert not ear.hears_sound() and not voice.is_receiving()  # silence while it is gone
    publication = alice_local.publish_track(track, gd_dictionary(source=SOURCE_MICROPHONE))
    hears_the_tone("the tone after republishing")

    # a full reconnect of bob's room: alice comes back as a new participant object
    reconnected = len(scene.args_of("bob", "reconnected"))
    simulate(bob, FULL_RECONNECT)
    scene.wait_event("bob", "reconnected", after=reconnected, timeout=MEDIA_WAIT)
    scene.run_until(first.is_stale, MEDIA_WAIT, "the old alice to go stale")
    hears_the_tone("the tone after a full reconnect")
    again = voice.get_participant()
    assert again != first and again.get_identity() == "alice"
    assert voice.get_streams_opened() >= 4

    # leaving the tree stops it; coming back resumes with the same room and identity
    voice.script_instance.standin_exit_tree()
    assert not voice.is_playing() and not voice.is_receiving()
    voice.script_instance.standin_enter_tree()
    ear = Ear(voice)  # a new playback after play()
    scene.each_frame.append(ear)
    hears_the_tone("the tone after re-entering the tree")
    voice.script_instance.standin_free()
    scene.leave(("alice", alice), ("bob", bob))
    # the SDK's own complaints during the reconnect reach Godot's console as errors (the
    # log routing); none of the addon's methods may have failed
    ours = [e for e in functions.standin_errors()[errors:] if not e.startswith("godot-livekit: ")]
    assert ours == []


# --- active speakers and levels through the addon room -------------------------------------------


def test_active_speakers_and_levels_name_the_talker(
    scene: Scene, livekit_server, make_token
) -> None:
    alice = scene.room("alice", livekit_server.url, make_token("alice"))
    bob = scene.room("bob", livekit_server.url, make_token("bob"))
    source = new_object("LiveKitAudioSource").create(RATE, 1, 0)
    track = new_object("LiveKitLocalAudioTrack").create("microphone", source)
    alice.get_local_participant().publish_track(track, gd_dictionary())
    scene.each_frame.append(ToneSource(source))
    alice_at_bob = gd_dict(bob.get_remote_participants())["alice"]
    voice = new_object("LiveKitSpatialVoice")  # bob plays alice: her level is measured there
    voice.set_room(bob)
    voice.set_participant(alice_at_bob)
    voice.script_instance.standin_enter_tree()
    scene.each_frame.append(Ear(voice))

    def alice_named() -> bool:
        return any(
            alice_at_bob in gd_list(speakers)
            for (speakers,) in scene.args_of("bob", "active_speakers_changed")
        )

    scene.run_until(alice_named, MEDIA_WAIT, "bob's room to name alice as speaking")
    assert gd_list(bob.get_active_speakers()) == [alice_at_bob]
    assert alice_at_bob.is_speaking() and not bob.get_local_participant().is_speaking()
    scene.run_until(lambda: alice_at_bob.get_audio_level() > 0.2, MEDIA_WAIT, "alice's level")
    assert alice_at_bob.get_audio_level() < 0.5  # a 0.5 sine: RMS 0.35
    assert bob.get_local_participant().get_audio_level() == 0.0
    track.mute()  # silence: the server takes her off the list, the level falls to 0
    scene.run_until(
        lambda: gd_list(bob.get_active_speakers()) == [] and alice_at_bob.get_audio_level() == 0,
        MEDIA_WAIT,
        "alice no longer speaking",
    )
    assert not alice_at_bob.is_speaking()
    (last,) = scene.args_of("bob", "active_speakers_changed")[-1]
    assert gd_list(last) == []
    voice.close()
    voice.script_instance.standin_free()
    scene.leave(("alice", alice), ("bob", bob))
