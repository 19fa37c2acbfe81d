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
CONTINUITY_MS = 50.0
"""A writer's estimate further than this from where its audio continues is a gap or a
hitch (an underrun, a stall): its audio starts afresh at the estimate."""
DEADBAND_MS = 4.0
"""A writer's audio moves to its estimate only once the estimate's average has drifted
this far (one echo-canceller block): the estimate jitters by up to a mixer chunk."""
ERROR_SMOOTHING = 0.02
"""Weight of each new estimate in a writer's running average error (about 50 pushes)."""
MAX_STREAM_DELAY_MS = 500
"""The WebRTC module's limit for ``set_stream_delay_ms``."""
FAR_END_BACKLOG_MS = 1500
"""Far end read but not yet given to the module; more than this (the capture stalled) drops
the oldest."""
PAIRING_OBSERVE_MS = 1000.0
"""How long the far end and the microphone are watched, after the canceller starts (or the
microphone was muted), before their frames are paired: long enough to see the capture's
jitter (Godot's capture arrives in mixer chunks)."""
PAIRING_SLACK_MS = 10.0
"""Far end held beyond the least the observed jitter needed: one 10 ms frame, for a
capture chunk landing in a way not seen while watching."""


class FarEndTap:
    """A mono timeline of the audio being played, indexed by when it will be heard.

    Writers (audio streams, main thread) :meth:`add` what they push into a playback;
    readers (microphones) :meth:`read_until_now` it in order. Audio of several streams
    that plays at the same time is summed. Nothing is kept unless a reader is
    :meth:`attach`\\ ed, so the tap costs nothing when no echo canceller runs.
    """

    def __init__(self, sample_rate: int = 48000, clock: Callable[[], float] = time.monotonic):
        self._lock = threading.Lock()
        self.clock = clock
        """The tap's time line: audio is placed and read by this clock (seconds)."""
        self._readers = 0
        self.active = False
        """True while a reader is attached (writers may skip :meth:`add` otherwise)."""
        self._configure(sample_rate)

    def _configure(self, sample_rate: int) -> None:
        self.sample_rate = int(sample_rate)
        self._capacity = round(TAP_CAPACITY_SECONDS * self.sample_rate)
        self._ring = np.zeros(self._capacity, np.float32)
        self._read_index: int | None = None  # absolute frame index of the next read
        self._writers: dict[int, _WriterPlacement] = {}
        self.restarts = 0
        """Times a writer's audio started afresh (a gap or a hitch in its playback)."""
        self.moves = 0
        """Times a writer's audio moved to follow its drifted estimate."""
        self._continuity = round(CONTINUITY_MS * self.sample_rate / 1000)
        self._deadband = DEADBAND_MS * self.sample_rate / 1000

    def _now_index(self) -> int:
        return math.floor(self.clock() * self.sample_rate)

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
                self._writers.clear()

    def add(
        self, frames: np.ndarray, queued_frames: int, sample_rate: int, writer: object = None
    ) -> None:
        """Mix ``frames`` ((n, channels) float32 just pushed into a playback that already
        held ``queued_frames``) into the timeline where they will be heard.

        A ``writer`` (one per playback) keeps its audio contiguous: its next block goes
        right after the previous one. The estimate ``now + queued_frames`` jitters by up
        to one mixer chunk (Godot's mixer drains a playback in chunks), and an echo
        canceller cannot follow a reference whose delay keeps moving, so the audio moves
        to the estimate only when the estimate's running average has drifted
        ``DEADBAND_MS`` (clock drift), in one step; an estimate over ``CONTINUITY_MS`` off
        (an underrun, a hitch) starts afresh."""
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
                placement = self._writers.get(id(writer))
                if placement is None:
                    placement = self._writers[id(writer)] = _WriterPlacement()
                start = placement.place(
                    start, len(mono), self._read_index, self._continuity, self._deadband
                )
                self.restarts += placement.restarted
                self.moves += placement.moved
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

    def read_until_now(
        self, out: np.ndarray | None = None, until: float | None = None
    ) -> np.ndarray:
        """Everything heard since the last read, up to now (or up to the clock time
        ``until``, if not earlier than the last read; float32 mono; silence where nothing
        played). The part read is cleared for the next lap of the ring."""
        with self._lock:
            now = self._now_index()
            if until is not None and self._read_index is not None:
                now = max(self._read_index, min(now, math.floor(until * self.sample_rate)))
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


