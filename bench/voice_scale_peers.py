"""Child processes of the 32-participant voice bench (``bench.voice_scale``).

    python -m bench.voice_scale_peers publish      # N publishers, tokens on stdin
                                                   # ("video": [w, h, fps] adds a camera)
    python -m bench.voice_scale_peers listen-ours  # a LiveKitRoom listener
    python -m bench.voice_scale_peers listen-raw   # a raw livekit.rtc listener

stdin carries one JSON object (url, tokens, seconds): tokens never appear on a command
line. Publishers print ``ready`` and run until stdin closes; listeners print one JSON
line of figures and exit.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from livekit import rtc

RATE = 48000
FRAME = RATE // 100
CYCLE_FRAMES = 330  # the publishers' speech-like cycle: 3.3 s of 10 ms
CHUNK_FRAMES = 5  # a publisher hands its source 50 ms at a time (the SDK queues and paces it)
LOOP_FPS = 60
PLAYBACK_MS = 100.0
PLAYBACK_TARGET_MS = 50.0


class DrainingPlayback:
    """A playback stand-in that a mixer drains at 48 kHz of wall-clock time (no copies
    kept: the listener's own work is what is measured)."""

    def __init__(self) -> None:
        self.capacity = round(RATE * PLAYBACK_MS / 1000)
        self.fill = 0.0
        self.last = time.perf_counter()
        self.started = False
        self.starved = 0

    def _advance(self) -> None:
        now = time.perf_counter()
        if self.started:
            due = (now - self.last) * RATE
            if due > self.fill:
                self.starved += 1 if self.fill > 0 else 0
            self.fill = max(0.0, self.fill - due)
        self.last = now

    def get_frames_available(self) -> int:
        self._advance()
        return self.capacity - math.ceil(self.fill)

    def push_buffer(self, frames: np.ndarray) -> None:
        self._advance()
        self.fill += len(frames)
        self.started = True

    @property
    def fill_ms(self) -> float:
        self._advance()
        return 1000.0 * self.fill / RATE


# ------------------------------------------------------------------------ publishers


def publish(config: dict[str, Any]) -> None:
    """Connect one room per token, publish a tone each, feed them in real time."""
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    sources: list[rtc.AudioSource] = []
    rooms: list[rtc.Room] = []
    video = config.get("video")  # [width, height, fps] or absent: voice only
    video_sources: list[rtc.VideoSource] = []

    async def join(token: str, index: int) -> None:
        room = rtc.Room(loop=loop)
        # a publisher hears nobody: subscribing would decode every other talker in these
        # processes and have the server forward those streams too (quadratic in the room)
        await room.connect(config["url"], token, rtc.RoomOptions(auto_subscribe=False))
        source = rtc.AudioSource(RATE, 1, 20 * CHUNK_FRAMES, loop=loop)
        track = rtc.LocalAudioTrack.create_audio_track(f"voice-{index}", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await room.local_participant.publish_track(track, options)
        rooms.append(room)
        sources.append(source)
        if video is not None:  # the scale bench's small video (bench.scale)
            video_source = rtc.VideoSource(video[0], video[1])
            video_track = rtc.LocalVideoTrack.create_video_track(f"camera-{index}", video_source)
            camera = rtc.TrackPublishOptions(
                source=rtc.TrackSource.SOURCE_CAMERA,
                simulcast=False,
                video_encoding=rtc.VideoEncoding(max_bitrate=150_000, max_framerate=video[2]),
            )
            await room.local_participant.publish_track(video_track, camera)
            video_sources.append(video_source)

    async def join_retrying(token: str, index: int) -> None:
        """On a saturated 2-core machine a join now and then times out (ICE under load):
        leave and try again, as a game would, up to three times."""
        for attempt in range(3):
            kept = len(rooms), len(sources), len(video_sources)
            try:
                await join(token, index)
                return
            except Exception as error:  # ConnectError, PublishTrackError: the same remedy
                if attempt == 2:
                    raise
                print(f"publisher {index}: {error}; joining again", file=sys.stderr)
                del rooms[kept[0] :], sources[kept[1] :], video_sources[kept[2] :]
                await asyncio.sleep(2.0)  # the same identity replaces a half-joined one

    for index, token in enumerate(config["tokens"]):
        asyncio.run_coroutine_threadsafe(join_retrying(token, index), loop).result(300)
    print("ready", flush=True)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    voices = [_speech_like_cycle(200.0 + 37.0 * i) for i in range(len(sources))]
    start = time.monotonic()
    tick = 0
    while not stop.is_set():
        if tick % CHUNK_FRAMES == 0:
            frames = [voice[tick // CHUNK_FRAMES % len(voice)] for voice in voices]

            async def send(batch: list[rtc.AudioFrame] = frames) -> None:
                for source, frame in zip(sources, batch, strict=True):
                    await source.capture_frame(frame)

            asyncio.run_coroutine_threadsafe(send(), loop)
        if video is not None and tick % round(100 / video[2]) == 0:
            picture = _moving_picture(video[0], video[1], tick)
            for video_source in video_sources:
                video_source.capture_frame(picture)
        tick += 1
        delay = start + tick * 0.01 - time.monotonic()
        if delay > 0:
            stop.wait(delay)

    async def leave() -> None:
        await asyncio.gather(*(room.disconnect() for room in rooms), return_exceptions=True)

    try:
        asyncio.run_coroutine_threadsafe(leave(), loop).result(20)
    except TimeoutError:
        print("publishers: disconnect timed out", file=sys.stderr)


def _speech_like_cycle(frequency: float) -> list[rtc.AudioFrame]:
    """One 3.3 s cycle of 50 ms frames, made once (the bench measures the listener, so the
    publishers keep their own work small): a tone that talks 2.5 s and pauses 0.8 s, each
    voice at its own phase."""
    t = np.arange(CYCLE_FRAMES * FRAME) / RATE
    talking = ((t + frequency / 100.0) % (CYCLE_FRAMES / 100)) < 2.5
    pcm = (0.3 * 32767 * talking * np.sin(2 * np.pi * frequency * t)).astype(np.int16)
    chunk = CHUNK_FRAMES * FRAME
    return [rtc.AudioFrame(part.tobytes(), RATE, 1, chunk) for part in pcm.reshape(-1, chunk)]


def _moving_picture(width: int, height: int, tick: int) -> rtc.VideoFrame:
    """A grey frame with a bright bar that moves (so the encoder has work every frame)."""
    pixels = np.full((height, width, 4), 96, np.uint8)
    x = (tick * 2) % width
    pixels[:, x : x + 8, :3] = 250
    return rtc.VideoFrame(width, height, rtc.VideoBufferType.RGBA, pixels.tobytes())


# ------------------------------------------------------------------------ listeners


def _loop_figures(
    seconds: float,
    expected: int,
    body: Any,
    count: Any,
    delay_ms: Any,
) -> dict[str, Any]:
    """Run ``body()`` at 60 fps for ``seconds`` once ``count() >= expected`` streams run;
    figures: per-frame cost, process CPU, delay each second."""
    deadline = time.monotonic() + 120
    while count() < expected:
        body()
        if time.monotonic() > deadline:
            raise SystemExit(f"only {count()} of {expected} streams")
        time.sleep(1 / LOOP_FPS)
    for _ in range(3 * LOOP_FPS):  # settle
        body()
        time.sleep(1 / LOOP_FPS)
    costs: list[int] = []
    delays: list[float] = []
    cpu0, wall0 = time.process_time(), time.monotonic()
    next_tick = wall0
    next_sample = wall0 + 1.0
    while time.monotonic() - wall0 < seconds:
        t0 = time.perf_counter_ns()
        body()
        costs.append(time.perf_counter_ns() - t0)
        now = time.monotonic()
        if now >= next_sample:
            delays.append(delay_ms())
            next_sample += 1.0
        next_tick += 1 / LOOP_FPS
        pause = next_tick - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            next_tick = time.monotonic()
    cpu = time.process_time() - cpu0
    wall = time.monotonic() - wall0
    data = np.asarray(costs, np.float64)
    return {
        "streams": count(),
        "frames": len(costs),
        "cost_median_us": float(np.median(data) / 1e3),
        "cost_p95_us": float(np.percentile(data, 95) / 1e3),
        "cpu_percent": 100.0 * cpu / wall,
        "delays_ms": delays,
    }


def listen_ours(config: dict[str, Any]) -> dict[str, Any]:
    from godot_livekit import LiveKitAudioStream, LiveKitRoom, LiveKitTrack
    from godot_livekit.poller import pump_until

    room = LiveKitRoom()
    room.set_auto_poll(False)
    room.connect_to_room(config["url"], config["tokens"][0], {})
    streams: dict[str, tuple[LiveKitAudioStream, DrainingPlayback]] = {}

    def on_subscribed(track: Any, publication: Any, participant: Any) -> None:
        if track.get_kind() == LiveKitTrack.KIND_AUDIO:
            streams[track.get_sid()] = (LiveKitAudioStream.from_track(track), DrainingPlayback())

    room.track_subscribed.connect(on_subscribed)
    if not pump_until(
        lambda: (
            room.poll_events() >= 0 and room.get_connection_state() == LiveKitRoom.STATE_CONNECTED
        ),
        90.0,
        [],
    ):
        raise SystemExit("listener did not connect")

    def body() -> None:
        room.poll_events()
        for stream, playback in streams.values():
            stream.poll(playback)

    def delay_ms() -> float:
        values = [s.get_buffered_ms() + p.fill_ms for s, p in streams.values()]
        return float(np.mean(values)) if values else 0.0

    figures = _loop_figures(
        config["seconds"], config["expected"], body, lambda: len(streams), delay_ms
    )
    figures["dropped_frames"] = sum(s.get_dropped_frames() for s, _ in streams.values())
    figures["starved"] = sum(p.starved for _, p in streams.values())
    figures["corrections"] = sum(s.get_drift_corrections() for s, _ in streams.values())
    room.disconnect_from_room()
    return figures


class RawBuffer:
    """What a developer writes on raw livekit.rtc: float frames in a locked deque."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.chunks: deque[np.ndarray] = deque()
        self.frames = 0

    def push(self, frame: rtc.AudioFrame) -> None:
        data = np.frombuffer(frame.data, np.int16).reshape(-1, 2).astype(np.float32)
        data *= 1.0 / 32768.0
        with self.lock:
            self.chunks.append(data)
            self.frames += len(data)
            while self.frames > RATE * 0.12:  # bound the delay as ours does
                self.frames -= len(self.chunks.popleft())

    def pop(self, wanted: int) -> np.ndarray | None:
        with self.lock:
            taken = []
            while self.chunks and wanted > 0:
                head = self.chunks[0]
                if len(head) <= wanted:
                    taken.append(self.chunks.popleft())
                    wanted -= len(head)
                    self.frames -= len(head)
                else:
                    taken.append(head[:wanted])
                    self.chunks[0] = head[wanted:]
                    self.frames -= wanted
                    wanted = 0
        return np.concatenate(taken) if taken else None


def listen_raw(config: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    buffers: dict[str, tuple[RawBuffer, DrainingPlayback]] = {}
    tasks: list[asyncio.Task[None]] = []
    lock = threading.Lock()

    async def connect() -> rtc.Room:
        room = rtc.Room(loop=loop)

        async def read(stream: rtc.AudioStream, buffer: RawBuffer) -> None:
            async for event in stream:
                buffer.push(event.frame)

        def on_subscribed(track: rtc.Track, publication: Any, participant: Any) -> None:
            if track.kind == rtc.TrackKind.KIND_AUDIO:
                buffer = RawBuffer()
                with lock:
                    buffers[track.sid] = (buffer, DrainingPlayback())
                stream = rtc.AudioStream.from_track(
                    track=track, sample_rate=RATE, num_channels=2, frame_size_ms=10
                )
                tasks.append(loop.create_task(read(stream, buffer)))

        room.on("track_subscribed", on_subscribed)
        await room.connect(config["url"], config["tokens"][0])
        return room

    room = asyncio.run_coroutine_threadsafe(connect(), loop).result(90)
    target = round(RATE * PLAYBACK_TARGET_MS / 1000)

    def body() -> None:
        with lock:
            pairs = list(buffers.values())
        for buffer, playback in pairs:
            available = playback.get_frames_available()
            queued = playback.capacity - available
            frames = buffer.pop(min(available, target - queued))
            if frames is not None:
                playback.push_buffer(frames)

    def count() -> int:
        with lock:
            return len(buffers)

    def delay_ms() -> float:
        with lock:
            pairs = list(buffers.values())
        values = [1000.0 * b.frames / RATE + p.fill_ms for b, p in pairs]
        return float(np.mean(values)) if values else 0.0

    figures = _loop_figures(config["seconds"], config["expected"], body, count, delay_ms)
    figures["starved"] = sum(p.starved for _, p in buffers.values())
    asyncio.run_coroutine_threadsafe(room.disconnect(), loop).result(10)
    return figures


def main() -> int:
    role = sys.argv[1]
    config = json.loads(sys.stdin.readline())
    if role == "publish":
        publish(config)
        return 0
    figures = listen_ours(config) if role == "listen-ours" else listen_raw(config)
    print(json.dumps(figures), flush=True)
    return 0


def run_and_exit(main: Callable[[], int]) -> None:
    """``main()``, then out at once, also when a peer gave up: the SDK's native threads may
    abort, or hold a connect that is still retrying, while the interpreter tears down."""
    try:
        code = main()
    except SystemExit as stop:  # a peer that gave up, with its reason
        print(stop, file=sys.stderr, flush=True)
        code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    run_and_exit(main)
