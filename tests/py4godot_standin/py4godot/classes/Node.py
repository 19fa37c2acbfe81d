# Mirrors py4godot/classes/Node.py at 4.7-alpha21 (generated; enums are module-level classes such
# as ProcessMode; a Node is not reference counted, its __del__ does nothing: generate_del).
# Engine behaviour: what the addon's LiveKitPoller autoload uses (process mode), and the scene
# tree as a script sees it (Godot scene/main/node.cpp, read at godotengine/godot master):
# - entering the tree (_propagate_enter_tree) calls the script's _enter_tree through
#   GDVIRTUAL_CALL (Object::callp on the script instance first; py4godot answers only for
#   methods the script defines, PyScriptInstance.is_overridden), then _ready the first time
#   (_propagate_ready);
# - leaving it (_propagate_exit_tree) calls _exit_tree while is_inside_tree() is still true,
#   then NOTIFICATION_EXIT_TREE reaches the node's own class, then the node is out of the tree;
# - free() of a node in the tree removes it from its parent first (so _exit_tree runs), then
#   NOTIFICATION_PREDELETE, then the object is deleted. py4godot's script instance has no
#   notification callback (script_instance/instance.h leaves notification_func unset), so a
#   script never hears of the deletion itself.
# `standin_enter_tree()`, `standin_exit_tree()` and `standin_free()` play the scene tree's part.

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
        engine.inside_tree = False  # type: ignore[attr-defined]
        engine.ready_done = False  # type: ignore[attr-defined]

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

    @native_method
    def is_inside_tree(self) -> bool:
        return bool(self._engine("is_inside_tree").inside_tree)

    def standin_enter_tree(self) -> None:
        """Stand-in only: the node is added under a node of the running scene tree."""
        engine = self._engine("standin_enter_tree")
        assert not engine.inside_tree, "already inside the tree"
        engine.inside_tree = True
        self._standin_tree_notification(entered=True)
        _call_virtual(engine, "_enter_tree")
        if engine.alive and not engine.ready_done:
            engine.ready_done = True
            _call_virtual(engine, "_ready")

    def standin_exit_tree(self) -> None:
        """Stand-in only: the node is removed from the tree (remove_child, queue_free)."""
        engine = self._engine("standin_exit_tree")
        assert engine.inside_tree, "not inside the tree"
        _call_virtual(engine, "_exit_tree")
        self._standin_tree_notification(entered=False)
        engine.inside_tree = False

    def standin_free(self) -> None:
        """Stand-in only: free() / the end of queue_free(): out of the tree, then deleted."""
        engine = self._engine("standin_free")
        if engine.inside_tree:
            self.standin_exit_tree()
        self._standin_predelete()
        engine.memdelete()

    def _standin_tree_notification(self, entered: bool) -> None:
        """NOTIFICATION_ENTER_TREE / NOTIFICATION_EXIT_TREE for the node's own class."""

    def _standin_predelete(self) -> None:
        """NOTIFICATION_PREDELETE for the node's own class."""


def _call_virtual(engine: object, name: str) -> None:
    """GDVIRTUAL_CALL: the script's method when it defines one, else nothing."""
    from py4godot.script_instance import PyScriptInstance

    instance = getattr(engine, "instance", None)
    if instance is not None and PyScriptInstance.is_overridden(instance, name):
        PyScriptInstance.c_instance_call(instance, name, [])
