"""Soak run: two participants exchange audio, video, data and RPCs for N minutes.

    python -m godot_livekit_dev.soak --minutes 10      # (or: python build.py soak ...)

An embedded livekit-server is started (inside the private network namespace when run by
``build.py soak``). Participants ``soak-a`` and ``soak-b`` each publish a test pattern
(30 fps) and a tone, receive the other's video and audio the way a game does (a 60 Hz
main loop polls the rooms and streams; the audio goes into a real-time playback stand-in
with a 100 ms buffer), send each other a reliable data packet every second and an RPC
every five seconds.

At the start, every ``--interval`` seconds and at the end it prints this process's
resident memory, thread count (OS and Python), open file descriptors, the server's
resident memory, and per receiver the audio delay (``LiveKitAudioStream.get_buffered_ms()``
and the playback buffer), video frames, data and RPC counts. The exit code is 1 when the
session broke (a disconnect, lost data, failed RPCs, video or audio that stopped).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from godot_livekit import (
    LiveKitAudioSource,
    LiveKitAudioStream,
    LiveKitLocalAudioTrack,
    LiveKitLocalVideoTrack,
    LiveKitRemoteParticipant,
    LiveKitRoom,
    LiveKitTrack,
    LiveKitVideoSource,
    LiveKitVideoStream,
)
from godot_livekit.tools.devserver import LocalServer

from .feeders import Feeder, tone_feeder, video_feeder

logger = logging.getLogger(__name__)

LOOP_FPS = 60
SAMPLE_RATE = 48000
PLAYBACK_MS = 100.0
DATA_EVERY = 1.0
RPC_EVERY = 5.0
RPC_METHOD = "soak.echo"
CONNECT_WAIT = 20.0
MEDIA_WAIT = 30.0
SETTLE = 5.0
"""Seconds of flowing media before the start figures are taken."""


# ---------------------------------------------------------------------- process figures


def _status_field(pid: int | str, name: str) -> int:
    """A numeric field of /proc/<pid>/status (kB for memory), 0 when unavailable."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def open_fds() -> dict[str, int]:
    """Open file descriptors of this process by kind (socket, pipe, anon_inode:..., file)."""
    kinds: dict[str, int] = {}
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return kinds
    for name in names:
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the listing's own descriptor, closed already
        kind = target.split(":[", 1)[0] if ":" in target else "file"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


@dataclass(frozen=True)
class ProcessFigures:
    """Resource use at one moment."""

    rss_mb: float
    os_threads: int
    py_threads: int
    fd_kinds: dict[str, int]
    server_rss_mb: float

    @property
    def fds(self) -> int:
        return sum(self.fd_kinds.values())

    @staticmethod
    def now(server_pid: int | None) -> ProcessFigures:
        return ProcessFigures(
            rss_mb=_status_field("self", "VmRSS") / 1024,
            os_threads=_status_field("self", "Threads"),
            py_threads=threading.active_count(),
            fd_kinds=open_fds(),
            server_rss_mb=_status_field(server_pid, "VmRSS") / 1024 if server_pid else 0.0,
        )

    def describe(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.fd_kinds.items()))
        return (
            f"rss {self.rss_mb:7.1f} MB  threads {self.os_threads:3d} (python "
            f"{self.py_threads:2d})  fds {self.fds:4d} ({kinds})  "
            f"server rss {self.server_rss_mb:6.1f} MB"
        )


# ---------------------------------------------------------------------- playback stand-in


@dataclass
class RealtimePlayback:
    """Godot's AudioStreamGeneratorPlayback stand-in: a ``capacity_ms`` buffer that the
    mixer drains at ``rate`` frames per second of wall-clock time."""

    rate: int = SAMPLE_RATE
    capacity_ms: float = PLAYBACK_MS
    fill: float = 0.0
    starved_frames: float = 0.0
    _last: float = 0.0
    _started: bool = False

    def _advance(self) -> None:
        now = time.monotonic()
        due = (now - self._last) * self.rate if self._started else 0.0
        self._last = now
        if due > self.fill and self._started:
            self.starved_frames += due - self.fill
        self.fill = max(0.0, self.fill - due)

    @property
    def fill_ms(self) -> float:
        self._advance()
        return 1000.0 * self.fill / self.rate

    def get_frames_available(self) -> int:
        self._advance()
        return max(0, round(self.rate * self.capacity_ms / 1000) - math.ceil(self.fill))

    def push_buffer(self, frames: np.ndarray) -> None:
        self._advance()
        self.fill += len(frames)
        self._started = True


