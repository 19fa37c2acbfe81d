"""Remote input is untrusted: odd, huge or malformed data reaching a room must be delivered
intact or rejected cleanly; nothing may escape ``poll_events`` and the room keeps working.

Senders: a remote participant using the core (what any client can send), and the server
API (``livekit.api`` and raw Twirp requests, for what clients cannot send: data with no
sender, packets over the client limit, hand-encoded protobuf with invalid UTF-8).

Findings this file pins down (livekit-server 1.13.5):

* invalid UTF-8 in a protobuf *string* (topic, metadata, attributes, room metadata) is
  refused by the server itself (HTTP 400 "malformed"), so strings that reach a room are
  always valid UTF-8; arbitrary bytes only travel as data payloads, and arrive exactly;
* the server forwards data packets larger than the 15 KiB a client may send (60 KiB here),
  with no sender (``participant`` is ``null`` in ``data_received``);
* metadata has no size limit on this server (70 KB went through).

Real parts: the session livekit-server, the livekit SDK, the test namespace.
"""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request
from typing import Any

import pytest
from livekit import api
from peers import Peer, wait_for_event, wait_until
from session_helpers import exchange_data

from godot_livekit import LiveKitRoom, testing
from godot_livekit.local_participant import MAX_DATA_BYTES, MAX_RPC_PAYLOAD_BYTES
from godot_livekit.tools.devserver import LocalServer

INVALID_UTF8 = [b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"a\x00b\xfe"]
ODD_TEXT = [
    "",
    "\x00",
    "nul\x00in\x00the\x00middle",
    "\u202eRTL override",
    "\ufffd\ufeff",
    "emoji 🎮🕹️👾",
    "e\u0301\u0301\u0301 combining",
    "ключ 键 キー",
    "x" * 1000,
]


@pytest.fixture(autouse=True)
def no_internal_errors(caplog: pytest.LogCaptureFixture) -> Any:
    """Nothing the core does with remote input may fail inside (it would be logged)."""
    yield
    failures = [
        record
        for record in caplog.records
        if record.name.startswith("godot_livekit") and record.levelno >= logging.ERROR
    ]
    assert not failures, [record.getMessage() for record in failures]


def admin_token(server: LocalServer, room: str) -> str:
    grants = api.VideoGrants(room_admin=True, room=room)
    return api.AccessToken(server.api_key, server.api_secret).with_grants(grants).to_jwt()


def server_api(server: LocalServer, call: str, request: Any) -> Any:
    """Call a RoomService method through livekit-api (valid protobuf only)."""

    async def run() -> Any:
        async with api.LiveKitAPI(server.http_url, server.api_key, server.api_secret) as lkapi:
            return await getattr(lkapi.room, call)(request)

    return testing.run_on_runtime(run(), 10)


