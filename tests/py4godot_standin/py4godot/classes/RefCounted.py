# Mirrors py4godot/classes/RefCounted.py at 4.7-alpha21 (generated) and its C++ destructor path:
# - generate_py_classes.py `generate_del` for RefCounted and every RefCounted subclass:
#     def __del__(self):
#         if self.casted_from is None: self._ptr.call_with_return(<py_destroy>, ()) ...
# - generate_classes_cpp.py `generate_destructor` RefCounted::py_destroy_ref: when the engine
#   reference count is 1 the object is destroyed (object_destroy) -- whoever else holds it --
#   and when it is above 1 it is unreferenced once.
# So a wrapper with casted_from None behaves as if it owned one count. Wrappers made by new()
# (count 1, initial reference pending: Godot's init_ref has not run), by a static factory that
# returns a Ref (the returned Ref's count), or by a Variant read (cast_helpers.cast_to_type: owns
# nothing, yet destroys a count-1 object) all have casted_from None. Arguments of script methods
# get casted_from = 1 (PyScriptInstance.instance_call `unrefcount`) and never release anything.
# The engine methods init_ref/reference/unreference/get_reference_count are Godot's
# (core/object/ref_counted.cpp, see _engine.py).

from __future__ import annotations

from py4godot import _engine
from py4godot.classes.Object import Object, register_native
from py4godot.utils.functools import native_method


@register_native
class RefCounted(Object):
    _standin_ref_counted = True

    @staticmethod
    def get_type() -> str:
        return "RefCounted"

    @native_method
    def init_ref(self) -> bool:
        return self._engine("init_ref").init_ref()

    @native_method
    def reference(self) -> bool:
        return self._engine("reference").reference()

    @native_method
    def unreference(self) -> bool:
        return self._engine("unreference").unreference()

    @native_method
    def get_reference_count(self) -> int:
        return self._engine("get_reference_count").refcount

    def __del__(self) -> None:
        if getattr(self, "casted_from", 0) is not None:
            return
        wrapper = getattr(self, "_ptr", None)
        engine = getattr(wrapper, "godot_owner", None)
        if not isinstance(engine, _engine.EngineObject):
            return
        self._ptr = None
        if not engine.alive:
            _engine.crash(
                f"{type(self).__name__}.__del__: py_destroy_ref on a freed {engine.class_name}"
            )
            return
        if engine.refcount == 1:
            engine.memdelete()
        elif engine.refcount > 1:
            engine.unreference()
