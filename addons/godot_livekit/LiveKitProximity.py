"""LiveKitProximity for GDScript: stay subscribed only to the media of the players near you.

Make one with ``LiveKit.create_proximity(room)`` (py4godot scripts have no static methods, so
``create(room)`` initialises this object and returns it). Feed it the positions your game
already has -- ``set_listener_position(x, y, z)`` and ``set_participant_position(identity, x,
y, z)`` -- and it keeps the room subscribed to the nearest ``max_participants`` and/or those
within ``radius``, with ``hysteresis`` against flapping; data keeps flowing from everyone.
With ``auto_poll`` on (the default) the LiveKitPoller chooses again at most ``update_hz``
times a second; ``subscriptions_changed(subscribed, unsubscribed)`` names whom it changed
(PackedStringArrays of identities).

Lifetime: ``close()`` stops it (subscriptions stay as they are); a proximity the game drops
is closed and freed by the LiveKitPoller within a second.
"""

from __future__ import annotations

from typing import Any

from py4godot.classes import gdclass
from py4godot.classes.core import PackedStringArray
from py4godot.classes.RefCounted import RefCounted
from py4godot.signals import SignalArg, signal

import godot_livekit
from addons.godot_livekit.bridge.convert import text
from addons.godot_livekit.bridge.declarations import AutoPollDeclaration
from addons.godot_livekit.bridge.objects import Wrapper, adopt, core_of, guard

_CHANGED = [
    SignalArg("subscribed", PackedStringArray),
    SignalArg("unsubscribed", PackedStringArray),
]


def _identities(values: list[str]) -> PackedStringArray:
    """Identities for Godot (a handful per change: py4godot's push_back loop is fine)."""
    return PackedStringArray.from_list([str(value) for value in values])


@gdclass
class LiveKitProximity(Wrapper, AutoPollDeclaration, RefCounted):
    LK_CREATE_HINT = "create(room) (LiveKit.create_proximity(room))"

    subscriptions_changed = signal(_CHANGED)

    def __init__(self) -> None:
        super().__init__()
        self._lk_auto_poll = True

    def _lk_on_core_signal(self, name: str, *args: Any) -> None:
        if name == "subscriptions_changed":
            subscribed, unsubscribed = args
            self.subscriptions_changed.emit(_identities(subscribed), _identities(unsubscribed))
            return
        self._lk_emit(name, *args)

    def _lk_close(self) -> None:
        if self._lk_core is not None:
            self._lk_core.close()

    @guard()
    def create(self, room: Any) -> Any:
        """Reference-style static ``create(room)``: a proximity filter for ``room``."""
        core = godot_livekit.LiveKitProximity.create(core_of(room, "room"))
        self._lk_close()
        core.set_auto_poll(self._lk_auto_poll)
        adopt(self, core)
        return self

    # -- positions ---------------------------------------------------------------------------

    @guard()
    def set_listener_position(self, x: float, y: float, z: float = 0.0) -> None:
        """Where the local player hears from (use z = 0 in a 2D game)."""
        self._lk().set_listener_position(x, y, z)

    @guard()
    def set_participant_position(self, identity: str, x: float, y: float, z: float = 0.0) -> None:
        self._lk().set_participant_position(text(identity), x, y, z)

    @guard()
    def remove_participant(self, identity: str) -> None:
        """Forget ``identity``'s position (it then counts as far away)."""
        self._lk().remove_participant(text(identity))

    # -- the choice --------------------------------------------------------------------------

    @guard()
    def set_max_participants(self, count: int) -> None:
        """Subscribe to at most the ``count`` nearest (0: no limit)."""
        self._lk().set_max_participants(count)

    @guard(0)
    def get_max_participants(self) -> int:
        return self._lk().get_max_participants()

    @guard()
    def set_radius(self, radius: float) -> None:
        """Subscribe only within ``radius`` game units (0: no limit)."""
        self._lk().set_radius(radius)

    @guard(0.0)
    def get_radius(self) -> float:
        return self._lk().get_radius()

    @guard()
    def set_hysteresis(self, distance: float) -> None:
        """How far past the edge a subscribed participant may go before it is dropped."""
        self._lk().set_hysteresis(distance)

    @guard(0.0)
    def get_hysteresis(self) -> float:
        return self._lk().get_hysteresis()

    @guard()
    def set_update_hz(self, hz: float) -> None:
        """How often the choice is made again at most (default 10 per second)."""
        self._lk().set_update_hz(hz)

    @guard(PackedStringArray.new0)
    def get_near_identities(self) -> PackedStringArray:
        """The participants whose media is wanted now, nearest first."""
        return _identities(self._lk().get_near_identities())

    # -- pumping -----------------------------------------------------------------------------

    @guard(False)
    def poll(self) -> bool:
        """Choose again now if due; true when subscriptions were asked to change."""
        return self._lk().poll()

    @guard()
    def set_auto_poll(self, enabled: bool) -> None:
        self._lk_auto_poll = bool(enabled)
        if self._lk_core is not None:
            self._lk_core.set_auto_poll(self._lk_auto_poll)

    @guard(False)
    def get_auto_poll(self) -> bool:
        return self._lk_auto_poll

    @guard()
    def close(self) -> None:
        """Stop choosing (subscriptions stay as they are); idempotent."""
        self._lk_close()

    @property
    def auto_poll(self) -> bool:
        return self.get_auto_poll()

    @auto_poll.setter
    def auto_poll(self, enabled: bool) -> None:
        self.set_auto_poll(enabled)
