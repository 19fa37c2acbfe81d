# Mirrors niklas2902/py4godot@4.7-alpha21: py4godot/pluginscript_api/utils/__init__.py (empty).
