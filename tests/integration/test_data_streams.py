"""Data streams (text and byte streams) between real participants.

Real parts: livekit-server, the livekit SDK over the test namespace's network; a
misbehaving sender (``RawStreamSender``) sends raw stream packets through the SDK's FFI.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
from peers import Peer, wait_for_event, wait_until
from stream_helpers import RawStreamSender

from godot_livekit import LiveKitError, LiveKitRoom
from godot_livekit.data_streams import MAX_STREAM_BYTES
from godot_livekit.stream_sending import MAX_WRITER_PENDING_BYTES, PIECE_BYTES, PIECE_CHARS

INFO_KEYS = {
    "id",
    "kind",
    "topic",
    "sender_identity",
    "mime_type",
    "name",
    "total_size",
    "attributes",
    "timestamp",
}
CHUNKS = {"delivery": LiveKitRoom.STREAM_CHUNKS}


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


def unicode_text(characters: int, seed: int = 7) -> str:
    """Text mixing 1-, 2-, 3- and 4-byte UTF-8 characters."""
    alphabet = "aZ9 \n" + "éßж" + "€漢字" + "😀🎮𝄞"
    rng = random.Random(seed)
    return "".join(rng.choices(alphabet, k=characters))


def sent_outcome(sender: Peer, stream_id: str, peers: list[Peer]) -> list[tuple[int, int]]:
    """Wait for ``stream_sent(stream_id)``; returns its progress reports (sent, total)."""
    wait_until(
        peers,
        lambda: (
            (stream_id,) in sender.args_of("stream_sent")
            or any(args[0] == stream_id for args in sender.args_of("stream_failed"))
        ),
        timeout=60.0,
        what=f"stream {stream_id} sent",
    )
    failures = [args for args in sender.args_of("stream_failed") if args[0] == stream_id]
    assert not failures, failures
    return [(s, t) for i, s, t in sender.args_of("stream_progress") if i == stream_id]


def only_stream_events(peer: Peer) -> list[tuple[str, tuple]]:
    names = (
        "text_stream_received",
        "byte_stream_received",
        "text_stream_chunk_received",
        "byte_stream_chunk_received",
        "stream_finished",
        "stream_error",
    )
    return [(name, args) for name, args in peer.events if name in names]


# -- text -----------------------------------------------------------------------------------


def test_send_text_arrives_whole_with_its_info_and_progress(alice_bob) -> None:
    alice, bob = alice_bob
    bob.room.register_text_stream_handler("chat")
    before = time.time() * 1000
    stream_id = alice.local.send_text("héllo wörld 😀", "chat", {"attributes": {"lang": "fr"}})
    info, text = wait_for_event(bob, "text_stream_received", also=[alice])
    assert text == "héllo wörld 😀"
    assert set(info) == INFO_KEYS
    assert info["id"] == stream_id
    assert (info["kind"], info["topic"], info["sender_identity"]) == ("text", "chat", "alice")
    assert info["mime_type"] == "text/plain" and info["name"] == ""
    assert info["attributes"] == {"lang": "fr"}
    assert before - 5000 <= info["timestamp"] <= time.time() * 1000 + 5000
    size = len("héllo wörld 😀".encode())
    assert sent_outcome(alice, stream_id, [alice, bob])[-1] == (size, size)


def test_multi_megabyte_unicode_text_arrives_exactly_whole_and_in_chunks(alice_bob) -> None:
    alice, bob = alice_bob
    text = unicode_text(700_000)  # about 1.9 MB of UTF-8, many pieces
    size = len(text.encode("utf-8"))
    bob.room.register_text_stream_handler("whole")
    bob.room.register_text_stream_handler("parts", CHUNKS)
    whole_id = alice.local.send_text(text, "whole")
    parts_id = alice.local.send_text(text, "parts")
    wait_for_event(bob, "text_stream_received", also=[alice], timeout=60.0)
    wait_for_event(bob, "stream_finished", also=[alice], timeout=60.0)
    ((info, received),) = bob.args_of("text_stream_received")
    assert info["id"] == whole_id and received == text
    chunks = bob.args_of("text_stream_chunk_received")
    assert {c[0]["id"] for c in chunks} == {parts_id}
    assert len(chunks) > 10 and "".join(c[1] for c in chunks) == text
    assert bob.args_of("stream_finished")[0][0]["id"] == parts_id
    for stream_id in (whole_id, parts_id):
        progress = sent_outcome(alice, stream_id, [alice, bob])
        assert len(progress) >= size // (4 * PIECE_CHARS)
        assert progress == sorted(progress) and progress[-1] == (size, size)


def test_text_writer_chunks_join_to_what_was_written(alice_bob) -> None:
    alice, bob = alice_bob
    bob.room.register_text_stream_handler("story", CHUNKS)
    writer = alice.local.stream_text("story", {"attributes": {"part": "1"}})
    pieces = ["a€", "😀" * 5000, "", "漢" * 30_000, "end"]
    for piece in pieces:
        writer.write(piece)
    writer.close()
    writer.close()  # idempotent
    assert not writer.is_open()
    with pytest.raises(LiveKitError, match="closed"):
        writer.write("late")
    wait_for_event(bob, "stream_finished", also=[alice], timeout=30.0)
    chunks = bob.args_of("text_stream_chunk_received")
    assert "".join(text for _, text in chunks) == "".join(pieces)
    assert all(info["id"] == writer.get_stream_id() for info, _ in chunks)
    assert chunks[0][0]["total_size"] == -1 and chunks[0][0]["attributes"] == {"part": "1"}
    progress = sent_outcome(alice, writer.get_stream_id(), [alice, bob])
    total = len("".join(pieces).encode())
    assert progress[-1] == (total, -1)
    assert writer.get_pending_bytes() == 0 and writer.get_written_bytes() == total


# -- bytes and files ------------------------------------------------------------------------


def test_multi_megabyte_bytes_arrive_exactly_with_name_type_and_progress(alice_bob) -> None:
    alice, bob = alice_bob
    payload = os.urandom(5 * 1024 * 1024 + 123)
    bob.room.register_byte_stream_handler("level")
    stream_id = alice.local.send_bytes(
        payload, "level", {"name": "level1.bin", "mime_type": "application/x-level"}
    )
    info, data = wait_for_event(bob, "byte_stream_received", also=[alice], timeout=90.0)
    assert data == payload
    assert (info["id"], info["kind"], info["name"]) == (stream_id, "bytes", "level1.bin")
    assert (info["mime_type"], info["total_size"]) == ("application/x-level", len(payload))
    progress = sent_outcome(alice, stream_id, [alice, bob])
    assert len(progress) == -(-len(payload) // PIECE_BYTES)
    assert progress == sorted(progress) and progress[-1] == (len(payload), len(payload))


def test_file_arrives_whole_and_in_chunks_named_and_typed_by_the_file(
    alice_bob, tmp_path: Path
) -> None:
    alice, bob = alice_bob
    content = os.urandom(3 * 1024 * 1024 + 7)
    path = tmp_path / "screenshot.png"
    path.write_bytes(content)
    bob.room.register_byte_stream_handler("files")
    bob.room.register_byte_stream_handler("file-parts", CHUNKS)
    whole_id = alice.local.send_file(str(path), "files")
    parts_id = alice.local.send_file(str(path), "file-parts", {"name": "renamed.dat"})
    info, data = wait_for_event(bob, "byte_stream_received", also=[alice], timeout=90.0)
    assert data == content and info["id"] == whole_id
    assert (info["name"], info["mime_type"], info["total_size"]) == (
        "screenshot.png",
        "image/png",
        len(content),
    )
    (finished,) = [wait_for_event(bob, "stream_finished", also=[alice], timeout=90.0)]
    assert finished[0]["id"] == parts_id and finished[0]["name"] == "renamed.dat"
    chunks = bob.args_of("byte_stream_chunk_received")
    assert b"".join(chunk for _, chunk in chunks) == content and len(chunks) > 1
    for stream_id in (whole_id, parts_id):
        assert sent_outcome(alice, stream_id, [alice, bob])[-1] == (len(content), len(content))


def test_byte_writer_with_total_size(alice_bob) -> None:
    alice, bob = alice_bob
    bob.room.register_byte_stream_handler("upload")
    writer = alice.local.stream_bytes("upload", {"name": "blob", "total_size": 300_000})
    parts = [os.urandom(100_000) for _ in range(3)]
    for part in parts:
        writer.write(part)
    with pytest.raises(ValueError, match="total_size"):
        writer.write(b"x")
    writer.close()
    info, data = wait_for_event(bob, "byte_stream_received", also=[alice], timeout=30.0)
    assert data == b"".join(parts)
    assert (info["total_size"], info["name"], info["id"]) == (
        300_000,
        "blob",
        writer.get_stream_id(),
    )
    assert sent_outcome(alice, writer.get_stream_id(), [alice, bob])[-1] == (300_000, 300_000)


def test_writer_refuses_more_than_its_pending_limit(alice_bob) -> None:
    alice, _ = alice_bob
    writer = alice.local.stream_bytes("nobody-listens")
    block = bytes(1024 * 1024)
    written = 0
    with pytest.raises(LiveKitError, match="waiting to be sent"):
        for _ in range(2 * MAX_WRITER_PENDING_BYTES // len(block)):
            writer.write(block)
            written += len(block)
    assert written <= MAX_WRITER_PENDING_BYTES
    assert 0 < writer.get_pending_bytes() <= MAX_WRITER_PENDING_BYTES
    writer.close()
    wait_until(
        [alice],
        lambda: (writer.get_stream_id(),) in alice.args_of("stream_sent"),
        timeout=60.0,
        what="the writer's stream sent",
    )
    assert writer.get_pending_bytes() == 0


# -- routing ----------------------------------------------------------------------------------


def test_topics_route_to_their_handler_and_unregistered_topics_are_dropped(alice_bob) -> None:
    alice, bob = alice_bob
    bob.room.register_text_stream_handler("a")
    bob.room.register_text_stream_handler("b", CHUNKS)
    bob.room.register_byte_stream_handler("a")
    alice.local.send_text("to text a", "a")
    alice.local.send_text("to nobody", "unregistered")
    alice.local.send_bytes(b"to nobody either", "b")  # bytes on a text-only topic
    alice.local.send_text("to text b", "b")
    alice.local.send_bytes(b"to bytes a", "a")
    wait_for_event(bob, "byte_stream_received", also=[alice])
    wait_for_event(bob, "stream_finished", also=[alice])
    wait_for_event(bob, "text_stream_received", also=[alice])
    # a last stream on "a": everything sent before it has had its chance to arrive
    alice.local.send_text("marker", "a")
    wait_for_event(bob, "text_stream_received", count=2, also=[alice])
    got = [(n, a[0]["topic"], a[1] if len(a) > 1 else None) for n, a in only_stream_events(bob)]
    assert sorted(got, key=str) == sorted(
        [
            ("text_stream_received", "a", "to text a"),
            ("text_stream_chunk_received", "b", "to text b"),
            ("stream_finished", "b", None),
            ("byte_stream_received", "a", b"to bytes a"),
            ("text_stream_received", "a", "marker"),
        ],
        key=str,
    )


def test_destination_identities_are_respected(trio) -> None:
    alice, bob, carol = trio
    for peer in (bob, carol):
        peer.room.register_text_stream_handler("dm")
        peer.room.register_byte_stream_handler("dm")
    alice.local.send_text("for bob", "dm", {"destination_identities": ["bob"]})
    alice.local.send_bytes(b"for carol", "dm", {"destination_identities": ["carol"]})
    writer = alice.local.stream_text("dm", {"destination_identities": ["bob"]})
    writer.write("bob's story")
    writer.close()
    wait_for_event(bob, "text_stream_received", count=2, also=trio)
    wait_for_event(carol, "byte_stream_received", also=trio)
    alice.local.send_text("everyone", "dm")
    wait_for_event(carol, "text_stream_received", also=trio)
    wait_for_event(bob, "text_stream_received", count=3, also=trio)
    assert sorted(a[1] for a in bob.args_of("text_stream_received")) == [
        "bob's story",
        "everyone",
        "for bob",
    ]
    assert bob.args_of("byte_stream_received") == []
    assert [a[1] for a in carol.args_of("text_stream_received")] == ["everyone"]
    assert [a[1] for a in carol.args_of("byte_stream_received")] == [b"for carol"]


def test_registering_twice_unregistering_and_registering_again(alice_bob) -> None:
    alice, bob = alice_bob
    room = bob.room
    room.register_text_stream_handler("t")
    with pytest.raises(ValueError, match="already registered"):
        room.register_text_stream_handler("t", CHUNKS)
    room.register_byte_stream_handler("t")  # text and bytes are separate
    assert room.get_stream_handler_topics() == {"text": ["t"], "bytes": ["t"]}
    assert room.unregister_text_stream_handler("t") is True
    assert room.unregister_text_stream_handler("t") is False
    assert room.unregister_byte_stream_handler("never") is False
    alice.local.send_text("dropped", "t")
    alice.local.send_bytes(b"kept", "t")
    wait_for_event(bob, "byte_stream_received", also=[alice])
    room.register_text_stream_handler("t", CHUNKS)  # again, with other options
    alice.local.send_text("chunked now", "t")
    wait_for_event(bob, "stream_finished", also=[alice])
    assert bob.args_of("text_stream_received") == []
    assert [a[1] for a in bob.args_of("text_stream_chunk_received")] == ["chunked now"]


def test_handlers_registered_before_connecting_serve_every_session(
    connect_peer, livekit_server, make_token
) -> None:
    alice = connect_peer("alice")
    bob = Peer("bob")
    bob.room.register_byte_stream_handler("early")
    try:
        for session in range(2):
            bob.room.connect_to_room(livekit_server.url, make_token("bob"), {})
            wait_for_event(bob, "connected", count=session + 1)
            wait_until(
                [alice, bob],
                lambda: "bob" in alice.room.get_remote_participants(),
                what="alice sees bob",
            )
            alice.local.send_bytes(b"hello %d" % session, "early")
            _, data = wait_for_event(bob, "byte_stream_received", count=session + 1, also=[alice])
            assert data == b"hello %d" % session
            bob.room.disconnect_from_room()
            wait_for_event(bob, "disconnected", count=session + 1)
            wait_until([alice], lambda: "bob" not in alice.room.get_remote_participants())
    finally:
        bob.room.disconnect_from_room()
        assert bob.room.wait_idle(10.0)


# -- limits on what arrives -------------------------------------------------------------------


def test_whole_payload_over_max_bytes_is_an_error_and_the_next_stream_arrives(alice_bob) -> None:
    alice, bob = alice_bob
    bob.room.register_byte_stream_handler("small", {"max_bytes": 100_000})
    big_id = alice.local.send_bytes(os.urandom(300_000), "small")
    info, error = wait_for_event(bob, "stream_error", also=[alice], timeout=30.0)
    assert info["id"] == big_id and info["topic"] == "small"
    assert error.startswith("too large: over max_bytes (100000 bytes)")
    alice.local.send_bytes(b"fits", "small")
    _, data = wait_for_event(bob, "byte_stream_received", also=[alice])
    assert data == b"fits" and len(bob.args_of("stream_error")) == 1


def test_chunked_stream_over_max_bytes_stops_with_an_error(alice_bob) -> None:
    alice, bob = alice_bob
    options = {"delivery": LiveKitRoom.STREAM_CHUNKS, "max_bytes": 50_000}
    bob.room.register_text_stream_handler("log", options)
    stream_id = alice.local.send_text("x" * 200_000, "log")
    info, error = wait_for_event(bob, "stream_error", also=[alice], timeout=30.0)
    assert info["id"] == stream_id and "max_bytes (50000 bytes)" in error
    received = sum(len(text) for _, text in bob.args_of("text_stream_chunk_received"))
    assert received <= 50_000
    assert bob.args_of("stream_finished") == []


def test_invalid_utf8_in_a_text_stream_is_an_error_naming_the_stream(alice_bob) -> None:
    alice, bob = alice_bob
    bob.room.register_text_stream_handler("chat")
    raw = RawStreamSender(alice)
    raw.header("bad-text-1", "chat")
    raw.chunk("bad-text-1", 0, b"fine, then \xff\xfe broken")
    raw.trailer("bad-text-1")
    info, error = wait_for_event(bob, "stream_error", also=[alice])
    assert (info["id"], info["sender_identity"], info["topic"]) == ("bad-text-1", "alice", "chat")
    assert error.startswith("invalid UTF-8 in the text stream")
    assert bob.args_of("text_stream_received") == []


def test_more_data_than_the_header_declared_is_an_error(alice_bob) -> None:
    alice, bob = alice_bob
    bob.room.register_byte_stream_handler("files")
    raw = RawStreamSender(alice)
    raw.header("liar", "files", text=False, total_length=10)
    raw.chunk("liar", 0, b"x" * 20)
    raw.trailer("liar")
    info, error = wait_for_event(bob, "stream_error", also=[alice])
    assert info["id"] == "liar" and info["total_size"] == 10
    assert error.startswith("failed: ") and "total length" in error


def test_a_sender_that_never_finishes_times_out(alice_bob) -> None:
    alice, bob = alice_bob
    bob.room.register_text_stream_handler("idle", {"idle_timeout": 1.0})
    bob.room.register_text_stream_handler("slow", {"idle_timeout": 0, "max_duration": 1.5})
    raw = RawStreamSender(alice)
    raw.header("silent", "idle")
    raw.header("trickle", "slow")
    started = time.monotonic()
    for index in range(8):  # a chunk every 0.3 s: never idle, never done
        raw.chunk("trickle", index, b"drip ")
        time.sleep(0.3)
        bob.poll()
    wait_for_event(bob, "stream_error", count=2, also=[alice])
    errors = {info["id"]: error for info, error in bob.args_of("stream_error")}
    assert errors == {
        "silent": "timed out: no data for idle_timeout (1 s)",
        "trickle": "timed out: not finished within max_duration (1.5 s)",
    }
    assert time.monotonic() - started < 10


def test_too_many_streams_open_at_once_are_refused(alice_bob) -> None:
    alice, bob = alice_bob
    bob.room.register_byte_stream_handler("uploads", {"max_open_streams": 2, "idle_timeout": 2})
    raw = RawStreamSender(alice)
    for name in ("one", "two", "three"):
        raw.header(name, "uploads", text=False)
    info, error = wait_for_event(bob, "stream_error", also=[alice])
    assert info["id"] == "three"
    assert error == "refused: 2 bytes streams already open on topic 'uploads' (max_open_streams 2)"
    wait_for_event(bob, "stream_error", count=3, also=[alice])
    assert {i["id"] for i, _ in bob.args_of("stream_error")} == {"one", "two", "three"}
    # the slots are free again
    alice.local.send_bytes(b"after", "uploads")
    _, data = wait_for_event(bob, "byte_stream_received", also=[alice])
    assert data == b"after"


def test_a_stream_over_the_rooms_limit_is_refused_before_its_data_is_kept(alice_bob) -> None:
    alice, bob = alice_bob
    bob.room.register_byte_stream_handler("files", {"max_bytes": MAX_STREAM_BYTES})
    raw = RawStreamSender(alice)
    raw.header("huge", "files", text=False, total_length=MAX_STREAM_BYTES + 1)
    raw.chunk("huge", 0, b"x" * 100)
    info, error = wait_for_event(bob, "stream_error", also=[alice])
    assert info["id"] == "huge" and info["total_size"] == -1  # an impossible size is not passed on
    assert error.startswith(f"too large: over the room's limit of {MAX_STREAM_BYTES} bytes")


def test_sender_aborting_a_stream_is_an_error_on_the_receiver(alice_bob) -> None:
    alice, bob = alice_bob
    bob.room.register_text_stream_handler("chat", CHUNKS)
    raw = RawStreamSender(alice)
    raw.header("aborted", "chat")
    raw.chunk("aborted", 0, b"half a sen")
    raw.trailer("aborted", reason="user cancelled")
    info, error = wait_for_event(bob, "stream_error", also=[alice])
    assert info["id"] == "aborted" and "user cancelled" in error
    assert [t for _, t in bob.args_of("text_stream_chunk_received")] == ["half a sen"]


# -- argument checks on the sending side -----------------------------------------------------


def test_sending_refuses_bad_arguments(alice_bob, tmp_path: Path) -> None:
    alice, _ = alice_bob
    local = alice.local
    with pytest.raises(TypeError, match="text must be a string"):
        local.send_text(b"bytes", "t")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not valid Unicode"):
        local.send_text("lone \ud800 surrogate", "t")
    with pytest.raises(TypeError, match="data must be bytes"):
        local.send_bytes("text", "t")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="topic must be a string"):
        local.send_text("x", 5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="topic is 300 bytes"):
        local.send_text("x", "t" * 300)
    with pytest.raises(ValueError, match="destination_identities"):
        local.send_text("x", "t", {"destination_identities": "bob"})
    with pytest.raises(ValueError, match="attributes"):
        local.send_bytes(b"x", "t", {"attributes": {"n": 1}})
    with pytest.raises(ValueError, match="no such file"):
        local.send_file(str(tmp_path / "missing.bin"), "t")
    with pytest.raises(ValueError, match="no such file"):
        local.send_file(str(tmp_path), "t")  # a folder
    with pytest.raises(ValueError, match="total_size"):
        local.stream_bytes("t", {"total_size": -1})
    with pytest.raises(ValueError, match="delivery"):
        alice.room.register_text_stream_handler("t", {"delivery": 7})
    with pytest.raises(ValueError, match="max_bytes"):
        alice.room.register_byte_stream_handler("t", {"max_bytes": 0})
    with pytest.raises(ValueError, match="idle_timeout"):
        alice.room.register_byte_stream_handler("t", {"idle_timeout": float("nan")})
    assert alice.names().count("stream_failed") == 0


def test_sending_while_not_connected_raises(alice_bob) -> None:
    alice, _ = alice_bob
    local = alice.local
    writer = local.stream_text("t")
    alice.room.disconnect_from_room()
    wait_for_event(alice, "disconnected")
    with pytest.raises(LiveKitError, match="not connected"):
        local.send_text("x", "t")
    with pytest.raises(LiveKitError, match="not connected"):
        local.stream_bytes("t")
    assert not writer.is_open()
    with pytest.raises(LiveKitError):
        writer.write("after disconnect")
    # the writer was never closed: its transfer ended with the session all the same
    assert alice.room.wait_idle(10.0)
