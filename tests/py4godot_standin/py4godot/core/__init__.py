# Mirrors py4godot/core/__init__.py at 4.7-alpha21 (empty).
