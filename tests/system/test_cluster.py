"""Two livekit-server nodes sharing one Redis: one room across nodes, and a node stopping.

Real parts: redis-server and two livekit-server nodes (``LocalCluster``) inside the test
namespace, node 1 advertising 10.77.0.1 and node 2 10.77.0.2; the livekit SDK.

How LiveKit spreads a room over nodes (livekit-server's pkg/routing, and what these tests
show): a room is *hosted* by one node, recorded in Redis (``room_node_map``). A participant
may connect to any node; that node relays its signalling to the room's node through Redis,
while its media goes straight to the room's node. Here the room is placed on node 1
(``place_room``, the server API's ``CreateRoom`` with a node ID); alice connects to node 1
(the room's node) and bob to node 2 (a relay for him).

When a node stops (measured here, livekit-server 1.13.5, SDK 1.2.1; ``[measure]`` lines
with ``-s``):

* bob's node (the relay) stops, by SIGTERM or SIGKILL (with no room of its own it does not
  drain: it exits at once): bob's room says ``reconnecting`` at once and, as the SDK only
  retries the URL it was given, ``disconnected`` ("connection lost: could not reconnect")
  ~20-24 s later. Alice stays connected and sees bob leave ~23 s after the stop, when the
  room's node notices his media connection close. A new connect of bob to node 1 works.
* the room's node is SIGKILLed: alice's room (connected to it) ends ``disconnected`` ("connection
  lost: could not reconnect") ~28 s later. Bob's stays alive: ``reconnecting`` ~12 s after
  the kill, then ``reconnected``: node 2 sees node 1's stats go stale (5 s), moves the room
  to itself, and the SDK's full reconnect (republishing bob's tracks) lands there. Alice
  connecting to node 2 then meets bob and his video.
* the room's node gets one SIGTERM: it *drains*: takes no new rooms and keeps serving the
  ones it has until their participants leave, then exits by itself. Nothing changes for
  alice and bob. A second SIGTERM (``LocalServer.stop``) closes its rooms: both rooms end
  ``disconnected`` ("the server shut down") within a second, and the room starts anew on node 2
  at the next connect.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster_helpers import LineReader, free_ports, start_test_cluster, stop_test_cluster
from godot_livekit_dev.patterns import dominant_frequency
from livekit import api
from media_helpers import CollectingPlayback, tone_feeder, video_feeder
from peers import Peer, wait_for_event, wait_until
from session_helpers import (
    VideoWatch,
    cycle_names,
    exchange_data,
    publish_pattern,
    wait_for_window,
)

from godot_livekit import (
    LiveKitAudioSource,
    LiveKitAudioStream,
    LiveKitLocalAudioTrack,
    LiveKitRemoteAudioTrack,
    LiveKitRoom,
    LiveKitTrack,
    testing,
)
from godot_livekit.tools.cluster import NODE_PORT_STEP, LocalCluster, RedisServer

ROOM_NODE, RELAY_NODE = 0, 1
"""Node indices: node 1 hosts the room (alice connects to it), node 2 relays for bob."""
MEDIA_WAIT = 20.0
GIVE_UP_BOUND = 45.0
"""Node stopped -> ``disconnected`` of a room whose node it was (measured 20-28 s)."""
MOVE_BOUND = 40.0
"""Room's node SIGKILLed -> ``reconnected`` of a room connected through the other node
(measured ~12 s: the dead node's stats go stale after 5 s, then the SDK's next retry)."""
LEAVE_BOUND = 45.0
"""Relay node stopped -> the room's node tells the others the relayed participant left
(measured ~23 s)."""
NOTICE_BOUND = 5.0
"""A node stopped -> ``reconnecting`` of the rooms connected to it (measured < 0.1 s)."""
SHUTDOWN_BOUND = 5.0
"""Forced stop of the room's node -> ``disconnected`` ("the server shut down"), measured ~0.5 s
after the first SIGTERM (the second, forcing one, comes 0.5 s after it)."""
EXIT_BOUND = 5.0
"""A node with no participants of its own exits this soon after one SIGTERM."""
DRAIN_EXIT_BOUND = 20.0
"""A draining node exits this soon after its last participant left (it checks every 5 s)."""
DRAIN_WINDOW = 8.0
"""How long the drained room's session is watched for a change (there is none)."""
MAX_FRAME_GAP = 1.0


# --------------------------------------------------------------------------- helpers


