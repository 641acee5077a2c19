"""A compiled program kept between solves, for sweeps: change row bounds or the objective, re-solve.

With HiGHS the program is loaded once and each re-solve starts from the previous basis (a
frontier point moves one row's bound, so a few simplex pivots usually suffice). CBC has no
such interface here, so its runs rebuild the program each time, with the same results.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import highspy
import numpy as np

from optimizer.model.compile import CompiledModel
from optimizer.model.scaling import scale
from optimizer.solver.cbc import solve_cbc
from optimizer.solver.highs import load_highs, run_highs
from optimizer.solver.options import SolveOptions
from optimizer.solver.programs import unscaled
from optimizer.solver.status import SolverRun
from optimizer.status import Status


class Program:
    """A program held by the solver across runs; results are in the model's own units."""

    def __init__(self, model: CompiledModel, options: SolveOptions):
        self.options = options
        self.model = model
        self._scaled, self._scaling = scale(model)
        self._highs = load_highs(self._scaled, options) if options.solver == "highs" else None
        self.runs = 0

    def set_row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """New bounds for some rows (in the model's units)."""
        rows = np.asarray(rows, dtype=np.int64)
        lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
        row_lower, row_upper = self.model.row_lower.copy(), self.model.row_upper.copy()
        row_lower[rows], row_upper[rows] = lower, upper
        self.model = replace(self.model, row_lower=row_lower, row_upper=row_upper)
        factor = self._scaling.rows[rows]
        self._scaled = replace(
            self._scaled,
            row_lower=_with(self._scaled.row_lower, rows, lower * factor),
            row_upper=_with(self._scaled.row_upper, rows, upper * factor),
        )
        if self._highs is not None:
            self._highs.changeRowsBounds(rows.size, rows.astype(np.int32), lower * factor, upper * factor)

    def set_column_bounds(self, columns: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """New bounds for some columns (in the model's units)."""
        columns = np.asarray(columns, dtype=np.int64)
        lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
        self.model = replace(self.model, col_lower=_with(self.model.col_lower, columns, lower),
                             col_upper=_with(self.model.col_upper, columns, upper))
        factor = self._scaling.columns[columns]
        self._scaled = replace(self._scaled, col_lower=_with(self._scaled.col_lower, columns, lower / factor),
                               col_upper=_with(self._scaled.col_upper, columns, upper / factor))
        if self._highs is not None:
            self._highs.changeColsBounds(columns.size, columns.astype(np.int32), lower / factor, upper / factor)

    def set_objective(self, cost: np.ndarray, offset: float, sense: Literal["maximize", "minimize"]) -> None:
        """A new objective (in the model's units), rescaled so its largest cost is 1."""
        self.model = replace(self.model, cost=np.asarray(cost, dtype=float), offset=offset, sense=sense)
        scaled_cost = self.model.cost * self._scaling.columns
        top = float(np.abs(scaled_cost).max(initial=0.0))
        objective = 1.0 / top if top > 0 else 1.0
        self._scaling = replace(self._scaling, objective=objective)
        self._scaled = replace(self._scaled, cost=scaled_cost * objective, offset=offset * objective, sense=sense)
        if self._highs is not None:
            columns = np.arange(scaled_cost.size, dtype=np.int32)
            self._highs.changeColsCost(columns.size, columns, self._scaled.cost)
            self._highs.changeObjectiveOffset(self._scaled.offset)
            self._highs.changeObjectiveSense(
                highspy.ObjSense.kMaximize if sense == "maximize" else highspy.ObjSense.kMinimize
            )

    def solve(self, start: np.ndarray | None = None) -> SolverRun:
        """Solve (from the last basis with HiGHS); values are read only when a solution exists.

        ``start`` (in the model's units) is a feasible solution a MILP search may begin from.
        """
        self.runs += 1
        if self._highs is not None:
            if start is not None and self._scaled.is_mip:
                solution = highspy.HighsSolution()
                solution.col_value = list(start / self._scaling.columns)
                self._highs.setSolution(solution)
            limit = self.options.run_limit()
            if limit is not None:
                self._highs.setOptionValue("time_limit", float(limit))
            run = run_highs(self._highs, self._scaled.is_mip)
        else:
            run = solve_cbc(self._scaled, self.options)
        self.options.note_stop(run.status is Status.TIME_LIMIT)
        return unscaled(run, self._scaling)


def _with(values: np.ndarray, rows: np.ndarray, new: np.ndarray) -> np.ndarray:
    out = values.copy()
    out[rows] = new
    return out
