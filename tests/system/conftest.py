"""Fixtures of the system tests: a session Xvfb, an Xlib client, capture clean-up, and a
multi-node LiveKit (Redis plus two livekit-server nodes) in the private network namespace.

A module that needs DISPLAY on the session Xvfb for every test says so with
``pytestmark = pytest.mark.usefixtures("on_xvfb_display")``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator

import pytest
from cluster_helpers import CLUSTERS_KEY, start_test_cluster, stop_test_cluster
from xvfb import XClient, Xvfb, start_xvfb

from godot_livekit import LiveKitScreenCapture
from godot_livekit.tools.cluster import LocalCluster

CLUSTER_LOG_TAIL_LINES = 80


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


# ------------------------------------------------------------------------ multi-node LiveKit


@pytest.fixture(scope="session")
def livekit_cluster(pytestconfig: pytest.Config) -> Iterator[LocalCluster]:
    """Redis plus two livekit-server nodes for the whole session (never broken by a test)."""
    cluster = start_test_cluster(pytestconfig)
    try:
        yield cluster
    finally:
        stop_test_cluster(pytestconfig, cluster)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the node log tails of running clusters to a failed test that used one."""
    report = yield
    if report.failed and any("cluster" in name for name in getattr(item, "fixturenames", ())):
        for cluster in item.config.stash.get(CLUSTERS_KEY, []):
            for index, node in enumerate(cluster.nodes, start=1):
                report.sections.append(
                    (
                        f"cluster node {index} log (last {CLUSTER_LOG_TAIL_LINES} lines, "
                        f"{report.when})",
                        node.log_text(CLUSTER_LOG_TAIL_LINES),
                    )
                )
    return report
