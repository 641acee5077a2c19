"""The frontier's programs, built once: only row bounds and the objective change between solves.

Two rows are added to the scenario's own: a floor on the traded KPI (the "SOV row") and a
floor on the primary KPI. The scenario's own floors on the traded KPI are dropped: they are
what the frontier moves. Each objective breaks ties toward the other KPI (``_tie_weights``), and
each is kept in its own loaded program. Every solve is one of four kinds:

* the most primary KPI with the traded KPI at or above a floor (a frontier point);
* the most of the traded KPI, with or without a floor on the primary KPI (the far end, today's
  split placed on the frontier);
* the least spend for a primary floor and a traded floor, the budget set aside (the price of a
  point in dollars at constant leads);
* the outer program's optimum at a traded floor (the point's certified bound).

When S-curves make the plan program a MILP, the least spend keeps a solution's mix of S-curve
campaigns (its binaries fixed), and a MILP answered without duals (CBC's) gets them from an LP
twin with its binaries fixed. From ``REDUCED_FROM`` campaigns, the asks that would be long warm
moves or cold solves are answered from duals, off the kept programs (``_hinted``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from optimizer.model.compile import CompiledModel, compile_model
from optimizer.model.formulation import Formulation, RowSpec
from optimizer.pareto.axis import Axis
from optimizer.solver.dual import tightest_bound
from optimizer.solver.options import SolveOptions
from optimizer.solver.persistent import Program
from optimizer.solver.programs import REDUCED_FROM, certified_bound, certified_whole, priced_bound, solve_program
from optimizer.solver.reduced import WIDE_DOUBT, fold, solve_reduced
from optimizer.solver.status import SolverRun
from optimizer.status import Status

_HOLD = 1e-7
"""Relative slack when a solved value is held as a floor for the next solve."""
_TIE = 1e-6
"""The other KPI's weight in each objective, relative to the two KPIs' reach (see ``_tie_weights``)."""


def held(value: float) -> float:
    """A solved value, loosened by a hair so that holding it as a floor stays feasible."""
    return value - _HOLD * max(1.0, abs(value))


def raised(value: float) -> float:
    """A solved value, raised by a hair: a floor there binds, so its dual prices the step beyond it."""
    return value + _HOLD * max(1.0, abs(value))


@dataclass(frozen=True)
class Solution:
    """One solve: the run, the spend split and the rows' values (in the program's units)."""

    run: SolverRun
    spend: np.ndarray | None
    primary: float
    traded: float
    traded_dual: float | None
    """d(objective)/d(traded floor), in the objective's own sense (None without a dual)."""
    duals: np.ndarray | None = None
    """Every row's dual (a MILP's: of its LP with the binaries fixed at this solution)."""
    floor: float | None = None
    """The traded floor it was solved at (None: none, or not solved at all)."""

    @property
    def ok(self) -> bool:
        return self.spend is not None and self.run.status is Status.OPTIMAL

    @property
    def on_floor(self) -> bool:
        """Whether its traded KPI sits on the floor it was solved at (to within the hair a floor is held by)."""
        return self.floor is not None and self.traded <= raised(self.floor)


@dataclass(frozen=True)
class _Row:
    """An added frontier row: its position, coefficients and constant (value = coefficients . x + constant)."""

    index: int
    coefficients: np.ndarray
    constant: float

    def value(self, x: np.ndarray) -> float:
        return float(self.coefficients @ x + self.constant)


