"""Solve options in one frozen dataclass (no kitchen-sink keyword lists)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from optimizer.scenario.schema import Scenario

SOLVERS = ("highs", "cbc")


@dataclass(frozen=True)
class SolveOptions:
    """How to solve.

    ``tolerance``: chord error allowed per segment, as a fraction of each curve's range.
    ``time_limit``: seconds per solver run (the plan and its bound are two runs).
    ``mip_gap``: relative gap at which a MILP (S-shaped curves) stops.
    ``write_lp``: also write the plan's program as an LP file there (through PuLP).
    ``feasibility``: relative slack allowed when the plan is re-checked on the exact curves.
    ``refine``: how many times to re-solve on breakpoints refined around the plan (each
    round brings the plan and its shadow prices about eight times closer to the exact ones).
    """

    solver: Literal["highs", "cbc"] = "highs"
    tolerance: float = 1e-3
    time_limit: float | None = None
    mip_gap: float = 1e-6
    write_lp: Path | None = None
    feasibility: float = 1e-6
    refine: int = 2

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise ValueError(f'unknown solver "{self.solver}": use one of {", ".join(SOLVERS)}')
        if not 0 < self.tolerance <= 0.1:
            raise ValueError(f"tolerance must be in (0, 0.1], got {self.tolerance}")
        if self.time_limit is not None and self.time_limit <= 0:
            raise ValueError(f"time_limit must be positive, got {self.time_limit}")

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
