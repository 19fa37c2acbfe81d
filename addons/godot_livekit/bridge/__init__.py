"""Shared code of the addon's Godot classes: conversions, one Godot object per core object,
error reporting.

This directory holds a ``.gdignore`` so Godot never loads these files as scripts: py4godot
re-executes a script module every time Godot loads it (``annotations.exec_class`` deletes the
``sys.modules`` entry first), which would split the shared state below into copies. The class
files import it as ``addons.godot_livekit.bridge`` (py4godot puts the project root on
``sys.path``).
"""
