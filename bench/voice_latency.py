"""8. Voice: microphone-in to playback-out on the local server, against the raw SDK.

alice's ``LiveKitMicrophone`` reads a capture that records a click (20 ms of a tone) every
0.5 s in real time; the instant the click's first sample is "recorded" is the reference.
bob receives it twice in the same process and run: through ``LiveKitAudioStream.poll``
into a real-time playback stand-in at 60 fps (pushed, and heard after the playback queue),
and through a raw ``rtc.AudioStream`` of a raw ``rtc.Room`` participant (carol) on the
same loop, timestamped when the SDK yields the frame that holds the click: the SDK's own
delivery, before any playback. alice's game loop polls the microphone at 60 fps, so the
sender side is the same for both.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from dataclasses import dataclass

import numpy as np
from livekit import rtc

from godot_livekit import LiveKitAudioStream, LiveKitMicrophone, _runtime
from godot_livekit.audio_processing import FarEndTap

from .live import BenchError, LiveSession, RealtimePlayback
from .stats import Pacer, Stats, table

RATE = 48000
LOOP_FPS = 60
CLICK_EVERY = RATE // 2
CLICK_FRAMES = round(0.02 * RATE)
THRESHOLD = 0.2
WARMUP_SECONDS = 2.0
MATCH_WINDOW = 0.4


class ClickCapture:
    """A microphone capture recording silence with a click (20 ms of a tone between 700
    and 1600 Hz) every 0.5 s, in real time."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self._read = 0

    def click_time(self, index: int) -> float:
        return self.start + index * CLICK_EVERY / RATE

    def get_frames_available(self) -> int:
        return round((time.monotonic() - self.start) * RATE) - self._read

    def get_buffer(self, frames: int) -> np.ndarray:
        absolute = np.arange(frames) + self._read
        position = absolute % CLICK_EVERY
        t = position / RATE
        # each click at its own pitch, so the noise suppressor does not learn it as noise
        pitch = 700.0 + (absolute // CLICK_EVERY * 379) % 900
        mono = np.where(position < CLICK_FRAMES, 0.8 * np.sin(2 * np.pi * pitch * t), 0.0)
        self._read += frames
        return np.repeat(mono.astype(np.float32)[:, None], 2, axis=1)


class RawListener:
    """carol: a raw ``rtc.Room`` with an ``rtc.AudioStream`` of alice's microphone,
    recording when the SDK yields each frame whose audio starts a click."""

    def __init__(self, session: LiveSession) -> None:
        self.delivered: list[float] = []
        self._token = session.server.token("carol", session.room_name)
        self._url = session.server.url
        self._room: rtc.Room | None = None
        self._task: asyncio.Task[None] | None = None
        _runtime.run_sync(self._connect(), 20.0)

    async def _connect(self) -> None:
        self._room = rtc.Room(loop=asyncio.get_running_loop())
        await self._room.connect(self._url, self._token)

    def start(self, track_name: str) -> None:
        async def begin() -> None:
            room = self._room
            assert room is not None
            for _ in range(200):
                alice = room.remote_participants.get("alice")
                publications = list(alice.track_publications.values()) if alice else []
                for publication in publications:
                    if publication.name == track_name and publication.track is not None:
                        stream = rtc.AudioStream.from_track(
                            track=publication.track, sample_rate=RATE, num_channels=2
                        )
                        self._task = asyncio.get_running_loop().create_task(self._read(stream))
                        return
                await asyncio.sleep(0.05)
            raise BenchError("carol never got alice's microphone track")

        _runtime.run_sync(begin(), 20.0)

    async def _read(self, stream: rtc.AudioStream) -> None:
        quiet = 10**9
        async for event in stream:
            now = time.monotonic()
            samples = np.frombuffer(event.frame.data, np.int16).reshape(-1, 2)[:, 0]
            loud = np.flatnonzero(np.abs(samples) > THRESHOLD * 32768)
            if len(loud) and quiet + int(loud[0]) > RATE // 5:
                self.delivered.append(now)
            quiet = len(samples) - 1 - int(loud[-1]) if len(loud) else quiet + len(samples)

    def close(self) -> None:
        async def stop() -> None:
            if self._task is not None:
                self._task.cancel()
            if self._room is not None:
                await self._room.disconnect()

        _runtime.run_sync(stop(), 10.0)


@dataclass(frozen=True)
class VoiceLatency:
    config: str
    raw: Stats
    pushed: Stats
    heard: Stats
    heard_minus_raw: Stats
    clicks: int
    missed: int


def _after(times: list[float], reference: float) -> float | None:
    index = bisect.bisect_left(times, reference)
    if index < len(times) and times[index] - reference < MATCH_WINDOW:
        return times[index]
    return None


def measure(
    session: LiveSession, processing: bool, clicks: int, fps: int, on_arrival: bool = False
) -> VoiceLatency:
    microphone = LiveKitMicrophone(
        RATE,
        # alice's own far end: bob's playback is in this process too, and alice's echo
        # canceller must not take bob's copy of her clicks for an echo of them
        tap=FarEndTap(RATE),
        track_name=f"mic-{int(processing)}",
        echo_cancellation=processing,
        noise_suppression=processing,
        auto_gain_control=processing,
        high_pass_filter=processing,
    )
    microphone.set_auto_poll(False)
    capture = ClickCapture()
    raw = RawListener(session)
    try:
        publication = microphone.publish(session.alice.local_participant)
        microphone.set_capture(capture)
        microphone.set_auto_poll(False)
        track = session.wait_published(publication, "the microphone track")
        raw.start(f"mic-{int(processing)}")
        stream = LiveKitAudioStream.from_track(track)
        stream.set_push_on_arrival(on_arrival)
        playback = RealtimePlayback(detect=True)
        pacer = Pacer(1 / fps)
        start = time.monotonic()
        deadline = start + WARMUP_SECONDS + clicks * 0.5 + 10
        while time.monotonic() - start < WARMUP_SECONDS + clicks * 0.5 + 0.5:
            if time.monotonic() > deadline:
                raise BenchError("latency run overran")
            microphone.poll()  # alice's frame
            stream.poll(playback)  # bob's frame
            session.pump()
            pacer.wait()
        held_ms = stream.get_playout_delay_ms()
        stream.close()
    finally:
        raw.close()
        microphone.close()
    # RealtimePlayback stamps with perf_counter; map to monotonic
    offset = time.monotonic() - time.perf_counter()
    pushed_at = [d.pushed_at + offset for d in playback.detections]
    heard_at = [d.heard_at + offset for d in playback.detections]
    raw_ns, pushed_ns, heard_ns, diff_ns = [], [], [], []
    missed = 0
    first = int(np.ceil((start + WARMUP_SECONDS - capture.start) * RATE / CLICK_EVERY))
    for index in range(first, first + clicks):
        sent = capture.click_time(index)
        delivered = _after(raw.delivered, sent)
        index_ours = bisect.bisect_left(pushed_at, sent)
        if delivered is None or index_ours >= len(pushed_at):
            missed += 1
            continue
        if pushed_at[index_ours] - sent >= MATCH_WINDOW:
            missed += 1
            continue
        raw_ns.append((delivered - sent) * 1e9)
        pushed_ns.append((pushed_at[index_ours] - sent) * 1e9)
        heard_ns.append((heard_at[index_ours] - sent) * 1e9)
        diff_ns.append((heard_at[index_ours] - delivered) * 1e9)
    return VoiceLatency(
        config=f"processing {'on' if processing else 'off'}, {fps} fps"
        + (", push on arrival" if on_arrival else "")
        + f" (holds {held_ms:.0f} ms)",
        raw=Stats.of(raw_ns),
        pushed=Stats.of(pushed_ns),
        heard=Stats.of(heard_ns),
        heard_minus_raw=Stats.of(diff_ns),
        clicks=clicks,
        missed=missed,
    )


def run(session: LiveSession, quick: bool) -> list[VoiceLatency]:
    if quick:  # smoke run: one configuration, a few clicks
        return [measure(session, True, 4, LOOP_FPS, on_arrival=True)]
    return [
        measure(session, processing, 40, fps, on_arrival)
        for processing, fps, on_arrival in (
            (False, LOOP_FPS, False),
            (True, LOOP_FPS, False),
            (True, 2 * LOOP_FPS, False),
            (False, LOOP_FPS, True),
            (True, LOOP_FPS, True),
        )
    ]


def report(results: list[VoiceLatency]) -> str:
    rows = []
    for r in results:
        for label, stats in (
            ("mic-in -> raw SDK delivers (rtc.AudioStream)", r.raw),
            ("mic-in -> pushed into the playback", r.pushed),
            ("mic-in -> heard (after the playback queue)", r.heard),
            ("heard - raw delivery", r.heard_minus_raw),
        ):
            rows.append(
                [
                    r.config,
                    label,
                    stats.count,
                    f"{stats.median_ms:.1f}",
                    f"{stats.p95_ms:.1f}",
                    f"{stats.min_ns / 1e6:.1f}",
                    f"{stats.max_ns / 1e6:.1f}",
                ]
            )
    headers = [
        "microphone, game loop",
        "click latency",
        "n",
        "median ms",
        "p95 ms",
        "min ms",
        "max ms",
    ]
    missed = ", ".join(f"{r.config}: {r.missed} of {r.clicks} unmatched" for r in results)
    return "\n".join(
        [
            table(headers, rows, left=(0, 1)),
            f"  {missed}. Both listeners in bob's process, same run, same track; alice and "
            "bob poll at the loop's rate. 'heard' adds the wait for the next poll (none with "
            "push on arrival: the runtime thread pushes each frame as the SDK delivers it) and "
            "the audio queued ahead in the playback (the level the drift compensator holds), "
            "which the raw delivery has not met yet.",
        ]
    )
