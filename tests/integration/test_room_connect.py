"""Connecting, disconnecting, reconnecting and failing, against the real livekit-server.

Real parts: livekit-server (tests/conftest.py), the livekit SDK, loopback and the test
namespace's veth pair.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from livekit import api, rtc
from peers import Peer, wait_for_event, wait_until

from godot_livekit import LiveKitRoom, links, poller, testing
from godot_livekit.tools.devserver import LocalServer


class SilentServer:
    """A TCP port that takes connections into its backlog but never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"ws://127.0.0.1:{self.sock.getsockname()[1]}"

    def wait_for_client(self, timeout: float = 5.0) -> bool:
        """True once a client's connection is waiting in the backlog."""
        readable, _, _ = select.select([self.sock], [], [], timeout)
        return bool(readable)


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.sock.close()


def test_connect_emits_connected_and_fills_room_state(connect_peer, room_name: str) -> None:
    alice = connect_peer("alice")
    room = alice.room
    assert room.get_connection_state() == LiveKitRoom.STATE_CONNECTED == room.connection_state
    assert room.get_name() == room_name == room.name
    wait_until([alice], lambda: room.get_sid().startswith("RM_"), what="room sid")
    assert room.sid == room.get_sid()
    local = room.get_local_participant()
    assert local is room.local_participant
    assert local.get_identity() == "alice"
    assert local.get_sid().startswith("PA_")
    assert room.get_remote_participants() == {}
    assert alice.names().count("connected") == 1
    assert "connection_failed" not in alice.names()


def test_participants_join_and_leave_with_signals(connect_peer) -> None:
    alice = connect_peer("alice")
    bob = connect_peer("bob", metadata="bob-meta", name="Bob")
    (joined,) = wait_for_event(alice, "participant_connected", also=[bob])
    assert joined.get_identity() == "bob"
    assert joined.get_name() == "Bob"
    assert joined.get_metadata() == "bob-meta"
    assert joined.get_kind() == joined.KIND_STANDARD
    assert alice.room.get_remote_participants() == {"bob": joined}
    assert alice.room.remote_participants["bob"] is joined
    # bob joined after alice: alice is already in his room at connect, without a signal
    assert set(bob.room.get_remote_participants()) == {"alice"}
    assert "participant_connected" not in bob.names()

    bob.room.disconnect_from_room()
    (left,) = wait_for_event(alice, "participant_disconnected", also=[bob])
    assert left is joined
    assert alice.room.get_remote_participants() == {}
    wait_for_event(bob, "disconnected")
    assert bob.room.get_connection_state() == LiveKitRoom.STATE_DISCONNECTED


def test_disconnect_emits_disconnected_once_and_clears_state(connect_peer) -> None:
    alice = connect_peer("alice")
    connect_peer("bob")
    wait_until([alice], lambda: "bob" in alice.room.get_remote_participants(), what="bob")
    alice.room.disconnect_from_room()
    assert alice.room.get_connection_state() == LiveKitRoom.STATE_DISCONNECTED
    wait_for_event(alice, "disconnected")
    alice.poll()
    assert alice.names().count("disconnected") == 1
    assert alice.room.get_remote_participants() == {}
    assert alice.room.get_sid() == "" and alice.room.get_name() == ""
    assert alice.room.get_disconnect_reason() == "client initiated"
    alice.room.disconnect_from_room()  # a second call is a no-op
    alice.poll()
    assert alice.names().count("disconnected") == 1


def test_server_removing_participant_emits_disconnected(
    connect_peer, livekit_server: LocalServer, room_name: str
) -> None:
    alice = connect_peer("alice")

    async def remove() -> None:
        async with api.LiveKitAPI(
            livekit_server.http_url, livekit_server.api_key, livekit_server.api_secret
        ) as lkapi:
            await lkapi.room.remove_participant(
                api.RoomParticipantIdentity(room=room_name, identity="alice")
            )

    testing.run_on_runtime(remove(), timeout=10)
    wait_for_event(alice, "disconnected")
    assert alice.room.get_connection_state() == LiveKitRoom.STATE_DISCONNECTED
    assert "removed" in alice.room.get_disconnect_reason()


