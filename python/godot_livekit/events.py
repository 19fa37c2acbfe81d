"""The events a room session posts for the main thread, one small class per kind.

SDK callbacks run on the runtime thread (``room_session.py``); each turns what the SDK said
into one of these and posts it to its room's queue. ``LiveKitRoom.poll_events`` applies
them on the main thread with a ``match`` over these classes and emits the signals, so an
event can be followed from the SDK callback to the signal with go-to-definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livekit import rtc

    from .data_streams import StreamInfo
    from .data_tracks import (
        LiveKitDataTrackSubscription,
        LiveKitLocalDataTrack,
        LiveKitRemoteDataTrack,
    )
    from .participant import LiveKitParticipant, LiveKitRemoteParticipant
    from .track import LiveKitTrack
    from .track_publication import (
        LiveKitLocalTrackPublication,
        LiveKitRemoteTrackPublication,
        LiveKitTrackPublication,
    )


# -- connection ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connected:
    """The SDK joined the room: who is already there and what the room is."""

    sdk_room: rtc.Room
    local_sdk: rtc.LocalParticipant
    remotes: list[LiveKitRemoteParticipant]
    name: str
    metadata: str
    sid: str


@dataclass(frozen=True, slots=True)
class SidKnown:
    """The room's session ID arrived after ``Connected``."""

    sid: str


@dataclass(frozen=True, slots=True)
class ConnectFailed:
    """The connect attempt failed; the room ends disconnected."""

    error: str


@dataclass(frozen=True, slots=True)
class Reconnecting:
    """The SDK lost the connection and is reconnecting."""


@dataclass(frozen=True, slots=True)
class Reconnected:
    """The SDK reconnected."""


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """The SDK ended the session (server, network, or after a failed reconnect)."""

    reason: str


@dataclass(frozen=True, slots=True)
class LeftRoom:
    """A session the room itself ended (``disconnect_from_room``, a cancelled connect):
    deliver ``disconnected``, even after a newer connect started."""


# -- participants -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParticipantConnected:
    participant: LiveKitRemoteParticipant


@dataclass(frozen=True, slots=True)
class ParticipantDisconnected:
    participant: LiveKitRemoteParticipant


@dataclass(frozen=True, slots=True)
class ParticipantMetadataChanged:
    participant: LiveKitParticipant
    old_metadata: str
    new_metadata: str


@dataclass(frozen=True, slots=True)
class ParticipantNameChanged:
    participant: LiveKitParticipant
    old_name: str
    new_name: str


@dataclass(frozen=True, slots=True)
class ParticipantAttributesChanged:
    participant: LiveKitParticipant
    changed_attributes: dict[str, str]


@dataclass(frozen=True, slots=True)
class ConnectionQualityChanged:
    participant: LiveKitParticipant
    quality: int


@dataclass(frozen=True, slots=True)
class ActiveSpeakersChanged:
    """Who is speaking now, loudest first."""

    speakers: list[LiveKitParticipant]


@dataclass(frozen=True, slots=True)
class RoomMetadataChanged:
    old_metadata: str
    new_metadata: str


@dataclass(frozen=True, slots=True)
class DataReceived:
    data: bytes
    participant: LiveKitRemoteParticipant | None
    kind: int
    topic: str


# -- tracks -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrackPublished:
    publication: LiveKitRemoteTrackPublication
    participant: LiveKitRemoteParticipant


@dataclass(frozen=True, slots=True)
class TrackUnpublished:
    publication: LiveKitRemoteTrackPublication
    participant: LiveKitRemoteParticipant


@dataclass(frozen=True, slots=True)
class TrackSubscribed:
    track: LiveKitTrack
    publication: LiveKitRemoteTrackPublication
    participant: LiveKitRemoteParticipant


@dataclass(frozen=True, slots=True)
class TrackUnsubscribed:
    track: LiveKitTrack
    publication: LiveKitRemoteTrackPublication
    participant: LiveKitRemoteParticipant


@dataclass(frozen=True, slots=True)
class TrackMuted:
    participant: LiveKitParticipant
    publication: LiveKitTrackPublication


@dataclass(frozen=True, slots=True)
class TrackUnmuted:
    participant: LiveKitParticipant
    publication: LiveKitTrackPublication


