"""Voice test helpers: a real-time microphone capture and a simulated room whose speaker
(a Godot playback stand-in) echoes into that microphone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

RATE = 48000
VIBRATO_RATE = 6.0


def band_level_db(samples: np.ndarray, rate: int, frequency: float, width: float = 30.0) -> float:
    """Energy of ``samples`` (mono or (n, c)) within ``width`` Hz of ``frequency``, in dB."""
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)))) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1.0 / rate)
    band = (freqs > frequency - width) & (freqs < frequency + width)
    return float(10.0 * np.log10(spectrum[band].sum() + 1e-12))


def tone_bursts(
    frequency: float,
    on_s: float = 0.25,
    period_s: float = 0.5,
    breath: float = 0.0,
    vibrato: float = 0.0,
) -> Callable[[int, int], np.ndarray]:
    """``signal(start, n)``: a tone switched on and off (an echo canceller needs onsets to
    find the delay; a steady sine is periodic everywhere), with ``breath`` of white noise
    while on (deterministic per sample, like a voice's breath: broadband for the delay
    finder) and a 6 Hz ``vibrato`` of that many Hz either way (a voice's pitch moves; a
    pure tone held for a quarter second is a narrow band that WebRTC's echo canceller
    leaves out of its filter's adaptation on purpose)."""

    def signal(start: int, n: int) -> np.ndarray:
        index = np.arange(n) + start
        t = index / RATE
        on = (t % period_s) < on_s
        phase = 2 * np.pi * frequency * t
        if vibrato:
            phase = phase + (vibrato / VIBRATO_RATE) * np.sin(2 * np.pi * VIBRATO_RATE * t)
        tone = 0.3 * np.sin(phase)
        if breath:
            tone = tone + breath * hashed_noise(index)
        return (tone * on).astype(np.float32)

    return signal


def hashed_noise(index: np.ndarray) -> np.ndarray:
    """White noise in [-1, 1) as a hash of each sample's index (splitmix64's finaliser):
    the same noise whoever asks for which block. (A multiplicative hash modulo 2**16 is
    not noise: it is a sawtooth at 22.8 kHz whose aliases are tones, periodic like the
    tone itself, and Opus removes most of it.)"""
    h = index.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return (h >> np.uint64(40)).astype(np.float64) / float(1 << 23) - 1.0


class EchoRoom:
    """A speaker and a microphone in one simulated room, running in real time.

    The speaker side is a playback (``get_frames_available``/``push_buffer``) drained at
    48 kHz of wall-clock time; what it plays reaches the microphone ``echo_delay_s`` later
    at ``echo_gain``, plus ``near_end(start, n)`` (the local talker). The microphone side is
    a capture (``get_frames_available``/``get_buffer``) as the microphone reads it.
    """

    def __init__(
        self,
        echo_delay_s: float = 0.06,
        echo_gain: float = 0.5,
        near_end: Callable[[int, int], np.ndarray] | None = None,
        seconds: float = 120.0,
        playback_capacity: int = RATE // 2,
    ) -> None:
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._played = np.zeros(round(seconds * RATE), np.float32)  # speaker output
        self._played_count = 0  # frames the speaker has played
        self._queue: list[np.ndarray] = []  # pushed, not yet played (mono)
        self._queued = 0
        self._capacity = playback_capacity
        self._delay = round(echo_delay_s * RATE)
        self.echo_gain = echo_gain
        self.near_end = near_end
        self._read = 0  # frames the microphone has read
        self.speaker = _Speaker(self)
        self.microphone = _Microphone(self)

    def _advance(self) -> None:
        """Play what the wall clock says has played since the last call."""
        due = round((time.monotonic() - self._start) * RATE) - self._played_count
        due = min(due, len(self._played) - self._played_count)
        while due > 0:
            if not self._queue:
                self._played_count += due  # silence: already zeros
                return
            head = self._queue[0]
            take = min(due, len(head))
            end = self._played_count + take
            self._played[self._played_count : end] = head[:take]
            self._played_count = end
            self._queued -= take
            due -= take
            if take == len(head):
                self._queue.pop(0)
            else:
                self._queue[0] = head[take:]

    def recorded(self) -> int:
        """Frames the microphone has recorded so far."""
        return max(0, self._played_count - self._delay)


class _Speaker:
    def __init__(self, room: EchoRoom) -> None:
        self.room = room

    def get_frames_available(self) -> int:
        with self.room._lock:
            self.room._advance()
            return self.room._capacity - self.room._queued

    def push_buffer(self, frames: np.ndarray) -> None:
        mono = np.asarray(frames, np.float32).mean(axis=1)
        with self.room._lock:
            self.room._advance()
            self.room._queue.append(mono)
            self.room._queued += len(mono)


class _Microphone:
    def __init__(self, room: EchoRoom) -> None:
        self.room = room

    def get_frames_available(self) -> int:
        with self.room._lock:
            self.room._advance()
            return self.room.recorded() - self.room._read

    def get_buffer(self, frames: int) -> np.ndarray:
        room = self.room
        with room._lock:
            start = room._read
            frames = min(frames, room.recorded() - start)
            echo = room._played[start : start + frames] * room.echo_gain
            room._read = start + frames
        if room.near_end is not None:
            echo = echo + room.near_end(start, frames)
        return np.repeat(echo.astype(np.float32)[:, None], 2, axis=1)


class RealtimeCapture:
    """A microphone capture that records ``signal(start, n)`` at 48 kHz of wall-clock time."""

    def __init__(self, signal: Callable[[int, int], np.ndarray]) -> None:
        self.signal = signal
        self._start = time.monotonic()
        self._read = 0

    def get_frames_available(self) -> int:
        return round((time.monotonic() - self._start) * RATE) - self._read

    def get_buffer(self, frames: int) -> np.ndarray:
        mono = self.signal(self._read, frames)
        self._read += frames
        return np.repeat(mono[:, None], 2, axis=1)


def sine(frequency: float, amplitude: float = 0.3) -> Callable[[int, int], np.ndarray]:
    def signal(start: int, n: int) -> np.ndarray:
        t = (np.arange(n) + start) / RATE
        return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)

    return signal