def test_reconnect_emits_reconnecting_then_reconnected(connect_peer) -> None:
    alice = connect_peer("alice")
    bob = connect_peer("bob")
    sdk_room = links.sdk_of(alice.room)
    assert sdk_room is not None
    testing.run_on_runtime(
        sdk_room.simulate_scenario(rtc.SimulateScenarioKind.SIMULATE_FULL_RECONNECT), 10
    )
    wait_for_event(alice, "reconnected", also=[bob])
    names = alice.names()
    assert names.index("reconnecting") < names.index("reconnected")
    assert names.count("reconnecting") == 1 and names.count("reconnected") == 1
    assert alice.room.get_connection_state() == LiveKitRoom.STATE_CONNECTED
    # the session still works: data reaches the peer afterwards
    alice.local.publish_data(b"after-reconnect", True, [], "")
    (data, sender, _kind, _topic) = wait_for_event(bob, "data_received", also=[alice])
    assert data == b"after-reconnect" and sender.get_identity() == "alice"


def test_reconnect_with_auto_reconnect_off_ends_disconnected(connect_peer) -> None:
    alice = connect_peer("alice", {"auto_reconnect": False})
    sdk_room = links.sdk_of(alice.room)
    assert sdk_room is not None
    testing.run_on_runtime(
        sdk_room.simulate_scenario(rtc.SimulateScenarioKind.SIMULATE_SIGNAL_RECONNECT), 10
    )
    wait_for_event(alice, "disconnected")
    assert alice.room.get_connection_state() == LiveKitRoom.STATE_DISCONNECTED
    assert "reconnected" not in alice.names()
    assert "auto_reconnect" in alice.room.get_disconnect_reason()


def _failure(peer: Peer, url: str, token: str, timeout: float = 5.0) -> tuple[str, float]:
    started = time.monotonic()
    peer.room.connect_to_room(url, token, {"connect_timeout": timeout})
    (error,) = wait_for_event(peer, "connection_failed", timeout=timeout + 2.0)
    elapsed = time.monotonic() - started
    assert peer.room.get_connection_state() == LiveKitRoom.STATE_DISCONNECTED
    assert "connected" not in peer.names()
    return error, elapsed


def test_connection_failures_have_distinct_reasons(
    livekit_server: LocalServer, make_token, room_name: str
) -> None:
    good = make_token("x")
    closed_port = socket.socket()
    closed_port.bind(("127.0.0.1", 0))
    unreachable = f"ws://127.0.0.1:{closed_port.getsockname()[1]}"  # bound, not listening
    wrong_secret = api.AccessToken(livekit_server.api_key, "w" * 40).with_identity("x")
    wrong_secret = wrong_secret.with_grants(api.VideoGrants(room_join=True, room=room_name))
    expired = (
        api.AccessToken(livekit_server.api_key, livekit_server.api_secret)
        .with_identity("x")
        .with_grants(api.VideoGrants(room_join=True, room=room_name))
        .with_ttl(timedelta(seconds=-120))
    )
    cases = {
        "bad url": ("not a url", good),
        "unreachable": (unreachable, good),
        "invalid token": (livekit_server.url, wrong_secret.to_jwt()),
        "garbage token": (livekit_server.url, "garbage"),
        "expired token": (livekit_server.url, expired.to_jwt()),
    }
    reasons = {}
    for label, (url, token) in cases.items():
        error, elapsed = _failure(Peer(label), url, token)
        assert elapsed < 5.0, f"{label}: took {elapsed:.1f}s"
        assert token not in error, "a token leaked into an error message"
        reasons[label] = error
    closed_port.close()
    assert reasons["bad url"].startswith("invalid URL")
    assert reasons["unreachable"].startswith("server unreachable")
    assert reasons["invalid token"].startswith("invalid token")
    assert "rejected" in reasons["invalid token"]
    assert reasons["garbage token"].startswith("invalid token: not a LiveKit access token")
    assert reasons["expired token"].startswith("token expired")
    assert len({r.split(":")[0] for r in reasons.values()}) == 4  # url/unreachable/invalid/expired


def test_connect_timeout_reports_timeout(silent_server: SilentServer, make_token) -> None:
    peer = Peer("slow")
    error, elapsed = _failure(peer, silent_server.url, make_token("slow"), timeout=1.5)
    assert error.startswith("timed out"), error
    assert 1.4 <= elapsed < 3.0


def test_a_token_is_the_servers_to_judge(silent_server: SilentServer) -> None:
    """As the original and the SDKs: a token that is not a JWT (or expired by this machine's
    clock, which may be wrong) still goes to the server; one that never answers times out."""
    peer = Peer("unjudged")
    error, elapsed = _failure(peer, silent_server.url, "invalid-token", timeout=1.0)
    assert error.startswith("timed out"), error
    assert elapsed >= 0.9


