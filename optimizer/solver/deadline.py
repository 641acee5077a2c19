"""``--time-limit`` as a wall-clock budget for a whole solve, shared by its solver runs."""

from __future__ import annotations

import time

_SHORTEST_RUN = 0.05
"""Seconds a run is given even when the budget is spent (a solver needs a positive limit)."""
_GRACE = 0.1
_SHORTEST_GRACE = 0.5
"""Past the deadline, the certificate's bound may take a tenth of the budget more, and at least half a second."""


class Deadline:
    """When a solve must stop; records whether any step was cut short by it."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.perf_counter() + seconds
        self.cut_short = False

    def run_limit(self) -> float:
        """Seconds left for the next solver run."""
        return max(self.end - time.perf_counter(), _SHORTEST_RUN)

    def allows_more(self) -> bool:
        """Whether an optional step (a refinement round) may start; when not, the solve was cut short."""
        if time.perf_counter() < self.end:
            return True
        self.cut_short = True
        return False

    def grant_grace(self) -> None:
        """Let one last run (the bound that certifies the plan) go on past the deadline, briefly."""
        self.end = max(self.end, time.perf_counter() + max(_GRACE * self.seconds, _SHORTEST_GRACE))