# ---------------------------------------------------------------------- participants


@dataclass
class Window:
    """Samples collected since the last report."""

    buffered_ms: list[float] = field(default_factory=list)
    playback_ms: list[float] = field(default_factory=list)
    video_frames: int = 0
    audio_frames: int = 0

    def reset(self) -> None:
        self.buffered_ms.clear()
        self.playback_ms.clear()
        self.video_frames = 0
        self.audio_frames = 0


@dataclass
class Participant:
    """One soak participant: its room, what it publishes and what it receives."""

    identity: str
    peer: str
    tone_hz: float
    width: int
    height: int
    room: LiveKitRoom = field(default_factory=LiveKitRoom)
    signals: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    feeders: list[Feeder] = field(default_factory=list)
    video_in: LiveKitVideoStream | None = None
    audio_in: LiveKitAudioStream | None = None
    playback: RealtimePlayback = field(default_factory=RealtimePlayback)
    data_sent: int = 0
    data_received: list[int] = field(default_factory=list)
    rpc_sent: int = 0
    rpc_ok: int = 0
    rpc_failed: list[str] = field(default_factory=list)
    window: Window = field(default_factory=Window)
    video_total: int = 0
    audio_total: int = 0

    def __post_init__(self) -> None:
        room, local = self.room, self.room.local_participant
        room.set_auto_poll(False)
        for name in ("connected", "disconnected", "reconnecting", "reconnected"):
            getattr(room, name).connect(lambda name=name: self.signals.append(name))
        room.connection_failed.connect(lambda error: self.errors.append(f"connect: {error}"))
        room.data_received.connect(self._on_data)
        room.track_subscribed.connect(self._on_track)
        local.register_rpc_method(RPC_METHOD)
        local.rpc_method_invoked.connect(
            lambda _m, request_id, _caller, payload, _t: local.respond_to_rpc(request_id, payload)
        )
        local.rpc_response_received.connect(self._on_rpc_response)
        local.rpc_error.connect(lambda _m, error: self.rpc_failed.append(error))

    def _on_data(
        self, data: bytes, sender: LiveKitRemoteParticipant | None, _kind: int, topic: str
    ) -> None:
        if topic == "soak" and sender is not None and sender.get_identity() == self.peer:
            self.data_received.append(int(data.decode()))

    def _on_rpc_response(self, _method: str, result: str) -> None:
        self.rpc_ok += 1

    def _on_track(self, track: LiveKitTrack, _publication: object, _participant: object) -> None:
        if track.get_kind() == LiveKitTrack.KIND_VIDEO:
            if self.video_in is not None:
                self.video_in.close()
            self.video_in = LiveKitVideoStream.from_track(track)
            self.video_in.set_auto_poll(False)
        elif track.get_kind() == LiveKitTrack.KIND_AUDIO:
            if self.audio_in is not None:
                self.audio_in.close()
            self.audio_in = LiveKitAudioStream.from_track(track)

    def connect(self, server: LocalServer, room_name: str) -> None:
        self.room.connect_to_room(server.url, server.token(self.identity, room_name), {})

    def publish(self) -> None:
        video = LiveKitVideoSource.create(self.width, self.height)
        audio = LiveKitAudioSource.create(SAMPLE_RATE, 1, 200)
        local = self.room.local_participant
        local.publish_track(LiveKitLocalVideoTrack.create("soak-video", video), {})
        local.publish_track(LiveKitLocalAudioTrack.create("soak-audio", audio), {})
        self.feeders = [video_feeder(video).start(), tone_feeder(audio, self.tone_hz).start()]

    def frame(self) -> None:
        """One main-loop frame: room events, newest video frame, audio into playback."""
        self.room.poll_events()
        if self.video_in is not None and self.video_in.poll():
            self.window.video_frames += 1
            self.video_total += 1
        if self.audio_in is not None:
            pushed = self.audio_in.poll(self.playback)
            self.window.audio_frames += pushed
            self.audio_total += pushed

    def sample_delay(self) -> None:
        if self.audio_in is not None:
            self.window.buffered_ms.append(self.audio_in.get_buffered_ms())
            self.window.playback_ms.append(self.playback.fill_ms)

    def send_data(self) -> None:
        self.room.local_participant.publish_data(str(self.data_sent).encode(), True, [], "soak")
        self.data_sent += 1

    def send_rpc(self) -> None:
        self.room.local_participant.perform_rpc(self.peer, RPC_METHOD, f"ping {self.rpc_sent}", 5.0)
        self.rpc_sent += 1

    def receiving(self) -> bool:
        return self.video_total > 0 and self.audio_total > 0

    def describe(self, seconds: float) -> str:
        window = self.window
        buffered = window.buffered_ms or [0.0]
        playback = window.playback_ms or [0.0]
        fps = window.video_frames / seconds if seconds > 0 else 0.0
        return (
            f"  {self.identity} <- {self.peer}: audio delay buffered {buffered[-1]:5.1f} ms "
            f"(avg {statistics.fmean(buffered):5.1f}, max {max(buffered):5.1f}) + playback "
            f"{statistics.fmean(playback):5.1f} ms; video {fps:4.1f} fps; "
            f"data {len(self.data_received)}/{self.data_sent}; rpc ok {self.rpc_ok}/"
            f"{self.rpc_sent} failed {len(self.rpc_failed)}; dropped audio "
            f"{self.audio_in.get_dropped_frames() if self.audio_in else 0} frames, "
            f"underruns {self.audio_in.get_underruns() if self.audio_in else 0}"
        )

    def close(self) -> None:
        for feeder in self.feeders:
            try:
                feeder.stop()
            except RuntimeError as error:
                self.errors.append(str(error))
        for stream in (self.video_in, self.audio_in):
            if stream is not None:
                stream.close()
        self.room.disconnect_from_room()


