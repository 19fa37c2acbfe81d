"""3. Audio main-thread cost per 10 ms frame, each way.

Send: ``LiveKitAudioSource.capture_frame`` of 480 float32 samples per channel (mono and
stereo), paced every 10 ms like a microphone. Receive: ``LiveKitAudioStream.poll`` pushing
10 ms (480 stereo frames) of real received audio into a playback that only keeps a
reference; only polls that pushed a full 10 ms are timed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from godot_livekit_dev.patterns import sine_wave

from godot_livekit import LiveKitAudioSource, LiveKitAudioStream, LiveKitTrack, _runtime
from godot_livekit.media_convert import float_to_int16

from .live import FRAME_SAMPLES, SAMPLE_RATE, BenchError, KeepingPlayback, LiveSession
from .stats import Pacer, Stats, table, time_calls

FRAME_INTERVAL = 0.01


@dataclass(frozen=True)
class AudioCost:
    label: str
    stats: Stats
    note: str


def measure_send(channels: int, quick: bool) -> AudioCost:
    reps, warmup = (50, 10) if quick else (500, 50)
    source = LiveKitAudioSource(SAMPLE_RATE, channels, 200)
    chunk = sine_wave(440.0, SAMPLE_RATE, channels, FRAME_SAMPLES)
    stats = time_calls(
        lambda: source.capture_frame(chunk, SAMPLE_RATE, channels, FRAME_SAMPLES),
        reps,
        warmup,
        FRAME_INTERVAL,
    )
    name = "mono" if channels == 1 else "stereo"
    return AudioCost(
        f"send: capture_frame, {name} 480 x {channels} float32",
        stats,
        f"dropped {source.get_dropped_frames()} frames",
    )


def measure_receive(session: LiveSession, quick: bool) -> AudioCost:
    """Poll every 10 ms from a real remote audio track (the click feeder's)."""
    reps = 50 if quick else 500
    stream = LiveKitAudioStream.from_participant(
        session.alice_at_bob(), LiveKitTrack.SOURCE_MICROPHONE
    )
    playback = KeepingPlayback(FRAME_SAMPLES)
    samples: list[int] = []
    polls = 0
    try:
        session.wait(lambda: stream.get_buffered_ms() > 0, "received audio")
        pacer = Pacer(FRAME_INTERVAL)
        deadline = time.monotonic() + reps * FRAME_INTERVAL * 4 + 10
        warmup = 20
        while len(samples) < reps:
            if time.monotonic() > deadline:
                raise BenchError(f"only {len(samples)} of {reps} full 10 ms polls")
            t0 = time.perf_counter_ns()
            pushed = stream.poll(playback)
            elapsed = time.perf_counter_ns() - t0
            polls += 1
            if pushed == FRAME_SAMPLES:
                if warmup > 0:
                    warmup -= 1
                else:
                    samples.append(elapsed)
            if polls % 5 == 0:
                session.pump()
            pacer.wait()
    finally:
        stream.close()
    return AudioCost(
        "receive: poll(playback) pushing 480 x 2 float32",
        Stats.of(samples),
        f"{polls} polls for {len(samples)} timed ones",
    )


def measure_references(quick: bool) -> list[AudioCost]:
    """Parts of the send path: the numpy conversion, and waking the runtime thread."""
    reps, warmup = (50, 10) if quick else (500, 50)
    chunk = sine_wave(440.0, SAMPLE_RATE, 1, FRAME_SAMPLES)

    async def nothing() -> None:
        return None

    convert = time_calls(lambda: float_to_int16(chunk, 1, FRAME_SAMPLES), reps, warmup)
    wake = time_calls(lambda: _runtime.submit(nothing()), reps, warmup, FRAME_INTERVAL)
    return [
        AudioCost("  part: float_to_int16, mono (back to back)", convert, "numpy only"),
        AudioCost(
            "  part: submit an empty coroutine (paced)",
            wake,
            "wakes the runtime thread; waits for the GIL back",
        ),
    ]


def run_send(quick: bool) -> list[AudioCost]:
    return [measure_send(1, quick), measure_send(2, quick), *measure_references(quick)]


def report(results: list[AudioCost]) -> str:
    rows = [
        [
            r.label,
            r.stats.count,
            f"{r.stats.median_us:.1f}",
            f"{r.stats.p95_us:.1f}",
            f"{100 * r.stats.median_ns / 1e7:.2f} %",
            r.note,
        ]
        for r in results
    ]
    headers = ["path (per 10 ms frame)", "n", "median us", "p95 us", "of 10 ms", "note"]
    return table(headers, rows, left=(0, 5))
