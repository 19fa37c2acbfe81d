"""The modules behind ``build.py`` (standard library only: they run before any install).

- ``common``: repository paths, ``BuildError``, running commands.
- ``environment``: ``.venv``, the project's dependencies, the wheelhouse, Xvfb.
- ``server``: find or build the pinned livekit-server.
- ``netns``: the private network namespace tests, demo, bench and soak run in.
- ``packaging``: the addon zip and ``install`` into a py4godot project.
- ``export``: lay out what py4godot needs beside an exported game.
- ``lint``: ruff, gdlint/gdparse, mypy.
- ``commands``: one function per ``build.py`` subcommand.
- ``cli``: the option and subcommand declarations ``build.py`` is made of.
"""
