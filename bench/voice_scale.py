"""9. Voice: 32 talking participants, one listener, against a raw-SDK listener.

32 publishers (two child processes of 16 rooms each, raw ``livekit.rtc``, subscribed to
nobody) talk in one room: tones switched on and off like speech. Two listeners join the same
room at the same time, each in its own process: ours (``LiveKitRoom`` + 32
``LiveKitAudioStream.poll`` into real-time playback stand-ins at 60 fps) and a raw-SDK one
doing the same work (32 ``rtc.AudioStream`` tasks converting to float32 into locked deques; a
60 fps loop pushing into the same stand-ins, delay bounded the same way). Each reports its
60 fps loop body's cost, its process CPU and the audio delay (buffer + playback) once a second.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from dataclasses import dataclass
from typing import Any

import numpy as np

from .children import read_line, start_child
from .live import BenchError, LiveSession
from .stats import table

PUBLISHERS = 32
PER_PROCESS = 16
SMOKE_PUBLISHERS = 4
SMOKE_SECONDS = 8.0


@dataclass(frozen=True)
class ScaleResult:
    seconds: float
    ours: dict[str, Any]
    raw: dict[str, Any]


def run(session: LiveSession, minutes: float, quick: bool) -> ScaleResult:
    """32 talkers for ``minutes``; ``quick`` (the bench's smoke run) is 4 talkers, 8 s."""
    seconds = SMOKE_SECONDS if quick else max(20.0, minutes * 60.0)
    talkers = SMOKE_PUBLISHERS if quick else PUBLISHERS
    room = f"voice-scale-{secrets.token_hex(3)}"
    server = session.server
    publishers: list[subprocess.Popen[str]] = []
    listeners: dict[str, subprocess.Popen[str]] = {}
    try:
        for first in range(0, talkers, PER_PROCESS):
            last = min(talkers, first + PER_PROCESS)
            tokens = [server.token(f"talker-{i}", room) for i in range(first, last)]
            publishers.append(
                start_child(
                    "bench.voice_scale_peers", "publish", {"url": server.url, "tokens": tokens}
                )
            )
        for process in publishers:
            if read_line(process, 300.0, "publishers") != "ready":
                raise BenchError("a publisher process failed")
        listeners |= {
            role: start_child(
                "bench.voice_scale_peers",
                role,
                {
                    "url": server.url,
                    "tokens": [server.token(role, room)],
                    "seconds": seconds,
                    "expected": talkers,
                },
            )
            for role in ("listen-ours", "listen-raw")
        }
        figures = {
            role: json.loads(read_line(process, seconds + 300.0, role))
            for role, process in listeners.items()
        }
        for process in listeners.values():
            process.wait(30)
        return ScaleResult(seconds, figures["listen-ours"], figures["listen-raw"])
    finally:
        for process in listeners.values():  # one that failed leaves the other running
            if process.poll() is None:
                process.kill()
        for process in publishers:
            if process.stdin is not None:
                process.stdin.close()
        for process in publishers:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def _start_mid_end(values: list[float]) -> str:
    if not values:
        return "n/a"
    return " / ".join(f"{values[i]:.0f}" for i in (0, len(values) // 2, len(values) - 1))


def _thirds(values: list[float]) -> str:
    if len(values) < 3:
        return "n/a"
    third = len(values) // 3
    return f"{np.mean(values[:third]):.1f} -> {np.mean(values[-third:]):.1f}"


def report(result: ScaleResult) -> str:
    ours, raw = result.ours, result.raw
    rows = []
    for label, figures in (("ours (LiveKitAudioStream)", ours), ("raw livekit.rtc", raw)):
        rows.append(
            [
                label,
                figures["streams"],
                f"{figures['cost_median_us']:.0f}",
                f"{figures['cost_p95_us']:.0f}",
                f"{figures['cpu_percent']:.1f}",
                _start_mid_end(figures["delays_ms"]),
                _thirds(figures["delays_ms"]),
                figures.get("starved", 0),
            ]
        )
    headers = [
        "listener",
        "streams",
        "frame cost median us",
        "p95 us",
        "process CPU %",
        "delay ms start/mid/end",
        "1st -> last third",
        "playback starved",
    ]
    cost_ratio = ours["cost_median_us"] / max(raw["cost_median_us"], 1e-9)
    cpu_ratio = ours["cpu_percent"] / max(raw["cpu_percent"], 1e-9)
    return "\n".join(
        [
            table(headers, rows),
            f"  ours / raw: per-frame main-thread cost {cost_ratio:.2f}x, process CPU "
            f"{cpu_ratio:.2f}x (target <= 1.1x), over {result.seconds:g} s at 60 fps, both "
            "listening at the same time. Ours: "
            f"{ours.get('corrections', 0)} drift corrections, "
            f"{ours.get('dropped_frames', 0)} frames dropped over max delay.",
        ]
    )
