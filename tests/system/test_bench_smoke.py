"""`python build.py bench --quick` runs end to end: every section prints, exit code 0.

Real parts: the bench's own livekit-server on port 7900 (beside the session server on
7880 and the demo's on 7890), the livekit SDK over the test namespace's network.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_PORT = 7900


def bench_main():
    """bench.run.main (bench/ lives at the repo root, beside tests/)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    return importlib.import_module("bench.run").main


@pytest.mark.timeout(300)  # every section, the scale rooms of 2 and 4 included (~3 min)
def test_quick_bench_prints_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    if os.environ.get("GODOT_LIVEKIT_NETNS") != "1":
        pytest.fail("run the tests with `python build.py test` (private namespace)")
    main = bench_main()
    code = main(["--quick", "--port", str(BENCH_PORT)])
    captured = capsys.readouterr()
    context = f"\n--- stdout ---\n{captured.out}\n--- stderr ---\n{captured.err}"
    assert code == 0, f"bench exited with {code}{context}"

    from bench.run import SECTIONS

    assert captured.out.startswith("godot-livekit bench (quick smoke run"), context
    assert "machine: " in captured.out, context
    for title in SECTIONS:
        assert f"=== {title} ===" in captured.out, f"missing section {title!r}{context}"
    for size in ("1280x720", "1920x1080"):
        assert size in captured.out, context
    assert "bench finished in" in captured.out, context
    assert "eyJ" not in captured.out + captured.err  # no token ever printed