@dataclass(frozen=True, slots=True)
class LocalTrackPublished:
    publication: LiveKitLocalTrackPublication
    track: LiveKitTrack


@dataclass(frozen=True, slots=True)
class LocalTrackUnpublished:
    publication: LiveKitLocalTrackPublication


@dataclass(frozen=True, slots=True)
class PublishFailed:
    """``publish_track`` failed: its publication becomes stale (``get_error()`` says why)."""

    publication: LiveKitLocalTrackPublication


# -- encryption ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class E2eeStateChanged:
    participant: LiveKitParticipant
    state: int


@dataclass(frozen=True, slots=True)
class EncryptionStatusChanged:
    participant: LiveKitParticipant
    is_encrypted: bool


# -- RPC (signals of the local participant) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class RpcInvoked:
    method: str
    request_id: str
    caller_identity: str
    payload: str
    response_timeout: float


@dataclass(frozen=True, slots=True)
class RpcResponseReceived:
    method: str
    result: str


@dataclass(frozen=True, slots=True)
class RpcFailed:
    method: str
    error_message: str


# -- data streams (room signals; outgoing ones: signals of the local participant) ----------


@dataclass(frozen=True, slots=True)
class StreamChunkReceived:
    """One chunk of an incoming stream delivered chunk by chunk."""

    info: StreamInfo
    chunk: str | bytes


@dataclass(frozen=True, slots=True)
class StreamFinished:
    """A stream delivered chunk by chunk ended normally."""

    info: StreamInfo


@dataclass(frozen=True, slots=True)
class StreamReceived:
    """A whole incoming stream."""

    info: StreamInfo
    payload: str | bytes


@dataclass(frozen=True, slots=True)
class StreamFailed:
    """An incoming stream was refused, broke a limit, or failed."""

    info: StreamInfo
    error: str


@dataclass(frozen=True, slots=True)
class OutgoingStreamProgress:
    stream_id: str
    bytes_sent: int
    total_bytes: int


@dataclass(frozen=True, slots=True)
class OutgoingStreamSent:
    stream_id: str


@dataclass(frozen=True, slots=True)
class OutgoingStreamFailed:
    stream_id: str
    error: str


# -- data tracks ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataTrackPublished:
    track: LiveKitRemoteDataTrack


@dataclass(frozen=True, slots=True)
class DataTrackUnpublished:
    track: LiveKitRemoteDataTrack


@dataclass(frozen=True, slots=True)
class DataTrackReceived:
    """Frames (or the end) wait in a data track subscription: ``poll()`` delivers them."""

    subscription: LiveKitDataTrackSubscription


@dataclass(frozen=True, slots=True)
class LocalDataTrackPublished:
    track: LiveKitLocalDataTrack


@dataclass(frozen=True, slots=True)
class LocalDataTrackFailed:
    """Publishing a local data track failed."""

    track: LiveKitLocalDataTrack
    error: str


Event = (
    Connected
    | SidKnown
    | ConnectFailed
    | Reconnecting
    | Reconnected
    | SessionEnded
    | LeftRoom
    | ParticipantConnected
    | ParticipantDisconnected
    | ParticipantMetadataChanged
    | ParticipantNameChanged
    | ParticipantAttributesChanged
    | ConnectionQualityChanged
    | ActiveSpeakersChanged
    | RoomMetadataChanged
    | DataReceived
    | TrackPublished
    | TrackUnpublished
    | TrackSubscribed
    | TrackUnsubscribed
    | TrackMuted
    | TrackUnmuted
    | LocalTrackPublished
    | LocalTrackUnpublished
    | PublishFailed
    | E2eeStateChanged
    | EncryptionStatusChanged
    | RpcInvoked
    | RpcResponseReceived
    | RpcFailed
    | StreamChunkReceived
    | StreamFinished
    | StreamReceived
    | StreamFailed
    | OutgoingStreamProgress
    | OutgoingStreamSent
    | OutgoingStreamFailed
    | DataTrackPublished
    | DataTrackUnpublished
    | DataTrackReceived
    | LocalDataTrackPublished
    | LocalDataTrackFailed
)
"""Every event a room applies."""

ANY_SESSION = -1
"""The generation of an event delivered whatever session the room is on now."""

Posted = tuple[int, Any]
"""What a room's queue holds: (session generation or ANY_SESSION, event)."""
