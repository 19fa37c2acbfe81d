"""LiveKitRoom: the main-thread state machine of a room and its signals.

Every public call returns at once. Connecting, and the SDK's callbacks, happen on the
runtime thread (``room_session.py``), which posts typed events (``events.py``);
:meth:`LiveKitRoom.poll_events` (called every frame by the poller when ``auto_poll`` is on)
applies them here and emits the signals.

Each connect attempt is a :class:`~godot_livekit.session.Session` with its own generation;
events of an attempt the room gave up (timed out, cancelled, disconnected) are dropped, so a
late callback never leaks into a newer session.
"""

from __future__ import annotations

import atexit
import logging
import time
import weakref
from collections.abc import Mapping
from typing import Any

from livekit import rtc

from . import _runtime, data_streams, events, links, poller, room_session
from .connecting import ConnectOptions, precheck_connect
from .data_tracks import LiveKitRemoteDataTrack
from .e2ee import LiveKitE2eeManager
from .local_participant import LiveKitLocalParticipant
from .participant import LiveKitParticipant, LiveKitRemoteParticipant
from .rpc import RpcResponder
from .session import RoomContext, Session
from .signals import signal

logger = logging.getLogger(__name__)

CANCELLED_REASON = "connection cancelled by disconnect_from_room()"
REPLACED_REASON = "replaced by a new connect_to_room()"
_live_rooms: weakref.WeakSet[LiveKitRoom] = weakref.WeakSet()


