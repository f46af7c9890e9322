"""What every benchmark module returns: rows of ours-vs-reference figures."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    name: str
    ours: float
    reference: float
    unit: str
    target: float | None = None  # the ratio ours/reference should not exceed
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.reference if self.reference else float("inf")

    def line(self) -> str:
        target = f"<= {self.target:g}x" if self.target is not None else ""
        verdict = "" if self.target is None else ("ok" if self.ratio <= self.target else "OVER")
        return (
            f"{self.name:<52} {self.ours:>11.3f} {self.reference:>11.3f} {self.unit:<6}"
            f" {self.ratio:>6.2f}x {target:>8} {verdict:<4} {self.note}"
        )


HEADER = f"{'benchmark':<52} {'ours':>11} {'reference':>11} {'unit':<6} {'ratio':>7} {'target':>8}"


def median_time(run: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time of ``run()`` in seconds."""
    samples = []
    for _ in range(repeat):
        gc.collect()  # garbage from the last round is not this round's cost
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
