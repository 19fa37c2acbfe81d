"""A local multi-node LiveKit: one Redis and several livekit-server nodes sharing it.

LiveKit scales out by running several `livekit-server` nodes against one Redis. Each room is
hosted by one node (chosen when the room is created); a participant may connect to any node,
which relays its signalling to the room's node through Redis, while its media goes straight
to the room's node. ``LocalCluster`` runs that on one machine: a ``RedisServer`` bound to a
local address with persistence off (its files stay in a temporary folder), and N
``LocalServer`` nodes with the offline configuration of the single-node dev server, each on
its own HTTP and UDP ports.

    python -m godot_livekit.tools.devserver --nodes 2     # or: python build.py server --nodes 2

runs one in the foreground and prints every node's URL and a dev token (valid on every node).
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self

from .devserver import (
    DEV_IDENTITY,
    DEV_ROOM,
    LocalServer,
    _tail,
    _wait_for_exit,
    find_server_binary,
    ignore_interrupts,
)
from .tokens import DEV_API_KEY, DEV_API_SECRET, mint_token

logger = logging.getLogger(__name__)

REDIS_BIN_ENV = "REDIS_SERVER_BIN"
REDIS_BINARY_NAME = "redis-server"
REDIS_PACKAGE = "redis-server"
"""The Debian package that provides redis-server (`python build.py setup` installs it)."""
DEFAULT_REDIS_PORT = 7379
NODE_PORT_STEP = 10
"""Node i (from 0) listens on ``port + i * NODE_PORT_STEP`` and ``udp_port + i * ...``."""
ROOM_NODE_MAP_KEY = "room_node_map"
"""livekit-server's Redis hash of room name -> ID of the node hosting it (pkg/routing)."""
REDIS_PING_TIMEOUT = 0.5
READY_POLL_INTERVAL = 0.05

_RUNNING_REDIS: weakref.WeakSet[RedisServer] = weakref.WeakSet()


def find_redis_binary() -> Path | None:
    """redis-server from $REDIS_SERVER_BIN or PATH (Debian: /usr/bin); None if absent."""
    from_env = os.environ.get(REDIS_BIN_ENV)
    if from_env:
        if os.access(from_env, os.X_OK) and Path(from_env).is_file():
            return Path(from_env)
        logger.warning("%s=%s is not an executable file; ignoring it", REDIS_BIN_ENV, from_env)
    found = shutil.which(REDIS_BINARY_NAME)
    return Path(found) if found else None


def redis_missing_message() -> str:
    """What to do when redis-server is not found (names the Debian package)."""
    return (
        f"redis-server not found (${REDIS_BIN_ENV}, PATH): install the Debian package "
        f"`{REDIS_PACKAGE}` (`sudo apt-get install {REDIS_PACKAGE}`; `python build.py setup` "
        "does it when run as root)"
    )


def _temp_file(prefix: str, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix)
    os.close(fd)
    return Path(name)


