"""Run every godot-livekit benchmark once and print one readable report.

    python build.py bench [--minutes 3] [--quick] [--port 7880]
    python build.py bench -- --sections 7,8,9,10 --voice-minutes 10   # the voice figures
    python build.py bench --scale [--quick]   # a listener in rooms of 8, 16, 32 (section 12)

Sections 2-6 and 9-12 (and the receive half of 3) need a local livekit-server in the
private network namespace that ``build.py bench`` creates; 7 and 8 run offline.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from collections.abc import Sequence
from importlib import metadata

import numpy as np

from . import (
    audio_cost,
    audio_drift,
    audio_latency,
    data_tracks,
    receive_video,
    scale,
    send_video,
    video_tiles,
    voice_echo,
    voice_latency,
    voice_noise,
    voice_scale,
)
from .live import BenchError, ClickFeeder, LiveSession

DEFAULT_PORT = 7880
DEFAULT_MINUTES = 3.0
QUICK_MINUTES = 0.1

SECTIONS = (
    "1. Send video: main-thread cost of capture_frame",
    "2. Receive video: main-thread cost of poll()",
    "3. Audio: main-thread cost per 10 ms frame",
    "4. Audio: end-to-end latency on the local server",
    "5. Audio: receive buffer delay over time (clock drift)",
    "6. Data tracks: 60 Hz latency and loss against raw livekit.rtc",
    "7. Voice: echo cancellation (ERLE) and double talk",
    "8. Voice: noise suppression (SNR gain)",
    "9. Voice: microphone-in to playback-out vs the raw SDK",
    "10. Voice: 32 participants, listener cost vs a raw-SDK listener",
    "11. Video tiles: I420 planes vs RGBA, main-thread cost and bytes per frame",
    "12. Scale: a listener in rooms of 8, 16 and 32 vs a raw-SDK listener",
)
DATA_TRACK_SECONDS = 60.0
QUICK_DATA_TRACK_SECONDS = 3.0
DEFAULT_VOICE_MINUTES = 10.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="godot-livekit benchmarks (one report)."
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help=f"length of the drift run (default {DEFAULT_MINUTES:g}; --quick: {QUICK_MINUTES:g})",
    )
    parser.add_argument("--quick", action="store_true", help="short smoke run of everything")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="local server HTTP/WebSocket port"
    )
    parser.add_argument("--udp-port", type=int, default=None, help="WebRTC UDP port (port + 2)")
    parser.add_argument("--only", choices=["data-tracks"], help="run just this section")
    parser.add_argument(
        "--scale", action="store_true", help="run just section 12 (rooms of 8, 16, 32)"
    )
    parser.add_argument(
        "--data-track-seconds", type=float, default=None, help="length of section 6 (default 60)"
    )
    parser.add_argument(
        "--sections",
        default="",
        help="comma-separated section numbers to run (default: all), e.g. 7,8,9",
    )
    parser.add_argument(
        "--voice-minutes",
        type=float,
        default=None,
        help=f"length of the 32-participant run (default {DEFAULT_VOICE_MINUTES:g}; "
        "1 is the quick one; --quick runs a 4-talker smoke test instead)",
    )
    return parser


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (platform.processor() elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_facts() -> str:
    """CPU model, cores, Python, numpy and livekit versions, OS."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    try:
        livekit_version = metadata.version("livekit")
    except metadata.PackageNotFoundError:
        livekit_version = "?"
    return (
        f"machine: {cpu_model()}, {os.cpu_count()} cores ({usable} usable), "
        f"Python {platform.python_version()}, numpy {np.__version__}, livekit {livekit_version}, "
        f"{platform.system()} {platform.release()}"
    )


def section(number: int) -> None:
    print(f"\n=== {SECTIONS[number - 1]} ===", flush=True)


def emit(text: str) -> None:
    print(text, flush=True)


def run_all(args: argparse.Namespace) -> None:
    quick: bool = args.quick
    minutes = (
        args.minutes if args.minutes is not None else (QUICK_MINUTES if quick else DEFAULT_MINUTES)
    )
    voice_minutes = args.voice_minutes if args.voice_minutes is not None else DEFAULT_VOICE_MINUTES
    wanted = {int(n) for n in args.sections.split(",") if n.strip()} or set(
        range(1, len(SECTIONS) + 1)
    )
    mode = "quick smoke run" if quick else "full run"
    emit(
        f"godot-livekit bench ({mode}; drift run {minutes:g} min; voice run {voice_minutes:g} min)"
    )
    emit(machine_facts())
    emit(f"load average before: {os.getloadavg()[0]:.2f}")
    track_seconds = args.data_track_seconds or (
        QUICK_DATA_TRACK_SECONDS if quick else DATA_TRACK_SECONDS
    )
    if args.only == "data-tracks":
        wanted = {6}
    if args.scale:
        wanted = {12}

    memcpy = None
    audio_send = []
    if 1 in wanted:
        section(1)
        memcpy = send_video.measure_memcpy(quick)
        emit(send_video.report(send_video.run(memcpy, quick)))
    if 3 in wanted:
        audio_send = audio_cost.run_send(quick)  # no server yet: a quiet machine
    if 7 in wanted:
        section(7)
        emit(voice_echo.report(voice_echo.run(quick)))
    if 8 in wanted:
        section(8)
        emit(voice_noise.report(voice_noise.run(quick)))
    if not wanted & {2, 3, 4, 5, 6, 9, 10, 11, 12}:
        return

    with LiveSession(args.port, args.udp_port) as session:
        if 2 in wanted:
            section(2)
            if memcpy is None:
                memcpy = send_video.measure_memcpy(quick)
            received = receive_video.run(session, memcpy, quick)
            emit(receive_video.report(received, receive_video.synthetic_poll()))
        if wanted & {3, 4, 5}:
            feeder = ClickFeeder(session)
            try:
                session.wait_published(feeder.publication, "the audio track")
                if 3 in wanted:
                    section(3)
                    receive = audio_cost.measure_receive(session, quick)
                    emit(audio_cost.report([*audio_send, receive]))
                if 4 in wanted:
                    section(4)
                    emit(audio_latency.report(audio_latency.run(session, feeder, quick)))
                if 5 in wanted:
                    section(5)
                    emit(f"  running {minutes:g} min ...")
                    seconds, drift = audio_drift.run(session, minutes)
                    emit(audio_drift.report(seconds, drift))
            finally:
                feeder.stop()
        if 6 in wanted:
            section(6)
            emit(data_tracks.report(data_tracks.run(session, track_seconds)))
        if 9 in wanted:
            section(9)
            emit(voice_latency.report(voice_latency.run(session, quick)))
        if 10 in wanted:
            section(10)
            emit("  smoke run: 4 talkers, 8 s" if quick else f"  running {voice_minutes:g} min ...")
            emit(voice_scale.report(voice_scale.run(session, voice_minutes, quick)))
        if 11 in wanted:
            section(11)
            emit(video_tiles.report(video_tiles.run(session, quick)))
        if 12 in wanted:
            section(12)
            emit("  smoke run: rooms of 2 and 4" if quick else "  running about 12 min ...")
            emit(scale.report(scale.run(session, quick)))
    emit(f"load average after: {os.getloadavg()[0]:.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; 0 on success."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    try:
        run_all(args)
    except (BenchError, RuntimeError) as error:
        print(f"bench FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    emit(f"\nbench finished in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
