"""Audio levels in the core (no server): the level meter on int16 blocks, the room's speakers
registry that holds what was measured, and the seam between them (report_audio_level).

The real-server side (a loud tone measures well above a quiet one at the listener, the
microphone measures what it sends) is tests/integration/test_voice_levels.py.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from godot_livekit import links
from godot_livekit.audio_level import SILENCE, LevelMeter
from godot_livekit.participant import LiveKitRemoteParticipant, report_audio_level
from godot_livekit.rpc import RpcResponder
from godot_livekit.session import LEVEL_HOLD_SECONDS, RoomContext, Speakers

RATE = 48000


def sine_pcm(amplitude: float, frames: int, channels: int = 1) -> np.ndarray:
    t = np.arange(frames) / RATE
    mono = np.rint(amplitude * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    return np.repeat(mono, channels) if channels > 1 else mono


def test_the_meter_gives_the_rms_of_full_scale() -> None:
    meter = LevelMeter()
    assert meter.measure(sine_pcm(1.0, 4800), RATE) == pytest.approx(1 / math.sqrt(2), abs=1e-3)
    stereo = LevelMeter()  # interleaved stereo as it arrives from the SDK: the same level
    level = stereo.measure(memoryview(sine_pcm(0.5, 4800, 2).tobytes()).cast("h"), RATE, 2)
    assert level == pytest.approx(0.5 / math.sqrt(2), abs=1e-3)


def test_the_meter_rises_at_once_and_falls_to_zero_in_silence() -> None:
    meter = LevelMeter(release_seconds=0.15)
    meter.measure(sine_pcm(0.02, 480), RATE)
    quiet = meter.level
    assert meter.measure(sine_pcm(0.5, 480), RATE) > 20 * quiet  # attack: one 10 ms block
    silence = np.zeros(480, np.int16)
    after_10ms = meter.measure(silence, RATE)
    assert after_10ms == pytest.approx(0.354 * math.exp(-0.01 / 0.15), rel=0.02)  # release
    for _ in range(200):  # two seconds of digital silence
        meter.measure(silence, RATE)
    assert meter.level == 0.0 and SILENCE > 0
    assert meter.measure(np.zeros(0, np.int16), RATE) == 0.0  # an empty block changes nothing


def test_speakers_hold_a_level_only_while_it_is_reported() -> None:
    now = [100.0]
    speakers = Speakers(clock=lambda: now[0])
    alice = SimpleNamespace(get_identity=lambda: "alice")
    speakers.report_level("alice", 0.4)
    assert speakers.level_of(alice) == 0.4
    speakers.report_level("alice", 7.0)  # clamped to 0..1
    assert speakers.level_of(alice) == 1.0
    now[0] += LEVEL_HOLD_SECONDS + 0.01  # nothing arrived since: silent (muted, unsubscribed)
    assert speakers.level_of(alice) == 0.0
    speakers.report_level("alice", 0.2)
    speakers.clear()  # the room disconnected
    assert speakers.level_of(alice) == 0.0


def test_a_measured_level_reaches_the_participant_through_its_room() -> None:
    context = RoomContext(RpcResponder())
    sdk = SimpleNamespace(identity="alice", sid="PA_1", name="")
    alice = LiveKitRemoteParticipant(links.Link(sdk), SimpleNamespace(room=context))
    report_audio_level(alice, 0.3)
    assert alice.get_audio_level() == pytest.approx(0.3)
    links.link_of(alice).cut()  # alice left: stale, and reports for her are ignored
    assert alice.get_audio_level() == 0.0
    report_audio_level(alice, 0.9)
    assert context.speakers.level_of(SimpleNamespace(get_identity=lambda: "alice")) == 0.3
