"""LiveKitAudioSource: audio from Godot (interleaved float32) into a LiveKit track."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from typing import Any

import numpy as np
from livekit import rtc

from . import _runtime, links
from .e2ee import SendGate
from .media_convert import MAX_CHANNELS, AudioResampler, float_to_int16, remix_channels

logger = logging.getLogger(__name__)

MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 192000
MAX_QUEUE_SIZE_MS = 60_000
FALLBACK_SDK_RATE = 48000
"""Rates that are not a whole number of samples per 10 ms (22050, 11025, ...) are sent at
this rate: WebRTC moves audio in 10 ms frames."""
MAX_SDK_CHANNELS = 2
"""WebRTC sends at most stereo (Opus): sources with more channels send their first two."""
_SLACK_SECONDS = 0.001


class LiveKitAudioSource:
    """Source for a local audio track.

    ``capture_frame`` takes Godot's format (interleaved float32 in [-1, 1]). Values outside
    that range are clamped; NaN/Inf or a length that does not match raise ``ValueError``.
    Audio at another sample rate is resampled natively, and another channel count is
    remixed (mono is duplicated, extra channels averaged), to the source's configuration.

    ``queue_size_ms`` as in LiveKit's SDKs and the original addon: 0 (the default) means
    no internal buffering: audio goes to WebRTC in 10 ms frames as soon as it is captured,
    so the caller paces it (a microphone does). Above 0 the SDK plays the queue out in real
    time; when more than ``queue_size_ms`` is waiting, new audio is dropped (counted in
    ``get_dropped_frames()``) instead of growing the delay. Values that are not a multiple
    of 10 are rounded up (the native layer aborts otherwise).
    """

    def __init__(self, sample_rate: int = 48000, num_channels: int = 1, queue_size_ms: int = 0):
        for name, value in (("sample_rate", sample_rate), ("num_channels", num_channels)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {value!r}")
        if isinstance(queue_size_ms, bool) or not isinstance(queue_size_ms, int):
            raise TypeError("queue_size_ms must be an int")
        if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
            raise ValueError(
                f"sample_rate must be in {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz, "
                f"got {sample_rate!r}"
            )
        if not 1 <= num_channels <= MAX_CHANNELS:
            raise ValueError(f"num_channels must be in 1..{MAX_CHANNELS}, got {num_channels!r}")
        if not 0 <= queue_size_ms <= MAX_QUEUE_SIZE_MS:
            raise ValueError(f"queue_size_ms must be in 0..{MAX_QUEUE_SIZE_MS}")
        self._sample_rate = sample_rate
        self._num_channels = num_channels
        self._queue_size_ms = 10 * math.ceil(queue_size_ms / 10)
        self._sdk_rate = sample_rate if sample_rate % 100 == 0 else FALLBACK_SDK_RATE
        self._sdk_channels = min(num_channels, MAX_SDK_CHANNELS)
        self._frame_samples = self._sdk_rate // 100 * self._sdk_channels
        self._sdk: rtc.AudioSource | None = rtc.AudioSource(
            self._sdk_rate, self._sdk_channels, self._queue_size_ms, loop=_runtime.get_loop()
        )
        self._link = links.Link(self._sdk)
        links.attach(self, self._link)
        self._resamplers: dict[int, AudioResampler] = {}
        self._lock = threading.Lock()
        self._waiting: deque[np.ndarray] = deque()  # int16 blocks for the runtime thread
        self._sending = False
        self._generation = 0  # bumped by clear_queue(): blocks of older generations go
        self._carry = np.zeros(0, np.int16)  # runtime thread: less than 10 ms (queue 0)
        self._playout_end = 0.0  # monotonic time when everything accepted has played
        self._dropped = 0
        self._gate = SendGate()  # closed while a track it feeds is being published encrypted

    @staticmethod
    def create(sample_rate: int, num_channels: int, queue_size_ms: int = 0) -> LiveKitAudioSource:
        """Make a source: ``sample_rate`` in Hz, channels, send queue in ms (0: none)."""
        return LiveKitAudioSource(sample_rate, num_channels, queue_size_ms)

    def capture_frame(
        self, data: Any, sample_rate: int, num_channels: int, samples_per_channel: int
    ) -> None:
        """Queue interleaved float32 audio for sending; returns at once."""
        pcm = self._convert(data, sample_rate, num_channels, samples_per_channel)
        self._accept(pcm)

    def _convert(
        self, data: Any, sample_rate: int, num_channels: int, samples_per_channel: int
    ) -> np.ndarray:
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
            raise ValueError(f"sample_rate must be a positive int, got {sample_rate!r}")
        if sample_rate > 384_000:
            raise ValueError(f"sample_rate {sample_rate} is not a real audio rate")
        pcm = float_to_int16(data, num_channels, samples_per_channel)
        if num_channels != self._sdk_channels:
            frames = pcm.reshape(samples_per_channel, num_channels)
            pcm = remix_channels(frames, self._sdk_channels).reshape(-1)
        if sample_rate != self._sdk_rate:
            pcm = self._resampler(sample_rate).push(pcm)
        return pcm

    def _capture_pcm(self, pcm: np.ndarray) -> None:
        """Queue interleaved int16 audio already at the SDK's rate and channel count
        (``get_sdk_format()``); for the microphone, which converts once itself."""
        self._accept(pcm)

    def get_sdk_format(self) -> tuple[int, int]:
        """(sample rate, channels) the SDK source runs at: what ``_capture_pcm`` takes."""
        return self._sdk_rate, self._sdk_channels

    def _accept(self, pcm: np.ndarray) -> None:
        frames_out = len(pcm) // self._sdk_channels
        if frames_out == 0:
            return
        duration = frames_out / self._sdk_rate
        with self._lock:
            if self._sdk is None:
                return
            now = time.monotonic()
            queued = max(0.0, self._playout_end - now)
            limit = self._queue_size_ms / 1000.0
            if limit and queued + duration > limit + _SLACK_SECONDS:
                self._dropped += round(frames_out * self._sample_rate / self._sdk_rate)
                return
            self._playout_end = max(self._playout_end, now) + duration
            self._waiting.append(pcm)
            if self._sending:
                return
            self._sending = True
        _runtime.submit(self._send_waiting())

    async def _send_waiting(self) -> None:
        """Runtime thread: hand the waiting blocks to the SDK in order, one at a time."""
        while True:
            with self._lock:
                if not self._waiting:
                    self._sending = False
                    return
                block = self._waiting.popleft()
                generation = self._generation
            for frame in self._sdk_frames(block):
                sdk = self._sdk
                if generation != self._generation or sdk is None:
                    break  # cleared or closed meanwhile
                if not self._gate.passes():
                    continue  # it would leave unencrypted
                try:
                    await sdk.capture_frame(frame)
                except Exception as error:
                    logger.warning("audio capture failed: %s", error)

    def _sdk_frames(self, block: np.ndarray) -> list[rtc.AudioFrame]:
        """SDK frames for ``block``: whole 10 ms frames when there is no queue (the native
        direct path takes nothing else; the rest waits for the next block), else one."""
        if self._queue_size_ms:
            return [self._frame(block)]
        size = self._frame_samples
        if len(self._carry):
            block = np.concatenate([self._carry, block])
        whole = len(block) // size * size
        self._carry = block[whole:].copy()
        return [self._frame(block[i : i + size]) for i in range(0, whole, size)]

    def _frame(self, pcm: np.ndarray) -> rtc.AudioFrame:
        data = np.ascontiguousarray(pcm)
        if not data.flags.writeable:
            data = data.copy()
        # a flat uint8 view whose len() is its byte size: the SDK uses it without a copy
        return rtc.AudioFrame(
            data.view(np.uint8).data,
            self._sdk_rate,
            self._sdk_channels,
            len(data) // self._sdk_channels,
        )

    def _resampler(self, input_rate: int) -> AudioResampler:
        resampler = self._resamplers.get(input_rate)
        if resampler is None:
            resampler = AudioResampler(input_rate, self._sdk_rate, self._sdk_channels)
            self._resamplers[input_rate] = resampler
        return resampler

    def _hold_until_encrypted(self) -> None:
        """A track of this source is being published encrypted: hold its frames back (and
        drop what waits to be sent) until :meth:`_release_hold` (see ``e2ee.SendGate``)."""
        self._gate.hold()
        self.clear_queue()

    def _release_hold(self) -> None:
        self._gate.release()

    def clear_queue(self) -> None:
        """Drop audio accepted but not yet played out (ours and the SDK's queue)."""
        with self._lock:
            self._waiting.clear()
            self._generation += 1
            self._playout_end = 0.0

        def clear_on_runtime() -> None:
            self._carry = np.zeros(0, np.int16)
            if self._sdk is not None:
                self._sdk.clear_queue()

        _runtime.call_soon(clear_on_runtime)

    def get_queued_duration(self) -> float:
        """Seconds of audio accepted by ``capture_frame`` and not yet played out (it plays
        out in real time from when it was accepted, as LiveKit's SDKs count it)."""
        with self._lock:
            return max(0.0, self._playout_end - time.monotonic())

    def get_queue_size_ms(self) -> int:
        """The send queue in ms (0: none), after rounding up to a multiple of 10."""
        return self._queue_size_ms

    def get_sample_rate(self) -> int:
        return self._sample_rate

    def get_num_channels(self) -> int:
        return self._num_channels

    def get_dropped_frames(self) -> int:
        """Frames dropped because the send queue was full."""
        return self._dropped

    def close(self) -> None:
        """Drop queued audio and release the SDK source (idempotent)."""
        with self._lock:
            if self._sdk is None:
                return
            sdk, self._sdk = self._sdk, None
            self._link.cut()
            self._waiting.clear()
            self._generation += 1
            self._playout_end = 0.0
        _runtime.submit(sdk.aclose())

    def __repr__(self) -> str:
        return f"<LiveKitAudioSource {self._sample_rate} Hz x{self._num_channels}>"