def place_room(cluster: LocalCluster, room: str, node: int) -> None:
    """Create `room` on `node` (the server API's CreateRoom with that node's ID)."""
    target = cluster.nodes[node]
    assert target.node_id, "the node's ID was not found in its log"

    async def create() -> None:
        async with api.LiveKitAPI(target.http_url, cluster.api_key, cluster.api_secret) as lk:
            await lk.room.create_room(api.CreateRoomRequest(name=room, node_id=target.node_id))

    testing.run_on_runtime(create(), 10)
    assert cluster.room_node(room) == node


def server_participants(cluster: LocalCluster, node: int, room: str) -> list[str]:
    """Identities in `room`, as the server API of `node` lists them."""
    target = cluster.nodes[node]

    async def ask() -> list[str]:
        async with api.LiveKitAPI(target.http_url, cluster.api_key, cluster.api_secret) as lk:
            listed = await lk.room.list_participants(api.ListParticipantsRequest(room=room))
            return sorted(p.identity for p in listed.participants)

    return testing.run_on_runtime(ask(), 10)


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

    def after(self, peer: Peer, name: str, moment: float) -> float:
        """Seconds from `moment` to `peer`'s first `name` (the test fails if none)."""
        assert (peer.identity, name) in self.first, f"{peer.identity} never emitted {name}"
        return self.first[(peer.identity, name)] - moment


Connect = Callable[..., Peer]


@pytest.fixture
def cluster_peers(room_name: str) -> Iterator[Connect]:
    """``connect(cluster, identity, node, room=None)``: a Peer connected to `node` (in the
    test's room by default); every one is disconnected, and its work awaited, at the end."""
    peers: list[Peer] = []

    def connect(cluster: LocalCluster, identity: str, node: int, room: str | None = None) -> Peer:
        peer = Peer(identity)
        peers.append(peer)
        peer.room.connect_to_room(cluster.urls[node], cluster.token(identity, room or room_name))
        wait_for_event(peer, "connected")
        return peer

    yield connect
    for peer in peers:
        peer.room.disconnect_from_room()
    for peer in peers:
        peer.room.poll_events()
        assert peer.room.wait_idle(15.0), f"{peer.identity}: background work hangs"


@pytest.fixture
def own_cluster(pytestconfig: pytest.Config) -> Iterator[LocalCluster]:
    """A cluster of this test's own, for tests that stop its nodes."""
    cluster = start_test_cluster(pytestconfig)
    try:
        yield cluster
    finally:
        stop_test_cluster(pytestconfig, cluster)


def meet_across_nodes(
    connect: Connect, cluster: LocalCluster, room: str, room_node: int = ROOM_NODE
) -> tuple[Peer, Peer]:
    """The room on `room_node`; alice on node 1, bob on node 2; both see each other."""
    place_room(cluster, room, room_node)
    alice = connect(cluster, "alice", 0)
    bob = connect(cluster, "bob", 1)
    wait_until(
        [alice, bob],
        lambda: (
            "bob" in alice.room.get_remote_participants()
            and "alice" in bob.room.get_remote_participants()
        ),
        what="alice (node 1) and bob (node 2) see each other",
    )
    return alice, bob


def remote_media_ports(peer: Peer, track: LiveKitTrack) -> set[int]:
    """UDP ports of the server candidates in `track`'s ICE stats (libwebrtc leaves their
    ``address`` empty; the nodes' ports are distinct)."""
    results: list[list[dict[str, Any]]] = []
    track.stats_received.connect(results.append)
    track.request_stats()
    wait_until([peer], lambda: bool(results) or bool(track.poll_stats() and results), what="stats")
    track.stats_received.disconnect(results.append)
    return {int(s["port"]) for s in results[0] if s["type"] == "remote_candidate"}


# --------------------------------------------------------------------------- one room, two nodes


