# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/classes/Node.py (generated; enums are
# module-level classes, e.g. ProcessMode). Only what the LiveKitPoller autoload uses.

from __future__ import annotations

from py4godot.classes.Object import Object, register_native


class ProcessMode:
    PROCESS_MODE_INHERIT = 0
    PROCESS_MODE_PAUSABLE = 1
    PROCESS_MODE_WHEN_PAUSED = 2
    PROCESS_MODE_ALWAYS = 3
    PROCESS_MODE_DISABLED = 4


@register_native
class Node(Object):
    @staticmethod
    def get_type() -> str:
        return "Node"

    def set_process_mode(self, mode: int) -> None:
        self._standin_process_mode = int(mode)

    def get_process_mode(self) -> int:
        return getattr(self, "_standin_process_mode", ProcessMode.PROCESS_MODE_INHERIT)
