# Mirrors py4godot/utils/__init__.py at 4.7-alpha21 (empty).