class FrontierProgram:
    """The frontier's programs, each kept loaded with its own basis between solves.

    ``plan`` answers the primary and traded questions (a MILP when S-curves need it);
    ``spend`` minimises spend for the constant-leads view (budget set aside); for a MILP whose
    answers come without duals (CBC's, or one solved whole), the plan's LP twin, loaded when first needed,
    has its binaries fixed at each solution to read them; ``bound`` is the outer program for
    certificates.
    """

    def __init__(self, form: Formulation, axis: Axis, options: SolveOptions, grids: tuple[np.ndarray, ...]):
        if form.goal.sense != "maximize":
            raise ValueError("a frontier trades a maximised KPI against another; this scenario minimises spend "
                             "(set objective.maximize, e.g. --objective leads)")
        kept = tuple(row for row in form.rows if not _floors(row, axis))
        extra = (
            RowSpec(f"{axis.kpi} floor (frontier)", "frontier", axis.kpi, "", ">=", 0.0, 0.0, axis.expr),
            RowSpec(f"{form.goal.kpi} floor (frontier)", "frontier", form.goal.kpi, "", ">=", 0.0, 0.0, form.goal.expr),
        )
        self.form = replace(form, rows=kept + extra)
        self.axis = axis
        self.dropped = tuple(row.name for row in form.rows if _floors(row, axis))
        model = compile_model(self.form, "plan", grids)
        relaxed = model.relaxed()
        self.is_mip = model.is_mip
        self.plan = Program(model, options)
        self._most_traded: Program | None = None
        self._relaxed = relaxed
        self._prices: Program | None = None
        self.spend = Program(relaxed, options)
        outer = compile_model(self.form, "bound", grids)
        self.bound = Program(outer, options, relaxed_first=not certified_whole(outer))
        self._traded = _row(model, len(kept))
        self._primary = _row(model, len(kept) + 1)
        self._traded_outer = _row(self.bound.model, len(kept))
        primary_weight, traded_weight = _tie_weights(model, self._traded)
        self._primary_first = (model.cost + traded_weight * self._traded.coefficients,
                               model.offset + traded_weight * self._traded.constant)
        self._traded_first = (self._traded.coefficients + primary_weight * model.cost,
                              self._traded.constant + primary_weight * model.offset)
        self._traded_weight = traded_weight
        self.plan.set_objective(*self._primary_first, "maximize")  # its only objective (max_traded has its own)
        self._binaries = np.flatnonzero(model.integer)
        self._spend_lower = np.array([c.lo for c in form.campaigns])
        self._spend_upper = np.array([c.hi for c in form.campaigns])
        for program in (self.plan, self.spend):
            _set_floor(program, self._traded, None)
            _set_floor(program, self._primary, None)
        _set_floor(self.bound, self._traded_outer, None)
        self.spend.set_objective(np.where(np.arange(model.cost.size) < form.size, 1.0, 0.0), 0.0, "minimize")
        budget = [i for i, row in enumerate(self.form.rows) if row.family == "budget"]
        self._budget_row: int | None = None
        if budget:
            rows = np.flatnonzero(model.row_spec == budget[0])
            self.spend.set_row_bounds(rows, np.full(rows.size, -np.inf), np.full(rows.size, np.inf))
            self._budget_row = int(rows[0]) if rows.size == 1 else None
        self._starts: dict[str, list[tuple[float, np.ndarray]]] = {"primary": [], "outer": []}
        self._spend_reaches: dict[float, float] = {}
        self._spend_duals: np.ndarray | None = None
        """The last least spend's duals (where the next starts from)."""
        self._hinted_runs = 0
        self._bases: list[tuple[float, object]] = []
        """The plan program's basis after each point, by its traded floor (the warm starts of later points)."""

    @property
    def solves(self) -> int:
        programs = (self.plan, self._most_traded, self._prices, self.spend, self.bound)
        return self._hinted_runs + sum(program.runs for program in programs if program is not None)

    def no_duals(self) -> np.ndarray:
        """Every row's dual at zero: a hint for a solve with no like solve to start from."""
        return np.zeros(self.plan.model.shape[0])

    def max_primary(self, traded_floor: float | None, hint: np.ndarray | None = None) -> Solution:
        """The most primary KPI with the traded KPI's volume at or above ``traded_floor`` (and, among
        plans with that most, the one with the most traded KPI).

        ``hint``: the duals of a like solve (the same ask on coarser breakpoints), or ``no_duals()``;
        a large program is then solved over the segments in doubt under the duals that minimise
        its Lagrangian bound from there (``_hinted``), off the kept program (whose basis stays
        where it was), rather than by a long warm move or a cold solve.
        """
        _set_floor(self.plan, self._traded, traded_floor)
        hinted = self._hinted(self.plan, hint)
        if hinted is None:
            self._warm_from_nearest(traded_floor)
        run = hinted if hinted is not None else self.plan.solve(self._start("primary", traded_floor))
        if run.x is None or run.status is not Status.OPTIMAL:
            return Solution(run, None, np.nan, np.nan, None)
        self._record("primary", run.x)
        basis = self.plan.basis() if hinted is None else None
        if basis is not None:
            self._bases.append((_floor_key(traded_floor), basis))
        if not self.is_mip or run.row_dual is not None:
            return replace(self._solution(run, run.row_dual, self._traded_weight), floor=traded_floor)
        prices = self._prices_twin()
        _set_floor(prices, self._traded, traded_floor)
        solution = self._solution(run, self._fixed(prices, run.x).row_dual, self._traded_weight)
        return replace(solution, floor=traded_floor)

    def max_traded(self, primary_floor: float | None, traded_floor: float | None = None,
                   hint: np.ndarray | None = None) -> Solution:
        """The most traded volume with the primary KPI (as the program counts it) at or above ``primary_floor``
        (and, among plans with that most, the one with the most primary KPI); ``hint`` as for ``max_primary``.

        Its duals are the traded objective's, and it has no traded price.
        """
        program = self._traded_program()
        _set_floor(program, self._traded, traded_floor)
        _set_floor(program, self._primary, primary_floor)
        hinted = self._hinted(program, hint)
        run = hinted if hinted is not None else program.solve(self._start("primary", traded_floor))
        if run.x is None or run.status is not Status.OPTIMAL:
            return Solution(run, None, np.nan, np.nan, None)
        self._record("primary", run.x)
        return replace(self._solution(run, None), duals=run.row_dual)

    def _hinted(self, program: Program, hint: np.ndarray | None) -> SolverRun | None:
        """``program`` at its current bounds solved over the segments in doubt, off the kept program
        (None without a hint, for a program too small for that to pay, or when it does not settle).

        The hint's Lagrangian bound is minimised first (``tightest_bound``): at a frontier's far end,
        the coarse program's duals left half the segments in doubt, the minimised ones a few percent.
        """
        if hint is None or self.form.size < REDUCED_FROM or program.options.solver != "highs":
            return None
        folded = program.folded()
        if folded is None:
            return None

        def solver(model: CompiledModel) -> SolverRun:
            return solve_program(model, program.options, None)

        duals = tightest_bound(folded, hint).duals
        run = solve_reduced(folded, duals, solver, program.options.mip_gap, WIDE_DOUBT)
        self._hinted_runs += run is not None
        return run

    def min_spend(self, primary_floor: float, traded_floor: float, pattern: Solution) -> Solution:
        """The least spend meeting both floors, with the budget set aside.

        For a MILP, campaigns needing binaries stay on or off as in ``pattern``: the least spend
        for that mix of S-curve campaigns.

        A traded floor past what any spend reaches at that primary floor is answered without a
        solve: with a CPL cap that is most of a frontier, and each such proof was a slow solve.
        """
        own = self._own_least_spend(primary_floor, traded_floor, pattern)
        return own if own is not None else self._least_spend(primary_floor, traded_floor, pattern)

    def _least_spend(self, primary_floor: float, traded_floor: float, pattern: Solution) -> Solution:
        """``min_spend``, solved."""
        if traded_floor > _loosened(self._spend_reach(primary_floor, pattern)):
            return Solution(_OUT_OF_REACH, None, np.nan, np.nan, None)
        _set_floor(self.spend, self._primary, primary_floor)
        _set_floor(self.spend, self._traded, traded_floor)
        if self.is_mip:
            self._fix_binaries(self.spend, pattern.run.x)
        # Large: from the last least spend's duals, over the segments in doubt (cold, the first took 3.3 s
        # at 10,000 campaigns; this way 0.7 s).
        hinted = self._hinted(self.spend, self._spend_duals if self._spend_duals is not None else self.no_duals())
        run = hinted if hinted is not None else self.spend.solve()
        if run.x is None or run.status is not Status.OPTIMAL:
            return Solution(run, None, np.nan, np.nan, None)
        self._spend_duals = run.row_dual
        return replace(self._solution(run, run.row_dual), floor=traded_floor)

    def primary_at(self, traded_floor: float, pattern: Solution) -> float | None:
        """The most primary KPI with the traded floor at ``traded_floor``, a MILP's S-curve campaigns on or off
        as in ``pattern`` (None: no such plan): the frontier near ``pattern``, where its price is measured."""
        program = self._prices_twin() if self.is_mip else self.plan
        _set_floor(program, self._traded, traded_floor)
        run = self._fixed(program, pattern.run.x) if self.is_mip else program.solve()
        if run.x is None or run.status is not Status.OPTIMAL:
            return None
        return self._primary.value(run.x)

    def spend_at(self, primary_floor: float, traded_floor: float, pattern: Solution) -> float | None:
        """The least spend meeting both floors (``min_spend``, always solved), or None where no spend does."""
        solution = self._least_spend(primary_floor, traded_floor, pattern)
        return float(solution.spend.sum()) if solution.ok and solution.spend is not None else None

    def _own_least_spend(self, primary_floor: float, traded_floor: float, pattern: Solution) -> Solution | None:
        """``pattern`` itself, when both floors are at its own levels (to within the hair a floor is
        held or raised by) and its budget binds at a positive price.

        Its duals divided by the budget's then meet the least-spend program's optimality
        conditions, so no plan (with its mix of S-curve campaigns) spends less, and its traded
        floor's price in dollars is its price in the primary KPI over the budget's. This is the
        frontier's lead-max end, whose least-spend solve was cold (3 s at 10,000 campaigns).
        """
        if (self._budget_row is None or not pattern.ok or pattern.duals is None or pattern.traded_dual is None
                or not held(pattern.primary) <= primary_floor <= pattern.primary
                or not held(pattern.traded) <= traded_floor <= raised(pattern.traded)):
            return None  # both floors must be at the pattern's own levels, where they bind
        budget_price = float(pattern.duals[self._budget_row])
        if budget_price <= 0:
            return None
        return replace(pattern, traded_dual=-pattern.traded_dual / budget_price, duals=None, floor=None)

    def outer_bound(self, traded_floor: float, near: Solution | None = None) -> float | None:
        """A proven upper bound on the primary KPI with the traded KPI at or above ``traded_floor``.

        ``near`` is the plan solved at that floor: its duals price the outer program campaign by
        campaign first (``priced_bound``, no solver run). When that bound is loose, the outer
        program's Lagrangian dual is minimised from them (``tightest_bound``, until the gap is
        known to 1%: 1 s at 10,000 campaigns, where the outer MILP took 6 s); at its least it is
        the outer LP's optimum, and a large MILP's within a hair, but a few S-curve campaigns can
        leave a small MILP well below it, so a small MILP is solved, as is the outer program when
        the minimisation does not converge, or with CBC (the minimisation's small programs are HiGHS's).
        """
        _set_floor(self.bound, self._traded_outer, traded_floor)
        folded = self.bound.folded() if near is not None and near.duals is not None else None
        tightest = None
        if folded is not None:
            duals = self._primary_duals(near)
            quick = priced_bound(folded, duals, near.primary)
            if quick is not None:
                return quick.value
            if self.bound.options.solver == "highs" and not certified_whole(self.bound.model):
                tightest = tightest_bound(folded, duals, against=near.primary)
                if tightest.converged:
                    return tightest.value
        run = self.bound.solve(self._start("outer", traded_floor))
        if run.x is not None:
            self._starts["outer"].append((self._traded_outer.value(run.x), run.x))
        solved = certified_bound(self.bound.model, run) if run.status is Status.OPTIMAL else None
        bounds = [bound for bound in (solved, tightest.value if tightest else None) if bound is not None]
        return min(bounds) if bounds else None

    def _traded_program(self) -> Program:
        """The plan program with the traded KPI's objective, loaded when first needed.

        Each objective keeps its own loaded program, so a re-solve only ever sees a floor move:
        after an objective change a warm start took 3-4x a cold solve at 10,000 campaigns.
        """
        if self._most_traded is None:
            self._most_traded = Program(self.plan.model, self.plan.options)
            self._most_traded.set_objective(*self._traded_first, "maximize")
        return self._most_traded

    def _prices_twin(self) -> Program:
        """The plan's LP twin, loaded when first needed: a MILP solved from its relaxation carries its own duals."""
        if self._prices is None:
            self._prices = Program(self._relaxed, self.plan.options)
            self._prices.set_objective(*self._primary_first, "maximize")
            _set_floor(self._prices, self._primary, None)
        return self._prices

    def _spend_reach(self, primary_floor: float, pattern: Solution | None = None) -> float:
        """The most traded volume any spend reaches with the primary KPI at ``primary_floor`` (binaries
        relaxed), or a proven bound above it (``_reach``): past it, no S-curve mix meets both floors.
        One per primary floor; solved cold, it took 6 s at 10,000 campaigns, and ``_reach`` 0.4 s
        from ``pattern``'s duals turned to the traded objective's (the first ask's pattern is
        usually the lead-max end, at that primary level).
        """
        if primary_floor not in self._spend_reaches:
            model = self.spend.model
            row_lower = model.row_lower.copy()
            row_lower[self._primary.index] = _lower(self._primary, primary_floor)
            row_lower[self._traded.index] = -np.inf
            reach = replace(model, cost=self._traded.coefficients, offset=self._traded.constant, sense="maximize",
                            row_lower=row_lower, col_lower=self._relaxed.col_lower, col_upper=self._relaxed.col_upper)
            hint = self.traded_duals(pattern) if pattern is not None else None
            self._spend_reaches[primary_floor] = self._reach(reach, hint)
        return self._spend_reaches[primary_floor]

    def _reach(self, reach: CompiledModel, hint: np.ndarray | None) -> float:
        """The reach program's optimum, or a proven bound above it (infinite when neither is found).

        Its Lagrangian dual, minimised, is its optimum once converged; otherwise the duals it got
        to price a solve over the segments in doubt, and failing that the program is solved whole
        (as it is with CBC: the minimisation's small programs are HiGHS's).
        """
        def solver(model: CompiledModel) -> SolverRun:
            return solve_program(model, self.spend.options, None)

        folded = fold(reach) if self.spend.options.solver == "highs" else None
        start = hint if hint is not None else np.zeros(reach.shape[0])
        tightest = tightest_bound(folded, start) if folded is not None else None
        if tightest is not None and tightest.converged:
            return tightest.value
        run = solve_reduced(folded, tightest.duals, solver, doubt=WIDE_DOUBT) if tightest is not None else None
        run = run if run is not None else solver(reach)
        value = {Status.OPTIMAL: run.objective, Status.INFEASIBLE: -np.inf}.get(run.status)
        if value is None:
            return tightest.value if tightest is not None else np.inf
        return float(value)

    def _fixed(self, program: Program, pattern: np.ndarray) -> SolverRun:
        """Solve an LP twin with the binaries fixed at ``pattern``."""
        self._fix_binaries(program, pattern)
        return program.solve()

    def _fix_binaries(self, program: Program, pattern: np.ndarray) -> None:
        values = np.round(pattern[self._binaries])
        program.set_column_bounds(self._binaries, values, values)

    def _solution(self, run: SolverRun, duals: np.ndarray | None, tie: float = 0.0) -> Solution:
        """``run`` as a solution; ``tie`` is the traded KPI's weight in the objective its duals are of."""
        assert run.x is not None
        dual = float(duals[self._traded.index]) if duals is not None else None
        if dual:
            dual -= tie  # the tie-break's share: a binding floor's traded volume moves with it
        spend = np.clip(run.x[: self.form.size], self._spend_lower, self._spend_upper)  # solver round-off
        return Solution(run, spend, self._primary.value(run.x), self._traded.value(run.x), dual, duals)

    def traded_duals(self, solution: Solution) -> np.ndarray | None:
        """The duals a ``max_traded`` ask with its primary floor at ``solution``'s level would have,
        from ``solution``'s own (None when its traded floor does not bind).

        Where the traded floor binds at a price ``-traded_dual`` of primary per unit, the same
        optimality conditions divided by that price are those of the most traded plan at that
        primary level: every row's dual divided by it, and the primary floor's minus one over it
        (the traded objective's tie-break on the primary KPI, a millionth, is left out: these
        duals start a search, they certify nothing).
        """
        if solution.duals is None or solution.traded_dual is None:
            return None
        price = -solution.traded_dual
        if price <= _BINDING * abs(solution.primary) / max(abs(solution.traded), 1e-300):
            return None  # not binding, or only by round-off: dividing by it would make huge duals
        duals = self._primary_duals(solution) / price
        duals[self._traded.index] = 0.0
        duals[self._primary.index] = -1.0 / price
        return duals

    def _primary_duals(self, solution: Solution) -> np.ndarray:
        """A solution's duals for the primary KPI alone: its traded floor's without the tie-break's share."""
        duals = solution.duals.copy()
        if solution.traded_dual is not None:
            duals[self._traded.index] = solution.traded_dual
        return duals

    def _warm_from_nearest(self, traded_floor: float | None) -> None:
        """Start the next point from the basis of the point solved nearest it, when that is not the
        last one: after a long move a warm start pivots slowly (seconds at 10,000 campaigns)."""
        if not self._bases:
            return
        floor = _floor_key(traded_floor)
        nearest = min(range(len(self._bases)), key=lambda k: abs(self._bases[k][0] - floor))
        if nearest != len(self._bases) - 1:
            self.plan.restore(self._bases[nearest][1])

    def _record(self, kind: str, x: np.ndarray) -> None:
        if self.is_mip:
            self._starts[kind].append((self._traded.value(x), x))

    def _start(self, kind: str, traded_floor: float | None) -> np.ndarray | None:
        """A solution already found that meets ``traded_floor`` (a MILP may start its search there).

        Every other row is the same for every solve of a kind, so an earlier solution with
        enough of the traded KPI is feasible.
        """
        if not self.is_mip:
            return None
        floor = -np.inf if traded_floor is None else traded_floor
        feasible = [(traded, x) for traded, x in self._starts[kind] if traded >= floor]
        return min(feasible, key=lambda item: item[0])[1] if feasible else None


