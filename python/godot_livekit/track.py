"""Tracks: the base getters and stats, local audio/video tracks, remote tracks.

Like participants, a track object becomes stale when its publication goes away or the
room disconnects: getters return defaults and nothing raises.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from google.protobuf.message import Message
from livekit import rtc

from . import _runtime, poller
from .signals import EventQueue, signal

if TYPE_CHECKING:
    from .audio_source import LiveKitAudioSource
    from .video_source import LiveKitVideoSource

logger = logging.getLogger(__name__)


class LiveKitTrack:
    """Base class for media tracks."""

    KIND_UNKNOWN = 0
    KIND_AUDIO = 1
    KIND_VIDEO = 2

    SOURCE_UNKNOWN = 0
    SOURCE_CAMERA = 1
    SOURCE_MICROPHONE = 2
    SOURCE_SCREENSHARE = 3
    SOURCE_SCREENSHARE_AUDIO = 4

    STATE_UNKNOWN = 0
    STATE_ACTIVE = 1
    STATE_PAUSED = 2

    stats_received = signal("stats")

    def __init__(self, sdk: rtc.Track | None = None, source: int = SOURCE_UNKNOWN) -> None:
        self._sdk: rtc.Track | None = sdk
        self._source = source
        self._stats_events = EventQueue()

    def _mark_stale(self) -> None:
        self._sdk = None

    def is_stale(self) -> bool:
        return self._sdk is None

    def get_sid(self) -> str:
        sdk = self._sdk
        return sdk.sid if sdk is not None else ""

    def get_name(self) -> str:
        sdk = self._sdk
        return sdk.name if sdk is not None else ""

    def get_kind(self) -> int:
        sdk = self._sdk
        return int(sdk.kind) if sdk is not None else self.KIND_UNKNOWN

    def get_source(self) -> int:
        return self._source if self._sdk is not None else self.SOURCE_UNKNOWN

    def get_muted(self) -> bool:
        sdk = self._sdk
        return bool(sdk.muted) if sdk is not None else False

    def get_stream_state(self) -> int:
        sdk = self._sdk
        return int(sdk.stream_state) if sdk is not None else self.STATE_UNKNOWN

    def request_stats(self) -> None:
        """Ask for WebRTC statistics; they arrive as ``stats_received(stats)`` from the
        frame poller (or a manual ``poll_stats()``)."""
        poller.register(self)
        sdk = self._sdk
        if sdk is None:
            self._stats_events.put(0, "stats_received", [])
            return
        queue = self._stats_events

        async def fetch() -> None:
            try:
                stats = [flatten_stats(s) for s in await sdk.get_stats()]
            except Exception as error:
                logger.warning("stats request failed: %s", error)
                stats = []
            queue.put(0, "stats_received", stats)

        _runtime.submit(fetch())

    def get_auto_poll(self) -> bool:
        return True

    def _auto_pump(self) -> None:
        self.poll_stats()

    def poll_stats(self) -> int:
        """Emit pending ``stats_received`` signals on this thread; returns how many."""
        events = self._stats_events.drain()
        for _, _, args in events:
            self.stats_received.emit(*args)
        return len(events)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} sid={self.get_sid()!r} name={self.get_name()!r}>"


class _LocalTrack(LiveKitTrack):
    def mute(self) -> None:
        """Stop sending media; peers see ``track_muted``."""
        sdk = self._sdk
        if isinstance(sdk, (rtc.LocalAudioTrack, rtc.LocalVideoTrack)):
            _runtime.call_soon(sdk.mute)

    def unmute(self) -> None:
        """Resume sending media; peers see ``track_unmuted``."""
        sdk = self._sdk
        if isinstance(sdk, (rtc.LocalAudioTrack, rtc.LocalVideoTrack)):
            _runtime.call_soon(sdk.unmute)

    def get_muted(self) -> bool:
        sdk = self._sdk
        return bool(sdk.muted) if sdk is not None else False


class LiveKitLocalAudioTrack(_LocalTrack):
    """A local audio track fed by a :class:`LiveKitAudioSource`."""

    @staticmethod
    def create(name: str, source: LiveKitAudioSource) -> LiveKitLocalAudioTrack:
        from .audio_source import LiveKitAudioSource

        if not isinstance(name, str):
            raise TypeError("LiveKitLocalAudioTrack.create: name must be a string")
        if not isinstance(source, LiveKitAudioSource):
            raise TypeError("LiveKitLocalAudioTrack.create: source must be a LiveKitAudioSource")
        sdk = rtc.LocalAudioTrack.create_audio_track(name, source._sdk)
        track = LiveKitLocalAudioTrack(sdk, LiveKitTrack.SOURCE_MICROPHONE)
        track._media_source = source
        return track


class LiveKitLocalVideoTrack(_LocalTrack):
    """A local video track fed by a :class:`LiveKitVideoSource`."""

    @staticmethod
    def create(name: str, source: LiveKitVideoSource) -> LiveKitLocalVideoTrack:
        from .video_source import LiveKitVideoSource

        if not isinstance(name, str):
            raise TypeError("LiveKitLocalVideoTrack.create: name must be a string")
        if not isinstance(source, LiveKitVideoSource):
            raise TypeError("LiveKitLocalVideoTrack.create: source must be a LiveKitVideoSource")
        sdk = rtc.LocalVideoTrack.create_video_track(name, source._sdk)
        track = LiveKitLocalVideoTrack(sdk, LiveKitTrack.SOURCE_CAMERA)
        track._media_source = source
        return track


class LiveKitRemoteAudioTrack(LiveKitTrack):
    """A remote audio track received from another participant."""


class LiveKitRemoteVideoTrack(LiveKitTrack):
    """A remote video track received from another participant."""


def flatten_stats(stats: Any) -> dict[str, Any]:
    """One SDK ``RtcStats`` message as a flat dictionary with a ``type`` key.

    ``type`` is e.g. ``"outbound_rtp"``, ``"inbound_rtp"``, ``"codec"``,
    ``"candidate_pair"``; the numbers keep the SDK's field names (``bytes_sent``,
    ``packets_received``, ``frames_decoded``, ``jitter``, ``round_trip_time``...).
    """
    which = stats.WhichOneof("stats")
    flat: dict[str, Any] = {"type": which or "unknown"}
    if which is None:
        return flat
    _flatten_into(getattr(stats, which), flat)
    return flat


def _flatten_into(message: Message, flat: dict[str, Any]) -> None:
    for field, value in message.ListFields():
        repeated = field.is_repeated
        if field.type == field.TYPE_MESSAGE:
            if repeated:
                continue
            _flatten_into(value, flat)
        elif repeated:
            flat[field.name] = list(value)
        else:
            flat.setdefault(field.name, value)
