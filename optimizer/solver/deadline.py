"""``--time-limit`` as a wall-clock budget for a whole solve, shared by its solver runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

_SHORTEST_RUN = 0.05
"""Seconds a run is given even when the budget is spent (a solver needs a positive limit)."""
_GRACE = 0.1
_SHORTEST_GRACE = 0.5
"""Past the deadline, the certificate's bound may take a tenth of the budget more, and at least half a second."""
_WRAP_UP = 0.4
"""The share of the grace kept back from solver runs: a run overshoots its limit a little (HiGHS by up to
a tenth of a second), and the plan is still to be checked and priced after them."""


class Deadline:
    """When a solve must stop; records whether any step was cut short by it.

    The whole solve, grace included, is over by ``allowance``: ``seconds`` after it started, plus
    the grace of the bound that certifies its plan."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.started = time.perf_counter()
        self.end = self.started + seconds
        self.cut_short = False
        self._strict = False
        self._last_run = 0.0

    @property
    def grace(self) -> float:
        """Seconds the certificate's bound may take past the deadline."""
        return max(_GRACE * self.seconds, _SHORTEST_GRACE)

    @property
    def allowance(self) -> float:
        """The clock time by which the solve is over, its grace included."""
        return self.started + self.seconds + self.grace

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
        """Let runs go on past the deadline, until the allowance (less what checking the plan takes)."""
        self.end = max(self.end, self.allowance - _WRAP_UP * self.grace)

    @contextmanager
    def graced(self) -> Iterator[None]:
        """The grace, for the runs that certify a plan only (``strict`` in it); afterwards the deadline is
        where it was, so no refinement round starts in the grace."""
        before = self.end
        self.grant_grace()
        try:
            with self.strict():
                yield
        finally:
            self.end = before

    @contextmanager
    def strict(self) -> Iterator[None]:
        """Runs of an optional step (a refinement round, the certificate's bound): none starts without the
        time the last one took (``exhausted``). Outside, a run past the deadline still gets the shortest
        run's time, until the allowance is over: the first plan is needed."""
        was = self._strict
        self._strict = True
        try:
            yield
        finally:
            self._strict = was

    def note_run(self, seconds: float) -> None:
        """Record how long the last solver run took (the next is expected to take about as long)."""
        self._last_run = seconds

    def exhausted(self) -> bool:
        """Whether a run must not start at all: in a ``strict`` step, with less time left than the last
        run took (or than the shortest run); in any step, once the allowance (less the wrap-up) is over."""
        left = (self.end if self._strict else self.allowance - _WRAP_UP * self.grace) - time.perf_counter()
        if left < (max(_SHORTEST_RUN, self._last_run) if self._strict else 0.0):
            self.cut_short = True
            return True
        return False
