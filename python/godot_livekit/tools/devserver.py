"""A local livekit-server for tests, demos and game development.

``LocalServer`` starts the livekit-server binary with an explicit, offline configuration
(explicit node IP, no external-IP discovery, STUN pointed at a local address) and waits
until its HTTP endpoint answers.

    python -m godot_livekit.tools.devserver [--port 7880]     # or: godot-livekit-dev-server

runs one in the foreground and prints the URL and a ready-to-paste dev token. It works from
an installed package (py4godot's interpreter, any venv) with no checkout around; the binary
is found by `find_server_binary`: $LIVEKIT_SERVER_BIN, PATH, the per-user folder
(`user_server_dir`), then a godot-livekit checkout's .tools/bin.
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

from .tokens import DEV_API_KEY, DEV_API_SECRET, mint_token

logger = logging.getLogger(__name__)

SERVER_BIN_ENV = "LIVEKIT_SERVER_BIN"
SERVER_BINARY_NAME = "livekit-server"
REPO_CACHED_BINARY = Path(".tools") / "bin" / SERVER_BINARY_NAME
USER_DATA_DIR_NAME = "godot-livekit"
READY_POLL_INTERVAL = 0.05
READY_REQUEST_TIMEOUT = 0.5
FORCE_STOP_AFTER = 0.5
STUN_PORT = 3478
DEV_IDENTITY = "godot-player"
DEV_ROOM = "dev-room"
_NODE_ID_PATTERN = re.compile(r'starting LiveKit server.*"nodeID": "([A-Za-z0-9_]+)"')
_JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")

# Servers still running at interpreter exit are killed, so none outlives its owner.
_RUNNING: weakref.WeakSet[LocalServer] = weakref.WeakSet()


def _is_executable_file(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def user_server_dir() -> Path:
    """The per-user folder searched for livekit-server.

    ``$XDG_DATA_HOME/godot-livekit/bin`` (default ``~/.local/share/godot-livekit/bin``) on
    Linux, ``~/Library/Application Support/godot-livekit/bin`` on macOS and
    ``%LOCALAPPDATA%\\godot-livekit\\bin`` on Windows.
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / USER_DATA_DIR_NAME / "bin"


def _binary_in(folder: Path) -> Path | None:
    """livekit-server (livekit-server.exe on Windows) in `folder`, if executable."""
    for name in (SERVER_BINARY_NAME, SERVER_BINARY_NAME + ".exe"):
        if _is_executable_file(folder / name):
            return folder / name
    return None


def _repo_roots() -> list[Path]:
    """Checkouts of this project above this file and above the working directory."""
    roots: list[Path] = []
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for directory in (start, *start.parents):
            if (directory / "pyproject.toml").is_file() and (directory / "build.py").is_file():
                if directory not in roots:
                    roots.append(directory)
                break
    return roots


def server_search_places() -> list[str]:
    """Where find_server_binary looks, in order (for messages)."""
    return [
        f"${SERVER_BIN_ENV}",
        f"{SERVER_BINARY_NAME} on PATH",
        str(user_server_dir()),
        f"<godot-livekit checkout>/{REPO_CACHED_BINARY.parent.as_posix()}",
    ]


def find_server_binary() -> Path | None:
    """livekit-server from $LIVEKIT_SERVER_BIN, PATH, the per-user folder, or a checkout's
    .tools/bin; None if absent."""
    from_env = os.environ.get(SERVER_BIN_ENV)
    if from_env:
        if _is_executable_file(Path(from_env)):
            return Path(from_env)
        logger.warning("%s=%s is not an executable file; ignoring it", SERVER_BIN_ENV, from_env)
    on_path = shutil.which(SERVER_BINARY_NAME)
    if on_path:
        return Path(on_path)
    for folder in (
        user_server_dir(),
        *(root / REPO_CACHED_BINARY.parent for root in _repo_roots()),
    ):
        found = _binary_in(folder)
        if found is not None:
            return found
    return None


