"""The ``publish_track`` options dictionary, checked and turned into the SDK's options."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from livekit import rtc

from .track import LiveKitTrack

logger = logging.getLogger(__name__)

_CODECS = {
    "vp8": rtc.VideoCodec.VP8,
    "h264": rtc.VideoCodec.H264,
    "vp9": rtc.VideoCodec.VP9,
    "av1": rtc.VideoCodec.AV1,
    "h265": rtc.VideoCodec.H265,
}
_PUBLISH_KEYS = ("source", "simulcast", "dtx", "red", "video_codec", "max_bitrate", "max_framerate")


DEFAULT_MAX_FRAMERATE = 30.0
BITS_PER_PIXEL = 0.07  # a usual VP8/H.264 budget: 1280x720 at 30 fps is about 1.9 Mbit/s


def publish_options(
    options: Mapping[str, Any] | None, is_video: bool, pixels: int = 1280 * 720
) -> tuple[rtc.TrackPublishOptions, int]:
    """Check the ``publish_track`` options dictionary; returns SDK options and the source."""
    options = dict(options or {})
    framerate_hint = options.get("max_framerate", DEFAULT_MAX_FRAMERATE)
    if isinstance(framerate_hint, bool) or not isinstance(framerate_hint, (int, float)):
        framerate_hint = DEFAULT_MAX_FRAMERATE
    default_bitrate = int(pixels * max(1.0, float(framerate_hint)) * BITS_PER_PIXEL)
    for key in options:
        if key not in _PUBLISH_KEYS:
            logger.warning("publish_track: unknown option %r ignored", key)
    default_source = LiveKitTrack.SOURCE_CAMERA if is_video else LiveKitTrack.SOURCE_MICROPHONE
    source = options.get("source", default_source)
    if isinstance(source, bool) or not isinstance(source, int):
        raise ValueError(f"publish_track: source must be a SOURCE_* value, got {source!r}")
    if source not in range(5):
        logger.warning("publish_track: unknown source %r published as SOURCE_UNKNOWN", source)
        source = LiveKitTrack.SOURCE_UNKNOWN
    result = rtc.TrackPublishOptions(source=rtc.TrackSource.ValueType(source))
    for key, default in (("simulcast", is_video), ("dtx", True), ("red", True)):
        value = options.get(key, default)
        # numbers count as bools (GDScript's 0/1), as in the original
        if not isinstance(value, bool | int | float):
            raise ValueError(f"publish_track: option {key!r} must be true or false")
        setattr(result, key, bool(value))
    if "video_codec" in options:
        codec = options["video_codec"]
        if isinstance(codec, str) and codec.lower() in _CODECS:
            result.video_codec = _CODECS[codec.lower()]
        else:
            raise ValueError(f"publish_track: video_codec must be one of {sorted(_CODECS)}")
    if "max_bitrate" in options or "max_framerate" in options:
        # the SDK needs both: one left out gets a usual value (a 0 framerate sends nothing)
        bitrate = options.get("max_bitrate", default_bitrate)
        framerate = options.get("max_framerate", DEFAULT_MAX_FRAMERATE)
        if isinstance(bitrate, bool) or not isinstance(bitrate, int) or bitrate < 0:
            raise ValueError("publish_track: max_bitrate must be bits per second (int >= 0)")
        if (
            isinstance(framerate, bool)
            or not isinstance(framerate, (int, float))
            or not 0 <= framerate <= 240
        ):
            raise ValueError("publish_track: max_framerate must be between 0 and 240")
        if is_video:
            result.video_encoding.max_bitrate = bitrate
            result.video_encoding.max_framerate = float(framerate)
        elif bitrate:
            result.audio_encoding.max_bitrate = bitrate
    return result, int(source)
