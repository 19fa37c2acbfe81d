# Test stand-in for py4godot, mirroring niklas2902/py4godot at tag 4.7-alpha21 (py4godot/__init__.py
# is empty there too). Only the engine boundary the godot-livekit addon uses is modelled; see
# tests/addon_env.py for how tests put this package on sys.path.
