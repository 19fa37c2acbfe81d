"""Data messages, participant metadata/name/attributes, room metadata and stale objects.

Real parts: livekit-server, the livekit SDK over the test namespace's network, and the
server API (livekit-api) for server-side changes.
"""

from __future__ import annotations

import logging
import os

import pytest
from livekit import api
from peers import wait_for_event, wait_until

from godot_livekit import LiveKitError, LiveKitLocalParticipant, LiveKitRoom, LiveKitTrack, testing
from godot_livekit.local_participant import MAX_DATA_BYTES
from godot_livekit.tools.devserver import LocalServer


@pytest.fixture
def trio(connect_peer):
    alice = connect_peer("alice")
    bob = connect_peer("bob")
    carol = connect_peer("carol")
    for peer in (alice, bob, carol):
        wait_until(
            [alice, bob, carol],
            lambda p=peer: len(p.room.get_remote_participants()) == 2,
            what=f"{peer.identity} sees both others",
        )
    return alice, bob, carol


def test_data_to_everyone_arrives_with_bytes_sender_kind_and_topic(trio) -> None:
    alice, bob, carol = trio
    payload = os.urandom(4000)
    alice.local.publish_data(payload, True, [], "game-state")
    for peer in (bob, carol):
        data, sender, kind, topic = wait_for_event(peer, "data_received", also=trio)
        assert data == payload
        assert sender is peer.room.get_remote_participants()["alice"]
        assert kind == LiveKitRoom.DATA_KIND_RELIABLE
        assert topic == "game-state"
    assert alice.args_of("data_received") == []


def test_data_to_one_identity_reaches_only_that_peer(trio) -> None:
    alice, bob, carol = trio
    alice.local.publish_data(b"for-bob-only", True, ["bob"], "")
    data, sender, _, topic = wait_for_event(bob, "data_received", also=trio)
    assert (data, sender.get_identity(), topic) == (b"for-bob-only", "alice", "")
    # a later broadcast reaches carol first-and-only, proving the direct one never did
    alice.local.publish_data(b"everyone", True, [], "")
    wait_for_event(carol, "data_received", also=trio)
    assert [args[0] for args in carol.args_of("data_received")] == [b"everyone"]


def test_topics_and_lossy_kind_are_kept_in_order(trio) -> None:
    alice, bob, _ = trio
    for index, topic in enumerate(["chat", "position", "chat"]):
        alice.local.publish_data(f"m{index}".encode(), True, [], topic)
    alice.local.publish_data(b"lossy", False, ["bob"], "position")
    wait_for_event(bob, "data_received", count=4, also=trio)
    # reliable packets keep their order; the lossy one travels on its own channel and may
    # overtake them
    reliable = [(d, t) for d, _, k, t in bob.args_of("data_received") if k == 1]
    assert reliable == [(b"m0", "chat"), (b"m1", "position"), (b"m2", "chat")]
    (lossy,) = [args for args in bob.args_of("data_received") if args[0] == b"lossy"]
    assert lossy[2] == LiveKitRoom.DATA_KIND_LOSSY and lossy[3] == "position"


def test_publish_data_refuses_oversize_and_bad_arguments(connect_peer) -> None:
    alice = connect_peer("alice")
    with pytest.raises(ValueError, match="limit is 15360 bytes"):
        alice.local.publish_data(b"x" * (MAX_DATA_BYTES + 1), True, [], "")
    with pytest.raises(TypeError):
        alice.local.publish_data(12345, True, [], "")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        alice.local.publish_data(b"ok", True, "bob", "")  # a string, not a list
    alice.local.publish_data(b"x" * MAX_DATA_BYTES, True, [], "")  # the limit itself is fine


def test_metadata_name_and_attributes_seen_by_peer_with_old_and_new(connect_peer) -> None:
    alice = connect_peer("alice", name="Alice", metadata="m0", attributes={"team": "red"})
    bob = connect_peer("bob")
    wait_until([alice, bob], lambda: "alice" in bob.room.get_remote_participants(), what="join")
    alice_at_bob = bob.room.get_remote_participants()["alice"]
    assert alice_at_bob.get_attributes() == {"team": "red"}

    alice.local.set_metadata("m1")
    participant, old, new = wait_for_event(bob, "participant_metadata_changed", also=[alice])
    assert (participant, old, new) == (alice_at_bob, "m0", "m1")
    assert alice_at_bob.get_metadata() == "m1"

    alice.local.set_name("Alice the Brave")
    participant, old, new = wait_for_event(bob, "participant_name_changed", also=[alice])
    assert (participant, old, new) == (alice_at_bob, "Alice", "Alice the Brave")
    assert alice_at_bob.get_name() == "Alice the Brave"

    alice.local.set_attributes({"team": "blue", "hp": "100"})
    participant, changed = wait_for_event(bob, "participant_attributes_changed", also=[alice])
    assert participant is alice_at_bob
    assert changed == {"team": "blue", "hp": "100"}
    assert alice_at_bob.get_attributes() == {"team": "blue", "hp": "100"}

    # the local side sees its own changes too
    wait_for_event(alice, "participant_attributes_changed", also=[bob])
    assert alice.local.get_metadata() == "m1"
    assert alice.local.get_name() == "Alice the Brave"
    assert bob.names().count("participant_name_changed") == 1


