"""4. End-to-end audio latency on the local server, from periodic clicks.

alice's feeder thread publishes silence with a 5 ms click every 0.5 s; the time just
before each click frame enters ``capture_frame`` is the reference. bob's 60 fps loop polls
``LiveKitAudioStream.poll`` into a real-time playback stand-in (100 ms buffer drained at
48 kHz of wall-clock time, like Godot's mixer) that timestamps the first loud sample of
each click when ``poll`` pushes it. "Heard" adds the audio queued ahead of it in the
playback buffer.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass

import numpy as np

from godot_livekit import LiveKitAudioStream, LiveKitTrack

from .live import CLICK_PERIOD, BenchError, ClickFeeder, LiveSession, RealtimePlayback
from .stats import Pacer, Stats, table

LOOP_FPS = 60
WARMUP_SECONDS = 1.5


@dataclass(frozen=True)
class LatencyResult:
    pushed: Stats
    heard: Stats
    clicks_sent: int
    unmatched: int
    send_queue_ms: float
    jitter_ms: float
    playback_ms: float


def run(session: LiveSession, feeder: ClickFeeder, quick: bool) -> LatencyResult:
    impulses = 6 if quick else 40
    stream = LiveKitAudioStream.from_participant(
        session.alice_at_bob(), LiveKitTrack.SOURCE_MICROPHONE
    )
    playback = RealtimePlayback(detect=True)
    try:
        session.wait(lambda: stream.get_buffered_ms() > 0, "received audio")
        start = time.perf_counter()
        timeout = WARMUP_SECONDS + impulses * CLICK_PERIOD * 2 + 10
        pacer = Pacer(1 / LOOP_FPS)
        send_queue: list[float] = []
        jitter: list[float] = []
        fill: list[float] = []

        def counted() -> list[float]:
            return [
                d.pushed_at for d in playback.detections if d.pushed_at - start >= WARMUP_SECONDS
            ]

        while len(counted()) < impulses:
            if time.perf_counter() - start > timeout:
                raise BenchError(f"only {len(counted())} of {impulses} clicks detected")
            send_queue.append(1000.0 * feeder.source.get_queued_duration())
            jitter.append(stream.get_buffered_ms())
            stream.poll(playback)
            fill.append(playback.fill_ms)
            session.pump()
            pacer.wait()
    finally:
        stream.close()

    clicks = feeder.clicks()
    detections = [d for d in playback.detections if d.pushed_at - start >= WARMUP_SECONDS]
    pushed_ns: list[float] = []
    heard_ns: list[float] = []
    unmatched = 0
    for detection in detections[:impulses]:
        index = bisect.bisect_right(clicks, detection.pushed_at) - 1
        if index < 0 or detection.pushed_at - clicks[index] >= CLICK_PERIOD:
            unmatched += 1
            continue
        sent = clicks[index]
        pushed_ns.append((detection.pushed_at - sent) * 1e9)
        heard_ns.append((detection.heard_at - sent) * 1e9)
    first, last = detections[0].pushed_at, detections[min(impulses, len(detections)) - 1].pushed_at
    sent_in_window = sum(1 for c in clicks if first - CLICK_PERIOD < c <= last)
    return LatencyResult(
        pushed=Stats.of(pushed_ns),
        heard=Stats.of(heard_ns),
        clicks_sent=sent_in_window,
        unmatched=unmatched,
        send_queue_ms=float(np.mean(send_queue)),
        jitter_ms=float(np.mean(jitter)),
        playback_ms=float(np.mean(fill)),
    )


def report(result: LatencyResult) -> str:
    rows = []
    for label, stats in (
        ("capture_frame -> pushed by poll()", result.pushed),
        ("capture_frame -> heard (after playback buffer)", result.heard),
    ):
        rows.append(
            [
                label,
                stats.count,
                f"{stats.median_ms:.1f}",
                f"{stats.p95_ms:.1f}",
                f"{stats.min_ns / 1e6:.1f}",
                f"{stats.max_ns / 1e6:.1f}",
            ]
        )
    headers = ["impulse latency", "n", "median ms", "p95 ms", "min ms", "max ms"]
    return "\n".join(
        [
            table(headers, rows),
            f"  {result.pushed.count} impulses detected of {result.clicks_sent} sent in that "
            f"window ({result.unmatched} unmatched).",
            f"  mean while measuring: SDK send queue {result.send_queue_ms:.1f} ms, jitter "
            f"buffer before poll {result.jitter_ms:.1f} ms, playback buffer after poll "
            f"{result.playback_ms:.1f} ms; the rest of 'pushed' is the SDK/WebRTC pipe "
            "(Opus 20 ms packets, NetEq, 10 ms AudioStream frames) and the 60 fps poll.",
        ]
    )
