"""Audio levels: how loud a participant is, measured on the audio we actually have.

A :class:`LevelMeter` turns a block of audio into a level in 0..1 of full scale: the block's
RMS (one numpy pass, then one dot product), rising at once and falling with a short release
so a level read between words does not flicker to zero. A full-scale sine measures 0.707.

Two meters feed ``participant.get_audio_level()`` through the room's speakers registry:
- received audio is measured when the level is asked for, on the newest 10 ms a
  ``LiveKitAudioStream`` holds (the stream is a level source of its participant:
  :func:`godot_livekit.participant.add_level_source`), so receiving costs nothing per frame;
- the microphone measures each processed frame it sends on the thread that holds it and
  reports it (:func:`godot_livekit.participant.report_audio_level`).
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
        return self._update(rms, count / max(1, channels) / max(1, sample_rate))

    def measure_float(self, block: np.ndarray, elapsed: float) -> float:
        """Measure float audio (full scale 1.0, any shape) heard ``elapsed`` seconds after
        the last measurement: the level falls over that time, not over the block's length
        (for a meter read on demand rather than on every block); returns the level now."""
        flat = block.reshape(-1)
        if flat.size == 0:
            return self._update(0.0, elapsed)
        return self._update(math.sqrt(float(np.dot(flat, flat)) / flat.size), elapsed)

    def _update(self, rms: float, seconds: float) -> float:
        held = self.level * math.exp(-max(0.0, seconds) / self._release)
        level = min(1.0, max(rms, held))
        self.level = level if level >= SILENCE else 0.0
        return self.level
