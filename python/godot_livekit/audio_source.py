"""LiveKitAudioSource: audio from Godot (interleaved float32) into a LiveKit track."""

from __future__ import annotations

import logging
import threading
from typing import Any

from livekit import rtc

from . import _runtime, links
from .media_convert import AudioResampler, float_to_int16, remix_channels

logger = logging.getLogger(__name__)

_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000)


class LiveKitAudioSource:
    """Source for a local audio track.

    ``capture_frame`` takes Godot's format (interleaved float32 in [-1, 1]). Values outside
    that range are clamped; NaN/Inf or a length that does not match raise ``ValueError``.
    Audio at another sample rate is resampled natively, and another channel count is
    remixed (mono is duplicated, extra channels averaged), to the source's configuration.
    When more than ``queue_size_ms`` of audio waits to be sent, new frames are dropped
    (counted in ``get_dropped_frames()``) instead of growing the delay.
    """

    def __init__(self, sample_rate: int = 48000, num_channels: int = 1, queue_size_ms: int = 200):
        if sample_rate not in _RATES:
            raise ValueError(f"sample_rate must be one of {_RATES}, got {sample_rate!r}")
        if isinstance(num_channels, bool) or num_channels not in (1, 2):
            raise ValueError(f"num_channels must be 1 or 2, got {num_channels!r}")
        if isinstance(queue_size_ms, bool) or not isinstance(queue_size_ms, int):
            raise TypeError("queue_size_ms must be an int")
        if not 10 <= queue_size_ms <= 10_000:
            raise ValueError("queue_size_ms must be between 10 and 10000")
        self._sample_rate = sample_rate
        self._num_channels = num_channels
        self._queue_size_ms = queue_size_ms
        self._sdk = rtc.AudioSource(
            sample_rate, num_channels, queue_size_ms, loop=_runtime.get_loop()
        )
        links.attach(self, links.Link(self._sdk))
        self._resamplers: dict[int, AudioResampler] = {}
        self._lock = threading.Lock()
        self._pending_ms = 0.0
        self._dropped = 0

    @staticmethod
    def create(sample_rate: int, num_channels: int, queue_size_ms: int) -> LiveKitAudioSource:
        """Make a source: ``sample_rate`` in Hz, 1 or 2 channels, send queue in ms."""
        return LiveKitAudioSource(sample_rate, num_channels, queue_size_ms)

    def capture_frame(
        self, data: Any, sample_rate: int, num_channels: int, samples_per_channel: int
    ) -> None:
        """Queue interleaved float32 audio for sending; returns at once."""
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
            raise ValueError(f"sample_rate must be a positive int, got {sample_rate!r}")
        if sample_rate > 384_000:
            raise ValueError(f"sample_rate {sample_rate} is not a real audio rate")
        pcm = float_to_int16(data, num_channels, samples_per_channel)
        if num_channels != self._num_channels:
            frames = pcm.reshape(samples_per_channel, num_channels)
            pcm = remix_channels(frames, self._num_channels).reshape(-1)
        if sample_rate != self._sample_rate:
            pcm = self._resampler(sample_rate).push(pcm)
        frames_out = len(pcm) // self._num_channels
        if frames_out == 0:
            return
        duration_ms = 1000.0 * frames_out / self._sample_rate
        with self._lock:
            if self._pending_ms + duration_ms > self._queue_size_ms:
                self._dropped += frames_out
                return
            self._pending_ms += duration_ms
        frame = rtc.AudioFrame(pcm.tobytes(), self._sample_rate, self._num_channels, frames_out)
        _runtime.submit(self._send(frame, duration_ms))

    async def _send(self, frame: rtc.AudioFrame, duration_ms: float) -> None:
        try:
            await self._sdk.capture_frame(frame)
        except Exception as error:
            logger.warning("audio capture failed: %s", error)
        finally:
            with self._lock:
                self._pending_ms = max(0.0, self._pending_ms - duration_ms)

    def _resampler(self, input_rate: int) -> AudioResampler:
        resampler = self._resamplers.get(input_rate)
        if resampler is None:
            resampler = AudioResampler(input_rate, self._sample_rate, self._num_channels)
            self._resamplers[input_rate] = resampler
        return resampler

    def clear_queue(self) -> None:
        """Drop audio queued in the SDK but not yet sent."""
        _runtime.call_soon(self._sdk.clear_queue)

    def get_queued_duration(self) -> float:
        """Seconds of audio waiting to be sent."""
        return float(self._sdk.queued_duration)

    def get_sample_rate(self) -> int:
        return self._sample_rate

    def get_num_channels(self) -> int:
        return self._num_channels

    def get_dropped_frames(self) -> int:
        """Frames dropped because the send queue was full."""
        return self._dropped

    def __repr__(self) -> str:
        return f"<LiveKitAudioSource {self._sample_rate} Hz x{self._num_channels}>"