class LiveKitRoom:
    """A LiveKit room: connect, disconnect and room-level signals."""

    STATE_DISCONNECTED = 0
    STATE_CONNECTED = 1
    STATE_RECONNECTING = 2

    DATA_KIND_LOSSY = 0
    DATA_KIND_RELIABLE = 1

    QUALITY_POOR = 0
    QUALITY_GOOD = 1
    QUALITY_EXCELLENT = 2
    QUALITY_LOST = 3

    STREAM_WHOLE = data_streams.STREAM_WHOLE
    STREAM_CHUNKS = data_streams.STREAM_CHUNKS

    connected = signal()
    disconnected = signal()
    connection_failed = signal("error")
    reconnecting = signal()
    reconnected = signal()
    participant_connected = signal("participant")
    participant_disconnected = signal("participant")
    participant_metadata_changed = signal("participant", "old_metadata", "new_metadata")
    participant_name_changed = signal("participant", "old_name", "new_name")
    participant_attributes_changed = signal("participant", "changed_attributes")
    room_metadata_changed = signal("old_metadata", "new_metadata")
    connection_quality_changed = signal("participant", "quality")
    active_speakers_changed = signal("speakers")
    track_published = signal("publication", "participant")
    track_unpublished = signal("publication", "participant")
    track_subscribed = signal("track", "publication", "participant")
    track_unsubscribed = signal("track", "publication", "participant")
    track_muted = signal("participant", "publication")
    track_unmuted = signal("participant", "publication")
    local_track_published = signal("publication", "track")
    local_track_unpublished = signal("publication")
    data_received = signal("data", "participant", "kind", "topic")
    e2ee_state_changed = signal("participant", "state")
    participant_encryption_status_changed = signal("participant", "is_encrypted")
    # data streams (registered topics) and data tracks
    text_stream_received = signal("info", "text")
    byte_stream_received = signal("info", "data")
    text_stream_chunk_received = signal("info", "text")
    byte_stream_chunk_received = signal("info", "data")
    stream_finished = signal("info")
    stream_error = signal("info", "error")
    data_track_published = signal("track")
    data_track_unpublished = signal("track")

    def __init__(self) -> None:
        self._context = RoomContext(RpcResponder())
        self._local = LiveKitLocalParticipant(self._context)
        self._context.local = self._local
        self._link: links.Link[Any] = links.Link()  # the live session's SDK room
        links.attach(self, self._link)
        self._e2ee = LiveKitE2eeManager(self._context)
        self._state = self.STATE_DISCONNECTED
        self._connecting: Session | None = None
        self._connect_deadline: float | None = None
        self._options = ConnectOptions()
        self._auto_poll = True
        self._remote: dict[str, LiveKitRemoteParticipant] = {}
        self._sid = ""
        self._name = ""
        self._metadata = ""
        self._disconnect_reason = ""
        poller.register(self)
        _live_rooms.add(self)

    # -- properties and getters ------------------------------------------------------------

    @property
    def local_participant(self) -> LiveKitLocalParticipant | None:
        """The local participant object (null while not connected, as in the original)."""
        return self.get_local_participant()

    @property
    def remote_participants(self) -> dict[str, LiveKitRemoteParticipant]:
        """Remote participants keyed by identity (a copy)."""
        return dict(self._remote)

    @property
    def sid(self) -> str:
        """The room's session ID ("" until known)."""
        return self._sid

    @property
    def name(self) -> str:
        """The room's name."""
        return self._name

    @property
    def metadata(self) -> str:
        """The room's metadata."""
        return self._metadata

    @property
    def connection_state(self) -> int:
        """One of the ``STATE_*`` constants."""
        return self._state

    @property
    def auto_poll(self) -> bool:
        """When true the frame poller calls ``poll_events()`` every frame."""
        return self._auto_poll

    @auto_poll.setter
    def auto_poll(self, enabled: bool) -> None:
        self.set_auto_poll(enabled)

    def get_local_participant(self) -> LiveKitLocalParticipant | None:
        """The local participant while connected (or reconnecting), else null. It is the
        same object in every session: signals connected to it stay connected, and RPC
        methods registered on it are answered again after a reconnect or a new connect."""
        return self._local if self._context.session is not None else None

    def get_remote_participants(self) -> dict[str, LiveKitRemoteParticipant]:
        return dict(self._remote)

    def get_sid(self) -> str:
        return self._sid

    def get_name(self) -> str:
        return self._name

    def get_metadata(self) -> str:
        return self._metadata

    def get_connection_state(self) -> int:
        return self._state

    def get_disconnect_reason(self) -> str:
        """Why the last session ended, in plain words ("" while connected or never)."""
        return self._disconnect_reason

    def get_active_speakers(self) -> list[LiveKitParticipant]:
        """Who is speaking now, loudest first (as in the last ``active_speakers_changed``)."""
        return [p for p in self._context.speakers.active() if not p.is_stale()]

    def set_auto_poll(self, enabled: bool) -> None:
        self._auto_poll = bool(enabled)

    def get_auto_poll(self) -> bool:
        return self._auto_poll

    def get_e2ee_manager(self) -> LiveKitE2eeManager | None:
        """The E2EE manager while connected with end-to-end encryption, else null (as in
        the original). It is the same object in every session."""
        return self._e2ee if self._e2ee.is_active() else None

    def is_connecting(self) -> bool:
        """True between ``connect_to_room`` and ``connected``/``connection_failed``."""
        return self._connecting is not None

    def wait_idle(self, timeout: float) -> bool:
        """Block until this room's background work (connects, disconnects, SDK calls) has
        finished; False when ``timeout`` seconds passed first. For tools, tests and shutdown
        only: a game's frame never waits on the network."""
        return self._context.background.wait(timeout)

    # -- connect / disconnect ------------------------------------------------------------------

    def connect_to_room(
        self, url: str, token: str, options: Mapping[str, Any] | None = None
    ) -> bool:
        """Start connecting; returns true at once. The outcome arrives as ``connected`` or
        ``connection_failed(error)``. Called while connecting or connected, it starts over
        as the original does: an attempt in flight is dropped silently, a live session ends
        with ``disconnected`` first."""
        context = self._context
        if self._connecting is not None:
            self._give_up_connect(REPLACED_REASON)
        elif self._state != self.STATE_DISCONNECTED:
            self._leave(REPLACED_REASON)
        context.generation += 1
        session = Session(context, context.generation)
        self._disconnect_reason = ""
        try:
            self._options = ConnectOptions.from_mapping(options)
            precheck_connect(url, token)
        except ValueError as error:
            # failed before any network use, reported on the next poll like any attempt: until
            # then it is in flight, so a disconnect or a new connect cancels it
            self._connecting = session
            self._connect_deadline = None
            session.post(events.ConnectFailed(str(error)))
            return True
        self._connecting = session
        timeout = self._options.connect_timeout
        self._connect_deadline = time.monotonic() + timeout if timeout > 0 else None
        context.run(room_session.connect(session, url, token, self._options))
        return True

    def disconnect_from_room(self) -> None:
        """Leave the room. Never blocks: the SDK disconnect finishes in the background and
        ``disconnected`` arrives on the next ``poll_events()``. A connect in flight is
        cancelled: it ends ``disconnected`` too, not ``connection_failed``."""
        if self._connecting is not None:
            self._give_up_connect(CANCELLED_REASON)
            self._context.post_any(events.LeftRoom())
        elif self._state != self.STATE_DISCONNECTED:
            self._leave("client initiated")

    def _leave(self, reason: str) -> None:
        """Main thread: end the live session (``disconnected`` follows) and leave the SDK
        room in the background."""
        context = self._context
        session = context.session
        context.generation += 1
        sdk_room = self._end_session(reason)
        context.post_any(events.LeftRoom())
        self._leave_sdk_room(sdk_room, session)

    def poll_events(self) -> int:
        """Apply queued events and emit their signals on this thread; also enforces
        ``connect_timeout``. Returns how many signals were emitted."""
        context = self._context
        deadline = self._connect_deadline
        if self._connecting is not None and deadline is not None and time.monotonic() >= deadline:
            reason = (
                "timed out: no connection within connect_timeout "
                f"({self._options.connect_timeout:g} s)"
            )
            self._give_up_connect(reason)
            context.post_any(events.ConnectFailed(reason))
        emitted = 0
        for generation, event in context.queue.drain():
            if generation not in (events.ANY_SESSION, context.generation):
                if isinstance(event, events.Connected):  # a connect given up just too late
                    context.run(room_session.disconnect_sdk_room(event.sdk_room))
                continue
            try:
                emitted += self._apply(event)
            except Exception:
                logger.exception("error applying room event %s", type(event).__name__)
        return emitted

    def _auto_pump(self) -> None:
        self.poll_events()

    # -- main-thread event application --------------------------------------------------------

    def _apply(self, event: events.Event) -> int:
        """Apply one event to the room's state and emit its signal; returns signals emitted."""
        local = self._local
        if isinstance(event, events.DataTrackReceived):  # the most frequent event: first
            return event.subscription.poll()
        match event:
            case events.Connected():
                return self._apply_connected(event)
            case events.SidKnown(sid=sid):
                self._sid = sid
                return 0
            case events.ConnectFailed(error=error):
                self._connecting = None
                self._connect_deadline = None
                self._state = self.STATE_DISCONNECTED
                self._disconnect_reason = error
                self.connection_failed.emit(error)
            case events.Reconnecting():
                return self._apply_reconnecting()
            case events.Reconnected():
                self._state = self.STATE_CONNECTED
                self.reconnected.emit()
            case events.SessionEnded(reason=reason):
                if reason == room_session.UNKNOWN_REASON and self._state == self.STATE_RECONNECTING:
                    # the SDK gives up reconnecting with UNKNOWN_REASON: say what happened
                    reason = "connection lost: could not reconnect"
                session = self._context.session
                if session is not None:
                    _runtime.call_soon(session.cancel_operations)
                self._end_session(reason)
                self.disconnected.emit()
            case events.LeftRoom():
                self.disconnected.emit()
            case events.ParticipantConnected(participant=participant):
                self._remote[participant.get_identity()] = participant
                self.participant_connected.emit(participant)
            case events.ParticipantDisconnected(participant=participant):
                identity = next((k for k, p in self._remote.items() if p is participant), None)
                if identity is not None:
                    del self._remote[identity]
                self.participant_disconnected.emit(participant)
                links.link_of(participant).cut()
            case events.ParticipantMetadataChanged(
                participant=p, old_metadata=old, new_metadata=new
            ):
                self.participant_metadata_changed.emit(p, old, new)
            case events.ParticipantNameChanged(participant=p, old_name=old, new_name=new):
                self.participant_name_changed.emit(p, old, new)
            case events.ParticipantAttributesChanged(participant=p, changed_attributes=changed):
                self.participant_attributes_changed.emit(p, changed)
            case events.ConnectionQualityChanged(participant=p, quality=quality):
                self.connection_quality_changed.emit(p, quality)
            case events.ActiveSpeakersChanged(speakers=speakers):
                self._context.speakers.set_active(speakers)
                self.active_speakers_changed.emit(list(speakers))
            case events.RoomMetadataChanged(old_metadata=old, new_metadata=new):
                self._metadata = new
                self.room_metadata_changed.emit(old, new)
            case events.DataReceived(data=data, participant=sender, kind=kind, topic=topic):
                self.data_received.emit(data, sender, kind, topic)
            case events.TrackPublished(publication=publication, participant=p):
                self.track_published.emit(publication, p)
            case events.TrackUnpublished(publication=publication, participant=p):
                self.track_unpublished.emit(publication, p)
                links.link_of(publication).cut()
            case events.TrackSubscribed(track=track, publication=publication, participant=p):
                self.track_subscribed.emit(track, publication, p)
            case events.TrackUnsubscribed(track=track, publication=publication, participant=p):
                self.track_unsubscribed.emit(track, publication, p)
                links.link_of(track).cut()
            case events.TrackMuted(participant=p, publication=publication):
                self.track_muted.emit(p, publication)
            case events.TrackUnmuted(participant=p, publication=publication):
                self.track_unmuted.emit(p, publication)
            case events.LocalTrackPublished(publication=publication, track=track):
                self.local_track_published.emit(publication, track)
            case events.LocalTrackUnpublished(publication=publication):
                self.local_track_unpublished.emit(publication)
                links.link_of(publication).cut()
            case events.PublishFailed(publication=publication):
                links.link_of(publication).cut()
                return 0
            case events.E2eeStateChanged(participant=p, state=state):
                self.e2ee_state_changed.emit(p, state)
            case events.EncryptionStatusChanged(participant=p, is_encrypted=is_encrypted):
                self.participant_encryption_status_changed.emit(p, is_encrypted)
            case events.RpcInvoked():
                local.rpc_method_invoked.emit(
                    event.method,
                    event.request_id,
                    event.caller_identity,
                    event.payload,
                    event.response_timeout,
                )
            case events.RpcResponseReceived(method=method, result=result):
                local.rpc_response_received.emit(method, result)
            case events.RpcFailed(method=method, error_message=message):
                local.rpc_error.emit(method, message)
            case _:
                return self._apply_data(event)
        return 1

    # -- data streams and data tracks ------------------------------------------------------------

    def _apply_data(self, event: events.Event) -> int:
        """Apply one data stream or data track event; returns signals emitted."""
        local = self._local
        match event:
            case events.StreamReceived(info=info, payload=str() as text):
                self.text_stream_received.emit(info.to_dict(), text)
            case events.StreamReceived(info=info, payload=bytes() as data):
                self.byte_stream_received.emit(info.to_dict(), data)
            case events.StreamChunkReceived(info=info, chunk=str() as text):
                self.text_stream_chunk_received.emit(info.to_dict(), text)
            case events.StreamChunkReceived(info=info, chunk=bytes() as data):
                self.byte_stream_chunk_received.emit(info.to_dict(), data)
            case events.StreamFinished(info=info):
                self.stream_finished.emit(info.to_dict())
            case events.StreamFailed(info=info, error=error):
                self.stream_error.emit(info.to_dict(), error)
            case events.OutgoingStreamProgress(
                stream_id=stream_id, bytes_sent=sent, total_bytes=total
            ):
                local.stream_progress.emit(stream_id, sent, total)
            case events.OutgoingStreamSent(stream_id=stream_id):
                local.stream_sent.emit(stream_id)
            case events.OutgoingStreamFailed(stream_id=stream_id, error=error):
                local.stream_failed.emit(stream_id, error)
            case events.DataTrackPublished(track=track):
                self.data_track_published.emit(track)
            case events.DataTrackUnpublished(track=track):
                self.data_track_unpublished.emit(track)
                links.link_of(track).cut()
            case events.LocalDataTrackPublished(track=track):
                track.published.emit()
            case events.LocalDataTrackFailed(track=track, error=error):
                track.publish_failed.emit(error)
            case _:
                logger.warning("unknown room event %s", type(event).__name__)
                return 0
        return 1

    def register_text_stream_handler(
        self, topic: str, options: Mapping[str, Any] | None = None
    ) -> None:
        """Accept text streams on ``topic`` (before or while connected; kept across
        reconnects). Options: ``delivery`` (STREAM_WHOLE: ``text_stream_received`` once;
        STREAM_CHUNKS: ``text_stream_chunk_received`` per chunk, then ``stream_finished``),
        ``max_bytes``, ``max_open_streams``, ``idle_timeout``, ``max_duration``. A stream
        breaking a limit ends with ``stream_error``. ValueError if already registered."""
        self._register_stream_handler("text", topic, options, "register_text_stream_handler")

    def register_byte_stream_handler(
        self, topic: str, options: Mapping[str, Any] | None = None
    ) -> None:
        """Accept byte streams (bytes and files) on ``topic``: as
        :meth:`register_text_stream_handler`, with ``byte_stream_received`` /
        ``byte_stream_chunk_received``."""
        self._register_stream_handler("bytes", topic, options, "register_byte_stream_handler")

    def unregister_text_stream_handler(self, topic: str) -> bool:
        """Stop accepting new text streams on ``topic`` (open ones finish); false if it was
        not registered."""
        topic = data_streams.check_topic(topic, "unregister_text_stream_handler")
        return self._context.streams.unregister("text", topic, self._context.session)

    def unregister_byte_stream_handler(self, topic: str) -> bool:
        """Stop accepting new byte streams on ``topic``; false if it was not registered."""
        topic = data_streams.check_topic(topic, "unregister_byte_stream_handler")
        return self._context.streams.unregister("bytes", topic, self._context.session)

    def get_stream_handler_topics(self) -> dict[str, list[str]]:
        """The registered topics: ``{"text": [...], "bytes": [...]}``."""
        streams = self._context.streams
        return {"text": streams.topics("text"), "bytes": streams.topics("bytes")}

    def _register_stream_handler(
        self,
        kind: data_streams.StreamKind,
        topic: str,
        options: Mapping[str, Any] | None,
        where: str,
    ) -> None:
        topic = data_streams.check_topic(topic, where)
        checked = data_streams.HandlerOptions.from_mapping(options, where)
        context = self._context
        context.streams.register(kind, topic, checked, context.session or self._connecting)

    def get_remote_data_tracks(self) -> list[LiveKitRemoteDataTrack]:
        """The remote data tracks published now (announced by ``data_track_published``)."""
        session = self._context.session
        return session.data_tracks.remote_tracks() if session is not None else []

    def _apply_connected(self, event: events.Connected) -> int:
        session = self._connecting
        assert session is not None, "Connected for an attempt the room is not making"
        self._connecting = None
        self._connect_deadline = None
        self._context.session = session
        self._link.sdk = event.sdk_room
        links.link_of(self._local).sdk = event.local_sdk
        self._remote = {p.get_identity(): p for p in event.remotes}
        self._name, self._metadata = event.name, event.metadata
        if event.sid:
            self._sid = event.sid
        self._state = self.STATE_CONNECTED
        self.connected.emit()
        return 1

    def _apply_reconnecting(self) -> int:
        if self._options.auto_reconnect:
            self._state = self.STATE_RECONNECTING
            self.reconnecting.emit()
            return 1
        session = self._context.session
        self._context.generation += 1
        sdk_room = self._end_session("connection lost (auto_reconnect is off)")
        self._leave_sdk_room(sdk_room, session)
        self.disconnected.emit()
        return 1

    def _end_session(self, reason: str) -> rtc.Room | None:
        """Main thread: forget the live session; every object it made becomes stale.
        Returns the session's SDK room, for the caller to leave when it has not already
        left by itself."""
        context = self._context
        session = context.session
        context.session = None
        self._state = self.STATE_DISCONNECTED
        self._disconnect_reason = reason
        self._link.cut()
        links.link_of(self._local).cut()
        self._remote = {}
        context.rpc.drop_pending()
        context.speakers.clear()
        self._sid = self._name = self._metadata = ""
        return session.end() if session is not None else None

    def _give_up_connect(self, reason: str) -> None:
        """Main thread: give up the attempt in flight; the SDK connect finishes (or fails)
        in the background and a late success is disconnected at once."""
        self._context.generation += 1
        self._connecting = None
        self._connect_deadline = None
        self._state = self.STATE_DISCONNECTED
        self._disconnect_reason = reason

    def _leave_sdk_room(self, sdk_room: rtc.Room | None, session: Session | None) -> None:
        if sdk_room is not None:
            self._context.run(room_session.disconnect_sdk_room(sdk_room, session))

    def __repr__(self) -> str:
        return f"<LiveKitRoom name={self._name!r} state={self._state}>"


def _disconnect_all_at_exit() -> None:
    """Leave every connected room before the runtime thread stops (short grace)."""
    rooms = list(_live_rooms)
    for room in rooms:
        try:
            room.disconnect_from_room()
        except Exception:
            pass
    deadline = time.monotonic() + 1.0
    for room in rooms:
        room.wait_idle(max(0.0, deadline - time.monotonic()))


atexit.register(_disconnect_all_at_exit)