@pytest.mark.parametrize("room_node", [0, 1], ids=["room-on-node-1", "room-on-node-2"])
def test_participants_on_different_nodes_exchange_exact_bytes_both_ways(
    livekit_cluster: LocalCluster, cluster_peers: Connect, room_name: str, room_node: int
) -> None:
    alice, bob = meet_across_nodes(cluster_peers, livekit_cluster, room_name, room_node)
    assert livekit_cluster.room_node(room_name) == room_node
    assert server_participants(livekit_cluster, 1 - room_node, room_name) == ["alice", "bob"]
    to_bob = bytes(range(256)) * 40  # 10 KiB, every byte value
    to_alice = bytes(reversed(range(256))) * 3 + b"\x00end"
    alice.local.publish_data(to_bob, True, [], "cross-node")
    bob.local.publish_data(to_alice, True, ["alice"], "cross-node-back")
    wait_until(
        [alice, bob],
        lambda: bool(bob.args_of("data_received")) and bool(alice.args_of("data_received")),
        what="data both ways",
    )
    (at_bob,) = bob.args_of("data_received")
    (at_alice,) = alice.args_of("data_received")
    assert bytes(at_bob[0]) == to_bob
    assert at_bob[1].get_identity() == "alice"
    assert (at_bob[2], at_bob[3]) == (LiveKitRoom.DATA_KIND_RELIABLE, "cross-node")
    assert bytes(at_alice[0]) == to_alice
    assert at_alice[1].get_identity() == "bob"
    assert at_alice[3] == "cross-node-back"


def test_video_crosses_nodes_and_the_relayed_participant_gets_it_from_the_rooms_node(
    livekit_cluster: LocalCluster, cluster_peers: Connect, room_name: str
) -> None:
    alice, bob = meet_across_nodes(cluster_peers, livekit_cluster, room_name)
    source, _, _ = publish_pattern(alice)
    watch = VideoWatch(bob, "alice")
    back_source, _, _ = publish_pattern(bob)
    watch_back = VideoWatch(alice, "bob")
    try:
        with video_feeder(source), video_feeder(back_source):
            watch.wait_for_frames([alice, bob, watch_back], 10, since=0.0)
            watch_back.wait_for_frames([alice, bob, watch], 10, since=0.0)
            assert watch.stream is not None
            sender = bob.room.get_remote_participants()["alice"]
            (publication,) = sender.get_track_publications().values()
            remote_track = publication.get_track()
            assert remote_track is not None
            ports = remote_media_ports(bob, remote_track)
    finally:
        watch.close()
        watch_back.close()
    # bob signals through node 2, but his media flows to and from node 1 (the room's node)
    assert ports == {livekit_cluster.nodes[ROOM_NODE].udp_port}, ports


def test_a_440_hz_tone_crosses_nodes(
    livekit_cluster: LocalCluster, cluster_peers: Connect, room_name: str
) -> None:
    alice, bob = meet_across_nodes(cluster_peers, livekit_cluster, room_name)
    source = LiveKitAudioSource.create(48000, 1, 200)
    bob.local.publish_track(LiveKitLocalAudioTrack.create("tone", source), {})
    with tone_feeder(source, 440.0):
        track, _, sender = wait_for_event(alice, "track_subscribed", also=[bob])
        assert isinstance(track, LiveKitRemoteAudioTrack) and sender.get_identity() == "bob"
        stream = LiveKitAudioStream.from_track(track)
        playback = CollectingPlayback()

        def enough_audio() -> bool:
            stream.poll(playback)
            samples = playback.frames()
            return len(samples) >= 48000 and abs(samples[-24000:]).max() > 0.1

        wait_until([alice, bob], enough_audio, MEDIA_WAIT, "one second of audible audio")
        stream.close()
    assert abs(dominant_frequency(playback.frames()[-24000:], 48000) - 440.0) < 5.0


def test_rpc_crosses_nodes_both_ways(
    livekit_cluster: LocalCluster, cluster_peers: Connect, room_name: str
) -> None:
    alice, bob = meet_across_nodes(cluster_peers, livekit_cluster, room_name)
    for callee in (alice, bob):
        callee.local.register_rpc_method("whoami")
        callee.local.rpc_method_invoked.connect(
            lambda method, request_id, caller, payload, timeout, callee=callee: (
                callee.local.respond_to_rpc(request_id, f"{callee.identity}<-{caller}:{payload}")
            )
        )
    bob.local.perform_rpc("alice", "whoami", "from node 2", 5.0)
    alice.local.perform_rpc("bob", "whoami", "from node 1", 5.0)
    assert wait_for_event(bob, "rpc_response_received", also=[alice]) == (
        "whoami",
        "alice<-bob:from node 2",
    )
    assert wait_for_event(alice, "rpc_response_received", also=[bob]) == (
        "whoami",
        "bob<-alice:from node 1",
    )


# --------------------------------------------------------------------------- a node stops


