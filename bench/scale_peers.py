"""Listener processes of the scale bench (``bench.scale``); publishers are
``bench.voice_scale_peers publish``.

    python -m bench.scale_peers listen-ours   # LiveKitRoom (+ LiveKitProximity), pump_all()
    python -m bench.scale_peers listen-raw    # raw livekit.rtc doing the same work

stdin carries one JSON object: url, token, seconds, expected (publishers in the room), video
(bool), proximity (N nearest, 0: subscribe to everyone), settle. Publisher ``talker-i`` stands
at x = i + 1, the listener at the origin, so the N nearest are talker-0 .. talker-(N-1). Each
listener prints one JSON line of figures and exits.

Work per 60 fps frame, the same for both:
- every subscribed voice: the newest audio into a real-time playback stand-in (ours:
  ``LiveKitAudioStream`` attached to it and pumped by ``pump_all``; raw: float32 frames in a
  locked deque, popped into the same stand-in);
- every subscribed camera: the newest frame taken over as I420 (ours: ``LiveKitVideoStream``
  in MODE_I420, the video-tile mode; raw: ``rtc.VideoStream(format=I420)`` keeping the newest);
- with proximity, the nearest N chosen again 10 times a second and (un)subscribed (ours:
  ``LiveKitProximity``; raw: a sort and ``set_subscribed``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import sys
import threading
import time
from typing import Any

import numpy as np
from livekit import rtc

from .voice_scale_peers import (
    PLAYBACK_TARGET_MS,
    RATE,
    DrainingPlayback,
    RawBuffer,
    run_and_exit,
)

LOOP_FPS = 60
CONNECT_WAIT = 120.0
DISCONNECT_WAIT = 10.0


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def position(identity: str) -> float:
    """Where ``talker-i`` stands (x = i + 1); anyone else is far away."""
    prefix, _, number = identity.rpartition("-")
    return float(number) + 1.0 if prefix == "talker" and number.isdigit() else 1e9


def wanted_streams(config: dict[str, Any]) -> int:
    near = config["proximity"] or config["expected"]
    per_publisher = 2 if config["video"] else 1
    return min(near, config["expected"]) * per_publisher


def measure(config: dict[str, Any], body: Any, count: Any, frames_taken: Any) -> dict[str, Any]:
    """Run ``body()`` at 60 fps until ``count()`` streams run, settle, then measure."""
    deadline = time.monotonic() + CONNECT_WAIT
    wanted = wanted_streams(config)
    while count() < wanted:
        body()
        if time.monotonic() > deadline:
            raise SystemExit(f"only {count()} of {wanted} streams")
        time.sleep(1 / LOOP_FPS)
    settle_end = time.monotonic() + config["settle"]
    while time.monotonic() < settle_end:
        body()
        time.sleep(1 / LOOP_FPS)
    costs: list[int] = []
    busy: list[int] = []  # the main thread's own CPU time per frame (no waits: see below)
    taken0 = frames_taken()
    cpu0, wall0 = time.process_time(), time.monotonic()
    next_tick = wall0
    while time.monotonic() - wall0 < config["seconds"]:
        t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        body()
        costs.append(time.perf_counter_ns() - t0)
        busy.append(time.thread_time_ns() - c0)
        next_tick += 1 / LOOP_FPS
        pause = next_tick - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            next_tick = time.monotonic()
    cpu = time.process_time() - cpu0
    wall = time.monotonic() - wall0
    data = np.asarray(costs, np.float64)
    videos = min(config["proximity"] or config["expected"], config["expected"])
    return {
        "streams": count(),
        "frames": len(costs),
        "cost_median_us": float(np.median(data) / 1e3),
        "cost_p95_us": float(np.percentile(data, 95) / 1e3),
        # wall-clock cost includes waiting for the GIL and for a core on a busy machine;
        # this is the frame's work alone
        "busy_median_us": float(np.median(np.asarray(busy, np.float64)) / 1e3),
        "cpu_percent": 100.0 * cpu / wall,
        "rss_mb": rss_mb(),
        "video_fps_per_track": (
            (frames_taken() - taken0) / wall / videos if config["video"] and videos else 0.0
        ),
    }


# ------------------------------------------------------------------------ ours


def listen_ours(config: dict[str, Any]) -> dict[str, Any]:
    from godot_livekit import (
        LiveKitAudioStream,
        LiveKitProximity,
        LiveKitRoom,
        LiveKitTrack,
        LiveKitVideoStream,
    )
    from godot_livekit.poller import pump_all, pump_until

    room = LiveKitRoom()
    proximity = None
    if config["proximity"]:
        proximity = LiveKitProximity.create(room)
        proximity.set_max_participants(config["proximity"])
        for index in range(config["expected"]):
            proximity.set_participant_position(f"talker-{index}", position(f"talker-{index}"), 0)
    audio: dict[str, tuple[LiveKitAudioStream, DrainingPlayback]] = {}
    video: dict[str, LiveKitVideoStream] = {}
    taken = [0]

    def on_subscribed(track: Any, publication: Any, participant: Any) -> None:
        if track.get_kind() == LiveKitTrack.KIND_AUDIO:
            stream, playback = LiveKitAudioStream.from_track(track), DrainingPlayback()
            stream.attach_playback(playback)  # pump_all pushes into it every frame
            audio[track.get_sid()] = (stream, playback)
        else:
            tile = LiveKitVideoStream.from_track(track)
            tile.set_mode(LiveKitVideoStream.MODE_I420)
            tile.frame_received.connect(lambda: taken.__setitem__(0, taken[0] + 1))
            video[track.get_sid()] = tile

    def on_unsubscribed(track: Any, publication: Any, participant: Any) -> None:
        pair = audio.pop(track.get_sid(), None)
        if pair is not None:
            pair[0].close()
        tile = video.pop(track.get_sid(), None)
        if tile is not None:
            tile.close()

    room.track_subscribed.connect(on_subscribed)
    room.track_unsubscribed.connect(on_unsubscribed)
    room.connect_to_room(config["url"], config["token"], {"auto_subscribe": proximity is None})
    if not pump_until(
        lambda: pump_all() >= 0 and room.get_connection_state() == LiveKitRoom.STATE_CONNECTED,
        CONNECT_WAIT,
        [],
    ):
        room.disconnect_from_room()  # cancels the SDK's connect: nothing retries past us
        raise SystemExit("listener did not connect")
    figures = measure(config, pump_all, lambda: len(audio) + len(video), lambda: taken[0])
    figures["starved"] = sum(p.starved for _, p in audio.values())
    room.disconnect_from_room()
    return figures


# ------------------------------------------------------------------------ raw livekit.rtc


class RawVoice(RawBuffer):
    """What a developer writes on raw livekit.rtc: float frames in a locked deque, pushed
    into a playback by the main loop."""

    def __init__(self) -> None:
        super().__init__()
        self.playback = DrainingPlayback()

    def play(self, target: int) -> None:
        available = self.playback.get_frames_available()
        frames = self.pop(min(available, target - (self.playback.capacity - available)))
        if frames is not None:
            self.playback.push_buffer(frames)


class RawCamera:
    """The newest I420 frame of one camera, taken over by the main loop."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.newest: rtc.VideoFrame | None = None
        self.shown: rtc.VideoFrame | None = None
        self.taken = 0

    def take(self) -> None:
        with self.lock:
            frame, self.newest = self.newest, None
        if frame is not None:
            self.shown = frame  # handed to the renderer (a view of its planes)
            self.taken += 1


