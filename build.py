#!/usr/bin/env python3
"""Developer entry point for godot-livekit: setup, test, demo, dev server, tokens, packaging.

Standard library only: it runs before anything is installed. Each subcommand is one entry
of SUBCOMMANDS; its code is in python/godot_livekit_dev/build_tools/ (commands.py has one
function per subcommand). To add an option, add an Option(...) to the entry: argparse
keywords, and by default the value is forwarded to the tool the subcommand runs
(`forward=False` keeps it for the handler, as `call.args.<name>`).

    python build.py setup                  # .venv + pip install -e '.[dev]' + livekit-server
    python build.py test -- -k rpc -x      # pytest inside a private network namespace
    python build.py demo [--url U ...]     # scripted demo (local embedded server by default)
    python build.py server --nodes 2       # Redis + two livekit-server nodes, in the foreground
    python build.py export --preset Linux --out DIR   # exported game + py4godot beside it
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "python"))

from godot_livekit_dev.build_tools import commands
from godot_livekit_dev.build_tools.cli import Option, Subcommand, main
from godot_livekit_dev.build_tools.netns import NETNS_EXEC_STEP

SUBCOMMANDS: dict[str, Subcommand] = {
    "setup": Subcommand(commands.setup, "create .venv, install, find/build livekit-server"),
    "test": Subcommand(
        commands.test,
        "pytest in a private network namespace (`--browser`: only the browser tests)",
        passes_all_args=True,
    ),
    "demo": Subcommand(
        commands.demo,
        "run the scripted demo",
        (
            Option("--url", help="existing LiveKit server (default: embedded local one)"),
            Option("--api-key"),
            Option("--api-secret"),
        ),
        extra="passed to the demo",
    ),
    "server": Subcommand(
        commands.server,
        "run a local dev server in the foreground (--nodes 2: a Redis-backed cluster)",
        (
            Option("--port", type=int, default=7880),
            Option("--nodes", type=int, default=1, help="livekit-server nodes sharing a Redis"),
        ),
        extra="passed to the dev server",
    ),
    "token": Subcommand(
        commands.token,
        "print a dev access token",
        (
            Option("--identity", required=True),
            Option("--room", required=True),
            Option("--api-key"),
            Option("--api-secret"),
            Option("--ttl", type=int, help="lifetime in seconds"),
        ),
    ),
    "lint": Subcommand(commands.run_lint, "ruff, gdparse, gdlint, mypy"),
    "package": Subcommand(
        commands.package,
        "zip the addon into dist/",
        (Option("--output", forward=False, help="zip path (default dist/...-<version>.zip)"),),
    ),
    "install": Subcommand(
        commands.install,
        "addon + core into a Godot project with py4godot",
        (
            Option("--project", forward=False, required=True, help="Godot project with py4godot"),
            Option("--wheelhouse", forward=False, help="install offline from these wheels"),
        ),
    ),
    "export": Subcommand(
        commands.run_export,
        "export a preset (Godot step with $GODOT) and lay out py4godot beside it",
        (
            Option("--preset", forward=False, required=True, help="name in export_presets.cfg"),
            Option("--out", forward=False, required=True, help="folder for the exported game"),
            Option("--project", forward=False, help="Godot project (default: this checkout)"),
            Option("--wheelhouse", forward=False, help="install offline from these wheels"),
        ),
    ),
    "bench": Subcommand(
        commands.bench,
        "benchmarks (main-thread costs, audio delay)",
        (
            Option("--minutes", type=float, help="length of the drift run (default 3)"),
            Option("--quick", action="store_true", help="short smoke run"),
            Option("--port", type=int, default=7880, help="local server port (namespace)"),
            Option("--scale", action="store_true", help="only the rooms of 8/16/32 (section 12)"),
        ),
        extra="passed to bench.run",
    ),
    "soak": Subcommand(
        commands.soak,
        "long session with resource figures",
        (
            Option("--minutes", type=float, default=10.0, help="length (default 10)"),
            Option("--interval", type=float, default=60.0, help="seconds between reports"),
            Option("--addon", forward=False, action="store_true", help="through the addon"),
        ),
        extra="passed to the soak tool",
    ),
    NETNS_EXEC_STEP: Subcommand(commands.netns_exec, None, passes_all_args=True),
}

if __name__ == "__main__":
    sys.exit(main(SUBCOMMANDS, __doc__.splitlines()[0]))
