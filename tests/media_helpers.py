"""Test helpers that feed real media at real-time pace from a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from godot_livekit import LiveKitAudioSource, LiveKitVideoSource
from godot_livekit.tools.patterns import quadrant_pattern, sine_wave


class Feeder:
    """Calls ``step(index)`` every ``interval`` seconds on a thread until stopped."""

    def __init__(self, interval: float, step: Callable[[int], None]) -> None:
        self._interval = interval
        self._step = step
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-media-feeder", daemon=True)
        self.errors: list[BaseException] = []

    def _run(self) -> None:
        start = time.monotonic()
        index = 0
        while not self._stop.is_set():
            try:
                self._step(index)
            except Exception as error:  # surfaced by stop()
                self.errors.append(error)
                return
            index += 1
            delay = start + index * self._interval - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)

    def __enter__(self) -> Feeder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        assert not self._thread.is_alive(), "feeder thread did not stop"
        assert not self.errors, f"feeder failed: {self.errors!r}"


def video_feeder(source: LiveKitVideoSource, fps: float = 30.0) -> Feeder:
    pattern = quadrant_pattern(source.get_width(), source.get_height())
    return Feeder(1.0 / fps, lambda _i: source.capture_frame(pattern, 0, 0))


def tone_feeder(source: LiveKitAudioSource, frequency: float = 440.0) -> Feeder:
    rate, channels = source.get_sample_rate(), source.get_num_channels()
    per_frame = rate // 100

    def step(index: int) -> None:
        chunk = sine_wave(frequency, rate, channels, per_frame, start=index * per_frame)
        source.capture_frame(chunk, rate, channels, per_frame)

    return Feeder(0.01, step)


class CollectingPlayback:
    """Stands in for Godot's AudioStreamGeneratorPlayback: takes everything, keeps it."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self.chunks: list[np.ndarray] = []

    def get_frames_available(self) -> int:
        return self.capacity

    def push_buffer(self, frames: np.ndarray) -> None:
        self.chunks.append(np.array(frames, copy=True))

    def frames(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros((0, 2), np.float32)
