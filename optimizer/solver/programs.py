"""Solving compiled programs: scaled solver runs, refinement rounds, infeasibility proofs, bounds.

``solve_program`` is the one place a solver is called: it scales the program, runs the
chosen adapter and maps the results back to the model's units. ``solve_model`` is how a
program is solved: a large one with HiGHS over the segments in doubt (``reduced``), priced by
the duals of an earlier solve, or of its LP relaxation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from optimizer.model.compile import CompiledModel, Purpose, compile_model
from optimizer.model.formulation import Formulation
from optimizer.model.refine import refine_grids
from optimizer.model.scaling import Scaling, scale
from optimizer.solver.cbc import lp_names, solve_cbc
from optimizer.solver.certificate import dual_bound, within
from optimizer.solver.highs import solve_highs
from optimizer.solver.options import SolveOptions
from optimizer.solver.reduced import Fold, fold, from_relaxation, lagrangian_bound, solve_reduced
from optimizer.solver.status import SolverRun
from optimizer.status import Status

Grids = tuple[np.ndarray, ...]
_RESCUE_ROUNDS = 3
REDUCED_FROM = 200
"""Programs of this many campaigns or more are solved over their segments in doubt."""
_QUICK_GAP = 5e-5
"""A bound from the plan's own duals this close to the plan needs no outer solve."""


@dataclass(frozen=True)
class Attempt:
    """A program, its solver run, the breakpoints it was built on, and the solver time spent so far."""

    model: CompiledModel
    run: SolverRun
    grids: Grids
    seconds: float


def solve_program(model: CompiledModel, options: SolveOptions, form: Formulation | None) -> SolverRun:
    """Solve the scaled program; results come back in the model's own units (``form`` names CBC's columns)."""
    scaled, scaling = scale(model)
    if options.solver == "cbc":
        run = solve_cbc(scaled, options, lp_names(form, model) if form is not None else None)
    else:
        run = solve_highs(scaled, options)
    options.note_stop(run.status is Status.TIME_LIMIT)
    return unscaled(run, scaling)


def unscaled(run: SolverRun, scaling: Scaling) -> SolverRun:
    """A run's values mapped back from the scaled program."""
    return replace(
        run,
        x=scaling.x(run.x) if run.x is not None else None,
        objective=scaling.value(run.objective) if run.objective is not None else None,
        bound=scaling.value(run.bound) if run.bound is not None else None,
        row_dual=scaling.duals(run.row_dual) if run.row_dual is not None else None,
    )


def attempt(form: Formulation, options: SolveOptions, purpose: Purpose, grids: Grids, seconds: float = 0.0,
            duals: np.ndarray | None = None) -> Attempt:
    """Compile and solve one program; ``duals`` of a similar program (coarser grids) speed it up."""
    model = compile_model(form, purpose, grids)
    run = solve_model(model, options, form, duals)
    return Attempt(model, run, grids, seconds + run.seconds)


def solve_model(model: CompiledModel, options: SolveOptions, form: Formulation | None,
                duals: np.ndarray | None = None) -> SolverRun:
    """The program's optimum, in the model's units.

    A large program with HiGHS is solved over its segments in doubt under ``duals`` (or, without
    them, under the duals of its LP relaxation); a MILP's answer then comes with the duals of
    its binaries fixed, as ``polish`` gives. Whatever that cannot settle is solved whole.
    """
    folded = _folded(model, options)
    if folded is None:
        return solve_program(model, options, form)
    def solve(small: CompiledModel) -> SolverRun:
        return solve_program(small, options, form)

    if duals is not None:
        run = solve_reduced(folded, duals, solve, options.mip_gap)
        return run if run is not None else solve_program(model, options, form)
    if not model.is_mip:
        return solve_program(model, options, form)
    relaxed = solve_program(model.relaxed(), options, form)
    run = from_relaxation(model, relaxed, solve, folded, options.mip_gap)
    if run is None:
        run = solve_program(model, options, form)
        run = replace(run, seconds=run.seconds + relaxed.seconds)
    return run


