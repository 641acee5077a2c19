"""The raw outcome of one solver run, as every adapter reports it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.status import Status


@dataclass(frozen=True)
class SolverRun:
    """What an adapter read back from a solver, in the compiled model's own sense.

    ``x`` and ``objective`` are set only when a solution is available (optimal, or the best
    found before a time limit); ``row_dual`` only for a linear program solved to optimality,
    as d(objective)/d(row bound); ``bound`` is the best proven bound on the objective.
    """

    status: Status
    message: str
    solver: str
    seconds: float
    x: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    row_dual: np.ndarray | None = None

    @property
    def has_solution(self) -> bool:
        return self.x is not None
