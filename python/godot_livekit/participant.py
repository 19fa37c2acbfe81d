"""Participants: the getters every participant has, and remote peers.

A participant object stands for an SDK participant that lives on the runtime thread (see
``links.py``). Once the participant leaves or the room disconnects the object is *stale*:
every getter returns its default (``""``, ``0``, ``{}``) and actions are refused with a
clear error; nothing crashes. The local participant is in ``local_participant.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livekit import rtc

from . import links

if TYPE_CHECKING:
    from .session import LevelSource, RoomContext, Session
    from .track_publication import LiveKitTrackPublication


class LiveKitParticipant(links.Linked):
    """Base class for a user in the room."""

    KIND_STANDARD = 0
    KIND_INGRESS = 1
    KIND_EGRESS = 2
    KIND_SIP = 3
    KIND_AGENT = 4

    def __init__(
        self, link: links.Link[Any] | None = None, room: RoomContext | None = None
    ) -> None:
        super().__init__(link)
        self._room = room

    def _sdk(self) -> rtc.Participant | None:
        return self._link.sdk

    def get_identity(self) -> str:
        sdk = self._sdk()
        return sdk.identity if sdk is not None else ""

    def get_metadata(self) -> str:
        sdk = self._sdk()
        return sdk.metadata if sdk is not None else ""

    def get_attributes(self) -> dict[str, str]:
        sdk = self._sdk()
        return dict(sdk.attributes) if sdk is not None else {}

    def get_kind(self) -> int:
        sdk = self._sdk()
        return int(sdk.kind) if sdk is not None else self.KIND_STANDARD

    def is_speaking(self) -> bool:
        """True while the server counts this participant among the room's active speakers
        (``active_speakers_changed``)."""
        room = self._room
        return room is not None and not self.is_stale() and room.speakers.is_speaking(self)

    def get_audio_level(self) -> float:
        """How loud this participant is, 0..1 of full scale (RMS; a full-scale sine is
        0.707): measured on the audio a ``LiveKitAudioStream`` receives from it, or on what
        the ``LiveKitMicrophone`` sends for the local participant. 0 when nothing arrived
        for a moment (silent, muted, not received), unknown or stale."""
        room = self._room
        if room is None or self.is_stale():
            return 0.0
        return room.speakers.level_of(self)

    def get_track_publications(self) -> dict[str, LiveKitTrackPublication]:
        """Track publications keyed by their SID ({} when stale)."""
        return {}

    def __repr__(self) -> str:
        state = "stale" if self.is_stale() else "live"
        return f"<{type(self).__name__} identity={self.get_identity()!r} {state}>"


def report_audio_level(participant: LiveKitParticipant, level: float) -> None:
    """Record how loud ``participant`` is now (0..1, measured on audio just sent for it) in
    its room's speakers registry, where ``get_audio_level()`` reads it. Any thread; a
    participant of no room, or not identified yet, is ignored."""
    room = participant._room
    identity = participant.get_identity()
    if room is not None and identity:
        room.speakers.report_level(identity, level)


def add_level_source(participant: LiveKitParticipant, source: LevelSource) -> None:
    """Let ``get_audio_level()`` of ``participant`` ask ``source`` (held weakly: it leaves
    when collected) how loud the audio it receives from them is. Main thread."""
    room = participant._room
    identity = participant.get_identity()
    if room is not None and identity:
        room.speakers.add_level_source(identity, source)


class LiveKitRemoteParticipant(LiveKitParticipant):
    """A remote user in the room (made by the room's session)."""

    def __init__(self, link: links.Link[Any] | None = None, session: Session | None = None) -> None:
        super().__init__(link, session.room if session is not None else None)
        self._session = session

    def get_track_publications(self) -> dict[str, LiveKitTrackPublication]:
        sdk, session = self._sdk(), self._session
        if sdk is None or session is None:
            return {}
        publications = list(sdk.track_publications.items())
        return {sid: session.objects.publication(pub) for sid, pub in publications}

    def _sdk_publications(self) -> list[tuple[str, Any]]:
        """(SID, the SDK's publication) of each of this participant's publications, without
        making or looking up their objects (the proximity filter's fast path)."""
        sdk = self._sdk()
        if sdk is None or self._session is None:
            return []
        return list(sdk.track_publications.items())
