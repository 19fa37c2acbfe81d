"""1. Send path: main-thread cost of ``LiveKitVideoSource.capture_frame`` vs one memcpy.

The source is not published: the main thread's work (validation plus one copy into a
spare buffer) is the same, and the machine is quiet. The worker thread's SDK call
(RGBA -> I420 in native code) is timed separately for comparison; it is off the main thread.

Two memcpy baselines: the plain one (``np.copyto`` between two preallocated arrays, back to
back, median of many: caches hot) and the same copy paced like the calls (once per 60 fps
tick: what one copy costs inside a frame loop).
"""

from __future__ import annotations

from dataclasses import dataclass

from godot_livekit_dev.patterns import quadrant_pattern
from livekit import rtc

from godot_livekit import LiveKitVideoSource
from godot_livekit.media_convert import video_frame_from_rgba

from .stats import Stats, fmt_ms, memcpy_stats, ratio, table, time_calls

SIZES = ((1280, 720), (1920, 1080))
FRAME_INTERVAL = 1 / 60  # capture_frame called like a 60 fps game loop


@dataclass(frozen=True)
class Baseline:
    """The memcpy of one RGBA frame: back to back (``hot``) and once per 60 fps tick."""

    hot: Stats
    paced: Stats


@dataclass(frozen=True)
class SendResult:
    width: int
    height: int
    memcpy: Baseline
    capture_frame: Stats
    capture_bytes: Stats
    sdk_capture: Stats
    frames_sent: int
    frames_replaced: int


def measure_memcpy(quick: bool) -> dict[tuple[int, int], Baseline]:
    """The memcpy baselines of each size (median of many copies, after a warm-up)."""
    reps, warmup = (100, 20) if quick else (1000, 100)
    paced_reps = 40 if quick else 300
    return {
        (w, h): Baseline(
            memcpy_stats(h, w, reps, warmup),
            memcpy_stats(h, w, paced_reps, 10, FRAME_INTERVAL),
        )
        for w, h in SIZES
    }


def measure_size(width: int, height: int, memcpy: Baseline, quick: bool) -> SendResult:
    """Time capture_frame (numpy RGBA) and capture_bytes (bytes) paced at 60 fps."""
    reps, warmup = (40, 10) if quick else (300, 30)
    pattern = quadrant_pattern(width, height)
    raw = pattern.tobytes()
    source = LiveKitVideoSource(width, height)
    try:
        frame_stats = time_calls(
            lambda: source.capture_frame(pattern), reps, warmup, FRAME_INTERVAL
        )
        bytes_stats = time_calls(
            lambda: source.capture_bytes(raw, width, height, "RGBA8"), reps, warmup, FRAME_INTERVAL
        )
        sent, replaced = source.get_frames_sent(), source._frames_replaced
    finally:
        source.close()
    sdk_source = rtc.VideoSource(width, height)
    buffer = pattern.copy()
    sdk_stats = time_calls(
        lambda: sdk_source.capture_frame(video_frame_from_rgba(buffer)),
        reps // 2,
        warmup,
        FRAME_INTERVAL,
    )
    return SendResult(width, height, memcpy, frame_stats, bytes_stats, sdk_stats, sent, replaced)


def run(memcpy: dict[tuple[int, int], Baseline], quick: bool) -> list[SendResult]:
    return [measure_size(w, h, memcpy[(w, h)], quick) for w, h in SIZES]


def report(results: list[SendResult]) -> str:
    rows = []
    for r in results:
        hot, paced = r.memcpy.hot.median_ns, r.memcpy.paced.median_ns
        rows.append(
            [
                f"{r.width}x{r.height}",
                fmt_ms(hot),
                fmt_ms(paced),
                fmt_ms(r.capture_frame.median_ns),
                fmt_ms(r.capture_frame.p95_ns),
                ratio(r.capture_frame.median_ns, hot),
                ratio(r.capture_frame.median_ns, paced),
                fmt_ms(r.capture_bytes.median_ns),
                ratio(r.capture_bytes.median_ns, hot),
                fmt_ms(r.sdk_capture.median_ns),
            ]
        )
    headers = [
        "size",
        "memcpy",
        "memcpy paced",
        "capture_frame",
        "p95",
        "/memcpy",
        "/paced",
        "capture_bytes",
        "/memcpy",
        "worker: SDK capture",
    ]
    counts = ", ".join(
        f"{r.width}x{r.height}: {r.capture_frame.count} timed calls, worker sent "
        f"{r.frames_sent} / replaced {r.frames_replaced}"
        for r in results
    )
    return "\n".join(
        [
            table(headers, rows),
            "  medians; /memcpy = ratio to one plain memcpy of the frame (back to back, hot "
            "caches); /paced = to the same memcpy done once per 60 fps tick like the calls.",
            f"  ({counts})",
            "  capture_frame: numpy RGBA array in; capture_bytes: Godot-style `bytes` in "
            "(zero-copy view, then capture_frame).",
            "  worker: SDK capture = rtc.VideoSource.capture_frame (native RGBA->I420), "
            "runs on the send thread, not the main thread.",
        ]
    )