def raw_twirp(
    server: LocalServer, room: str, method: str, request: Any, patch: dict[bytes, bytes]
) -> tuple[int, bytes]:
    """POST a RoomService request whose encoded bytes had ``patch`` applied (same lengths,
    so the protobuf framing stays valid): the way to send what no client library can."""
    body = request.SerializeToString()
    for placeholder, replacement in patch.items():
        assert len(placeholder) == len(replacement) and body.count(placeholder) == 1
        body = body.replace(placeholder, replacement)
    http = urllib.request.Request(
        f"{server.http_url}/twirp/livekit.RoomService/{method}",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {admin_token(server, room)}",
            "Content-Type": "application/protobuf",
        },
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(http, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def received(peer: Peer) -> list[tuple[bytes, str, str | None]]:
    """(data, topic, sender identity or None) of every data packet ``peer`` got."""
    return [
        (data, topic, sender.get_identity() if sender is not None else None)
        for data, sender, _kind, topic in peer.args_of("data_received")
    ]


def still_works(alice: Peer, bob: Peer, tag: str) -> None:
    assert alice.room.get_connection_state() == LiveKitRoom.STATE_CONNECTED
    exchange_data(alice, bob, f"{tag}-out".encode())
    exchange_data(bob, alice, f"{tag}-in".encode())


# --------------------------------------------------------------------------- data


def test_data_with_arbitrary_bytes_and_odd_topics_arrives_exactly(alice_bob) -> None:
    alice, bob = alice_bob
    sent: list[tuple[bytes, str]] = [
        (b"\x00", "nul"),
        (bytes(range(256)), "every byte value"),
        (os.urandom(MAX_DATA_BYTES), "at the limit"),
        *((payload, f"invalid utf-8 {i}") for i, payload in enumerate(INVALID_UTF8)),
        *((os.urandom(16), topic) for topic in ODD_TEXT),
    ]
    for payload, topic in sent:
        bob.local.publish_data(payload, True, [], topic)
    wait_until(
        [alice, bob],
        lambda: len(alice.args_of("data_received")) >= len(sent),
        what="every packet at alice",
    )
    assert [(data, topic) for data, topic, _ in received(alice)] == sent
    assert {sender for _, _, sender in received(alice)} == {"bob"}
    with pytest.raises(ValueError, match="limit"):
        bob.local.publish_data(b"x" * (MAX_DATA_BYTES + 1), True, [], "")
    still_works(alice, bob, "data")


def test_server_sent_data_beyond_client_limits_arrives_without_a_sender(
    alice_bob, livekit_server: LocalServer, room_name: str
) -> None:
    alice, bob = alice_bob
    payloads = [os.urandom(60_000), os.urandom(MAX_DATA_BYTES + 1), *INVALID_UTF8]
    for payload in payloads:
        server_api(
            livekit_server,
            "send_data",
            api.SendDataRequest(
                room=room_name,
                data=payload,
                kind=api.DataPacket.Kind.RELIABLE,
                destination_identities=["alice"],
                topic="from-the-server",
            ),
        )
    wait_until(
        [alice, bob],
        lambda: len(alice.args_of("data_received")) >= len(payloads),
        what="the server's packets at alice",
    )
    assert received(alice) == [(payload, "from-the-server", None) for payload in payloads]
    for _data, sender, kind, _topic in alice.args_of("data_received"):
        assert sender is None and kind == LiveKitRoom.DATA_KIND_RELIABLE
    still_works(alice, bob, "server-data")


@pytest.mark.parametrize(
    ("method", "field"),
    [
        ("SendData", "topic"),
        ("UpdateParticipant", "metadata"),
        ("UpdateParticipant", "name"),
        ("UpdateParticipant", "attribute"),
        ("UpdateRoomMetadata", "metadata"),
    ],
)
def test_invalid_utf8_in_strings_is_refused_before_it_reaches_a_room(
    alice_bob, livekit_server: LocalServer, room_name: str, method: str, field: str
) -> None:
    alice, bob = alice_bob
    bad = b"\xff\xfe\xc3(\xed\xa0\x80"
    placeholder = "P" * len(bad)
    requests = {
        ("SendData", "topic"): api.SendDataRequest(
            room=room_name, data=b"x", kind=api.DataPacket.Kind.RELIABLE, topic=placeholder
        ),
        ("UpdateParticipant", "metadata"): api.UpdateParticipantRequest(
            room=room_name, identity="alice", metadata=placeholder
        ),
        ("UpdateParticipant", "name"): api.UpdateParticipantRequest(
            room=room_name, identity="alice", name=placeholder
        ),
        ("UpdateParticipant", "attribute"): api.UpdateParticipantRequest(
            room=room_name, identity="alice", attributes={"key": placeholder}
        ),
        ("UpdateRoomMetadata", "metadata"): api.UpdateRoomMetadataRequest(
            room=room_name, metadata=placeholder
        ),
    }
    status, body = raw_twirp(
        livekit_server, room_name, method, requests[(method, field)], {placeholder.encode(): bad}
    )
    assert status == 400 and b"malformed" in body, (status, body)
    still_works(alice, bob, f"utf8-{method}-{field}")
    assert received(alice) == [(f"utf8-{method}-{field}-in".encode(), "check", "bob")]
    assert "participant_metadata_changed" not in alice.names()
    assert "participant_name_changed" not in alice.names()
    assert "participant_attributes_changed" not in alice.names()
    assert "room_metadata_changed" not in alice.names()


# --------------------------------------------------------------------------- metadata


def test_odd_and_huge_metadata_names_and_attributes_arrive_intact(
    alice_bob, livekit_server: LocalServer, room_name: str
) -> None:
    alice, bob = alice_bob
    metadata = "\x00".join(ODD_TEXT) + "m" * 70_000
    name = "\u202e🎮 " + "n" * 248  # 256 bytes: the server refuses longer names
    with pytest.raises(api.TwirpError, match="name length"):
        server_api(
            livekit_server,
            "update_participant",
            api.UpdateParticipantRequest(room=room_name, identity="bob", name="n" * 257),
        )
    attributes = {f"{text[:20]}-{i}": text for i, text in enumerate(ODD_TEXT) if text}
    attributes.update({f"k{i}": "v" * 100 for i in range(200)})
    server_api(
        livekit_server,
        "update_participant",
        api.UpdateParticipantRequest(
            room=room_name, identity="bob", metadata=metadata, name=name, attributes=attributes
        ),
    )
    room_metadata = "\ufeff" + "r" * 20_000 + "\x00"
    server_api(
        livekit_server,
        "update_room_metadata",
        api.UpdateRoomMetadataRequest(room=room_name, metadata=room_metadata),
    )
    remote_bob = alice.room.get_remote_participants()["bob"]
    wait_until(
        [alice, bob],
        lambda: (
            remote_bob.get_metadata() == metadata
            and remote_bob.get_name() == name
            and remote_bob.get_attributes() == attributes
            and alice.room.get_metadata() == room_metadata
        ),
        what="bob's new metadata, name and attributes and the room metadata at alice",
    )
    wait_for_event(alice, "room_metadata_changed", also=[bob])
    (_, _old, new) = wait_for_event(alice, "participant_metadata_changed", also=[bob])
    assert new == metadata
    changed = [args[1] for args in alice.args_of("participant_attributes_changed")]
    assert {k: v for batch in changed for k, v in batch.items()} == attributes
    # bob's own view agrees: his local participant took the server's values
    wait_until([alice, bob], lambda: bob.local.get_metadata() == metadata, what="bob's view")
    # and the client path: bob sets odd attributes himself
    bob.local.set_attributes({text or "empty-key-avoided": text + "!" for text in ODD_TEXT})
    wait_until(
        [alice, bob],
        lambda: remote_bob.get_attributes().get("\x00") == "\x00!",
        what="bob's own odd attributes at alice",
    )
    still_works(alice, bob, "metadata")


# --------------------------------------------------------------------------- RPC


@pytest.fixture
def echo_pair(alice_bob) -> tuple[Peer, Peer]:
    """alice answers "echo" with the payload and "double" with it twice; an answer over
    the limit is refused by respond_to_rpc and sent as an error instead."""
    alice, bob = alice_bob
    alice.local.register_rpc_method("echo")
    alice.local.register_rpc_method("double")

    def answer(method: str, request_id: str, _caller: str, payload: str, _timeout: float) -> None:
        reply = payload * 2 if method == "double" else payload
        try:
            alice.local.respond_to_rpc(request_id, reply)
        except ValueError as error:
            alice.local.respond_to_rpc_error(request_id, 413, str(error))

    alice.local.rpc_method_invoked.connect(answer)
    return alice, bob


def rpc(caller: Peer, callee: Peer, method: str, payload: str) -> tuple[str, str]:
    """Perform one RPC and wait for its outcome: ("ok", result) or ("error", message)."""
    before = len(caller.args_of("rpc_response_received")) + len(caller.args_of("rpc_error"))
    caller.local.perform_rpc(callee.identity, method, payload, 5.0)
    wait_until(
        [caller, callee],
        lambda: (
            len(caller.args_of("rpc_response_received")) + len(caller.args_of("rpc_error")) > before
        ),
        timeout=10.0,
        what=f"the outcome of {method!r}",
    )
    last = next(
        (name, args)
        for name, args in reversed(caller.events)
        if name in ("rpc_response_received", "rpc_error")
    )
    return ("ok" if last[0] == "rpc_response_received" else "error", last[1][1])


def test_rpc_payloads_at_the_limit_and_odd_text(echo_pair) -> None:
    alice, bob = echo_pair
    at_limit = "p" * MAX_RPC_PAYLOAD_BYTES
    assert rpc(bob, alice, "echo", at_limit) == ("ok", at_limit)
    for text in ODD_TEXT:
        assert rpc(bob, alice, "echo", text) == ("ok", text)
    # multi-byte text counts in bytes: 4 000 emoji are 16 000 bytes, over the limit
    outcome, message = rpc(bob, alice, "echo", "👾" * 4000)
    assert outcome == "error" and "too large" in message, message
    outcome, message = rpc(bob, alice, "echo", "p" * (MAX_RPC_PAYLOAD_BYTES + 1))
    assert outcome == "error" and "too large" in message, message
    for method in ("\x00", "🎮" * 64, "m" * 1000, "echo\n"):
        outcome, message = rpc(bob, alice, method, "?")
        assert outcome == "error" and message, (method, message)
    invoked = alice.args_of("rpc_method_invoked")
    assert [args[3] for args in invoked] == [at_limit, *ODD_TEXT]
    still_works(alice, bob, "rpc")


def test_rpc_answer_too_large_for_the_limit_is_refused_and_reported(echo_pair) -> None:
    alice, bob = echo_pair
    request = "é" * (MAX_RPC_PAYLOAD_BYTES // 4 + 1)  # 2 bytes each: the answer is over
    outcome, message = rpc(bob, alice, "double", request)
    assert outcome == "error" and "limit" in message and "(code 413)" in message, message
    assert rpc(bob, alice, "double", "ok") == ("ok", "okok")
    still_works(alice, bob, "rpc-answer")
