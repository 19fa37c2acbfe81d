"""The original addon's contract, tried as a user porting code from it would.

Real parts: livekit-server (the session server), the livekit SDK, WebRTC over the test
namespace's network. Each test pins one behaviour the original (NodotProject/godot-livekit)
has and the reference leaves open: a cancelled connect is not a failure, a second connect
starts over, data from a sender the server has not announced yet still names its sender,
stats dictionaries carry the original's keys, GDScript-style 0/1 options work.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from godot_livekit_dev.patterns import pattern_error, quadrant_pattern
from livekit import api
from media_helpers import video_feeder
from peers import Peer, wait_for_event, wait_until

from godot_livekit import (
    LiveKitAudioStream,
    LiveKitLocalVideoTrack,
    LiveKitRoom,
    LiveKitTrack,
    LiveKitVideoSource,
    LiveKitVideoStream,
    testing,
)
from godot_livekit.tools.devserver import LocalServer


def server_participants(server: LocalServer, room: str) -> list[str]:
    """Identities the server lists in ``room`` (through its API)."""

    async def listing() -> list[str]:
        async with api.LiveKitAPI(server.http_url, server.api_key, server.api_secret) as lk:
            try:
                response = await lk.room.list_participants(api.ListParticipantsRequest(room=room))
            except api.TwirpError:
                return []  # no such room (any more)
            return [p.identity for p in response.participants]

    return testing.run_on_runtime(listing(), 10.0)


def test_a_cancelled_connect_ends_disconnected_without_connection_failed(
    livekit_server: LocalServer, make_token, room_name: str
) -> None:
    peer = Peer("cancel")
    peer.room.connect_to_room(livekit_server.url, make_token("cancel"), {})
    peer.room.disconnect_from_room()  # the player pressed Cancel
    assert peer.room.get_connection_state() == LiveKitRoom.STATE_DISCONNECTED
    wait_for_event(peer, "disconnected")
    assert "cancelled" in peer.room.get_disconnect_reason()
    # the SDK connect finishes in the background and is left at once: nothing else arrives
    assert peer.room.wait_idle(20.0)
    peer.poll()
    assert "connection_failed" not in peer.names() and "connected" not in peer.names(), peer
    end = time.monotonic() + 15.0
    wait_until(
        [peer],
        lambda: (
            time.monotonic() > end or "cancel" not in server_participants(livekit_server, room_name)
        ),
        20.0,
        "the server to forget the cancelled participant",
    )
    assert "cancel" not in server_participants(livekit_server, room_name)


def test_a_connect_that_cannot_work_is_cancelled_like_any_other(make_token) -> None:
    """A bad URL, an empty token or a bad option fails before any network use, but only on
    the next poll: a disconnect before then cancels it (the original's "disconnect first, no
    failure")."""
    attempts = {
        "invalid URL": ("not a url", make_token("early"), {}),
        "invalid token": ("ws://127.0.0.1:9", "", {}),
        "connect_timeout": ("ws://127.0.0.1:9", make_token("early"), {"connect_timeout": "soon"}),
    }
    for label, (url, token, options) in attempts.items():
        peer = Peer(label)
        assert peer.room.connect_to_room(url, token, options)
        peer.room.disconnect_from_room()
        wait_for_event(peer, "disconnected")
        assert "cancelled" in peer.room.get_disconnect_reason(), label
        assert not peer.room.is_connecting(), label
        peer.poll()
        assert "connection_failed" not in peer.names(), (label, peer)
        # not cancelled: the same attempt reports its failure on the next poll
        peer.room.connect_to_room(url, token, options)
        (error,) = wait_for_event(peer, "connection_failed")
        assert label in error, error
        assert not peer.room.is_connecting(), label


def test_a_stream_from_no_track_or_a_dead_one_is_null(caplog) -> None:
    """As the original: ``from_track`` of null or of a track with nothing live behind it
    answers null with an error (a wrong type is still a TypeError)."""
    from godot_livekit import LiveKitRemoteAudioTrack, LiveKitRemoteVideoTrack

    for stream_class in (LiveKitAudioStream, LiveKitVideoStream):
        caplog.clear()
        assert stream_class.from_track(None) is None
        assert stream_class.from_track(LiveKitTrack()) is None
        assert stream_class.from_track(LiveKitRemoteAudioTrack()) is None
        assert stream_class.from_track(LiveKitRemoteVideoTrack()) is None
        errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
        assert len(errors) == 4 and all("from_track" in e for e in errors), errors
        with pytest.raises(TypeError):
            stream_class.from_track("track")  # type: ignore[arg-type]


def test_a_second_connect_starts_over(
    livekit_server: LocalServer, make_token, room_name: str, connect_peer
) -> None:
    alice = connect_peer("alice")
    watcher = connect_peer("watcher")
    wait_until([alice, watcher], lambda: "alice" in watcher.room.get_remote_participants())
    other_room = f"{room_name}-2"
    # while connected: the live session ends with `disconnected`, then the new one connects
    alice.room.connect_to_room(livekit_server.url, make_token("alice", room=other_room), {})
    wait_for_event(alice, "connected", count=2, also=[watcher])
    names = alice.names()
    assert names.index("disconnected") < len(names) - 1 - names[::-1].index("connected")
    assert "connection_failed" not in names
    assert alice.room.get_name() == other_room
    wait_for_event(watcher, "participant_disconnected", also=[alice])
    # while connecting: the attempt in flight is dropped silently, one connect results
    late = Peer("late")
    late.room.connect_to_room(livekit_server.url, make_token("late"), {})
    late.room.connect_to_room(livekit_server.url, make_token("late", room=other_room), {})
    wait_for_event(late, "connected")
    assert late.room.get_name() == other_room
    assert late.room.wait_idle(20.0)
    late.poll()
    assert late.names() == ["connected"], late
    late.room.disconnect_from_room()
    late.room.poll_events()
    assert late.room.wait_idle(10.0)


def test_data_from_a_sender_not_announced_yet_names_its_sender(connect_peer) -> None:
    alice = connect_peer("alice")
    for round_number in range(3):  # each round: a fresh non-publisher joins and speaks at once
        identity = f"newcomer-{round_number}"
        newcomer = connect_peer(identity)
        # a player says hello a moment after joining: long before the server's batched
        # announcement of a participant that publishes nothing (up to 3 s later)
        moment = time.monotonic() + 0.2
        wait_until([alice, newcomer], lambda moment=moment: time.monotonic() > moment, 5.0)
        payload = f"hello from {identity}".encode()
        newcomer.local.publish_data(payload, True, [], "greeting")
        wait_until(
            [alice, newcomer],
            lambda payload=payload: any(a[0] == payload for a in alice.args_of("data_received")),
            what=f"{identity}'s greeting at alice",
        )
        (_data, sender, _kind, topic) = next(
            a for a in alice.args_of("data_received") if a[0] == payload
        )
        assert sender is not None, "the sender must be named, not null"
        assert sender.get_identity() == identity and topic == "greeting"
        assert sender is alice.room.get_remote_participants()[identity]
        joined = [i for i, (n, a) in enumerate(alice.events) if n == "participant_connected"
                  and a[0] is sender]  # fmt: skip
        received = [i for i, (n, a) in enumerate(alice.events) if n == "data_received"
                    and a[0] == payload]  # fmt: skip
        assert joined and joined[0] < received[0], "the join comes before the data"
    # the announcement that made it so changes nothing anyone can see
    assert "participant_attributes_changed" not in alice.names()


def test_stats_dictionaries_carry_the_original_key_names(alice_bob) -> None:
    alice, bob = alice_bob
    source = LiveKitVideoSource.create(160, 120)
    track = LiveKitLocalVideoTrack.create("stats", source)
    alice.local.publish_track(track, {"simulcast": False})
    feeder = video_feeder(source).start()
    try:
        wait_for_event(alice, "local_track_published", also=[bob])
        reports: list[list[dict[str, object]]] = []
        track.stats_received.connect(reports.append)
        asked = [0.0]

        def outbound_bytes() -> bool:
            track.poll_stats()
            for report in reports:
                for stats in report:
                    if stats["type"] == "outbound_rtp" and int(stats["bytes_sent"]) > 0:
                        return True
            if time.monotonic() - asked[0] > 1.0:  # ask again once a second
                asked[0] = time.monotonic()
                track.request_stats()
            return False

        wait_until([alice, bob], outbound_bytes, 20.0, "outbound RTP stats")
    finally:
        feeder.stop()
    every = [stats for report in reports for stats in report]
    for stats in every:
        assert {"type", "id", "timestamp_ms"} <= set(stats), stats
        assert stats["timestamp_ms"] == stats["timestamp"] and int(stats["timestamp_ms"]) > 0
    outbound = next(s for s in every if s["type"] == "outbound_rtp")
    original_keys = (
        "ssrc",
        "kind",
        "packets_sent",
        "bytes_sent",
        "frames_encoded",
        "frame_width",
        "frame_height",
        "frames_per_second",
        "key_frames_encoded",
        "nack_count",
    )
    for key in original_keys:
        assert key in outbound, key  # present even when zero, as the original's
    assert outbound["kind"] == "video"


def test_gdscript_style_options_and_sources(
    livekit_server: LocalServer, make_token, connect_peer
) -> None:
    # 0/1 for booleans and a negative timeout (no limit) are what GDScript code passes
    alice = connect_peer(
        "alice", {"auto_subscribe": 1, "dynacast": 0, "auto_reconnect": 1, "connect_timeout": -1}
    )
    bob = connect_peer("bob")
    wait_until([alice, bob], lambda: "alice" in bob.room.get_remote_participants())
    source = LiveKitVideoSource.create(64, 48)
    track = LiveKitLocalVideoTrack.create("odd-source", source)
    publication = alice.local.publish_track(track, {"source": 42, "simulcast": 0, "dtx": 1})
    source.capture_frame(np.zeros((48, 64, 4), np.uint8))
    (remote_publication, _) = wait_for_event(bob, "track_published", also=[alice])
    assert remote_publication.get_source() == LiveKitTrack.SOURCE_UNKNOWN  # 42 is no source
    wait_until([alice, bob], lambda: publication.get_sid() != "", what="publication sid")
    alice.local.unpublish_track("")  # the original ignores an empty sid: so do we
    alice.poll()
    assert publication.get_sid() != "" and not publication.is_stale()


def test_video_frames_of_another_size_are_sent_as_they_are(alice_bob) -> None:
    """As in the original: the source's size is what the track announces; a frame of another
    size (a window capture that was resized, say) is encoded at its own size."""
    alice, bob = alice_bob
    source = LiveKitVideoSource.create(320, 240)
    track = LiveKitLocalVideoTrack.create("resized", source)
    alice.local.publish_track(track, {"simulcast": False})
    small = quadrant_pattern(160, 120)
    (video, _, _) = wait_for_event(bob, "track_subscribed", also=[alice])
    stream = LiveKitVideoStream.from_track(video)
    stream.set_auto_poll(False)

    def small_pattern_arrived() -> bool:
        source.capture_frame(small, -5, 45)  # odd timestamp and rotation: accepted as 0
        if not stream.poll():
            return False
        frame = stream.get_texture()
        return frame is not None and frame.shape[:2] == (120, 160) and pattern_error(frame) < 40

    wait_until([alice, bob], small_pattern_arrived, 20.0, "the 160x120 pattern at bob")
    stream.close()


def test_streams_from_a_participant_take_any_source(alice_bob) -> None:
    """As in the original (it casts any int): a source no track of the stream's kind can come
    from gives a silent stream, not an error; the same participant's camera still plays."""
    alice, bob = alice_bob
    source = LiveKitVideoSource.create(160, 120)
    track = LiveKitLocalVideoTrack.create("camera", source)
    alice.local.publish_track(track, {"simulcast": False, "source": LiveKitTrack.SOURCE_CAMERA})
    wait_for_event(bob, "track_subscribed", also=[alice])
    sender = bob.room.get_remote_participants()["alice"]
    silent = [
        LiveKitVideoStream.from_participant(sender, LiveKitTrack.SOURCE_MICROPHONE),
        LiveKitVideoStream.from_participant(sender, 42),
        LiveKitAudioStream.from_participant(sender, LiveKitTrack.SOURCE_CAMERA),
    ]
    with pytest.raises(TypeError):
        LiveKitVideoStream.from_participant(sender, "camera")  # type: ignore[arg-type]
    camera = LiveKitVideoStream.from_participant(sender, LiveKitTrack.SOURCE_CAMERA)
    camera.set_auto_poll(False)
    pattern = quadrant_pattern(160, 120)

    def camera_plays() -> bool:
        source.capture_frame(pattern)
        if not camera.poll():
            return False
        frame = camera.get_texture()
        return frame is not None and pattern_error(frame) < 40

    wait_until([alice, bob], camera_plays, 20.0, "alice's camera at bob")
    assert [stream.is_active() for stream in silent] == [False, False, False]
    assert silent[0].poll() is False and silent[0].get_texture() is None
    assert len(silent[2].read_frames(480)) == 0
    for stream in [*silent, camera]:
        stream.close()