@pytest.mark.timeout(240)
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_relay_node_stopping_ends_its_participants_session_and_a_new_connect_works(
    own_cluster: LocalCluster, cluster_peers: Connect, room_name: str, how: str
) -> None:
    alice, bob = meet_across_nodes(cluster_peers, own_cluster, room_name)
    relay = own_cluster.nodes[RELAY_NODE]
    stamps = Stamper(alice, bob)
    stopped = time.monotonic()
    if how == "SIGKILL":
        relay.kill()
    else:
        relay.terminate()  # one SIGTERM: no room of its own to drain, so it exits at once
        assert relay.wait_for_exit(EXIT_BOUND), "the relay node kept running after SIGTERM"
    wait_until(
        [alice, bob, stamps],
        lambda: "disconnected" in bob.names() and "bob" not in alice.room.get_remote_participants(),
        GIVE_UP_BOUND + LEAVE_BOUND,
        "bob's room gives up and alice sees bob leave",
    )
    print(
        f"[measure] relay node {how}: bob reconnecting after "
        f"{stamps.after(bob, 'reconnecting', stopped):.2f} s, disconnected after "
        f"{stamps.after(bob, 'disconnected', stopped):.1f} s "
        f"({bob.room.get_disconnect_reason()!r}); alice saw bob leave after "
        f"{stamps.after(alice, 'participant_disconnected', stopped):.1f} s"
    )
    assert stamps.after(bob, "reconnecting", stopped) < NOTICE_BOUND
    assert stamps.after(bob, "disconnected", stopped) < GIVE_UP_BOUND
    assert stamps.after(alice, "participant_disconnected", stopped) < LEAVE_BOUND
    assert cycle_names(bob) == ["connected", "reconnecting", "disconnected"]
    assert bob.room.get_disconnect_reason() == "connection lost: could not reconnect"
    assert bob.room.get_connection_state() == LiveKitRoom.STATE_DISCONNECTED
    assert bob.room.get_remote_participants() == {}
    # alice, on the room's node, never noticed anything but bob leaving
    assert cycle_names(alice) == ["connected"]
    assert alice.room.get_connection_state() == LiveKitRoom.STATE_CONNECTED

    # the game connects bob again, to the node that is left
    bob.room.connect_to_room(own_cluster.urls[ROOM_NODE], own_cluster.token("bob", room_name))
    wait_for_event(bob, "connected", count=2, also=[alice])
    wait_until(
        [alice, bob],
        lambda: "bob" in alice.room.get_remote_participants(),
        what="bob back at alice",
    )
    exchange_data(alice, bob, b"\x00after the relay node stopped\xff")
    exchange_data(bob, alice, b"\x01reply\xfe")


@pytest.mark.timeout(240)
def test_rooms_node_killed_the_room_moves_to_the_other_node_for_its_relayed_participant(
    own_cluster: LocalCluster, cluster_peers: Connect, room_name: str
) -> None:
    alice, bob = meet_across_nodes(cluster_peers, own_cluster, room_name)
    source, _, publication = publish_pattern(bob)
    stamps = Stamper(alice, bob)
    with video_feeder(source):
        wait_for_event(alice, "track_subscribed", also=[bob])
        killed = time.monotonic()
        own_cluster.nodes[ROOM_NODE].kill()
        wait_until(
            [alice, bob, stamps],
            lambda: "disconnected" in alice.names() and "reconnected" in bob.names(),
            GIVE_UP_BOUND,
            "alice's room gives up and bob's reconnects",
        )
        print(
            "[measure] room's node SIGKILL: alice reconnecting after "
            f"{stamps.after(alice, 'reconnecting', killed):.2f} s, disconnected after "
            f"{stamps.after(alice, 'disconnected', killed):.1f} s "
            f"({alice.room.get_disconnect_reason()!r}); bob reconnecting after "
            f"{stamps.after(bob, 'reconnecting', killed):.1f} s, reconnected after "
            f"{stamps.after(bob, 'reconnected', killed):.1f} s"
        )
        assert stamps.after(alice, "reconnecting", killed) < NOTICE_BOUND
        assert cycle_names(alice) == ["connected", "reconnecting", "disconnected"]
        assert alice.room.get_disconnect_reason() == "connection lost: could not reconnect"
        assert stamps.after(bob, "reconnected", killed) < MOVE_BOUND
        assert cycle_names(bob) == ["connected", "reconnecting", "reconnected"]
        assert bob.room.get_connection_state() == LiveKitRoom.STATE_CONNECTED
        assert own_cluster.room_node(room_name) == RELAY_NODE  # the room moved

        # alice connects again, to the node that is left, and meets bob and his video
        watch = VideoWatch(alice, "bob")
        try:
            alice.room.connect_to_room(
                own_cluster.urls[RELAY_NODE], own_cluster.token("alice", room_name)
            )
            wait_for_event(alice, "connected", count=2, also=[bob])
            watch.wait_for_frames([alice, bob], 5, since=time.monotonic())
        finally:
            watch.close()
    assert publication.get_sid() in (
        alice.room.get_remote_participants()["bob"].get_track_publications()
    )
    exchange_data(alice, bob, b"\x00after the room moved\xff")
    exchange_data(bob, alice, b"\x01reply\xfe")


