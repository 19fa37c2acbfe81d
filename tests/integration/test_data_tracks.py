"""Data tracks between real participants: publish, push at a game's tick rate, subscribe
newest-first or in order, and the end of a subscription.

Real parts: livekit-server v1.13.5 (data tracks are on by default: ``enable_data_tracks``
defaults to true in its config) and the livekit SDK over the test namespace's network.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from peers import Peer, wait_for_event, wait_until

from godot_livekit import (
    LiveKitDataTrackSubscription,
    LiveKitError,
    LiveKitLocalDataTrack,
    LiveKitRemoteDataTrack,
)
from godot_livekit.data_tracks import MAX_FRAME_BYTES

TICK = 1 / 60
LATEST = LiveKitDataTrackSubscription.MODE_LATEST
ORDERED = LiveKitDataTrackSubscription.MODE_ORDERED


class Frames:
    """Records a subscription's signals."""

    def __init__(self, subscription: LiveKitDataTrackSubscription) -> None:
        self.subscription = subscription
        self.frames: list[tuple[bytes, int]] = []
        self.ended: list[str] = []
        subscription.frame_received.connect(lambda p, t: self.frames.append((p, t)))
        subscription.ended.connect(self.ended.append)


def published_track(peer: Peer, name: str) -> LiveKitLocalDataTrack:
    """Publish a data track from ``peer`` and wait for ``published``."""
    track = peer.local.publish_data_track(name)
    done: list[Any] = []
    track.published.connect(lambda: done.append(True))
    track.publish_failed.connect(done.append)
    wait_until([peer], lambda: bool(done), what=f"data track {name!r} published")
    assert done == [True], done
    return track


def remote_track(peer: Peer, name: str, publisher: str, also: list[Peer]) -> LiveKitRemoteDataTrack:
    """Wait until ``peer`` was told of ``publisher``'s track ``name``; returns it."""

    def find() -> LiveKitRemoteDataTrack | None:
        for (track,) in peer.args_of("data_track_published"):
            if track.get_name() == name and track.get_publisher_identity() == publisher:
                if track.is_published():
                    return track
        return None

    wait_until([peer, *also], lambda: find() is not None, what=f"{peer.identity} sees {name!r}")
    found = find()
    assert found is not None
    return found


def push_paced(track: LiveKitLocalDataTrack, count: int, payload: Callable[[int], bytes]) -> None:
    """Push ``count`` frames at 60 Hz, each with its index as user timestamp."""
    next_tick = time.monotonic()
    for index in range(count):
        assert track.push(payload(index), index), f"frame {index} not taken"
        next_tick += TICK
        time.sleep(max(0.0, next_tick - time.monotonic()))


def wait_received(subscription: LiveKitDataTrackSubscription, count: int) -> None:
    """Wait (without polling the room: nothing is delivered yet) until the subscription has
    received ``count`` frames."""
    deadline = time.monotonic() + 10.0
    while subscription.get_received_count() < count:
        assert time.monotonic() < deadline, (
            f"received {subscription.get_received_count()} of {count} frames"
        )
        time.sleep(0.01)


def test_frames_arrive_in_order_with_payloads_and_timestamps(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "positions")
    assert track.is_published() and track.get_sid().startswith("DTR_")
    remote = remote_track(bob, "positions", "alice", [alice])
    assert remote.get_sid() == track.get_sid()
    assert bob.room.get_remote_data_tracks() == [remote]
    recorder = Frames(remote.subscribe(ORDERED, 256))
    time.sleep(0.3)  # the subscription reaches the server
    push_paced(track, 120, lambda i: i.to_bytes(4, "little") + bytes([i % 251]) * (i * 97 % 900))
    wait_until([alice, bob], lambda: len(recorder.frames) >= 114, what="most of 120 frames")
    time.sleep(0.3)
    bob.poll()
    indices = [int.from_bytes(p[:4], "little") for p, _ in recorder.frames]
    assert indices == sorted(set(indices)), "in order, no duplicates"
    for payload, timestamp in recorder.frames:
        index = int.from_bytes(payload[:4], "little")
        assert payload[4:] == bytes([index % 251]) * (index * 97 % 900)
        assert timestamp == index
    assert recorder.subscription.get_dropped_count() == 0
    assert recorder.subscription.get_received_count() == len(recorder.frames)
    assert track.get_pushed_count() == 120 and track.get_refused_count() == 0


def test_latest_mode_delivers_only_the_newest_frame(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "cursor")
    subscription = remote_track(bob, "cursor", "alice", [alice]).subscribe(LATEST)
    recorder = Frames(subscription)
    time.sleep(0.3)
    push_paced(track, 20, lambda i: b"cursor %d" % i)
    wait_received(subscription, 20)
    assert bob.room.poll_events() >= 1
    assert recorder.frames == [(b"cursor 19", 19)]
    assert subscription.get_dropped_count() == 19
    push_paced(track, 1, lambda i: b"next")
    wait_until([bob], lambda: len(recorder.frames) == 2, what="the next frame")
    assert recorder.frames[1] == (b"next", 0)


def test_ordered_queue_keeps_the_newest_frames_and_counts_drops(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "inputs")
    subscription = remote_track(bob, "inputs", "alice", [alice]).subscribe(ORDERED, 4)
    recorder = Frames(subscription)
    time.sleep(0.3)
    push_paced(track, 20, lambda i: bytes([i]))
    wait_received(subscription, 20)
    bob.poll()
    assert recorder.frames == [(bytes([i]), i) for i in range(16, 20)]
    assert subscription.get_dropped_count() == 16


