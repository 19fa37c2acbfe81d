"""12. Scale: one listener in rooms of 8, 16 and 32 publishers, ours against raw livekit.rtc.

    python build.py bench --scale            # the figures (about 12 minutes)
    python build.py bench --scale --quick    # the smoke run (rooms of 2 and 4, about a minute)

Publishers are ``bench.voice_scale_peers publish`` child processes (8 per process, raw
livekit.rtc, subscribed to nobody): a speech-like tone each, plus for "video" a 160x90 camera
at about 15 fps. The
room grows 8 -> 16 -> 32 (new publisher processes join; the earlier ones stay). At each size
two listener processes (``bench.scale_peers``) join at the same time and measure for the same
seconds: ours (LiveKitRoom, audio streams into real-time playback stand-ins, video in the
video-tile mode, one ``pump_all()`` per 60 fps frame) and a raw-SDK listener doing the same
work; then the same again with proximity subscription (the nearest 8, ``LiveKitProximity`` /
a sort and ``set_subscribed``). Each point runs ``REPEATS`` listener pairs one after another
(one pair's ratio moves by about +-0.07 between pairs under the same conditions); a point's
ours/raw ratio is the median of its pairs' ratios, and every pair's ratio is printed beside
it. Reported per point (medians over its pairs): the 60 fps frame's median and p95 cost,
process CPU, RSS, video frames per second per track; the ours/raw ratios; the slope per
publisher (least squares over the sizes); and, because every encoder, the server and both
listeners share this machine, the whole machine's CPU use and the publishers' CPU.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .children import read_line, start_child
from .live import BenchError, LiveSession
from .stats import table

SIZES = (8, 16, 32)
QUICK_SIZES = (2, 4)
PER_PROCESS = 8
NEAREST = 8
QUICK_NEAREST = 2
VIDEO = (160, 90, 15)
SECONDS, QUICK_SECONDS = 15.0, 3.0
REPEATS, QUICK_REPEATS = 3, 1
SETTLE, QUICK_SETTLE = 3.0, 1.0
CPU_TARGET = 1.1
FLAT_TARGET = 1.1  # cost at 32 / cost at 16 with proximity


@dataclass
class Pair:
    """One run of both listeners at once."""

    ours: dict[str, Any]
    raw: dict[str, Any]
    machine_cpu: float  # percent of all cores, over the listeners' run
    publishers_cpu: float  # percent of one core, summed over the publisher processes

    @property
    def cpu_ratio(self) -> float:
        return float(self.ours["cpu_percent"] / max(self.raw["cpu_percent"], 1e-9))


def _medians(figures: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the pairs."""
    return {key: float(np.median([f[key] for f in figures])) for key in figures[0]}


@dataclass
class Point:
    media: str  # "voice" or "video"
    proximity: int  # 0: everyone
    size: int
    pairs: list[Pair]

    @property
    def ours(self) -> dict[str, Any]:
        return _medians([pair.ours for pair in self.pairs])

    @property
    def raw(self) -> dict[str, Any]:
        return _medians([pair.raw for pair in self.pairs])

    @property
    def cpu_ratio(self) -> float:
        """The median of the pairs' ours/raw process CPU ratios."""
        return float(np.median([pair.cpu_ratio for pair in self.pairs]))

    @property
    def machine_cpu(self) -> float:
        return float(np.median([pair.machine_cpu for pair in self.pairs]))

    @property
    def publishers_cpu(self) -> float:
        return float(np.median([pair.publishers_cpu for pair in self.pairs]))


@dataclass
class ScaleResult:
    sizes: tuple[int, ...]
    nearest: int
    seconds: float
    repeats: int
    points: list[Point] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # a room size this machine could not run
    load_before: float = 0.0
    load_after: float = 0.0


def _busy_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def _process_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return total


