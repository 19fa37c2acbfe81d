"""Peer processes of the multi-process benches: start one with its config on stdin (tokens
never go on a command line) and read its one-line answers with a bound."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from .live import BenchError

REPO = Path(__file__).resolve().parent.parent


def start_child(module: str, role: str, config: dict[str, Any]) -> subprocess.Popen[str]:
    """``python -m module role`` in the repository, ``config`` as one JSON line on stdin."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, role],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(config) + "\n")  # tokens go through the pipe only
    process.stdin.flush()
    return process


def read_line(process: subprocess.Popen[str], timeout: float, what: str) -> str:
    """The child's next stdout line; BenchError when it exits without one or stays silent
    for ``timeout`` seconds (then it is killed)."""
    assert process.stdout is not None
    stdout = process.stdout
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(stdout.readline()))
    reader.start()
    reader.join(timeout)
    if not result or not result[0]:
        code = process.poll()
        process.kill()
        if code is not None:  # its own reason went to stderr (above in the bench's output)
            raise BenchError(f"{what}: exited with code {code} without an answer")
        raise BenchError(f"{what}: no answer within {timeout:g} s")
    return result[0].strip()
