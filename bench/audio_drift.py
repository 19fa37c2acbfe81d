"""5. Receive buffer delay over minutes, with consumers whose clocks drift.

Several ``LiveKitAudioStream`` s read alice's audio at once; each feeds a real-time playback
stand-in (100 ms buffer) drained 0.5 % slower, exactly at, and 0.5 % faster than 48 kHz,
plus a slow one with Godot's default generator buffer (500 ms).
A 60 fps loop polls them; every second ``get_buffered_ms()`` (the jitter buffer) and the
playback buffer's fill are sampled. A bounded delay shows as a flat end vs start, with
the excess audio of the slow clock dropped (``get_dropped_frames``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from godot_livekit import LiveKitAudioStream, LiveKitTrack

from .live import SAMPLE_RATE, LiveSession, RealtimePlayback
from .stats import Pacer, table

LOOP_FPS = 60
PLAYBACK_MS = 100.0
GODOT_DEFAULT_MS = 500.0  # AudioStreamGenerator.buffer_length's default
CONSUMERS = (
    ("0.5 % slower", 0.995, PLAYBACK_MS),
    ("nominal", 1.0, PLAYBACK_MS),
    ("0.5 % faster", 1.005, PLAYBACK_MS),
    ("0.5 % slower, 500 ms", 0.995, GODOT_DEFAULT_MS),
)


@dataclass
class Consumer:
    label: str
    speed: float
    stream: LiveKitAudioStream
    playback: RealtimePlayback
    jitter_ms: list[float] = field(default_factory=list)
    playback_ms: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class DriftResult:
    label: str
    speed: float
    jitter_ms: list[float]
    total_ms: list[float]
    dropped_frames: int
    underruns: int
    starve_events: int
    starved_ms: float


def run(session: LiveSession, minutes: float) -> tuple[float, list[DriftResult]]:
    seconds = max(3.0, minutes * 60.0)
    sender = session.alice_at_bob()
    consumers = [
        Consumer(
            label,
            speed,
            LiveKitAudioStream.from_participant(sender, LiveKitTrack.SOURCE_MICROPHONE),
            RealtimePlayback(capacity_ms=capacity_ms, speed=speed),
        )
        for label, speed, capacity_ms in CONSUMERS
    ]
    try:
        session.wait(
            lambda: all(c.stream.get_buffered_ms() > 0 for c in consumers), "received audio"
        )
        pacer = Pacer(1 / LOOP_FPS)
        start = time.monotonic()
        next_sample = start + 1.0
        while True:
            now = time.monotonic()
            if now >= next_sample:
                for consumer in consumers:
                    consumer.jitter_ms.append(consumer.stream.get_buffered_ms())
                    consumer.playback_ms.append(consumer.playback.fill_ms)
                next_sample += 1.0
                if now - start >= seconds:
                    break
            for consumer in consumers:
                consumer.stream.poll(consumer.playback)
            session.pump()
            pacer.wait()
        return seconds, [_result(c) for c in consumers]
    finally:
        for consumer in consumers:
            consumer.stream.close()


def _result(consumer: Consumer) -> DriftResult:
    jitter = consumer.jitter_ms
    total = [j + p for j, p in zip(jitter, consumer.playback_ms, strict=True)]
    return DriftResult(
        label=consumer.label,
        speed=consumer.speed,
        jitter_ms=jitter,
        total_ms=total,
        dropped_frames=consumer.stream.get_dropped_frames(),
        underruns=consumer.stream.get_underruns(),
        starve_events=consumer.playback.starve_events,
        starved_ms=1000.0 * consumer.playback.starved_frames / SAMPLE_RATE,
    )


def _start_mid_end(values: list[float]) -> str:
    if not values:
        return "n/a"
    return " / ".join(f"{values[i]:.0f}" for i in (0, len(values) // 2, len(values) - 1))


def _third_means(values: list[float]) -> str:
    """Mean of the first and last third, e.g. '52 -> 55'."""
    if len(values) < 3:
        return "n/a"
    third = len(values) // 3
    return f"{np.mean(values[:third]):.0f} -> {np.mean(values[-third:]):.0f}"


def report(seconds: float, results: list[DriftResult]) -> str:
    rows = []
    for r in results:
        rows.append(
            [
                f"{r.label} ({r.speed:g}x)",
                _start_mid_end(r.jitter_ms),
                f"{max(r.jitter_ms, default=0):.0f}",
                _start_mid_end(r.total_ms),
                f"{max(r.total_ms, default=0):.0f}",
                _third_means(r.total_ms),
                f"{r.dropped_frames} ({1000 * r.dropped_frames / SAMPLE_RATE:.0f} ms)",
                r.underruns,
                f"{r.starve_events} ({r.starved_ms:.0f} ms)",
            ]
        )
    headers = [
        "consumer",
        "jitter ms start/mid/end",
        "max",
        "jitter+playback ms s/m/e",
        "max",
        "1st->last third",
        "dropped frames",
        "underruns",
        "playback starved",
    ]
    samples = len(results[0].jitter_ms) if results else 0
    return "\n".join(
        [
            table(headers, rows),
            f"  {seconds:g} s, {samples} samples per consumer (one a second). jitter = "
            "get_buffered_ms() (target 40 / max 120 ms); jitter+playback = what a sample waits "
            "after arriving, incl. the playback buffer (100 ms; Godot's default is 500 ms).",
            "  underruns = pops that found less than the playback could take; playback "
            "starved = times (and total time) the mixer found the playback buffer empty.",
        ]
    )
