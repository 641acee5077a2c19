"""One status enum for every solver and every result."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """How a solve ended."""

    OPTIMAL = "optimal"
    """A certified plan: the solver proved optimality and every constraint was re-checked."""
    INFEASIBLE = "infeasible"
    """No plan satisfies every constraint."""
    UNBOUNDED = "unbounded"
    """The objective can grow without limit (a campaign without a spend cap, say)."""
    TIME_LIMIT = "time_limit"
    """The solver stopped at the time limit; the plan, if any, is the best found, with its gap."""
    INTERRUPTED = "interrupted"
    """The solve was interrupted (Ctrl-C)."""
    NUMERICAL = "numerical_trouble"
    """The solver reported numerical trouble, or its plan failed the re-check."""
    ERROR = "solver_error"
    """The solver failed for another reason."""

    def __str__(self) -> str:
        return self.value
