"""LiveKitLocalParticipant for GDScript: publish data and tracks, set your own state, RPC.

Get it from ``room.get_local_participant()``. Data is a PackedByteArray (up to 15 KiB),
destinations a PackedStringArray of identities, attributes a Dictionary of Strings. Answer an
``rpc_method_invoked`` with ``respond_to_rpc(request_id, payload)`` or
``respond_to_rpc_error(request_id, code, message)``.

Data streams and data tracks (large rooms): ``send_text`` / ``send_bytes`` / ``send_file``
return the stream's id at once, ``stream_text`` / ``stream_bytes`` a writer; progress arrives
as ``stream_progress(stream_id, bytes_sent, total_bytes)``, then ``stream_sent(stream_id)`` or
``stream_failed(stream_id, error)``. Options: ``destination_identities`` (a PackedStringArray;
empty: everyone), ``attributes`` (a Dictionary of Strings), ``name`` and ``mime_type`` (byte
streams), ``total_size`` (``stream_bytes``). ``publish_data_track(name)`` returns a
LiveKitLocalDataTrack.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.core import Dictionary, PackedByteArray, PackedStringArray
from py4godot.classes.ProjectSettings import ProjectSettings
from py4godot.classes.RefCounted import RefCounted
from py4godot.signals import SignalArg, signal

from addons.godot_livekit.bridge.convert import dictionary, packed_to_bytes, strings, text
from addons.godot_livekit.bridge.convert import text as godot_text
from addons.godot_livekit.bridge.members import ParticipantMembers
from addons.godot_livekit.bridge.objects import core_of, game_owned, guard

_RPC_INVOKED = [
    SignalArg("method", str),
    SignalArg("request_id", str),
    SignalArg("caller_identity", str),
    SignalArg("payload", str),
    SignalArg("response_timeout", float),
]
_STREAM_ID = SignalArg("stream_id", str)
_PROGRESS = [_STREAM_ID, SignalArg("bytes_sent", int), SignalArg("total_bytes", int)]


def _os_path(path: Any) -> Any:
    """A Godot path (``res://``, ``user://``) as the OS path it names; other paths as they
    are (ProjectSettings.globalize_path, as py4godot's own loader uses it)."""
    path = text(path)
    if not isinstance(path, str):
        return path  # the core names the wrong type
    return ProjectSettings.instance().globalize_path(path)


@gdclass
class LiveKitLocalParticipant(ParticipantMembers, RefCounted):
    KIND_STANDARD = 0
    KIND_INGRESS = 1
    KIND_EGRESS = 2
    KIND_SIP = 3
    KIND_AGENT = 4

    rpc_method_invoked = signal(_RPC_INVOKED)
    rpc_response_received = signal([SignalArg("method", str), SignalArg("result", str)])
    rpc_error = signal([SignalArg("method", str), SignalArg("error_message", str)])
    # -- large rooms (issue 12): outgoing data streams
    stream_progress = signal(_PROGRESS)
    stream_sent = signal([_STREAM_ID])
    stream_failed = signal([_STREAM_ID, SignalArg("error", str)])
    # -- end large rooms

    # -- data and own state ------------------------------------------------------------------

    @guard()
    def publish_data(
        self,
        data: PackedByteArray,
        reliable: bool = True,
        destination_identities: PackedStringArray | None = None,
        topic: str = "",
    ) -> None:
        self._lk().publish_data(
            packed_to_bytes(data), reliable, strings(destination_identities), text(topic)
        )

    @guard()
    def set_metadata(self, metadata: str) -> None:
        self._lk().set_metadata(text(metadata))

    @guard()
    def set_name(self, name: str) -> None:
        self._lk().set_name(text(name))

    @guard()
    def set_attributes(self, attributes: Dictionary) -> None:
        self._lk().set_attributes(dictionary(attributes, "attributes"))

    # -- tracks ------------------------------------------------------------------------------

    @guard()
    def publish_track(self, track: Any, options: Dictionary | None = None) -> Any:
        """Returns the LiveKitLocalTrackPublication at once (filled in when the server
        confirms, which is when ``local_track_published`` fires)."""
        publication = self._lk().publish_track(
            core_of(track, "track"), dictionary(options, "options")
        )
        return self._lk_godot(publication)

    @guard()
    def unpublish_track(self, track_sid: str) -> None:
        self._lk().unpublish_track(text(track_sid))

    # -- RPC ---------------------------------------------------------------------------------

    @guard()
    def perform_rpc(
        self, destination: str, method: str, payload: str, timeout: float = 10.0
    ) -> None:
        self._lk().perform_rpc(text(destination), text(method), text(payload), timeout)

    @guard()
    def register_rpc_method(self, method: str) -> None:
        self._lk().register_rpc_method(text(method))

    @guard()
    def unregister_rpc_method(self, method: str) -> None:
        self._lk().unregister_rpc_method(text(method))

    @guard(False)
    def respond_to_rpc(self, request_id: str, payload: str) -> bool:
        return self._lk().respond_to_rpc(text(request_id), text(payload))

    @guard(False)
    def respond_to_rpc_error(self, request_id: str, code: int, message: str) -> bool:
        return self._lk().respond_to_rpc_error(text(request_id), code, text(message))

    @guard(PackedStringArray.new0)
    def get_registered_rpc_methods(self) -> PackedStringArray:
        return PackedStringArray.from_list(self._lk().get_registered_rpc_methods())

    # -- large rooms (issue 12): data streams and data tracks --------------------------------

    @guard("")
    def send_text(self, text: str, topic: str = "", options: Dictionary | None = None) -> str:
        """Send ``text`` as a text stream on ``topic``; returns its id at once."""
        options_ = dictionary(options, "options")
        return self._lk().send_text(godot_text(text), godot_text(topic), options_)

    @guard("")
    def send_bytes(
        self, data: PackedByteArray, topic: str = "", options: Dictionary | None = None
    ) -> str:
        """Send a copy of ``data`` as a byte stream on ``topic``; returns its id at once."""
        return self._lk().send_bytes(
            packed_to_bytes(data), text(topic), dictionary(options, "options")
        )

    @guard("")
    def send_file(self, path: str, topic: str = "", options: Dictionary | None = None) -> str:
        """Send a file on disk as a byte stream (named after the file, typed by its
        extension); ``user://`` and ``res://`` paths are turned into OS paths. Returns the
        stream's id at once; the file is read in the background."""
        return self._lk().send_file(_os_path(path), text(topic), dictionary(options, "options"))

    @guard()
    def stream_text(self, topic: str = "", options: Dictionary | None = None) -> Any:
        """A LiveKitTextStreamWriter for a text stream on ``topic``."""
        writer = self._lk().stream_text(text(topic), dictionary(options, "options"))
        return game_owned(writer)

    @guard()
    def stream_bytes(self, topic: str = "", options: Dictionary | None = None) -> Any:
        """A LiveKitByteStreamWriter for a byte stream on ``topic``."""
        writer = self._lk().stream_bytes(text(topic), dictionary(options, "options"))
        return game_owned(writer)

    @guard()
    def publish_data_track(self, name: str) -> Any:
        """Publish a data track; returns the LiveKitLocalDataTrack at once (``published``
        or ``publish_failed(error)`` follows on it)."""
        return game_owned(self._lk().publish_data_track(text(name)))

    # -- end large rooms
