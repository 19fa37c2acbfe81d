"""LiveKitByteStreamWriter for GDScript: a byte stream you write into, then close.

Get one from ``room.get_local_participant().stream_bytes(topic, options)`` (options as
``send_bytes``, plus ``total_size`` when known). ``write(data)`` copies the PackedByteArray
once and never blocks (at most 8 MiB waiting; write more after ``stream_progress``);
``close()`` ends the stream once everything is sent. A writer the game drops is closed and
freed.
"""

from __future__ import annotations

from py4godot.classes import gdclass
from py4godot.classes.core import PackedByteArray
from py4godot.classes.RefCounted import RefCounted

from addons.godot_livekit.bridge.convert import packed_to_bytes
from addons.godot_livekit.bridge.members import StreamWriterMembers
from addons.godot_livekit.bridge.objects import guard


@gdclass
class LiveKitByteStreamWriter(StreamWriterMembers, RefCounted):
    @guard()
    def write(self, data: PackedByteArray) -> None:
        """Queue a copy of ``data`` for sending; an error when closed, failed, disconnected,
        past ``total_size`` or when too much is still waiting."""
        self._lk().write(packed_to_bytes(data))
