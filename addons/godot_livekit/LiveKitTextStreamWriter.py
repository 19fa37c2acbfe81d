"""LiveKitTextStreamWriter for GDScript: a text stream you write into, then close.

Get one from ``room.get_local_participant().stream_text(topic, options)``. ``write(text)``
never blocks: it queues (at most 8 MiB waiting; write more after ``stream_progress``) and the
text goes out in order; ``close()`` ends the stream once everything is sent. Receivers get the
text in chunks that never split a character. A writer the game drops is closed and freed.
"""

from __future__ import annotations

from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted

from addons.godot_livekit.bridge.convert import text as godot_text
from addons.godot_livekit.bridge.members import StreamWriterMembers
from addons.godot_livekit.bridge.objects import guard


@gdclass
class LiveKitTextStreamWriter(StreamWriterMembers, RefCounted):
    @guard()
    def write(self, text: str) -> None:
        """Queue ``text`` for sending; an error when closed, failed, disconnected or when
        too much is still waiting."""
        self._lk().write(godot_text(text))