class Publishers:
    """Publisher processes of one room, added 8 at a time."""

    def __init__(self, session: LiveSession, room: str, video: bool) -> None:
        self.session, self.room, self.video = session, room, video
        self.processes: list[subprocess.Popen[str]] = []
        self.count = 0

    def grow_to(self, size: int) -> None:
        server = self.session.server
        started = []
        while self.count < size:
            last = min(size, self.count + PER_PROCESS)
            tokens = [server.token(f"talker-{i}", self.room) for i in range(self.count, last)]
            config: dict[str, Any] = {"url": server.url, "tokens": tokens}
            if self.video:
                config["video"] = list(VIDEO)
            process = start_child("bench.voice_scale_peers", "publish", config)
            self.processes.append(process)
            started.append(process)
            self.count = last
        for process in started:
            if read_line(process, 300.0, "publishers") != "ready":
                raise BenchError("a publisher process failed")

    def close(self) -> None:
        for process in self.processes:
            if process.stdin is not None:
                process.stdin.close()
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def _listen_pair(
    session: LiveSession, room: str, size: int, video: bool, proximity: int, quick: bool,
    publisher_pids: list[int],
) -> Pair:  # fmt: skip
    seconds = QUICK_SECONDS if quick else SECONDS
    server = session.server
    listeners = {
        role: start_child(
            "bench.scale_peers",
            role,
            {
                "url": server.url,
                "token": server.token(f"{role}-{secrets.token_hex(2)}", room),
                "seconds": seconds,
                "settle": QUICK_SETTLE if quick else SETTLE,
                "expected": size,
                "video": video,
                "proximity": proximity,
            },
        )
        for role in ("listen-ours", "listen-raw")
    }
    busy0, total0 = _busy_ticks()
    publishers0, wall0 = _process_ticks(publisher_pids), time.monotonic()
    try:
        figures = {
            role: json.loads(read_line(process, seconds + 300.0, role))
            for role, process in listeners.items()
        }
        busy1, total1 = _busy_ticks()
        publishers1, wall1 = _process_ticks(publisher_pids), time.monotonic()
        for process in listeners.values():
            process.wait(30)
    finally:
        for process in listeners.values():
            if process.poll() is None:
                process.kill()
    hz = os.sysconf("SC_CLK_TCK")
    machine = 100.0 * (busy1 - busy0) / max(total1 - total0, 1)
    publishers = 100.0 * (publishers1 - publishers0) / hz / max(wall1 - wall0, 1e-9)
    return Pair(figures["listen-ours"], figures["listen-raw"], machine, publishers)


def run(session: LiveSession, quick: bool) -> ScaleResult:
    sizes = QUICK_SIZES if quick else SIZES
    nearest = QUICK_NEAREST if quick else NEAREST
    repeats = QUICK_REPEATS if quick else REPEATS
    result = ScaleResult(sizes, nearest, QUICK_SECONDS if quick else SECONDS, repeats)
    result.load_before = os.getloadavg()[0]
    for media in ("voice", "video"):
        room = f"scale-{media}-{secrets.token_hex(3)}"
        publishers = Publishers(session, room, media == "video")
        try:
            for size in sizes:
                try:
                    publishers.grow_to(size)
                    pids = [p.pid for p in publishers.processes]
                    for proximity in (nearest, 0):  # the lighter point first: it matters most
                        pairs = [
                            _listen_pair(
                                session, room, size, media == "video", proximity, quick, pids
                            )
                            for _ in range(repeats)
                        ]
                        point = Point(media, proximity, size, pairs)
                        result.points.append(point)
                        print(f"  {_progress(point)}", file=sys.stderr, flush=True)
                except BenchError as error:  # keep what was measured; larger rooms are skipped
                    result.failures.append(f"{media}, {size} publishers: {error}")
                    print(f"  {media}, {size} publishers FAILED: {error}", file=sys.stderr)
                    break
        finally:
            publishers.close()
    result.load_after = os.getloadavg()[0]
    return result


def _progress(p: Point) -> str:
    who = f"nearest {p.proximity}" if p.proximity else "everyone"
    return (
        f"{p.media}, {who}, {p.size} publishers: frame {p.ours['cost_median_us']:.0f} us "
        f"(raw {p.raw['cost_median_us']:.0f}), CPU {p.ours['cpu_percent']:.1f} % "
        f"(raw {p.raw['cpu_percent']:.1f}), ratio {p.cpu_ratio:.2f} "
        f"({', '.join(f'{pair.cpu_ratio:.2f}' for pair in p.pairs)}), "
        f"machine {p.machine_cpu:.0f} %"
    )


def _slope(points: list[Point], who: str, key: str) -> float:
    """Least-squares change of ``key`` per added publisher."""
    sizes = [p.size for p in points]
    values = [getattr(p, who)[key] for p in points]
    return float(np.polyfit(sizes, values, 1)[0]) if len(set(sizes)) > 1 else float("nan")


