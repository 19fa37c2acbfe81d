# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/utils/CoreType.py (base of every builtin type).


class CoreType:
    """Marker base class of Godot's builtin (Variant) types."""
