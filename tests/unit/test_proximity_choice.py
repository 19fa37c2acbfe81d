"""LiveKitProximity's asks to the SDK, without a server: once per change, and again while the
SDK reports otherwise (auto-subscribe can subscribe a far player's new track after the ask to
leave it). The choice itself, with real media, is in tests/integration/test_large_rooms.py."""

from __future__ import annotations

from typing import Any

import pytest

from godot_livekit import LiveKitProximity, LiveKitRemoteTrackPublication, LiveKitRoom
from godot_livekit import proximity as proximity_module


class SdkPublication:
    """The SDK's side of a publication: ``subscribed`` as the SDK last reported it."""

    def __init__(self) -> None:
        self.subscribed = False


class Participant:
    """A remote participant with publications: the SDK's and ours, by SID."""

    def __init__(self, sids: list[str], asks: list[tuple[str, bool]]) -> None:
        self.sdk = {sid: SdkPublication() for sid in sids}
        self.ours: dict[str, LiveKitRemoteTrackPublication] = {}
        for sid in sids:
            publication = LiveKitRemoteTrackPublication()
            publication.set_subscribed = (  # type: ignore[method-assign]
                lambda want, sid=sid: asks.append((sid, want))
            )
            self.ours[sid] = publication

    def _sdk_publications(self) -> list[tuple[str, Any]]:
        return list(self.sdk.items())

    def get_track_publications(self) -> dict[str, LiveKitRemoteTrackPublication]:
        return dict(self.ours)


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch):
    asks: list[tuple[str, bool]] = []
    remote = {"near": Participant(["TR_n"], asks), "far": Participant(["TR_f1"], asks)}
    room = LiveKitRoom()
    monkeypatch.setattr(room, "get_remote_participants", lambda: dict(remote))
    proximity = LiveKitProximity.create(room)
    proximity.set_auto_poll(False)
    proximity.set_update_hz(1000.0)
    proximity.set_max_participants(1)
    proximity.set_hysteresis(0.1)
    proximity.set_participant_position("near", 1.0, 0.0)
    proximity.set_participant_position("far", 50.0, 0.0)
    clock = [1000.0]
    monkeypatch.setattr(proximity_module.time, "monotonic", lambda: clock[0])

    def update(seconds: float = 0.01) -> bool:
        clock[0] += seconds
        return proximity.poll()

    yield proximity, remote, asks, update
    proximity.close()


def test_each_publication_is_asked_once_for_each_change(setup) -> None:
    proximity, remote, asks, update = setup
    assert update() is True
    # asked even though the far one already looks unsubscribed (auto-subscribe may be on)
    assert sorted(asks) == [("TR_f1", False), ("TR_n", True)]
    remote["near"].sdk["TR_n"].subscribed = True  # the SDK confirms
    asks.clear()
    assert update() is False and update(5.0) is False and asks == []
    proximity.set_participant_position("far", 0.5, 0.0)  # far walks up: the two swap
    assert update() is True
    assert sorted(asks) == [("TR_f1", True), ("TR_n", False)]


def test_a_track_published_later_is_asked_and_asked_again_while_the_sdk_disagrees(
    setup,
) -> None:
    _, remote, asks, update = setup
    update()
    remote["near"].sdk["TR_n"].subscribed = True
    far = remote["far"]
    late = Participant(["TR_f2"], asks)  # far publishes a second track
    far.sdk["TR_f2"], far.ours["TR_f2"] = late.sdk["TR_f2"], late.ours["TR_f2"]
    asks.clear()
    update()
    assert asks == [("TR_f2", False)]
    far.sdk["TR_f2"].subscribed = True  # auto-subscribe lands after the ask
    asks.clear()
    update(0.5 * proximity_module.REASK_SECONDS)
    assert asks == []  # the ask may still be on its way
    update(proximity_module.REASK_SECONDS)
    assert asks == [("TR_f2", False)]
    far.sdk["TR_f2"].subscribed = False  # the SDK reports it left
    asks.clear()
    update(5.0)
    assert asks == []


def test_a_subscription_that_never_comes_is_asked_for_a_few_times_only(setup) -> None:
    """A track the listener may not subscribe to (no permission) stays unsubscribed: asked
    MAX_ASKS times, then left alone until the choice changes."""
    proximity, _, asks, update = setup
    update()
    for _ in range(10):
        update(proximity_module.REASK_SECONDS)
    assert asks.count(("TR_n", True)) == proximity_module.MAX_ASKS
    proximity.set_participant_position("far", 0.5, 0.0)  # the choice changes: asked again
    proximity.set_participant_position("near", 40.0, 0.0)
    update()
    proximity.set_participant_position("near", 0.1, 0.0)
    update()
    assert asks.count(("TR_n", True)) == proximity_module.MAX_ASKS + 1


def test_publications_that_went_away_are_forgotten(setup) -> None:
    proximity, remote, _, update = setup
    update()
    del remote["far"]
    update()
    assert len(proximity._requested) == 1
