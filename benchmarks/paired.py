"""Paired timing, the one method every benchmark here uses.

The sides of a comparison run in rounds: every round times each side once, and the order rotates from round
to round (a b c, b c a, c a b, ...), so drift of a shared, busy machine (other jobs, frequency, page cache)
lands on both sides of each ratio instead of in it. The figure reported is the median of the per-round
ratios, with their min and max and the number of rounds; never a best-of-N of each side on its own.

    from paired import rounds, ratio, conditions
    times = rounds({"ours": f, "openssl": g}, runs=9)
    r = ratio(times, "openssl", "ours")   # per round: openssl's seconds / ours (> 1: ours is faster)
    print(r.text())                       # "1.02x (0.97-1.08, 9 runs)"
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Measure the checkout this file is in, not whatever rdic_ops an editable install points at.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))


@dataclass
class Ratio:
    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def text(self, digits: int = 2) -> str:
        lo, hi = min(self.values), max(self.values)
        return f"{self.median:.{digits}f}x ({lo:.{digits}f}-{hi:.{digits}f}, {len(self.values)} runs)"


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def rounds(sides: dict[str, Callable[[], object]], runs: int, warmup: int = 1) -> dict[str, list[float]]:
    """Seconds of each side per round; the order of the sides rotates every round."""
    names = list(sides)
    for _ in range(warmup):
        for n in names:
            sides[n]()
    out: dict[str, list[float]] = {n: [] for n in names}
    for i in range(runs):
        k = i % len(names)
        for n in names[k:] + names[:k]:
            out[n].append(timed(sides[n]))
    return out


def ratio(times: dict[str, list[float]], numerator: str, denominator: str) -> Ratio:
    """Per round: numerator's seconds / denominator's seconds."""
    return Ratio([a / b for a, b in zip(times[numerator], times[denominator], strict=True)])


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def command(argv: list[str], env: dict | None = None, cwd: str | None = None) -> Callable[[], None]:
    """A side that runs a command to completion (it must succeed)."""
    full = {**os.environ, **(env or {})}

    def run() -> None:
        subprocess.run(argv, check=True, capture_output=True, env=full, cwd=cwd)

    return run


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def conditions(cache: str) -> str:
    """One line on the conditions of a run: machine, load, and whether caches were warm."""
    return (
        f"conditions: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"{load()} at start, {cache}"
    )
