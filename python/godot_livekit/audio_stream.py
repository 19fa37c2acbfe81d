"""LiveKitAudioStream: remote audio into a Godot AudioStreamGeneratorPlayback.

The SDK resamples natively to the playback's mix rate in stereo; the runtime thread, which
holds each frame, converts it int16 -> float32 (one numpy pass into a reused array) and
appends it to a small jitter buffer (one memcpy). ``poll(playback)`` pushes everything the playback
should take at once, from a reused array (no allocation per poll), keeping about
``PLAYBACK_TARGET_MS`` queued there at most. A drift compensator holds the delay where it
settled when the sound card's clock runs slower or faster than the sender's (pitch-period
drops and repeats with a crossfade); a burst beyond ``MAX_DELAY_MS`` still drops the oldest
audio, so the delay never grows over a long session. What is pushed also goes to the
far-end tap that the microphone's echo canceller reads. The stream is a level source of the
participant it comes from: their ``get_audio_level()`` measures the newest 10 ms it received
(``audio_level.LevelMeter``), when asked, so receiving costs nothing per frame for levels.

With ``set_push_on_arrival(True)`` the runtime thread pushes each 10 ms frame into the
playback as it arrives, instead of waiting for the game's next ``poll``: about one game
frame less latency, and the playback needs to hold only what covers the next 10 ms frame.
Godot's AudioStreamGeneratorPlayback is a ring one thread fills while the mixer drains it;
with this on, the filling thread is the runtime thread and ``poll`` only hands it the
playback (py4godot itself calls Godot from its own asyncio thread: ``wait_emit`` in
``py4godot/signals.pyx``). Off by default.
"""

from __future__ import annotations

import asyncio
import logging
import math
import numbers
import threading
import time
from collections.abc import Callable

import numpy as np
from livekit import rtc

from . import _runtime, links, poller
from ._sdk_stream import SdkStreamOwner, followed_source, live_sdk_track
from .audio_level import LevelMeter
from .audio_playout import Playback, PlayoutReader
from .audio_processing import far_end
from .media_convert import AudioJitterBuffer
from .participant import LiveKitParticipant, add_level_source
from .session import LEVEL_HOLD_SECONDS, track_owner
from .signals import notify_activity
from .track import LiveKitTrack

logger = logging.getLogger(__name__)

DEFAULT_SAMPLE_RATE = 48000
TARGET_DELAY_MS = 40.0
MAX_DELAY_MS = 120.0
PLAYBACK_TARGET_MS = 50.0
"""Audio kept queued in Godot's playback buffer, whatever its buffer_length."""


