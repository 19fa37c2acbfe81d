"""Benchmarks of godot-livekit's main-thread costs and audio delay (`python build.py bench`)."""
