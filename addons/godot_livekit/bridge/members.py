"""Method sets shared by several addon classes (participants, tracks, publications, frame
sources).

Plain mixins, never scripts: py4godot registers every function of a class, inherited ones
included, while signals must be declared in each class file (see the class files). Each method
delegates to the core object and converts its result; errors become Godot errors.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes.core import Dictionary

from .convert import FrameTexture
from .objects import Wrapper, adopt, guard


class ParticipantMembers(Wrapper):
    """LiveKitParticipant: the getters every participant has."""

    @guard("")
    def get_sid(self) -> str:
        return self._lk().get_sid()

    @guard("")
    def get_name(self) -> str:
        return self._lk().get_name()

    @guard("")
    def get_identity(self) -> str:
        return self._lk().get_identity()

    @guard("")
    def get_metadata(self) -> str:
        return self._lk().get_metadata()

    @guard(Dictionary.new0)
    def get_attributes(self) -> Dictionary:
        return self._lk_godot(self._lk().get_attributes())

    @guard(0)
    def get_kind(self) -> int:
        return self._lk().get_kind()

    @guard(Dictionary.new0)
    def get_track_publications(self) -> Dictionary:
        """Track publications keyed by SID."""
        return self._lk_godot(self._lk().get_track_publications())

    @guard(False)
    def is_stale(self) -> bool:
        """True once the participant left or the room disconnected."""
        return self._lk().is_stale()

    # -- voice: speaking and audio level (not in the original API) --

    @guard(False)
    def is_speaking(self) -> bool:
        """True while the server counts this participant among the active speakers."""
        return self._lk().is_speaking()

    @guard(0.0)
    def get_audio_level(self) -> float:
        """How loud the participant is, 0..1 (RMS of the audio received from it, or sent by
        the LiveKitMicrophone for the local participant); 0 when nothing arrives."""
        return self._lk().get_audio_level()


class TrackIdentityMembers(Wrapper):
    """The getters a track and its publication share."""

    @guard("")
    def get_sid(self) -> str:
        return self._lk().get_sid()

    @guard("")
    def get_name(self) -> str:
        return self._lk().get_name()

    @guard(0)
    def get_kind(self) -> int:
        return self._lk().get_kind()

    @guard(0)
    def get_source(self) -> int:
        return self._lk().get_source()

    @guard(False)
    def get_muted(self) -> bool:
        return self._lk().get_muted()

    @guard(False)
    def is_stale(self) -> bool:
        return self._lk().is_stale()


class TrackMembers(TrackIdentityMembers):
    """LiveKitTrack: the getters and stats every track has."""

    @guard(0)
    def get_stream_state(self) -> int:
        return self._lk().get_stream_state()

    @guard()
    def request_stats(self) -> None:
        """Ask for WebRTC statistics; they arrive as ``stats_received(stats)``."""
        self._lk().request_stats()


class LocalTrackMembers(TrackMembers):
    """LiveKitLocalAudioTrack / LiveKitLocalVideoTrack: mute and unmute."""

    @guard()
    def mute(self) -> None:
        self._lk().mute()

    @guard()
    def unmute(self) -> None:
        self._lk().unmute()


class PublicationMembers(TrackIdentityMembers):
    """LiveKitTrackPublication: the getters every publication has."""

    @guard("")
    def get_mime_type(self) -> str:
        return self._lk().get_mime_type()

    @guard(False)
    def get_simulcasted(self) -> bool:
        return self._lk().get_simulcasted()

    @guard()
    def get_track(self) -> Any:
        """The track object, or null before subscription (remote) or once stale."""
        return self._lk_godot(self._lk().get_track())


class FramePollMembers(Wrapper):
    """Video stream and screen capture: the newest frame as one Image/ImageTexture (updated
    in the poll that emits ``frame_received``), poll/close, and ``auto_poll`` (declared for
    py4godot in declarations.AutoPollDeclaration; the property is here)."""

    def __init__(self) -> None:
        super().__init__()
        self._lk_frames = FrameTexture()
        self._lk_auto_poll = True

    def _lk_start(self, core: Any) -> Any:
        if self._lk_core is not None:
            self._lk_core.close()
            self._lk_frames.clear()
        core.set_auto_poll(self._lk_auto_poll)
        adopt(self, core)
        return self

    def _lk_on_core_signal(self, name: str, *args: Any) -> None:
        if name == "frame_received":
            frame = self._lk_core.get_texture()
            if frame is not None:
                self._lk_frames.show(frame)
        self._lk_emit(name, *args)

    def _lk_close(self) -> None:
        if self._lk_core is not None:
            self._lk_core.close()
        self._lk_frames.clear()

    @guard(False)
    def poll(self) -> bool:
        return self._lk().poll()

    @guard()
    def close(self) -> None:
        """Stop receiving and let go of the frame's Image and ImageTexture."""
        self._lk_close()

    @guard()
    def get_texture(self) -> Any:
        return self._lk_frames.texture

    @guard()
    def get_image(self) -> Any:
        """The latest frame as an Image (RGBA8), or null before the first frame."""
        return self._lk_frames.image

    @guard()
    def set_auto_poll(self, enabled: bool) -> None:
        self._lk_auto_poll = bool(enabled)
        if self._lk_core is not None:
            self._lk_core.set_auto_poll(self._lk_auto_poll)

    @guard(False)
    def get_auto_poll(self) -> bool:
        return self._lk_auto_poll

    @property
    def auto_poll(self) -> bool:
        return self.get_auto_poll()

    @auto_poll.setter
    def auto_poll(self, enabled: bool) -> None:
        self.set_auto_poll(enabled)


# -- large rooms (issue 12): stream writers ----------------------------------------------------


class StreamWriterMembers(Wrapper):
    """LiveKitTextStreamWriter / LiveKitByteStreamWriter: everything but ``write``. Made by
    ``stream_text`` / ``stream_bytes`` on the local participant (objects.game_owned); a writer
    the game drops is closed (its stream ends with what was written) and freed."""

    LK_CREATE_HINT = "LiveKitLocalParticipant.stream_text() or stream_bytes()"

    def _lk_close(self) -> None:
        if self._lk_core is not None:
            self._lk_core.close()

    @guard()
    def close(self) -> None:
        """End the stream once everything written is sent (idempotent); the local
        participant's ``stream_sent(stream_id)`` follows."""
        self._lk_close()

    @guard("")
    def get_stream_id(self) -> str:
        """The stream's id, as receivers see it in the stream's info."""
        return self._lk().get_stream_id()

    @guard(False)
    def is_open(self) -> bool:
        """True until ``close()``, a failure, or the end of the session."""
        return self._lk().is_open()

    @guard("")
    def get_error(self) -> str:
        """Why the stream failed ("" when it did not)."""
        return self._lk().get_error()

    @guard(0)
    def get_pending_bytes(self) -> int:
        """Bytes written and not yet taken by the SDK (write more after ``stream_progress``)."""
        return self._lk().get_pending_bytes()

    @guard(0)
    def get_written_bytes(self) -> int:
        return self._lk().get_written_bytes()


# -- end large rooms