def report(result: ScaleResult) -> str:
    rows = []
    for p in result.points:
        for who in ("ours", "raw"):
            f = getattr(p, who)
            rows.append(
                [
                    p.media,
                    f"nearest {result.nearest}" if p.proximity else "everyone",
                    p.size,
                    who,
                    f["streams"],
                    f"{f['cost_median_us']:.0f}",
                    f"{f['cost_p95_us']:.0f}",
                    f"{f.get('busy_median_us', float('nan')):.0f}",
                    f"{f['cpu_percent']:.1f}",
                    f"{f['rss_mb']:.0f}",
                    f"{f['video_fps_per_track']:.1f}" if p.media == "video" else "-",
                    f.get("starved", 0),
                    f"{p.machine_cpu:.0f}" if who == "ours" else "",
                    f"{p.publishers_cpu:.0f}" if who == "ours" else "",
                ]
            )
    headers = [
        "media",
        "subscribed",
        "pubs",
        "listener",
        "streams",
        "frame us",
        "p95 us",
        "frame CPU us",
        "CPU %",
        "RSS MB",
        "fps/track",
        "starved",
        "machine %",
        "publishers %",
    ]
    lines = [table(headers, rows, left=(0, 1, 3))]
    summary = []
    for media in ("voice", "video"):
        for proximity in (0, result.nearest):
            points = [p for p in result.points if p.media == media and p.proximity == proximity]
            if not points:
                continue
            label = f"{media}, {'nearest ' + str(result.nearest) if proximity else 'everyone'}"
            cpu_ratios = [p.cpu_ratio for p in points]
            each = "; ".join(
                f"{p.size}: {', '.join(f'{pair.cpu_ratio:.2f}' for pair in p.pairs)}"
                for p in points
            )
            cost_ratios = [
                p.ours["cost_median_us"] / max(p.raw["cost_median_us"], 1e-9) for p in points
            ]
            worst = max(cpu_ratios)
            text = (
                f"  {label}: ours/raw CPU {', '.join(f'{r:.2f}x' for r in cpu_ratios)} "
                f"(target <= {CPU_TARGET}: {'met' if worst <= CPU_TARGET else 'MISSED'}; "
                f"each pair: {each}), "
                f"frame cost {', '.join(f'{r:.2f}x' for r in cost_ratios)}; slope per publisher: "
                f"ours {_slope(points, 'ours', 'cost_median_us'):.1f} us and "
                f"{_slope(points, 'ours', 'cpu_percent'):.2f} % CPU and "
                f"{_slope(points, 'ours', 'rss_mb'):.2f} MB, raw "
                f"{_slope(points, 'raw', 'cost_median_us'):.1f} us and "
                f"{_slope(points, 'raw', 'cpu_percent'):.2f} % CPU and "
                f"{_slope(points, 'raw', 'rss_mb'):.2f} MB"
            )
            if proximity and len(points) >= 2:
                last, before = points[-1], points[-2]
                grew = {
                    who: [
                        getattr(last, who)[key] / max(getattr(before, who)[key], 1e-9)
                        for key in ("busy_median_us", "cpu_percent", "cost_median_us")
                    ]
                    for who in ("ours", "raw")
                }
                busy, cpu, wall = grew["ours"]
                text += (
                    f"; {before.size} -> {last.size} publishers: ours frame CPU {busy:.2f}x, "
                    f"process CPU {cpu:.2f}x (flat target <= {FLAT_TARGET}: "
                    f"{'met' if max(busy, cpu) <= FLAT_TARGET else 'MISSED'}), wall-clock "
                    f"frame {wall:.2f}x (raw {grew['raw'][2]:.2f}x over the same step: what "
                    "the busier machine adds)"
                )
            summary.append(text + ".")
    lines += summary
    lines += [f"  NOT MEASURED: {failure}" for failure in result.failures]
    lines.append(
        f"  {result.repeats} listener pairs per point, {result.seconds:g} s each at 60 fps, "
        "both listeners of a pair at once; a point's figures are medians over its pairs, its "
        "CPU ratio the median of the pairs' ratios; video "
        f"{VIDEO[0]}x{VIDEO[1]} at ~{VIDEO[2]} fps per publisher, received in I420 (the tile "
        "mode) by both. frame us: the 60 fps frame's wall-clock time (waits for the GIL and "
        "for a core included); frame CPU us: the main thread's own CPU time in it. "
        "machine %: all cores busy during the point; publishers %: of one core, "
        "all publisher processes together. fps/track below the sent rate, starved playbacks "
        "or a machine near 100 % mean this machine was the limit, not the listener. Load "
        f"average {result.load_before:.2f} before, {result.load_after:.2f} after."
    )
    return "\n".join(lines)
