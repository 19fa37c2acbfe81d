"""Closed media objects give their memory back: under py4godot a game's objects are never
freed, so a closed source or stream it keeps must not keep its frames."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

from godot_livekit import LiveKitVideoSource

WIDTH, HEIGHT = 640, 360
FRAME_BYTES = WIDTH * HEIGHT * 4


def test_a_closed_video_source_drops_its_frame_buffers_and_ignores_frames() -> None:
    frame = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    tracemalloc.start()
    try:
        source = LiveKitVideoSource.create(WIDTH, HEIGHT)
        source.capture_frame(frame)
        source.capture_frame(frame)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        source.close()
        source.close()  # idempotent
        source.capture_frame(frame)  # ignored, no error
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # three buffers of the frame's size; at most one may still be with the send worker (and
    # other threads may allocate a little meanwhile: 64 KiB of slack, a fifteenth of a frame)
    assert before - after >= 2 * FRAME_BYTES - 65536, (before, after)