def certified_whole(model: CompiledModel) -> bool:
    """Whether an outer program's certificate is the MILP solved whole: a MILP below ``REDUCED_FROM``
    campaigns, whose few S-curve campaigns can leave its optimum well below its relaxation's or
    any Lagrangian bound (which is close for many campaigns)."""
    return model.is_mip and model.n_campaigns < REDUCED_FROM


def _folded(model: CompiledModel, options: SolveOptions) -> Fold | None:
    """The fold of a program to solve over its segments in doubt (HiGHS: from ``REDUCED_FROM``
    campaigns, and a MILP of any size, whose relaxation then comes first: at 100 campaigns a plan
    took 0.27 s with each MILP branched whole, 0.10 s this way)."""
    return fold(model) if options.solver == "highs" and (model.n_campaigns >= REDUCED_FROM or model.is_mip) else None


def refine(form: Formulation, options: SolveOptions, plan: Attempt) -> Attempt:
    """Re-solve on breakpoints refined around the plan, ``options.refine`` times (while optimal)."""
    for _ in range(options.refine):
        if plan.run.status is not Status.OPTIMAL or not options.allows_more():
            break
        finer = refine_grids(plan.grids, plan.run.x[: form.size])
        if all(a.size == b.size for a, b in zip(finer, plan.grids, strict=True)):
            break
        finer_plan = attempt(form, options, "plan", finer, plan.seconds, plan.run.row_dual)
        if finer_plan.run.status is not Status.OPTIMAL:
            return replace(plan, seconds=finer_plan.seconds)
        plan = finer_plan
    return plan


def rescue(form: Formulation, options: SolveOptions, plan: Attempt) -> tuple[Attempt, bool]:
    """After an infeasible plan program: prove infeasibility, or find the plan it missed.

    The plan program is an inner approximation, so it can be infeasible when a floor sits at
    the edge of what is reachable. The outer (bound) program decides: infeasible there means
    no plan exists; otherwise breakpoints are refined around its solution and the plan
    program tried again. Returns the last attempt and whether infeasibility is proven.
    """
    seconds = plan.seconds
    for _ in range(_RESCUE_ROUNDS):
        if not options.allows_more():
            break
        outer = attempt(form, options, "bound", plan.grids, seconds)
        seconds = outer.seconds
        if outer.run.status is Status.INFEASIBLE:
            return replace(plan, seconds=seconds), True
        if not outer.run.has_solution:
            break
        finer = refine_grids(plan.grids, outer.run.x[: form.size], keep_ends=False)
        plan = attempt(form, options, "plan", finer, seconds)
        seconds = plan.seconds
        if plan.run.has_solution:
            return plan, False
    return replace(plan, seconds=seconds), False


@dataclass(frozen=True)
class OuterBound:
    """A proven bound on the true optimum (None: none), the outer program's solution when one was
    solved (it shows where the plan program's grids are too coarse), and the solver time spent."""

    value: float | None
    x: np.ndarray | None
    seconds: float


def outer_bound(form: Formulation, options: SolveOptions, grids: Grids, plan: Attempt | None = None) -> OuterBound:
    """A proven bound from the outer program.

    For a large program, the plan's duals price the outer program campaign by campaign
    (``lagrangian_bound``, no solver run); only when that bound is loose is the outer program's
    LP relaxation solved, for its own duals. A small MILP's relaxation is taken when it already
    certifies the plan to within ``_QUICK_GAP``; else the MILP is solved whole (its few S-curve
    campaigns can leave its optimum well below its relaxation's). Otherwise the outer program is
    solved: a MILP stopped early (at a time limit) may have no bound yet; the LP relaxation of the
    outer program then gives a looser one, still proven (it only widens the feasible set). Past
    the deadline, each of these runs gets a short grace: a plan without a gap helps no one.
    """
    options.grant_grace()
    model = compile_model(form, "bound", grids)
    whole = certified_whole(model)
    folded = None if whole else _folded(model, options)
    if folded is not None and plan is not None and plan.run.row_dual is not None:
        quick = priced_bound(folded, plan.run.row_dual, plan.run.objective)
        if quick is not None:
            return quick
        run = solve_reduced(replace(folded, model=model.relaxed()), plan.run.row_dual,
                            lambda small: solve_program(small, options, form))
        if run is not None and run.row_dual is not None:
            values = (lagrangian_bound(folded, plan.run.row_dual), lagrangian_bound(folded, run.row_dual))
            return OuterBound(min(values) if model.sense == "maximize" else max(values), run.x, run.seconds)
    if whole and plan is not None:
        relaxed = _relaxed_bound(model, options, form, plan.run.objective)
        if relaxed is not None:
            return relaxed
    run = solve_program(model, options, form) if whole else solve_model(model, options, form)
    value, seconds = certified_bound(model, run), run.seconds
    if value is None and model.is_mip:
        options.grant_grace()
        relaxed = model.relaxed()
        run = solve_program(relaxed, options, form)
        value = certified_bound(relaxed, run) if run.status is Status.OPTIMAL else None
        seconds += run.seconds
    return OuterBound(value, run.x, seconds)