@pytest.mark.timeout(240)
def test_rooms_node_drains_on_sigterm_and_closes_its_rooms_on_the_second(
    own_cluster: LocalCluster, cluster_peers: Connect, room_name: str
) -> None:
    alice, bob = meet_across_nodes(cluster_peers, own_cluster, room_name)
    room_node = own_cluster.nodes[ROOM_NODE]
    source, _, _ = publish_pattern(alice)
    watch = VideoWatch(bob, "alice")
    try:
        with video_feeder(source):
            watch.wait_for_frames([alice, bob], 3, since=0.0)
            room_node.terminate()
            drained = time.monotonic()
            wait_for_window([alice, bob, watch], DRAIN_WINDOW)
            # draining: the room goes on as before, media and data included
            assert room_node.is_running()
            assert watch.max_gap_since(drained, time.monotonic()) < MAX_FRAME_GAP
            exchange_data(alice, bob, b"while draining", also=[watch])
            exchange_data(bob, alice, b"while draining, back", also=[watch])
            for peer in (alice, bob):
                assert cycle_names(peer) == ["connected"]
            # ... but it takes no new room: one created through it goes to node 2
            new_room = f"{room_name}-new"
            cluster_peers(own_cluster, "carol", ROOM_NODE, new_room)
            assert own_cluster.room_node(new_room) == RELAY_NODE

            stopped = time.monotonic()
            room_node.terminate()  # the second SIGTERM forces it
            wait_until(
                [alice, bob, watch],
                lambda: (
                    "disconnected" in alice.names()
                    and ("disconnected" in bob.names() or "reconnected" in bob.names())
                ),
                SHUTDOWN_BOUND,
                "alice's room ends, bob's ends or moves",
            )
            print(
                f"[measure] second SIGTERM of the room's node: after "
                f"{time.monotonic() - stopped:.2f} s alice {cycle_names(alice)} "
                f"({alice.room.get_disconnect_reason()!r}), bob {cycle_names(bob)}"
            )
    finally:
        watch.close()
    assert cycle_names(alice) == ["connected", "disconnected"]
    assert alice.room.get_disconnect_reason() == "the server shut down"
    # bob's leave (sent by node 1) races the end of node 2's relay to node 1: either it
    # arrives, or the SDK restarts the session through node 2, which then hosts the room
    bob_moved = cycle_names(bob) == ["connected", "reconnecting", "reconnected"]
    if not bob_moved:
        assert cycle_names(bob) == ["connected", "disconnected"]
        assert bob.room.get_disconnect_reason() == "the server shut down"
    assert room_node.wait_for_exit(EXIT_BOUND)
    assert own_cluster.room_node(room_name) == (RELAY_NODE if bob_moved else None)

    # whoever was disconnected connects again, to the node that is left: the room is there
    for peer in [alice] if bob_moved else [alice, bob]:
        peer.room.connect_to_room(
            own_cluster.urls[RELAY_NODE], own_cluster.token(peer.identity, room_name)
        )
        wait_for_event(peer, "connected", count=2, also=[alice, bob])
    assert own_cluster.room_node(room_name) == RELAY_NODE
    wait_until(
        [alice, bob],
        lambda: (
            "bob" in alice.room.get_remote_participants()
            and "alice" in bob.room.get_remote_participants()
        ),
        what="alice and bob meet on node 2",
    )
    exchange_data(alice, bob, b"\x00on node 2\xff")
    exchange_data(bob, alice, b"\x01reply\xfe")


