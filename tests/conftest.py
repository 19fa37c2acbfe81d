"""Shared pytest fixtures: a local livekit-server in a private network namespace.

Tests live in folders by what they need, and each folder's tests carry its marker:

- ``unit/``: no server, no network, no display (``pytest -m unit`` after
  ``pip install -e .[dev]``, in seconds);
- ``integration/``: a real livekit-server (``python build.py test`` runs it inside
  ``unshare -rn`` with a veth pair, 10.77.0.1/10.77.0.2, so WebRTC never leaves the machine);
- ``system/``: faults, long runs, Xvfb;
- ``browser/``: the official LiveKit JavaScript client in headless Chromium, collected only
  when named (``python build.py test --browser`` names it, after installing Chromium and
  the npm packages).

Helpers shared by the folders are in ``support/`` (on ``sys.path`` through pyproject).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from peers import Peer, wait_for_event, wait_until

from godot_livekit.tools.devserver import LocalServer, find_server_binary

SERVER_LOG_TAIL_LINES = 150
ROOM_LOG_LINES = 400
_SERVER_KEY = pytest.StashKey[LocalServer]()
_ROOM_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")

TokenFactory = Callable[..., str]
_FOLDER_MARKERS = ("unit", "integration", "system", "browser")
BROWSER_TESTS = Path(__file__).parent / "browser"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave tests/browser out of a run that does not name it (see the docstring); pytest
    does not ask this of the paths given on its command line."""
    return True if collection_path == BROWSER_TESTS else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with the folder it lives in (unit / integration / system / browser)."""
    for item in items:
        parts = item.path.parts
        for marker in _FOLDER_MARKERS:
            if marker in parts:
                item.add_marker(getattr(pytest.mark, marker))
                break


# --------------------------------------------------------------------- livekit server


@pytest.fixture(scope="session")
def livekit_server(pytestconfig: pytest.Config) -> Iterator[LocalServer]:
    """A livekit-server for the whole session (fails, never skips, when unavailable)."""
    if os.environ.get("GODOT_LIVEKIT_NETNS") != "1" or not os.environ.get("GODOT_LIVEKIT_NODE_IP"):
        pytest.fail(
            "LiveKit tests must run in the private network namespace: use `python build.py test`"
            " (GODOT_LIVEKIT_NETNS/GODOT_LIVEKIT_NODE_IP are not set)",
            pytrace=False,
        )
    binary = find_server_binary()
    if binary is None:
        pytest.fail(
            "livekit-server binary not found (LIVEKIT_SERVER_BIN, PATH, .tools/bin): "
            "run `python build.py setup`",
            pytrace=False,
        )
    server = LocalServer(
        binary=binary,
        bind_ip="127.0.0.1",
        node_ip=os.environ["GODOT_LIVEKIT_NODE_IP"],
        log_level="info",
    )
    server.start()
    pytestconfig.stash[_SERVER_KEY] = server
    try:
        yield server
    finally:
        server.stop()
        del pytestconfig.stash[_SERVER_KEY]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the server log tail to failed tests that used `livekit_server`."""
    report = yield
    server = item.config.stash.get(_SERVER_KEY, None)
    fixtures = getattr(item, "fixturenames", ())
    if report.failed and server is not None and "livekit_server" in fixtures:
        report.sections.append(
            (
                f"livekit-server log (last {SERVER_LOG_TAIL_LINES} lines, {report.when})",
                server.log_text(SERVER_LOG_TAIL_LINES),
            )
        )
        room = getattr(item, "funcargs", {}).get("room_name")
        if room:
            # the session server logs every test's rooms: this test's own lines, in full
            report.sections.append(
                (
                    f"livekit-server log, room {room} (last {ROOM_LOG_LINES} lines)",
                    server.log_text(ROOM_LOG_LINES, containing=room),
                )
            )
    return report


# ------------------------------------------------------------------------ per test


@pytest.fixture
def room_name(request: pytest.FixtureRequest) -> str:
    """A room name unique to this test: its name plus a short random suffix."""
    base = _ROOM_NAME_UNSAFE.sub("-", request.node.name).strip("-")[:48] or "room"
    return f"{base}-{secrets.token_hex(3)}"


@pytest.fixture
def make_token(livekit_server: LocalServer, room_name: str) -> TokenFactory:
    """`make_token(identity, room=None, **kw)`: a token for the test server (room_name default)."""

    def make(identity: str, room: str | None = None, **kwargs: Any) -> str:
        return livekit_server.token(identity, room or room_name, **kwargs)

    return make


# --------------------------------------------------------------------- connected peers


@pytest.fixture
def connect_peer(
    livekit_server: LocalServer, make_token: TokenFactory
) -> Iterator[Callable[..., Peer]]:
    """`connect_peer(identity, options=None, wait=True, **token_kw)`: a connected Peer.

    Every peer made here is disconnected at the end of the test and its background work
    is awaited (bounded), so no test leaves a session behind for the next one.
    """
    peers: list[Peer] = []

    def connect(
        identity: str, options: dict[str, Any] | None = None, wait: bool = True, **token_kw: Any
    ) -> Peer:
        peer = Peer(identity)
        peers.append(peer)
        peer.room.connect_to_room(livekit_server.url, make_token(identity, **token_kw), options)
        if wait:
            wait_for_event(peer, "connected")
        return peer

    yield connect
    for peer in peers:
        peer.room.disconnect_from_room()
    for peer in peers:
        peer.room.poll_events()
        if not peer.room.wait_idle(10.0):
            pending = _runtime_task_stacks()
            raise AssertionError(f"{peer.identity}: background work still running: {pending}")


@pytest.fixture
def alice_bob(connect_peer: Callable[..., Peer]) -> tuple[Peer, Peer]:
    """Two connected peers, alice and bob, who see each other in their rooms."""
    alice = connect_peer("alice")
    bob = connect_peer("bob")
    wait_until(
        [alice, bob],
        lambda: (
            "bob" in alice.room.get_remote_participants()
            and "alice" in bob.room.get_remote_participants()
        ),
        what="alice and bob see each other",
    )
    return alice, bob


def _runtime_task_stacks() -> list[str]:
    """What every task on the runtime loop is waiting in (for hang reports)."""
    import asyncio

    from godot_livekit import testing

    stacks = []
    for task in asyncio.all_tasks(testing.runtime_loop()):
        frames = []
        awaited = task.get_coro()
        while awaited is not None and hasattr(awaited, "cr_frame"):
            frame = awaited.cr_frame
            if frame is not None:
                frames.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
            awaited = awaited.cr_await
        frames.append(repr(awaited))
        stacks.append(" <- ".join(frames))
    return stacks
