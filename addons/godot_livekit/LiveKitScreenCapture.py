"""LiveKitScreenCapture for GDScript: a monitor or window as an ImageTexture / Image.

py4godot scripts cannot have static methods callable from GDScript, so the reference's static
``get_monitors()``, ``get_windows()``, ``check_permissions()``, ``create()``,
``create_for_monitor(monitor)`` and ``create_for_window(window)`` are instance methods: the
queries work on any LiveKitScreenCapture object, the factories initialise this object and
return it. GDScript uses ``LiveKit.get_monitors()``, ``LiveKit.create_screen_capture()``...

Frames are captured on a background thread; each new one is copied once into this object's
Image (``set_data``) and uploaded to its ImageTexture (``update``) inside the poll that emits
``frame_received`` (the LiveKitPoller's frame when ``auto_poll`` is on). Feed ``get_image()``
to ``LiveKitVideoSource.capture_frame`` to share the screen.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.core import Array, Dictionary
from py4godot.classes.RefCounted import RefCounted
from py4godot.signals import signal

import godot_livekit
from addons.godot_livekit.bridge.convert import dictionary, image_from_frame
from addons.godot_livekit.bridge.declarations import AutoPollDeclaration
from addons.godot_livekit.bridge.members import FramePollMembers
from addons.godot_livekit.bridge.objects import guard

_Core = godot_livekit.LiveKitScreenCapture


@gdclass
class LiveKitScreenCapture(FramePollMembers, AutoPollDeclaration, RefCounted):
    PERMISSION_OK = 0
    PERMISSION_WARNING = 1
    PERMISSION_ERROR = 2
    LK_CREATE_HINT = "create(), create_for_monitor() or create_for_window()"

    frame_received = signal()

    # -- reference static queries and factories ----------------------------------------------

    @guard(Array.new0)
    def get_monitors(self) -> Array:
        """Dictionaries with id, name, x, y, width, height, scale."""
        return self._lk_godot(_Core.get_monitors())

    @guard(Array.new0)
    def get_windows(self) -> Array:
        """Dictionaries with id, name, x, y, width, height."""
        return self._lk_godot(_Core.get_windows())

    @guard(Dictionary.new0)
    def check_permissions(self) -> Dictionary:
        """status (PERMISSION_*), summary, details."""
        return self._lk_godot(_Core.check_permissions())

    @guard()
    def create(self) -> Any:
        """Capture the primary monitor."""
        return self._lk_start(_Core.create())

    @guard()
    def create_for_monitor(self, monitor: Dictionary) -> Any:
        return self._lk_start(_Core.create_for_monitor(dictionary(monitor, "monitor")))

    @guard()
    def create_for_window(self, window: Dictionary) -> Any:
        return self._lk_start(_Core.create_for_window(dictionary(window, "window")))

    # -- lifecycle ---------------------------------------------------------------------------

    @guard()
    def start(self) -> None:
        self._lk().start()

    @guard()
    def stop(self) -> None:
        self._lk().stop()

    @guard()
    def pause(self) -> None:
        self._lk().pause()

    @guard()
    def resume(self) -> None:
        self._lk().resume()

    @guard(False)
    def is_paused(self) -> bool:
        return self._lk().is_paused()

    # -- frames ------------------------------------------------------------------------------

    @guard()
    def screenshot(self) -> Any:
        """One capture now, as a new Image (start() not needed); null when it fails."""
        frame = self._lk().screenshot()
        return image_from_frame(frame) if frame is not None else None

    @guard()
    def set_frame_rate(self, fps: float) -> None:
        self._lk().set_frame_rate(fps)

    @guard(0.0)
    def get_frame_rate(self) -> float:
        return self._lk().get_frame_rate()
