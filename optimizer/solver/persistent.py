"""A compiled program kept between solves, for sweeps: change row bounds or the objective, re-solve.

With HiGHS the program is loaded once and each re-solve starts from the previous basis (a
frontier point moves one row's bound, so a few simplex pivots usually suffice). A MILP keeps
its LP relaxation loaded beside it and solves that first: when its binaries come out whole it
is the answer, and otherwise its duals settle all but the segments in doubt (``reduced``), so
the MILP branches over a small program only, if at all (at 100 campaigns a frontier's points
took 0.12 s each as MILPs solved whole, 0.01 s this way). CBC has no such interface here, so
its runs rebuild the program each time, with the same results.
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
from optimizer.solver.programs import solve_program, unscaled
from optimizer.solver.reduced import Fold, from_relaxation, refold
from optimizer.solver.status import SolverRun
from optimizer.status import Status

_WARM_SHARE = 0.5
_SPARE_PIVOTS = 100
"""A warm LP run may take this share of a cold solve's pivots, plus the spare, before it is solved cold
(a warm run that strays pivots slowly: one proof of infeasibility took 7x a cold solve's pivots, 25x its time)."""


class Program:
    """A program held by the solver across runs; results are in the model's own units."""

    def __init__(self, model: CompiledModel, options: SolveOptions, relaxed_first: bool = True):
        """``relaxed_first``: a MILP solved with HiGHS keeps its relaxation and solves that first
        (False: each run is the MILP solved whole, whose own bound a certificate may need)."""
        self.options = options
        self.model = model
        self._scaled, self._scaling = scale(model)
        self._with_highs = options.solver == "highs"
        self._highs: highspy.Highs | None = None
        """Loaded at the first run that needs it: bounds and costs changed before then are loaded with it."""
        relaxed_first = relaxed_first and options.solver == "highs" and model.is_mip
        self._relaxation = Program(model.relaxed(), options) if relaxed_first else None
        self._cold_pivots: int | None = None
        self._fold: Fold | None = None
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
        if self._relaxation is not None:
            self._relaxation.set_row_bounds(rows, lower, upper)
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
        if self._relaxation is not None:
            self._relaxation.set_column_bounds(columns, lower, upper)
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
        if self._relaxation is not None:
            self._relaxation.set_objective(cost, offset, sense)
        if self._highs is not None:
            columns = np.arange(scaled_cost.size, dtype=np.int32)
            self._highs.changeColsCost(columns.size, columns, self._scaled.cost)
            self._highs.changeObjectiveOffset(self._scaled.offset)
            self._highs.changeObjectiveSense(
                highspy.ObjSense.kMaximize if sense == "maximize" else highspy.ObjSense.kMinimize
            )

    def folded(self) -> Fold | None:
        """The program's fold at its current bounds and objective (``reduced.fold``), its coupling
        terms kept from one call to the next."""
        self._fold = refold(self._fold, self.model)
        return self._fold

    def basis(self) -> highspy.HighsBasis | None:
        """The basis the next warm start would begin from (of the LP relaxation, for a MILP solved
        relaxation first); None without one (before the first run, after a MILP solved whole, or
        without HiGHS)."""
        holder = self._relaxation if self._relaxation is not None else self
        basis = holder._highs.getBasis() if holder._highs is not None else None
        return basis if basis is not None and basis.valid else None

    def restore(self, basis: highspy.HighsBasis) -> None:
        """Begin the next warm start from ``basis`` (one ``basis()`` gave, at other bounds)."""
        holder = self._relaxation if self._relaxation is not None else self
        assert holder._highs is not None  # a basis was taken from it
        holder._highs.setBasis(basis)

    def solve(self, start: np.ndarray | None = None) -> SolverRun:
        """Solve (from the last basis with HiGHS); values are read only when a solution exists.

        ``start`` (in the model's units) is a feasible solution a MILP search may begin from.
        """
        self.runs += 1
        if self._relaxation is not None:
            run = self._relaxed_first()
            if run is not None:
                return run
        if self._with_highs:
            if self._highs is None:
                self._highs = load_highs(self._scaled, self.options)
            if start is not None and self._scaled.is_mip:
                solution = highspy.HighsSolution()
                solution.col_value = list(start / self._scaling.columns)
                self._highs.setSolution(solution)
            run = self._run_highs(self.options.run_limit())
        else:
            run = solve_cbc(self._scaled, self.options)
        self.options.note_stop(run.status is Status.TIME_LIMIT)
        return unscaled(run, self._scaling)

    def _run_highs(self, limit: float | None) -> SolverRun:
        """One HiGHS run within ``limit`` seconds; an LP's warm start that takes more pivots than a
        cold solve did is abandoned for a cold solve.

        Warm starts usually take a few pivots, but after some bound changes the old basis is a
        poor start. The measure is the pivots of the first optimal solve.
        """
        self._limit_time(limit)
        if self._scaled.is_mip:
            return run_highs(self._highs, True)
        limited = self._cold_pivots is not None
        if limited:
            self._highs.setOptionValue("simplex_iteration_limit", int(_WARM_SHARE * self._cold_pivots) + _SPARE_PIVOTS)
        run = run_highs(self._highs, False)
        if not limited and run.status is Status.OPTIMAL and self._highs.getInfo().simplex_iteration_count:
            self._cold_pivots = int(self._highs.getInfo().simplex_iteration_count)
        if not limited or self._highs.getModelStatus() != highspy.HighsModelStatus.kIterationLimit:
            return run
        fresh = load_highs(self._scaled, self.options)
        cold = run_highs(fresh, False)
        basis = fresh.getBasis()
        if basis.valid:
            self._highs.setBasis(basis)  # the next warm start begins where the cold solve ended
        return replace(cold, seconds=run.seconds + cold.seconds)

    def _limit_time(self, seconds: float | None) -> None:
        """Let the next run take ``seconds``: HiGHS's time limit is on a clock that runs on across an
        instance's runs, so a kept program's limit is counted from the time it has used so far."""
        total = np.inf if seconds is None else self._highs.getRunTime() + seconds
        self._highs.setOptionValue("time_limit", float(total))

    def _relaxed_first(self) -> SolverRun | None:
        """The MILP's optimum from its relaxation (warm), or over the segments its duals leave in doubt.

        None when neither settles it (the whole MILP is then solved).
        """
        assert self._relaxation is not None
        relaxed = self._relaxation.solve()
        run = from_relaxation(self.model, relaxed, lambda small: solve_program(small, self.options, None),
                              self.folded(), gap=self.options.mip_gap)
        if run is not None:
            self.options.note_stop(run.status is Status.TIME_LIMIT)
        return run

def _with(values: np.ndarray, rows: np.ndarray, new: np.ndarray) -> np.ndarray:
    out = values.copy()
    out[rows] = new
    return out
