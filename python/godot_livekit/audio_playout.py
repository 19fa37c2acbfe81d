"""Receive-side playout: from the jitter buffer into a Godot playback, without clock drift.

The SDK delivers remote audio on the host's clock; Godot's mixer plays it on the sound
card's clock. A difference of a fraction of a percent makes a plain FIFO grow without end
or run dry every few seconds. :class:`DriftCompensator` watches the delay (jitter buffer
plus what waits in the playback) and, when its mean leaves the level it settled at, asks
:class:`PlayoutReader` to drop or repeat one pitch period of audio, spliced with a short
crossfade where the waveform matches itself best (the WSOLA idea): a few milliseconds,
once or twice a second at a drift of 0.5 %, instead of a jump of tens of milliseconds or
a gap. Everything is numpy on preallocated arrays; a read allocates nothing.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .media_convert import AudioJitterBuffer

logger = logging.getLogger(__name__)

CROSSFADE_MS = 2.5
MIN_PERIOD_MS = 2.5
MAX_PERIOD_MS = 12.5
"""Splice lengths searched: one pitch period of voices from 80 Hz up, or any short block."""
SEARCH_POINTS = 400
"""The coarse splice search works on at most about this many samples per array (every
``step``-th frame), then refines at full rate: numpy lets go of the GIL for work on more than
500 elements, and a main thread that does so waits, under load, up to the switch interval to
get it back; a splice keeps it."""

WINDOW_SECONDS = 1.0
SETTLE_SECONDS = 1.0
HYSTERESIS_MS = 3.0
MIN_INTERVAL_SECONDS = 0.25
STARVE_STEP_MS = 2.0
MAX_SETPOINT_MS = 100.0
LOWER_AFTER_SECONDS = 2.0
LOWER_STEP_MS = 1.0
SPARE_MS = 5.0
"""The set point comes down by ``LOWER_STEP_MS`` after ``LOWER_AFTER_SECONDS`` in which the
playback never held less than ``SPARE_MS`` at a poll: the delay finds the least this frame
rate and mixer need, from above. (Halving the spare each time instead reached it in seconds
on a quiet machine, but on a loaded one it kept overshooting: 6x the starved playbacks and
13x the corrections of this rule with 32 voices.)"""
WINDOW_BUCKETS = 10
"""The window's mean is kept over buckets of 1/10 of it (100 ms): a poll adds to the open
bucket, and only a bucket's close (10 times a second) touches the history."""
REALTIME_SHARE = 0.5
"""The compensator acts only for a playback that reports audio queued in it in at least
this share of polls (a real-time consumer); one that swallows everything has no clock."""


