"""Closed media objects give their memory back: under py4godot a game's objects are never
freed, so a closed source or stream it keeps must not keep its frames.

Measured with weak references to the frame buffers, not with tracemalloc: tracemalloc in a
process whose native threads call into Python (the SDK's callbacks) races those threads in
CPython 3.11 (python/cpython#128679, #155725), and a CI run died of it in this test.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np

from godot_livekit import LiveKitVideoSource

WIDTH, HEIGHT = 640, 360


def test_a_closed_video_source_drops_its_frame_buffers_and_ignores_frames() -> None:
    frame = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    source = LiveKitVideoSource.create(WIDTH, HEIGHT)
    source.capture_frame(frame)
    source.capture_frame(frame)
    buffers = [weakref.ref(buffer) for buffer in source._buffers]  # its three frame buffers
    assert len(buffers) == 3
    source.close()
    source.close()  # idempotent
    source.capture_frame(frame)  # ignored, no error, no new buffer
    source._worker.join(timeout=5.0)  # the send worker ends with the source
    assert not source._worker.is_alive()
    gc.collect()
    assert [ref() is None for ref in buffers] == [True, True, True]
    assert source._buffers == [] and source.get_frames_sent() <= 2
