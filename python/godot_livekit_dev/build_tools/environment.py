"""The development environment: .venv, the project's dependencies, the wheelhouse, and the
system programs and libraries some tests need (Xvfb, redis-server, Mesa's EGL)."""

from __future__ import annotations

import ctypes.util
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .common import (
    PYPROJECT,
    REPO_ROOT,
    TOOLS_DIR,
    VENV_DIR,
    VENV_PYTHON,
    BuildError,
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


@dataclass(frozen=True)
class SystemTool:
    """A program (or, with ``present``, a library) from Debian packages that some tests or
    subcommands need. ``package`` may name several packages, separated by spaces."""

    executable: str
    package: str
    needed_for: str
    present: Callable[[], bool] | None = None

    def is_present(self) -> bool:
        if self.present is not None:
            return self.present()
        return shutil.which(self.executable) is not None


def _mesa_egl_present() -> bool:
    """libEGL with Mesa's vendor library and its software driver (llvmpipe)."""
    return (
        ctypes.util.find_library("EGL") is not None
        and ctypes.util.find_library("EGL_mesa") is not None
        and bool(
            glob.glob("/usr/lib/*/dri/swrast_dri.so") + glob.glob("/usr/lib/dri/swrast_dri.so")
        )
    )


XVFB = SystemTool("Xvfb", "xvfb", "the screen-capture tests")
REDIS = SystemTool(
    "redis-server", "redis-server", "multi-node servers (`build.py server --nodes 2`, tests)"
)
CHROMIUM = SystemTool("chromium", "chromium", "the browser tests (`build.py test --browser`)")
MESA_EGL = SystemTool(
    "Mesa's EGL (llvmpipe)",
    "libegl1 libegl-mesa0 libgl1-mesa-dri",
    "the tile-shader tests (GLSL drawn on the CPU)",
    _mesa_egl_present,
)
BROWSER_TESTS = REPO_ROOT / "tests" / "browser"


def _can_apt_install() -> str | None:
    """apt-get's path when this process may install packages with it (root), else None."""
    apt_get = shutil.which("apt-get")
    if apt_get is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    return apt_get


def _missing_message(missing: list[SystemTool], detail: str) -> str:
    packages = " ".join(tool.package for tool in missing)
    needs = "; ".join(f"{tool.executable} is needed for {tool.needed_for}" for tool in missing)
    return f"{needs}. {detail}: install the Debian package(s) `sudo apt-get install {packages}`"


def ensure_system_tools(tools: list[SystemTool], *, required: bool = False) -> None:
    """Install the missing `tools` with apt-get when root on Debian-likes.

    When they cannot be installed, warn (the tests that need them fail with their own
    message) or, with `required`, raise BuildError naming the packages.
    """
    missing = [tool for tool in tools if not tool.is_present()]
    if not missing:
        return
    apt_get = _can_apt_install()
    if apt_get is None:
        message = _missing_message(missing, "Not found and not root (or no apt-get)")
        if required:
            raise BuildError(message)
        warn(message)
        return
    packages = [package for tool in missing for package in tool.package.split()]
    needs = ", ".join(tool.needed_for for tool in missing)
    say(f"installing {' '.join(packages)} (apt-get) for {needs}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run([apt_get, "update", "-qq"], stdout=subprocess.DEVNULL, env=env)
    install = [apt_get, "install", "-y", "-qq", *packages]
    code = subprocess.run(install, stdout=subprocess.DEVNULL, env=env).returncode
    still_missing = [tool for tool in missing if not tool.is_present()]
    if still_missing:
        message = _missing_message(still_missing, f"`apt-get install` failed (exit {code})")
        if required:
            raise BuildError(message)
        warn(message)


def setup() -> None:
    """Everything the other subcommands need; cheap when already done."""
    ensure_venv()
    ensure_project_installed()
    ensure_livekit_server()
    ensure_system_tools([XVFB, REDIS, MESA_EGL])


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


def ensure_browser_client() -> None:
    """Chromium (Debian's package) and tests/browser's npm packages (livekit-client,
    playwright-core; ``npm ci`` from its lock file, again whenever the lock file changes)."""
    ensure_system_tools([CHROMIUM], required=True)
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise BuildError(
            "the browser tests need Node.js and npm: install the Debian package(s)"
            " `sudo apt-get install nodejs npm`"
        )
    lock = BROWSER_TESTS / "package-lock.json"
    stamp = BROWSER_TESTS / "node_modules" / ".godot-livekit-stamp"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if stamp_is_current(stamp, digest):
        return
    say("installing the browser tests' npm packages (npm ci)")
    command = [npm, "ci", "--no-audit", "--no-fund"]
    if subprocess.run(command, cwd=BROWSER_TESTS).returncode != 0:
        raise BuildError(f"`npm ci` failed in {BROWSER_TESTS}")
    stamp.write_text(digest)
