"""LiveKitRoom for GDScript: connect to a LiveKit room and receive the room's signals.

GDScript makes one with ``LiveKit.new_room()`` (LiveKit.gd attaches this script to a new
RefCounted). Signals carry the addon's Godot objects -- one per participant, publication and
track, the same object every time -- PackedByteArray data and Dictionary values. With
``auto_poll`` on (the default) the LiveKitPoller autoload calls ``poll_events()`` each frame.

Lifetime: the room holds its connection until ``disconnect_from_room()``; a room the game
drops (no variable, node or container refers to it any more) is disconnected and freed by the
LiveKitPoller within a second (bridge/lifecycle.py). Properties are declared for py4godot in
bridge/declarations.py; the read-only ones ignore writes.

Data streams (large rooms): register a topic with ``register_text_stream_handler(topic,
options)`` / ``register_byte_stream_handler``; streams arrive as ``text_stream_received(info,
text)`` / ``byte_stream_received(info, data)`` (``delivery`` LiveKit.STREAM_WHOLE, the default)
or chunk by chunk (LiveKit.STREAM_CHUNKS) then ``stream_finished(info)``; ``stream_error(info,
error)`` when one fails. ``info`` is a Dictionary (id, kind, topic, sender_identity, mime_type,
name, total_size, attributes, timestamp). A whole byte stream is a new PackedByteArray; chunks
are refilled into one reused PackedByteArray per room (Godot copies it if a handler keeps it).
Data tracks: ``data_track_published(track)`` / ``data_track_unpublished(track)`` with
LiveKitRemoteDataTrack objects, ``get_remote_data_tracks()``.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.core import Array, Dictionary, PackedByteArray, PackedStringArray
from py4godot.classes.Object import Object
from py4godot.classes.RefCounted import RefCounted
from py4godot.signals import SignalArg, signal

import godot_livekit
from addons.godot_livekit.bridge.convert import ReusedBytes, dictionary, text
from addons.godot_livekit.bridge.declarations import RoomDeclaration
from addons.godot_livekit.bridge.objects import Registry, Wrapper, adopt, guard

_PARTICIPANT = SignalArg("participant", Object)
_PUBLICATION = SignalArg("publication", Object)
_TRACK = SignalArg("track", Object)
_METADATA_CHANGED = [_PARTICIPANT, SignalArg("old_metadata", str), SignalArg("new_metadata", str)]
_NAME_CHANGED = [_PARTICIPANT, SignalArg("old_name", str), SignalArg("new_name", str)]
_ATTRIBUTES_CHANGED = [_PARTICIPANT, SignalArg("changed_attributes", Dictionary)]
_DATA_RECEIVED = [
    SignalArg("data", PackedByteArray),
    _PARTICIPANT,
    SignalArg("kind", int),
    SignalArg("topic", str),
]
_ENCRYPTION_STATUS = [_PARTICIPANT, SignalArg("is_encrypted", bool)]
# -- large rooms (issue 12)
_INFO = SignalArg("info", Dictionary)
_TEXT_STREAM = [_INFO, SignalArg("text", str)]
_BYTE_STREAM = [_INFO, SignalArg("data", PackedByteArray)]
# -- end large rooms

# core signals after which the core forgets the object in their first argument
_FORGETS_FIRST_ARG = (
    "participant_disconnected",
    "track_unpublished",
    "track_unsubscribed",
    "local_track_unpublished",
    "data_track_unpublished",  # large rooms (issue 12)
)


@gdclass
class LiveKitRoom(Wrapper, RoomDeclaration, RefCounted):
    STATE_DISCONNECTED = 0
    STATE_CONNECTED = 1
    STATE_RECONNECTING = 2

    connected = signal()
    disconnected = signal()
    connection_failed = signal([SignalArg("error", str)])
    reconnecting = signal()
    reconnected = signal()
    participant_connected = signal([_PARTICIPANT])
    participant_disconnected = signal([_PARTICIPANT])
    participant_metadata_changed = signal(_METADATA_CHANGED)
    participant_name_changed = signal(_NAME_CHANGED)
    participant_attributes_changed = signal(_ATTRIBUTES_CHANGED)
    room_metadata_changed = signal([SignalArg("old_metadata", str), SignalArg("new_metadata", str)])
    connection_quality_changed = signal([_PARTICIPANT, SignalArg("quality", int)])
    track_published = signal([_PUBLICATION, _PARTICIPANT])
    track_unpublished = signal([_PUBLICATION, _PARTICIPANT])
    track_subscribed = signal([_TRACK, _PUBLICATION, _PARTICIPANT])
    track_unsubscribed = signal([_TRACK, _PUBLICATION, _PARTICIPANT])
    track_muted = signal([_PARTICIPANT, _PUBLICATION])
    track_unmuted = signal([_PARTICIPANT, _PUBLICATION])
    local_track_published = signal([_PUBLICATION, _TRACK])
    local_track_unpublished = signal([_PUBLICATION])
    data_received = signal(_DATA_RECEIVED)
    DATA_KIND_LOSSY = 0  # data_received's kind
    DATA_KIND_RELIABLE = 1
    e2ee_state_changed = signal([_PARTICIPANT, SignalArg("state", int)])
    participant_encryption_status_changed = signal(_ENCRYPTION_STATUS)
    # -- large rooms (issue 12): data streams and data tracks
    STREAM_WHOLE = 0
    STREAM_CHUNKS = 1
    text_stream_received = signal(_TEXT_STREAM)
    byte_stream_received = signal(_BYTE_STREAM)
    text_stream_chunk_received = signal(_TEXT_STREAM)
    byte_stream_chunk_received = signal(_BYTE_STREAM)
    stream_finished = signal([_INFO])
    stream_error = signal([_INFO, SignalArg("error", str)])
    data_track_published = signal([_TRACK])
    data_track_unpublished = signal([_TRACK])
    # -- end large rooms
    # -- voice: who is speaking (not in the original API) --
    active_speakers_changed = signal([SignalArg("speakers", Array)])

    def __init__(self) -> None:
        super().__init__()
        self._lk_local = None
        self._lk_auto_poll = True

    def _lk_new_core(self) -> Any:
        """The core room, made on first use (so a room that is never used owns nothing)."""
        core = godot_livekit.LiveKitRoom()
        core.set_auto_poll(self._lk_auto_poll)
        adopt(self, core, Registry())
        return core

    def _lk_local_participant(self) -> Any:
        """The local participant's one Godot object while the core has one (connected),
        else null; pinned the first time (the core keeps one local participant across
        sessions), so its RPC signals stay forwarded."""
        core = self._lk().get_local_participant()
        if core is None:
            return None
        if self._lk_local is None:
            self._lk_local = self._lk_registry.pin(core)
        return self._lk_local

    def _lk_on_core_signal(self, name: str, *args: Any) -> None:
        self._lk_local_participant()  # pinned before "connected" reaches GDScript
        if name == "byte_stream_chunk_received":  # large rooms (issue 12): a reused buffer
            self._lk_emit_chunk(*args)
        else:
            self._lk_emit(name, *args)
        if name in _FORGETS_FIRST_ARG:
            self._lk_registry.release(args[0])
        elif name == "disconnected":
            self._lk_registry.release_stale()

    def _lk_close(self) -> None:
        core, registry = self._lk_core, self._lk_registry
        if core is not None:
            core.disconnect_from_room()
        if registry is not None:
            registry.release_all()

    # -- connecting --------------------------------------------------------------------------

    @guard(False)
    def connect_to_room(self, url: str, token: str, options: Dictionary | None = None) -> bool:
        """Start connecting; the outcome arrives as ``connected`` or ``connection_failed``.
        Options: auto_subscribe, dynacast, auto_reconnect, connect_timeout, e2ee."""
        core = self._lk()
        return core.connect_to_room(text(url), text(token), dictionary(options, "options"))

    @guard()
    def disconnect_from_room(self) -> None:
        """Leave the room (never blocks); ``disconnected`` arrives on a later poll, and the
        session's participants, tracks and publications are released then."""
        self._lk().disconnect_from_room()

    @guard()
    def poll_events(self) -> None:
        self._lk().poll_events()

    @guard()
    def set_auto_poll(self, enabled: bool) -> None:
        self._lk_auto_poll = bool(enabled)
        if self._lk_core is not None:
            self._lk_core.set_auto_poll(self._lk_auto_poll)

    @guard(False)
    def get_auto_poll(self) -> bool:
        return self._lk_auto_poll

    # -- state -------------------------------------------------------------------------------

    @guard()
    def get_local_participant(self) -> Any:
        """The local participant while connected (or reconnecting), else null."""
        return self._lk_local_participant()

    @guard(Dictionary.new0)
    def get_remote_participants(self) -> Dictionary:
        return self._lk_godot(self._lk().get_remote_participants())

    @guard("")
    def get_sid(self) -> str:
        return self._lk().get_sid()

    @guard("")
    def get_name(self) -> str:
        return self._lk().get_name()

    @guard("")
    def get_metadata(self) -> str:
        return self._lk().get_metadata()

    @guard(0)
    def get_connection_state(self) -> int:
        return self._lk().get_connection_state()

    @guard()
    def get_e2ee_manager(self) -> Any:
        """The E2EE manager while connected with encryption, else null."""
        return self._lk_godot(self._lk().get_e2ee_manager())

    @guard("")
    def get_disconnect_reason(self) -> str:
        """Why the last session ended ("" while connected or never connected)."""
        return self._lk().get_disconnect_reason()

    @guard(False)
    def is_connecting(self) -> bool:
        return self._lk().is_connecting()

    # -- voice: who is speaking (not in the original API) ------------------------------------

    @guard(Array.new0)
    def get_active_speakers(self) -> Array:
        """The participants speaking now, loudest first (as in the last
        ``active_speakers_changed``), the local participant among them when it speaks."""
        return self._lk_godot(self._lk().get_active_speakers())

    # -- properties (py4godot reads and writes them with getattr/setattr) --------------------

    @property
    def local_participant(self) -> Any:
        return self.get_local_participant()

    @local_participant.setter
    def local_participant(self, _value: Any) -> None:
        pass  # read-only

    @property
    def remote_participants(self) -> Dictionary:
        return self.get_remote_participants()

    @remote_participants.setter
    def remote_participants(self, _value: Any) -> None:
        pass  # read-only

    @property
    def sid(self) -> str:
        return self.get_sid()

    @sid.setter
    def sid(self, _value: Any) -> None:
        pass  # read-only

    @property
    def name(self) -> str:
        return self.get_name()

    @name.setter
    def name(self, _value: Any) -> None:
        pass  # read-only

    @property
    def metadata(self) -> str:
        return self.get_metadata()

    @metadata.setter
    def metadata(self, _value: Any) -> None:
        pass  # read-only

    @property
    def connection_state(self) -> int:
        return self.get_connection_state()

    @connection_state.setter
    def connection_state(self, _value: Any) -> None:
        pass  # read-only

    @property
    def auto_poll(self) -> bool:
        return self.get_auto_poll()

    @auto_poll.setter
    def auto_poll(self, enabled: bool) -> None:
        self.set_auto_poll(enabled)

    # -- large rooms (issue 12): data streams and data tracks --------------------------------

    def _lk_emit_chunk(self, info: Any, data: Any) -> None:
        """``byte_stream_chunk_received`` through one PackedByteArray per room (one memcpy)."""
        chunk = getattr(self, "_lk_chunk", None)
        if chunk is None:
            chunk = self._lk_chunk = ReusedBytes()
        self.byte_stream_chunk_received.emit(self._lk_godot(info), chunk.write(data))

    @guard()
    def register_text_stream_handler(self, topic: str, options: Dictionary | None = None) -> None:
        """Accept text streams on ``topic`` (before or while connected; kept across
        reconnects). Options: delivery (LiveKit.STREAM_WHOLE or STREAM_CHUNKS), max_bytes,
        max_open_streams, idle_timeout, max_duration."""
        self._lk().register_text_stream_handler(text(topic), dictionary(options, "options"))

    @guard()
    def register_byte_stream_handler(self, topic: str, options: Dictionary | None = None) -> None:
        """Accept byte streams (bytes and files) on ``topic``; options as for text."""
        self._lk().register_byte_stream_handler(text(topic), dictionary(options, "options"))

    @guard(False)
    def unregister_text_stream_handler(self, topic: str) -> bool:
        """Stop accepting new text streams on ``topic``; false if it was not registered."""
        return self._lk().unregister_text_stream_handler(text(topic))

    @guard(False)
    def unregister_byte_stream_handler(self, topic: str) -> bool:
        """Stop accepting new byte streams on ``topic``; false if it was not registered."""
        return self._lk().unregister_byte_stream_handler(text(topic))

    @guard(Dictionary.new0)
    def get_stream_handler_topics(self) -> Dictionary:
        """The registered topics: {"text": PackedStringArray, "bytes": PackedStringArray}."""
        topics = Dictionary.new0()
        for kind, names in self._lk().get_stream_handler_topics().items():
            topics[kind] = PackedStringArray.from_list(names)
        return topics

    @guard(Array.new0)
    def get_remote_data_tracks(self) -> Array:
        """The remote data tracks published now (LiveKitRemoteDataTrack objects)."""
        return self._lk_godot(self._lk().get_remote_data_tracks())

    # -- end large rooms
