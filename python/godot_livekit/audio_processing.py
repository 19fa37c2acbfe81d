"""Voice processing for the microphone: echo cancellation, noise suppression, gain control
and a high-pass filter, on the SDK's WebRTC audio processing module.

The echo canceller needs the far end: what our speakers are about to play. Every
:class:`~godot_livekit.audio_stream.LiveKitAudioStream` that pushes audio into a Godot
playback also adds it to the process-wide :data:`far_end` tap, at the position where it
will be heard (now + the audio already queued in that playback). The microphone reads the
tap up to the present in 10 ms frames as the reverse stream; the remaining delay (Godot's
output latency, the capture path) is what the module is told with ``set_stream_delay_ms``
and what its own delay estimator refines.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

import numpy as np
from livekit import rtc

logger = logging.getLogger(__name__)

FRAME_MS = 10
TAP_CAPACITY_SECONDS = 2.0
CONTINUITY_MS = 20.0
SLEW_MS = 0.5
MAX_STREAM_DELAY_MS = 500
"""The WebRTC module's limit for ``set_stream_delay_ms``."""


class FarEndTap:
    """A mono timeline of the audio being played, indexed by when it will be heard.

    Writers (audio streams, main thread) :meth:`add` what they push into a playback;
    readers (microphones) :meth:`read_until_now` it in order. Audio of several streams
    that plays at the same time is summed. Nothing is kept unless a reader is
    :meth:`attach`\\ ed, so the tap costs nothing when no echo canceller runs.
    """

    def __init__(self, sample_rate: int = 48000, clock: Callable[[], float] = time.monotonic):
        self._lock = threading.Lock()
        self._clock = clock
        self._readers = 0
        self.active = False
        """True while a reader is attached (writers may skip :meth:`add` otherwise)."""
        self._configure(sample_rate)

    def _configure(self, sample_rate: int) -> None:
        self.sample_rate = int(sample_rate)
        self._capacity = round(TAP_CAPACITY_SECONDS * self.sample_rate)
        self._ring = np.zeros(self._capacity, np.float32)
        self._read_index: int | None = None  # absolute frame index of the next read
        self._next_of: dict[int, int] = {}  # writer -> where its next block goes
        self._continuity = round(CONTINUITY_MS * self.sample_rate / 1000)
        self._slew = round(SLEW_MS * self.sample_rate / 1000)

    def _now_index(self) -> int:
        return math.floor(self._clock() * self.sample_rate)

    def attach(self, sample_rate: int) -> None:
        """A reader starts; the tap runs at ``sample_rate`` (the last reader's wins)."""
        with self._lock:
            self._readers += 1
            self.active = True
            if sample_rate != self.sample_rate:
                self._configure(sample_rate)

    def detach(self) -> None:
        with self._lock:
            self._readers = max(0, self._readers - 1)
            self.active = self._readers > 0
            if self._readers == 0:
                self._ring[:] = 0.0
                self._read_index = None
                self._next_of.clear()

    def add(
        self, frames: np.ndarray, queued_frames: int, sample_rate: int, writer: object = None
    ) -> None:
        """Mix ``frames`` ((n, channels) float32 just pushed into a playback that already
        held ``queued_frames``) into the timeline where they will be heard.

        A ``writer`` (one per playback) keeps its audio contiguous: its next block goes
        right after the previous one, moved at most ``SLEW_MS`` towards the estimate, so a
        playback drained in chunks (Godot's mixer) does not tear the reference the echo
        canceller follows; a jump over ``CONTINUITY_MS`` (a gap, a hitch) starts afresh."""
        if not self.active or len(frames) == 0:
            return
        mono = frames.mean(axis=1) if frames.ndim == 2 else np.asarray(frames, np.float32)
        if sample_rate != self.sample_rate:  # rare: a playback at another mix rate
            count = round(len(mono) * self.sample_rate / sample_rate)
            positions = np.arange(count) * (sample_rate / self.sample_rate)
            mono = np.interp(positions, np.arange(len(mono)), mono).astype(np.float32)
            queued_frames = round(queued_frames * self.sample_rate / sample_rate)
        with self._lock:
            now = self._now_index()
            if self._read_index is None:
                self._read_index = now
            start = now + int(queued_frames)
            if writer is not None:
                follows = self._next_of.get(id(writer))
                if (
                    follows is not None
                    and follows >= self._read_index
                    and abs(start - follows) <= self._continuity
                ):
                    # right after its previous block, moving towards the estimate slowly
                    start = follows + max(-self._slew, min(self._slew, start - follows))
                self._next_of[id(writer)] = start + len(mono)
            skip = max(0, self._read_index - start)  # already read: too late to matter
            end = min(start + len(mono), self._read_index + self._capacity)
            if end <= start + skip:
                return
            self._add_at(start + skip, mono[skip : end - start])

    def _add_at(self, index: int, values: np.ndarray) -> None:
        cap = self._capacity
        offset = index % cap
        first = min(len(values), cap - offset)
        self._ring[offset : offset + first] += values[:first]
        if first < len(values):
            self._ring[: len(values) - first] += values[first:]

    def read_until_now(self, out: np.ndarray | None = None) -> np.ndarray:
        """Everything heard since the last read, up to now (float32 mono; silence where
        nothing played). The part read is cleared for the next lap of the ring."""
        with self._lock:
            now = self._now_index()
            if self._read_index is None or now - self._read_index > self._capacity:
                # first read, or the reader fell a whole ring behind: start again from now
                self._ring[:] = 0.0
                self._read_index = now
            count = max(0, now - self._read_index)
            result = out if out is not None and len(out) >= count else np.empty(count, np.float32)
            cap = self._capacity
            offset = self._read_index % cap
            first = min(count, cap - offset)
            result[:first] = self._ring[offset : offset + first]
            self._ring[offset : offset + first] = 0.0
            if first < count:
                result[first:count] = self._ring[: count - first]
                self._ring[: count - first] = 0.0
            self._read_index = now
            return result[:count]