@pytest.mark.timeout(120)
def test_a_drained_node_exits_by_itself_once_its_participants_leave(
    own_cluster: LocalCluster, cluster_peers: Connect, room_name: str
) -> None:
    alice, bob = meet_across_nodes(cluster_peers, own_cluster, room_name)
    room_node = own_cluster.nodes[ROOM_NODE]
    room_node.terminate()
    exchange_data(alice, bob, b"still served")
    assert room_node.is_running()
    left = time.monotonic()
    for peer in (alice, bob):
        peer.room.disconnect_from_room()
        wait_for_event(peer, "disconnected")
    assert room_node.wait_for_exit(DRAIN_EXIT_BOUND), "the drained node did not exit"
    print(f"[measure] drained node exited {time.monotonic() - left:.1f} s after the last leave")


# --------------------------------------------------------------------------- the parts


def test_cluster_redis_listens_locally_and_keeps_nothing_on_disk(
    livekit_cluster: LocalCluster,
) -> None:
    redis = livekit_cluster.redis
    assert redis.query("PING") == "PONG"
    assert redis.query("CONFIG", "GET", "bind") == ["bind", "127.0.0.1"]
    assert redis.query("CONFIG", "GET", "save") == ["save", ""]
    assert redis.query("CONFIG", "GET", "appendonly") == ["appendonly", "no"]
    name, data_dir = redis.query("CONFIG", "GET", "dir")  # type: ignore[misc]
    assert name == "dir" and Path(str(data_dir)).name.startswith("godot-livekit-redis-")
    # both nodes registered themselves in it (livekit-server's `nodes` hash)
    assert sorted(redis.query("HKEYS", "nodes")) == sorted(  # type: ignore[type-var]
        str(node.node_id) for node in livekit_cluster.nodes
    )


def test_a_redis_of_its_own_removes_its_folder_on_stop(tmp_path: Path) -> None:
    (port,) = free_ports(1, socket.SOCK_STREAM, set())
    redis = RedisServer(port=port, log_path=tmp_path / "redis.log")
    redis.start()
    try:
        (_, data_dir) = redis.query("CONFIG", "GET", "dir")  # type: ignore[misc]
        assert Path(str(data_dir)).is_dir()
        assert redis.query("SET", "k", "v") == "OK" and redis.hget("h", "f") is None
    finally:
        redis.stop()
    assert not Path(str(data_dir)).exists()
    assert not redis.is_running()
    assert "Ready to accept connections" in (tmp_path / "redis.log").read_text()


@pytest.mark.timeout(120)
def test_dev_server_with_two_nodes_prints_both_urls_and_ctrl_c_stops_everything(
    tmp_path: Path,
) -> None:
    """What `python build.py server --nodes 2` runs (the dev server's --nodes), in the
    namespace: every node answers, one token works on each, Ctrl+C leaves nothing behind."""
    port = free_ports(1, socket.SOCK_STREAM, set())[0]
    udp_port = free_ports(1, socket.SOCK_DGRAM, {port, port + NODE_PORT_STEP})[0]
    (redis_port,) = free_ports(1, socket.SOCK_STREAM, {port, port + NODE_PORT_STEP})
    command = [sys.executable, "-m", "godot_livekit.tools.devserver", "--nodes", "2"]
    command += ["--port", str(port), "--udp-port", str(udp_port)]
    command += ["--redis-port", str(redis_port), "--log-dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = LineReader(process)
    try:
        banner = output.until("Press Ctrl+C", 60.0)
        urls = re.findall(r"node \d URL: (ws://\S+)", banner)
        assert urls == [f"ws://127.0.0.1:{port}", f"ws://127.0.0.1:{port + NODE_PORT_STEP}"]
        (token,) = re.findall(r"^  (eyJ[\w-]+\.[\w-]+\.[\w-]+)$", banner, re.MULTILINE)
        assert f"redis-server at 127.0.0.1:{redis_port}" in banner
        for url in urls:  # the printed token joins the dev room through either node
            peer = Peer("godot-player")
            peer.room.connect_to_room(url, token)
            wait_for_event(peer, "connected")
            assert peer.room.get_name() == "dev-room"
            peer.room.disconnect_from_room()
            wait_for_event(peer, "disconnected")
        process.send_signal(signal.SIGINT)
        code = process.wait(30)
        rest = output.rest(5.0)
        assert code == 0, rest
        assert "stopping the cluster" in rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    for listening in (port, port + NODE_PORT_STEP, redis_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", listening)) != 0, f"{listening} still open"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["node-1.log", "node-2.log", "redis.log"]
