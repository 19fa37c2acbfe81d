"""Receive playout under clock drift, on simulated clocks (no sleeps, no server).

A producer delivers 10 ms frames exactly on its clock (the SDK's); a simulated Godot
playback drains at the sound card's clock, 0.5 % slower or faster, polled at about 60 fps
with jitter. The playout must hold its delay flat, never run the playback dry after it
settled, never hit the jitter buffer's hard limit, and splice smoothly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest
from gil_probe import runs_beside

from godot_livekit.audio_playout import (
    CROSSFADE_MS,
    LOWER_AFTER_SECONDS,
    LOWER_STEP_MS,
    MAX_PERIOD_MS,
    DriftCompensator,
    PlayoutReader,
    best_splice,
)
from godot_livekit.media_convert import AudioJitterBuffer

RATE = 48000
FRAME = RATE // 100
TONE_HZ = 220.0


class SimClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class SimPlayback:
    """AudioStreamGeneratorPlayback on a simulated clock: a ring of ``capacity`` frames
    that the mixer drains at ``rate * speed`` frames per second."""

    clock: SimClock
    speed: float
    capacity: int = RATE // 2  # Godot's default buffer_length of 0.5 s
    fill: float = 0.0
    started: bool = False
    last: float = 0.0
    starve_events: int = 0
    starving: bool = False
    played: list[np.ndarray] = field(default_factory=list)

    def _advance(self) -> None:
        now = self.clock()
        due = (now - self.last) * RATE * self.speed if self.started else 0.0
        self.last = now
        if due <= self.fill:
            self.fill -= due
            self.starving = False
            return
        if self.started and not self.starving:
            self.starve_events += 1
            self.starving = True
        self.fill = 0.0

    def get_frames_available(self) -> int:
        self._advance()
        return self.capacity - math.ceil(self.fill)

    def push_buffer(self, frames: np.ndarray) -> None:
        self._advance()
        self.played.append(np.array(frames, copy=True))
        self.fill += len(frames)
        self.started = True
        self.starving = False


@dataclass
class RunResult:
    delays_ms: list[float]
    starve_after_settle: int
    hard_drops: int
    underruns: int
    corrections: int
    output: np.ndarray


def simulate(
    speed: float,
    seconds: float,
    compensate: bool = True,
    seed: int = 1,
    fps: float = 60.0,
    on_arrival: bool = False,
) -> RunResult:
    """Run producer and an ``fps`` consumer for ``seconds`` of simulated time (with
    ``on_arrival`` the producer fills the playback after each frame, the polls do not)."""
    rng = np.random.default_rng(seed)
    clock = SimClock()
    buffer = AudioJitterBuffer(RATE, 2, target_delay_ms=40, max_delay_ms=120)
    reader = PlayoutReader(buffer, playback_target_ms=50.0, clock=clock)
    reader.enabled = compensate
    reader.on_arrival = on_arrival
    playback = SimPlayback(clock, speed)
    produced = 0
    next_frame = 0.0
    next_poll = 0.0
    next_sample = 2.0
    delays: list[float] = []
    starve_at_settle = 0
    while clock.now < seconds:
        if next_frame <= next_poll:
            clock.now = next_frame
            t = (np.arange(FRAME) + produced) / RATE
            tone = (0.5 * np.sin(2 * np.pi * TONE_HZ * t) * 32767).astype(np.int16)
            buffer.push_int16(np.repeat(tone, 2))
            produced += FRAME
            next_frame += 0.01
            if on_arrival:
                reader.fill(playback)
        else:
            clock.now = next_poll
            if not on_arrival:
                reader.fill(playback)
            next_poll += 1 / fps + rng.uniform(-0.002, 0.002)
            if clock.now >= next_sample:
                delays.append(1000.0 * (buffer.buffered_frames + playback.fill) / RATE)
                next_sample += 1.0
                if len(delays) == 3:
                    starve_at_settle = playback.starve_events
    return RunResult(
        delays_ms=delays,
        starve_after_settle=playback.starve_events - starve_at_settle,
        hard_drops=buffer.dropped_frames,
        underruns=buffer.underruns,
        corrections=reader.compensator.corrections,
        output=np.concatenate(playback.played)[:, 0],
    )


def max_jump(signal: np.ndarray) -> float:
    """The largest sample-to-sample step (a click shows as a jump)."""
    return float(np.abs(np.diff(signal)).max())


@pytest.mark.parametrize("speed", [0.995, 1.005])
def test_drift_of_half_a_percent_keeps_the_delay_flat_without_gaps(speed: float) -> None:
    minutes = 5
    result = simulate(speed, minutes * 60.0)
    delays = np.array(result.delays_ms)
    first, last = delays[5:65].mean(), delays[-60:].mean()
    # 0.5 % of 5 minutes is 1.5 s of audio: it was absorbed by small corrections
    assert abs(last - first) < 5.0, (first, last)
    assert delays.max() < 90.0 and delays[5:].min() > 5.0
    assert result.starve_after_settle == 0
    assert result.hard_drops == 0
    assert result.underruns == 0
    assert result.corrections >= 0.005 * minutes * 60 * 1000 / 12.5  # periods of <= 12.5 ms
    # splices are crossfaded at matching phase: no step larger than the tone's own slope
    slope = 0.5 * 2 * np.pi * TONE_HZ / RATE
    assert max_jump(result.output) < 2.5 * slope


def test_without_compensation_the_same_drift_grows_or_starves() -> None:
    slow = simulate(0.995, 60.0, compensate=False)
    fast = simulate(1.005, 60.0, compensate=False)
    assert slow.hard_drops > 0 or slow.delays_ms[-1] - slow.delays_ms[2] > 50.0
    assert fast.starve_after_settle + fast.underruns > 0


def test_nominal_clock_needs_no_corrections() -> None:
    result = simulate(1.0, 60.0)
    assert result.corrections <= 2
    assert result.starve_after_settle == 0 and result.hard_drops == 0


def test_polls_faster_than_frames_hold_less_delay_without_underruns() -> None:
    """At 120 fps most polls find no new frame: that is no underrun, and the delay held
    comes down below what 60 fps needs."""
    at_60 = simulate(1.0, 120.0)
    at_120 = simulate(1.0, 120.0, fps=120.0)
    assert at_120.underruns == 0 and at_120.starve_after_settle == 0
    assert np.mean(at_120.delays_ms[-20:]) < np.mean(at_60.delays_ms[-20:]) - 5.0


def test_a_playback_that_takes_everything_is_left_alone() -> None:
    """A consumer that never reports queued audio (a collector) has no clock to follow."""
    clock = SimClock()
    buffer = AudioJitterBuffer(RATE, 2)
    reader = PlayoutReader(buffer, playback_target_ms=50.0, clock=clock)

    class Collector:
        frames = 0

        def get_frames_available(self) -> int:
            return 4096

        def push_buffer(self, frames: np.ndarray) -> None:
            self.frames += len(frames)

    collector = Collector()
    for index in range(3000):
        clock.now = index * 0.01
        buffer.push_int16(np.zeros(2 * FRAME, np.int16))
        reader.fill(collector)
    assert reader.compensator.corrections == 0
    assert collector.frames + buffer.buffered_frames == 3000 * FRAME


def test_compensator_decisions() -> None:
    compensator = DriftCompensator(RATE, window_s=1.0, settle_s=1.0, hysteresis_ms=3.0)
    ms = RATE / 1000
    t = 0.0
    while t < 1.5:  # settles at 30 ms
        assert compensator.observe(t, 30 * ms, 100) == 0
        t += 1 / 60
    assert compensator.setpoint_ms == pytest.approx(30.0, abs=0.1)
    decisions = []
    while not decisions and t < 5:  # the consumer slowed down: 10 ms more delay
        decision = compensator.observe(t, 40 * ms, 100)
        if decision:
            decisions.append(decision)
        t += 1 / 60
    # drop, by no more than the error (over the 3 ms hysteresis, under the 10 ms step)
    assert len(decisions) == 1 and 3 * ms < decisions[0] <= 10 * ms and t < 3.0
    compensator.applied(t, round(10 * ms))  # dropped 10 ms
    later = [compensator.observe(t + i / 60, 30 * ms, 100) for i in range(1, 180)]
    assert later == [0] * len(later)  # no see-saw
    # a real-time playback found empty raises the level to hold
    before = compensator.setpoint_ms
    assert before is not None
    compensator.observe(t + 3.0, 30 * ms, 0)
    assert compensator.setpoint_ms == pytest.approx(before + 2.0)


def test_best_splice_finds_the_period() -> None:
    period = 160  # 300 Hz at 48 kHz
    t = np.arange(2000)
    wave = np.sin(2 * np.pi * t / period) + 0.3 * np.sin(4 * np.pi * t / period)
    assert best_splice(wave.astype(np.float32), 120, 120, 600) % period == 0
    stereo = np.stack([wave, 0.5 * wave], axis=1).astype(np.float32)
    assert best_splice(stereo, 120, 120, 600) % period == 0
    for odd in (163, 167):  # periods the coarse search (every 2nd frame) steps over
        wave = np.sin(2 * np.pi * t / odd) + 0.3 * np.sin(4 * np.pi * t / odd)
        assert best_splice(wave.astype(np.float32), 120, 120, 600) in (odd, 2 * odd, 3 * odd)


@pytest.mark.parametrize("rate", [16000, 44100, 48000, 96000])
def test_a_splice_keeps_the_gil(rate: int) -> None:
    """Splices run on the main thread; numpy lets go of the GIL for work on more than 500
    elements (np.correlate and np.argmax at any size), and under load the main thread then
    waits up to the switch interval to get it back. No other thread runs during a splice."""
    fade = min_period = round(CROSSFADE_MS * rate / 1000)
    max_period = round(MAX_PERIOD_MS * rate / 1000)
    frames = np.random.default_rng(3).random((max_period + 3 * fade, 2), np.float32)
    assert runs_beside(lambda: best_splice(frames, fade, min_period, max_period), 300) == 0


def test_the_held_delay_comes_down_while_the_playback_has_spare() -> None:
    compensator = DriftCompensator(RATE)
    ms = RATE / 1000
    t = 0.0
    while t < 1.5:
        compensator.observe(t, 40 * ms, round(30 * ms))
        t += 1 / 60
    assert compensator.setpoint_ms == pytest.approx(40.0, abs=0.1)
    while t < 22.0:  # 30 ms always waiting in the playback: more than it needs
        compensator.observe(t, 40 * ms, round(30 * ms))
        t += 1 / 60
    steps = math.floor((22.0 - 1.5) / LOWER_AFTER_SECONDS)
    lowered = 40.0 - steps * LOWER_STEP_MS
    assert compensator.setpoint_ms == pytest.approx(lowered, abs=LOWER_STEP_MS)
    lowered = compensator.setpoint_ms
    while t < 32.0:  # only 3 ms to spare: stays
        compensator.observe(t, 40 * ms, round(3 * ms))
        t += 1 / 60
    assert compensator.setpoint_ms == lowered


def test_after_running_dry_the_level_held_is_not_forgotten() -> None:
    compensator = DriftCompensator(RATE)
    ms = RATE / 1000
    t = 0.0
    while t < 1.5:
        compensator.observe(t, 40 * ms, round(20 * ms))
        t += 1 / 60
    assert compensator.setpoint_ms == pytest.approx(40.0, abs=0.1)
    compensator.reset(ran_dry=True)  # an underrun: buffering starts again from little
    while t < 3.0:
        compensator.observe(t, 20 * ms, round(10 * ms))
        t += 1 / 60
    assert compensator.setpoint_ms == pytest.approx(42.0, abs=0.1)  # held + one step


@pytest.mark.parametrize("speed", [0.995, 1.005])
def test_push_on_arrival_holds_less_delay_flat_under_drift(speed: float) -> None:
    """Filled as each 10 ms frame arrives, the playback needs to hold only what covers the
    next frame: the delay settles lower than with 60 fps polls and stays flat under drift,
    corrected with splices short enough for the audio at hand, without gaps or clicks."""
    arrival = simulate(speed, 120.0, on_arrival=True)
    polled = simulate(speed, 120.0)
    delays = np.array(arrival.delays_ms)
    assert abs(delays[-30:].mean() - delays[5:35].mean()) < 5.0
    assert arrival.starve_after_settle == 0 and arrival.underruns == 0
    assert arrival.hard_drops == 0
    assert delays[-30:].mean() < np.mean(polled.delays_ms[-30:]) - 5.0
    slope = 0.5 * 2 * np.pi * TONE_HZ / RATE
    assert max_jump(arrival.output) < 2.5 * slope
