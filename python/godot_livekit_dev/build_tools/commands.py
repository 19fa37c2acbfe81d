"""One function per build.py subcommand (build.py declares their options)."""

from __future__ import annotations

import os
from pathlib import Path

from . import environment, export, lint, netns, packaging
from .cli import Invocation
from .common import REPO_ROOT, VENV_PYTHON, exec_command, say, venv_module_command
from .server import SERVER_BIN_ENV


def setup(_call: Invocation) -> int:
    """`setup`: create .venv, install the project, find or build livekit-server, Xvfb."""
    environment.setup()
    say(f"ready: {VENV_PYTHON}, livekit-server {os.environ[SERVER_BIN_ENV]}")
    return 0


BROWSER_FLAG = "--browser"


def test(call: Invocation) -> int:
    """`test`: pytest inside a private network namespace (arguments go to pytest).

    `test --browser [pytest args]`: only tests/browser (the official LiveKit JavaScript
    client in headless Chromium), after installing Chromium and its npm packages.
    """
    environment.setup()
    arguments = list(call.forwarded)
    if arguments[:1] == [BROWSER_FLAG]:
        environment.ensure_browser_client()
        arguments = [str(environment.BROWSER_TESTS), *arguments[1:]]
    else:
        environment.ensure_wheelhouse()
    netns.exec_in_netns(venv_module_command("pytest", arguments))


def demo(call: Invocation) -> int:
    """`demo`: the scripted demo; a local embedded server in a namespace unless --url."""
    environment.setup()
    command = venv_module_command("godot_livekit_dev.demo", call.forwarded)
    if call.args.url is None:
        netns.exec_in_netns(command)
    exec_command(command)


def server(call: Invocation) -> int:
    """`server`: a dev server in the foreground on this machine (host network, by design);
    with `--nodes` above 1, Redis and that many nodes sharing it (redis-server required)."""
    environment.setup()
    if call.args.nodes > 1:
        environment.ensure_system_tools([environment.REDIS], required=True)
    exec_command(venv_module_command("godot_livekit.tools.devserver", call.forwarded))


def token(call: Invocation) -> int:
    """`token`: print a dev access token."""
    environment.setup()
    exec_command(venv_module_command("godot_livekit.tools.tokens", call.forwarded))


def bench(call: Invocation) -> int:
    """`bench`: the benchmarks against a local server inside a private network namespace."""
    environment.setup()
    netns.exec_in_netns(venv_module_command("bench.run", call.forwarded))


def soak(call: Invocation) -> int:
    """`soak`: a long audio/video/data/RPC session with an embedded server, in a namespace
    (``--addon``: through the addon's Godot classes on the py4godot stand-in)."""
    environment.setup()
    module = "godot_livekit_dev.addon_soak" if call.args.addon else "godot_livekit_dev.soak"
    netns.exec_in_netns(venv_module_command(module, call.forwarded))


def run_lint(_call: Invocation) -> int:
    """`lint`: ruff, ruff format --check, gdparse, gdlint, mypy."""
    environment.setup()
    return lint.lint()


def package(call: Invocation) -> int:
    """`package`: dist/godot-livekit-addon-<version>.zip, ready to unzip into a project."""
    output = Path(call.args.output) if call.args.output else packaging.default_package_path()
    path = packaging.write_package(output.resolve())
    say(f"wrote {path} ({path.stat().st_size // 1024} KiB); unzip it in a Godot project's root")
    return 0


def install(call: Invocation) -> int:
    """`install --project PATH`: the addon into PATH/addons, the core into py4godot's Python."""
    project = packaging.checked_project(call.args.project)
    packaging.install_into_project(project, packaging.checked_wheelhouse(call.args.wheelhouse))
    return 0


def run_export(call: Invocation) -> int:
    """`export --preset NAME --out DIR`: Godot's export (with $GODOT), then py4godot beside it."""
    project = packaging.checked_project(call.args.project or REPO_ROOT)
    export.export(
        project,
        call.args.preset,
        Path(call.args.out).expanduser().resolve(),
        packaging.checked_wheelhouse(call.args.wheelhouse),
        os.environ.get(export.GODOT_ENV) or None,
    )
    return 0


def netns_exec(call: Invocation) -> int:
    """Hidden `_netns-exec`: configure the fresh namespace, then exec the command."""
    netns.configure_and_exec(call.forwarded)
