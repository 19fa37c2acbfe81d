"""LiveKitParticipantVoice: one participant's voice in a room, whatever happens to its track.

A game says *whom* it wants to hear (a room and an identity, or a participant object) and
where the audio goes (a Godot ``AudioStreamGeneratorPlayback``); the voice does the rest:

- it opens a :class:`~godot_livekit.audio_stream.LiveKitAudioStream` on the participant's
  subscribed microphone track (or ``SOURCE_SCREENSHARE_AUDIO``) as soon as there is one;
- when that track goes away -- unsubscribed, unpublished, the participant left, the room
  reconnected in full (after which every participant is a new object) -- the stream ends and
  the voice waits, at no cost, for the room's next ``track_subscribed`` of that identity and
  source, then opens a stream on the new track.

Nothing is polled while there is no track: the voice listens to the room's signals. With a
playback attached the frame poller pushes the stream into it (``poll``); everything runs on
the main thread. The stream measures the participant's level as usual
(``participant.get_audio_level()``) and feeds the echo canceller's far end.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from . import poller
from .audio_playout import Playback
from .audio_stream import LiveKitAudioStream
from .participant import LiveKitParticipant, LiveKitRemoteParticipant
from .track import LiveKitTrack

if TYPE_CHECKING:
    from .room import LiveKitRoom
    from .track_publication import LiveKitTrackPublication

logger = logging.getLogger(__name__)

AUDIO_SOURCES = (LiveKitTrack.SOURCE_MICROPHONE, LiveKitTrack.SOURCE_SCREENSHARE_AUDIO)


class LiveKitParticipantVoice:
    """Follows one participant's audio track in one room (see the module docstring)."""

    def __init__(self, source: int = LiveKitTrack.SOURCE_MICROPHONE) -> None:
        self._source = _check_source(source)
        self._room: LiveKitRoom | None = None
        self._identity = ""
        self._stream: LiveKitAudioStream | None = None
        self._streams_opened = 0
        self._playback: Playback | None = None
        self._mix_rate: int | None = None
        self._push_on_arrival = False
        self._closed = False

    @staticmethod
    def create(
        room: LiveKitRoom, identity: str, source: int = LiveKitTrack.SOURCE_MICROPHONE
    ) -> LiveKitParticipantVoice:
        """The voice of ``identity`` in ``room``."""
        voice = LiveKitParticipantVoice(source)
        voice.set_identity(identity)
        voice.set_room(room)
        return voice

    # -- whom to hear --------------------------------------------------------------------

    def set_room(self, room: LiveKitRoom | None) -> None:
        """Follow the participant in ``room`` (None: in no room; the stream closes)."""
        from .room import LiveKitRoom

        if room is not None and not isinstance(room, LiveKitRoom):
            raise TypeError("set_room: room must be a LiveKitRoom")
        if room is not None and self._closed:
            raise RuntimeError("set_room: this voice is closed")
        if room is self._room:
            return
        if self._room is not None:
            self._room.track_subscribed.disconnect(self._on_track_subscribed)
            self._room.connected.disconnect(self._follow)
        self._room = room
        self._close_stream()
        if room is not None:
            room.track_subscribed.connect(self._on_track_subscribed)
            room.connected.connect(self._follow)
            self._follow()

    def get_room(self) -> LiveKitRoom | None:
        return self._room

    def set_identity(self, identity: str) -> None:
        """Follow the participant with this identity ("" follows nobody)."""
        if not isinstance(identity, str):
            raise TypeError(f"set_identity: identity must be a string, got {identity!r}")
        if identity == self._identity:
            return
        self._identity = identity
        self._close_stream()
        self._follow()

    def get_identity(self) -> str:
        return self._identity

    def set_participant(self, participant: LiveKitParticipant | None) -> None:
        """Follow ``participant`` (by its identity, so a rejoin or a full reconnect, which
        make a new participant object, are followed too); None follows nobody."""
        if participant is None:
            self.set_identity("")
            return
        if not isinstance(participant, LiveKitRemoteParticipant):
            raise TypeError("set_participant: participant must be a LiveKitRemoteParticipant")
        identity = participant.get_identity()
        if not identity:
            raise ValueError("set_participant: the participant has left (stale)")
        self.set_identity(identity)

    def get_participant(self) -> LiveKitRemoteParticipant | None:
        """The participant object followed now (None while it is not in the room)."""
        room = self._room
        if room is None or not self._identity:
            return None
        return room.get_remote_participants().get(self._identity)

    def set_source(self, source: int) -> None:
        """Which of the participant's audio tracks: SOURCE_MICROPHONE (the default) or
        SOURCE_SCREENSHARE_AUDIO."""
        source = _check_source(source)
        if source != self._source:
            self._source = source
            self._close_stream()
            self._follow()

    def get_source(self) -> int:
        return self._source

    # -- the stream ------------------------------------------------------------------------

    def is_receiving(self) -> bool:
        """True while a stream of the participant's track is open."""
        stream = self._stream
        return stream is not None and stream.is_active()

    def get_stream(self) -> LiveKitAudioStream | None:
        """The stream open now (a new one after each resubscription or reconnect)."""
        return self._stream

    def get_streams_opened(self) -> int:
        """How many streams were opened so far (one more after each time the track came
        back)."""
        return self._streams_opened

    def _follow(self) -> None:
        """Open a stream on the participant's current track, if it has one and none is
        open (called when whom to follow changed, and on ``connected``)."""
        if self.is_receiving():
            return
        self._close_stream()
        participant = self.get_participant()
        if participant is None or self._closed:
            return
        for publication in participant.get_track_publications().values():
            track = publication.get_track()
            if self._wanted(track, publication) and track is not None:
                self._open(track)
                return

    def _on_track_subscribed(
        self, track: LiveKitTrack, publication: LiveKitTrackPublication, participant: Any
    ) -> None:
        if (
            isinstance(participant, LiveKitParticipant)
            and participant.get_identity() == self._identity
            and self._identity
            and self._wanted(track, publication)
        ):
            self._open(track)

    def _wanted(self, track: LiveKitTrack | None, publication: LiveKitTrackPublication) -> bool:
        return (
            track is not None
            and not track.is_stale()
            and track.get_kind() == LiveKitTrack.KIND_AUDIO
            and publication.get_source() == self._source
        )

    def _open(self, track: LiveKitTrack) -> None:
        if self._closed:
            return
        self._close_stream()
        stream = LiveKitAudioStream.from_track(track)
        if stream is None:  # went stale since it was chosen: its replacement comes as an event
            return
        self._stream = stream
        stream.set_push_on_arrival(self._push_on_arrival)
        self._streams_opened += 1
        logger.debug("voice of %s: stream %d opened", self._identity, self._streams_opened)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    # -- playing -----------------------------------------------------------------------------

    def poll(self, playback: Playback, mix_rate: int | None = None) -> int:
        """Push the participant's audio into ``playback`` (as ``LiveKitAudioStream.poll``);
        returns the frames pushed (0 while there is no track)."""
        stream = self._stream
        if stream is None or self._closed:
            return 0
        pushed = stream.poll(playback, mix_rate)
        if not stream.is_active():  # the track went away: wait for the next one
            self._close_stream()
        return pushed

    def set_push_on_arrival(self, enabled: bool) -> None:
        """``LiveKitAudioStream.set_push_on_arrival`` for every stream of this voice: each
        frame goes into the playback last given to ``poll`` as it arrives."""
        self._push_on_arrival = bool(enabled)
        if self._stream is not None:
            self._stream.set_push_on_arrival(self._push_on_arrival)

    def get_push_on_arrival(self) -> bool:
        return self._push_on_arrival

    def attach_playback(self, playback: Playback | None, mix_rate: int | None = None) -> None:
        """Let the frame poller call ``poll(playback)`` every frame (None detaches)."""
        self._playback, self._mix_rate = playback, mix_rate
        if playback is not None and not self._closed:
            poller.register(self)
        else:
            poller.unregister(self)

    def get_auto_poll(self) -> bool:
        return self._playback is not None and not self._closed

    def _auto_pump(self) -> None:
        if self._playback is not None:
            self.poll(self._playback, self._mix_rate)

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop following: close the stream, leave the room's signals, detach the playback
        (idempotent)."""
        if self._closed:
            return
        self.set_room(None)
        self._closed = True
        self._playback = None
        poller.unregister(self)

    def is_closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        state = "receiving" if self.is_receiving() else "waiting"
        return f"<LiveKitParticipantVoice {self._identity!r} {state}>"


def _check_source(source: int) -> int:
    if isinstance(source, bool) or source not in AUDIO_SOURCES:
        raise ValueError(
            f"source must be SOURCE_MICROPHONE (2) or SOURCE_SCREENSHARE_AUDIO (4), got {source!r}"
        )
    return int(source)