def _wait_for_exit(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait up to `timeout` seconds; True when the process has exited."""
    try:
        process.wait(timeout=max(timeout, 0.0))
    except subprocess.TimeoutExpired:
        return False
    return True


def _tail(path: Path, lines: int, containing: str | None = None) -> str:
    """The last `lines` lines of a text file, only those with `containing` when given
    ('' when it does not exist)."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            if containing is None:
                return "".join(deque(handle, maxlen=lines))
            return "".join(deque((line for line in handle if containing in line), maxlen=lines))
    except FileNotFoundError:
        return ""


def _http_get_status(url: str, timeout: float) -> int | None:
    """HTTP status of GET `url`, ignoring any proxy settings; None when unreachable."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, ValueError):
        return None


class LocalServer:
    """A livekit-server child process with an offline config; usable as a context manager."""

    def __init__(
        self,
        *,
        binary: Path | str | None = None,
        bind_ip: str = "127.0.0.1",
        node_ip: str | None = None,
        port: int = 7880,
        udp_port: int = 7882,
        api_key: str = DEV_API_KEY,
        api_secret: str = DEV_API_SECRET,
        log_path: Path | str | None = None,
        log_level: str = "debug",
        redis_address: str | None = None,
    ) -> None:
        self.binary = Path(binary) if binary is not None else None
        self.bind_ip = bind_ip
        self.node_ip = node_ip
        self.port = port
        self.udp_port = udp_port
        self._api_key = api_key
        self._api_secret = api_secret
        self.log_level = log_level
        self.redis_address = redis_address
        self.log_path = Path(log_path) if log_path is not None else self._temp_log_path()
        self.startup_seconds: float | None = None
        self._node_id: str | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def _temp_log_path() -> Path:
        fd, name = tempfile.mkstemp(prefix="livekit-server-", suffix=".log")
        os.close(fd)
        return Path(name)

    # ------------------------------------------------------------------ properties

    @property
    def url(self) -> str:
        """WebSocket URL for clients, e.g. ws://127.0.0.1:7880."""
        return f"ws://{self.bind_ip}:{self.port}"

    @property
    def http_url(self) -> str:
        """HTTP URL for the server API (LiveKitAPI)."""
        return f"http://{self.bind_ip}:{self.port}"

    @property
    def api_key(self) -> str:
        """API key the server accepts."""
        return self._api_key

    @property
    def api_secret(self) -> str:
        """API secret the server accepts (do not log it)."""
        return self._api_secret

    @property
    def advertised_ip(self) -> str:
        """Address the server puts in its ICE candidates."""
        return self.node_ip or self.bind_ip

    @property
    def bind_addresses(self) -> list[str]:
        """Every address the HTTP/WebSocket listener binds."""
        addresses = [self.bind_ip]
        if self.node_ip and self.node_ip not in addresses:
            addresses.append(self.node_ip)
        return addresses

    @property
    def node_id(self) -> str | None:
        """livekit's ID of this node as last started (from its startup log line), or None."""
        return self._node_id

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def is_running(self) -> bool:
        """True while the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def wait(self) -> int | None:
        """Block until the server process exits; its exit code (None if never started)."""
        return self._process.wait() if self._process is not None else None

    # ---------------------------------------------------------------------- config

    def config(self) -> dict[str, Any]:
        """The server configuration (keys as in livekit-server's pkg/config).

        With `redis_address` the node joins the cluster that shares that Redis: rooms are
        placed on one node each and the other nodes relay their participants' signalling.
        """
        config: dict[str, Any] = {
            "port": self.port,
            "keys": {self._api_key: self._api_secret},
            "rtc": {
                "tcp_port": 0,
                "udp_port": self.udp_port,
                "node_ip": self.advertised_ip,
                "use_external_ip": False,
                "enable_loopback_candidate": True,
                "stun_servers": [f"{self.node_ip or '127.0.0.1'}:{STUN_PORT}"],
            },
            "room": {"enable_remote_unmute": True},
            "logging": {"level": self.log_level},
        }
        if self.redis_address is not None:
            config["redis"] = {"address": self.redis_address}
        return config

    def config_body(self) -> str:
        """Config as YAML text (JSON is valid YAML; the server parses it strictly)."""
        return json.dumps(self.config())

    def command(self) -> list[str]:
        """The command line that starts the server."""
        if self.binary is None:
            raise RuntimeError("no livekit-server binary")
        command = [str(self.binary), "--config-body", self.config_body()]
        for address in self.bind_addresses:
            command += ["--bind", address]
        return command

    # ------------------------------------------------------------------- lifecycle

    def start(self, timeout: float = 20.0) -> None:
        """Launch the server and wait until HTTP answers; raise RuntimeError otherwise."""
        if self.is_running():
            return
        if self.binary is None:
            self.binary = find_server_binary()
        if self.binary is None:
            raise RuntimeError(
                "livekit-server not found (looked at: "
                + ", ".join(server_search_places())
                + "). Put a livekit-server binary in one of them; a godot-livekit checkout "
                "builds one with `python build.py setup`."
            )
        if _http_get_status(self.http_url + "/", READY_REQUEST_TIMEOUT) is not None:
            raise RuntimeError(f"something already answers on {self.http_url}; port in use")
        started = time.monotonic()
        self._launch()
        self._wait_until_ready(started + timeout)
        self.startup_seconds = time.monotonic() - started
        found = _NODE_ID_PATTERN.findall(_tail(self.log_path, 200))
        self._node_id = found[-1] if found else None
        logger.info(
            "livekit-server ready at %s (node ip %s) in %.2fs; log %s",
            self.url,
            self.advertised_ip,
            self.startup_seconds,
            self.log_path,
        )

    def _launch(self) -> None:
        logger.debug(
            "starting %s (binds %s, udp %s, log %s)",
            self.binary,
            self.bind_addresses,
            self.udp_port,
            self.log_path,
        )
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _RUNNING.add(self)

    def _wait_until_ready(self, deadline: float) -> None:
        assert self._process is not None
        while True:
            exit_code = self._process.poll()
            if exit_code is not None:
                raise RuntimeError(
                    f"livekit-server exited with code {exit_code} during startup; "
                    f"log {self.log_path}:\n{self.log_text(60)}"
                )
            if _http_get_status(self.http_url + "/", READY_REQUEST_TIMEOUT) == 200:
                return
            if time.monotonic() >= deadline:
                self.kill()
                raise RuntimeError(
                    f"livekit-server did not answer on {self.http_url} in time; "
                    f"log {self.log_path}:\n{self.log_text(60)}"
                )
            time.sleep(READY_POLL_INTERVAL)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, a second (forcing) SIGTERM, then SIGKILL by `timeout`; never hangs.

        livekit-server ignores a SIGTERM that arrives in the first ~100 ms after its HTTP
        listener is up (it is not "running" yet) and waits for participants to leave on the
        first one; the second SIGTERM covers both.
        """
        process = self._process
        if process is None or process.poll() is not None:
            return
        deadline = time.monotonic() + timeout
        process.terminate()
        if not _wait_for_exit(process, min(FORCE_STOP_AFTER, timeout)):
            logger.debug("livekit-server still running; sending a second SIGTERM (force)")
            process.terminate()
            if not _wait_for_exit(process, deadline - time.monotonic()):
                logger.warning("livekit-server ignored SIGTERM for %.1fs; killing it", timeout)
                process.kill()
                _wait_for_exit(process, 5.0)
        self._after_exit()
        logger.info("livekit-server stopped (exit %s)", process.returncode)

    def terminate(self) -> None:
        """Send one SIGTERM and return (for fault tests): livekit-server then drains, i.e.
        stops taking new rooms and exits once the participants it hosts have left; a second
        SIGTERM (`stop`) makes it close its rooms and exit."""
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()

    def wait_for_exit(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the process to end; True when it has ended."""
        process = self._process
        if process is None:
            return True
        if not _wait_for_exit(process, timeout):
            return False
        self._after_exit()
        return True

    def kill(self) -> None:
        """SIGKILL the server at once (for fault tests)."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.kill()
        _wait_for_exit(process, 5.0)
        self._after_exit()

    def _after_exit(self) -> None:
        """Forget the process and redact tokens the server logged (debug level logs them)."""
        _RUNNING.discard(self)
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        redacted = self._redact(text)
        if redacted != text:
            self.log_path.write_text(redacted, encoding="utf-8")

    def restart(self, timeout: float = 20.0) -> None:
        """Stop (gracefully) and start again with the same config and log file."""
        self.stop()
        self.start(timeout=timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ helpers

    def token(self, identity: str, room: str, **kwargs: Any) -> str:
        """A token for this server (see mint_token for keyword options)."""
        return mint_token(self._api_key, self._api_secret, identity, room, **kwargs)

    def log_text(self, tail_lines: int = 200, containing: str | None = None) -> str:
        """The last lines of the server log (only those with ``containing`` when given),
        with the secret and any JWTs redacted."""
        return self._redact(_tail(self.log_path, tail_lines, containing))

    def _redact(self, text: str) -> str:
        if self._api_secret:
            text = text.replace(self._api_secret, "<api-secret>")
        return _JWT_PATTERN.sub("<jwt>", text)


@atexit.register
def _kill_leftover_servers() -> None:
    for server in list(_RUNNING):
        server.kill()


# ------------------------------------------------------------------------------ CLI


def build_parser() -> argparse.ArgumentParser:
    """CLI options of `python -m godot_livekit.tools.devserver`."""
    parser = argparse.ArgumentParser(
        prog="python -m godot_livekit.tools.devserver",
        description="Run a local LiveKit server for Godot development (Ctrl+C stops it).",
    )
    parser.add_argument("--port", type=int, default=7880, help="HTTP/WebSocket port")
    parser.add_argument("--udp-port", type=int, default=7882, help="WebRTC UDP port")
    parser.add_argument(
        "--node-ip",
        default=None,
        help="address to advertise to clients (default 127.0.0.1; set a LAN address "
        "to let other machines join)",
    )
    parser.add_argument("--log-file", type=Path, default=None, help="server log path")
    parser.add_argument(
        "--nodes",
        type=int,
        default=1,
        help="livekit-server nodes; more than 1 starts redis-server too, and node i (from 0) "
        "uses PORT+10*i and UDP_PORT+10*i",
    )
    parser.add_argument(
        "--redis-port", type=int, default=7379, help="redis-server port (with --nodes > 1)"
    )
    parser.add_argument(
        "--log-dir", type=Path, default=None, help="folder for the logs (with --nodes > 1)"
    )
    return parser


def _print_banner(server: LocalServer) -> None:
    token = server.token(DEV_IDENTITY, DEV_ROOM)
    print(f"LiveKit dev server running (livekit-server {server.binary})")
    print(f"  URL:        {server.url}")
    print(f"  API key:    {server.api_key}")
    print(f"  API secret: {server.api_secret}   (public dev default; never use in production)")
    print(f"  Token for identity '{DEV_IDENTITY}' in room '{DEV_ROOM}' (valid 6 h):")
    print(f"  {token}")
    print(f"  Server log: {server.log_path}")
    print("Press Ctrl+C to stop.", flush=True)


def ignore_interrupts() -> None:
    """Ignore further Ctrl+C / SIGTERM, so the bounded shutdown of the children completes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _raise_keyboard_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run a dev server in the foreground until Ctrl+C (or SIGTERM)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.nodes < 1:
        parser.error("--nodes must be 1 or more")
    if args.nodes > 1 and args.log_file is not None:
        parser.error("--log-file names one server's log; use --log-dir with --nodes > 1")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Ctrl+C stops it even when started from a shell that ignores SIGINT for its background
    # jobs (a child inherits that, and Python then leaves SIGINT ignored)
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    if args.nodes > 1:
        from .cluster import serve_cluster

        return serve_cluster(args)
    server = LocalServer(
        node_ip=args.node_ip,
        bind_ip="127.0.0.1",
        port=args.port,
        udp_port=args.udp_port,
        log_path=args.log_file,
        log_level="info",
    )
    try:
        server.start()
        _print_banner(server)
        exit_code = server.wait()
        print(f"livekit-server exited unexpectedly (code {exit_code}):", file=sys.stderr)
        print(server.log_text(40), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping livekit-server ...", flush=True)
        return 0
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        ignore_interrupts()
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
