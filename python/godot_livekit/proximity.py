"""LiveKitProximity: subscribe only to the media of the participants near the listener.

The game tells it where the listener is and where each participant is (from its own world
state: positions it already syncs, e.g. over data packets or data tracks). Every pump it keeps
the room subscribed to the media of the nearest ``max_participants`` participants and/or of
those within ``radius``, and unsubscribed from the others. Data keeps flowing for everyone:
only media subscriptions change.

Hysteresis keeps it from flapping at the boundary: a participant already subscribed stays
until it is ``hysteresis`` farther than the radius, and for the nearest-N choice it counts as
``hysteresis`` closer than it is. Positions are 3D (use z = 0 for a 2D game); distances are
plain Euclidean in the game's units. Participants whose position is unknown count as far away.
All work is a few dozen float operations per participant on the main thread, at most
``update_hz`` times a second; changes go to the SDK without waiting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import poller
from .signals import signal
from .track_publication import LiveKitRemoteTrackPublication

if TYPE_CHECKING:
    from .participant import LiveKitRemoteParticipant
    from .room import LiveKitRoom

DEFAULT_UPDATE_HZ = 10.0
REASK_SECONDS = 1.0
"""A publication whose subscription is not yet as asked is asked again after this long..."""
MAX_ASKS = 3
"""...up to this many asks in all; then it is left as it is until the choice changes (a
track the listener may not subscribe to would otherwise be asked for forever)."""
Position = tuple[float, float, float]


def _position(x: float, y: float, z: float, what: str) -> Position:
    values = (x, y, z)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{what}: coordinates must be numbers, got {type(value).__name__}")
        if not math.isfinite(value):
            raise ValueError(f"{what}: coordinates must be finite, got {value!r}")
    return float(x), float(y), float(z)


def _non_negative(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError(f"{what} must be a finite number, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must be 0 or more, got {value}")
    return float(value)


class LiveKitProximity:
    """Keeps a room subscribed only to nearby participants' media (see the module docs).

    ``max_participants`` 0 means no limit by count, ``radius`` 0 no limit by distance; with
    both 0 everyone is subscribed.
    """

    subscriptions_changed = signal("subscribed", "unsubscribed")

    def __init__(self) -> None:
        self._room: LiveKitRoom | None = None
        self._listener: Position = (0.0, 0.0, 0.0)
        self._positions: dict[str, Position] = {}
        self._max_participants = 0
        self._radius = 0.0
        self._hysteresis = 1.0
        self._update_interval = 1.0 / DEFAULT_UPDATE_HZ
        self._next_update = 0.0
        self._dirty = True
        self._near: set[str] = set()
        # the SDK's publication -> (the subscription asked for it, when, how many times);
        # held until the publication goes away
        self._requested: dict[Any, tuple[bool, float, int]] = {}
        self._auto_poll = True
        self._closed = False

    @staticmethod
    def create(room: LiveKitRoom) -> LiveKitProximity:
        """A proximity filter for ``room``, pumped by the frame poller."""
        proximity = LiveKitProximity()
        proximity.set_room(room)
        return proximity

    # -- configuration ----------------------------------------------------------------------

    def set_room(self, room: LiveKitRoom | None) -> None:
        from .room import LiveKitRoom

        if room is not None and not isinstance(room, LiveKitRoom):
            raise TypeError("set_room: room must be a LiveKitRoom")
        self._room = room
        self._near = set()
        self._requested = {}
        self._dirty = True
        if room is not None and not self._closed:
            poller.register(self)

    def set_listener_position(self, x: float, y: float, z: float = 0.0) -> None:
        """Where the local player hears from."""
        self._listener = _position(x, y, z, "set_listener_position")
        self._dirty = True

    def set_participant_position(self, identity: str, x: float, y: float, z: float = 0.0) -> None:
        """Where the participant ``identity`` is now."""
        if not isinstance(identity, str) or not identity:
            raise TypeError("set_participant_position: identity must be a non-empty string")
        self._positions[identity] = _position(x, y, z, "set_participant_position")
        self._dirty = True

    def remove_participant(self, identity: str) -> None:
        """Forget ``identity``'s position (it then counts as far away)."""
        self._positions.pop(identity, None)
        self._dirty = True

    def set_max_participants(self, count: int) -> None:
        """Subscribe to at most the ``count`` nearest participants (0: no limit)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"set_max_participants: count must be an int >= 0, got {count!r}")
        self._max_participants = count
        self._dirty = True

    def set_radius(self, radius: float) -> None:
        """Subscribe only to participants within ``radius`` (0: no limit)."""
        self._radius = _non_negative(radius, "set_radius: radius")
        self._dirty = True

    def set_hysteresis(self, distance: float) -> None:
        """How much farther than the boundary a subscribed participant may move before it is
        dropped (default 1.0 game unit)."""
        self._hysteresis = _non_negative(distance, "set_hysteresis: distance")
        self._dirty = True

    def set_update_hz(self, hz: float) -> None:
        """How often the choice is made again at most (default 10 per second)."""
        hz = _non_negative(hz, "set_update_hz: hz")
        if hz == 0:
            raise ValueError("set_update_hz: hz must be above 0")
        self._update_interval = 1.0 / hz

    def get_max_participants(self) -> int:
        return self._max_participants

    def get_radius(self) -> float:
        return self._radius

    def get_hysteresis(self) -> float:
        return self._hysteresis

    def get_near_identities(self) -> list[str]:
        """The participants whose media is wanted now, nearest first."""
        return sorted(self._near, key=self._distance_to)

    # -- pumping ----------------------------------------------------------------------------

    def get_auto_poll(self) -> bool:
        return self._auto_poll and not self._closed

    def set_auto_poll(self, enabled: bool) -> None:
        self._auto_poll = bool(enabled)

    def _auto_pump(self) -> None:
        self.poll()

    def poll(self) -> bool:
        """Choose again (at most ``update_hz`` times a second) and apply the changes;
        returns True when subscriptions were asked to change."""
        room = self._room
        now = time.monotonic()
        if room is None or self._closed or now < self._next_update:
            return False
        self._next_update = now + self._update_interval
        remote = room.get_remote_participants()
        near = self._choose(list(remote))
        changed_in = sorted(near - self._near)
        changed_out = sorted(self._near & set(remote) - near)
        self._near = near
        asked = self._apply(remote, near)
        if changed_in or changed_out:
            self.subscriptions_changed.emit(changed_in, changed_out)
        return asked

    def _distance_to(self, identity: str) -> float:
        position = self._positions.get(identity)
        return math.dist(self._listener, position) if position is not None else math.inf

    def _choose(self, identities: Sequence[str]) -> set[str]:
        margin = self._hysteresis
        candidates: list[tuple[float, str]] = []
        for identity in identities:
            distance = self._distance_to(identity)
            if math.isinf(distance) and (self._radius or self._max_participants):
                continue  # unknown position: far away
            was_near = identity in self._near
            if self._radius and distance > self._radius + (margin if was_near else 0.0):
                continue
            # the incumbent counts as closer, so a newcomer must be clearly closer to win
            candidates.append((distance - (margin if was_near else 0.0), identity))
        candidates.sort()
        if self._max_participants:
            candidates = candidates[: self._max_participants]
        return {identity for _, identity in candidates}

    def _apply(self, remote: Mapping[str, LiveKitRemoteParticipant], near: set[str]) -> bool:
        """Ask each publication for the subscription ``near`` implies when that changes, and
        again (every ``REASK_SECONDS``, ``MAX_ASKS`` asks in all) while the SDK reports
        otherwise: with auto-subscribe the server may subscribe a far player's new track
        after our ask to leave it. The common case, every update, reads only the SDK's
        publications (no objects of ours made or looked up)."""
        asked = False
        requested = self._requested
        now = time.monotonic()
        live: set[Any] = set()
        for identity, participant in remote.items():
            want = identity in near
            for sid, sdk_publication in participant._sdk_publications():
                live.add(sdk_publication)
                entry = requested.get(sdk_publication)
                asks = 0
                if entry is not None and entry[0] is want:
                    reported = getattr(sdk_publication, "subscribed", want)
                    if reported == want or now - entry[1] < REASK_SECONDS or entry[2] >= MAX_ASKS:
                        continue  # done, on its way, or refused (no permission): leave it
                    asks = entry[2]
                publication = participant.get_track_publications().get(sid)
                if not isinstance(publication, LiveKitRemoteTrackPublication):
                    continue  # gone since it was listed
                publication.set_subscribed(want)
                requested[sdk_publication] = (want, now, asks + 1)
                asked = True
        if len(requested) > len(live):  # publications that went away
            self._requested = {pub: ask for pub, ask in requested.items() if pub in live}
        return asked

    def close(self) -> None:
        """Stop choosing (subscriptions stay as they are)."""
        self._closed = True
        self._room = None
        self._requested = {}
        poller.unregister(self)
