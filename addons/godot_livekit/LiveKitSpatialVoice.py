"""LiveKitSpatialVoice for GDScript: one participant's voice, played where the node stands.

A node (an AudioStreamPlayer3D): GDScript makes one with ``LiveKit.new_spatial_voice(room,
identity)`` (or sets ``set_room(room)`` and ``set_identity(id)`` / ``set_participant(p)``) and
adds it under the player's avatar; Godot's 3D audio (attenuation, panning, doppler, buses)
applies as to any AudioStreamPlayer3D::

    var voice = LiveKit.new_spatial_voice(room, participant.get_identity())
    avatar.add_child(voice)

It plays that participant's microphone track (``set_source(LiveKit.SOURCE_SCREENSHARE_AUDIO)``
for screen-share audio) and follows it without game code: through unsubscribe/resubscribe,
unpublish/republish, the participant leaving and joining again, and a full reconnect (after
which the participant is a new object) -- the core ``LiveKitParticipantVoice`` waits for the
room's next subscription of that identity. The audio takes the same low-latency path as
LiveKitAudioStream: an AudioStreamGenerator with a short buffer (0.1 s) that the LiveKitPoller
fills each frame, about 50 ms ahead, with drift correction, and that the microphone's echo
canceller hears as its far end.

Lifetime: the node's life is the tree's. Inside the tree it plays and follows; leaving the tree
stops it and closes its stream (adding it again resumes, the room and identity kept);
``close()`` also forgets the room. It keeps no reference to the room object: keep the room
yourself, as always.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.AudioStreamGenerator import AudioStreamGenerator
from py4godot.classes.AudioStreamPlayer3D import AudioStreamPlayer3D

import godot_livekit
from addons.godot_livekit.bridge.convert import PlaybackAdapter, text
from addons.godot_livekit.bridge.declarations import SpatialVoiceDeclaration
from addons.godot_livekit.bridge.objects import core_of, guard, script_instance
from addons.godot_livekit.bridge.voice import NodeWatch, keep_returned

MIX_RATE = 48000


@gdclass
class LiveKitSpatialVoice(SpatialVoiceDeclaration, AudioStreamPlayer3D):
    SOURCE_MICROPHONE = 2
    SOURCE_SCREENSHARE_AUDIO = 4
    BUFFER_SECONDS = 0.1

    def __init__(self) -> None:
        super().__init__()
        self._lk_identity = ""
        self._lk_source = self.SOURCE_MICROPHONE
        self._lk_room: Any = None  # the room's addon object (py4godot keeps it anyway)
        self._lk_voice: Any = None  # the core LiveKitParticipantVoice while inside the tree
        self._lk_generator: Any = None
        self._lk_playback: Any = None
        self._lk_adapter: PlaybackAdapter | None = None
        self._lk_watch: NodeWatch | None = None
        self._lk_auto_poll = True
        self._lk_push_on_arrival = False

    # -- whom to hear --------------------------------------------------------------------

    @guard()
    def set_room(self, room: Any) -> None:
        """The LiveKitRoom to follow the participant in (null: none)."""
        instance = script_instance(room) if room is not None else None
        if instance is not None and type(instance).__name__ != "LiveKitRoom":
            raise TypeError(f"set_room: room must be a LiveKitRoom, got {type(room).__name__}")
        self._lk_room = instance
        if self._lk_voice is not None:
            self._lk_voice.set_room(self._lk_core_room())

    @guard()
    def get_room(self) -> Any:
        room = self._lk_room
        return room if room is not None and not room._lk_freed else None

    @guard()
    def set_identity(self, identity: str) -> None:
        """Play the participant with this identity ("" plays nobody)."""
        self._lk_identity = str(text(identity))
        if self._lk_voice is not None:
            self._lk_voice.set_identity(self._lk_identity)

    @guard("")
    def get_identity(self) -> str:
        return self._lk_identity

    @guard()
    def set_participant(self, participant: Any) -> None:
        """Play ``participant`` (a LiveKitRemoteParticipant of the room; followed by
        identity, so its rejoins and reconnects are followed too). Null plays nobody."""
        if participant is None:
            self.set_identity("")
            return
        core = core_of(participant, "participant")
        if not isinstance(core, godot_livekit.LiveKitRemoteParticipant):
            raise TypeError("set_participant: participant must be a LiveKitRemoteParticipant")
        # (no local variable may be called ``identity``: py4godot scans source lines for
        # class attributes, and such a line would hide the ``identity`` property)
        who = core.get_identity()
        if not who:
            raise ValueError("set_participant: the participant has left (stale)")
        self.set_identity(who)

    @guard()
    def get_participant(self) -> Any:
        """The participant played now (null while it is not in the room)."""
        voice, room = self._lk_voice, self._lk_room
        participant = voice.get_participant() if voice is not None else None
        if participant is None or room is None or room._lk_freed:
            return None
        return room._lk_godot(participant)

    @guard()
    def set_source(self, source: int) -> None:
        """SOURCE_MICROPHONE (the default) or SOURCE_SCREENSHARE_AUDIO."""
        if isinstance(source, bool) or source not in (2, 4):
            raise ValueError(
                f"set_source: SOURCE_MICROPHONE or SOURCE_SCREENSHARE_AUDIO, got {source!r}"
            )
        self._lk_source = int(source)
        if self._lk_voice is not None:
            self._lk_voice.set_source(self._lk_source)

    @guard(2)
    def get_source(self) -> int:
        return self._lk_source

    @guard(False)
    def is_receiving(self) -> bool:
        """True while the participant's track is being received."""
        return self._lk_voice is not None and self._lk_voice.is_receiving()

    @guard(0)
    def get_streams_opened(self) -> int:
        """How many times a stream was opened since the node entered the tree (one more each
        time the track came back)."""
        return self._lk_voice.get_streams_opened() if self._lk_voice is not None else 0

    @guard(0.0)
    def get_buffered_ms(self) -> float:
        """Audio waiting to be pushed, in ms (0 while not receiving)."""
        voice = self._lk_voice
        stream = voice.get_stream() if voice is not None else None
        return stream.get_buffered_ms() if stream is not None else 0.0

    # -- playing -----------------------------------------------------------------------------

    @guard(0)
    def poll(self) -> int:
        """Push the voice into this player's playback now (the LiveKitPoller does it every
        frame while ``auto_poll`` is on); returns the frames pushed."""
        voice, adapter = self._lk_voice, self._lk_adapter
        if voice is None or adapter is None:
            return 0
        return voice.poll(adapter)

    @guard()
    def set_auto_poll(self, enabled: bool) -> None:
        self._lk_auto_poll = bool(enabled)

    @guard()
    def set_push_on_arrival(self, enabled: bool) -> None:
        """Push each 10 ms of voice into the playback from the network thread as it
        arrives (about one game frame less latency) instead of at the next poll. The
        node holds its playback while inside the tree, and stops the stream before it
        lets the playback go, so no push outlives it."""
        self._lk_push_on_arrival = bool(enabled)
        if self._lk_voice is not None:
            self._lk_voice.set_push_on_arrival(self._lk_push_on_arrival)

    @guard(False)
    def get_push_on_arrival(self) -> bool:
        return self._lk_push_on_arrival

    @guard(True)
    def get_auto_poll(self) -> bool:
        return self._lk_auto_poll

    @guard()
    def close(self) -> None:
        """Stop playing and following, and forget the room (idempotent); set_room and
        re-entering the tree start again."""
        self._lk_stop(node_alive=True)
        self._lk_room = None

    # -- the tree ----------------------------------------------------------------------------

    @guard()
    def _enter_tree(self) -> None:
        self._lk_stop(node_alive=True)
        if self._lk_generator is None:
            generator = AudioStreamGenerator.new()
            generator.init_ref()  # this wrapper's count (new() leaves it pending)
            generator.set_mix_rate(MIX_RATE)
            generator.set_buffer_length(self.BUFFER_SECONDS)
            self._lk_generator = generator
            self.set_stream(generator)
        self.play()
        self._lk_playback = keep_returned(self.get_stream_playback())
        self._lk_adapter = PlaybackAdapter(self._lk_playback)
        voice = godot_livekit.LiveKitParticipantVoice(self._lk_source)
        voice.set_push_on_arrival(self._lk_push_on_arrival)
        voice.set_identity(self._lk_identity)
        voice.set_room(self._lk_core_room())
        self._lk_voice = voice
        self._lk_watch = NodeWatch(self.get_instance_id(), self._lk_each_frame, self._lk_gone)
        self._lk_watch.start()

    @guard()
    def _exit_tree(self) -> None:
        self._lk_stop(node_alive=True)

    def _lk_core_room(self) -> Any:
        room = self._lk_room
        if room is None or room._lk_freed:
            return None
        return room._lk()

    def _lk_each_frame(self) -> None:
        voice, room = self._lk_voice, self._lk_room
        if voice is None:
            return
        if voice.get_room() is not None and (room is None or room._lk_freed):
            voice.set_room(None)  # the game dropped the room: let go of it
        if self._lk_auto_poll and self._lk_adapter is not None:
            voice.poll(self._lk_adapter)

    def _lk_gone(self) -> None:
        self._lk_stop(node_alive=False)

    def _lk_stop(self, node_alive: bool) -> None:
        voice, watch, playback = self._lk_voice, self._lk_watch, self._lk_playback
        self._lk_voice = self._lk_watch = self._lk_playback = self._lk_adapter = None
        if watch is not None:
            watch.stop()
        if voice is not None:
            voice.close()
        if playback is not None and node_alive:
            self.stop()
        if not node_alive:
            self._lk_generator = None  # the freed player let go of it; so do we

    # -- properties (py4godot reads and writes them with getattr/setattr) --------------------

    @property
    def identity(self) -> str:
        return self._lk_identity

    @identity.setter
    def identity(self, identity: str) -> None:
        self.set_identity(identity)
