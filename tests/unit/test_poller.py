"""The frame poller's registry: what pump_all pumps, as objects come, go and are collected."""

from __future__ import annotations

import gc
import logging

import pytest

from godot_livekit import poller


class Pumped:
    def __init__(self, auto: bool = True, fails: bool = False) -> None:
        self.auto, self.fails, self.pumps = auto, fails, 0

    def get_auto_poll(self) -> bool:
        return self.auto

    def _auto_pump(self) -> None:
        self.pumps += 1
        if self.fails:
            raise RuntimeError("pump failed")


@pytest.fixture(autouse=True)
def only_ours():
    """Leave objects other tests registered alone: pump only what these tests made."""
    before = set(map(id, poller.registered()))
    yield
    for obj in poller.registered():
        if id(obj) not in before and isinstance(obj, Pumped):
            poller.unregister(obj)


def ours() -> list[object]:
    return [obj for obj in poller.registered() if isinstance(obj, Pumped)]


def test_the_registry_follows_register_unregister_and_garbage_collection() -> None:
    a, b = Pumped(), Pumped()
    poller.register(a)
    assert ours() == [a]
    poller.register(b)
    assert set(map(id, ours())) == {id(a), id(b)}  # a change made after the last snapshot
    poller.unregister(a)
    assert ours() == [b]
    poller.register(a)
    assert len(ours()) == 2
    del b
    gc.collect()
    assert ours() == [a]  # collected: gone without unregister
    assert ours() == [a]  # and stays gone once the snapshot is made again
    c = Pumped()
    poller.register(c)
    assert set(map(id, ours())) == {id(a), id(c)}


def test_pump_all_pumps_auto_polled_objects_and_survives_one_that_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    steady, off, failing = Pumped(), Pumped(auto=False), Pumped(fails=True)
    for obj in (steady, off, failing):
        poller.register(obj)
    with caplog.at_level(logging.ERROR, logger="godot_livekit.poller"):
        poller.pump_all()
        poller.pump_all()
    assert (steady.pumps, off.pumps, failing.pumps) == (2, 0, 2)
    assert "auto-poll of" in caplog.text
    poller.unregister(steady)
    poller.pump_all()
    assert steady.pumps == 2 and failing.pumps == 3
