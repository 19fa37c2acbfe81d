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
from godot_livekit.poller import pump_until

TICK = 1 / 60
LATEST = LiveKitDataTrackSubscription.MODE_LATEST
ORDERED = LiveKitDataTrackSubscription.MODE_ORDERED


PROBE = b"probe"
PROBE_WAIT = 0.5
"""A probe frame arrives within milliseconds or never (frames are not kept for later)."""


class Frames:
    """Records a subscription's signals, from the moment it is made."""

    def __init__(self, subscription: LiveKitDataTrackSubscription) -> None:
        self.subscription = subscription
        self.frames: list[tuple[bytes, int]] = []
        self.ended: list[str] = []
        self.base_received = subscription.get_received_count()
        subscription.frame_received.connect(lambda p, t: self.frames.append((p, t)))
        subscription.ended.connect(self.ended.append)

    def received(self) -> int:
        """Frames received since recording started."""
        return self.subscription.get_received_count() - self.base_received


def subscribe_ready(
    peer: Peer,
    remote: LiveKitRemoteDataTrack,
    track: LiveKitLocalDataTrack,
    mode: int = LATEST,
    queue_size: int = 64,
) -> Frames:
    """Subscribe, and wait until frames flow: push one probe frame at a time until one
    arrives (the subscription reached the server); it is delivered before recording."""
    subscription = remote.subscribe(mode, queue_size)
    deadline = time.monotonic() + 10.0
    while subscription.get_received_count() == 0:
        assert time.monotonic() < deadline, "no probe frame ever arrived"
        assert track.push(PROBE)
        pushed = time.monotonic()
        while subscription.get_received_count() == 0 and time.monotonic() - pushed < PROBE_WAIT:
            time.sleep(0.005)
    peer.poll()
    return Frames(subscription)


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


def deliver(
    track: LiveKitLocalDataTrack, peer: Peer, recorder: Frames, payload: bytes, timestamp: int = -1
) -> None:
    """Push one frame until ``recorder`` gets it (frames are unreliable: one can be lost)."""
    for _ in range(10):
        assert track.push(payload, timestamp)
        if pump_until(lambda: (payload, timestamp) in recorder.frames, PROBE_WAIT, [peer]):
            return
    raise AssertionError(f"a frame of {len(payload)} bytes never arrived in 10 tries")


def wait_quiet(recorder: Frames, count: int) -> int:
    """Wait (without polling the room: nothing is delivered yet) until ``count`` frames
    arrived since recording started, or none came for PROBE_WAIT (the rest were lost:
    frames are unreliable). Returns how many were lost."""
    deadline = time.monotonic() + 10.0
    seen, last_change = recorder.received(), time.monotonic()
    while recorder.received() < count and time.monotonic() - last_change < PROBE_WAIT:
        assert time.monotonic() < deadline
        time.sleep(0.005)
        if recorder.received() != seen:
            seen, last_change = recorder.received(), time.monotonic()
    return count - recorder.received()


def test_frames_arrive_in_order_with_payloads_and_timestamps(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "positions")
    assert track.is_published() and track.get_sid().startswith("DTR_")
    remote = remote_track(bob, "positions", "alice", [alice])
    assert remote.get_sid() == track.get_sid()
    assert bob.room.get_remote_data_tracks() == [remote]
    recorder = subscribe_ready(bob, remote, track, ORDERED, 256)
    push_paced(track, 120, lambda i: i.to_bytes(4, "little") + bytes([i % 251]) * (i * 97 % 900))
    lost = wait_quiet(recorder, 120)
    assert lost <= 6, f"{lost} of 120 frames lost at 60 Hz"
    bob.poll()
    assert len(recorder.frames) == 120 - lost
    indices = [int.from_bytes(p[:4], "little") for p, _ in recorder.frames]
    assert indices == sorted(set(indices)), "in order, no duplicates"
    for payload, timestamp in recorder.frames:
        index = int.from_bytes(payload[:4], "little")
        assert payload[4:] == bytes([index % 251]) * (index * 97 % 900)
        assert timestamp == index
    assert recorder.subscription.get_dropped_count() == 0
    assert track.get_refused_count() == 0


