"""Two Godot rooms through the addon against the real server, shaped like the demo scenes.

Real parts: livekit-server (session fixture), the livekit SDK, WebRTC over the test namespace's
network. The engine is the py4godot stand-in (tests/py4godot_standin): everything goes through
the addon's engine objects the way GDScript reaches them -- method calls, signal connections,
properties -- and the LiveKitPoller autoload's ``_process`` pumps every frame. Between frames
the loop sleeps only until the core reports activity (``wait_for_activity``), and every wait
is bounded.

Run with ``python build.py test -- tests/test_addon_scenario.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import addon_env  # noqa: F401 - sets up sys.path before py4godot/addons imports
import numpy as np
import pytest
from addon_env import GD, gd_value, new_object
from godot_livekit_dev.patterns import (
    dominant_frequency,
    pattern_error,
    quadrant_pattern,
    sine_wave,
)
from py4godot import functions
from py4godot.classes.AudioStreamGenerator import AudioStreamGenerator
from py4godot.classes.core import Dictionary, PackedByteArray, PackedStringArray
from py4godot.classes.Image import Format, Image

from godot_livekit.signals import activity_counter, wait_for_activity

WIDTH, HEIGHT = 320, 240
RATE = 48000
CONNECT_WAIT = 15.0
MEDIA_WAIT = 25.0
FRAME = 1.0 / 60.0


class Scene:
    """A GDScript-like scene: the poller autoload, rooms, and a per-frame loop."""

    def __init__(self) -> None:
        self.poller = new_object("LiveKitPoller")
        self.poller._ready()
        self.events: dict[str, list[tuple[str, tuple[Any, ...]]]] = {}
        self.each_frame: list[Callable[[], None]] = []

    def room(self, label: str) -> GD:
        room = new_object("LiveKitRoom")
        self.events[label] = []
        for name in ("connected", "disconnected", "connection_failed", "participant_connected",
                     "participant_disconnected", "data_received", "track_subscribed",
                     "local_track_published"):  # fmt: skip
            room.connect(name, self._recorder(label, name))
        return room

    def _recorder(self, label: str, name: str) -> Callable[..., None]:
        return lambda *args: self.events[label].append((name, args))

    def args_of(self, label: str, name: str) -> list[tuple[Any, ...]]:
        return [args for event, args in self.events[label] if event == name]

    def run_until(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        """Run frames (per-frame work, then the poller's _process) until ``done()``."""
        deadline = time.monotonic() + timeout
        while True:
            seen = activity_counter()
            for work in self.each_frame:
                work()
            self.poller._process(FRAME)
            if done():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                transcript = {k: [e for e, _ in v] for k, v in self.events.items()}
                raise AssertionError(
                    f"timed out after {timeout:g}s waiting for {what}\n{transcript}"
                )
            wait_for_activity(seen, min(remaining, FRAME))

    def wait_event(self, label: str, name: str, timeout: float = CONNECT_WAIT) -> tuple[Any, ...]:
        self.run_until(lambda: bool(self.args_of(label, name)), timeout, f"{label}: {name}")
        return self.args_of(label, name)[-1]


def packed(data: bytes) -> PackedByteArray:
    """What GDScript's ``String.to_utf8_buffer()`` hands over."""
    return PackedByteArray.from_memory_view(memoryview(data))


class ToneFeeder:
    """A 440 Hz tone into a LiveKitAudioSource at real-time pace, once per frame (as a game
    would from an AudioEffectCapture), as PackedFloat32Array."""

    def __init__(self, source: GD) -> None:
        self.source = source
        self.start = time.monotonic()
        self.sent = 0

    def __call__(self) -> None:
        due = min(int((time.monotonic() - self.start) * RATE) - self.sent, RATE // 10)
        if due < RATE // 100:
            return
        chunk = sine_wave(440.0, RATE, 1, due, start=self.sent)
        data = PackedByteArray.from_memory_view(chunk.view(np.uint8)).to_float32_array()
        self.source.capture_frame(data, RATE, 1, due)
        self.sent += due


class PatternFeeder:
    """The quadrant test pattern into a LiveKitVideoSource as an RGBA8 Image, ~30 fps."""

    def __init__(self, source: GD) -> None:
        pixels = quadrant_pattern(WIDTH, HEIGHT)
        data = PackedByteArray.from_memory_view(pixels.reshape(-1))
        self.image = Image.create_from_data(WIDTH, HEIGHT, False, Format.FORMAT_RGBA8, data)
        self.source = source
        self.last = 0.0

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self.last >= 1 / 30:
            self.source.capture_frame(self.image, 0, 0)
            self.last = now


def texture_pixels(texture: Any) -> np.ndarray:
    """An ImageTexture's pixels as GDScript would read them (get_image().get_data())."""
    image = texture.get_image()
    data = image.get_data()
    view = np.frombuffer(data.get_memory_view(), np.uint8)
    return view.reshape(image.get_height(), image.get_width(), 4).copy()


def test_two_rooms_data_video_and_audio_through_the_addon(livekit_server, make_token) -> None:
    errors_before = len(functions.standin_errors())
    engine_errors_before = len(functions.standin_engine_errors())
    scene = Scene()
    alice, bob = scene.room("alice"), scene.room("bob")

    # -- connect; alice sees bob join as a Godot participant object --------------------------
    assert alice.connect_to_room(livekit_server.url, make_token("alice"), Dictionary.new0())
    scene.wait_event("alice", "connected")
    assert alice.get("connection_state") == 1 and alice.get_name()
    assert bob.connect_to_room(livekit_server.url, make_token("bob"), Dictionary.new0())
    scene.wait_event("bob", "connected")
    (bob_at_alice,) = scene.wait_event("alice", "participant_connected")
    assert isinstance(bob_at_alice, GD) and bob_at_alice.get_identity() == "bob"
    assert gd_value(alice.get_remote_participants()["bob"]) == bob_at_alice  # the same object
    assert gd_value(alice.get("remote_participants")["bob"]) == bob_at_alice
    alice_at_bob = gd_value(bob.get_remote_participants()["alice"])
    assert alice_at_bob.get_identity() == "alice"

    # -- data, both ways ---------------------------------------------------------------------
    bob.get_local_participant().publish_data(
        packed(b"hello alice"), True, PackedStringArray.new0(), "chat"
    )
    data, sender, kind, topic = scene.wait_event("alice", "data_received")
    assert isinstance(data, PackedByteArray) and bytes(data.get_memory_view()) == b"hello alice"
    assert sender == bob_at_alice and kind == 1 and topic == "chat"
    payload = bytes(range(256)) * 40  # 10 KiB, every byte value
    alice.get_local_participant().publish_data(
        packed(payload), True, PackedStringArray.from_list(["bob"]), "blob"
    )
    data, sender, _, topic = scene.wait_event("bob", "data_received")
    assert bytes(data.get_memory_view()) == payload
    assert sender == alice_at_bob and topic == "blob"

    # -- alice publishes a test pattern and a 440 Hz tone -----------------------------------------
    local = alice.get_local_participant()
    video_source = new_object("LiveKitVideoSource").create(WIDTH, HEIGHT)
    video_track = new_object("LiveKitLocalVideoTrack").create("pattern", video_source)
    audio_source = new_object("LiveKitAudioSource").create(RATE, 1, 200)
    audio_track = new_object("LiveKitLocalAudioTrack").create("tone", audio_source)
    video_publication = local.publish_track(video_track, _options({"simulcast": False}))
    audio_publication = local.publish_track(audio_track, Dictionary.new0())
    scene.each_frame += [PatternFeeder(video_source), ToneFeeder(audio_source)]

    # -- bob receives them like a scene script: streams made in track_subscribed -----------------
    generator = AudioStreamGenerator.new()
    generator.set_mix_rate(RATE)
    playback = generator.instantiate_playback()
    received: dict[str, GD] = {}
    senders: list[GD] = []
    heard: list[np.ndarray] = []
    frames_seen: list[int] = []

    def on_track_subscribed(track: GD, publication: GD, participant: GD) -> None:
        senders.append(participant)
        if track.get_kind() == 2:
            stream = new_object("LiveKitVideoStream").from_track(track)
            stream.connect("frame_received", lambda: frames_seen.append(1))
            received["video"] = stream
        else:
            received["audio"] = new_object("LiveKitAudioStream").from_track(track)

    bob.connect("track_subscribed", on_track_subscribed)

    def play_audio() -> None:  # what bob's _process does each frame
        if "audio" in received:
            received["audio"].poll(playback)
            heard.append(playback.standin_mix(1 << 16))

    scene.each_frame.append(play_audio)

    def good_picture() -> bool:
        texture = received["video"].get_texture() if "video" in received else None
        if texture is None or (texture.get_width(), texture.get_height()) != (WIDTH, HEIGHT):
            return False
        return pattern_error(texture_pixels(texture)) <= 40

    def enough_sound() -> bool:
        samples = np.concatenate(heard) if heard else np.zeros((0, 2), np.float32)
        return len(samples) >= RATE and float(np.abs(samples[-RATE // 2 :]).max()) > 0.1

    scene.run_until(lambda: good_picture() and enough_sound(), MEDIA_WAIT, "picture and tone")

    published = {args[0]: args[1] for args in scene.args_of("alice", "local_track_published")}
    assert published == {video_publication: video_track, audio_publication: audio_track}
    assert video_publication.get_sid().startswith("TR_")
    assert senders == [alice_at_bob, alice_at_bob]
    texture = received["video"].get_texture()
    scene.run_until(lambda: len(frames_seen) >= 3, MEDIA_WAIT, "more video frames")
    assert received["video"].get_texture() == texture  # one ImageTexture, updated in place
    assert texture.engine_object.standin_updates >= 1
    samples = np.concatenate(heard)[-RATE // 2 :]
    assert abs(dominant_frequency(samples, RATE) - 440.0) < 5.0

    # -- bob leaves: alice sees the same participant object go, then stale ---------------------
    received["video"].close()
    received["audio"].close()
    bob.disconnect_from_room()
    scene.wait_event("bob", "disconnected")
    (gone,) = scene.wait_event("alice", "participant_disconnected")
    assert gone == bob_at_alice and gone.get_identity() == ""
    assert "bob" not in alice.get_remote_participants().keys().to_list()
    alice.disconnect_from_room()
    scene.wait_event("alice", "disconnected")
    video_source.close()
    for room in (alice, bob):
        assert room.script_instance._lk_core.wait_idle(10.0)

    assert functions.standin_errors()[errors_before:] == []
    assert functions.standin_engine_errors()[engine_errors_before:] == []


def _options(values: dict[str, Any]) -> Dictionary:
    result = Dictionary.new0()
    for key, value in values.items():
        result[key] = value
    return result


@pytest.fixture(autouse=True)
def _no_leftover_rooms() -> Any:
    yield
    # rooms of a failed run must not keep pumping into the next test
    from godot_livekit import poller

    for obj in poller.registered():
        if type(obj).__name__ == "LiveKitRoom":
            obj.disconnect_from_room()
