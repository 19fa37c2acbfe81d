"""LiveKitPoller: the autoload that pumps every LiveKit object once per frame.

Register it as an autoload (``*res://addons/godot_livekit/LiveKitPoller.py``; plugin.gd does
it). Each ``_process``, on the main thread:
1. calls the core's ``pump_all()``: every room, video stream and screen capture whose
   ``auto_poll`` is on, every audio stream with an attached playback and every track waiting
   for stats is polled, and the addon objects do their Godot work (signals, texture uploads)
   inside that same call;
2. a few times per second, frees the LiveKit objects the game dropped (bridge/lifecycle.py):
   rooms are disconnected, streams and captures closed, sources stopped;
3. prints the core's queued warnings and errors in Godot's console (bridge/logs.py).
It keeps running while the game is paused.
"""

from __future__ import annotations

from py4godot.classes import gdclass
from py4godot.classes.Node import Node, ProcessMode

from addons.godot_livekit.bridge import lifecycle, logs
from addons.godot_livekit.bridge.objects import guard
from godot_livekit.poller import pump_all

logs.install()


@gdclass
class LiveKitPoller(Node):
    @guard()
    def _ready(self) -> None:
        self.set_process_mode(ProcessMode.PROCESS_MODE_ALWAYS)

    @guard()
    def _process(self, delta: float) -> None:
        try:
            pump_all()
            lifecycle.sweep_due()
        finally:  # what the core logged reaches Godot's console whatever failed above
            logs.drain()