far_end = FarEndTap()
"""The process-wide far-end tap fed by every audio stream's ``poll``."""


class VoiceProcessor:
    """10 ms framing plus the WebRTC audio processing module, for one microphone.

    :meth:`process` takes mono int16 at ``sample_rate`` in any length and returns the
    processed complete 10 ms frames (the rest waits for the next call). Before each batch
    it feeds the far end read from ``tap`` as the reverse stream. Stages switch on and off
    at run time; as the SDK's module is configured at creation, a switch makes a new
    module (the echo canceller then re-converges within a second or two).
    """

    def __init__(
        self,
        sample_rate: int,
        tap: FarEndTap | None = None,
        *,
        echo_cancellation: bool = True,
        noise_suppression: bool = True,
        auto_gain_control: bool = True,
        high_pass_filter: bool = True,
    ) -> None:
        if sample_rate % 100:
            raise ValueError(f"sample_rate must be a multiple of 100 Hz, got {sample_rate}")
        self.sample_rate = sample_rate
        self.frame_samples = sample_rate // 100
        self._tap = tap
        self._stages = {
            "echo_cancellation": echo_cancellation,
            "noise_suppression": noise_suppression,
            "auto_gain_control": auto_gain_control,
            "high_pass_filter": high_pass_filter,
        }
        self._apm: rtc.AudioProcessingModule | None = None
        self._pending = np.zeros(self.frame_samples, np.int16)
        self._pending_count = 0
        self._far_pending = np.zeros(0, np.float32)
        # one reusable native frame each way; the numpy views alias their bytes
        self._near_frame = rtc.AudioFrame.create(sample_rate, 1, self.frame_samples)
        self._near_view = np.frombuffer(self._near_frame.data.cast("B"), np.int16)
        self._far_audio = rtc.AudioFrame.create(sample_rate, 1, self.frame_samples)
        self._far_view = np.frombuffer(self._far_audio.data.cast("B"), np.int16)
        self.stream_delay_ms = 0
        self.frames_processed = 0
        self._tap_attached = False
        self._rebuild()

    # -- stages ------------------------------------------------------------------------

    def _rebuild(self) -> None:
        if any(self._stages.values()):
            self._apm = rtc.AudioProcessingModule(**self._stages)
        else:
            self._apm = None
        wants_tap = self._stages["echo_cancellation"] and self._tap is not None
        if wants_tap and not self._tap_attached:
            assert self._tap is not None
            self._tap.attach(self.sample_rate)
            self._tap.read_until_now()  # start from now, not from old audio
            self._tap_attached = True
        elif not wants_tap and self._tap_attached:
            assert self._tap is not None
            self._tap.detach()
            self._tap_attached = False
        self._far_pending = np.zeros(0, np.float32)

    def set_stage(self, name: str, enabled: bool) -> None:
        """Switch ``echo_cancellation``, ``noise_suppression``, ``auto_gain_control`` or
        ``high_pass_filter`` on or off."""
        if name not in self._stages:
            raise ValueError(f"unknown processing stage {name!r}")
        if self._stages[name] != bool(enabled):
            self._stages[name] = bool(enabled)
            self._rebuild()

    def get_stage(self, name: str) -> bool:
        if name not in self._stages:
            raise ValueError(f"unknown processing stage {name!r}")
        return self._stages[name]

    # -- processing --------------------------------------------------------------------

    def process(self, pcm: np.ndarray) -> np.ndarray:
        """Frame and process mono int16 ``pcm``; returns the processed int16 frames (a
        multiple of 10 ms, possibly empty)."""
        n = self.frame_samples
        total = self._pending_count + len(pcm)
        frames = total // n
        out = np.empty(frames * n, np.int16)
        if frames == 0:
            self._pending[self._pending_count : total] = pcm
            self._pending_count = total
            return out
        used = frames * n - self._pending_count
        out[: self._pending_count] = self._pending[: self._pending_count]
        out[self._pending_count :] = pcm[:used]
        rest = pcm[used:]
        self._pending[: len(rest)] = rest
        self._pending_count = len(rest)
        apm = self._apm
        if apm is not None:
            self._feed_far_end(apm)
            echo = self._stages["echo_cancellation"]
            for index in range(frames):  # one 10 ms frame per native call, in place
                block = out[index * n : (index + 1) * n]
                self._near_view[:] = block
                if echo:
                    apm.set_stream_delay_ms(self.stream_delay_ms)
                apm.process_stream(self._near_frame)
                block[:] = self._near_view
        self.frames_processed += frames
        return out

    def _feed_far_end(self, apm: rtc.AudioProcessingModule) -> None:
        if not self._tap_attached:
            return
        assert self._tap is not None
        heard = self._tap.read_until_now()
        if len(self._far_pending):
            heard = np.concatenate([self._far_pending, heard])
        n = self.frame_samples
        whole = len(heard) // n
        if whole:
            scaled = np.clip(heard[: whole * n], -1.0, 1.0) * 32767.0
            for index in range(whole):
                self._far_view[:] = scaled[index * n : (index + 1) * n]
                apm.process_reverse_stream(self._far_audio)
        self._far_pending = heard[whole * n :].copy()

    def discard_far_end(self) -> None:
        """Skip the far end heard so far (while the microphone is muted and unprocessed)."""
        if self._tap_attached and self._tap is not None:
            self._tap.read_until_now()
            self._far_pending = np.zeros(0, np.float32)

    def close(self) -> None:
        """Release the module and stop reading the far end (idempotent)."""
        if self._tap_attached and self._tap is not None:
            self._tap.detach()
        self._tap_attached = False
        self._apm = None
