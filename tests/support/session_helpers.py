"""Shared helpers of the session tests: a pattern-frame watcher that follows a sender across
re-subscriptions and rejoins, publishing a test pattern, exchanging data, observation windows
and chaos scenarios."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable

from godot_livekit_dev.patterns import pattern_error
from peers import Peer, wait_until

from godot_livekit import (
    LiveKitLocalTrackPublication,
    LiveKitLocalVideoTrack,
    LiveKitTrack,
    LiveKitVideoSource,
    LiveKitVideoStream,
    links,
    testing,
)

WIDTH, HEIGHT = 160, 120
PATTERN_TOLERANCE = 40
MEDIA_WAIT = 20.0


class VideoWatch:
    """Counts test-pattern frames ``viewer`` receives from ``sender``'s video track.

    It follows the sender across re-subscriptions and rejoins: whenever its stream ends
    (the track or participant went stale) it opens a new one on the sender's current
    subscribed video track. Pass it in a ``wait_until`` peer list to pump it.
    """

    def __init__(self, viewer: Peer, sender: str) -> None:
        self.viewer = viewer
        self.sender = sender
        self.stream: LiveKitVideoStream | None = None
        self.streams_opened = 0
        self.good_times: list[float] = []

    @property
    def good_frames(self) -> int:
        return len(self.good_times)

    def frames_since(self, moment: float) -> int:
        """Pattern frames received after ``moment`` (a ``time.monotonic()`` value)."""
        return sum(1 for t in self.good_times if t > moment)

    def max_gap_since(self, moment: float, until: float) -> float:
        """Longest pause without a pattern frame between ``moment`` and ``until``."""
        times = [moment, *(t for t in self.good_times if moment < t < until), until]
        return max(b - a for a, b in itertools.pairwise(times))

    def _current_track(self) -> LiveKitTrack | None:
        participant = self.viewer.room.get_remote_participants().get(self.sender)
        if participant is None:
            return None
        for publication in participant.get_track_publications().values():
            track = publication.get_track()
            if track is not None and not track.is_stale():
                if track.get_kind() == LiveKitTrack.KIND_VIDEO:
                    return track
        return None

    def _auto_pump(self) -> None:
        if self.stream is not None and not self.stream.is_active():
            self.stream.close()
            self.stream = None
        if self.stream is None:
            track = self._current_track()
            if track is None:
                return
            self.stream = LiveKitVideoStream.from_track(track)
            self.stream.set_auto_poll(False)
            self.streams_opened += 1
        if self.stream.poll():
            frame = self.stream.get_texture()
            if (
                frame is not None
                and frame.shape[:2] == (HEIGHT, WIDTH)
                and pattern_error(frame) <= PATTERN_TOLERANCE
            ):
                self.good_times.append(time.monotonic())

    def wait_for_frames(
        self, peers: Iterable[Peer], count: int, since: float, timeout: float = MEDIA_WAIT
    ) -> float:
        """Pump until ``count`` pattern frames arrived after ``since``; returns when the
        first of them arrived (monotonic)."""
        wait_until(
            [*peers, self],
            lambda: self.frames_since(since) >= count,
            timeout,
            f"{count} pattern frame(s) from {self.sender} at {self.viewer.identity}",
        )
        return next(t for t in self.good_times if t > since)

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None


def publish_pattern(
    peer: Peer,
) -> tuple[LiveKitVideoSource, LiveKitLocalVideoTrack, LiveKitLocalTrackPublication]:
    """Publish a WIDTHxHEIGHT test-pattern camera track (no simulcast) from ``peer``."""
    source = LiveKitVideoSource.create(WIDTH, HEIGHT)
    track = LiveKitLocalVideoTrack.create("pattern", source)
    publication = peer.local.publish_track(track, {"simulcast": False})
    return source, track, publication


def exchange_data(
    sender: Peer, receiver: Peer, payload: bytes, also: Iterable[object] = (), timeout: float = 15.0
) -> None:
    """``sender`` publishes ``payload`` (reliable); wait until ``receiver`` gets it."""
    sender.local.publish_data(payload, True, [], "check")
    wait_until(
        [sender, receiver, *also],
        lambda: any(args[0] == payload for args in receiver.args_of("data_received")),
        timeout,
        f"{payload!r} from {sender.identity} at {receiver.identity}",
    )


def simulate(peer: Peer, kind: int) -> None:
    """Run an SDK chaos scenario on ``peer``'s live session."""
    sdk_room = links.sdk_of(peer.room)
    assert sdk_room is not None, f"{peer.identity} is not connected"
    testing.run_on_runtime(sdk_room.simulate_scenario(kind), 10)


def both_see_each_other(alice: Peer, bob: Peer) -> None:
    wait_until(
        [alice, bob],
        lambda: (
            "bob" in alice.room.get_remote_participants()
            and "alice" in bob.room.get_remote_participants()
        ),
        what="alice and bob see each other",
    )


def wait_for_window(peers: Iterable[object], seconds: float) -> None:
    """Keep pumping ``peers`` for ``seconds`` (an observation window, not a sleep)."""
    end = time.monotonic() + seconds
    wait_until(peers, lambda: time.monotonic() >= end, seconds + 5.0, "the window")


def cycle_names(peer: Peer) -> list[str]:
    """The connection-lifecycle signals of ``peer`` in order."""
    lifecycle = {"connected", "reconnecting", "reconnected", "disconnected", "connection_failed"}
    return [name for name in peer.names() if name in lifecycle]
