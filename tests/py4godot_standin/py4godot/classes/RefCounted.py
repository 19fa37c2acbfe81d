# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/classes/RefCounted.py (generated; Godot's
# RefCounted, base of every addon class except the poller). Reference counting is not modelled.

from __future__ import annotations

from py4godot.classes.Object import Object, register_native


@register_native
class RefCounted(Object):
    @staticmethod
    def get_type() -> str:
        return "RefCounted"