def test_set_attributes_turns_numbers_into_text_as_gdscript_does(connect_peer) -> None:
    alice = connect_peer("alice")
    bob = connect_peer("bob")
    alice.local.set_attributes({"hp": 100, "alive": True, "speed": 2.5})  # type: ignore[dict-item]
    wait_until(
        [alice, bob],
        lambda: alice.local.get_attributes() == {"hp": "100", "alive": "true", "speed": "2.5"},
        what="alice's attributes as text",
    )
    with pytest.raises(TypeError):
        alice.local.set_attributes({"inventory": ["sword"]})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        alice.local.set_metadata(None)  # type: ignore[arg-type]


def test_room_metadata_change_reaches_everyone(
    connect_peer, livekit_server: LocalServer, room_name: str
) -> None:
    alice = connect_peer("alice")
    bob = connect_peer("bob")

    async def update() -> None:
        async with api.LiveKitAPI(
            livekit_server.http_url, livekit_server.api_key, livekit_server.api_secret
        ) as lkapi:
            await lkapi.room.update_room_metadata(
                api.UpdateRoomMetadataRequest(room=room_name, metadata="round-2")
            )

    testing.run_on_runtime(update(), 10)
    for peer in (alice, bob):
        assert wait_for_event(peer, "room_metadata_changed", also=[alice, bob]) == ("", "round-2")
        assert peer.room.get_metadata() == "round-2"


def test_connection_quality_is_reported_per_participant(connect_peer) -> None:
    alice = connect_peer("alice")
    connect_peer("bob")
    participant, quality = wait_for_event(alice, "connection_quality_changed", timeout=20)
    assert participant.get_identity() in {"alice", "bob"}
    assert quality in (0, 1, 2, 3)


def test_participant_objects_go_stale_after_leaving(connect_peer) -> None:
    alice = connect_peer("alice")
    bob = connect_peer("bob", metadata="bob-meta", attributes={"a": "b"})
    wait_until([alice, bob], lambda: "bob" in alice.room.get_remote_participants(), what="join")
    bob_at_alice = alice.room.get_remote_participants()["bob"]
    seen_inside_handler: list[str] = []
    alice.room.participant_disconnected.connect(
        lambda p: seen_inside_handler.append(p.get_identity())
    )
    bob.room.disconnect_from_room()
    wait_for_event(alice, "participant_disconnected", also=[bob])
    assert seen_inside_handler == ["bob"]  # still readable while the signal runs
    assert bob_at_alice.is_stale()
    assert bob_at_alice.get_identity() == ""
    assert bob_at_alice.get_sid() == ""
    assert bob_at_alice.get_metadata() == ""
    assert bob_at_alice.get_attributes() == {}
    assert bob_at_alice.get_kind() == 0
    assert bob_at_alice.get_track_publications() == {}


def test_everything_goes_stale_after_room_disconnect(connect_peer) -> None:
    alice = connect_peer("alice")
    bob = connect_peer("bob")
    wait_until([alice, bob], lambda: "bob" in alice.room.get_remote_participants(), what="join")
    bob_at_alice = alice.room.get_remote_participants()["bob"]
    local = alice.local
    alice.room.disconnect_from_room()
    for participant in (bob_at_alice, local):
        assert participant.get_identity() == "" and participant.get_name() == ""
        assert participant.get_attributes() == {}
    with pytest.raises(LiveKitError, match="not connected"):
        local.publish_data(b"late", True, [], "")
    with pytest.raises(LiveKitError, match="not connected"):
        local.set_metadata("late")
    local.perform_rpc("bob", "m", "p", 1.0)  # reported as a signal, never raised
    wait_for_event(alice, "rpc_error")
    assert alice.args_of("rpc_error")[0] == ("m", "not connected to a room")


def test_an_unbound_participant_or_track_says_so(caplog: pytest.LogCaptureFixture) -> None:
    """What GDScript's ``.new()`` makes has nothing behind it: the calls that cannot reach
    anything warn "not bound", as the original does, instead of doing nothing silently."""
    caplog.set_level(logging.WARNING)
    LiveKitLocalParticipant().unregister_rpc_method("m")
    LiveKitTrack().request_stats()
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2, warned
    assert warned[0].startswith("unregister_rpc_method") and "not bound" in warned[0]
    assert warned[1].startswith("request_stats") and "not bound" in warned[1]