def _redis_answers(host: str, port: int, timeout: float) -> bool:
    """True when a Redis at host:port answers PING with PONG."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


RespValue = str | int | None | list["RespValue"]


def encode_command(*parts: str) -> bytes:
    """A Redis command as a RESP array of bulk strings."""
    encoded = [part.encode() for part in parts]
    return f"*{len(encoded)}\r\n".encode() + b"".join(
        f"${len(part)}\r\n".encode() + part + b"\r\n" for part in encoded
    )


def read_reply(reply: BinaryIO) -> RespValue:
    """One RESP reply (simple/bulk string, integer, array, nil); an error raises RuntimeError."""
    line = reply.readline()
    if not line.endswith(b"\r\n"):
        raise RuntimeError("redis: connection closed mid-reply")
    kind, rest = line[:1], line[1:-2]
    if kind == b"-":
        raise RuntimeError(f"redis: {rest.decode(errors='replace')}")
    if kind == b"+":
        return rest.decode()
    if kind == b":":
        return int(rest)
    if kind == b"_" or (kind in (b"$", b"*") and rest == b"-1"):
        return None
    if kind == b"$":
        return reply.read(int(rest) + 2)[:-2].decode()
    if kind == b"*":
        return [read_reply(reply) for _ in range(int(rest))]
    raise RuntimeError(f"redis: unexpected reply {line[:40]!r}")


def _port_answers(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=REDIS_PING_TIMEOUT):
            return True
    except OSError:
        return False


class RedisServer:
    """A redis-server child process on a local address, without persistence files.

    Snapshots and the append-only file are off, and its working folder is a temporary one
    removed on stop, so nothing is written anywhere else.
    """

    def __init__(
        self,
        *,
        binary: Path | str | None = None,
        bind_ip: str = "127.0.0.1",
        port: int = DEFAULT_REDIS_PORT,
        log_path: Path | str | None = None,
    ) -> None:
        self.binary = Path(binary) if binary is not None else None
        self.bind_ip = bind_ip
        self.port = port
        self.log_path = Path(log_path) if log_path is not None else _temp_file("redis-", ".log")
        self._data_dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """host:port, as livekit-server's `redis.address` takes it."""
        return f"{self.bind_ip}:{self.port}"

    def command(self, data_dir: Path) -> list[str]:
        """The command line: local bind only, persistence off, working folder `data_dir`."""
        if self.binary is None:
            raise RuntimeError("no redis-server binary")
        return [
            str(self.binary),
            "--bind", self.bind_ip,
            "--port", str(self.port),
            "--protected-mode", "yes",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(data_dir),
            "--daemonize", "no",
            "--logfile", str(self.log_path),
        ]  # fmt: skip

    def is_running(self) -> bool:
        """True while the process is alive."""
        return self._process is not None and self._process.poll() is None

    def wait(self) -> int | None:
        """Block until the process exits; its exit code (None if never started)."""
        return self._process.wait() if self._process is not None else None

    def query(self, *command: str, timeout: float = 2.0) -> RespValue:
        """Send one command (e.g. "HGET", key, field) and return Redis's reply."""
        with socket.create_connection((self.bind_ip, self.port), timeout=timeout) as connection:
            connection.sendall(encode_command(*command))
            with connection.makefile("rb") as reply:
                return read_reply(reply)

    def hget(self, key: str, field: str) -> str | None:
        """HGET key field (None when absent)."""
        value = self.query("HGET", key, field)
        if value is not None and not isinstance(value, str):
            raise RuntimeError(f"redis: HGET answered {value!r}")
        return value

    def start(self, timeout: float = 10.0) -> None:
        """Launch redis-server and wait until it answers PING; raise RuntimeError otherwise."""
        if self.is_running():
            return
        if self.binary is None:
            self.binary = find_redis_binary()
        if self.binary is None:
            raise RuntimeError(redis_missing_message())
        if _port_answers(self.bind_ip, self.port):
            raise RuntimeError(f"something already listens on {self.address}; port in use")
        self._data_dir = Path(tempfile.mkdtemp(prefix="godot-livekit-redis-"))
        self._process = subprocess.Popen(
            self.command(self._data_dir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _RUNNING_REDIS.add(self)
        deadline = time.monotonic() + timeout
        while not _redis_answers(self.bind_ip, self.port, REDIS_PING_TIMEOUT):
            if self._process.poll() is not None or time.monotonic() >= deadline:
                self.kill()
                raise RuntimeError(
                    f"redis-server did not start on {self.address}; log {self.log_path}:\n"
                    + _tail(self.log_path, 30)
                )
            time.sleep(READY_POLL_INTERVAL)
        logger.info("redis-server ready at %s; log %s", self.address, self.log_path)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (SIGKILL after `timeout`), then remove its working folder."""
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            if not _wait_for_exit(process, timeout):
                process.kill()
                _wait_for_exit(process, 5.0)
        self._after_exit()

    def kill(self) -> None:
        """SIGKILL at once, then remove its working folder."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            _wait_for_exit(process, 5.0)
        self._after_exit()

    def _after_exit(self) -> None:
        _RUNNING_REDIS.discard(self)
        data_dir, self._data_dir = self._data_dir, None
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


@atexit.register
def _kill_leftover_redis() -> None:
    for server in list(_RUNNING_REDIS):
        server.kill()


def node_ports(base: int, index: int) -> int:
    """The port of node `index` (from 0) for a base port."""
    return base + index * NODE_PORT_STEP


class LocalCluster:
    """Redis plus `nodes` livekit-server nodes sharing it; usable as a context manager.

    Every node has the single-node dev server's offline configuration (explicit node IP,
    no external-IP discovery, local STUN address, no RTC TCP port) and its own HTTP and UDP
    ports; `node_ips` gives each node the address it advertises (default: `bind_ip`).
    """

    def __init__(
        self,
        nodes: int = 2,
        *,
        binary: Path | str | None = None,
        redis_binary: Path | str | None = None,
        bind_ip: str = "127.0.0.1",
        node_ips: Sequence[str | None] | None = None,
        ports: Sequence[int] | None = None,
        udp_ports: Sequence[int] | None = None,
        port: int = 7880,
        udp_port: int = 7882,
        redis_port: int = DEFAULT_REDIS_PORT,
        api_key: str = DEV_API_KEY,
        api_secret: str = DEV_API_SECRET,
        log_dir: Path | str | None = None,
        log_level: str = "info",
    ) -> None:
        if nodes < 1:
            raise ValueError(f"a cluster needs at least one node (got {nodes})")
        ips = list(node_ips) if node_ips is not None else [None] * nodes
        http_ports = (
            list(ports) if ports is not None else [node_ports(port, i) for i in range(nodes)]
        )
        rtc_ports = (
            list(udp_ports)
            if udp_ports is not None
            else [node_ports(udp_port, i) for i in range(nodes)]
        )
        if not len(ips) == len(http_ports) == len(rtc_ports) == nodes:
            raise ValueError("node_ips, ports and udp_ports need one entry per node")
        taken = [*http_ports, *rtc_ports, redis_port]
        if len(set(taken)) != len(taken):
            raise ValueError(f"ports overlap: {taken}")
        self.log_dir = (
            Path(log_dir)
            if log_dir is not None
            else Path(tempfile.mkdtemp(prefix="livekit-cluster-"))
        )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._api_key = api_key
        self._api_secret = api_secret
        self.redis = RedisServer(
            binary=redis_binary,
            bind_ip=bind_ip,
            port=redis_port,
            log_path=self.log_dir / "redis.log",
        )
        self.nodes = [
            LocalServer(
                binary=binary,
                bind_ip=bind_ip,
                node_ip=ips[i],
                port=http_ports[i],
                udp_port=rtc_ports[i],
                api_key=api_key,
                api_secret=api_secret,
                log_path=self.log_dir / f"node-{i + 1}.log",
                log_level=log_level,
                redis_address=self.redis.address,
            )
            for i in range(nodes)
        ]

    @property
    def urls(self) -> list[str]:
        """Every node's WebSocket URL, in node order."""
        return [node.url for node in self.nodes]

    @property
    def api_key(self) -> str:
        """API key every node accepts."""
        return self._api_key

    @property
    def api_secret(self) -> str:
        """API secret every node accepts (do not log it)."""
        return self._api_secret

    def configs(self) -> list[dict[str, Any]]:
        """Each node's livekit-server configuration."""
        return [node.config() for node in self.nodes]

    def start(self, timeout: float = 30.0) -> None:
        """Start Redis, then every node; on any failure stop what was started and raise."""
        deadline = time.monotonic() + timeout
        binary = self.nodes[0].binary or find_server_binary()
        try:
            self.redis.start(timeout=max(deadline - time.monotonic(), 1.0))
            for node in self.nodes:
                if node.binary is None:
                    node.binary = binary
                node.start(timeout=max(deadline - time.monotonic(), 1.0))
        except BaseException:
            self.stop()
            raise
        logger.info("cluster ready: %s sharing redis %s", self.urls, self.redis.address)

    def stop(self) -> None:
        """Stop every node (gracefully, bounded), then Redis."""
        for node in self.nodes:
            node.stop()
        self.redis.stop()

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

    def token(self, identity: str, room: str, **kwargs: Any) -> str:
        """A token valid on every node (see mint_token for keyword options)."""
        return mint_token(self._api_key, self._api_secret, identity, room, **kwargs)

    def room_node(self, room: str) -> int | None:
        """Index of the node hosting `room`, as the cluster's Redis records it (None when the
        room has no node yet, or a node not in this cluster)."""
        node_id = self.redis.hget(ROOM_NODE_MAP_KEY, room)
        return self.node_index(node_id) if node_id is not None else None

    def node_index(self, node_id: str) -> int | None:
        """Which of our nodes has livekit's node ID `node_id` (None when none has)."""
        for index, node in enumerate(self.nodes):
            if node.node_id == node_id:
                return index
        return None


# ------------------------------------------------------------------------------ CLI


def _print_banner(cluster: LocalCluster) -> None:
    token = cluster.token(DEV_IDENTITY, DEV_ROOM)
    binary = cluster.nodes[0].binary
    print(
        f"LiveKit dev cluster running: {len(cluster.nodes)} livekit-server nodes "
        f"({binary}) sharing redis-server at {cluster.redis.address}"
    )
    for index, node in enumerate(cluster.nodes, start=1):
        print(f"  node {index} URL: {node.url}   (UDP {node.udp_port}, log {node.log_path})")
    print(f"  API key:    {cluster.api_key}")
    print(f"  API secret: {cluster.api_secret}   (public dev default; never use in production)")
    print(f"  Token for identity '{DEV_IDENTITY}' in room '{DEV_ROOM}' (valid 6 h, any node):")
    print(f"  {token}")
    print(f"  Redis log:  {cluster.redis.log_path}")
    print("Press Ctrl+C to stop.", flush=True)


def _first_exit(cluster: LocalCluster) -> str:
    """Block until Redis or a node exits; which one (interruptible by Ctrl+C)."""
    ended = threading.Event()
    which: list[str] = []

    def watch(name: str, wait: Callable[[], int | None]) -> None:
        code = wait()
        which.append(f"{name} (exit {code})")
        ended.set()

    watched: list[tuple[str, Callable[[], int | None]]] = [("redis-server", cluster.redis.wait)]
    watched += [(f"node {i}", node.wait) for i, node in enumerate(cluster.nodes, start=1)]
    for name, wait in watched:
        threading.Thread(target=watch, args=(name, wait), daemon=True).start()
    ended.wait()
    return which[0]


def serve_cluster(args: argparse.Namespace) -> int:
    """Run a cluster in the foreground until Ctrl+C (or SIGTERM); devserver's --nodes > 1."""
    try:
        cluster = LocalCluster(
            args.nodes,
            node_ips=[args.node_ip] * args.nodes,
            port=args.port,
            udp_port=args.udp_port,
            redis_port=args.redis_port,
            log_dir=args.log_dir,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        cluster.start()
        _print_banner(cluster)
        ended = _first_exit(cluster)
        print(f"{ended} exited unexpectedly; stopping the cluster", file=sys.stderr)
        for node in cluster.nodes:
            if not node.is_running():
                print(node.log_text(40), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping the cluster ...", flush=True)
        return 0
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        ignore_interrupts()
        cluster.stop()
