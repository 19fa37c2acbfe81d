"""godot-livekit core: LiveKit rooms for Godot, engine-free.

Every class of the API reference is importable from here; enum values are class
constants (``LiveKitRoom.STATE_CONNECTED``) and signals are objects with
``connect/disconnect/emit`` (``room.connected.connect(fn)``).
"""

from __future__ import annotations

import logging

from .audio_source import LiveKitAudioSource
from .audio_stream import LiveKitAudioStream
from .data_tracks import (
    LiveKitDataTrackSubscription,
    LiveKitLocalDataTrack,
    LiveKitRemoteDataTrack,
)
from .e2ee import LiveKitE2eeManager, LiveKitE2eeOptions, LiveKitFrameCryptor, LiveKitKeyProvider
from .errors import LiveKitError, install_log_redaction
from .local_participant import LiveKitLocalParticipant
from .microphone import LiveKitMicrophone
from .participant import LiveKitParticipant, LiveKitRemoteParticipant
from .participant_voice import LiveKitParticipantVoice
from .poller import pump_all
from .proximity import LiveKitProximity
from .room import LiveKitRoom
from .screen_capture import LiveKitScreenCapture
from .signals import Signal
from .stream_sending import (
    LiveKitByteStreamWriter,
    LiveKitStreamWriter,
    LiveKitTextStreamWriter,
)
from .track import (
    LiveKitLocalAudioTrack,
    LiveKitLocalVideoTrack,
    LiveKitRemoteAudioTrack,
    LiveKitRemoteVideoTrack,
    LiveKitTrack,
)
from .track_publication import (
    LiveKitLocalTrackPublication,
    LiveKitRemoteTrackPublication,
    LiveKitTrackPublication,
)
from .video_source import LiveKitVideoSource
from .video_stream import LiveKitVideoStream

logging.getLogger(__name__).addHandler(logging.NullHandler())
install_log_redaction()

__all__ = [
    "LiveKitAudioSource",
    "LiveKitAudioStream",
    "LiveKitByteStreamWriter",
    "LiveKitDataTrackSubscription",
    "LiveKitE2eeManager",
    "LiveKitE2eeOptions",
    "LiveKitError",
    "LiveKitFrameCryptor",
    "LiveKitKeyProvider",
    "LiveKitLocalAudioTrack",
    "LiveKitLocalDataTrack",
    "LiveKitLocalParticipant",
    "LiveKitLocalTrackPublication",
    "LiveKitLocalVideoTrack",
    "LiveKitMicrophone",
    "LiveKitParticipant",
    "LiveKitParticipantVoice",
    "LiveKitProximity",
    "LiveKitRemoteAudioTrack",
    "LiveKitRemoteDataTrack",
    "LiveKitRemoteParticipant",
    "LiveKitRemoteTrackPublication",
    "LiveKitRemoteVideoTrack",
    "LiveKitRoom",
    "LiveKitScreenCapture",
    "LiveKitStreamWriter",
    "LiveKitTextStreamWriter",
    "LiveKitTrack",
    "LiveKitTrackPublication",
    "LiveKitVideoSource",
    "LiveKitVideoStream",
    "Signal",
    "pump_all",
]
