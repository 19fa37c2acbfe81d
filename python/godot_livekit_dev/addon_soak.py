"""Long run through the addon layer: is memory flat when py4godot frees nothing for us?

    python build.py soak --addon --minutes 10        # (inside the test network namespace)
    python -m godot_livekit_dev.addon_soak --minutes 10

Real parts: an embedded livekit-server, the livekit SDK. The engine is the faithful py4godot
stand-in (tests/py4godot_standin): the viewer is GDScript-like code that only touches the
addon's Godot objects (tests/support/addon_env.py), pumped by the LiveKitPoller's ``_process``
at 60 Hz. A publisher (the core, in the same process) sends 1280x720 video at 30 fps, a
48 kHz tone and a data packet per second. The viewer shows every frame through a
LiveKitVideoStream (ImageTexture updated in place) and plays the audio through a
LiveKitAudioStream attached to a playback that a mixer drains in real time. Every
``--churn-every`` seconds it also:
- drops its video stream and makes a new one from the same track (the poller closes the old),
- connects a throw-away room and drops it while connected (the poller disconnects it), or
  disconnects and reconnects it explicitly, alternately.

After ``--settle`` seconds of media it starts tracemalloc, runs ``--warmup`` seconds of the same
activity (so the working set exists under tracing), takes the baseline and reports, every
``--interval`` seconds and at the end: traced Python heap, RSS (after ``malloc_trim``), frames
shown, audio pushed, churn cycles, objects the addon holds, py4godot script instances
(py4godot never frees them) and Godot objects alive (the stand-in's ObjectDB). The exit
code is 1 when the least-squares trend of the heap or RSS over the run exceeds
``--max-heap-mb`` / ``--max-rss-mb`` (single samples move by a frame buffer or two) or
media stopped.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import logging
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from godot_livekit import (
    LiveKitAudioSource,
    LiveKitLocalAudioTrack,
    LiveKitLocalVideoTrack,
    LiveKitVideoSource,
)
from godot_livekit import LiveKitRoom as CoreRoom
from godot_livekit.signals import activity_counter, wait_for_activity
from godot_livekit.tools.devserver import LocalServer

from .feeders import tone_feeder, video_feeder

REPO_ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT, FPS = 1280, 720, 30
RATE = 48000
FRAME = 1.0 / 60.0
ROOM = "addon-soak"
CONNECT_WAIT = 20.0


def _addon_env() -> Any:
    """The stand-in environment (a checkout-only tool: it lives in the test tree)."""
    support = str(REPO_ROOT / "tests" / "support")
    if support not in sys.path:
        sys.path.insert(0, support)
    import addon_env

    return addon_env


def _trim() -> None:
    """Hand memory glibc keeps for reuse back to the OS (Linux), so RSS shows what is in use:
    720p frames are 3.6 MB allocations that come and go."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss_mb() -> float:
    _trim()
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def traced_mb() -> float:
    return tracemalloc.get_traced_memory()[0] / 2**20 if tracemalloc.is_tracing() else 0.0


@dataclass
class Sample:
    seconds: float
    heap_mb: float
    rss_mb: float


@dataclass
class Viewer:
    """The GDScript side: one room, a video stream shown each frame, audio played."""

    env: Any
    room: Any
    playback: Any
    events: list[str] = field(default_factory=list)
    video_track: Any = None
    video: Any = None
    audio: Any = None
    frames: int = 0
    data_packets: int = 0
    pushed: int = 0
    streams_made: int = 0

    def on_track_subscribed(self, track: Any, _publication: Any, _participant: Any) -> None:
        if track.get_kind() == 2:
            self.video_track = track
            self.new_video_stream()
        else:
            self.audio = self.env.new_object("LiveKitAudioStream").from_track(track)
            self.audio.attach_playback(self.env.gd_var(self.playback))

    def new_video_stream(self) -> None:
        """(Re)make the video stream; the previous one is simply dropped."""
        self.video = self.env.new_object("LiveKitVideoStream").from_track(self.video_track)
        self.video.connect("frame_received", self.on_frame)
        self.streams_made += 1

    def on_frame(self) -> None:
        self.frames += 1

    def on_data(self, data: Any, _participant: Any, _kind: int, _topic: str) -> None:
        self.data_packets += data.size() > 0