class LiveKitAudioStream(SdkStreamOwner):
    """Receives audio from a remote track and feeds a Godot audio playback."""

    def __init__(self, sample_rate: int = DEFAULT_SAMPLE_RATE) -> None:
        super().__init__()
        self._sample_rate = int(sample_rate)
        self._num_channels = 2
        self._buffer, self._reader = self._new_playout(self._sample_rate)
        self._make: Callable[[int], rtc.AudioStream] | None = None
        self._pushed_before = 0
        self._playback: Playback | None = None
        self._checked_playback: object = None
        self._meter = LevelMeter()  # measure_level(): the newest 10 ms, when asked
        self._level_block = np.zeros((0, 2), np.float32)
        self._level_read_at = -math.inf
        self._fill_lock = threading.Lock()  # one thread fills the playback at a time
        self._push_on_arrival = False
        self._arrival_playback: Playback | None = None  # what the runtime thread fills
        self._pushed_reported = 0  # frames pushed on arrival that poll() has reported

    @staticmethod
    def _new_playout(rate: int) -> tuple[AudioJitterBuffer, PlayoutReader]:
        buffer = AudioJitterBuffer(
            rate, 2, target_delay_ms=TARGET_DELAY_MS, max_delay_ms=MAX_DELAY_MS
        )
        reader = PlayoutReader(buffer, PLAYBACK_TARGET_MS)
        reader.tap = far_end
        return buffer, reader

    @staticmethod
    def from_track(track: LiveKitTrack | None) -> LiveKitAudioStream | None:
        """A stream of ``track``'s audio (a subscribed remote audio track); None, with an
        error logged, for no track or one that is not a live audio track (as the original)."""
        sdk = live_sdk_track(track, LiveKitTrack.KIND_AUDIO, "LiveKitAudioStream.from_track")
        if sdk is None:
            return None
        assert track is not None
        stream = LiveKitAudioStream()
        stream._origin = track
        owner = track_owner(track)
        if owner is not None:
            add_level_source(owner, stream)
        stream._make = lambda rate: rtc.AudioStream.from_track(
            track=sdk, sample_rate=rate, num_channels=2, frame_size_ms=10
        )
        stream._start()
        return stream

    @staticmethod
    def from_participant(participant: LiveKitParticipant, source: int) -> LiveKitAudioStream:
        """A stream of ``participant``'s audio from ``source`` (e.g. SOURCE_MICROPHONE)."""
        if not isinstance(participant, LiveKitParticipant):
            raise TypeError("from_participant: participant must be a LiveKitParticipant")
        followed = followed_source(
            source,
            "audio",
            (LiveKitTrack.SOURCE_MICROPHONE, LiveKitTrack.SOURCE_SCREENSHARE_AUDIO),
            "LiveKitAudioStream.from_participant",
        )
        stream = LiveKitAudioStream()
        stream._origin = participant
        add_level_source(participant, stream)
        sdk = links.sdk_of(participant)
        if sdk is None or followed is None:
            stream._ended = True
            return stream
        stream._make = lambda rate: rtc.AudioStream.from_participant(
            participant=sdk,
            track_source=rtc.TrackSource.ValueType(source),
            sample_rate=rate,
            num_channels=2,
            frame_size_ms=10,
        )
        stream._start()
        return stream

    def _start(self) -> None:
        make, rate, buffer, reader = self._make, self._sample_rate, self._buffer, self._reader
        fill_lock = self._fill_lock
        assert make is not None

        def push_now() -> None:
            with fill_lock:  # whoever changes the target waits for a push under way
                playback = self._arrival_playback
                if playback is None or not self._push_on_arrival or self._closed:
                    return
                try:
                    reader.fill(playback)
                except Exception:
                    logger.exception("pushing audio on arrival failed; back to poll()")
                    self._push_on_arrival = False
                    self._arrival_playback = None

        async def run() -> None:
            self._task = asyncio.current_task()
            try:
                sdk_stream = make(rate)
                self._sdk_stream = sdk_stream
                async for event in sdk_stream:
                    buffer.push_int16(event.frame.data)
                    if self._push_on_arrival:
                        push_now()
                    notify_activity()
            except asyncio.CancelledError:
                pass
            except Exception:
                logger.exception("audio stream ended with an error")
            finally:
                if self._buffer is buffer:
                    self._ended = True
                notify_activity()

        _runtime.submit(run())

    # -- main thread -------------------------------------------------------------------------

    def poll(self, playback: Playback, mix_rate: int | None = None) -> int:
        """Push buffered audio into ``playback``, keeping at most about 50 ms queued there
        (never more than it can take); returns the number of frames pushed. ``mix_rate``
        (the generator's rate) switches the stream to that rate the first time it differs."""
        if playback is not self._checked_playback:
            _check_playback(playback, "poll")
            self._checked_playback = playback
        if mix_rate is not None:
            mix_rate = _check_mix_rate(mix_rate, "poll")
        origin = self._origin
        if origin is not None and not self._ended and origin.is_stale():
            self._check_origin()
        if self._closed:
            return 0
        if mix_rate is not None and mix_rate != self._sample_rate:
            self._set_rate(mix_rate)
        if self._push_on_arrival:
            if playback is not self._arrival_playback:
                with self._fill_lock:
                    self._arrival_playback = playback
            pushed = self._reader.pushed_frames
            reported, self._pushed_reported = self._pushed_reported, pushed
            return max(0, pushed - reported)
        with self._fill_lock:
            return self._reader.fill(playback)

    def set_push_on_arrival(self, enabled: bool) -> None:
        """Push each frame into the playback from the runtime thread as it arrives (the
        playback last given to ``poll`` or ``attach_playback``) rather than at the next
        ``poll``, which then only hands the playback over and returns what was pushed
        since. Lower latency; off by default. ``read_frames`` is for streams without it.
        When this returns after switching off, no push is under way or to come."""
        enabled = bool(enabled)
        with self._fill_lock:
            if enabled and not self._push_on_arrival:
                self._pushed_reported = self._reader.pushed_frames
                self._arrival_playback = self._playback
            self._push_on_arrival = enabled
            self._reader.on_arrival = enabled
            if not enabled:
                self._arrival_playback = None

    def get_push_on_arrival(self) -> bool:
        return self._push_on_arrival

    def _set_rate(self, rate: int) -> None:
        if not 8000 <= rate <= 192000:
            raise ValueError(f"mix_rate {rate} is out of range")
        self._sample_rate = rate
        with self._fill_lock:
            self._pushed_before += self._reader.pushed_frames
            self._pushed_reported = 0
            self._buffer, self._reader = self._new_playout(rate)
            self._reader.on_arrival = self._push_on_arrival
        if self._make is not None and not self._ended:
            self._stop_sdk_stream()
            self._start()

    def attach_playback(self, playback: Playback | None, mix_rate: int | None = None) -> None:
        """Let the frame poller call ``poll(playback)`` every frame (None detaches)."""
        if playback is not None:
            _check_playback(playback, "attach_playback")
        mix_rate = _check_mix_rate(mix_rate, "attach_playback")
        self._playback = playback
        if self._push_on_arrival:
            with self._fill_lock:
                self._arrival_playback = playback
        if mix_rate is not None:
            self._set_rate(mix_rate)
        if playback is not None:
            poller.register(self)
        else:
            poller.unregister(self)

    def get_auto_poll(self) -> bool:
        return self._playback is not None

    def _auto_pump(self) -> None:
        if self._playback is not None:
            self.poll(self._playback)

    def get_sample_rate(self) -> int:
        return self._sample_rate

    def get_num_channels(self) -> int:
        return self._num_channels

    def get_buffered_ms(self) -> float:
        """Audio waiting in the jitter buffer, in milliseconds (the receive delay)."""
        return self._buffer.buffered_ms

    def get_dropped_frames(self) -> int:
        """Frames dropped to keep the delay bounded."""
        return self._buffer.dropped_frames

    def get_underruns(self) -> int:
        return self._buffer.underruns

    def get_frames_pushed(self) -> int:
        return self._pushed_before + self._reader.pushed_frames

    def get_drift_corrections(self) -> int:
        """Pitch-period drops and repeats made to follow the playback's clock."""
        return self._reader.compensator.corrections

    def get_playout_delay_ms(self) -> float:
        """The delay (jitter buffer + playback queue) the drift compensator holds, in ms
        (0 until it settled on a real-time playback)."""
        return self._reader.compensator.setpoint_ms or 0.0

    def read_frames(self, max_frames: int) -> np.ndarray:
        """Take up to ``max_frames`` stereo float32 frames directly (no playback needed)."""
        return self._buffer.pop(max_frames)

    def measure_level(self) -> float:
        """Main thread: the level (0..1) of the newest 10 ms received, falling with the
        meter's release since the last measurement; 0 once nothing arrived for
        ``LEVEL_HOLD_SECONDS`` or the stream is closed."""
        now = time.monotonic()
        buffer, meter = self._buffer, self._meter
        elapsed, self._level_read_at = now - self._level_read_at, now
        if self._closed or now - buffer.written_at > LEVEL_HOLD_SECONDS:
            meter.level = 0.0
            return 0.0
        frames = buffer.sample_rate // 100
        if self._level_block.shape != (frames, buffer.channels):
            self._level_block = np.zeros((frames, buffer.channels), np.float32)
        taken = buffer.newest_into(self._level_block, frames)
        return meter.measure_float(self._level_block[:taken], elapsed)

    def close(self) -> None:
        """Stop receiving audio; poll() pushes nothing from now on."""
        if self._closed:
            return
        with self._fill_lock:  # no push under way or to come once this returns
            self._closed = True
            self._arrival_playback = None
        self._playback = None
        poller.unregister(self)
        self._stop_sdk_stream()
        self._buffer.release()  # a closed stream a game keeps must not keep 1 s of audio


def _check_playback(playback: object, where: str) -> None:
    """TypeError unless ``playback`` looks like an AudioStreamGeneratorPlayback."""
    if not all(
        callable(getattr(playback, name, None)) for name in ("get_frames_available", "push_buffer")
    ):
        raise TypeError(
            f"{where}: playback must be an AudioStreamGeneratorPlayback, "
            f"got {type(playback).__name__}"
        )


def _check_mix_rate(mix_rate: object, where: str) -> int | None:
    """``mix_rate`` as an int (None stays None); TypeError for anything but a number."""
    if mix_rate is None:
        return None
    if isinstance(mix_rate, bool) or not isinstance(mix_rate, numbers.Real):
        raise TypeError(f"{where}: mix_rate must be a number, got {type(mix_rate).__name__}")
    if not math.isfinite(mix_rate):
        raise ValueError(f"{where}: mix_rate must be finite, got {mix_rate!r}")
    return int(float(mix_rate))
