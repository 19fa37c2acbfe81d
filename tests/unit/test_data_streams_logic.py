"""Data streams and data tracks without a server: option checks, the bounds put on what a
sender controls, how a text is cut into pieces, and objects used while not connected."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from livekit import rtc

from godot_livekit import (
    LiveKitByteStreamWriter,
    LiveKitDataTrackSubscription,
    LiveKitError,
    LiveKitLocalDataTrack,
    LiveKitRemoteDataTrack,
    LiveKitRoom,
    LiveKitTextStreamWriter,
    data_streams,
    stream_sending,
    testing,
)
from godot_livekit.data_streams import (
    MAX_ATTRIBUTE_TEXT,
    MAX_ATTRIBUTES,
    MAX_INFO_TEXT,
    MAX_STREAM_BYTES,
    HandlerOptions,
    check_topic,
    describe_stream_error,
    stream_info,
)
from godot_livekit.data_tracks import MAX_FRAME_BYTES, check_track_name
from godot_livekit.stream_sending import (
    PIECE_BYTES,
    file_to_send,
    payload_bytes,
    send_options,
    text_pieces,
    utf8,
)


def test_handler_options_defaults_and_values() -> None:
    assert HandlerOptions.from_mapping(None, "w") == HandlerOptions()
    options = HandlerOptions.from_mapping(
        {
            "delivery": LiveKitRoom.STREAM_CHUNKS,
            "max_bytes": 1000,
            "max_open_streams": 3,
            "idle_timeout": 2,
            "max_duration": 0,
        },
        "w",
    )
    assert options == HandlerOptions(LiveKitRoom.STREAM_CHUNKS, 1000, 3, 2.0, 0.0)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"delivery": 2}, "delivery"),
        ({"delivery": True}, "delivery"),
        ({"max_bytes": True}, "max_bytes"),
        ({"max_bytes": MAX_STREAM_BYTES + 1}, "max_bytes"),
        ({"max_bytes": 1.5}, "max_bytes"),
        ({"max_open_streams": 0}, "max_open_streams"),
        ({"idle_timeout": -1}, "idle_timeout"),
        ({"max_duration": float("inf")}, "max_duration"),
        ({"idle_timeout": "3"}, "idle_timeout"),
    ],
)
def test_handler_options_refuse_bad_values(options: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        HandlerOptions.from_mapping(options, "register")


def test_handler_options_log_and_ignore_unknown_keys(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert HandlerOptions.from_mapping({"mode": 1}, "register") == HandlerOptions()
    assert "unknown option 'mode' ignored" in caplog.text
    with pytest.raises(TypeError):
        HandlerOptions.from_mapping([("delivery", 1)], "register")  # type: ignore[arg-type]


def test_send_options() -> None:
    options = send_options(
        {
            "destination_identities": ("bob", "carol"),
            "attributes": {"k": "v"},
            "name": "a.bin",
            "mime_type": "application/x-a",
            "total_size": 10,
        },
        "send",
    )
    assert options.destination_identities == ["bob", "carol"]
    assert (options.attributes, options.name, options.mime_type, options.total_size) == (
        {"k": "v"},
        "a.bin",
        "application/x-a",
        10,
    )
    for bad in (
        {"destination_identities": "bob"},
        {"destination_identities": ["bob", ""]},
        {"destination_identities": [1]},
        {"attributes": {"k": 1}},
        {"attributes": {str(i): "v" for i in range(MAX_ATTRIBUTES + 1)}},
        {"attributes": {"k": "v" * (MAX_ATTRIBUTE_TEXT + 1)}},
        {"name": "n" * 257},
        {"mime_type": 5},
        {"total_size": MAX_STREAM_BYTES + 1},
        {"total_size": True},
    ):
        with pytest.raises(ValueError):
            send_options(bad, "send")


def test_stream_info_bounds_what_the_sender_controls() -> None:
    attributes = {f"key{i}" + "k" * 2000: "v" * 5000 for i in range(100)}
    sdk_info = rtc.ByteStreamInfo(
        stream_id="i" * 1000,
        mime_type="m" * 1000,
        topic="files",
        timestamp=-5,
        size=MAX_STREAM_BYTES + 1,
        attributes=attributes,
        name="n" * 1000,
    )
    info = stream_info(sdk_info, "bytes", "alice").to_dict()
    assert len(info["id"]) == len(info["mime_type"]) == len(info["name"]) == MAX_INFO_TEXT
    assert info["total_size"] == -1 and info["timestamp"] == 0
    assert len(info["attributes"]) == MAX_ATTRIBUTES
    assert all(len(k) <= MAX_ATTRIBUTE_TEXT for k in info["attributes"])
    assert all(len(v) == MAX_ATTRIBUTE_TEXT for v in info["attributes"].values())
    text_info = rtc.TextStreamInfo(
        stream_id="s", mime_type="text/plain", topic="t", timestamp=12, size=0,
        attributes=None, attachments=[],
    )  # fmt: skip
    as_dict = stream_info(text_info, "text", "bob").to_dict()
    assert as_dict == {
        "id": "s",
        "kind": "text",
        "topic": "t",
        "sender_identity": "bob",
        "mime_type": "text/plain",
        "name": "",
        "total_size": -1,
        "attributes": {},
        "timestamp": 12,
    }
    as_dict["attributes"]["changed"] = "by the game"
    assert stream_info(text_info, "text", "bob").to_dict()["attributes"] == {}


def test_topics_and_track_names() -> None:
    assert check_topic("t" * 256, "w") == "t" * 256
    with pytest.raises(ValueError, match="257 bytes"):
        check_topic("t" * 257, "w")
    with pytest.raises(ValueError, match="258 bytes"):
        check_topic("é" * 129, "w")
    with pytest.raises(TypeError):
        check_topic(None, "w")
    with pytest.raises(ValueError, match="Unicode"):
        check_topic("\udc80", "w")
    assert check_track_name("n" * 256) == "n" * 256
    for bad in ("", "n" * 257, "\ud800"):
        with pytest.raises(ValueError):
            check_track_name(bad)


def test_text_and_bytes_are_checked_and_copied(monkeypatch: pytest.MonkeyPatch) -> None:
    assert utf8("héllo", "w") == "héllo".encode()
    with pytest.raises(ValueError, match="not valid Unicode"):
        utf8("a\ud800b", "w")
    with pytest.raises(TypeError):
        utf8(b"bytes", "w")
    buffer = bytearray(b"abc")
    copy = payload_bytes(buffer, "w")
    buffer[0] = ord("z")
    assert copy == b"abc"
    monkeypatch.setattr(stream_sending, "MAX_STREAM_BYTES", 4)
    assert payload_bytes(b"abcd", "w") == b"abcd"
    with pytest.raises(ValueError, match="limit is 4 bytes"):
        payload_bytes(b"abcde", "w")
    with pytest.raises(ValueError, match="limit is 4 bytes"):
        utf8("ééé", "w")  # 3 characters, 6 bytes


def test_files_to_send(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"12345")
    monkeypatch.chdir(tmp_path)
    assert file_to_send("a.bin", "w") == (str(path), 5)
    with pytest.raises(ValueError, match="no such file"):
        file_to_send("missing.bin", "w")
    with pytest.raises(ValueError, match="no such file"):
        file_to_send(str(tmp_path), "w")
    with pytest.raises(ValueError, match="empty"):
        file_to_send("", "w")
    monkeypatch.setattr(stream_sending, "MAX_STREAM_BYTES", 4)
    with pytest.raises(ValueError, match="limit is 4"):
        file_to_send("a.bin", "w")
    options = stream_sending.file_options(send_options(None, "w"), str(path), 5)
    assert (options.name, options.mime_type, options.total_size) == (
        "a.bin",
        "application/octet-stream",
        5,
    )


def test_text_pieces_never_split_a_character_and_add_up() -> None:
    text = ("a" * 10_001 + "😀" * 20_003 + "é" * 5) * 3

    async def collect() -> list[tuple[str | bytes, int]]:
        return [piece async for piece in text_pieces(text)]

    pieces = asyncio.run(collect())
    assert "".join(str(p) for p, _ in pieces) == text
    assert all(size == len(str(p).encode()) <= PIECE_BYTES for p, size in pieces)
    assert sum(size for _, size in pieces) == len(text.encode())


def test_stream_errors_in_plain_words() -> None:
    assert describe_stream_error(rtc.StreamError("UTF-8 decoding error: bad")).startswith(
        "invalid UTF-8 in the text stream"
    )
    assert describe_stream_error(rtc.StreamError("stream payload exceeds maximum size")).startswith(
        "too large: over the room's limit"
    )
    assert (
        describe_stream_error(rtc.StreamError("Disconnected while receiving"))
        == "the room disconnected while receiving"
    )
    assert describe_stream_error(rtc.StreamError("odd")) == "failed: odd"


def test_objects_made_without_a_room_are_inert() -> None:
    for writer in (LiveKitTextStreamWriter(), LiveKitByteStreamWriter()):
        assert not writer.is_open() and writer.get_error() == "not connected"
        with pytest.raises(LiveKitError):
            writer.write("x" if isinstance(writer, LiveKitTextStreamWriter) else b"x")  # type: ignore[arg-type]
        writer.close()
    track = LiveKitLocalDataTrack("t")
    assert track.push(b"x") is False and not track.is_published() and track.get_sid() == ""
    track.unpublish()
    remote = LiveKitRemoteDataTrack()
    subscription = remote.subscribe(LiveKitDataTrackSubscription.MODE_ORDERED, 8)
    assert not subscription.is_active()
    assert subscription.get_end_reason() == "the track was unpublished"
    ended: list[str] = []
    subscription.ended.connect(ended.append)
    assert subscription.poll() == 1 and subscription.poll() == 0
    assert ended == ["the track was unpublished"]
    subscription.close()
    with pytest.raises(ValueError, match="mode"):
        remote.subscribe(5)
    with pytest.raises(ValueError, match="queue_size"):
        remote.subscribe(0, 0)


def test_room_stream_registrations_before_connecting() -> None:
    room = LiveKitRoom()
    room.register_text_stream_handler("chat", {"delivery": LiveKitRoom.STREAM_CHUNKS})
    room.register_byte_stream_handler("chat")
    with pytest.raises(ValueError, match="already registered"):
        room.register_byte_stream_handler("chat")
    assert room.get_stream_handler_topics() == {"text": ["chat"], "bytes": ["chat"]}
    assert room.unregister_text_stream_handler("chat") and not room.unregister_text_stream_handler(
        "chat"
    )
    assert room.get_remote_data_tracks() == []
    assert data_streams.STREAM_WHOLE == LiveKitRoom.STREAM_WHOLE == 0


# -- what a data track subscription keeps (frames fed as its SDK reader does) ---------------


def subscription_recording(
    mode: int, queue_size: int = 64
) -> tuple[LiveKitDataTrackSubscription, list[tuple[bytes, int]], list[str]]:
    subscription = LiveKitDataTrackSubscription(None, mode, queue_size)
    frames: list[tuple[bytes, int]] = []
    ended: list[str] = []
    subscription.frame_received.connect(lambda payload, ts: frames.append((payload, ts)))
    subscription.ended.connect(ended.append)
    return subscription, frames, ended


def test_latest_mode_keeps_only_the_newest_frame_per_poll() -> None:
    subscription, frames, _ = subscription_recording(LiveKitDataTrackSubscription.MODE_LATEST)
    for index in range(10):
        testing.feed_data_track_frame(subscription, b"f%d" % index, index)
    assert subscription.poll() == 1 and frames == [(b"f9", 9)]
    assert (subscription.get_received_count(), subscription.get_dropped_count()) == (10, 9)
    assert subscription.poll() == 0
    testing.feed_data_track_frame(subscription, b"next", None)
    assert subscription.poll() == 1 and frames[-1] == (b"next", -1)


def test_ordered_mode_keeps_a_bounded_queue_in_order_and_counts_drops() -> None:
    subscription, frames, _ = subscription_recording(LiveKitDataTrackSubscription.MODE_ORDERED, 3)
    for index in range(5):
        testing.feed_data_track_frame(subscription, bytes([index]), index)
    assert subscription.poll() == 3
    assert frames == [(bytes([2]), 2), (bytes([3]), 3), (bytes([4]), 4)]
    assert subscription.get_dropped_count() == 2


def test_subscription_bounds_what_the_sender_controls() -> None:
    subscription, frames, _ = subscription_recording(LiveKitDataTrackSubscription.MODE_ORDERED)
    testing.feed_data_track_frame(subscription, bytes(MAX_FRAME_BYTES + 1), 1)
    testing.feed_data_track_frame(subscription, b"ok", 2**64 - 1)  # a u64 GDScript cannot hold
    testing.feed_data_track_frame(subscription, b"ok", 2**63 - 1)
    subscription.poll()
    assert frames == [(b"ok", -1), (b"ok", 2**63 - 1)]
    assert subscription.get_dropped_count() == 1 and subscription.get_received_count() == 3


def test_ended_follows_the_frames_still_waiting_and_close_stops_everything() -> None:
    subscription, frames, ended = subscription_recording(LiveKitDataTrackSubscription.MODE_ORDERED)
    testing.feed_data_track_frame(subscription, b"last", 1)
    testing.end_data_track_subscription(subscription, "the track was unpublished")
    testing.end_data_track_subscription(subscription, "twice")
    testing.feed_data_track_frame(subscription, b"after the end", 2)
    assert subscription.poll() == 3  # two frames, then ended once
    assert frames[0] == (b"last", 1) and ended == ["the track was unpublished"]
    assert not subscription.is_active()
    closed, closed_frames, closed_ended = subscription_recording(
        LiveKitDataTrackSubscription.MODE_LATEST
    )
    testing.feed_data_track_frame(closed, b"waiting", 1)
    closed.close()
    testing.feed_data_track_frame(closed, b"after close", 2)
    assert closed.poll() == 0 and closed_frames == [] and closed_ended == []
    assert closed.get_end_reason() == "closed"