def test_frame_sizes_up_to_the_limit_arrive_exactly(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "blobs")
    recorder = Frames(remote_track(bob, "blobs", "alice", [alice]).subscribe(ORDERED))
    time.sleep(0.3)
    sizes = [1, 1000, 16_000, MAX_FRAME_BYTES]
    for index, size in enumerate(sizes):
        payload = bytes([index + 1]) * size
        assert track.push(payload, -1 if index == 0 else 2**63 - 1)
        wait_until([bob], lambda n=index: len(recorder.frames) > n, what=f"frame of {size} bytes")
    assert [len(p) for p, _ in recorder.frames] == sizes
    assert [p == bytes([i + 1]) * len(p) for i, (p, _) in enumerate(recorder.frames)] == [True] * 4
    assert [t for _, t in recorder.frames] == [-1, 2**63 - 1, 2**63 - 1, 2**63 - 1]


def test_subscription_ends_when_the_publisher_unpublishes(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "temporary")
    remote = remote_track(bob, "temporary", "alice", [alice])
    recorder = Frames(remote.subscribe())
    time.sleep(0.3)
    track.unpublish()
    track.unpublish()  # idempotent
    assert not track.is_published()
    assert track.push(b"too late") is False and track.get_refused_count() == 1
    wait_until([alice, bob], lambda: bool(recorder.ended), what="the subscription ended")
    assert recorder.ended == ["the track was unpublished"]
    (gone,) = wait_for_event(bob, "data_track_unpublished", also=[alice])
    assert gone is remote and not remote.is_published() and remote.get_name() == ""
    assert not recorder.subscription.is_active()
    assert bob.room.get_remote_data_tracks() == []


def test_subscription_ends_when_the_publisher_leaves(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "leaving")
    remote = remote_track(bob, "leaving", "alice", [alice])
    recorder = Frames(remote.subscribe(ORDERED))
    time.sleep(0.3)
    push_paced(track, 3, lambda i: b"bye %d" % i)
    wait_until([bob], lambda: len(recorder.frames) == 3, what="three frames")
    alice.room.disconnect_from_room()
    wait_until([alice, bob], lambda: bool(recorder.ended), what="the subscription ended")
    assert recorder.ended == ["the track was unpublished"]
    assert bob.args_of("data_track_unpublished") == [(remote,)]
    assert not track.is_published()


def test_a_late_joiner_is_told_of_tracks_already_published(connect_peer) -> None:
    alice = connect_peer("alice")
    track = published_track(alice, "world-state")
    bob = connect_peer("bob")
    remote = remote_track(bob, "world-state", "alice", [alice])
    recorder = Frames(remote.subscribe())
    time.sleep(0.3)
    assert track.push(b"hello late joiner", 42)
    wait_until([alice, bob], lambda: bool(recorder.frames), what="the frame")
    assert recorder.frames == [(b"hello late joiner", 42)]


def test_closing_a_subscription_stops_its_frames(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "closing")
    remote = remote_track(bob, "closing", "alice", [alice])
    recorder = Frames(remote.subscribe(ORDERED))
    keeper = Frames(remote.subscribe(ORDERED))  # a second subscription to the same track
    time.sleep(0.3)
    recorder.subscription.close()
    recorder.subscription.close()
    assert recorder.subscription.get_end_reason() == "closed"
    push_paced(track, 5, lambda i: bytes([i]))
    wait_until([alice, bob], lambda: len(keeper.frames) == 5, what="the other subscription")
    assert recorder.frames == [] and recorder.ended == []


def test_publishing_and_pushing_refuse_bad_input(alice_bob) -> None:
    alice, _ = alice_bob
    local = alice.local
    with pytest.raises(ValueError, match="1 to 256 bytes"):
        local.publish_data_track("")
    with pytest.raises(TypeError):
        local.publish_data_track(5)  # type: ignore[arg-type]
    track = published_track(alice, "checked")
    with pytest.raises(ValueError, match="1 to 65536 bytes"):
        track.push(b"")
    with pytest.raises(ValueError, match="1 to 65536 bytes"):
        track.push(bytes(MAX_FRAME_BYTES + 1))
    with pytest.raises(TypeError):
        track.push("text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="user_timestamp"):
        track.push(b"x", -2)
    duplicate = local.publish_data_track("checked")
    errors: list[str] = []
    duplicate.publish_failed.connect(errors.append)
    wait_until([alice], lambda: bool(errors), what="the duplicate refused")
    assert errors == ["publish failed: Track name already taken"]
    assert duplicate.get_error() == errors[0] and duplicate.push(b"x") is False


def test_a_disconnect_ends_tracks_and_subscriptions_without_leftovers(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "session")
    remote = remote_track(bob, "session", "alice", [alice])
    recorder = Frames(remote.subscribe())
    time.sleep(0.3)
    bob.room.disconnect_from_room()
    wait_for_event(bob, "disconnected")
    assert not recorder.subscription.is_active()
    assert recorder.subscription.get_end_reason() == "the room disconnected"
    assert not remote.is_published() and bob.room.get_remote_data_tracks() == []
    assert bob.room.wait_idle(10.0), "the subscription's reader did not end"
    local = alice.local  # kept from while connected
    alice.room.disconnect_from_room()
    wait_for_event(alice, "disconnected")
    assert not track.is_published() and track.push(b"x") is False
    with pytest.raises(LiveKitError, match="not connected"):
        local.publish_data_track("after")
