# Mirrors py4godot/classes/Node.py at 4.7-alpha21 (generated; enums are module-level classes such
# as ProcessMode; a Node is not reference counted, its __del__ does nothing: generate_del).
# Engine behaviour: only what the addon's LiveKitPoller autoload uses (process mode).

from __future__ import annotations

from py4godot.classes.Object import Object, register_native
from py4godot.utils.functools import native_method


class ProcessMode:
    PROCESS_MODE_INHERIT = 0
    PROCESS_MODE_PAUSABLE = 1
    PROCESS_MODE_WHEN_PAUSED = 2
    PROCESS_MODE_ALWAYS = 3
    PROCESS_MODE_DISABLED = 4


@register_native
class Node(Object):
    _standin_engine_signals = ("ready", "tree_entered", "tree_exiting", "tree_exited")

    @staticmethod
    def get_type() -> str:
        return "Node"

    @classmethod
    def _standin_engine_init(cls, engine: object) -> None:
        engine.process_mode = ProcessMode.PROCESS_MODE_INHERIT  # type: ignore[attr-defined]

    def init_signals(self) -> None:
        super().init_signals()
        from py4godot.signals import BuiltinSignal

        for name in self._standin_engine_signals:
            setattr(self, name, BuiltinSignal(self, name))

    @native_method
    def set_process_mode(self, mode: int) -> None:
        assert isinstance(mode, int | float), "mode must be int or float"
        self._engine("set_process_mode").process_mode = int(mode)

    @native_method
    def get_process_mode(self) -> int:
        return self._engine("get_process_mode").process_mode
