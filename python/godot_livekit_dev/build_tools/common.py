"""Repository paths, the build error type, and running commands."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

REPO_ROOT = Path(__file__).resolve().parents[3]
BUILD_SCRIPT = REPO_ROOT / "build.py"
PYPROJECT = REPO_ROOT / "pyproject.toml"
TOOLS_DIR = REPO_ROOT / ".tools"

VENV_DIR = REPO_ROOT / ".venv"
VENV_BIN = VENV_DIR / "bin"
VENV_PYTHON = VENV_BIN / "python"

Command = Sequence[str | os.PathLike[str]]


class BuildError(Exception):
    """A build step failed; the message says what to do about it."""


def say(message: str) -> None:
    """Print one progress line."""
    print(f"[build] {message}", flush=True)


def warn(message: str) -> None:
    """Print one warning line to stderr."""
    print(f"[build] warning: {message}", file=sys.stderr, flush=True)


def format_command(command: Command) -> str:
    """Render a command for messages (shell-like quoting)."""
    return shlex.join(str(part) for part in command)


def run(command: Command, *, env: dict[str, str] | None = None) -> int:
    """Run a command in the repo root with inherited stdio; return its exit code."""
    return subprocess.run([str(part) for part in command], cwd=REPO_ROOT, env=env).returncode


def run_checked(command: Command, *, env: dict[str, str] | None = None) -> None:
    """Run a command; raise BuildError when it fails."""
    code = run(command, env=env)
    if code != 0:
        raise BuildError(f"command failed (exit {code}): {format_command(command)}")


def exec_command(command: Command, env: dict[str, str] | None = None) -> NoReturn:
    """Replace this process with `command` (its exit code becomes ours)."""
    args = [str(part) for part in command]
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(REPO_ROOT)
    try:
        os.execvpe(args[0], args, env if env is not None else os.environ)
    except OSError as error:
        raise BuildError(f"cannot run {format_command(args)}: {error}") from error


def is_executable_file(path: Path) -> bool:
    """True when `path` is an executable regular file."""
    return path.is_file() and os.access(path, os.X_OK)


def venv_module_command(module: str, args: Sequence[str]) -> list[str]:
    """`.venv/bin/python -m module args...`."""
    return [str(VENV_PYTHON), "-m", module, *args]


def project_version() -> str:
    """`[project] version` of pyproject.toml."""
    with PYPROJECT.open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])