def test_disconnect_during_connect_returns_at_once(silent_server: SilentServer, make_token) -> None:
    peer = Peer("impatient")
    peer.room.connect_to_room(silent_server.url, make_token("impatient"), {"connect_timeout": 10})
    assert silent_server.wait_for_client(), "the connect attempt never reached the server"
    # in flight: the reference's three states have no "connecting" (README); is_connecting says it
    peer.poll()
    assert peer.room.get_connection_state() == LiveKitRoom.STATE_DISCONNECTED
    assert peer.room.is_connecting()
    started = time.monotonic()
    peer.room.disconnect_from_room()
    assert time.monotonic() - started < 0.1
    assert peer.room.get_connection_state() == LiveKitRoom.STATE_DISCONNECTED
    wait_for_event(peer, "disconnected")  # a cancel is not a failure: no connection_failed
    assert "cancelled" in peer.room.get_disconnect_reason()
    assert not peer.room.is_connecting()
    assert peer.room.wait_idle(15.0)
    peer.poll()
    assert "connection_failed" not in peer.names(), peer


def test_bad_options_fail_clearly(make_token, livekit_server: LocalServer) -> None:
    peer = Peer("opts")
    peer.room.connect_to_room(livekit_server.url, make_token("opts"), {"connect_timeout": "soon"})
    (error,) = wait_for_event(peer, "connection_failed")
    assert "connect_timeout" in error


def test_auto_poll_through_the_poller_registry(connect_peer) -> None:
    alice = connect_peer("alice")
    alice.room.set_auto_poll(True)
    assert alice.room.get_auto_poll() and alice.room.auto_poll
    assert alice.room in poller.registered()
    connect_peer("bob")
    # only the process-wide poller pumps alice now (the test peers' own auto_poll is off)
    assert poller.pump_until(lambda: "participant_connected" in alice.names(), 15.0)
    alice.room.auto_poll = False
    assert not alice.room.get_auto_poll()


def test_fifty_connect_disconnect_cycles_leave_nothing_behind(
    livekit_server: LocalServer, make_token, room_name: str
) -> None:
    peer = Peer("cycler")
    token = make_token("cycler")
    for _ in range(2):  # warm up the SDK's runtime before counting threads
        peer.room.connect_to_room(livekit_server.url, token, {})
        wait_for_event(peer, "connected", count=len(peer.args_of("connected")) + 1)
        peer.room.disconnect_from_room()
        assert peer.room.wait_idle(10)
    threads_before = threading.active_count()
    connected_before = len(peer.args_of("connected"))
    for cycle in range(50):
        peer.room.connect_to_room(livekit_server.url, token, {})
        wait_for_event(peer, "connected", count=connected_before + cycle + 1)
        peer.room.disconnect_from_room()
        peer.poll()
    assert peer.room.wait_idle(15)
    peer.poll()
    assert peer.names().count("disconnected") == 52
    assert "connection_failed" not in peer.names()
    assert threading.active_count() <= threads_before

    async def participants() -> list[str]:
        async with api.LiveKitAPI(
            livekit_server.http_url, livekit_server.api_key, livekit_server.api_secret
        ) as lkapi:
            response = await lkapi.room.list_participants(
                api.ListParticipantsRequest(room=room_name)
            )
            return [p.identity for p in response.participants]

    wait_until([], lambda: testing.run_on_runtime(participants(), 10) == [], what="empty room")


def test_objects_a_game_keeps_do_not_keep_the_sdk_room_alive(connect_peer) -> None:
    """Under py4godot a game's objects are never freed: after a disconnect, what they reach
    must not hold the SDK's room (its native side would stay allocated per session)."""
    import gc
    import weakref

    alice = connect_peer("alice")
    bob = connect_peer("bob")
    wait_until([alice, bob], lambda: "bob" in alice.room.get_remote_participants(), what="bob")
    kept = [alice.room, alice.local, *alice.room.get_remote_participants().values()]
    kept += [p for r in kept[2:] for p in r.get_track_publications().values()]
    sdk_room = weakref.ref(links.sdk_of(alice.room))
    alice.room.disconnect_from_room()
    wait_for_event(alice, "disconnected")
    assert alice.room.wait_idle(15.0)
    gc.collect()
    assert sdk_room() is None, gc.get_referrers(sdk_room())
    assert all(obj is not None for obj in kept)
