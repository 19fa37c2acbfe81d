"""Feed real media at real-time pace from a background thread (demos, tests, benches)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from godot_livekit.audio_source import LiveKitAudioSource
from godot_livekit.video_source import LiveKitVideoSource

from .patterns import quadrant_pattern, sine_wave


class Feeder:
    """Calls ``step(index)`` every ``interval`` seconds on a thread until stopped."""

    def __init__(self, interval: float, step: Callable[[int], None]) -> None:
        self._interval = interval
        self._step = step
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="godot-livekit-feeder", daemon=True)
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

    def start(self) -> Feeder:
        self._thread.start()
        return self

    def __enter__(self) -> Feeder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the thread (bounded); raises if a step failed."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        if self._thread.is_alive():
            raise RuntimeError("feeder thread did not stop")
        if self.errors:
            raise RuntimeError(f"feeder failed: {self.errors[0]!r}")


def video_feeder(source: LiveKitVideoSource, fps: float = 30.0) -> Feeder:
    """Pushes the quadrant test pattern into ``source`` at ``fps``."""
    pattern = quadrant_pattern(source.get_width(), source.get_height())
    return Feeder(1.0 / fps, lambda _i: source.capture_frame(pattern, 0, 0))


def tone_feeder(source: LiveKitAudioSource, frequency: float = 440.0) -> Feeder:
    """Pushes a continuous sine into ``source`` in 10 ms frames."""
    rate, channels = source.get_sample_rate(), source.get_num_channels()
    per_frame = rate // 100

    def step(index: int) -> None:
        chunk = sine_wave(frequency, rate, channels, per_frame, start=index * per_frame)
        source.capture_frame(chunk, rate, channels, per_frame)

    return Feeder(0.01, step)