class Mixer:
    """Godot's audio thread: drains the playback at 48 kHz of wall-clock time."""

    def __init__(self, playback: Any) -> None:
        self.playback = playback
        self.last = time.monotonic()

    def __call__(self) -> int:
        now = time.monotonic()
        due = int((now - self.last) * RATE)
        if due <= 0:
            return 0
        self.last += due / RATE
        return len(self.playback.standin_mix(due))


class Churn:
    """Rooms and streams that come and go: a state machine advanced once per frame."""

    def __init__(self, env: Any, server: LocalServer, viewer: Viewer, rooms: bool = True) -> None:
        self.env, self.server, self.viewer, self.rooms = env, server, viewer, rooms
        self.room: Any = None
        self.connected = False
        self.cycles = 0
        self.waiting_since = 0.0

    def start_cycle(self) -> None:
        self.viewer.new_video_stream()  # the old stream is dropped without close()
        if not self.rooms:
            self.cycles += 1
            return
        if self.room is None:
            self.room = self.env.new_object("LiveKitRoom")
            self.room.connect("connected", self._on_connected)
        self.connected = False
        identity = f"churn-{self.cycles}"
        token = self.server.token(identity, ROOM)
        self.room.connect_to_room(self.server.url, token, self.env.gd_dictionary())
        self.waiting_since = time.monotonic()

    def _on_connected(self) -> None:
        self.connected = True

    def step(self) -> None:
        if self.room is None or not self.connected:
            if self.room is not None and time.monotonic() - self.waiting_since > CONNECT_WAIT:
                raise RuntimeError("a churn room did not connect")
            return
        self.cycles += 1
        if self.cycles % 2:
            self.room.drop()  # connected and dropped: the poller disconnects and frees it
            self.room = None
        else:
            self.room.disconnect_from_room()  # explicit: the same object reconnects next time
        self.connected = False


