"""Test helpers for the multi-node tests: a Redis-backed cluster in the test namespace on
free ports, and reading a child process's output line by line."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import threading
import time

import pytest
from godot_livekit_dev.build_tools.netns import NETNS_NODE_IP, NETNS_PEER_IP

from godot_livekit.tools.cluster import LocalCluster, find_redis_binary, redis_missing_message
from godot_livekit.tools.devserver import find_server_binary

CLUSTERS_KEY = pytest.StashKey[list[LocalCluster]]()
"""The clusters running now (their node logs are attached to failed tests)."""


def free_ports(count: int, kind: int, avoid: set[int]) -> list[int]:
    """`count` distinct ports (SOCK_STREAM or SOCK_DGRAM) free now in this namespace."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket(socket.AF_INET, kind) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in avoid and port not in ports:
            ports.append(port)
    return ports


def start_test_cluster(config: pytest.Config) -> LocalCluster:
    """Redis and two nodes in the test namespace, on free ports; node 1 advertises
    10.77.0.1 and node 2 10.77.0.2 (both veth ends). Fails (never skips) when a part is
    missing; registered so failed tests get the node logs."""
    if os.environ.get("GODOT_LIVEKIT_NETNS") != "1":
        pytest.fail(
            "cluster tests must run in the private network namespace: use `python build.py test`",
            pytrace=False,
        )
    binary = find_server_binary()
    if binary is None:
        pytest.fail("livekit-server not found: run `python build.py setup`", pytrace=False)
    redis_binary = find_redis_binary()
    if redis_binary is None:
        pytest.fail(redis_missing_message(), pytrace=False)
    http_ports = free_ports(3, socket.SOCK_STREAM, set())
    udp_ports = free_ports(2, socket.SOCK_DGRAM, set(http_ports))
    cluster = LocalCluster(
        2,
        binary=binary,
        redis_binary=redis_binary,
        node_ips=[NETNS_NODE_IP, NETNS_PEER_IP],
        ports=http_ports[:2],
        udp_ports=udp_ports,
        redis_port=http_ports[2],
    )
    cluster.start()
    config.stash.setdefault(CLUSTERS_KEY, []).append(cluster)
    return cluster


def stop_test_cluster(config: pytest.Config, cluster: LocalCluster) -> None:
    """Stop `cluster` and forget it (its logs are no longer attached to failures)."""
    cluster.stop()
    config.stash[CLUSTERS_KEY].remove(cluster)


class LineReader:
    """Collects a child process's stdout lines on a thread, so waits on them are bounded."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self._stream = process.stdout
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stream:
            self._lines.put(line)
        self._lines.put(None)

    def until(self, marker: str, timeout: float) -> str:
        """Every line up to and including the first one containing `marker`."""
        deadline = time.monotonic() + timeout
        start = len(self.seen)
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if marker in line:
                return "".join(self.seen[start:])
        raise AssertionError(f"no {marker!r} line within {timeout}s:\n{''.join(self.seen)}")

    def rest(self, timeout: float) -> str:
        """The lines after those read so far, up to the end of the output."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the output did not end"
        lines = []
        while (line := self._lines.get_nowait()) is not None:
            lines.append(line)
        self.seen += lines
        return "".join(lines)
