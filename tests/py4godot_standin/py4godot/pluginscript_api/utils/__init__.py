# Mirrors py4godot/pluginscript_api/utils/__init__.py at 4.7-alpha21 (empty).