def run(args: argparse.Namespace) -> int:
    env = _addon_env()
    from py4godot.classes.AudioStreamGenerator import AudioStreamGenerator
    from py4godot.script_extension import script_extension_helpers

    from addons.godot_livekit.bridge import lifecycle

    server = LocalServer(
        node_ip=os.environ.get("GODOT_LIVEKIT_NODE_IP"),
        port=args.port,
        udp_port=args.udp_port,
        log_level="warn",
    )
    server.start()
    print(f"[addon-soak] livekit-server at {server.url}", flush=True)
    poller = env.new_object("LiveKitPoller")
    poller._ready()

    publisher = CoreRoom()
    publisher.connect_to_room(server.url, server.token("publisher", ROOM), {})
    video_source = LiveKitVideoSource.create(WIDTH, HEIGHT)
    audio_source = LiveKitAudioSource.create(RATE, 1, 200)
    generator = AudioStreamGenerator.new()
    generator.init_ref()
    generator.set_mix_rate(RATE)
    generator.set_buffer_length(0.2)
    playback = generator.instantiate_playback()
    viewer = Viewer(env, env.new_object("LiveKitRoom"), playback)
    viewer.room.connect("track_subscribed", viewer.on_track_subscribed)
    viewer.room.connect("data_received", viewer.on_data)
    viewer.room.connect_to_room(server.url, server.token("viewer", ROOM), env.gd_dictionary())
    mixer = Mixer(playback)
    churn = Churn(env, server, viewer, rooms=not args.no_room_churn)

    def frame(work: Callable[[], None] | None = None) -> None:
        seen = activity_counter()
        poller._process(FRAME)
        viewer.pushed += mixer()
        if work is not None:
            work()
        wait_for_activity(seen, FRAME)

    def frames_until(done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            frame()

    feeders = []
    try:
        frames_until(lambda: publisher.get_connection_state() == 1, CONNECT_WAIT, "publisher")
        video_track = LiveKitLocalVideoTrack.create("soak-video", video_source)
        audio_track = LiveKitLocalAudioTrack.create("soak-audio", audio_source)
        local = publisher.get_local_participant()
        local.publish_track(video_track, {"simulcast": False, "max_bitrate": 2_500_000})
        local.publish_track(audio_track, {})
        feeders = [video_feeder(video_source, FPS).start(), tone_feeder(audio_source).start()]
        frames_until(lambda: viewer.frames > 0 and viewer.pushed > RATE, 40.0, "media")
        settle_end = time.monotonic() + args.settle
        frames_until(lambda: time.monotonic() >= settle_end, args.settle + 5, "settling")
        return _measure(args, frame, publisher, viewer, churn, lifecycle, script_extension_helpers)
    finally:
        for feeder in feeders:
            feeder.stop()
        publisher.disconnect_from_room()
        viewer.room.disconnect_from_room()
        video_source.close()
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            poller._process(FRAME)
            time.sleep(FRAME)
        server.stop()


class Activity:
    """The soak's frame loop: churn cycles, a data packet per second, one frame each tick."""

    def __init__(
        self,
        args: argparse.Namespace,
        frame: Callable[[Callable[[], None] | None], None],
        publisher: CoreRoom,
        churn: Churn,
    ) -> None:
        self.args, self.frame, self.publisher, self.churn = args, frame, publisher, churn

    def run(self, seconds: float, tick: Callable[[float], None] | None = None) -> None:
        """Run for ``seconds``; ``tick(elapsed)`` about every ``--interval`` seconds, always
        just before a churn cycle starts, so every sample sees the same working set (one
        video stream well into its life: heap samples otherwise jump by whole 3.6 MB
        frame buffers)."""
        started = time.monotonic()
        cycles_per_tick = max(1, round(self.args.interval / self.args.churn_every))
        cycles = 0
        next_churn = next_data = started
        while (now := time.monotonic()) < started + seconds:
            if now >= next_churn:
                if tick is not None and cycles and cycles % cycles_per_tick == 0:
                    tick(now - started)
                self.churn.start_cycle()
                cycles += 1
                next_churn += self.args.churn_every
            if now >= next_data:
                local = self.publisher.get_local_participant()
                local.publish_data(b"x" * 1000, True, [], "soak")
                next_data += 1.0
            self.frame(self.churn.step)


def _measure(
    args: argparse.Namespace,
    frame: Callable[[Callable[[], None] | None], None],
    publisher: CoreRoom,
    viewer: Viewer,
    churn: Churn,
    lifecycle: Any,
    helpers: Any,
) -> int:
    activity = Activity(args, frame, publisher, churn)
    tracemalloc.start(args.frames)
    activity.run(args.warmup)  # the working set (streams, rooms, buffers) exists under tracing
    gc.collect()
    baseline = tracemalloc.take_snapshot() if args.top else None
    samples = [Sample(0.0, traced_mb(), rss_mb())]
    counts = (viewer.frames, viewer.pushed, viewer.data_packets)
    instances = len(helpers.instantiated_classes)
    _report("start", samples[0], viewer, churn, lifecycle, instances, instances)

    def tick(elapsed: float) -> None:
        gc.collect()
        samples.append(Sample(elapsed, traced_mb(), rss_mb()))
        now_instances = len(helpers.instantiated_classes)
        _report("running", samples[-1], viewer, churn, lifecycle, instances, now_instances)

    started = time.monotonic()
    activity.run(args.minutes * 60.0, tick)
    gc.collect()
    samples.append(Sample(time.monotonic() - started, traced_mb(), rss_mb()))
    now_instances = len(helpers.instantiated_classes)
    _report("end", samples[-1], viewer, churn, lifecycle, instances, now_instances)
    if baseline is not None:
        _print_growth(tracemalloc.take_snapshot().compare_to(baseline, "traceback"), args)
    return _verdict(args, samples, viewer, churn, counts)


def _print_growth(growth: list[tracemalloc.StatisticDiff], args: argparse.Namespace) -> None:
    for stat in growth[: args.top]:
        where = "\n    ".join(stat.traceback.format()[-2 * args.frames :])
        print(
            f"[addon-soak] grew {stat.size_diff / 1024:+9.1f} KiB in {stat.count_diff:+6d} "
            f"blocks at\n    {where}",
            flush=True,
        )


def _slope(samples: list[Sample], attribute: str) -> float:
    """Least-squares growth in MB per minute."""
    if len(samples) < 3:
        return 0.0
    minutes = np.array([s.seconds / 60 for s in samples])
    values = np.array([getattr(s, attribute) for s in samples])
    return float(np.polyfit(minutes, values, 1)[0])


def _report(
    label: str, sample: Sample, viewer: Viewer, churn: Churn, lifecycle: Any, start: int, now: int
) -> None:
    print(
        f"[addon-soak] {label:7s} {sample.seconds / 60:5.1f} min  "
        f"heap {sample.heap_mb:7.2f} MB  rss {sample.rss_mb:7.1f} MB  "
        f"frames {viewer.frames:6d}  audio {viewer.pushed / RATE:7.1f} s  "
        f"data {viewer.data_packets:4d}  churn {churn.cycles:3d}  "
        f"streams {viewer.streams_made:3d}  held {lifecycle.held_count():3d}  "
        f"py4godot instances +{max(0, now - start)}  Godot objects {_godot_objects()}",
        flush=True,
    )


def _godot_objects() -> str:
    """Engine objects alive (the stand-in's ObjectDB), by script or engine class."""
    from collections import Counter

    from py4godot import _engine
    from py4godot.classes.Object import script_database

    kinds = Counter(
        type(script_database[i]).__name__ if obj.script is not None else obj.class_name
        for i, obj in list(_engine.objects.items())
    )
    return f"{sum(kinds.values())} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})"


def _verdict(
    args: argparse.Namespace,
    samples: list[Sample],
    viewer: Viewer,
    churn: Churn,
    counts: tuple[int, int, int],
) -> int:
    first, last = samples[0], samples[-1]
    minutes = last.seconds / 60
    heap_trend = _slope(samples, "heap_mb") * minutes
    rss_trend = _slope(samples, "rss_mb") * minutes
    heaps = [s.heap_mb for s in samples]
    fps = (viewer.frames - counts[0]) / max(last.seconds, 1e-9)
    audio = (viewer.pushed - counts[1]) / RATE / max(last.seconds, 1e-9)
    print(
        f"[addon-soak] over {minutes:.1f} min ({len(samples)} samples): heap "
        f"{first.heap_mb:.2f} -> {last.heap_mb:.2f} MB (min {min(heaps):.2f}, max "
        f"{max(heaps):.2f}; trend {heap_trend:+.2f} MB), rss {first.rss_mb:.1f} -> "
        f"{last.rss_mb:.1f} MB (trend {rss_trend:+.1f} MB); video {fps:.1f} fps shown, audio "
        f"{audio:.2f} s/s, {churn.cycles} room cycles, {viewer.streams_made} video streams",
        flush=True,
    )
    problems = []
    if heap_trend > args.max_heap_mb:
        problems.append(f"Python heap trend {heap_trend:+.2f} MB (limit {args.max_heap_mb})")
    if rss_trend > args.max_rss_mb:
        problems.append(f"RSS trend {rss_trend:+.1f} MB (limit {args.max_rss_mb})")
    if fps < 10 or audio < 0.9:
        problems.append(f"media stalled: {fps:.1f} fps, {audio:.2f} s of audio per second")
    for problem in problems:
        print(f"[addon-soak] problem: {problem}", flush=True)
    print("[addon-soak] " + ("FAILED" if problems else "passed"), flush=True)
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m godot_livekit_dev.addon_soak", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="measured length (default 10)")
    parser.add_argument(
        "--interval", type=float, default=60.0, help="seconds between reports (whole churn cycles)"
    )
    parser.add_argument("--churn-every", type=float, default=20.0, help="seconds per churn cycle")
    parser.add_argument(
        "--no-room-churn", action="store_true", help="churn video streams only, not rooms"
    )
    parser.add_argument("--settle", type=float, default=10.0, help="media seconds before tracing")
    parser.add_argument(
        "--warmup", type=float, default=60.0, help="traced seconds of activity before the baseline"
    )
    parser.add_argument("--max-heap-mb", type=float, default=4.0, help="allowed heap growth")
    parser.add_argument("--max-rss-mb", type=float, default=32.0, help="allowed RSS growth")
    parser.add_argument("--top", type=int, default=0, help="print the N largest heap growths")
    parser.add_argument("--frames", type=int, default=1, help="traceback depth for --top")
    parser.add_argument("--port", type=int, default=7894, help="embedded server's port")
    parser.add_argument("--udp-port", type=int, default=7896, help="embedded server's UDP port")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.minutes <= 0 or args.interval <= 0 or args.churn_every <= 0:
        print("--minutes, --interval and --churn-every must be above 0", file=sys.stderr)
        return 2
    try:
        return run(args)
    except RuntimeError as error:
        print(f"[addon-soak] error: {error}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
