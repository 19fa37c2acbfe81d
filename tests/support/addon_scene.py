"""A GDScript-like scene for the addon's integration tests: the LiveKitPoller autoload, the
signals a test records, and a 60 fps frame loop that waits on activity, never on a sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from addon_env import GD, new_object

from godot_livekit.signals import activity_counter, wait_for_activity

FRAME = 1.0 / 60.0
WAIT = 15.0


class AddonScene:
    """Per frame: ``each_frame`` work (what a scene's ``_process`` does), then the poller."""

    wait = WAIT  # wait_event's default timeout

    def __init__(self) -> None:
        self.poller = new_object("LiveKitPoller")
        self.poller._ready()
        self.log: list[tuple[str, str, tuple[Any, ...]]] = []
        self.each_frame: list[Callable[[], None]] = []

    def record(self, label: str, handle: GD, names: tuple[str, ...]) -> None:
        """Keep every emission of ``names`` on ``handle`` under ``label``."""
        for name in names:
            handle.connect(name, lambda *args, n=name: self.log.append((label, n, args)))

    def args_of(self, label: str, name: str) -> list[tuple[Any, ...]]:
        return [args for who, event, args in self.log if (who, event) == (label, name)]

    def count(self, label: str, name: str) -> int:
        return len(self.args_of(label, name))

    def frame(self) -> None:
        for work in self.each_frame:
            work()
        self.poller._process(FRAME)

    def run_until(
        self, done: Callable[[], bool], timeout: float, what: str | Callable[[], str]
    ) -> None:
        """Run frames until ``done()``; AssertionError with the last events after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            seen = activity_counter()
            self.frame()
            if done():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                events = [(who, event) for who, event, _ in self.log[-40:]]
                said = what() if callable(what) else what
                raise AssertionError(f"timed out after {timeout:g}s waiting for {said}\n{events}")
            wait_for_activity(seen, min(remaining, FRAME))

    def run_for(self, seconds: float) -> None:
        """Keep the frames going for ``seconds`` (an observation window, not a sleep)."""
        end = time.monotonic() + seconds
        self.run_until(lambda: time.monotonic() >= end, seconds + 5.0, "the window")

    def wait_event(
        self, label: str, name: str, timeout: float | None = None, after: int = 0
    ) -> tuple[Any, ...]:
        """The arguments of the newest ``name`` once more than ``after`` arrived."""
        timeout = self.wait if timeout is None else timeout
        self.run_until(lambda: self.count(label, name) > after, timeout, f"{label}: {name}")
        return self.args_of(label, name)[-1]
