"""The pinned livekit-server: find one, or build it with `go install` into .tools/bin."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .common import TOOLS_DIR, BuildError, is_executable_file, run, say

LIVEKIT_SERVER_VERSION = "1.13.5"
LIVEKIT_SERVER_GO_PACKAGE = (
    f"github.com/livekit/livekit-server/cmd/server@v{LIVEKIT_SERVER_VERSION}"
)
MIN_GO_VERSION = "1.26"
SERVER_BIN_ENV = "LIVEKIT_SERVER_BIN"
CACHED_SERVER_BINARY = TOOLS_DIR / "bin" / "livekit-server"
GO_BIN_DIR = TOOLS_DIR / "gobin"
GO_BUILT_SERVER_BINARY = GO_BIN_DIR / "server"
VERSION_PROBE_TIMEOUT = 30


def find_livekit_server() -> Path | None:
    """An existing livekit-server: $LIVEKIT_SERVER_BIN, PATH, then .tools/bin."""
    from_env = os.environ.get(SERVER_BIN_ENV)
    if from_env and is_executable_file(Path(from_env)):
        return Path(from_env)
    on_path = shutil.which("livekit-server")
    if on_path:
        return Path(on_path)
    if is_executable_file(CACHED_SERVER_BINARY):
        return CACHED_SERVER_BINARY
    return None


def reports_pinned_version(binary: Path) -> bool:
    """True when `binary --version` names the pinned livekit-server version."""
    if not is_executable_file(binary):
        return False
    try:
        result = subprocess.run(
            [str(binary), "--version"],
            capture_output=True,
            text=True,
            timeout=VERSION_PROBE_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and LIVEKIT_SERVER_VERSION in result.stdout.split()


def go_install_livekit_server() -> None:
    """Build the pinned livekit-server with `go install` into .tools/gobin."""
    go = shutil.which("go")
    if go is None:
        raise BuildError(
            "livekit-server was not found (not on PATH, not in .tools/bin).\n"
            f"Install Go >= {MIN_GO_VERSION} (https://go.dev/dl/) so build.py can build "
            f"livekit-server v{LIVEKIT_SERVER_VERSION}, or put a livekit-server binary on PATH."
        )
    say("installing livekit-server (go install, a few minutes)")
    env = dict(os.environ, CGO_ENABLED="0", GOBIN=str(GO_BIN_DIR))
    code = run([go, "install", LIVEKIT_SERVER_GO_PACKAGE], env=env)
    if code != 0 or not GO_BUILT_SERVER_BINARY.exists():
        raise BuildError(
            f"`go install {LIVEKIT_SERVER_GO_PACKAGE}` failed (exit {code}). "
            f"It needs Go >= {MIN_GO_VERSION}; alternatively put livekit-server on PATH."
        )


def install_livekit_server() -> Path:
    """Build (or reuse a finished build of) livekit-server and cache it in .tools/bin."""
    if not reports_pinned_version(GO_BUILT_SERVER_BINARY):
        go_install_livekit_server()
    CACHED_SERVER_BINARY.parent.mkdir(parents=True, exist_ok=True)
    os.replace(GO_BUILT_SERVER_BINARY, CACHED_SERVER_BINARY)
    say(f"livekit-server v{LIVEKIT_SERVER_VERSION} cached at {CACHED_SERVER_BINARY}")
    return CACHED_SERVER_BINARY


def ensure_livekit_server() -> Path:
    """Find or build livekit-server and export it to children as $LIVEKIT_SERVER_BIN."""
    binary = find_livekit_server() or install_livekit_server()
    os.environ[SERVER_BIN_ENV] = str(binary)
    return binary
