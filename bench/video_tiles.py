"""11. Video tiles: the I420 path against the RGBA path, main-thread cost and bytes per frame.

alice publishes a moving test pattern at 30 fps (VP8, no simulcast). A viewer room made through
the addon's Godot classes (on the faithful py4godot stand-in, tests/py4godot_standin) is
subscribed; six streams read the same track at once, in the same 60 fps loop:
- raw RGBA and raw I420: what a developer writes on raw ``livekit.rtc``: an
  ``rtc.VideoStream`` of that format read on an asyncio loop thread that keeps the newest
  frame under a lock; the main thread takes it and makes numpy views of its pixels/planes;
- core RGBA and core I420: ``LiveKitVideoStream.poll()`` of the engine-free core (hands over
  the SDK's buffer as numpy views: no pixel work);
- addon RGBA and addon I420: the addon's LiveKitVideoStream, timed as the LiveKitPoller runs it
  (its core stream's ``poll()``, whose ``frame_received`` makes the addon copy the frame into
  its reused PackedByteArrays, ``Image.set_data`` and ``ImageTexture.update``; the stand-in
  models the texture upload as one copy of the image, as Godot's RenderingServer makes).
Only polls that returned a new frame of the full size are timed. Bytes are measured on the
Godot objects each poll updated (the Image data of each texture). The baseline is one memcpy
of the RGBA frame (``np.copyto``, back to back and paced once per 60 fps tick), measured in
the same run. Beside it, the floor of any I420 tile path as the stand-in models Godot: the
three planes copied once into Godot's memory and once more by the texture upload, into
preallocated buffers, with no engine call and no signal (and, paced, raw livekit.rtc's poll
of the frame): where the floor is above the memcpy, no implementation meets a one-memcpy
target.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc

from godot_livekit import (
    LiveKitLocalVideoTrack,
    LiveKitVideoSource,
    LiveKitVideoStream,
    _runtime,
    links,
)
from godot_livekit.media_convert import I420, RGBA, chroma_size, i420_planes

from .live import BenchError, LiveSession
from .receive_video import MovingPattern
from .stats import Pacer, Stats, fmt_us, memcpy_stats, ratio, table, time_calls

REPO = Path(__file__).resolve().parent.parent
SIZES = ((320, 180), (640, 360), (1280, 720))
BITRATES = {180: 600_000, 360: 1_200_000, 720: 3_000_000}
LOOP_FPS = 60
SEND_EVERY = 2  # 30 fps
BYTES_TARGET = 0.4
COST_TARGET = 1.0
STREAMS = ("raw RGBA", "raw I420", "core RGBA", "core I420", "addon RGBA", "addon I420")
MEMCPY, FLOOR, CALLS = "memcpy RGBA", "floor I420", "calls I420"
PATHS = (*STREAMS, MEMCPY, FLOOR, CALLS)  # the last three: timed in the same loop, no stream


def addon_env() -> Any:
    """The py4godot stand-in environment (it lives in the test tree: a checkout-only bench)."""
    support = str(REPO / "tests" / "support")
    if support not in sys.path:
        sys.path.insert(0, support)
    import addon_env as env

    return env


@dataclass
class PathResult:
    polls: list[int] = field(default_factory=list)
    copied: list[int] = field(default_factory=list)  # bytes into Godot per frame

    @property
    def stats(self) -> Stats:
        return Stats.of(self.polls)


@dataclass(frozen=True)
class Breakdown:
    """The addon's per-frame Godot work on one ready frame, paced like the loop: the whole
    show (copies + set_data + update) and the texture updates alone (the engine's upload)."""

    rgba_show: Stats
    rgba_upload: Stats
    i420_show: Stats
    i420_upload: Stats


@dataclass(frozen=True)
class TileResult:
    width: int
    height: int
    memcpy_hot: Stats
    memcpy_paced: Stats
    floor_hot: Stats
    paths: dict[str, PathResult]
    seconds: float
    breakdown: Breakdown


def floor_copies(width: int, height: int) -> Callable[[], None]:
    """The least an I420 tile costs the main thread where the stand-in models Godot: each
    plane copied into Godot-owned memory (ours) and again by the texture upload (the
    engine's), byte memoryview copies into preallocated buffers as the addon makes, and
    nothing else: no poll, no engine call, no signal."""
    cw, ch = chroma_size(width, height)
    sizes = (width * height, cw * ch, cw * ch)
    planes = [np.full(size, 7, np.uint8) for size in sizes]
    ours = [np.zeros(size, np.uint8) for size in sizes]
    uploaded = [np.zeros(size, np.uint8) for size in sizes]

    def copies() -> None:
        for plane, mine, gpu in zip(planes, ours, uploaded, strict=True):
            memoryview(mine)[:] = memoryview(plane)
            memoryview(gpu)[:] = memoryview(mine)

    return copies


def rgba_memcpy(width: int, height: int) -> Callable[[], None]:
    """One plain copy of an RGBA frame (``np.copyto``), the baseline of memcpy_stats."""
    source = np.full((height, width, 4), 7, dtype=np.uint8)
    target = np.zeros_like(source)
    return lambda: np.copyto(target, source)


def tile_calls() -> tuple[Callable[[], None], Callable[[], None]]:
    """The addon's tile upload of 1x1 planes (work, clean-up): its engine calls (three per
    plane, on the stand-in) and its own code, with next to no bytes to copy."""
    addon_env()
    from addons.godot_livekit.bridge.tiles import PlaneTextures

    tiles = PlaneTextures()
    planes = tuple(np.full((1, 1), value, np.uint8) for value in (16, 128, 128))
    tiles.show(planes)
    return lambda: tiles.show(planes), tiles.clear


class CopyWork:
    """Work timed as one more path of the loop, in the same conditions as the streams' polls
    (after the same pumps, in a rotating order): the same work on every poll."""

    def __init__(
        self,
        work: Callable[[], None],
        width: int,
        height: int,
        close: Callable[[], None] = lambda: None,
    ) -> None:
        self.work, self.size, self._close = work, (width, height), close

    def poll(self) -> bool:
        self.work()
        return True

    def get_frame_size(self) -> tuple[int, int]:
        return self.size

    def close(self) -> None:
        self._close()


def breakdown(width: int, height: int, quick: bool) -> Breakdown:
    """Time FrameTexture.show / PlaneTextures.show and their ImageTexture.update calls on
    the stand-in, once per 60 fps tick (the pattern converted to I420 by the SDK)."""
    addon_env()
    from godot_livekit_dev.patterns import quadrant_pattern
    from livekit import rtc

    from addons.godot_livekit.bridge.convert import FrameTexture
    from addons.godot_livekit.bridge.tiles import PlaneTextures
    from godot_livekit.media_convert import i420_planes, video_frame_from_rgba

    reps = 30 if quick else 200
    rgba = quadrant_pattern(width, height)
    planes = i420_planes(video_frame_from_rgba(rgba).convert(rtc.VideoBufferType.I420))
    frames, tiles = FrameTexture(), PlaneTextures()
    frames.show(rgba)
    tiles.show(planes)

    def uploads(pairs: list[tuple[Any, Any]]) -> None:
        for texture, image in pairs:
            texture.update(image)

    rgba_pairs = [(frames.texture, frames.image)]
    i420_pairs = list(zip(tiles.textures, tiles.images, strict=True))
    interval = 1 / LOOP_FPS
    try:
        return Breakdown(
            time_calls(lambda: frames.show(rgba), reps, 5, interval),
            time_calls(lambda: uploads(rgba_pairs), reps, 5, interval),
            time_calls(lambda: tiles.show(planes), reps, 5, interval),
            time_calls(lambda: uploads(i420_pairs), reps, 5, interval),
        )
    finally:
        frames.clear()
        tiles.clear()


class RawStream:
    """The raw ``livekit.rtc`` baseline: an SDK video stream in ``buffer_type`` read on an
    asyncio loop (the core's runtime loop, as a developer's own loop thread would be), the
    newest frame kept under a lock; ``poll()`` takes it on the main thread and makes numpy
    views of it, the core stream's work without its bookkeeping and signal."""

    def __init__(self, sdk_track: rtc.Track, buffer_type: Any) -> None:
        self.lock = threading.Lock()
        self.newest: rtc.VideoFrame | None = None
        self.frame: rtc.VideoFrame | None = None
        self.views: Any = None
        self.buffer_type = buffer_type
        self.stream: rtc.VideoStream | None = None
        self.reader = _runtime.submit(self._read(sdk_track))

    async def _read(self, sdk_track: rtc.Track) -> None:
        # made on the loop that reads it (the SDK stream starts its task on that loop)
        self.stream = rtc.VideoStream.from_track(
            track=sdk_track, format=self.buffer_type, capacity=1
        )
        async for event in self.stream:
            with self.lock:
                self.newest = event.frame

    def poll(self) -> bool:
        with self.lock:
            frame, self.newest = self.newest, None
        if frame is None:
            return False
        self.frame = frame
        if self.buffer_type == I420:
            self.views = i420_planes(frame)
        else:
            flat = np.frombuffer(frame.data, dtype=np.uint8)
            self.views = flat.reshape(frame.height, frame.width, 4)
        return True

    def get_frame_size(self) -> tuple[int, int]:
        return (self.frame.width, self.frame.height) if self.frame is not None else (0, 0)

    def close(self) -> None:
        async def stop() -> None:
            if self.stream is not None:
                await self.stream.aclose()

        with contextlib.suppress(Exception):  # a bench: the stream is gone either way
            _runtime.submit(stop()).result(5.0)
        self.reader.cancel()


class Viewer:
    """A room and four streams of alice's track: two core ones, two addon ones."""

    def __init__(self, session: LiveSession) -> None:
        self.env = addon_env()
        from addons.godot_livekit.bridge.objects import core_of

        self.core_of = core_of
        self.poller = self.env.new_object("LiveKitPoller")
        self.poller._ready()
        self.room = self.env.new_object("LiveKitRoom")
        self.tracks: dict[str, Any] = {}  # video tracks by name (the room may hold others)
        self.room.connect("track_subscribed", self._on_subscribed)
        token = session.server.token("tiles-viewer", session.room_name)
        self.room.connect_to_room(session.server.url, token, self.env.gd_dictionary())
        self.streams: dict[str, Any] = {}
        self.addon: dict[str, Any] = {}

    def _on_subscribed(self, track: Any, *_: Any) -> None:
        if track.get_kind() == 2:  # LiveKit.TRACK_KIND_VIDEO
            self.tracks[track.get_name()] = track

    def frame(self) -> None:
        self.poller._process(1 / LOOP_FPS)

    def open(self, track: Any) -> None:
        core_track = self.core_of(track.script_instance, "track")
        sdk_track = links.sdk_of(core_track)
        self.streams["raw RGBA"] = RawStream(sdk_track, RGBA)
        self.streams["raw I420"] = RawStream(sdk_track, I420)
        for mode, name in ((0, "RGBA"), (1, "I420")):
            core = LiveKitVideoStream.from_track(core_track)
            core.set_auto_poll(False)
            core.set_mode(mode)
            self.streams[f"core {name}"] = core
            addon = self.env.new_object("LiveKitVideoStream").from_track(track)
            addon.set_auto_poll(False)
            addon.set_mode(mode)
            self.addon[name] = addon
            # what the LiveKitPoller calls: the core stream the addon object adopted
            self.streams[f"addon {name}"] = self.core_of(addon.script_instance, "stream")

    def copied_bytes(self, path: str) -> int:
        """Bytes of the Godot images the addon stream of ``path`` updated."""
        addon = self.addon[path.split()[1]]
        if path.endswith("RGBA"):
            images = [addon.get_image()]
        else:
            images = [t.get_image() for t in (addon.get_y_texture(), addon.get_u_texture())]
            images.append(addon.get_v_texture().get_image())
        return sum(image.get_data().size() for image in images)

    def close(self) -> None:
        for stream in self.streams.values():
            stream.close()
        for addon in self.addon.values():
            addon.close()
        self.streams, self.addon = {}, {}


def measure_size(
    session: LiveSession, viewer: Viewer, width: int, height: int, seconds: float, quick: bool
) -> TileResult:
    reps, paced_reps = (100, 40) if quick else (1000, 300)
    memcpy_hot = memcpy_stats(height, width, reps, 20)
    memcpy_paced = memcpy_stats(height, width, paced_reps, 10, 1 / LOOP_FPS)
    floor_hot = time_calls(floor_copies(width, height), reps, 20)
    source = LiveKitVideoSource(width, height)
    name = f"tiles-{height}p"
    track = LiveKitLocalVideoTrack.create(name, source)
    options = {"simulcast": False, "max_bitrate": BITRATES[height], "max_framerate": 30.0}
    publication = session.alice.local_participant.publish_track(track, options)
    pattern = MovingPattern(width, height)
    try:
        _loop(session, viewer, source, pattern, lambda: name in viewer.tracks, 20.0)
        viewer.open(viewer.tracks.pop(name))
        viewer.streams[MEMCPY] = CopyWork(rgba_memcpy(width, height), width, height)
        viewer.streams[FLOOR] = CopyWork(floor_copies(width, height), width, height)
        calls, clear = tile_calls()
        viewer.streams[CALLS] = CopyWork(calls, width, height, clear)
        full = {name: False for name in PATHS}

        def all_full() -> bool:
            for name, stream in viewer.streams.items():
                if stream.poll() and stream.get_frame_size() == (width, height):
                    full[name] = True
            return all(full.values())

        _loop(session, viewer, source, pattern, all_full, 30.0)
        results = {name: PathResult() for name in PATHS}
        pacer = Pacer(1 / LOOP_FPS)
        end = time.monotonic() + seconds
        tick = 0
        order = list(PATHS)
        while time.monotonic() < end:
            if tick % SEND_EVERY == 0:
                source.capture_frame(pattern.next())
            tick += 1
            session.pump()
            viewer.frame()
            order.append(order.pop(0))  # no stream always polled first
            for name in order:
                stream = viewer.streams[name]
                t0 = time.perf_counter_ns()
                got = stream.poll()
                elapsed = time.perf_counter_ns() - t0
                if got and stream.get_frame_size() == (width, height):
                    results[name].polls.append(elapsed)
                    if name.startswith("addon"):
                        results[name].copied.append(viewer.copied_bytes(name))
            pacer.wait()
        parts = breakdown(width, height, quick)
        return TileResult(
            width, height, memcpy_hot, memcpy_paced, floor_hot, results, seconds, parts
        )
    finally:
        viewer.close()
        if publication.get_sid():
            session.alice.local_participant.unpublish_track(publication.get_sid())
        source.close()
        session.pump()


def _loop(
    session: LiveSession,
    viewer: Viewer,
    source: LiveKitVideoSource,
    pattern: MovingPattern,
    done: Any,
    timeout: float,
) -> None:
    """Send at 30 fps and pump at 60 until ``done()`` (BenchError after ``timeout``)."""
    pacer = Pacer(1 / LOOP_FPS)
    deadline = time.monotonic() + timeout
    tick = 0
    while not done():
        if time.monotonic() > deadline:
            raise BenchError(f"video tiles: timed out after {timeout:g} s")
        if tick % SEND_EVERY == 0:
            source.capture_frame(pattern.next())
        tick += 1
        session.pump()
        viewer.frame()
        pacer.wait()


def run(session: LiveSession, quick: bool) -> list[TileResult]:
    seconds = 2.0 if quick else 10.0
    viewer = Viewer(session)
    try:
        return [measure_size(session, viewer, w, h, seconds, quick) for w, h in SIZES]
    finally:
        viewer.room.disconnect_from_room()
        viewer.frame()


def _poll_ratio(result: TileResult, mode: str) -> str:
    raw = result.paths[f"raw {mode}"].stats.median_ns
    return ratio(result.paths[f"core {mode}"].stats.median_ns, raw) if raw else "n/a"


def _floor_text(result: TileResult) -> str:
    """The floor against the in-loop memcpy (the target's baseline) and whether a one-memcpy
    target is reachable at all; the copies back to back against the hot memcpy, for reference;
    then the addon's tile upload without bytes, so the tile's cost reads as floor + calls."""
    loop_floor = result.paths["raw I420"].stats.median_ns + result.paths[FLOOR].stats.median_ns
    in_loop = loop_floor / result.paths[MEMCPY].stats.median_ns
    hot = result.floor_hot.median_ns / result.memcpy_hot.median_ns
    verdict = (
        f"above a {COST_TARGET:g}x target: no I420 path meets it there"
        if in_loop > COST_TARGET
        else f"leaving {COST_TARGET - in_loop:.2f}x for the engine calls, the signal and our code"
    )
    calls = result.paths[CALLS].stats.median_ns
    addon = result.paths["addon I420"].stats.median_ns
    return (
        f"The floor of any I420 path (raw livekit.rtc's poll + the planes copied twice, "
        f"nothing else) in the loop: {fmt_us(loop_floor)} = {in_loop:.2f}x the in-loop memcpy,"
        f" {verdict} (the copies back to back: {fmt_us(result.floor_hot.median_ns)} = "
        f"{hot:.2f}x the hot memcpy). The addon's upload of 1x1 planes (its nine engine calls "
        f"on the stand-in and its own code, no bytes) takes {fmt_us(calls)} in the loop: "
        f"floor + that = {fmt_us(loop_floor + calls)}, the addon's whole tile "
        f"{fmt_us(addon)} (also its frame_received signal)."
    )


def report(results: list[TileResult]) -> str:
    rows = []
    verdicts = []
    for r in results:
        rgba_bytes = r.width * r.height * 4
        cw, ch = chroma_size(r.width, r.height)
        hot, paced = r.memcpy_hot.median_ns, r.memcpy_paced.median_ns
        in_loop = r.paths[MEMCPY].stats.median_ns
        for name in PATHS:
            path = r.paths[name]
            copied = int(np.median(path.copied)) if path.copied else 0
            rows.append(
                [
                    f"{r.width}x{r.height}",
                    name,
                    path.stats.count,
                    fmt_us(path.stats.median_ns),
                    fmt_us(path.stats.p95_ns),
                    ratio(path.stats.median_ns, in_loop),
                    ratio(path.stats.median_ns, hot),
                    ratio(path.stats.median_ns, paced),
                    copied,
                    f"{copied / rgba_bytes:.3f}x"
                    if copied
                    else "-"
                    if name in (MEMCPY, FLOOR, CALLS)
                    else "0 (views)",
                ]
            )
        i420, rgba = r.paths["addon I420"], r.paths["addon RGBA"]
        bytes_ratio = (np.median(i420.copied) / np.median(rgba.copied)) if rgba.copied else 0
        cost_ratio = i420.stats.median_ns / in_loop
        verdicts.append(
            f"  {r.width}x{r.height}: addon I420 copies {bytes_ratio:.3f}x the bytes of addon "
            f"RGBA (target <= {BYTES_TARGET}: {'met' if bytes_ratio <= BYTES_TARGET else 'MISSED'})"
            f" and costs {cost_ratio:.2f}x one memcpy of the RGBA frame timed in the same loop "
            f"(target <= {COST_TARGET}: {'met' if cost_ratio <= COST_TARGET else 'MISSED'}; "
            f"{i420.stats.median_ns / hot:.2f}x the hot memcpy, "
            f"{i420.stats.median_ns / paced:.2f}x the paced one); memcpy {fmt_us(in_loop)} in "
            f"the loop, {fmt_us(hot)} hot, {fmt_us(paced)} paced; I420 planes "
            f"{r.width}x{r.height} + 2 x {cw}x{ch}. The core's poll against raw livekit.rtc's: "
            f"RGBA {_poll_ratio(r, 'RGBA')}, I420 {_poll_ratio(r, 'I420')}. {_floor_text(r)}"
        )
    parts_rows = []
    for r in results:
        b = r.breakdown
        paced = r.memcpy_paced.median_ns
        for name, show, upload in (
            ("RGBA", b.rgba_show, b.rgba_upload),
            ("I420", b.i420_show, b.i420_upload),
        ):
            own = show.median_ns - upload.median_ns
            parts_rows.append(
                [
                    f"{r.width}x{r.height}",
                    name,
                    fmt_us(show.median_ns),
                    fmt_us(upload.median_ns),
                    fmt_us(own),
                    ratio(own, paced),
                    ratio(own, r.memcpy_hot.median_ns),
                ]
            )
    parts_headers = [
        "size",
        "addon",
        "show (paced)",
        "of which upload",
        "ours",
        "ours/paced memcpy",
        "ours/memcpy",
    ]
    headers = [
        "size",
        "path",
        "frames",
        "poll()",
        "p95",
        "/loop memcpy",
        "/hot",
        "/paced",
        "bytes into Godot",
        "/RGBA frame",
    ]
    return "\n".join(
        [
            table(headers, rows, left=(0, 1)),
            *verdicts,
            "  the addon's Godot work alone on a ready frame, once per 60 fps tick (stand-in): "
            "the upload is ImageTexture.update, the engine's copy to the GPU; 'ours' is the rest "
            "(our copies into the PackedByteArrays, set_data, the calls):",
            table(parts_headers, parts_rows, left=(0, 1)),
            "  medians of the polls that returned a full-size frame; all six streams read the "
            "same track in the same loop, where the last three rows are timed too. /loop memcpy, "
            "/hot and /paced: ratios to one np.copyto of the RGBA frame timed in that loop (the "
            "'memcpy RGBA' row), back to back, and alone once per 60 fps tick. 'floor I420': the "
            "three planes copied into Godot's memory and by the upload, nothing else; 'calls "
            "I420': the addon's upload of 1x1 planes (its engine calls, no bytes). Addon "
            "costs include the "
            "stand-in's modelled texture upload (one more copy of the same bytes). Off the main "
            "thread the SDK copies each decoded frame once more (4 bytes per pixel for RGBA, "
            "after its native conversion; 1.5 for I420, no conversion).",
        ]
    )
