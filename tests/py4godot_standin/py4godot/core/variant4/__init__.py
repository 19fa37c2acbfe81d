# Mirrors py4godot/core/variant4/__init__.py at 4.7-alpha21 (empty).
