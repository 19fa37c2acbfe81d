"""The runtime-thread side of a room: connecting, and turning SDK callbacks into events.

Everything here runs on the runtime loop. :func:`connect` makes the SDK room of one
:class:`~godot_livekit.session.Session`, installs the handlers of :func:`attach_handlers`
and joins; each SDK callback only maps SDK objects to their wrappers and posts a typed event
(``events.py``) that ``LiveKitRoom.poll_events`` applies on the main thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from livekit import rtc
from livekit.rtc.room import EventTypes

from . import _runtime, events
from .connecting import ConnectOptions, describe_connect_error
from .data_streams import MAX_STREAM_BYTES
from .e2ee import sdk_e2ee_options
from .session import Session

logger = logging.getLogger(__name__)

SDK_DISCONNECT_TIMEOUT = 10.0
SID_WAIT = 30.0
UNKNOWN_REASON = "unknown reason"
ANNOUNCE_ATTRIBUTE = "godot_livekit.announce"
"""An attribute never set: clearing it changes nothing but makes the server announce us."""
ANNOUNCE_WAIT = 5.0


async def connect(session: Session, url: str, token: str, options: ConnectOptions) -> None:
    """Join the room for ``session``; posts ``Connected`` or ``ConnectFailed``."""
    sdk_room = rtc.Room(loop=asyncio.get_running_loop())
    session.sdk_room = sdk_room
    attach_handlers(session, sdk_room)
    room_options = rtc.RoomOptions(
        auto_subscribe=options.auto_subscribe,
        dynacast=options.dynacast,
        connect_timeout=options.connect_timeout if options.connect_timeout > 0 else None,
    )
    if options.e2ee is not None:
        room_options.encryption = sdk_e2ee_options(options.e2ee)
    # data streams: the SDK refuses larger incoming streams (compressed ones too) natively
    room_options.data_stream = rtc.DataStreamOptions(max_payload_byte_length=MAX_STREAM_BYTES)
    connect_task = asyncio.ensure_future(sdk_room.connect(url, token, room_options))
    timeout = options.connect_timeout if options.connect_timeout > 0 else None
    done, _ = await asyncio.wait({connect_task}, timeout=timeout)
    if not done:
        # keep the SDK connect running: cancelling it could leave a half-made session on the
        # server; when it lands it is disconnected at once.
        connect_task.add_done_callback(lambda task: _disconnect_if_connected(task, sdk_room))
        session.post(
            events.ConnectFailed(
                f"timed out: no connection within connect_timeout ({options.connect_timeout:g} s)"
            )
        )
        return
    error = connect_task.exception()
    if error is not None:
        message = describe_connect_error(error, url, token)
        logger.info("connect failed: %s", message)
        session.post(events.ConnectFailed(message))
        return
    if not session.is_current():  # given up (cancelled, timed out) while connecting
        await disconnect_sdk_room(sdk_room)
        return
    local_sdk = sdk_room.local_participant
    session.room.rpc.install(local_sdk, session)
    await announce_join(local_sdk)
    remotes = [session.objects.remote_participant(p) for p in sdk_room.remote_participants.values()]
    sid = sdk_room._info.sid if hasattr(sdk_room, "_info") else ""
    session.post(
        events.Connected(
            sdk_room,
            local_sdk,
            remotes,
            sdk_room.name,
            sdk_room.metadata,
            sid,
        )
    )
    if not sid:
        _runtime.spawn(_fetch_sid(session, sdk_room))


async def announce_join(local_sdk: rtc.LocalParticipant) -> None:
    """Have the server tell everyone at once that we joined.

    The server tells a room about participants that publish no media only every 3 s, and
    the SDKs hand data from a participant they do not know yet to the game without its
    sender. An attributes update makes the server announce us immediately; this one
    clears an attribute nobody sets, so nothing visible changes. Waited for (bounded)
    before ``connected``, so data the game sends afterwards names its sender. Needs the
    token's ``can_update_own_metadata`` grant; without it the server refuses it, harmlessly.
    """
    try:
        await asyncio.wait_for(local_sdk.set_attributes({ANNOUNCE_ATTRIBUTE: ""}), ANNOUNCE_WAIT)
    except Exception as error:
        logger.debug("join announcement not taken (%s)", type(error).__name__)


async def _fetch_sid(session: Session, sdk_room: rtc.Room) -> None:
    try:
        sid = await asyncio.wait_for(sdk_room.sid, timeout=SID_WAIT)
    except Exception:
        return
    session.post(events.SidKnown(sid))


async def disconnect_sdk_room(sdk_room: rtc.Room, session: Session | None = None) -> None:
    """Leave the SDK room (bounded), then end the session's waiting SDK calls."""
    try:
        await asyncio.wait_for(sdk_room.disconnect(), timeout=SDK_DISCONNECT_TIMEOUT)
    except Exception as error:
        logger.debug("SDK disconnect ended with %s", type(error).__name__)
    if session is not None:
        session.cancel_operations()