_BINDING = 1e-9
"""A traded floor binds when its price, relative to the primary KPI per unit of the traded one, is over this."""
_OUT_OF_REACH = SolverRun(Status.INFEASIBLE, "infeasible (the traded floor is past what any spend reaches)", "", 0.0)
_REACH_SLACK = 1e-6


def _loosened(reach: float) -> float:
    """A reach widened by the solver's tolerance: only floors clearly past it are out of reach."""
    return reach + _REACH_SLACK * max(1.0, abs(reach)) if np.isfinite(reach) else reach


def _tie_weights(model: CompiledModel, traded: _Row) -> tuple[float, float]:
    """The weights that break ties in each objective (``model.cost`` is the primary KPI's): of the
    primary KPI in the traded one, and the reverse.

    Each is ``_TIE`` of the ratio of the two KPIs' reach, so the tie-break moves an objective by
    at most ``_TIE`` of its own reach: a lexicographic optimum in one solve, where holding one
    KPI's optimum as a floor and maximising the other made a degenerate program (at 10,000
    campaigns, the slowest solve of a frontier by far).
    """
    bounds = np.maximum(np.abs(np.where(np.isfinite(model.col_lower), model.col_lower, 0.0)),
                        np.abs(np.where(np.isfinite(model.col_upper), model.col_upper, 0.0)))
    primary_reach = float(np.abs(model.cost) @ bounds) or 1.0
    traded_reach = float(np.abs(traded.coefficients) @ bounds) or 1.0
    return _TIE * traded_reach / primary_reach, _TIE * primary_reach / traded_reach


