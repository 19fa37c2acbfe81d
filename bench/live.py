"""The live part of the bench: a local livekit-server, two participants, an audio feeder
(silence with periodic clicks) and a real-time playback stand-in."""

from __future__ import annotations

import math
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import numpy as np

from godot_livekit import (
    LiveKitAudioSource,
    LiveKitLocalAudioTrack,
    LiveKitLocalTrackPublication,
    LiveKitRemoteParticipant,
    LiveKitRoom,
    LiveKitTrack,
)
from godot_livekit.tools.devserver import LocalServer

NODE_IP_ENV = "GODOT_LIVEKIT_NODE_IP"
SAMPLE_RATE = 48000
FRAME_SAMPLES = SAMPLE_RATE // 100  # one 10 ms frame
CLICK_PERIOD = 0.5  # seconds between clicks
CLICK_MS = 5.0
CLICK_HZ = 1000.0
CLICK_AMPLITUDE = 0.8
CLICK_THRESHOLD = 0.25
WAIT = 20.0


class BenchError(Exception):
    """A live bench step did not get what it waited for."""


class LiveSession:
    """livekit-server in the private namespace plus "alice" (sender) and "bob" (receiver)."""

    def __init__(self, port: int, udp_port: int | None = None) -> None:
        node_ip = os.environ.get(NODE_IP_ENV)
        if not node_ip:
            raise BenchError(
                f"the live sections need the private network namespace ({NODE_IP_ENV} is "
                "not set): run `python build.py bench`"
            )
        self.server = LocalServer(
            bind_ip="127.0.0.1",
            node_ip=node_ip,
            port=port,
            udp_port=udp_port if udp_port is not None else port + 2,
            log_level="info",
        )
        self.room_name = f"bench-{secrets.token_hex(3)}"
        self.alice = LiveKitRoom()
        self.bob = LiveKitRoom()
        self._failures: list[str] = []

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start the server, connect both rooms, wait until bob sees alice."""
        self.server.start()
        for identity, room in (("alice", self.alice), ("bob", self.bob)):
            room.set_auto_poll(False)
            room.connection_failed.connect(lambda error, who=identity: self._failed(who, error))
            # the token is handed to the room only, never printed
            room.connect_to_room(self.server.url, self.server.token(identity, self.room_name), {})
        self.wait(
            lambda: all(
                r.get_connection_state() == LiveKitRoom.STATE_CONNECTED
                for r in (self.alice, self.bob)
            ),
            "both participants connected",
        )
        self.wait(lambda: "alice" in self.bob.get_remote_participants(), "bob sees alice")

    def _failed(self, who: str, error: str) -> None:
        self._failures.append(f"{who}: connection_failed({error})")

    def pump(self) -> None:
        """Deliver both rooms' signals (what the Godot frame poller does each frame)."""
        self.alice.poll_events()
        self.bob.poll_events()

    def wait(self, predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        """Pump until ``predicate()``; BenchError after ``timeout`` or a connection failure."""
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            if self._failures:
                raise BenchError("; ".join(self._failures))
            if predicate():
                return
            if time.monotonic() >= deadline:
                raise BenchError(f"timed out after {timeout:g}s waiting for {what}")
            time.sleep(0.01)

    def alice_at_bob(self) -> LiveKitRemoteParticipant:
        participant = self.bob.get_remote_participants().get("alice")
        if participant is None:
            raise BenchError("bob does not see alice")
        return participant

    def wait_published(self, publication: LiveKitLocalTrackPublication, what: str) -> LiveKitTrack:
        """Wait until the server confirmed ``publication`` and bob subscribed to it; returns
        bob's remote track."""
        self.wait(lambda: bool(publication.get_sid()), f"{what} published")
        sid = publication.get_sid()

        def remote_track() -> LiveKitTrack | None:
            remote = self.alice_at_bob().get_track_publications().get(sid)
            if remote is None or not remote.get_subscribed():
                return None
            return remote.get_track()

        self.wait(lambda: remote_track() is not None, f"bob subscribed to {what}")
        track = remote_track()
        assert track is not None
        return track

    def close(self) -> None:
        """Leave both rooms (bounded wait) and stop the server."""
        try:
            for room in (self.alice, self.bob):
                room.disconnect_from_room()
            self.pump()
            deadline = time.monotonic() + 5.0
            for room in (self.alice, self.bob):
                room.wait_idle(max(0.0, deadline - time.monotonic()))
        finally:
            self.server.stop()


# ------------------------------------------------------------------ audio feeder


def click_frame() -> np.ndarray:
    """A 10 ms mono frame that starts with a short 1 kHz burst (the impulse)."""
    frame = np.zeros(FRAME_SAMPLES, np.float32)
    count = round(SAMPLE_RATE * CLICK_MS / 1000)
    t = np.arange(count) / SAMPLE_RATE
    frame[:count] = CLICK_AMPLITUDE * np.sin(2 * np.pi * CLICK_HZ * t)
    return frame


class ClickFeeder:
    """Publishes silence with a click every 0.5 s from a thread, at real-time pace.

    ``click_times`` holds the perf_counter() just before each click frame went into
    ``capture_frame`` (the send reference of the latency measurement).
    """

    def __init__(self, session: LiveSession) -> None:
        self.source = LiveKitAudioSource(SAMPLE_RATE, 1, 200)
        self.track = LiveKitLocalAudioTrack.create("bench-clicks", self.source)
        self.publication = session.alice.local_participant.publish_track(self.track, {})
        self.click_times: list[float] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-audio-feeder", daemon=True)
        self.errors: list[BaseException] = []
        self._thread.start()

    def _run(self) -> None:
        silence = np.zeros(FRAME_SAMPLES, np.float32)
        click = click_frame()
        frames_per_click = round(CLICK_PERIOD * 100)
        start = time.perf_counter()
        index = 0
        while not self._stop.is_set():
            is_click = index % frames_per_click == 0
            try:
                now = time.perf_counter()
                self.source.capture_frame(click if is_click else silence, SAMPLE_RATE, 1, 480)
            except Exception as error:
                self.errors.append(error)
                return
            if is_click:
                with self._lock:
                    self.click_times.append(now)
            index += 1
            delay = start + index * 0.01 - time.perf_counter()
            if delay > 0:
                self._stop.wait(delay)

    def clicks(self) -> list[float]:
        with self._lock:
            return list(self.click_times)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        if self.errors:
            raise BenchError(f"audio feeder failed: {self.errors[0]!r}")


# ------------------------------------------------------------------ playback stand-ins


class KeepingPlayback:
    """Takes ``frames`` frames per poll and only keeps a reference (no copy)."""

    def __init__(self, frames: int = FRAME_SAMPLES) -> None:
        self.frames = frames
        self.last: np.ndarray | None = None

    def get_frames_available(self) -> int:
        return self.frames

    def push_buffer(self, frames: np.ndarray) -> None:
        self.last = frames


@dataclass
class Detection:
    """A click found in pushed audio: when it was pushed and when it would be heard."""

    pushed_at: float
    heard_at: float


@dataclass
class RealtimePlayback:
    """Stands in for Godot's AudioStreamGeneratorPlayback: a bounded buffer that a mixer
    drains at ``rate * speed`` frames per wall-clock second (speed < 1: a slower clock).

    Optionally detects clicks (first sample over the threshold after a quiet gap).
    """

    rate: int = SAMPLE_RATE
    capacity_ms: float = 100.0
    speed: float = 1.0
    detect: bool = False
    fill: float = 0.0
    starved_frames: float = 0.0
    starve_events: int = 0
    detections: list[Detection] = field(default_factory=list)
    _last: float = 0.0
    _started: bool = False
    _starving: bool = False
    _quiet_frames: int = 10**9

    @property
    def capacity(self) -> int:
        return round(self.rate * self.capacity_ms / 1000)

    @property
    def fill_ms(self) -> float:
        self._advance()
        return 1000.0 * self.fill / self.rate

    def _advance(self) -> None:
        now = time.perf_counter()
        due = (now - self._last) * self.rate * self.speed if self._started else 0.0
        self._last = now
        if due <= self.fill:
            self.fill -= due
            self._starving = False
            return
        if self._started:  # the mixer plays silence: an audible gap
            self.starved_frames += due - self.fill
            if not self._starving:
                self.starve_events += 1
            self._starving = True
        self.fill = 0.0

    def get_frames_available(self) -> int:
        self._advance()
        return max(0, self.capacity - math.ceil(self.fill))

    def push_buffer(self, frames: np.ndarray) -> None:
        self._advance()
        if self.detect:
            self._detect(frames)
        self.fill += len(frames)
        self._starving = False
        self._started = True

    def _detect(self, frames: np.ndarray) -> None:
        loud = np.abs(frames).max(axis=1) > CLICK_THRESHOLD
        gap = round(0.2 * self.rate)  # ignore the click's own ringing
        indices = np.flatnonzero(loud)
        pushed_at = time.perf_counter()
        previous = -1
        for index in indices:
            quiet = self._quiet_frames + int(index) if previous < 0 else int(index) - previous
            previous = int(index)
            if quiet >= gap:
                heard_at = pushed_at + (self.fill + index) / (self.rate * self.speed)
                self.detections.append(Detection(pushed_at, heard_at))
        self._quiet_frames = (
            len(frames) - 1 - previous if previous >= 0 else (self._quiet_frames + len(frames))
        )