def _disconnect_if_connected(task: asyncio.Future[None], sdk_room: rtc.Room) -> None:
    if task.cancelled() or task.exception() is not None:
        return
    _runtime.spawn(disconnect_sdk_room(sdk_room))


def attach_handlers(session: Session, sdk_room: rtc.Room) -> None:
    """Install the SDK callbacks of one session: each posts one typed event."""
    post = session.post
    objects = session.objects
    participant = objects.participant
    remote = objects.remote_participant
    publication = objects.publication
    remote_publication = objects.remote_publication

    def on(name: EventTypes) -> Callable[[Callable[..., None]], Callable[..., None]]:
        def register(handler: Callable[..., None]) -> Callable[..., None]:
            sdk_room.on(name, handler)
            return handler

        return register

    @on("participant_connected")
    def on_participant_connected(p: rtc.RemoteParticipant) -> None:
        post(events.ParticipantConnected(remote(p)))

    @on("participant_disconnected")
    def on_participant_disconnected(p: rtc.RemoteParticipant) -> None:
        wrapper = remote(p)
        objects.forget(p)
        post(events.ParticipantDisconnected(wrapper))

    @on("participant_metadata_changed")
    def on_participant_metadata_changed(p: rtc.Participant, old: str, new: str) -> None:
        post(events.ParticipantMetadataChanged(participant(p), old, new))

    @on("participant_name_changed")
    def on_participant_name_changed(p: rtc.Participant, old: str, new: str) -> None:
        post(events.ParticipantNameChanged(participant(p), old, new))

    @on("participant_attributes_changed")
    def on_participant_attributes_changed(changed: dict[str, str], p: rtc.Participant) -> None:
        if changed:  # a join announcement changes nothing
            post(events.ParticipantAttributesChanged(participant(p), dict(changed)))

    @on("connection_quality_changed")
    def on_connection_quality_changed(p: rtc.Participant | None, quality: int) -> None:
        if p is not None:
            post(events.ConnectionQualityChanged(participant(p), int(quality)))

    @on("active_speakers_changed")
    def on_active_speakers_changed(speakers: list[rtc.Participant]) -> None:
        post(events.ActiveSpeakersChanged([participant(p) for p in speakers]))

    @on("room_metadata_changed")
    def on_room_metadata_changed(old: str, new: str) -> None:
        post(events.RoomMetadataChanged(old, new))

    @on("data_received")
    def on_data_received(packet: rtc.DataPacket) -> None:
        # no sender: sent by the server, or by a participant the SDK does not know yet (see
        # announce_join, which keeps that window closed for senders using this addon)
        sender = remote(packet.participant) if packet.participant is not None else None
        post(events.DataReceived(bytes(packet.data), sender, int(packet.kind), packet.topic or ""))

    @on("track_published")
    def on_track_published(pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant) -> None:
        post(events.TrackPublished(remote_publication(pub), remote(p)))

    @on("track_unpublished")
    def on_track_unpublished(pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant) -> None:
        wrapper = remote_publication(pub)
        objects.forget(pub)
        post(events.TrackUnpublished(wrapper, remote(p)))

    @on("track_subscribed")
    def on_track_subscribed(
        track: rtc.Track, pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant
    ) -> None:
        wrapper = objects.track(track, int(pub.source), owner=remote(p))  # levels: track_owner
        post(events.TrackSubscribed(wrapper, remote_publication(pub), remote(p)))

    @on("track_unsubscribed")
    def on_track_unsubscribed(
        track: rtc.Track, pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant
    ) -> None:
        wrapper = objects.track(track, int(pub.source))
        objects.forget(track)
        post(events.TrackUnsubscribed(wrapper, remote_publication(pub), remote(p)))

    @on("track_muted")
    def on_track_muted(p: rtc.Participant, pub: rtc.TrackPublication) -> None:
        post(events.TrackMuted(participant(p), publication(pub)))

    @on("track_unmuted")
    def on_track_unmuted(p: rtc.Participant, pub: rtc.TrackPublication) -> None:
        post(events.TrackUnmuted(participant(p), publication(pub)))

    @on("local_track_published")
    def on_local_track_published(pub: rtc.LocalTrackPublication, track: rtc.Track) -> None:
        post(events.LocalTrackPublished(objects.local_publication(pub), objects.track(track)))

    @on("local_track_unpublished")
    def on_local_track_unpublished(pub: rtc.LocalTrackPublication) -> None:
        wrapper = objects.local_publication(pub)
        objects.forget(pub)
        post(events.LocalTrackUnpublished(wrapper))

    @on("e2ee_state_changed")
    def on_e2ee_state_changed(p: rtc.Participant | None, state: int) -> None:
        if p is not None:
            post(events.E2eeStateChanged(participant(p), int(state)))

    @on("participant_encryption_status_changed")
    def on_participant_encryption_status_changed(
        p: rtc.Participant | None, is_encrypted: bool
    ) -> None:
        if p is not None:
            post(events.EncryptionStatusChanged(participant(p), bool(is_encrypted)))

    @on("reconnecting")
    def on_reconnecting() -> None:
        post(events.Reconnecting())

    @on("reconnected")
    def on_reconnected() -> None:
        _runtime.spawn(announce_join(sdk_room.local_participant))  # a new session after a restart
        post(events.Reconnected())

    @on("disconnected")
    def on_disconnected(reason: int) -> None:
        post(events.SessionEnded(disconnect_reason_words(reason)))

    # -- data streams and data tracks ------------------------------------------------------
    session.room.streams.install(session, sdk_room)
    data_tracks = session.data_tracks

    @on("data_track_published")
    def on_data_track_published(track: rtc.RemoteDataTrack) -> None:
        post(events.DataTrackPublished(data_tracks.remote_published(track, session)))

    @on("data_track_unpublished")
    def on_data_track_unpublished(sid: str) -> None:
        track = data_tracks.remote_unpublished(sid)
        if track is not None:
            post(events.DataTrackUnpublished(track))


_REASON_WORDS = {
    "CLIENT_INITIATED": "client initiated",
    "DUPLICATE_IDENTITY": "another participant joined with the same identity",
    "SERVER_SHUTDOWN": "the server shut down",
    "PARTICIPANT_REMOVED": "removed from the room by the server",
    "ROOM_DELETED": "the room was deleted",
    "STATE_MISMATCH": "state mismatch with the server",
    "JOIN_FAILURE": "could not join",
    "MIGRATION": "migrated to another server",
    "SIGNAL_CLOSE": "the signal connection closed",
    "ROOM_CLOSED": "the room was closed",
    "CONNECTION_TIMEOUT": "connection timed out",
    "MEDIA_FAILURE": "media connection failed",
}


def disconnect_reason_words(reason: int) -> str:
    """The SDK's ``DisconnectReason`` in plain words."""
    try:
        name = rtc.DisconnectReason.Name(rtc.DisconnectReason.ValueType(reason))
    except Exception:
        return UNKNOWN_REASON
    return _REASON_WORDS.get(name, name.replace("_", " ").lower())
