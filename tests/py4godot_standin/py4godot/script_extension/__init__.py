# Mirrors py4godot/script_extension/__init__.py at 4.7-alpha21 (empty).
