"""Developer tools of godot-livekit, not shipped in the runtime wheel.

The headless demo, the soak run, media feeders and test patterns (used by the demo, the
tests and the benchmarks), and the modules behind ``build.py``.
"""
