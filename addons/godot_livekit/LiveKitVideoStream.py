"""LiveKitVideoStream for GDScript: a remote video track as an ImageTexture.

py4godot scripts cannot have static methods callable from GDScript, so the reference's static
``from_track(track)`` / ``from_participant(participant, source)`` are instance methods that
initialise this object and return it; GDScript uses ``LiveKit.video_stream_from_track(track)``
/ ``LiveKit.video_stream_from_participant(participant, source)``.

Each new frame is copied once into the stream's Image (``set_data``) and uploaded to its one
ImageTexture (``update``) inside the same poll that emits ``frame_received`` -- the
LiveKitPoller's frame when ``auto_poll`` is on. ``get_texture()`` is null before the first
frame and the same ImageTexture afterwards.

Lifetime: ``close()`` stops the native stream and lets go of the Image and ImageTexture; a
stream the game drops is closed and freed by the LiveKitPoller within a second.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted
from py4godot.signals import signal

import godot_livekit
from addons.godot_livekit.bridge.declarations import AutoPollDeclaration
from addons.godot_livekit.bridge.members import FramePollMembers
from addons.godot_livekit.bridge.objects import core_of, guard


@gdclass
class LiveKitVideoStream(FramePollMembers, AutoPollDeclaration, RefCounted):
    LK_CREATE_HINT = "from_track() or from_participant()"

    frame_received = signal()

    @guard()
    def from_track(self, track: Any) -> Any:
        """Reference static ``from_track``: frames of a subscribed remote video track."""
        return self._lk_start(godot_livekit.LiveKitVideoStream.from_track(core_of(track, "track")))

    @guard()
    def from_participant(self, participant: Any, source: int) -> Any:
        """Reference static ``from_participant``: ``participant``'s video from ``source``."""
        core = godot_livekit.LiveKitVideoStream.from_participant(
            core_of(participant, "participant"), source
        )
        return self._lk_start(core)

    @guard(False)
    def is_active(self) -> bool:
        return self._lk().is_active()

    @guard(0)
    def get_frames_received(self) -> int:
        return self._lk().get_frames_received()

    @guard(0)
    def get_frames_dropped(self) -> int:
        return self._lk().get_frames_dropped()
