"""Tracks: the base getters and stats, local audio/video tracks, remote tracks.

Like participants, a track object becomes stale when its publication goes away or the
room disconnects: getters return defaults and nothing raises.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from google.protobuf.message import Message
from livekit import rtc

from . import _runtime, links, poller
from .signals import EventQueue, signal

if TYPE_CHECKING:
    from .audio_source import LiveKitAudioSource
    from .video_source import LiveKitVideoSource

logger = logging.getLogger(__name__)

STATS_TIMEOUT = 5.0
"""Longest wait for a stats report (as the original)."""


class LiveKitTrack(links.Linked):
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

    def __init__(self, link: links.TrackLink | None = None) -> None:
        self._track_link = link if link is not None else links.TrackLink()
        super().__init__(self._track_link)
        self._stats_events: EventQueue[list[dict[str, Any]]] = EventQueue()

    def _sdk(self) -> rtc.Track | None:
        return self._link.sdk

    def get_kind(self) -> int:
        sdk = self._sdk()
        return int(sdk.kind) if sdk is not None else self.KIND_UNKNOWN

    def get_source(self) -> int:
        return self._track_link.source if self._sdk() is not None else self.SOURCE_UNKNOWN

    def get_muted(self) -> bool:
        sdk = self._sdk()
        return bool(sdk.muted) if sdk is not None else False

    def get_stream_state(self) -> int:
        sdk = self._sdk()
        return int(sdk.stream_state) if sdk is not None else self.STATE_UNKNOWN

    def request_stats(self) -> None:
        """Ask for WebRTC statistics; they arrive as ``stats_received(stats)`` from the
        frame poller (or a manual ``poll_stats()``)."""
        sdk = self._sdk()
        if sdk is None:
            logger.warning(
                "request_stats: the track is not bound (never bound, or stale); "
                "no stats will arrive"
            )
            return
        poller.register(self)
        queue = self._stats_events

        async def fetch() -> None:
            try:
                reports = await asyncio.wait_for(sdk.get_stats(), STATS_TIMEOUT)
                stats = [flatten_stats(report) for report in reports]
            except Exception as error:
                logger.warning("stats request failed: %s", error)  # no signal, as the original
                return
            queue.put(stats)

        _runtime.submit(fetch())

    def get_auto_poll(self) -> bool:
        return True

    def _auto_pump(self) -> None:
        self.poll_stats()

    def poll_stats(self) -> int:
        """Emit pending ``stats_received`` signals on this thread; returns how many."""
        reports = self._stats_events.drain()
        for stats in reports:
            self.stats_received.emit(stats)
        return len(reports)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} sid={self.get_sid()!r} name={self.get_name()!r}>"


class _LocalTrack(LiveKitTrack):
    def mute(self) -> None:
        """Stop sending media; peers see ``track_muted``."""
        sdk = self._sdk()
        if isinstance(sdk, (rtc.LocalAudioTrack, rtc.LocalVideoTrack)):
            _runtime.call_soon(sdk.mute)

    def unmute(self) -> None:
        """Resume sending media; peers see ``track_unmuted``."""
        sdk = self._sdk()
        if isinstance(sdk, (rtc.LocalAudioTrack, rtc.LocalVideoTrack)):
            _runtime.call_soon(sdk.unmute)


class LiveKitLocalAudioTrack(_LocalTrack):
    """A local audio track fed by a :class:`LiveKitAudioSource`."""

    @staticmethod
    def create(name: str, source: LiveKitAudioSource) -> LiveKitLocalAudioTrack:
        from .audio_source import LiveKitAudioSource

        if not isinstance(name, str):
            raise TypeError("LiveKitLocalAudioTrack.create: name must be a string")
        if not isinstance(source, LiveKitAudioSource):
            raise TypeError("LiveKitLocalAudioTrack.create: source must be a LiveKitAudioSource")
        sdk = rtc.LocalAudioTrack.create_audio_track(name, links.sdk_of(source))
        return LiveKitLocalAudioTrack(
            links.TrackLink(sdk, LiveKitTrack.SOURCE_MICROPHONE, media_source=source)
        )


class LiveKitLocalVideoTrack(_LocalTrack):
    """A local video track fed by a :class:`LiveKitVideoSource`."""

    @staticmethod
    def create(name: str, source: LiveKitVideoSource) -> LiveKitLocalVideoTrack:
        from .video_source import LiveKitVideoSource

        if not isinstance(name, str):
            raise TypeError("LiveKitLocalVideoTrack.create: name must be a string")
        if not isinstance(source, LiveKitVideoSource):
            raise TypeError("LiveKitLocalVideoTrack.create: source must be a LiveKitVideoSource")
        sdk = rtc.LocalVideoTrack.create_video_track(name, links.sdk_of(source))
        return LiveKitLocalVideoTrack(
            links.TrackLink(sdk, LiveKitTrack.SOURCE_CAMERA, media_source=source)
        )


class LiveKitRemoteAudioTrack(LiveKitTrack):
    """A remote audio track received from another participant."""


class LiveKitRemoteVideoTrack(LiveKitTrack):
    """A remote video track received from another participant."""


def flatten_stats(stats: Any) -> dict[str, Any]:
    """One SDK ``RtcStats`` message as a flat dictionary.

    Keys as in the original addon: ``type`` (``"outbound_rtp"``, ``"inbound_rtp"``,
    ``"codec"``, ``"candidate_pair"``...), ``id`` and ``timestamp_ms``, then every field of
    that kind of report under the SDK's names (``bytes_sent``, ``packets_received``,
    ``frames_decoded``, ``jitter``, ``round_trip_time``...), present even when zero. The SDK's
    own ``timestamp`` (the same milliseconds) is kept too.
    """
    which = stats.WhichOneof("stats")
    flat: dict[str, Any] = {"type": which or "unknown"}
    if which is None:
        return flat
    _flatten_into(getattr(stats, which), flat)
    if "timestamp" in flat:
        flat["timestamp_ms"] = flat["timestamp"]
    return flat


def _flatten_into(message: Message, flat: dict[str, Any]) -> None:
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.type == field.TYPE_MESSAGE:
            if not field.is_repeated:
                _flatten_into(value, flat)
        elif field.is_repeated:
            flat.setdefault(field.name, list(value))
        else:
            flat.setdefault(field.name, value)
