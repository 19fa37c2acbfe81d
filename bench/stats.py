"""Timing statistics, paced loops, the memcpy baseline and table printing shared by the bench."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Stats:
    """Summary of timing samples in nanoseconds."""

    count: int
    median_ns: float
    p95_ns: float
    min_ns: float
    max_ns: float

    @classmethod
    def of(cls, samples_ns: Sequence[float]) -> Stats:
        """Median, p95, min and max of ``samples_ns`` (all NaN when empty)."""
        if len(samples_ns) == 0:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan)
        data = np.asarray(samples_ns, dtype=np.float64)
        return cls(
            count=len(data),
            median_ns=float(np.median(data)),
            p95_ns=float(np.percentile(data, 95)),
            min_ns=float(data.min()),
            max_ns=float(data.max()),
        )

    @property
    def median_us(self) -> float:
        return self.median_ns / 1e3

    @property
    def p95_us(self) -> float:
        return self.p95_ns / 1e3

    @property
    def median_ms(self) -> float:
        return self.median_ns / 1e6

    @property
    def p95_ms(self) -> float:
        return self.p95_ns / 1e6


def time_calls(call: Callable[[], object], reps: int, warmup: int, interval: float = 0.0) -> Stats:
    """Time ``call()`` ``reps`` times after ``warmup`` untimed calls (perf_counter_ns).

    With ``interval`` > 0 the calls are paced on a fixed schedule (like a frame loop), so
    background threads the call wakes up get their time between calls.
    """
    samples: list[int] = []
    pacer = Pacer(interval)
    for index in range(warmup + reps):
        start = time.perf_counter_ns()
        call()
        elapsed = time.perf_counter_ns() - start
        if index >= warmup:
            samples.append(elapsed)
        pacer.wait()
    return Stats.of(samples)


class Pacer:
    """Sleeps until the next tick of a fixed-rate schedule (no drift; no catch-up bursts)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next = time.perf_counter() + interval

    def wait(self) -> None:
        """Sleep until the next tick; when late, the schedule restarts from now."""
        if self.interval <= 0:
            return
        delay = self._next - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
            self._next += self.interval
        else:
            self._next = time.perf_counter() + self.interval


def memcpy_stats(height: int, width: int, reps: int, warmup: int, interval: float = 0.0) -> Stats:
    """One plain copy of an RGBA frame: ``np.copyto`` between two preallocated arrays
    (back to back by default; ``interval`` paces it like the calls it is compared with)."""
    source = np.full((height, width, 4), 7, dtype=np.uint8)
    target = np.zeros_like(source)
    return time_calls(lambda: np.copyto(target, source), reps, warmup, interval)


def ratio(value_ns: float, baseline_ns: float) -> str:
    """``value / baseline`` as e.g. ``0.93x``."""
    if not baseline_ns or baseline_ns != baseline_ns:
        return "n/a"
    return f"{value_ns / baseline_ns:.2f}x"


def fmt_ms(value_ns: float) -> str:
    return f"{value_ns / 1e6:.3f} ms"


def fmt_us(value_ns: float) -> str:
    return f"{value_ns / 1e3:.1f} us"


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], left: Sequence[int] = (0,)
) -> str:
    """A plain-text table: columns in ``left`` left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [
            cell.ljust(widths[i]) if i in left else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])
