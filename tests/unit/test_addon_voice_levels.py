"""Audio levels in the core (no server): the level meter on int16 blocks, the room's speakers
registry that holds what was measured, the seams between them (report_audio_level for what
is sent, level sources for what is received), and a stream measuring its newest audio.

The real-server side (a loud tone measures well above a quiet one at the listener, the
microphone measures what it sends) is tests/integration/test_voice_levels.py.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from godot_livekit import LiveKitAudioStream, links
from godot_livekit.audio_level import SILENCE, LevelMeter
from godot_livekit.media_convert import AudioJitterBuffer
from godot_livekit.participant import (
    LiveKitRemoteParticipant,
    add_level_source,
    report_audio_level,
)
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


def test_a_meter_read_on_demand_falls_over_the_time_since_its_last_reading() -> None:
    meter = LevelMeter(release_seconds=0.15)
    loud = np.full((480, 2), 0.5, np.float32)
    assert meter.measure_float(loud, 0.0) == pytest.approx(0.5)
    quiet = np.full((480, 2), 0.01, np.float32)
    assert meter.measure_float(quiet, 0.15) == pytest.approx(0.5 / math.e, rel=1e-3)
    assert meter.measure_float(quiet, 10.0) == pytest.approx(0.01)
    assert meter.measure_float(quiet[:0], 10.0) == 0.0  # nothing to measure: it falls


def test_the_newest_frames_stay_readable_after_they_were_played_and_across_the_wrap() -> None:
    buffer = AudioJitterBuffer(100, 1, target_delay_ms=50, max_delay_ms=100, capacity_ms=100)
    out = np.zeros((4, 1), np.float32)
    assert buffer.newest_into(out, 4) == 0  # nothing pushed yet
    for start in range(0, 23, 3):  # 24 frames through a ring of 10
        buffer.push(np.arange(start, start + 3, dtype=np.float32))
        buffer.pop(10)  # played at once: the ring still holds them
    assert buffer.newest_into(out, 4) == 4
    assert out[:, 0].tolist() == [20.0, 21.0, 22.0, 23.0]
    assert buffer.newest_into(out, 2) == 2 and out[:2, 0].tolist() == [22.0, 23.0]
    buffer.release()
    assert buffer.newest_into(out, 4) == 0


def test_a_level_source_is_measured_when_the_level_is_read_and_held_weakly() -> None:
    class Source:
        def __init__(self, level: float) -> None:
            self.level, self.reads = level, 0

        def measure_level(self) -> float:
            self.reads += 1
            return self.level

    speakers = Speakers()
    alice = SimpleNamespace(get_identity=lambda: "alice")
    quiet, loud = Source(0.1), Source(0.6)
    speakers.add_level_source("alice", quiet)
    speakers.add_level_source("alice", loud)
    assert speakers.level_of(alice) == 0.6 and quiet.reads == loud.reads == 1  # the loudest
    speakers.report_level("alice", 0.8)  # and what was reported, while it is fresh
    assert speakers.level_of(alice) == 0.8
    del loud
    assert speakers.level_of(SimpleNamespace(get_identity=lambda: "bob")) == 0.0
    speakers.clear()
    assert speakers.level_of(alice) == 0.0 and quiet.reads == 2


def test_a_stream_measures_its_newest_audio_for_its_participant(monkeypatch) -> None:
    context = RoomContext(RpcResponder())
    sdk = SimpleNamespace(identity="alice", sid="PA_1", name="")
    alice = LiveKitRemoteParticipant(links.Link(sdk), SimpleNamespace(room=context))
    stream = LiveKitAudioStream()  # no track: audio is pushed as the runtime thread would
    add_level_source(alice, stream)
    assert alice.get_audio_level() == 0.0  # nothing received
    stream._buffer.push_int16(sine_pcm(0.5, 480, 2))  # an older, louder frame ...
    stream._buffer.push_int16(sine_pcm(0.25, 480, 2))  # ... then the newest 10 ms
    stream._buffer.pop(960)  # already played: still measured
    assert alice.get_audio_level() == pytest.approx(0.25 / math.sqrt(2), abs=2e-3)
    written = stream._buffer.written_at
    monkeypatch.setattr(stream._buffer, "written_at", written - LEVEL_HOLD_SECONDS - 0.01)
    assert alice.get_audio_level() == 0.0  # nothing arrived for a while: silent
    monkeypatch.setattr(stream._buffer, "written_at", written)
    stream.close()
    assert alice.get_audio_level() == 0.0