def listen_raw(config: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    lock = threading.Lock()
    voices: dict[str, RawVoice] = {}
    cameras: dict[str, RawCamera] = {}
    tasks: dict[str, asyncio.Task[None]] = {}
    near = config["proximity"]

    async def read_voice(stream: rtc.AudioStream, voice: RawVoice) -> None:
        async for event in stream:
            voice.push(event.frame)

    async def read_camera(stream: rtc.VideoStream, camera: RawCamera) -> None:
        async for event in stream:
            with camera.lock:
                camera.newest = event.frame

    def on_subscribed(track: rtc.Track, publication: Any, participant: Any) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            voice = RawVoice()
            stream: Any = rtc.AudioStream.from_track(
                track=track, sample_rate=RATE, num_channels=2, frame_size_ms=10
            )
            tasks[track.sid] = loop.create_task(read_voice(stream, voice))
            with lock:
                voices[track.sid] = voice
        else:
            camera = RawCamera()
            stream = rtc.VideoStream.from_track(
                track=track, format=rtc.VideoBufferType.I420, capacity=1
            )
            tasks[track.sid] = loop.create_task(read_camera(stream, camera))
            with lock:
                cameras[track.sid] = camera

    def on_unsubscribed(track: rtc.Track, publication: Any, participant: Any) -> None:
        task = tasks.pop(track.sid, None)
        if task is not None:
            task.cancel()
        with lock:
            voices.pop(track.sid, None)
            cameras.pop(track.sid, None)

    room = rtc.Room(loop=loop)

    def choose() -> None:
        """The N nearest publishers subscribed, the others not (runtime thread)."""
        participants = sorted(room.remote_participants.values(), key=lambda p: position(p.identity))
        for rank, participant in enumerate(participants):
            for publication in participant.track_publications.values():
                wanted = rank < near
                if publication.subscribed != wanted:
                    publication.set_subscribed(wanted)

    async def connect() -> None:
        room.on("track_subscribed", on_subscribed)
        room.on("track_unsubscribed", on_unsubscribed)
        options = rtc.RoomOptions(auto_subscribe=not near)
        await room.connect(config["url"], config["token"], options)

    asyncio.run_coroutine_threadsafe(connect(), loop).result(CONNECT_WAIT)
    target = round(RATE * PLAYBACK_TARGET_MS / 1000)
    next_choice = [0.0]

    def body() -> None:
        if near and time.monotonic() >= next_choice[0]:
            next_choice[0] = time.monotonic() + 0.1  # 10 times a second, as LiveKitProximity
            loop.call_soon_threadsafe(choose)
        with lock:
            playing, showing = list(voices.values()), list(cameras.values())
        for voice in playing:
            voice.play(target)
        for camera in showing:
            camera.take()

    def count() -> int:
        with lock:
            return len(voices) + len(cameras)

    def taken() -> int:
        with lock:
            return sum(c.taken for c in cameras.values())

    figures = measure(config, body, count, taken)
    figures["starved"] = sum(v.playback.starved for v in voices.values())
    leaving = asyncio.run_coroutine_threadsafe(room.disconnect(), loop)
    try:
        leaving.result(DISCONNECT_WAIT)
    except concurrent.futures.TimeoutError:  # an overloaded machine: the figures still count
        print(f"raw listener: disconnect took over {DISCONNECT_WAIT:g} s", file=sys.stderr)
    return figures


def main() -> int:
    role = sys.argv[1]
    config = json.loads(sys.stdin.readline())
    figures = listen_ours(config) if role == "listen-ours" else listen_raw(config)
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    run_and_exit(main)
