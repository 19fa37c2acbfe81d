"""Data tracks at a game's tick rate: delivery latency and loss, ours against raw livekit.rtc.

Two publisher/subscriber pairs share one room on the local server for the same minute:
``alice`` -> ``bob`` through godot-livekit (``LiveKitLocalDataTrack.push``,
an ordered ``LiveKitDataTrackSubscription`` delivered by ``poll_events``), and
``raw-alice`` -> ``raw-bob`` through livekit.rtc directly (``LocalDataTrack.try_push``,
``DataTrackStream`` read on the runtime loop). One 60 Hz main loop, like a game's frame,
pushes a 64-byte frame on both tracks each tick (sequence number plus padding, the send
time in microseconds as user timestamp) and, half a tick later (the receiving game's frames
are not in step with the sender's), takes what arrived; the two go first in turn:

- raw, at arrival: when the SDK hands the frame over (no frame loop: the lower bound);
- raw, 60 Hz loop: the raw frames as the same loop takes them (the fair baseline);
- ours, poll_events: as ``frame_received`` fires in that loop (what a game sees).

Latency percentiles come from the user timestamp; loss is frames sent but never received.
The main-thread cost of pushing and of receiving each tick is timed for both.

    python build.py bench -- --only data-tracks [--data-track-seconds 60]
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from livekit import rtc

from godot_livekit import (
    LiveKitDataTrackSubscription,
    LiveKitLocalDataTrack,
    LiveKitRemoteDataTrack,
    testing,
)

from .live import BenchError, LiveSession
from .stats import Pacer, Stats, fmt_us, ratio, table

TICK_HZ = 60
PAYLOAD_BYTES = 64
SETTLE_SECONDS = 1.0
TRACK_NAME = "bench-positions"
RAW_TRACK_NAME = "raw-positions"
WAIT = 20.0
COSTS = ("push", "raw try_push", "poll_events", "raw drain")


@contextmanager
def timed(into: list[tuple[int, int]]) -> Iterator[None]:
    """Append (wall ns, this thread's CPU ns) of the block to ``into``."""
    wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
    yield
    into.append((time.perf_counter_ns() - wall, time.thread_time_ns() - cpu))


def now_us() -> int:
    return time.monotonic_ns() // 1000


def frame_payload(seq: int) -> bytes:
    return seq.to_bytes(4, "little") + bytes([seq % 251]) * (PAYLOAD_BYTES - 4)


@dataclass
class Arrivals:
    """Frames received: sequence number -> latency in microseconds (first arrival)."""

    latency_us: dict[int, int] = field(default_factory=dict)

    def add(self, payload: bytes, user_timestamp: int | None, at_us: int) -> None:
        if user_timestamp is None or user_timestamp < 0 or len(payload) != PAYLOAD_BYTES:
            return
        seq = int.from_bytes(payload[:4], "little")
        self.latency_us.setdefault(seq, at_us - user_timestamp)


class RawPair:
    """raw-alice publishes a data track, raw-bob reads it with livekit.rtc alone."""

    def __init__(self, session: LiveSession) -> None:
        self.url = session.server.url
        self.tokens = {
            who: session.server.token(who, session.room_name) for who in ("raw-alice", "raw-bob")
        }
        self.alice: rtc.Room | None = None  # made on the runtime loop (SDK objects bind to it)
        self.bob: rtc.Room | None = None
        self.track: rtc.LocalDataTrack | None = None
        self.stream: rtc.DataTrackStream | None = None
        self.reader: asyncio.Task[None] | None = None
        self.at_arrival = Arrivals()
        self.pending: list[tuple[bytes, int | None, int]] = []  # for the 60 Hz loop
        self.lock = threading.Lock()

    async def start(self) -> None:
        found: asyncio.Future[rtc.RemoteDataTrack] = asyncio.get_running_loop().create_future()

        def published(track: rtc.RemoteDataTrack) -> None:
            if track.info.name == RAW_TRACK_NAME and not found.done():
                found.set_result(track)

        self.alice, self.bob = rtc.Room(), rtc.Room()
        self.bob.on("data_track_published", published)
        await self.alice.connect(self.url, self.tokens["raw-alice"])
        await self.bob.connect(self.url, self.tokens["raw-bob"])
        self.track = await self.alice.local_participant.publish_data_track(name=RAW_TRACK_NAME)
        remote = await asyncio.wait_for(found, WAIT)
        self.stream = remote.subscribe(buffer_size=256)
        self.reader = asyncio.get_running_loop().create_task(self._read(self.stream))

    async def _read(self, stream: rtc.DataTrackStream) -> None:
        async for frame in stream:
            at = now_us()
            self.at_arrival.add(frame.payload, frame.user_timestamp, at)
            with self.lock:
                self.pending.append((frame.payload, frame.user_timestamp, at))

    def push(self, seq: int) -> bool:
        """Main thread, as a game would: the SDK's non-blocking push."""
        assert self.track is not None
        try:
            self.track.try_push(
                rtc.DataTrackFrame(payload=frame_payload(seq), user_timestamp=now_us())
            )
        except rtc.PushFrameError:
            return False
        return True

    def drain(self, into: Arrivals) -> int:
        """Main thread: take what arrived since the last tick (the raw game loop)."""
        with self.lock:
            frames, self.pending = self.pending, []
        at = now_us()
        for payload, user_timestamp, _ in frames:
            into.add(payload, user_timestamp, at)
        return len(frames)

    async def stop(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.stream is not None:
            self.stream.close()
        for room in (self.alice, self.bob):
            if room is not None:
                await room.disconnect()


@dataclass(frozen=True)
class PathResult:
    label: str
    sent: int
    latency: Stats
    received: int


@dataclass(frozen=True)
class DataTrackResult:
    seconds: float
    paths: list[PathResult]
    costs: dict[str, tuple[Stats, Stats]]
    """Main-thread cost per tick: name -> (wall time, thread CPU time)."""
    dropped_ours: int
    refused_ours: int
    refused_raw: int


def _ours(session: LiveSession) -> tuple[LiveKitLocalDataTrack, LiveKitDataTrackSubscription]:
    local = session.alice.get_local_participant()
    if local is None:
        raise BenchError("alice is not connected")
    track = local.publish_data_track(TRACK_NAME)
    failures: list[str] = []
    track.publish_failed.connect(failures.append)
    session.wait(lambda: track.is_published() or bool(failures), "the data track published")
    if failures:
        raise BenchError(f"publish_data_track failed: {failures[0]}")

    def remote() -> LiveKitRemoteDataTrack | None:
        for candidate in session.bob.get_remote_data_tracks():
            if candidate.get_name() == TRACK_NAME and candidate.get_publisher_identity() == "alice":
                return candidate
        return None

    session.wait(lambda: remote() is not None, "bob sees the data track")
    found = remote()
    assert found is not None
    return track, found.subscribe(LiveKitDataTrackSubscription.MODE_ORDERED, 256)


def run(session: LiveSession, seconds: float) -> DataTrackResult:
    """Push on both tracks at 60 Hz for ``seconds`` and collect what arrives."""
    raw = RawPair(session)
    testing.run_on_runtime(raw.start(), WAIT)
    track, subscription = _ours(session)
    ours = Arrivals()
    raw_loop = Arrivals()
    subscription.frame_received.connect(lambda payload, ts: ours.add(payload, ts, now_us()))
    costs: dict[str, list[tuple[int, int]]] = {name: [] for name in COSTS}
    refused_ours = refused_raw = 0
    try:
        settle_until = time.monotonic() + SETTLE_SECONDS  # subscriptions reach the server
        while time.monotonic() < settle_until:
            session.pump()
            time.sleep(0.01)
        pacer = Pacer(1 / TICK_HZ)
        ticks = round(seconds * TICK_HZ)
        for seq in range(ticks):
            # alternate who goes first: the first call of a tick may wait for the GIL
            for ours_first in (seq % 2 == 0, seq % 2 == 1):
                with timed(costs["push" if ours_first else "raw try_push"]):
                    if ours_first:
                        refused_ours += not track.push(frame_payload(seq), now_us())
                    else:
                        refused_raw += not raw.push(seq)
            session.alice.poll_events()
            # the receiving game's frames are not in step with the sender's: half a tick off
            time.sleep(0.5 / TICK_HZ)
            for ours_first in (seq % 2 == 0, seq % 2 == 1):
                with timed(costs["poll_events" if ours_first else "raw drain"]):
                    if ours_first:
                        session.bob.poll_events()
                    else:
                        raw.drain(raw_loop)
            pacer.wait()
        deadline = time.monotonic() + 2.0  # the last frames in flight
        while time.monotonic() < deadline:
            session.pump()
            raw.drain(raw_loop)
            time.sleep(1 / TICK_HZ)
    finally:
        subscription.close()
        track.unpublish()
        testing.run_on_runtime(raw.stop(), WAIT)

    def path(label: str, arrivals: Arrivals) -> PathResult:
        latencies = [v * 1000.0 for v in arrivals.latency_us.values()]
        return PathResult(label, ticks, Stats.of(latencies), len(arrivals.latency_us))

    return DataTrackResult(
        seconds=seconds,
        paths=[
            path("raw livekit.rtc, at arrival (lower bound)", raw.at_arrival),
            path("raw livekit.rtc, taken by the 60 Hz loop", raw_loop),
            path("godot-livekit, poll_events in the 60 Hz loop", ours),
        ],
        costs={
            name: (Stats.of([w for w, _ in pairs]), Stats.of([c for _, c in pairs]))
            for name, pairs in costs.items()
        },
        dropped_ours=subscription.get_dropped_count(),
        refused_ours=refused_ours,
        refused_raw=refused_raw,
    )


def report(result: DataTrackResult) -> str:
    rows = []
    for item in result.paths:
        lost = item.sent - item.received
        rows.append(
            [
                item.label,
                item.sent,
                item.received,
                f"{100.0 * lost / max(1, item.sent):.2f}%",
                f"{item.latency.median_ms:.2f}",
                f"{item.latency.p95_ms:.2f}",
                f"{item.latency.max_ns / 1e6:.2f}",
            ]
        )
    fair, ours = result.paths[1].latency, result.paths[2].latency
    headers = ["path", "sent", "received", "lost", "p50 ms", "p95 ms", "max ms"]
    return "\n".join(
        [
            f"  {TICK_HZ} Hz for {result.seconds:g} s, {PAYLOAD_BYTES}-byte frames, one room",
            table(headers, rows),
            f"  ours / raw in the same 60 Hz loop: p50 {ratio(ours.median_ns, fair.median_ns)}, "
            f"p95 {ratio(ours.p95_ns, fair.p95_ns)}",
            "  main-thread cost per tick (median wall / thread CPU, p95 wall):",
            *(
                f"    {name:<13} {fmt_us(wall.median_ns)} / {fmt_us(cpu.median_ns)}, "
                f"p95 {fmt_us(wall.p95_ns)}"
                for name, (wall, cpu) in result.costs.items()
            ),
            f"  pushes refused: ours {result.refused_ours}, raw {result.refused_raw}; frames "
            f"dropped by the ordered queue: {result.dropped_ours}",
        ]
    )
