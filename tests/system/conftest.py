"""Fixtures of the system tests: a session Xvfb, an Xlib client, capture clean-up.

A module that needs DISPLAY on the session Xvfb for every test says so with
``pytestmark = pytest.mark.usefixtures("on_xvfb_display")``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from xvfb import XClient, Xvfb, start_xvfb

from godot_livekit import LiveKitScreenCapture


@pytest.fixture(scope="session")
def xvfb() -> Iterator[Xvfb]:
    """One Xvfb for the session; DISPLAY points at it while it runs."""
    server = start_xvfb()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DISPLAY", server.display)
        patch.delenv("WAYLAND_DISPLAY", raising=False)
        patch.delenv("XDG_SESSION_TYPE", raising=False)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def on_xvfb_display(xvfb: Xvfb, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with DISPLAY on the session Xvfb (tests may change it)."""
    monkeypatch.setenv("DISPLAY", xvfb.display)


@pytest.fixture
def x(xvfb: Xvfb) -> Iterator[XClient]:
    """An Xlib client on the session Xvfb; its windows vanish when the test ends."""
    client = XClient(xvfb.display)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def captures() -> Iterator[Callable[[LiveKitScreenCapture], LiveKitScreenCapture]]:
    """`track(capture)`: closes every tracked capture at the end of the test."""
    made: list[LiveKitScreenCapture] = []

    def track(capture: LiveKitScreenCapture) -> LiveKitScreenCapture:
        made.append(capture)
        return capture

    yield track
    for capture in made:
        capture.close()
