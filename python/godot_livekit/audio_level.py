"""Audio levels: how loud a participant is, measured on the audio we actually have.

A :class:`LevelMeter` runs on the thread that already holds the audio (the runtime thread, for
a received frame or for the microphone's processed frames) and turns each block of int16
samples into a level in 0..1 of full scale: the block's RMS (one numpy pass through a reused
float32 array, then one dot product), rising at once and falling with a short release so a
level read between words does not flicker to zero. A full-scale sine measures 0.707.

What it measures goes to the room's speakers registry through
:func:`godot_livekit.participant.report_audio_level`; ``participant.get_audio_level()``
reads it back on the main thread.
"""

from __future__ import annotations

import math

import numpy as np

from .media_convert import INT16_SCALE

RELEASE_SECONDS = 0.15
"""After a loud block the level falls by a factor e in this time (unless new audio is louder)."""
SILENCE = 1e-4
"""Levels below this (-80 dBFS) read as 0: digital silence, a muted track's empty frames."""


class LevelMeter:
    """RMS level of int16 blocks with instant attack and an exponential release."""

    __slots__ = ("_release", "_scratch", "level")

    def __init__(self, release_seconds: float = RELEASE_SECONDS) -> None:
        if not release_seconds > 0:
            raise ValueError(f"release_seconds must be > 0, got {release_seconds!r}")
        self._release = float(release_seconds)
        self._scratch = np.zeros(0, np.float32)
        self.level = 0.0
        """The last level measured (0..1)."""

    def measure(self, pcm: np.ndarray | memoryview, sample_rate: int, channels: int = 1) -> float:
        """Measure one block of interleaved int16 ``pcm`` (``channels`` channels at
        ``sample_rate``); returns the level now."""
        samples = np.frombuffer(pcm, np.int16) if isinstance(pcm, memoryview) else pcm
        count = int(samples.size)
        if count == 0:
            return self.level
        if self._scratch.size < count:
            self._scratch = np.zeros(max(count, 2 * self._scratch.size), np.float32)
        block = self._scratch[:count]
        np.copyto(block, samples.reshape(-1), casting="safe")
        rms = math.sqrt(float(np.dot(block, block)) / count) / INT16_SCALE
        seconds = count / max(1, channels) / max(1, sample_rate)
        held = self.level * math.exp(-seconds / self._release)
        level = min(1.0, max(rms, held))
        self.level = level if level >= SILENCE else 0.0
        return self.level
