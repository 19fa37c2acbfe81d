"""Does a call let go of the GIL? Count how often another thread runs during it.

numpy lets go of the GIL for work on more than about 500 elements; a main thread that does so
under load waits up to the switch interval (5 ms) to get it back. With the switch interval made
huge, the GIL changes hands only where a thread lets go of it, so a second thread that only
counts runs exactly at those points.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable


def runs_beside(call: Callable[[], object], times: int, until_seen: bool = False) -> int:
    """How many times another thread ran while ``call`` ran ``times`` times (``until_seen``:
    stop calling once it ran; for checks that the probe sees a call that lets go, since on a
    loaded machine the other thread is not always woken in time)."""
    ran = [0]
    stop = threading.Event()

    def other_thread() -> None:
        while not stop.is_set():
            ran[0] += 1
            time.sleep(0)  # lets go of the GIL at once

    previous = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    worker = threading.Thread(target=other_thread)
    worker.start()
    try:
        time.sleep(0.01)  # the worker starts; from here it runs only when this thread lets go
        before = ran[0]
        for _ in range(times):
            call()
            if until_seen and ran[0] != before:
                break
        return ran[0] - before
    finally:
        stop.set()
        sys.setswitchinterval(previous)
        worker.join(5)
        assert not worker.is_alive()