# ---------------------------------------------------------------------- the run


class SoakError(Exception):
    """The soak could not start (server, connect or media)."""


def _loop_until(
    parts: Sequence[Participant], predicate: Callable[[], bool], timeout: float, what: str
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise SoakError(f"timed out after {timeout:g} s waiting for {what}")
        for part in parts:
            part.frame()
            if part.errors:
                raise SoakError(f"{part.identity}: {part.errors[0]}")
        time.sleep(1.0 / LOOP_FPS)


def _report(
    label: str,
    elapsed: float,
    window_seconds: float,
    figures: ProcessFigures,
    parts: Sequence[Participant],
) -> None:
    print(f"[soak] {label:>7} t={elapsed / 60:5.1f} min  {figures.describe()}", flush=True)
    for part in parts:
        print(part.describe(window_seconds), flush=True)
        window = part.window
        if label != "start" and (window.video_frames == 0 or window.audio_frames == 0):
            part.errors.append(f"media stopped before t={elapsed / 60:.1f} min")
        window.reset()


def problems(parts: Sequence[Participant], start: ProcessFigures, end: ProcessFigures) -> list[str]:
    """What went wrong in the session (resource growth is reported, not judged)."""
    found: list[str] = []
    for part in parts:
        extra = [s for s in part.signals if s != "connected"]
        if extra:
            found.append(f"{part.identity}: connection events {extra}")
        found += [f"{part.identity}: {error}" for error in part.errors]
        got = parts_peer(parts, part).data_received
        if got != list(range(part.data_sent)):
            found.append(
                f"{part.peer} got {len(got)} of {part.data_sent} data packets (or out of order)"
            )
        if part.rpc_failed:
            found.append(
                f"{part.identity}: {len(part.rpc_failed)} RPC(s) failed: {part.rpc_failed[0]}"
            )
        if part.rpc_ok < part.rpc_sent - 1:
            found.append(f"{part.identity}: only {part.rpc_ok} of {part.rpc_sent} RPCs answered")
    if end.fds - start.fds > 50:
        found.append(f"file descriptors grew from {start.fds} to {end.fds}")
    return found


def parts_peer(parts: Sequence[Participant], part: Participant) -> Participant:
    return next(p for p in parts if p.identity == part.peer)


def run(minutes: float, interval: float, port: int, udp_port: int, width: int, height: int) -> int:
    """The soak; returns the exit code."""
    server = LocalServer(
        node_ip=os.environ.get("GODOT_LIVEKIT_NODE_IP"),
        port=port,
        udp_port=udp_port,
        log_level="warn",
    )
    server.start()
    print(f"[soak] livekit-server at {server.url} (log {server.log_path})", flush=True)
    parts = [
        Participant("soak-a", "soak-b", 440.0, width, height),
        Participant("soak-b", "soak-a", 660.0, width, height),
    ]
    try:
        for part in parts:
            part.connect(server, "soak-room")
        _loop_until(
            parts, lambda: all("connected" in p.signals for p in parts), CONNECT_WAIT, "connect"
        )
        for part in parts:
            part.publish()
        _loop_until(parts, lambda: all(p.receiving() for p in parts), MEDIA_WAIT, "media both ways")
        settle_end = time.monotonic() + SETTLE
        _loop_until(parts, lambda: time.monotonic() >= settle_end, SETTLE + 5, "settling")
        for part in parts:
            part.window.reset()
            part.sample_delay()
        return _soak(parts, server, minutes, interval)
    except SoakError as error:
        print(f"[soak] error: {error}\n{server.log_text(30)}", file=sys.stderr, flush=True)
        return 1
    finally:
        for part in parts:
            part.close()
        for part in parts:
            part.room.poll_events()
            part.room._wait_background(10.0)
        server.stop()


def _soak(parts: list[Participant], server: LocalServer, minutes: float, interval: float) -> int:
    start_figures = ProcessFigures.now(server.pid)
    _report("start", 0.0, 0.0, start_figures, parts)
    started = last_report = time.monotonic()
    next_data = next_rpc = next_sample = started
    end = started + minutes * 60.0
    frame = 1.0 / LOOP_FPS
    next_frame = started
    while True:
        now = time.monotonic()
        if now >= end:
            break
        for part in parts:
            part.frame()
        if now >= next_data:
            for part in parts:
                part.send_data()
            next_data += DATA_EVERY
        if now >= next_rpc:
            for part in parts:
                part.send_rpc()
            next_rpc += RPC_EVERY
        if now >= next_sample:
            for part in parts:
                part.sample_delay()
            next_sample += 0.25
        if now - last_report >= interval:
            _report(
                "running", now - started, now - last_report, ProcessFigures.now(server.pid), parts
            )
            last_report = now
        next_frame += frame
        time.sleep(max(0.0, next_frame - time.monotonic()))
    # let the last packets and RPC answers arrive
    drain_end = time.monotonic() + 3.0
    while time.monotonic() < drain_end:
        for part in parts:
            part.frame()
        time.sleep(frame)
    now = time.monotonic()
    end_figures = ProcessFigures.now(server.pid)
    _report("end", now - started, now - last_report, end_figures, parts)
    print(
        f"[soak] change over {minutes:g} min: "
        f"rss {end_figures.rss_mb - start_figures.rss_mb:+.1f} MB, "
        f"threads {end_figures.os_threads - start_figures.os_threads:+d}, "
        f"fds {end_figures.fds - start_figures.fds:+d}, "
        f"server rss {end_figures.server_rss_mb - start_figures.server_rss_mb:+.1f} MB",
        flush=True,
    )
    found = problems(parts, start_figures, end_figures)
    for problem in found:
        print(f"[soak] problem: {problem}", flush=True)
    print("[soak] " + ("FAILED" if found else "passed"), flush=True)
    return 1 if found else 0


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m godot_livekit_dev.soak", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="length (default 10)")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between reports")
    parser.add_argument("--port", type=int, default=7890, help="embedded server's port")
    parser.add_argument("--udp-port", type=int, default=7892, help="embedded server's UDP port")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soak; exit code 0 when the session held up."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.minutes <= 0 or args.interval <= 0:
        print("--minutes and --interval must be above 0", file=sys.stderr)
        return 2
    return run(args.minutes, args.interval, args.port, args.udp_port, args.width, args.height)


if __name__ == "__main__":
    raise SystemExit(main())
