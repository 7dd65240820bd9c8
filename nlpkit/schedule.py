"""Learning-rate schedules as plain functions of training progress, so their state is JSON.

Progress runs from 0 to 1 and is the larger of steps done over the step budget and time spent
over the time budget: a run with `--time-budget` anneals to its floor as the clock runs out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SCHEDULES = ("cosine", "linear", "constant", "plateau")


@dataclass
class Schedule:
    kind: str = "cosine"
    warmup: int = 0  # steps of linear warmup from ~0
    min_ratio: float = 0.0  # the floor, as a share of the peak rate
    plateau_factor: float = 0.25  # reduce-on-plateau multiplies the rate by this...
    plateau_patience: int = 0  # ...after this many evaluations without improvement beyond the first
    scale: float = 1.0  # the plateau schedule's current multiplier
    bad_evals: int = 0

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.kind!r}; choose one of {', '.join(SCHEDULES)}")

    def factor(self, step: int, progress: float) -> float:
        warm = min(1.0, (step + 1) / self.warmup) if self.warmup else 1.0
        p = min(max(progress, 0.0), 1.0)
        if self.kind == "cosine":
            shape = self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + math.cos(math.pi * p))
        elif self.kind == "linear":
            shape = 1 - (1 - self.min_ratio) * p
        elif self.kind == "plateau":
            shape = max(self.scale, self.min_ratio)
        else:
            shape = 1.0
        return warm * shape

    def observe(self, improved: bool) -> None:
        """Called after each evaluation; only reduce-on-plateau listens."""
        if self.kind != "plateau":
            return
        if improved:
            self.bad_evals = 0
            return
        self.bad_evals += 1
        if self.bad_evals > self.plateau_patience:
            self.scale *= self.plateau_factor
            self.bad_evals = 0
