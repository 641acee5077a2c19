"""Solve options in one frozen dataclass (no kitchen-sink keyword lists)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from optimizer.scenario.schema import DEFAULT_MIP_GAP, DEFAULT_TOLERANCE, Scenario
from optimizer.solver.deadline import Deadline

SOLVERS = ("highs", "cbc")


@dataclass(frozen=True)
class SolveOptions:
    """How to solve.

    ``tolerance``: chord error allowed per segment, as a fraction of each curve's range.
    ``time_limit``: seconds for the whole solve; refinement stops when they run out, and the
    best plan found so far is returned with its gap and status ``time_limit`` (the bound that
    certifies it may take a tenth of the limit, at least half a second, more). A frontier
    gives each of its solver runs this long.
    ``mip_gap``: relative gap at which a MILP (S-shaped curves) stops.
    ``write_lp``: also write the plan's program as an LP file there (through PuLP).
    ``feasibility``: relative slack allowed when the plan is re-checked on the exact curves.
    ``refine``: how many times to re-solve on breakpoints refined around the plan (each
    round brings the plan and its shadow prices about eight times closer to the exact ones).
    """

    solver: Literal["highs", "cbc"] = "highs"
    tolerance: float = DEFAULT_TOLERANCE
    time_limit: float | None = None
    mip_gap: float = DEFAULT_MIP_GAP
    write_lp: Path | None = None
    feasibility: float = 1e-6
    refine: int = 2
    deadline: Deadline | None = field(default=None, compare=False, repr=False)
    """Set by ``started()``: the wall-clock end of the solve under way."""

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise ValueError(f'unknown solver "{self.solver}": use one of {", ".join(SOLVERS)}')
        if not 0 < self.tolerance <= 0.1:
            raise ValueError(f"tolerance must be in (0, 0.1], got {self.tolerance}")
        if self.time_limit is not None and not 0 < self.time_limit < math.inf:
            raise ValueError(f"time_limit must be a positive number of seconds, got {self.time_limit}")

    def started(self) -> SolveOptions:
        """These options with the clock started on ``time_limit`` (unchanged without one)."""
        return replace(self, deadline=Deadline(self.time_limit)) if self.time_limit is not None else self

    def run_limit(self) -> float | None:
        """Seconds the next solver run may take (None: no limit)."""
        return self.deadline.run_limit() if self.deadline is not None else self.time_limit

    def allows_more(self) -> bool:
        """Whether an optional step may start before the deadline."""
        return self.deadline is None or self.deadline.allows_more()

    def grant_grace(self) -> None:
        """Let the next run go on briefly past the deadline (see ``Deadline.grant_grace``)."""
        if self.deadline is not None:
            self.deadline.grant_grace()

    def note_stop(self, stopped_at_limit: bool) -> None:
        """Record a solver run that stopped at its time limit."""
        if stopped_at_limit and self.deadline is not None:
            self.deadline.cut_short = True

    @property
    def cut_short(self) -> bool:
        """Whether the deadline cut some step short."""
        return self.deadline is not None and self.deadline.cut_short

    @classmethod
    def for_scenario(cls, scenario: Scenario, **overrides: Any) -> SolveOptions:
        """The scenario's ``[solver]`` settings, with ``overrides`` (not None) winning."""
        settings = scenario.solver
        base = cls(solver=settings.name, tolerance=settings.tolerance, time_limit=settings.time_limit,
                   mip_gap=settings.mip_gap)
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown solve option(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})
