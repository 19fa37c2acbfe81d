"""A private network namespace (`unshare -rn` plus a veth pair) so nothing leaves the machine.

`exec_in_netns(cmd)` re-executes ``build.py _netns-exec -- cmd`` inside a fresh user and
network namespace; that hidden step (`configure_and_exec`) brings up lo and the veth pair,
then executes the command with GODOT_LIVEKIT_NETNS/GODOT_LIVEKIT_NODE_IP set.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from typing import NoReturn

from .common import BUILD_SCRIPT, BuildError, Command, exec_command, format_command

NETNS_EXEC_STEP = "_netns-exec"
NETNS_VETH_PAIR = ("lkveth0", "lkveth1")
NETNS_NODE_IP = "10.77.0.1"
NETNS_PEER_IP = "10.77.0.2"
NETNS_PREFIX_LEN = 24
NETNS_ENV = {"GODOT_LIVEKIT_NETNS": "1", "GODOT_LIVEKIT_NODE_IP": NETNS_NODE_IP}
NETNS_NO_PROXY = f"127.0.0.1,localhost,{NETNS_NODE_IP},{NETNS_PEER_IP}"
UNSHARE_PROBE_TIMEOUT = 30


def netns_setup_commands(ip: str) -> list[list[str]]:
    """`ip` commands that bring up lo and a veth pair with private addresses."""
    veth_a, veth_b = NETNS_VETH_PAIR
    return [
        [ip, "link", "set", "lo", "up"],
        [ip, "link", "add", veth_a, "type", "veth", "peer", "name", veth_b],
        [ip, "addr", "add", f"{NETNS_NODE_IP}/{NETNS_PREFIX_LEN}", "dev", veth_a],
        [ip, "addr", "add", f"{NETNS_PEER_IP}/{NETNS_PREFIX_LEN}", "dev", veth_b],
        [ip, "link", "set", veth_a, "up"],
        [ip, "link", "set", veth_b, "up"],
    ]


def unshare_prefix() -> list[str]:
    """The command that runs the rest of the line in a new user + network namespace."""
    return ["unshare", "-rn"]


def check_unshare_works() -> None:
    """Fail loudly (never fall back to the host network) when unshare is unusable."""
    probe = [*unshare_prefix(), "true"]
    try:
        result = subprocess.run(
            probe, capture_output=True, text=True, timeout=UNSHARE_PROBE_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BuildError(f"`{format_command(probe)}` failed: {error}") from error
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip() or f"exit {result.returncode}"
        raise BuildError(
            f"`{format_command(probe)}` failed: {detail}\n"
            "A private network namespace is required (unprivileged user namespaces must be "
            "enabled); refusing to run on the host network."
        )


def exec_in_netns(command: Command) -> NoReturn:
    """Re-exec `command` inside a fresh private network namespace (see _netns-exec)."""
    check_unshare_works()
    step = [sys.executable, BUILD_SCRIPT, NETNS_EXEC_STEP, "--", *command]
    exec_command([*unshare_prefix(), *step])


def namespace_interfaces() -> list[str]:
    """Network interface names of this process's network namespace."""
    return sorted(name for _index, name in socket.if_nameindex())


def configure_netns() -> None:
    """Bring up lo and the veth pair; only inside a namespace that has nothing but lo."""
    interfaces = namespace_interfaces()
    if interfaces != ["lo"]:
        raise BuildError(
            f"{NETNS_EXEC_STEP} must run inside a fresh `unshare -rn` namespace "
            f"(found interfaces {interfaces}); refusing to touch this network."
        )
    ip = shutil.which("ip") or "/usr/sbin/ip"
    for command in netns_setup_commands(ip):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(
                f"network namespace setup failed: `{format_command(command)}`: "
                f"{result.stderr.strip() or f'exit {result.returncode}'}"
            )


def netns_child_env() -> dict[str, str]:
    """Environment for commands inside the namespace (local addresses bypass proxies)."""
    env = dict(os.environ, **NETNS_ENV)
    for key in ("NO_PROXY", "no_proxy"):
        existing = env.get(key)
        env[key] = f"{existing},{NETNS_NO_PROXY}" if existing else NETNS_NO_PROXY
    return env


def configure_and_exec(command: Sequence[str]) -> NoReturn:
    """The hidden `_netns-exec` step: configure the fresh namespace, then exec `command`."""
    if not command:
        raise BuildError(f"{NETNS_EXEC_STEP} needs a command after --")
    configure_netns()
    exec_command(command, netns_child_env())