class _WriterPlacement:
    """Where one writer's audio continues on the tap, and how far its estimates are off."""

    __slots__ = ("error", "follows", "moved", "restarted")

    def __init__(self) -> None:
        self.follows: int | None = None
        self.error = 0.0
        self.restarted = False  # by the last place(): started afresh
        self.moved = False  # by the last place(): moved to the estimate

    def place(
        self, estimate: int, count: int, read_index: int, continuity: int, deadband: float
    ) -> int:
        follows = self.follows
        self.moved = False
        self.restarted = follows is not None and (
            follows < read_index or abs(estimate - follows) > continuity
        )
        if follows is None or self.restarted:
            start = estimate  # first block, or after a gap: start afresh
            self.error = 0.0
        else:
            self.error += (estimate - follows - self.error) * ERROR_SMOOTHING
            start = follows
            if abs(self.error) >= deadband:  # the playback really moved: follow it once
                start = follows + round(self.error)
                self.error = 0.0
                self.moved = True
        self.follows = start + count
        return start


far_end = FarEndTap()
"""The process-wide far-end tap fed by every audio stream's ``poll``."""


class VoiceProcessor:
    """10 ms framing plus the WebRTC audio processing module, for one microphone.

    :meth:`process` takes mono int16 at ``sample_rate`` in any length and returns the
    processed complete 10 ms frames (the rest waits for the next call). The far end read
    from ``tap`` waits in a backlog, and the module gets exactly one 10 ms far-end frame
    before each microphone frame (silence while the pairing is watched, see :meth:`_pair`,
    or if the backlog ran dry), as WebRTC's own
    audio device paths do: its echo canceller counts the two streams' calls, and a burst
    of one against the other makes it shift or reset its delay estimate (its render
    buffer's underrun and excess-render handling), so the echo would come back. Stages
    switch on and off at run time; as the SDK's module is configured at creation, a
    switch makes a new module (the echo canceller then re-converges).
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
        self._far_backlog = np.zeros(
            round(FAR_END_BACKLOG_MS * sample_rate / 1000) + self.frame_samples, np.float32
        )
        self._far_count = 0
        self._observe_samples = round(PAIRING_OBSERVE_MS * sample_rate / 1000)
        self._slack = round(PAIRING_SLACK_MS * sample_rate / 1000)
        self._observing = True  # watching, not yet pairing (see _pair)
        self._observed_near = 0  # microphone samples processed while watching
        self._least_lead: int | None = None  # least far end ahead of the microphone seen
        self._far_scratch = np.zeros(self.frame_samples, np.float32)
        # one reusable native frame each way; the numpy views alias their bytes
        self._near_frame = rtc.AudioFrame.create(sample_rate, 1, self.frame_samples)
        self._near_view = np.frombuffer(self._near_frame.data.cast("B"), np.int16)
        self._far_audio = rtc.AudioFrame.create(sample_rate, 1, self.frame_samples)
        self._far_view = np.frombuffer(self._far_audio.data.cast("B"), np.int16)
        self.stream_delay_ms = 0
        self.frames_processed = 0
        self.far_end_gaps = 0
        """Microphone frames given silence as their far end because the backlog ran dry
        after the pairing was set (each one shifts the pairing by 10 ms)."""
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
        self._restart_pairing()

    def _restart_pairing(self) -> None:
        self._far_count = 0
        self._observing = True
        self._observed_near = 0
        self._least_lead = None

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

    def process(self, pcm: np.ndarray, far_until: float | None = None) -> np.ndarray:
        """Frame and process mono int16 ``pcm``; returns the processed int16 frames (a
        multiple of 10 ms, possibly empty). ``far_until``: the clock time at which ``pcm``
        was taken from the capture (default: now); the far end is read up to then, so the
        two streams are measured at one instant whatever thread runs this, and when."""
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
            echo = self._tap_attached
            if echo:
                self._read_far_end(far_until)
            for index in range(frames):  # one 10 ms frame per native call, in place
                block = out[index * n : (index + 1) * n]
                if echo:
                    self._feed_far_frame(apm)
                    apm.set_stream_delay_ms(self.stream_delay_ms)
                self._near_view[:] = block
                apm.process_stream(self._near_frame)
                block[:] = self._near_view
            if echo and self._observing:
                self._watch(frames * n)
        self.frames_processed += frames
        return out

    def _watch(self, near_samples: int) -> None:
        """While watching: note how far the far end read so far leads the microphone
        frames processed so far, at this instant; when watched long enough, pair them."""
        self._observed_near += near_samples
        lead = self._far_count - self._observed_near
        if self._least_lead is None or lead < self._least_lead:
            self._least_lead = lead
        if self._observed_near >= self._observe_samples:
            self._pair()

    def _pair(self) -> None:
        """Drop the far end that belongs to the frames already processed, less the least
        lead seen, so the far end stays ``PAIRING_SLACK_MS`` ahead at the capture's most
        jittered: every later microphone frame then has its far-end frame, the pairing
        holds, and the module sees the least delay the capture allows (never negative)."""
        assert self._least_lead is not None
        drop = max(0, min(self._far_count, self._observed_near + self._least_lead - self._slack))
        backlog = self._far_backlog
        backlog[: self._far_count - drop] = backlog[drop : self._far_count]
        self._far_count -= drop
        self._observing = False

    def _read_far_end(self, until: float | None) -> None:
        """Append the far end heard since the last call to the backlog (keeping the
        newest ``FAR_END_BACKLOG_MS`` if the microphone has stalled)."""
        assert self._tap is not None
        backlog, count = self._far_backlog, self._far_count
        heard = self._tap.read_until_now(backlog[count:], until)
        if len(heard) and heard.base is not backlog:  # read into a new array: no room
            newest = np.concatenate([backlog[:count], heard])[-len(backlog) :]
            backlog[: len(newest)] = newest
            self._far_count = len(newest)
        else:
            self._far_count = count + len(heard)

    def _feed_far_frame(self, apm: rtc.AudioProcessingModule) -> None:
        """Give the module the oldest 10 ms of the backlog; silence while the pairing is
        being watched, or if the backlog ran dry (a gap: the pairing shifts by 10 ms)."""
        n, count, backlog = self.frame_samples, self._far_count, self._far_backlog
        if not self._observing and count < n:
            self.far_end_gaps += 1
        if count >= n and not self._observing:
            np.clip(backlog[:n], -1.0, 1.0, out=self._far_scratch)
            np.multiply(self._far_scratch, 32767.0, out=self._far_view, casting="unsafe")
            backlog[: count - n] = backlog[n:count]
            self._far_count = count - n
        else:
            self._far_view[:] = 0
        apm.process_reverse_stream(self._far_audio)

    def discard_far_end(self, until: float | None = None) -> None:
        """Skip the far end heard so far, or up to the clock time ``until`` (while the
        microphone is muted and unprocessed, or after a hitch skipped some of it); the
        pairing starts again with the next frames."""
        if self._tap_attached and self._tap is not None:
            self._tap.read_until_now(until=until)
            self._restart_pairing()

    def close(self) -> None:
        """Release the module and stop reading the far end (idempotent)."""
        if self._tap_attached and self._tap is not None:
            self._tap.detach()
        self._tap_attached = False
        self._apm = None