class DriftCompensator:
    """Decides when to drop or insert audio so the playout delay stays where it settled.

    Feed it one observation per poll (:meth:`observe`): the time, the total delay in
    frames (jitter buffer + playback queue) and the playback's queued frames. Once the
    playback has behaved like a real-time consumer for ``settle_s``, the mean delay over
    that time becomes the set point. Afterwards, when the mean delay over the last
    ``window_s`` differs from it by more than ``hysteresis_ms``, :meth:`observe` returns
    +1 (drop audio: the consumer is slow) or -1 (insert: it is fast), at most once per
    ``min_interval_s`` and only on samples taken after the last correction (reported
    with :meth:`applied`), so a correction is never counted twice. A real-time playback
    found empty at a poll has run dry (or nearly): each time, the set point rises by
    ``STARVE_STEP_MS`` (up to ``MAX_SETPOINT_MS``), so the delay finds the smallest level
    that this frame rate and mixer can hold.
    """

    def __init__(
        self,
        sample_rate: int,
        window_s: float = WINDOW_SECONDS,
        settle_s: float = SETTLE_SECONDS,
        hysteresis_ms: float = HYSTERESIS_MS,
        min_interval_s: float = MIN_INTERVAL_SECONDS,
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        self.sample_rate = sample_rate
        self.window_s = window_s
        self.settle_s = settle_s
        self.hysteresis = hysteresis_ms * sample_rate / 1000.0
        self.min_interval_s = min_interval_s
        self._bucket_s = min(window_s, settle_s) / WINDOW_BUCKETS
        self._buckets: deque[tuple[float, float, int, int]] = deque()
        """Closed buckets: (time of their newest sample, sum of delays, samples, real-time
        samples)."""
        self._sum = 0.0  # over the closed buckets
        self._count = 0
        self._realtime_count = 0
        self._open_end = -math.inf  # the open bucket takes samples until this time
        self._open_last = 0.0
        self._open_sum = 0.0
        self._open_count = 0
        self._open_realtime = 0
        self._setpoint: float | None = None
        self._floor = 0.0  # the least to hold, kept across resets
        self._settle_start: float | None = None
        self._last_correction = -math.inf
        self.starve_step = STARVE_STEP_MS * sample_rate / 1000.0
        self.max_setpoint = MAX_SETPOINT_MS * sample_rate / 1000.0
        self.spare = SPARE_MS * sample_rate / 1000.0
        self.lower_step = LOWER_STEP_MS * sample_rate / 1000.0
        self.starve_raises = 0
        self._least_queued = math.inf
        self._lower_since = 0.0
        self.corrections = 0
        self.dropped_frames = 0
        self.inserted_frames = 0

    @property
    def setpoint_ms(self) -> float | None:
        """The delay being held, in ms (None until settled)."""
        if self._setpoint is None:
            return None
        return 1000.0 * self._setpoint / self.sample_rate

    def reset(self, ran_dry: bool = False) -> None:
        """Forget the history and settle again (after an underrun, a hard drop). What
        was held stays the least to hold, one step more when the playback ran dry: what
        this consumer needed is still true."""
        if self._setpoint is not None:
            self._floor = self._setpoint + (self.starve_step if ran_dry else 0.0)
        self._forget_samples()
        self._setpoint = None
        self._settle_start = None
        self._least_queued = math.inf

    def observe(self, now: float, delay_frames: float, queued_frames: int) -> int:
        """Record one poll; returns how many frames to drop (> 0) or insert (< 0), 0 to
        leave the audio as it is."""
        if now >= self._open_end:
            self._close_bucket(now)
        realtime = queued_frames > 0
        self._open_last = now
        self._open_sum += delay_frames
        self._open_count += 1
        self._open_realtime += realtime
        count = self._count + self._open_count
        if self._realtime_count + self._open_realtime < REALTIME_SHARE * count:
            self._settle_start = None
            return 0
        mean = (self._sum + self._open_sum) / count
        if self._setpoint is None:
            if self._settle_start is None:
                self._settle_start = now
            if now - self._settle_start >= self.settle_s:
                self._setpoint = min(max(mean, self._floor), self.max_setpoint)
                self._lower_since, self._least_queued = now, math.inf
                logger.debug("playout delay settled at %.1f ms", self.setpoint_ms)
            return 0
        self._adapt_setpoint(now, queued_frames)
        if now - self._last_correction < self.min_interval_s:
            return 0
        error = mean - self._setpoint
        if -self.hysteresis <= error <= self.hysteresis:
            return 0
        return round(error)

    def _close_bucket(self, now: float) -> None:
        """Close the open bucket (if it holds samples), start the next one at ``now`` and
        forget the buckets wholly older than the window (the settling time before the set
        point): the mean covers the window and at most one bucket more."""
        if self._open_count:
            self._buckets.append(
                (self._open_last, self._open_sum, self._open_count, self._open_realtime)
            )
            self._sum += self._open_sum
            self._count += self._open_count
            self._realtime_count += self._open_realtime
            self._open_sum, self._open_count, self._open_realtime = 0.0, 0, 0
        self._open_end = now + self._bucket_s
        horizon = now - (self.window_s if self._setpoint is not None else self.settle_s)
        buckets = self._buckets
        while buckets and buckets[0][0] < horizon:
            _, total, count, realtime = buckets.popleft()
            self._sum -= total
            self._count -= count
            self._realtime_count -= realtime

    def _forget_samples(self) -> None:
        self._buckets.clear()
        self._sum, self._count, self._realtime_count = 0.0, 0, 0
        self._open_sum, self._open_count, self._open_realtime = 0.0, 0, 0
        self._open_end = -math.inf

    def _adapt_setpoint(self, now: float, queued_frames: int) -> None:
        assert self._setpoint is not None
        if queued_frames <= 0:
            # a real-time playback found empty has (nearly) run dry: hold more from now on
            self._setpoint = min(self._setpoint + self.starve_step, self.max_setpoint)
            self.starve_raises += 1
            self._lower_since, self._least_queued = now, math.inf
            return
        self._least_queued = min(self._least_queued, queued_frames)
        if now - self._lower_since >= LOWER_AFTER_SECONDS:
            if self._least_queued > self.spare:
                self._setpoint = max(self._setpoint - self.lower_step, self.spare)
            self._lower_since, self._least_queued = now, math.inf

    def applied(self, now: float, frames: int) -> None:
        """Report a correction: ``frames`` > 0 dropped, < 0 inserted. The window starts
        afresh: samples from before the correction describe a delay that is gone."""
        if frames == 0:
            return
        self._forget_samples()
        self._last_correction = now
        self.corrections += 1
        if frames > 0:
            self.dropped_frames += frames
        else:
            self.inserted_frames -= frames


def best_splice(frames: np.ndarray, fade: int, min_period: int, max_period: int) -> int:
    """The lag L in [min_period, max_period] where ``frames[L:L+fade]`` looks most like
    ``frames[:fade]`` (normalised cross-correlation); splicing there is least audible.
    ``frames`` is (n,) or (n, channels), C-contiguous, with n >= ``max_period + fade``.

    The search runs on the channel sum at every ``step``-th frame, so that no array holds
    more than about ``SEARCH_POINTS`` samples, then tries the full-rate lags around the one
    found; every numpy call stays small enough to keep the GIL."""
    frames = frames.reshape(frames.shape[0], -1)
    step = max(1, -(-(max_period + fade - min_period) // SEARCH_POINTS))
    end = max_period + fade
    mono = frames[:end:step, 0] + frames[:end:step, -1]
    coarse_fade = max(1, fade // step)
    lowest, highest = -(-min_period // step), max(-(-min_period // step), max_period // step)
    head = mono[:coarse_fade]
    segment = mono[lowest : highest + coarse_fade]
    # one dot per lag through a strided window view (np.correlate and np.argmax let go of
    # the GIL at any size; this matmul and the reductions below keep it at these sizes)
    dots = sliding_window_view(segment, coarse_fade) @ head
    squares = np.cumsum(np.square(segment, dtype=np.float64))
    energy = squares[coarse_fade - 1 :] - np.concatenate(([0.0], squares[:-coarse_fade]))
    score = dots / np.sqrt(np.maximum(energy, 0.0) * float(head @ head) + 1e-12)
    best_lags = np.flatnonzero(score >= score.max())  # none when the audio holds a NaN
    found = (lowest + (int(best_lags[0]) if best_lags.size else 0)) * step
    if step == 1:
        return found
    full_head = frames[:fade].reshape(-1)
    head_energy = float(full_head @ full_head)
    best, best_score = min(max(found, min_period), max_period), -math.inf
    for lag in range(max(min_period, found - step + 1), min(max_period, found + step - 1) + 1):
        candidate = frames[lag : lag + fade].reshape(-1)
        lag_score = float(candidate @ full_head) / math.sqrt(
            float(candidate @ candidate) * head_energy + 1e-12
        )
        if lag_score > best_score:
            best, best_score = lag, lag_score
    return best


class Playback(Protocol):
    """What the playout needs of Godot's AudioStreamGeneratorPlayback. ``push_buffer`` gets
    a view of a reused array: copy it (Godot's ``push_buffer`` does) before returning."""

    def get_frames_available(self) -> int: ...
    def push_buffer(self, frames: np.ndarray) -> Any: ...


class PushedTap(Protocol):
    """Where pushed audio also goes (the far-end tap): ``add(frames just pushed, frames
    queued ahead of them, sample rate, writer)`` while ``active``."""

    active: bool

    def add(
        self, frames: np.ndarray, queued_frames: int, sample_rate: int, writer: object
    ) -> None: ...


class PlayoutReader:
    """Moves audio from a jitter buffer into a playback, correcting clock drift on the way.

    :meth:`fill` keeps about ``playback_target_ms`` queued in the playback whatever its
    size (its size is the most free space it ever reported: it starts empty) and pushes
    everything it may at once. :meth:`read` returns a view of a reused float32 array
    (valid until the next read). Drops and inserts are one pitch period (2.5-12.5 ms)
    spliced with a 2.5 ms linear crossfade.
    """

    def __init__(
        self,
        buffer: AudioJitterBuffer,
        playback_target_ms: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.buffer = buffer
        self.clock = clock
        self.playback_target = round(playback_target_ms * buffer.sample_rate / 1000)
        self.playback_capacity = 0
        self.tap: PushedTap | None = None
        self.pushed_frames = 0
        rate = buffer.sample_rate
        self.fade = max(1, round(CROSSFADE_MS * rate / 1000))
        self.min_period = max(1, round(MIN_PERIOD_MS * rate / 1000))
        self.max_period = max(self.min_period, round(MAX_PERIOD_MS * rate / 1000))
        self.compensator = DriftCompensator(rate)
        self.enabled = True
        self.on_arrival = False
        """True when each fill follows one arriving frame (push on arrival): splices may
        then be as short as the audio at hand allows, which is one 10 ms frame."""
        ramp = (np.arange(self.fade, dtype=np.float32) + 0.5) / self.fade
        self._fade_in = ramp[:, None]
        self._fade_out = (1.0 - ramp)[:, None]
        self._out = np.zeros((0, buffer.channels), np.float32)
        self._scratch = np.zeros((0, buffer.channels), np.float32)
        self._underruns = buffer.underruns
        self._dropped = buffer.dropped_frames

    def fill(self, playback: Playback) -> int:
        """Push what ``playback`` should get now; returns the frames pushed."""
        available = int(playback.get_frames_available())
        if available <= 0:
            return 0
        if available > self.playback_capacity:
            self.playback_capacity = available
        queued = self.playback_capacity - available
        wanted = self.playback_target - queued
        if wanted > available:
            wanted = available
        frames = self.read(wanted, queued)
        count = len(frames)
        if count == 0:
            return 0
        playback.push_buffer(frames)
        self.pushed_frames += count
        tap = self.tap
        if tap is not None and tap.active:
            tap.add(frames, queued, self.buffer.sample_rate, self)
        return count

    def _grow(self, frames: int) -> None:
        size = max(frames, 2 * self._out.shape[0], 4096)
        self._out = np.zeros((size, self.buffer.channels), np.float32)
        extra = self.max_period + self.fade
        self._scratch = np.zeros((size + extra, self.buffer.channels), np.float32)

    def read(self, wanted: int, queued: int, now: float | None = None) -> np.ndarray:
        """Up to ``wanted`` frames for a playback that still holds ``queued`` frames."""
        if now is None:
            now = self.clock()
        buffer = self.buffer
        underruns = buffer.underruns
        if underruns != self._underruns or buffer.dropped_frames != self._dropped:
            # a gap or a hard drop: settle again, on at least what was held
            self.compensator.reset(ran_dry=underruns != self._underruns)
            self._underruns, self._dropped = underruns, buffer.dropped_frames
        buffered = buffer.buffered_frames_unlocked
        decision = self.compensator.observe(now, buffered + queued, queued) if self.enabled else 0
        out = self._out
        if wanted <= 0 or (queued > 0 and buffered == 0):
            # nothing arrived since the last poll while the playback still plays: normal
            # when polls come faster than 10 ms frames, not an underrun
            return out[:0]
        if out.shape[0] < wanted:
            self._grow(wanted)
            out = self._out
        taken = -1
        if decision > 0:
            taken = self._read_dropping(wanted, now, decision, queued)
        elif decision < 0:
            taken = self._read_inserting(wanted, now)
        if taken < 0:
            taken = buffer.pop_into(out, wanted)
        self._underruns = buffer.underruns
        return out[:taken]

    def _longest(self, error: int) -> int:
        """The longest splice for an error of ``error`` frames: no overshoot past it."""
        return max(self.min_period, min(self.max_period, error))

    def _read_dropping(self, wanted: int, now: float, error: int, queued: int) -> int:
        """Consume ``c`` frames and output ``c - L`` (at most ``wanted``); -1 when there is
        too little audio to splice, or the playback (holding ``queued``) would be left
        with less than the compensator's spare."""
        fade = self.fade
        if wanted < fade:
            return -1
        x = self._scratch
        got = self.buffer.peek_into(x, wanted + self.max_period + fade)
        longest = self._longest(error)
        if self.on_arrival:  # as long as the frame at hand allows, leaving the spare
            spare_left = queued + min(got, wanted) - round(self.compensator.spare)
            longest = min(longest, got - 2 * fade, spare_left)
            if longest < self.min_period:
                return -1
        elif got < self.max_period + 2 * fade:
            return -1
        period = best_splice(x[:got], fade, self.min_period, longest)
        consumed = min(got, wanted + period)
        y = self._out
        np.multiply(x[:fade], self._fade_out, out=y[:fade])
        y[:fade] += x[period : period + fade] * self._fade_in
        y[fade : consumed - period] = x[period + fade : consumed]
        self.buffer.discard(consumed)
        self.compensator.applied(now, period)
        return consumed - period

    def _read_inserting(self, wanted: int, now: float) -> int:
        """Consume ``c`` frames and output ``c + L`` (at most ``wanted``), repeating one
        period; -1 when the read is too short to splice."""
        fade = self.fade
        x = self._scratch
        got = self.buffer.peek_into(x, wanted)
        # a repeat may overshoot upwards (more margin against running dry), a drop may not
        longest = self.max_period
        if self.on_arrival:  # as long as the frame at hand allows
            longest = min(longest, got - fade, wanted - fade)
            if longest < self.min_period:
                return -1
        elif wanted < self.max_period + 2 * fade or got < self.max_period + fade:
            return -1
        period = best_splice(x[:got], fade, self.min_period, longest)
        consumed = min(got, wanted - period)
        if consumed < fade:
            return -1
        y = self._out
        y[:period] = x[:period]
        np.multiply(x[period : period + fade], self._fade_out, out=y[period : period + fade])
        y[period : period + fade] += x[:fade] * self._fade_in
        y[period + fade : period + consumed] = x[fade:consumed]
        self.buffer.discard(consumed)
        self.compensator.applied(now, -period)
        return period + consumed
