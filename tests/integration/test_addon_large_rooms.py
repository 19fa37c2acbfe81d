"""The large-room features through the addon's Godot classes, against the real server.

Real parts: livekit-server (session fixture), the livekit SDK, WebRTC and data channels over
the test namespace's network. The engine is the faithful py4godot stand-in: rooms, streams,
data tracks and the proximity filter are reached the way GDScript reaches them (engine objects,
Godot Dictionaries/PackedByteArrays/PackedStringArrays, GDScript variables that hold
references), and the LiveKitPoller autoload's ``_process`` pumps every frame. Publishers that
only need to exist on the other side are core peers (tests/support/peers.py), polled in the
same frames. Every wait is bounded and sleeps only until the core reports activity.

Covered: a text stream, a multi-MB byte stream (progress to 100 %), a ``user://`` file in
chunks and a writer the game drops arrive exactly through the addon room's signals; a data
track's frames arrive through the addon subscription with their payloads and timestamps, and
the track the game drops is unpublished; the proximity filter changes subscriptions as
positions move; ``set_video_quality`` reaches the server (smaller frames arrive).

Run with ``python build.py test -- tests/integration/test_addon_large_rooms.py``.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import addon_env  # noqa: F401 - sets up sys.path before py4godot/addons imports
import pytest
from addon_env import (
    GD,
    gd_dict,
    gd_dictionary,
    gd_list,
    gd_null,
    new_object,
    no_standin_crashes,
)
from addon_scene import AddonScene
from godot_livekit_dev.feeders import tone_feeder, video_feeder
from peers import Peer
from py4godot import functions
from py4godot.classes import ProjectSettings as project_settings
from py4godot.classes.core import PackedByteArray, PackedStringArray

from addons.godot_livekit.bridge import convert
from godot_livekit import (
    LiveKitAudioSource,
    LiveKitLocalAudioTrack,
    LiveKitLocalVideoTrack,
    LiveKitVideoSource,
)
from godot_livekit.stream_sending import PIECE_BYTES

_ = no_standin_crashes

FRAME = 1.0 / 60.0
WAIT = 20.0
ROOM_SIGNALS = (
    "connected", "disconnected", "participant_connected", "data_received", "track_subscribed",
    "text_stream_received", "byte_stream_received", "text_stream_chunk_received",
    "byte_stream_chunk_received", "stream_finished", "stream_error", "data_track_published",
    "data_track_unpublished",
)  # fmt: skip
LOCAL_SIGNALS = ("stream_progress", "stream_sent", "stream_failed")
# LiveKit.gd's values (tests/unit/test_addon_large_room_classes.py checks them against the core)
STREAM_CHUNKS = 1
DATA_TRACK_MODE_ORDERED = 1
VIDEO_QUALITY_LOW, VIDEO_QUALITY_HIGH = 0, 2


class Scene(AddonScene):
    """A GDScript-like scene: the poller autoload, addon rooms, core peers, a frame loop."""

    wait = WAIT

    def __init__(self, url: str, make_token: Callable[..., str]) -> None:
        super().__init__()
        self.url, self.make_token = url, make_token
        self.peers: list[Peer] = []
        self.rooms: dict[str, GD] = {}

    def join(self, identity: str) -> GD:
        """An addon room connected as ``identity``, its room and local signals recorded."""
        room = new_object("LiveKitRoom")
        self.rooms[identity] = room
        self.record(identity, room, ROOM_SIGNALS)
        assert room.connect_to_room(self.url, self.make_token(identity), gd_dictionary())
        self.wait_event(identity, "connected")
        self.record(identity, room.get_local_participant(), LOCAL_SIGNALS)
        return room

    def frame(self) -> None:
        for peer in self.peers:
            peer.poll()
        super().frame()

    def sees(self, watcher: str, *identities: str) -> None:
        room = self.rooms[watcher]
        self.run_until(
            lambda: set(identities) <= set(gd_dict(room.get_remote_participants())),
            WAIT,
            f"{watcher} sees {identities}",
        )

    def leave(self) -> None:
        for label, room in self.rooms.items():
            gone = self.count(label, "disconnected")
            room.disconnect_from_room()
            self.wait_event(label, "disconnected", after=gone)


@pytest.fixture
def scene(livekit_server: Any, make_token: Callable[..., str]) -> Iterator[Scene]:
    built = Scene(livekit_server.url, make_token)
    yield built
    for room in built.rooms.values():  # a failed test's rooms must not pump into the next
        room.disconnect_from_room()


def _bytes(value: Any) -> bytes:
    """A PackedByteArray as GDScript reads it (no write access, so no copy)."""
    assert isinstance(value, PackedByteArray), type(value).__name__
    return value._data.tobytes()


def _strings(value: Any) -> list[str]:
    assert isinstance(value, PackedStringArray), type(value).__name__
    return [str(item) for item in value.to_list()]


def _plain(info: Any) -> dict[str, Any]:
    """A stream info Dictionary as plain values."""
    fields = gd_dict(info)
    fields["attributes"] = gd_dict(fields["attributes"])
    return fields


def _sent(scene: Scene, label: str, stream_id: str, timeout: float = 90.0) -> list[tuple[int, int]]:
    """Wait for ``stream_sent(stream_id)``; its progress reports (bytes_sent, total_bytes)."""
    scene.run_until(
        lambda: (
            (stream_id,) in scene.args_of(label, "stream_sent")
            or any(args[0] == stream_id for args in scene.args_of(label, "stream_failed"))
        ),
        timeout,
        f"stream {stream_id} sent",
    )
    assert [a for a in scene.args_of(label, "stream_failed") if a[0] == stream_id] == []
    return [(s, t) for i, s, t in scene.args_of(label, "stream_progress") if i == stream_id]


# -- data streams -------------------------------------------------------------------------------


def test_streams_arrive_exactly_through_the_addon_rooms(
    scene: Scene, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors = len(functions.standin_errors())
    alice, bob = scene.join("alice"), scene.join("bob")
    scene.sees("alice", "bob")
    scene.sees("bob", "alice")
    bob.register_text_stream_handler("chat", gd_dictionary())
    bob.register_text_stream_handler("story")
    bob.register_byte_stream_handler("level", gd_dictionary(max_bytes=8 * 1024 * 1024))
    bob.register_byte_stream_handler("saves", gd_dictionary(delivery=STREAM_CHUNKS))
    local = alice.get_local_participant()

    # text to bob only, with attributes: the whole text and its info
    text = "héllo wörld 😀 漢字 " * 2000
    options = gd_dictionary(
        destination_identities=PackedStringArray.from_list(["bob"]),
        attributes=gd_dictionary(lang="fr"),
    )
    text_id = local.send_text(text, "chat", options)
    assert isinstance(text_id, str) and text_id
    info, received = scene.wait_event("bob", "text_stream_received", 60.0)
    assert received == text
    fields = _plain(info)
    assert (fields["id"], fields["kind"], fields["topic"]) == (text_id, "text", "chat")
    assert (fields["sender_identity"], fields["attributes"]) == ("alice", {"lang": "fr"})
    size = len(text.encode("utf-8"))
    assert _sent(scene, "alice", text_id)[-1] == (size, size)

    # a multi-MB byte stream: every byte, its name and type, progress up to 100 %
    payload = os.urandom(3 * 1024 * 1024 + 17)
    byte_options = gd_dictionary(name="level1.bin", mime_type="application/x-level")
    byte_id = local.send_bytes(convert.bytes_to_packed(payload), "level", byte_options)
    assert byte_id, functions.standin_errors()[errors:]
    info, data = scene.wait_event("bob", "byte_stream_received", 90.0)
    assert _bytes(data) == payload
    fields = _plain(info)
    assert (fields["id"], fields["kind"], fields["name"]) == (byte_id, "bytes", "level1.bin")
    assert (fields["mime_type"], fields["total_size"]) == ("application/x-level", len(payload))
    progress = _sent(scene, "alice", byte_id)
    assert len(progress) == -(-len(payload) // PIECE_BYTES)
    assert progress == sorted(progress) and progress[-1] == (len(payload), len(payload))

    # a file named by a user:// path, received chunk by chunk (one reused buffer on bob's side,
    # and every chunk kept here: each keeps its own bytes)
    monkeypatch.setattr(project_settings, "standin_user_data_dir", str(tmp_path))
    (tmp_path / "saves").mkdir()
    content = os.urandom(300_000)
    (tmp_path / "saves" / "slot1.sav").write_bytes(content)
    file_id = local.send_file("user://saves/slot1.sav", "saves", gd_dictionary())
    assert file_id, functions.standin_errors()[errors:]  # "" and a Godot error if it failed
    (finished,) = scene.wait_event("bob", "stream_finished", 60.0)
    assert _plain(finished)["id"] == file_id and _plain(finished)["name"] == "slot1.sav"
    chunks = scene.args_of("bob", "byte_stream_chunk_received")
    assert len(chunks) > 1 and {_plain(i)["id"] for i, _ in chunks} == {file_id}
    assert b"".join(_bytes(data) for _, data in chunks) == content
    assert _sent(scene, "alice", file_id)[-1] == (len(content), len(content))

    # a writer the game drops: the LiveKitPoller closes it, what was written arrives
    writer = local.stream_text("story", gd_dictionary())
    assert writer.is_open() and isinstance(writer.get_stream_id(), str)
    writer.write("once upon a time, ")
    writer.write("the end")
    writer_id = writer.get_stream_id()
    writer.drop()
    info, story = scene.wait_event("bob", "text_stream_received", 30.0, after=1)
    assert story == "once upon a time, the end" and _plain(info)["id"] == writer_id
    assert _sent(scene, "alice", writer_id)[-1] == (25, -1)
    assert functions.standin_errors()[errors:] == []
    scene.leave()


# -- data tracks --------------------------------------------------------------------------------


def test_data_track_frames_arrive_through_the_addon_subscription(scene: Scene) -> None:
    errors = len(functions.standin_errors())
    alice, bob = scene.join("alice"), scene.join("bob")
    scene.sees("bob", "alice")
    track = alice.get_local_participant().publish_data_track("positions")
    scene.record("track", track, ("published", "publish_failed"))
    scene.wait_event("track", "published")
    assert track.is_published() and track.get_sid().startswith("DTR_")
    (remote,) = scene.wait_event("bob", "data_track_published")
    assert (remote.get_name(), remote.get_publisher_identity()) == ("positions", "alice")
    assert remote.get_sid() == track.get_sid()
    assert gd_list(bob.get_remote_data_tracks()) == [remote]  # the same object

    subscription = remote.subscribe(DATA_TRACK_MODE_ORDERED, 256)
    assert subscription.get_track() == remote and subscription.is_active()
    scene.record("subscription", subscription, ("ended",))
    frames: list[tuple[bytes, int]] = []
    kept: list[Any] = []  # every payload object a handler got, kept (Godot copies on reuse)

    def on_frame(payload: Any, user_timestamp: int) -> None:
        frames.append((_bytes(payload), user_timestamp))
        kept.append(payload)

    subscription.connect("frame_received", on_frame)

    # the subscription reaches the server a moment after subscribe(): probe until a frame flows
    probe = convert.bytes_to_packed(b"probe")
    last_probe = [0.0]

    def push_probe() -> None:
        if not frames and time.monotonic() - last_probe[0] > 0.1:
            assert track.push(probe, -1)
            last_probe[0] = time.monotonic()

    scene.each_frame.append(push_probe)
    scene.run_until(lambda: bool(frames), 10.0, "a probe frame")
    scene.each_frame.remove(push_probe)
    frames.clear()
    kept.clear()

    # 90 frames at 60 Hz, each with its index as timestamp and a payload of its own
    def payload_of(index: int) -> bytes:
        return index.to_bytes(4, "little") + bytes([index % 251]) * (index * 97 % 900)

    count, pushed = 90, [0]
    start = time.monotonic()

    def push_due() -> None:
        while pushed[0] < count and time.monotonic() >= start + pushed[0] * FRAME:
            packed = convert.bytes_to_packed(payload_of(pushed[0]))
            assert track.push(packed, pushed[0]), f"frame {pushed[0]} not taken"
            pushed[0] += 1

    scene.each_frame.append(push_due)
    scene.run_until(lambda: pushed[0] == count, 10.0, "every frame pushed")
    scene.each_frame.remove(push_due)
    quiet_since = [time.monotonic(), len(frames)]

    def all_in_or_quiet() -> bool:
        if len(frames) != quiet_since[1]:
            quiet_since[:] = [time.monotonic(), len(frames)]
        return frames[-1:] == [(payload_of(count - 1), count - 1)] or (
            time.monotonic() - quiet_since[0] > 0.5
        )

    scene.run_until(all_in_or_quiet, 10.0, "the frames")
    lost = count - len(frames)
    assert lost <= 6, f"{lost} of {count} frames lost at 60 Hz"
    indices = [timestamp for _, timestamp in frames]
    assert indices == sorted(set(indices)), "in order, no duplicates"
    assert all(payload == payload_of(index) for payload, index in frames)
    assert [_bytes(payload) for payload in kept] == [payload for payload, _ in frames]
    assert track.get_pushed_count() >= count + 1 and track.get_refused_count() == 0

    # the game drops its track: the poller unpublishes it; bob sees the same object go
    track.drop()
    (gone,) = scene.wait_event("bob", "data_track_unpublished")
    assert gone == remote and not remote.is_published()
    (reason,) = scene.wait_event("subscription", "ended")
    assert "unpublished" in reason and not subscription.is_active()
    assert subscription.get_end_reason() == reason and gd_null(subscription.get_track())
    subscription.close()
    assert functions.standin_errors()[errors:] == []
    scene.leave()


# -- proximity and video quality ---------------------------------------------------------------


def _subscribed(room: GD, identity: str) -> bool:
    participant = gd_dict(room.get_remote_participants()).get(identity)
    if participant is None:
        return False
    publications = list(gd_dict(participant.get_track_publications()).values())
    return bool(publications) and all(p.get_subscribed() for p in publications)


def test_proximity_changes_subscriptions_as_players_move(
    scene: Scene, connect_peer: Callable[..., Peer]
) -> None:
    alice = scene.join("alice")
    others = [connect_peer(name) for name in ("bob", "carol")]
    scene.peers += others
    feeders = []
    for index, peer in enumerate(others):
        source = LiveKitAudioSource.create(48000, 1, 200)
        peer.local.publish_track(LiveKitLocalAudioTrack.create("voice", source), {})
        feeders.append(tone_feeder(source, 300.0 + 100 * index).start())
    try:

        def state() -> dict[str, bool]:
            return {name: _subscribed(alice, name) for name in ("bob", "carol")}

        scene.run_until(lambda: all(state().values()), WAIT, "subscribed to both")
        proximity = new_object("LiveKitProximity").create(alice)  # LiveKit.create_proximity
        changes: list[tuple[list[str], list[str]]] = []
        proximity.connect(
            "subscriptions_changed", lambda s, u: changes.append((_strings(s), _strings(u)))
        )
        proximity.set_max_participants(1)
        proximity.set_hysteresis(0.5)
        proximity.set_listener_position(0.0, 0.0, 0.0)
        proximity.set_participant_position("bob", 1.0, 0.0, 0.0)
        proximity.set_participant_position("carol", 5.0, 0.0, 0.0)
        scene.run_until(lambda: state() == {"bob": True, "carol": False}, WAIT, "bob only")
        assert _strings(proximity.get_near_identities()) == ["bob"]
        assert changes[0][0] == ["bob"]

        # carol walks up to the listener, bob walks away
        proximity.set_participant_position("carol", 0.0, 0.5, 0.0)
        proximity.set_participant_position("bob", 3.0, 0.0, 0.0)
        scene.run_until(lambda: state() == {"bob": False, "carol": True}, WAIT, "carol only")
        assert (["carol"], ["bob"]) in changes
        assert _strings(proximity.get_near_identities()) == ["carol"]

        # data keeps flowing from bob, whose media is unsubscribed
        others[0].local.publish_data(b"still here", True, [], "chat")
        scene.run_until(
            lambda: any(
                _bytes(a[0]) == b"still here" for a in scene.args_of("alice", "data_received")
            ),
            WAIT,
            "bob's data",
        )
        proximity.close()
    finally:
        for feeder in feeders:
            feeder.stop()
    scene.leave()


def test_video_quality_reaches_the_server(scene: Scene, connect_peer: Callable[..., Peer]) -> None:
    scene.join("alice")
    bob = connect_peer("bob")
    scene.peers.append(bob)
    source = LiveKitVideoSource.create(960, 540)  # three simulcast layers: 320, 640, 960 wide
    bob.local.publish_track(LiveKitLocalVideoTrack.create("camera", source), {"simulcast": True})
    feeder = video_feeder(source, fps=15.0).start()
    try:
        video, publication, _ = scene.wait_event("alice", "track_subscribed", 30.0)
        assert (
            publication.get_simulcasted() and publication.get_video_quality() == VIDEO_QUALITY_HIGH
        )
        stream = new_object("LiveKitVideoStream").from_track(video)
        widths: list[int] = []
        stream.connect("frame_received", lambda: widths.append(stream.get_texture().get_width()))

        def seen() -> str:
            return f"frame widths so far: {sorted(Counter(widths).items())}"

        # the server starts low and climbs as its bandwidth estimate grows: wait for more
        scene.run_until(lambda: bool(widths) and widths[-1] > 320, 30.0, lambda: seen())

        publication.set_video_quality(VIDEO_QUALITY_LOW)
        core_publication = publication.script_instance._lk_core
        assert core_publication.get_video_quality() == VIDEO_QUALITY_LOW
        assert publication.get_video_quality() == VIDEO_QUALITY_LOW
        scene.run_until(lambda: widths[-1] <= 320, 30.0, lambda: f"the low layer: {seen()}")
        low = widths[-1]
        publication.set_video_quality(VIDEO_QUALITY_HIGH)
        scene.run_until(lambda: widths[-1] > low, 30.0, lambda: f"a wider layer: {seen()}")

        errors = len(functions.standin_errors())
        publication.set_video_quality(7)
        (error,) = functions.standin_errors()[errors:]
        assert "quality must be VIDEO_QUALITY_LOW" in error
        assert publication.get_video_quality() == VIDEO_QUALITY_HIGH
        stream.close()
    finally:
        feeder.stop()
        source.close()
    scene.leave()
