"""Large rooms: proximity subscription and simulcast layer choice on the real server.

Real parts: livekit-server (it forwards only what a subscriber subscribes to, and the
simulcast layer it asked for), the livekit SDK and its encoders, WebRTC over the test
namespace's network. Positions move as a game would move its players.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from media_helpers import tone_feeder, video_feeder
from peers import Peer, wait_for_event, wait_until

from godot_livekit import (
    LiveKitAudioSource,
    LiveKitLocalAudioTrack,
    LiveKitLocalVideoTrack,
    LiveKitProximity,
    LiveKitRemoteTrackPublication,
    LiveKitTrack,
    LiveKitVideoSource,
    LiveKitVideoStream,
)

WAIT = 20.0


def subscribed_at(listener: Peer, identity: str) -> bool:
    """Whether ``listener`` is subscribed to ``identity``'s (one) audio publication."""
    participant = listener.room.get_remote_participants().get(identity)
    if participant is None:
        return False
    publications = list(participant.get_track_publications().values())
    return bool(publications) and all(p.get_subscribed() for p in publications)


def state(listener: Peer) -> dict[str, bool]:
    """Which of bob, carol and dave ``listener`` is subscribed to."""
    return {name: subscribed_at(listener, name) for name in ("bob", "carol", "dave")}


def choose_the_two_nearest(alice: Peer, peers: list[Peer], proximity: LiveKitProximity) -> None:
    """bob (1) and carol (2) near alice (at the origin), dave far (10); wait until alice is
    subscribed to bob and carol only."""
    proximity.set_max_participants(2)
    proximity.set_listener_position(0.0, 0.0, 0.0)
    proximity.set_participant_position("bob", 1.0, 0.0)
    proximity.set_participant_position("carol", 2.0, 0.0)
    proximity.set_participant_position("dave", 10.0, 0.0)
    wait_until(
        [*peers, proximity],
        lambda: state(alice) == {"bob": True, "carol": True, "dave": False},
        WAIT,
        "the two nearest subscribed",
    )


@pytest.fixture
def talkers(connect_peer: Callable[..., Peer]):
    """alice listens; bob, carol and dave each publish a tone."""
    alice = connect_peer("alice")
    others = [connect_peer(name) for name in ("bob", "carol", "dave")]
    feeders = []
    for index, peer in enumerate(others):
        source = LiveKitAudioSource.create(48000, 1, 200)
        peer.local.publish_track(LiveKitLocalAudioTrack.create("voice", source), {})
        feeders.append(tone_feeder(source, 300.0 + 100 * index).start())
    peers = [alice, *others]
    wait_until(
        peers,
        lambda: all(subscribed_at(alice, p.identity) for p in others),
        WAIT,
        "alice subscribed to everyone (auto_subscribe)",
    )
    try:
        yield alice, others
    finally:
        for feeder in feeders:
            feeder.stop()


def test_proximity_keeps_the_nearest_subscribed_as_players_move(talkers) -> None:
    alice, others = talkers
    peers = [alice, *others]
    proximity = LiveKitProximity.create(alice.room)
    changes: list[tuple[list[str], list[str]]] = []
    proximity.subscriptions_changed.connect(lambda sub, unsub: changes.append((sub, unsub)))
    try:
        choose_the_two_nearest(alice, peers, proximity)
        assert proximity.get_near_identities() == ["bob", "carol"]
        # dave walks up: he is nearer than carol now
        proximity.set_participant_position("dave", 0.0, 0.5)
        wait_until(
            [*peers, proximity],
            lambda: state(alice) == {"bob": True, "carol": False, "dave": True},
            WAIT,
            "dave in, carol out",
        )
        assert proximity.get_near_identities() == ["dave", "bob"]
        # data keeps flowing from someone whose media is not subscribed
        carol = others[1]
        carol.local.publish_data(b"still here", True, [], "chat")
        wait_until(
            [*peers, proximity],
            lambda: any(a[0] == b"still here" for a in alice.args_of("data_received")),
            WAIT,
            "carol's data",
        )
    finally:
        proximity.close()
    assert (["dave"], ["carol"]) in changes


