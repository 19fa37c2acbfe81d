"""Test helpers: a participant that records every signal it emits, and bounded waits."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from godot_livekit import LiveKitLocalParticipant, LiveKitRoom
from godot_livekit.poller import pump_until
from godot_livekit.signals import declared_signals

WAIT = 15.0


class Peer:
    """A LiveKitRoom plus a transcript of every room and local-participant signal."""

    def __init__(self, identity: str) -> None:
        self.identity = identity
        self.room = LiveKitRoom()
        self.room.set_auto_poll(False)
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self._local_recorded = False
        for name in declared_signals(LiveKitRoom):
            getattr(self.room, name).connect(self._recorder(name))
        # the local participant exists while connected: record its signals from then on
        self.room.connected.connect(self._record_local)

    def _record_local(self) -> None:
        local = self.room.local_participant
        if local is None or self._local_recorded:
            return
        self._local_recorded = True
        for name in declared_signals(type(local)):
            getattr(local, name).connect(self._recorder(name))

    def _recorder(self, name: str) -> Callable[..., None]:
        def record(*args: Any) -> None:
            self.events.append((name, args))

        return record

    @property
    def local(self) -> LiveKitLocalParticipant:
        """The local participant (the test fails if the room is not connected)."""
        local = self.room.local_participant
        assert local is not None, f"{self.identity} is not connected: no local participant"
        return local

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def args_of(self, name: str) -> list[tuple[Any, ...]]:
        return [args for event, args in self.events if event == name]

    def poll(self) -> None:
        self.room.poll_events()

    def _auto_pump(self) -> None:
        self.room.poll_events()

    def __repr__(self) -> str:
        return f"<Peer {self.identity} events={self.names()}>"


def wait_until(
    peers: Iterable[Peer], predicate: Callable[[], bool], timeout: float = WAIT, what: str = ""
) -> None:
    """Pump ``peers`` until ``predicate()``; fail the test with ``what`` after ``timeout``."""
    peers = list(peers)
    if not pump_until(predicate, timeout, peers):
        transcript = "\n".join(repr(p) for p in peers)
        raise AssertionError(f"timed out after {timeout:g}s waiting for {what}\n{transcript}")


def wait_for_event(
    peer: Peer, name: str, count: int = 1, timeout: float = WAIT, also: Iterable[Peer] = ()
) -> tuple[Any, ...]:
    """Wait until ``peer`` has emitted ``name`` ``count`` times; returns the last args."""
    wait_until(
        [peer, *also], lambda: len(peer.args_of(name)) >= count, timeout, f"{peer.identity}: {name}"
    )
    return peer.args_of(name)[count - 1]
