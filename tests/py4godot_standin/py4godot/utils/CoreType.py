# Mirrors py4godot/utils/CoreType.py at 4.7-alpha21: the marker base class of every builtin
# (Variant) type wrapper; PyScriptInstance.instance_call treats CoreType arguments specially.


class CoreType:
    """Marker base class of Godot's builtin (Variant) types."""
