"""Network cuts and server loss against a private livekit-server.

Real parts: a livekit-server of this test module's own (other ports than the session
server, so breaking it never disturbs other tests), the livekit SDK, the test namespace.

How the network is cut: in the test namespace both veth ends (10.77.0.1 and 10.77.0.2)
and 127.0.0.1 are addresses of *this* namespace, so the kernel delivers traffic between
them over ``lo``; ``ip link set lkveth0/lkveth1 down`` cuts nothing (every candidate pair
keeps working). :class:`PortCut` instead adds policy-routing ``blackhole`` rules for the
private server's TCP (signal) and UDP (media) ports, ahead of the local table: every packet
to or from that server is dropped, whatever address or interface it uses, and nothing else
is touched. The rules are always removed in a ``finally``.

Measured here (livekit-server 1.13.5, SDK 1.2.1), see the ``[measure]`` lines with ``-s``:

* the SDK notices a silent cut only through the signal ping timeout: ``reconnecting``
  ~15 s after the cut (shorter cuts are ridden out: media resumes, nothing is emitted);
* it gives up ~17-24 s after that (``disconnected`` ~32-39 s after the cut);
* a SIGKILLed server is noticed at once (the socket is reset) and reported as
  ``disconnected`` within ``SERVER_LOSS_BOUND``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from livekit import api
from media_helpers import video_feeder
from peers import Peer, wait_for_event, wait_until
from session_helpers import VideoWatch, cycle_names, exchange_data, publish_pattern

from godot_livekit import LiveKitRoom, testing
from godot_livekit.tools.devserver import LocalServer, find_server_binary

REPO_ROOT = Path(__file__).resolve().parents[2]
IP = shutil.which("ip") or "/usr/sbin/ip"
RULE_PREF = "10"
LOCAL_RULE_MOVED_PREF = "100"

BRIEF_CUT = 5.0
"""A cut the SDK rides out (below the 15 s signal ping timeout)."""
RECONNECT_CUT = 20.0
"""Long enough to be noticed (~15 s), short enough not to be given up (~32 s)."""
DETECTION_BOUND = 25.0
"""Cut -> ``reconnecting`` (measured ~15 s)."""
GIVE_UP_BOUND = 60.0
"""Cut -> ``disconnected`` when the link never comes back (measured ~32-39 s)."""
RECOVERY_BOUND = 25.0
"""Link back -> ``reconnected`` (measured 0.3-5 s)."""
SERVER_LOSS_BOUND = 45.0
"""SIGKILL of the server -> ``disconnected`` (see the [measure] line for the real figure)."""
EXIT_BOUND = 10.0
"""A script told to exit must be gone this soon, whatever state its room is in."""


# --------------------------------------------------------------------------- helpers


def free_port(kind: int) -> int:
    """A port nothing in this namespace uses right now (SOCK_STREAM or SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ip(*args: str, check: bool = True) -> None:
    result = subprocess.run([IP, *args], capture_output=True, text=True, timeout=10)
    if check and result.returncode != 0:
        raise AssertionError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")


class PortCut:
    """Drops every packet to or from one server's ports while active (see module doc)."""

    def __init__(self, server: LocalServer) -> None:
        self.rules = [
            ("tcp", "dport", str(server.port)),
            ("tcp", "sport", str(server.port)),
            ("udp", "dport", str(server.udp_port)),
            ("udp", "sport", str(server.udp_port)),
        ]
        self.active = False

    def _rule(self, proto: str, direction: str, port: str) -> list[str]:
        return ["pref", RULE_PREF, "ipproto", proto, direction, port, "blackhole"]

    def cut(self) -> None:
        """Start dropping (the local-table rule moves behind the blackhole rules)."""
        assert not self.active
        self.active = True
        _ip("rule", "add", "pref", LOCAL_RULE_MOVED_PREF, "lookup", "local")
        _ip("rule", "del", "pref", "0", "lookup", "local")
        for rule in self.rules:
            _ip("rule", "add", *self._rule(*rule))

    def restore(self) -> None:
        """Remove the rules and put the local table back first; safe to call twice."""
        if not self.active:
            return
        for rule in self.rules:
            _ip("rule", "del", *self._rule(*rule), check=False)
        _ip("rule", "add", "pref", "0", "lookup", "local", check=False)
        _ip("rule", "del", "pref", LOCAL_RULE_MOVED_PREF, "lookup", "local", check=False)
        self.active = False


@pytest.fixture
def fault_server() -> Iterator[LocalServer]:
    """A private livekit-server on free ports (never the session server)."""
    node_ip = os.environ.get("GODOT_LIVEKIT_NODE_IP")
    if os.environ.get("GODOT_LIVEKIT_NETNS") != "1" or not node_ip:
        pytest.fail("fault tests must run in the namespace: use `python build.py test`")
    binary = find_server_binary()
    if binary is None:
        pytest.fail("livekit-server not found: run `python build.py setup`")
    server = LocalServer(
        binary=binary,
        node_ip=node_ip,
        port=free_port(socket.SOCK_STREAM),
        udp_port=free_port(socket.SOCK_DGRAM),
        log_level="info",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def port_cut(fault_server: LocalServer) -> Iterator[PortCut]:
    """The cut for ``fault_server``; always restored, even when the test fails."""
    cut = PortCut(fault_server)
    try:
        yield cut
    finally:
        cut.restore()


@pytest.fixture
def fault_peers(fault_server: LocalServer, room_name: str) -> Iterator[Callable[..., Peer]]:
    """``connect(identity, options=None)``: a Peer connected to ``fault_server``."""
    peers: list[Peer] = []

    def connect(identity: str, options: dict[str, Any] | None = None) -> Peer:
        peer = Peer(identity)
        peers.append(peer)
        peer.room.connect_to_room(
            fault_server.url, fault_server.token(identity, room_name), options
        )
        wait_for_event(peer, "connected")
        return peer

    yield connect
    for peer in peers:
        peer.room.disconnect_from_room()
    for peer in peers:
        peer.room.poll_events()
        assert peer.room.wait_idle(15.0), f"{peer.identity}: background work hangs"


def pair_with_video(connect: Callable[..., Peer], **alice_options: Any) -> tuple[Peer, Peer]:
    alice = connect("alice", alice_options or None)
    bob = connect("bob")
    wait_until(
        [alice, bob],
        lambda: (
            "bob" in alice.room.get_remote_participants()
            and "alice" in bob.room.get_remote_participants()
        ),
        what="alice and bob see each other",
    )
    return alice, bob


def wait_seconds(peers: list[Any], seconds: float) -> None:
    """Keep pumping for a fixed time (a cut lasts this long, whatever happens)."""
    end = time.monotonic() + seconds
    wait_until(peers, lambda: time.monotonic() >= end, seconds + 5.0, "the cut")


class Stamper:
    """Remembers when each peer first emitted each signal (pump it with the peers)."""

    def __init__(self, *peers: Peer) -> None:
        self.peers = peers
        self.seen = {p.identity: len(p.events) for p in peers}
        self.first: dict[tuple[str, str], float] = {}

    def _auto_pump(self) -> None:
        now = time.monotonic()
        for peer in self.peers:
            for name, _ in peer.events[self.seen[peer.identity] :]:
                self.first.setdefault((peer.identity, name), now)
            self.seen[peer.identity] = len(peer.events)

    def at(self, peer: Peer, name: str) -> float:
        return self.first[(peer.identity, name)]


# --------------------------------------------------------------------------- network cuts


def test_taking_the_veth_links_down_cuts_nothing_in_one_namespace(
    fault_peers: Callable[..., Peer],
) -> None:
    """Why PortCut exists: both veth ends live in this namespace, so their addresses stay
    local and the kernel keeps routing between them over ``lo`` with the links down."""
    alice, bob = pair_with_video(fault_peers)
    source, _, _ = publish_pattern(alice)
    watch = VideoWatch(bob, "alice")
    try:
        with video_feeder(source):
            watch.wait_for_frames([alice, bob], 3, since=0.0)
            down_at = time.monotonic()
            try:
                for link in ("lkveth1", "lkveth0"):
                    _ip("link", "set", link, "down")
                wait_seconds([alice, bob, watch], BRIEF_CUT)
            finally:
                for link in ("lkveth0", "lkveth1"):
                    _ip("link", "set", link, "up", check=False)
            up_at = time.monotonic()
    finally:
        watch.close()
    assert watch.max_gap_since(down_at, up_at) < 1.0, "video paused with the links down"
    for peer in (alice, bob):
        assert cycle_names(peer) == ["connected"]


def test_brief_cut_is_ridden_out_and_media_resumes(
    fault_peers: Callable[..., Peer], port_cut: PortCut
) -> None:
    alice, bob = pair_with_video(fault_peers)
    source, _, _ = publish_pattern(alice)
    watch = VideoWatch(bob, "alice")
    try:
        with video_feeder(source):
            watch.wait_for_frames([alice, bob], 3, since=0.0)
            try:
                port_cut.cut()
                wait_seconds([alice, bob, watch], BRIEF_CUT)
            finally:
                port_cut.restore()
            restored = time.monotonic()
            first = watch.wait_for_frames([alice, bob], 5, since=restored, timeout=RECOVERY_BOUND)
            print(f"[measure] brief {BRIEF_CUT:g} s cut: video back {first - restored:.2f} s after")
            exchange_data(alice, bob, b"after-brief-cut", also=[watch])
    finally:
        watch.close()
    for peer in (alice, bob):
        names = cycle_names(peer)
        assert "disconnected" not in names
        assert names.count("reconnecting") == names.count("reconnected") <= 1
        assert peer.room.get_connection_state() == LiveKitRoom.STATE_CONNECTED


def test_cut_past_detection_reconnects_and_media_resumes(
    fault_peers: Callable[..., Peer], port_cut: PortCut
) -> None:
    alice, bob = pair_with_video(fault_peers)
    source, _, publication = publish_pattern(alice)
    watch = VideoWatch(bob, "alice")
    stamps = Stamper(alice, bob)
    pumped = [alice, bob, watch, stamps]
    try:
        with video_feeder(source):
            watch.wait_for_frames([alice, bob], 3, since=0.0)
            try:
                cut_at = time.monotonic()
                port_cut.cut()
                wait_until(
                    pumped,
                    lambda: "reconnecting" in alice.names() and "reconnecting" in bob.names(),
                    DETECTION_BOUND,
                    "both peers notice the cut",
                )
                assert alice.room.get_connection_state() == LiveKitRoom.STATE_RECONNECTING
                wait_seconds(pumped, RECONNECT_CUT - (time.monotonic() - cut_at))
            finally:
                port_cut.restore()
            restored = time.monotonic()
            wait_until(
                pumped,
                lambda: "reconnected" in alice.names() and "reconnected" in bob.names(),
                RECOVERY_BOUND,
                "both peers reconnect",
            )
            first = watch.wait_for_frames(pumped, 5, since=restored, timeout=RECOVERY_BOUND)
            print(
                f"[measure] {RECONNECT_CUT:g} s cut: reconnecting after "
                f"{stamps.at(alice, 'reconnecting') - cut_at:.1f} s (alice) / "
                f"{stamps.at(bob, 'reconnecting') - cut_at:.1f} s (bob); reconnected "
                f"{stamps.at(alice, 'reconnected') - restored:.1f} s / "
                f"{stamps.at(bob, 'reconnected') - restored:.1f} s after the link came back; "
                f"video {first - restored:.1f} s after"
            )
            exchange_data(alice, bob, b"after-cut", also=[watch])
            exchange_data(bob, alice, b"reply-after-cut", also=[watch])
            assert publication.get_sid() in (
                bob.room.get_remote_participants()["alice"].get_track_publications()
            )
    finally:
        watch.close()
    for peer in (alice, bob):
        assert cycle_names(peer) == ["connected", "reconnecting", "reconnected"]
        assert peer.room.get_connection_state() == LiveKitRoom.STATE_CONNECTED


def test_long_cut_ends_disconnected_with_a_reason_and_connecting_again_works(
    fault_peers: Callable[..., Peer], port_cut: PortCut, fault_server: LocalServer, room_name: str
) -> None:
    alice, bob = pair_with_video(fault_peers)
    stamps = Stamper(alice, bob)
    try:
        cut_at = time.monotonic()
        port_cut.cut()
        wait_until(
            [alice, bob, stamps],
            lambda: "disconnected" in alice.names() and "disconnected" in bob.names(),
            GIVE_UP_BOUND,
            "the SDK gives up",
        )
        print(
            f"[measure] unending cut: reconnecting after "
            f"{stamps.at(alice, 'reconnecting') - cut_at:.1f} s, disconnected after "
            f"{stamps.at(alice, 'disconnected') - cut_at:.1f} s (alice) / "
            f"{stamps.at(bob, 'disconnected') - cut_at:.1f} s (bob); reason "
            f"{alice.room.get_disconnect_reason()!r}"
        )
        for peer in (alice, bob):
            assert cycle_names(peer) == ["connected", "reconnecting", "disconnected"]
            assert peer.room.get_connection_state() == LiveKitRoom.STATE_DISCONNECTED
            reason = peer.room.get_disconnect_reason()
            assert reason and "unknown" not in reason, reason
            assert peer.room.get_remote_participants() == {}
            started = time.monotonic()
            peer.room.disconnect_from_room()  # nothing left to end: returns at once
            peer.poll()
            assert time.monotonic() - started < 0.5
    finally:
        port_cut.restore()
    for peer in (alice, bob):
        token = fault_server.token(peer.identity, room_name)
        peer.room.connect_to_room(fault_server.url, token, {})
        wait_for_event(peer, "connected", count=2, also=[alice, bob])
    wait_until(
        [alice, bob],
        lambda: "bob" in alice.room.get_remote_participants(),
        what="bob back at alice",
    )
    exchange_data(alice, bob, b"after-reconnecting-by-hand")


def test_cut_with_auto_reconnect_off_ends_disconnected(
    fault_peers: Callable[..., Peer], port_cut: PortCut
) -> None:
    alice, bob = pair_with_video(fault_peers, auto_reconnect=False)
    try:
        cut_at = time.monotonic()
        port_cut.cut()
        wait_for_event(alice, "disconnected", timeout=DETECTION_BOUND, also=[bob])
        print(f"[measure] auto_reconnect off: disconnected {time.monotonic() - cut_at:.1f} s")
    finally:
        port_cut.restore()
    assert cycle_names(alice) == ["connected", "disconnected"]
    assert alice.room.get_connection_state() == LiveKitRoom.STATE_DISCONNECTED
    assert "auto_reconnect" in alice.room.get_disconnect_reason()
    # bob (auto_reconnect on) comes back by himself once the link is back
    wait_for_event(bob, "reconnected", timeout=GIVE_UP_BOUND, also=[alice])


# --------------------------------------------------------------------------- server loss


def test_killed_server_is_reported_and_a_new_connect_works_after_restart(
    fault_peers: Callable[..., Peer], fault_server: LocalServer, room_name: str
) -> None:
    alice, bob = pair_with_video(fault_peers)
    source, _, _ = publish_pattern(alice)
    stamps = Stamper(alice, bob)
    with video_feeder(source):
        wait_for_event(bob, "track_subscribed", also=[alice])
        killed_at = time.monotonic()
        fault_server.kill()
        wait_until(
            [alice, bob, stamps],
            lambda: "disconnected" in alice.names() and "disconnected" in bob.names(),
            SERVER_LOSS_BOUND,
            "the server loss is reported",
        )
    reconnecting = stamps.first.get(("alice", "reconnecting"))
    print(
        "[measure] SIGKILLed server: "
        + (f"reconnecting after {reconnecting - killed_at:.2f} s, " if reconnecting else "")
        + f"disconnected after {stamps.at(alice, 'disconnected') - killed_at:.1f} s (alice) / "
        f"{stamps.at(bob, 'disconnected') - killed_at:.1f} s (bob); reason "
        f"{alice.room.get_disconnect_reason()!r}"
    )
    for peer in (alice, bob):
        assert cycle_names(peer) in (
            ["connected", "disconnected"],
            ["connected", "reconnecting", "disconnected"],
        )
        assert peer.room.get_connection_state() == LiveKitRoom.STATE_DISCONNECTED
        assert peer.room.get_disconnect_reason()

    fault_server.restart()
    for peer in (alice, bob):
        peer.room.connect_to_room(fault_server.url, fault_server.token(peer.identity, room_name))
        wait_for_event(peer, "connected", count=2, also=[alice, bob])
    wait_until(
        [alice, bob],
        lambda: "alice" in bob.room.get_remote_participants(),
        what="alice at bob after the restart",
    )
    exchange_data(alice, bob, b"after-restart")


EXIT_SCRIPT = textwrap.dedent(
    """
    import atexit, sys, threading, time

    def report():
        from godot_livekit import testing
        print("runtime-alive", testing.runtime_is_running(), flush=True)

    atexit.register(report)  # registered first: runs after godot_livekit's own handlers

    from godot_livekit import LiveKitRoom, testing
    from godot_livekit.poller import pump_until

    url, token, wait_for = sys.argv[1], sys.argv[2], sys.argv[3]  # argv[4]: how long
    room = LiveKitRoom()
    names = []
    for signal in ("connected", "reconnecting", "disconnected", "connection_failed"):
        getattr(room, signal).connect(lambda signal=signal: names.append(signal))
    room.connect_to_room(url, token, {})
    if not pump_until(lambda: "connected" in names, 15.0):
        print("never connected", names, flush=True)
        sys.exit(3)
    print("ready", flush=True)
    sys.stdin.readline()  # the test has broken the server (or not) by now
    if wait_for != "-":
        pump_until(lambda: wait_for in names, float(sys.argv[4]))
    print("state", names, room.get_connection_state(), threading.active_count(), flush=True)
    print("exiting-at", time.monotonic(), flush=True)
    """
)


@pytest.mark.parametrize("when", ["connected", "reconnecting", "disconnected"])
def test_process_exits_promptly_whatever_the_room_is_doing(
    fault_server: LocalServer, room_name: str, tmp_path: Path, when: str
) -> None:
    """A script exits within EXIT_BOUND while connected, while its room is reconnecting
    to a killed server, and after the loss was reported; the runtime thread is stopped."""
    script = tmp_path / "exit_script.py"
    script.write_text(EXIT_SCRIPT)
    wait_for = {"connected": "-", "reconnecting": "reconnecting", "disconnected": "disconnected"}
    process = subprocess.Popen(
        [
            sys.executable,
            str(script),
            fault_server.url,
            fault_server.token("exiter", room_name),
            wait_for[when],
            str(SERVER_LOSS_BOUND),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert process.stdout is not None and process.stdin is not None
        ready = process.stdout.readline()
        assert ready.strip() == "ready", ready + process.stderr.read()
        if when != "connected":
            fault_server.kill()
        process.stdin.write("go\n")
        process.stdin.flush()
        out, err = process.communicate(timeout=SERVER_LOSS_BOUND + EXIT_BOUND)
        ended = time.monotonic()  # CLOCK_MONOTONIC: the same clock in both processes
        lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
        state = lines.get("state", "")
        exit_seconds = ended - float(lines["exiting-at"].split()[1])
        print(f"[measure] exit while {when}: {exit_seconds:.2f} s ({state})")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
            pytest.fail(f"the script did not exit while {when}")
    assert process.returncode == 0, err
    assert exit_seconds < EXIT_BOUND, f"exit took {exit_seconds:.1f} s"
    assert when in state or when == "connected", state
    assert "runtime-alive False" in out, out
    assert "Traceback" not in err and "panicked" not in err, err
    if when == "connected":  # it said goodbye on the way out: the server saw it leave
        wait_until([], lambda: participants(fault_server, room_name) == [], 5.0, "the leave")


def participants(server: LocalServer, room: str) -> list[str]:
    """Identities in ``room`` as the server sees them."""

    async def ask() -> list[str]:
        async with api.LiveKitAPI(server.http_url, server.api_key, server.api_secret) as lkapi:
            listed = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
            return [p.identity for p in listed.participants]

    return testing.run_on_runtime(ask(), 10)