def test_latest_mode_delivers_only_the_newest_frame(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "cursor")
    recorder = subscribe_ready(bob, remote_track(bob, "cursor", "alice", [alice]), track, LATEST)
    subscription = recorder.subscription
    push_paced(track, 20, lambda i: b"cursor %d" % i)
    lost = wait_quiet(recorder, 20)
    assert lost <= 3, f"{lost} of 20 frames lost at 60 Hz"
    assert bob.room.poll_events() >= 1
    ((payload, timestamp),) = recorder.frames  # one frame: the newest that arrived
    assert payload == b"cursor %d" % timestamp and timestamp >= 19 - lost
    assert subscription.get_dropped_count() == recorder.received() - 1
    recorder.frames.clear()
    deliver(track, bob, recorder, b"next", 0)  # after a poll, the next frame comes again
    assert recorder.frames[0] == (b"next", 0)


def test_ordered_queue_keeps_the_newest_frames_and_counts_drops(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "inputs")
    remote = remote_track(bob, "inputs", "alice", [alice])
    recorder = subscribe_ready(bob, remote, track, ORDERED, 4)
    push_paced(track, 20, lambda i: bytes([i]))
    lost = wait_quiet(recorder, 20)
    assert lost <= 3, f"{lost} of 20 frames lost at 60 Hz"
    bob.poll()
    indices = [timestamp for _, timestamp in recorder.frames]
    assert len(indices) == 4 and indices == sorted(indices) and indices[-1] >= 19 - lost
    assert recorder.frames == [(bytes([i]), i) for i in indices]
    assert recorder.subscription.get_dropped_count() == recorder.received() - 4


def test_frame_sizes_up_to_the_limit_arrive_exactly(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "blobs")
    recorder = subscribe_ready(bob, remote_track(bob, "blobs", "alice", [alice]), track, ORDERED)
    sizes = [1, 1000, 16_000, MAX_FRAME_BYTES]
    expected = [
        (bytes([index + 1]) * size, -1 if index == 0 else 2**63 - 1)
        for index, size in enumerate(sizes)
    ]
    for payload, timestamp in expected:
        deliver(track, bob, recorder, payload, timestamp)
    assert [frame for frame in recorder.frames if frame in expected] == expected
    assert all(frame in expected for frame in recorder.frames)


def test_subscription_ends_when_the_publisher_unpublishes(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "temporary")
    remote = remote_track(bob, "temporary", "alice", [alice])
    recorder = subscribe_ready(bob, remote, track)
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
    recorder = subscribe_ready(bob, remote, track, ORDERED)
    deliver(track, bob, recorder, b"bye")
    alice.room.disconnect_from_room()
    wait_until([alice, bob], lambda: bool(recorder.ended), what="the subscription ended")
    assert recorder.ended == ["the track was unpublished"]
    assert wait_for_event(bob, "data_track_unpublished", also=[alice]) == (remote,)
    assert not track.is_published()


def test_a_late_joiner_is_told_of_tracks_already_published(connect_peer) -> None:
    alice = connect_peer("alice")
    track = published_track(alice, "world-state")
    bob = connect_peer("bob")
    remote = remote_track(bob, "world-state", "alice", [alice])
    recorder = subscribe_ready(bob, remote, track)
    deliver(track, bob, recorder, b"hello late joiner", 42)
    assert set(recorder.frames) == {(b"hello late joiner", 42)}


def test_closing_a_subscription_stops_its_frames(alice_bob) -> None:
    alice, bob = alice_bob
    track = published_track(alice, "closing")
    remote = remote_track(bob, "closing", "alice", [alice])
    recorder = Frames(remote.subscribe(ORDERED))
    keeper = subscribe_ready(bob, remote, track, ORDERED)  # a second one on the same track
    recorder.frames.clear()  # the probes
    recorder.subscription.close()
    recorder.subscription.close()
    assert recorder.subscription.get_end_reason() == "closed"
    deliver(track, bob, keeper, b"for the keeper")
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
    recorder = subscribe_ready(bob, remote, track)
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