def _floor_key(floor: float | None) -> float:
    """A floor as a number to measure distances by (no floor: the lowest)."""
    return -1e300 if floor is None else floor


def _lower(row: _Row, floor: float | None) -> float:
    """The row's lower bound that sets its floor (minus infinity: no floor)."""
    return -np.inf if floor is None else floor - row.constant


def _set_floor(program: Program, row: _Row, floor: float | None) -> None:
    program.set_row_bounds(np.array([row.index]), np.array([_lower(row, floor)]), np.array([np.inf]))


def _row(model: CompiledModel, spec: int) -> _Row:
    index = int(np.flatnonzero(model.row_spec == spec)[0])
    coefficients = model.matrix.tocsr()[[index], :].toarray().ravel()
    # The row was compiled with a right-hand side of 0, so its lower bound is minus its constant.
    return _Row(index, coefficients, float(-model.row_lower[index]))


def _floors(row: RowSpec, axis: Axis) -> bool:
    """Whether ``row`` is a floor on the traded KPI (moved by the frontier rather than kept)."""
    traded = {axis.kpi} | ({f"esov.{axis.pool.name}"} if axis.pool is not None else set())
    whole_plan = axis.pool is not None or row.where == "all campaigns"  # a selection's floor stays a constraint
    return row.kpi in traded and row.sense == ">=" and whole_plan