def test_proximity_hysteresis_does_not_flap_at_the_radius(talkers) -> None:
    alice, others = talkers
    peers = [alice, *others]
    proximity = LiveKitProximity.create(alice.room)
    proximity.set_radius(5.0)
    proximity.set_hysteresis(1.0)
    for identity in ("bob", "dave"):
        proximity.set_participant_position(identity, 50.0, 0.0)
    proximity.set_participant_position("carol", 4.0, 0.0)
    try:
        wait_until(
            [*peers, proximity],
            lambda: state(alice) == {"bob": False, "carol": True, "dave": False},
            WAIT,
            "only carol in range",
        )
        unsubscribed_before = len(alice.args_of("track_unsubscribed"))
        # carol wanders back and forth across the radius, within the hysteresis
        for x in (5.5, 4.5, 5.9, 4.9, 5.5) * 2:
            proximity.set_participant_position("carol", x, 0.0)
            end = time.monotonic() + 0.3
            wait_until([*peers, proximity], lambda end=end: time.monotonic() > end, 5.0, "a step")
            assert subscribed_at(alice, "carol") and "carol" in proximity.get_near_identities()
        assert len(alice.args_of("track_unsubscribed")) == unsubscribed_before
        # past the hysteresis she is dropped; coming back inside the radius she returns
        proximity.set_participant_position("carol", 6.5, 0.0)
        wait_until([*peers, proximity], lambda: not subscribed_at(alice, "carol"), WAIT, "out")
        proximity.set_participant_position("carol", 5.5, 0.0)  # outside the radius: stays out
        end = time.monotonic() + 0.5
        wait_until([*peers, proximity], lambda: time.monotonic() > end, 5.0, "a moment")
        assert not subscribed_at(alice, "carol")
        proximity.set_participant_position("carol", 4.9, 0.0)
        wait_until([*peers, proximity], lambda: subscribed_at(alice, "carol"), WAIT, "back in")
    finally:
        proximity.close()


def test_proximity_applies_its_choice_to_tracks_published_later(talkers) -> None:
    """A track published after the choice follows it: auto-subscribe takes a far player's new
    track, proximity lets go of it; a near player's new track stays subscribed."""
    alice, others = talkers
    peers = [alice, *others]
    bob, dave = others[0], others[2]
    proximity = LiveKitProximity.create(alice.room)
    feeders = []
    try:
        choose_the_two_nearest(alice, peers, proximity)
        for peer in (bob, dave):
            source = LiveKitAudioSource.create(48000, 1, 200)
            peer.local.publish_track(LiveKitLocalAudioTrack.create("second", source), {})
            feeders.append(tone_feeder(source, 900.0).start())

        def publications_of(identity: str) -> list[LiveKitRemoteTrackPublication]:
            participant = alice.room.get_remote_participants().get(identity)
            found = participant.get_track_publications().values() if participant else []
            return [p for p in found if isinstance(p, LiveKitRemoteTrackPublication)]

        wait_until(
            [*peers, proximity],
            lambda: len(publications_of("bob")) == 2 and len(publications_of("dave")) == 2,
            WAIT,
            "both second tracks announced",
        )

        def as_chosen() -> bool:
            return all(p.get_subscribed() for p in publications_of("bob")) and not any(
                p.get_subscribed() for p in publications_of("dave")
            )

        # auto-subscribe may take dave's new track after proximity asked to leave it; then
        # proximity asks again: what counts is that the choice settles and stays
        since: list[float] = []

        def settled_for_two_seconds() -> bool:
            if not as_chosen():
                since.clear()
            elif not since:
                since.append(time.monotonic())
            return bool(since) and time.monotonic() - since[0] > 2.0

        wait_until(
            [*peers, proximity],
            settled_for_two_seconds,
            WAIT,
            "bob's new track subscribed and dave's not, for two seconds",
        )
        assert proximity.get_near_identities() == ["bob", "carol"]
    finally:
        proximity.close()
        for feeder in feeders:
            feeder.stop()


def test_a_low_simulcast_layer_arrives_smaller_than_a_high_one(alice_bob) -> None:
    alice, bob = alice_bob
    source = LiveKitVideoSource.create(1280, 720)
    track = LiveKitLocalVideoTrack.create("camera", source)
    alice.local.publish_track(track, {"simulcast": True})
    feeder = video_feeder(source).start()
    try:
        (video, publication, _) = wait_for_event(bob, "track_subscribed", also=[alice])
        assert isinstance(publication, LiveKitRemoteTrackPublication)
        assert video.get_kind() == LiveKitTrack.KIND_VIDEO and publication.get_simulcasted()
        stream = LiveKitVideoStream.from_track(video)
        stream.set_auto_poll(False)
        widths: list[int] = []

        def frame_width_reaches(check: Callable[[int], bool]) -> bool:
            if stream.poll():
                widths.append(stream.get_frame_size()[0])
            return bool(widths) and check(widths[-1])

        publication.set_video_quality(LiveKitRemoteTrackPublication.VIDEO_QUALITY_LOW)
        assert publication.get_video_quality() == 0
        wait_until([alice, bob], lambda: frame_width_reaches(lambda w: w <= 320), 30.0, "low")
        low = widths[-1]
        publication.set_video_quality(LiveKitRemoteTrackPublication.VIDEO_QUALITY_HIGH)
        wait_until([alice, bob], lambda: frame_width_reaches(lambda w: w > low), 30.0, "high")
        assert widths[-1] > low
        stream.close()
        with pytest.raises(ValueError, match="quality"):
            publication.set_video_quality(7)
    finally:
        feeder.stop()