def _relaxed_bound(model: CompiledModel, options: SolveOptions, form: Formulation,
                   plan_value: float | None) -> OuterBound | None:
    """A small MILP's outer bound from its LP relaxation, when that is already within ``_QUICK_GAP``
    of the plan (a relaxation solve took 5 ms at 100 campaigns, the MILP 35 ms); else None."""
    relaxed = model.relaxed()
    run = solve_program(relaxed, options, form)
    value = certified_bound(relaxed, run) if run.status is Status.OPTIMAL else None
    if value is None or plan_value is None or not within(plan_value, value, model.sense, _QUICK_GAP):
        return None
    return OuterBound(value, run.x, run.seconds)


def priced_bound(folded: Fold, duals: np.ndarray, plan_value: float | None) -> OuterBound | None:
    """The outer program's bound under a plan's duals (no solver run), when it is already within
    reach of the plan's value; None when it is not (the outer program is then worth solving)."""
    value = lagrangian_bound(folded, duals)
    if plan_value is None or not np.isfinite(value):
        return None
    return OuterBound(value, None, 0.0) if within(plan_value, value, folded.model.sense, _QUICK_GAP) else None


def certified_bound(model: CompiledModel, run: SolverRun) -> float | None:
    """The bound program's optimum as a proven bound (weak duality for an LP, the MILP's dual bound)."""
    if run.row_dual is not None and not model.is_mip:
        bound = dual_bound(model, run.row_dual)
    elif run.row_dual is not None and run.status is Status.OPTIMAL:
        # A MILP answered over its segments in doubt: its duals price the binaries' program, and
        # a relaxation solved on the way may bound it more tightly (both are proven: keep the tighter).
        folded = fold(model)
        bound = lagrangian_bound(folded, run.row_dual) if folded is not None else run.bound
        if run.bound is not None and bound is not None:
            bound = min(bound, run.bound) if model.sense == "maximize" else max(bound, run.bound)
    else:
        bound = run.bound
    return bound if bound is not None and np.isfinite(bound) else None


def polish(form: Formulation, options: SolveOptions, plan: Attempt) -> Attempt:
    """A MILP plan re-solved as an LP with its binaries fixed: the best plan for that mix of S-curve
    campaigns (a MILP stops within its gap), and the duals that price it."""
    run = plan.run
    if not plan.model.is_mip or run.status not in (Status.OPTIMAL, Status.TIME_LIMIT) or run.x is None:
        return plan
    if run.row_dual is not None:  # solved over its segments in doubt: already polished
        return plan
    fixed = solve_program(plan.model.with_binaries_fixed(run.x), options, form)
    seconds = plan.seconds + fixed.seconds
    slack = 1e-9 * max(1.0, abs(run.objective or 0.0))
    better = fixed.objective is not None and run.objective is not None and (
        fixed.objective >= run.objective - slack if plan.model.sense == "maximize"
        else fixed.objective <= run.objective + slack)
    if fixed.status is not Status.OPTIMAL or fixed.x is None or not better:
        return replace(plan, seconds=seconds)
    polished = replace(run, x=fixed.x, objective=fixed.objective, row_dual=fixed.row_dual)
    return replace(plan, run=polished, seconds=seconds)
