"""LiveKitVideoSource for GDScript: send Images (RGBA8 or RGB8) to a video track.

py4godot scripts cannot have static methods callable from GDScript, so the reference's static
``create(width, height)`` is an instance method that initialises this object and returns it;
GDScript uses ``LiveKit.create_video_source(width, height)`` (LiveKit.gd attaches this script
to a new RefCounted and calls ``create``).

``capture_frame(image)`` reads the Image's data through a numpy view (Godot's copy-on-write
copies it once in C++ because the Image still holds it); the core copies the pixels into its
send buffer before returning, and a worker thread converts and sends them.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.RefCounted import RefCounted

import godot_livekit
from addons.godot_livekit.bridge.convert import image_pixels
from addons.godot_livekit.bridge.objects import Wrapper, adopt, guard


@gdclass
class LiveKitVideoSource(Wrapper, RefCounted):
    LK_CREATE_HINT = "create(width, height)"

    @guard()
    def create(self, width: int, height: int) -> Any:
        """Reference static ``create``: initialises this source and returns it."""
        adopt(self, godot_livekit.LiveKitVideoSource.create(width, height))
        return self

    @guard()
    def capture_frame(self, image: Any, timestamp_us: int = 0, rotation: int = 0) -> None:
        pixels, data = image_pixels(image)
        self._lk().capture_frame(pixels, timestamp_us, rotation)
        del data  # the view's memory: released only after the core copied the pixels

    @guard(0)
    def get_width(self) -> int:
        return self._lk().get_width()

    @guard(0)
    def get_height(self) -> int:
        return self._lk().get_height()

    @guard(0)
    def get_frames_sent(self) -> int:
        return self._lk().get_frames_sent()

    def _lk_close(self) -> None:
        if self._lk_core is not None:
            self._lk_core.close()

    @guard()
    def close(self) -> None:
        """Stop the send worker (the LiveKitPoller also does it when the game drops the
        source)."""
        self._lk_close()
