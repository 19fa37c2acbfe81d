"""The development environment: .venv, the project's dependencies, the wheelhouse, Xvfb."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from .common import (
    PYPROJECT,
    REPO_ROOT,
    TOOLS_DIR,
    VENV_DIR,
    VENV_PYTHON,
    run_checked,
    say,
    warn,
)
from .server import ensure_livekit_server

INSTALL_STAMP = VENV_DIR / ".godot-livekit-pyproject.sha256"
WHEELHOUSE_DIR = TOOLS_DIR / "wheelhouse"
WHEELHOUSE_STAMP = WHEELHOUSE_DIR / ".godot-livekit-wheelhouse.sha256"


def ensure_venv() -> None:
    """Create .venv with the current interpreter when it does not exist yet."""
    if VENV_PYTHON.exists():
        return
    say("creating .venv")
    run_checked([sys.executable, "-m", "venv", VENV_DIR])


def pyproject_digest() -> str:
    """SHA-256 of pyproject.toml: changes when dependencies change."""
    return hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()


def stamp_is_current(stamp: Path, digest: str) -> bool:
    """True when `stamp` holds `digest` (the step it guards is up to date)."""
    return stamp.exists() and stamp.read_text().strip() == digest


def ensure_project_installed() -> None:
    """pip install -e '.[dev]' into .venv unless the stamp says it is current."""
    digest = pyproject_digest()
    if stamp_is_current(INSTALL_STAMP, digest):
        return
    say("installing godot-livekit[dev] into .venv (pip install -e)")
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run_checked([*pip, "-e", ".[dev]"])
    INSTALL_STAMP.write_text(digest + "\n")


def ensure_xvfb() -> None:
    """Install Xvfb (the screen-capture tests need it) with apt-get when root on Debian-likes."""
    if shutil.which("Xvfb"):
        return
    apt_get = shutil.which("apt-get")
    if apt_get is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        warn(
            "Xvfb not found, the screen-capture tests will fail; "
            "install the xvfb package (e.g. `sudo apt-get install xvfb`)"
        )
        return
    say("installing xvfb (apt-get) for the screen-capture tests")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    code = 0
    for command in ([apt_get, "update", "-qq"], [apt_get, "install", "-y", "-qq", "xvfb"]):
        code = subprocess.run(command, stdout=subprocess.DEVNULL, env=env).returncode
    if code != 0 or not shutil.which("Xvfb"):
        warn(
            f"`apt-get install xvfb` failed (exit {code}); "
            "the screen-capture tests will fail until Xvfb is installed"
        )


def setup() -> None:
    """Everything the other subcommands need; cheap when already done."""
    ensure_venv()
    ensure_project_installed()
    ensure_livekit_server()
    ensure_xvfb()


def wheelhouse_digest() -> str:
    """Changes when dependencies or the interpreter change."""
    key = pyproject_digest() + sys.version
    return hashlib.sha256(key.encode()).hexdigest()


def ensure_wheelhouse() -> Path:
    """Wheels of the core's dependencies and build requirements in .tools/wheelhouse.

    The packaging tests install into fresh interpreters inside the private network
    namespace, where no index is reachable; they install from these wheels instead.
    """
    digest = wheelhouse_digest()
    if stamp_is_current(WHEELHOUSE_STAMP, digest):
        return WHEELHOUSE_DIR
    with PYPROJECT.open("rb") as handle:
        build_requires = list(tomllib.load(handle)["build-system"]["requires"])
    say("collecting dependency wheels into .tools/wheelhouse (for the packaging tests)")
    WHEELHOUSE_DIR.mkdir(parents=True, exist_ok=True)
    pip = [str(VENV_PYTHON), "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check"]
    run_checked([*pip, "--wheel-dir", str(WHEELHOUSE_DIR), str(REPO_ROOT), *build_requires])
    WHEELHOUSE_STAMP.write_text(digest + "\n")
    return WHEELHOUSE_DIR
