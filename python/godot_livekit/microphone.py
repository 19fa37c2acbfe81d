"""LiveKitMicrophone: Godot's microphone capture into a published LiveKit track.

Godot records through ``AudioStreamMicrophone`` on a bus with ``AudioEffectCapture``; the
addon hands that effect to :meth:`LiveKitMicrophone.set_capture` as a :class:`CaptureSource`
(stereo float32 frames at the mix rate, read without per-sample Python). Each poll (the
frame poller's, or a manual :meth:`LiveKitMicrophone.poll`) drains the capture on the main
thread and mixes it down; the runtime thread converts, resamples natively when needed,
runs echo cancellation, noise suppression, gain control and the high-pass filter in 10 ms
frames (:class:`~godot_livekit.audio_processing.VoiceProcessor`), and sends the frames
straight to WebRTC through a :class:`~godot_livekit.audio_source.LiveKitAudioSource`
without a queue. Mute and push-to-talk mute the publication: peers see ``track_muted``.
The level of what is sent is measured there too and reported for the local participant it
was published by (its ``get_audio_level()``).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from . import _runtime, poller
from .audio_level import LevelMeter
from .audio_processing import MAX_STREAM_DELAY_MS, FarEndTap, VoiceProcessor, far_end
from .audio_source import FALLBACK_SDK_RATE, LiveKitAudioSource
from .local_participant import LiveKitLocalParticipant
from .media_convert import INT16_SCALE, AudioResampler
from .participant import report_audio_level
from .track import LiveKitLocalAudioTrack
from .track_publication import LiveKitLocalTrackPublication

logger = logging.getLogger(__name__)


class CaptureSource(Protocol):
    """What the microphone needs of Godot's ``AudioEffectCapture`` (as the addon adapts
    it): ``get_buffer(n)`` returns n stereo frames as a float32 array of shape (n, 2)."""

    def get_frames_available(self) -> int: ...
    def get_buffer(self, frames: int) -> np.ndarray: ...


class LiveKitMicrophone:
    """One object from Godot's capture bus to a published microphone track."""

    DEFAULT_TRACK_NAME = "microphone"
    MAX_BACKLOG_MS = 200
    """Audio older than this in the capture buffer (after a hitch) is skipped, not sent late."""

    STAGE_ECHO_CANCELLATION = "echo_cancellation"
    STAGE_NOISE_SUPPRESSION = "noise_suppression"
    STAGE_AUTO_GAIN_CONTROL = "auto_gain_control"
    STAGE_HIGH_PASS_FILTER = "high_pass_filter"

    def __init__(
        self,
        mix_rate: int = 48000,
        *,
        track_name: str = DEFAULT_TRACK_NAME,
        echo_cancellation: bool = True,
        noise_suppression: bool = True,
        auto_gain_control: bool = True,
        high_pass_filter: bool = True,
        tap: FarEndTap | None = None,
    ) -> None:
        if isinstance(mix_rate, bool) or not isinstance(mix_rate, int):
            raise TypeError(f"mix_rate must be an int, got {mix_rate!r}")
        if not 8000 <= mix_rate <= 192000:
            raise ValueError(f"mix_rate must be in 8000..192000, got {mix_rate}")
        self._mix_rate = mix_rate
        self._rate = mix_rate if mix_rate % 100 == 0 else FALLBACK_SDK_RATE
        self._resampler = AudioResampler(mix_rate, self._rate, 1)
        self._source = LiveKitAudioSource(self._rate, 1, 0)
        self._track = LiveKitLocalAudioTrack.create(track_name, self._source)
        self._stages = {
            self.STAGE_ECHO_CANCELLATION: bool(echo_cancellation),
            self.STAGE_NOISE_SUPPRESSION: bool(noise_suppression),
            self.STAGE_AUTO_GAIN_CONTROL: bool(auto_gain_control),
            self.STAGE_HIGH_PASS_FILTER: bool(high_pass_filter),
        }
        self._tap = tap if tap is not None else far_end
        self._processor = VoiceProcessor(self._rate, self._tap, **self._stages)
        self._capture: CaptureSource | None = None
        self._auto_poll = True
        self._publication: LiveKitLocalTrackPublication | None = None
        self._participant: LiveKitLocalParticipant | None = None
        self._muted = False
        self._push_to_talk = False
        self._talking = False
        self._track_muted = False
        self._output_latency = 0.0
        self._level_db = -math.inf
        self._meter = LevelMeter()
        self._lock = threading.Lock()
        self._frames_captured = 0
        self._frames_skipped = 0
        self._frames_sent = 0
        self._closed = False

    @staticmethod
    def create(mix_rate: int = 48000) -> LiveKitMicrophone:
        """A microphone for captures at ``mix_rate`` (Godot's ``AudioServer`` mix rate)."""
        return LiveKitMicrophone(mix_rate)

    # -- wiring ------------------------------------------------------------------------

    def set_capture(self, capture: CaptureSource | None) -> None:
        """Read from ``capture`` (None stops reading); the frame poller then polls."""
        if capture is not None and not all(
            callable(getattr(capture, name, None))
            for name in ("get_frames_available", "get_buffer")
        ):
            raise TypeError(
                f"capture must offer get_frames_available() and get_buffer(), "
                f"got {type(capture).__name__}"
            )
        self._capture = capture
        if capture is not None and not self._closed:
            poller.register(self)
        else:
            poller.unregister(self)

    def get_capture(self) -> CaptureSource | None:
        return self._capture

    def get_source(self) -> LiveKitAudioSource:
        return self._source

    def get_track(self) -> LiveKitLocalAudioTrack:
        return self._track

    def get_mix_rate(self) -> int:
        return self._mix_rate

    def publish(
        self, participant: LiveKitLocalParticipant, options: Mapping[str, Any] | None = None
    ) -> LiveKitLocalTrackPublication:
        """Publish the microphone track (source SOURCE_MICROPHONE unless ``options`` say
        otherwise) through ``participant.publish_track``."""
        if self._closed:
            raise RuntimeError("publish: this microphone is closed")
        if not isinstance(participant, LiveKitLocalParticipant):
            raise TypeError("publish: participant must be a LiveKitLocalParticipant")
        merged: dict[str, Any] = {"source": LiveKitLocalAudioTrack.SOURCE_MICROPHONE}
        merged.update(options or {})
        self.unpublish()  # one publication at a time
        publication = participant.publish_track(self._track, merged)
        self._publication, self._participant = publication, participant
        return publication

    def get_publication(self) -> LiveKitLocalTrackPublication | None:
        return self._publication

    def unpublish(self) -> None:
        """Unpublish the track (peers see ``track_unpublished``); capturing and processing go
        on, and ``publish`` may publish it again."""
        publication, participant = self._publication, self._participant
        self._publication = self._participant = None
        if publication is not None and participant is not None:
            sid = publication.get_sid()
            if sid:
                participant.unpublish_track(sid)

    # -- mute and push-to-talk -----------------------------------------------------------

    def set_muted(self, muted: bool) -> None:
        """Mute the publication (peers see ``track_muted``); unmute resumes it."""
        self._muted = bool(muted)
        self._apply_mute()

    def is_muted(self) -> bool:
        return self._muted

    def set_push_to_talk(self, enabled: bool) -> None:
        """With push-to-talk on, the track is muted except while ``set_talking(True)``."""
        self._push_to_talk = bool(enabled)
        self._apply_mute()

    def is_push_to_talk(self) -> bool:
        return self._push_to_talk

    def set_talking(self, talking: bool) -> None:
        """The push-to-talk key: pressed (True) or released (False)."""
        self._talking = bool(talking)
        self._apply_mute()

    def is_talking(self) -> bool:
        return self._talking

    def is_transmitting(self) -> bool:
        """True when audio is being sent: not muted, and the key is down under push-to-talk."""
        return not self._muted and (not self._push_to_talk or self._talking)

    def _apply_mute(self) -> None:
        silent = not self.is_transmitting()
        if silent == self._track_muted or self._closed:
            return
        self._track_muted = silent
        if silent:
            self._track.mute()
        else:
            self._track.unmute()

    # -- processing stages ------------------------------------------------------------------

    def _set_stage(self, name: str, enabled: bool) -> None:
        self._stages[name] = bool(enabled)
        processor = self._processor
        _runtime.call_soon(processor.set_stage, name, bool(enabled))

    def set_echo_cancellation(self, enabled: bool) -> None:
        self._set_stage(self.STAGE_ECHO_CANCELLATION, enabled)

    def get_echo_cancellation(self) -> bool:
        return self._stages[self.STAGE_ECHO_CANCELLATION]

    def set_noise_suppression(self, enabled: bool) -> None:
        self._set_stage(self.STAGE_NOISE_SUPPRESSION, enabled)

    def get_noise_suppression(self) -> bool:
        return self._stages[self.STAGE_NOISE_SUPPRESSION]

    def set_auto_gain_control(self, enabled: bool) -> None:
        self._set_stage(self.STAGE_AUTO_GAIN_CONTROL, enabled)

    def get_auto_gain_control(self) -> bool:
        return self._stages[self.STAGE_AUTO_GAIN_CONTROL]

    def set_high_pass_filter(self, enabled: bool) -> None:
        self._set_stage(self.STAGE_HIGH_PASS_FILTER, enabled)

    def get_high_pass_filter(self) -> bool:
        return self._stages[self.STAGE_HIGH_PASS_FILTER]

    def set_output_latency(self, seconds: float) -> None:
        """Godot's ``AudioServer.get_output_latency()``: part of the echo delay."""
        value = float(seconds)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"output latency must be a finite number >= 0, got {seconds!r}")
        self._output_latency = value

    def get_output_latency(self) -> float:
        return self._output_latency

    # -- polling -------------------------------------------------------------------------

    def get_auto_poll(self) -> bool:
        return self._auto_poll and self._capture is not None and not self._closed

    def set_auto_poll(self, enabled: bool) -> None:
        """On (the default): the frame poller calls ``poll()`` every frame."""
        self._auto_poll = bool(enabled)

    def _auto_pump(self) -> None:
        self.poll()

    def poll(self) -> int:
        """Drain the capture and hand the audio on; returns the frames read. Never blocks:
        conversion, processing and sending run on the runtime thread."""
        capture = self._capture
        if capture is None or self._closed:
            return 0
        available = int(capture.get_frames_available())
        if available <= 0:
            return 0
        block = np.asarray(capture.get_buffer(available), dtype=np.float32)
        taken_at = self._tap.clock()
        frames = block.shape[0] if block.ndim else 0
        if frames == 0:
            return 0
        self._frames_captured += frames
        backlog = round(self.MAX_BACKLOG_MS * self._mix_rate / 1000)
        skipped = frames > backlog
        if skipped:  # after a hitch: send the newest, not a burst of old audio
            self._frames_skipped += frames - backlog
            block = block[-backlog:]
        if skipped or not self.is_transmitting():
            # the far end of what is not processed goes too: the two stay paired
            _runtime.call_soon(self._processor.discard_far_end, taken_at)
        if not self.is_transmitting():
            return frames
        mono = block.mean(axis=1) if block.ndim == 2 else block.reshape(-1)
        delay_ms = 1000.0 * (self._output_latency + len(mono) / self._mix_rate)
        delay_ms = min(MAX_STREAM_DELAY_MS, round(delay_ms))
        _runtime.call_soon(self._process, mono, delay_ms, taken_at)
        return frames

    def _process(self, mono: np.ndarray, delay_ms: int, taken_at: float) -> None:
        """Runtime thread: int16, native resampling, 10 ms processing, send."""
        if self._closed:
            return
        finite = np.nan_to_num(mono, nan=0.0, posinf=1.0, neginf=-1.0)
        scaled = np.clip(finite, -1.0, 1.0) * INT16_SCALE
        pcm = np.rint(scaled).astype(np.int16)
        if not self._resampler.is_identity:
            pcm = self._resampler.push(pcm)
        self._processor.stream_delay_ms = delay_ms
        processed = self._processor.process(pcm, taken_at)
        if len(processed) == 0:
            return
        peak = float(np.abs(processed).max()) / INT16_SCALE
        with self._lock:
            self._level_db = 20.0 * math.log10(peak) if peak > 0 else -math.inf
            self._frames_sent += len(processed)
        self._source._capture_pcm(processed)
        participant = self._participant
        if participant is not None:
            report_audio_level(participant, self._meter.measure(processed, self._rate))

    # -- figures -------------------------------------------------------------------------

    def get_level_db(self) -> float:
        """Peak level of the last processed audio in dBFS (-inf for silence)."""
        with self._lock:
            return self._level_db

    def get_frames_captured(self) -> int:
        """Frames read from the capture (at the mix rate)."""
        return self._frames_captured

    def get_frames_skipped(self) -> int:
        """Frames skipped because the capture held more than ``MAX_BACKLOG_MS``."""
        return self._frames_skipped

    def get_frames_sent(self) -> int:
        """Frames handed to WebRTC after processing (at the send rate)."""
        with self._lock:
            return self._frames_sent

    # -- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        """Unpublish, stop polling and free the processing module and the source
        (idempotent; py4godot never collects objects, so call it when done)."""
        if self._closed:
            return
        self._closed = True
        self._capture = None
        poller.unregister(self)
        self.unpublish()
        processor, source = self._processor, self._source
        _runtime.call_soon(processor.close)
        source.close()

    def is_closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        return f"<LiveKitMicrophone {self._mix_rate} Hz transmitting={self.is_transmitting()}>"
