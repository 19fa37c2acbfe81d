# Mirrors py4godot/classes/Node3D.py at 4.7-alpha21 (generated). Engine behaviour (Godot
# scene/3d/node_3d.cpp): a local position; no parent transforms are modelled, so the global
# position is the local one.

from __future__ import annotations

from py4godot.classes.core import Vector3
from py4godot.classes.Node import Node
from py4godot.classes.Object import register_native
from py4godot.utils.functools import native_method


@register_native
class Node3D(Node):
    @staticmethod
    def get_type() -> str:
        return "Node3D"

    @classmethod
    def _standin_engine_init(cls, engine: object) -> None:
        super()._standin_engine_init(engine)
        engine.position = Vector3()  # type: ignore[attr-defined]

    @native_method
    def set_position(self, position: Vector3) -> None:
        assert isinstance(position, Vector3), "position must be Vector3"
        self._engine("set_position").position = Vector3(position.x, position.y, position.z)

    @native_method
    def get_position(self) -> Vector3:
        p = self._engine("get_position").position
        return Vector3(p.x, p.y, p.z)

    set_global_position = set_position
    get_global_position = get_position
