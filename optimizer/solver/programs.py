"""Solving compiled programs: scaled solver runs, refinement rounds, infeasibility proofs, bounds.

``solve_program`` is the one place a solver is called: it scales the program, runs the
chosen adapter and maps the results back to the model's units.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from optimizer.model.compile import CompiledModel, Purpose, compile_model
from optimizer.model.formulation import Formulation
from optimizer.model.refine import refine_grids
from optimizer.model.scaling import scale
from optimizer.solver.cbc import lp_names, solve_cbc
from optimizer.solver.certificate import dual_bound
from optimizer.solver.highs import solve_highs
from optimizer.solver.options import SolveOptions
from optimizer.solver.persistent import unscaled
from optimizer.solver.status import SolverRun
from optimizer.status import Status

Grids = tuple[np.ndarray, ...]
_RESCUE_ROUNDS = 3


@dataclass(frozen=True)
class Attempt:
    """A program, its solver run, the breakpoints it was built on, and the solver time spent so far."""

    model: CompiledModel
    run: SolverRun
    grids: Grids
    seconds: float


def solve_program(model: CompiledModel, options: SolveOptions, form: Formulation) -> SolverRun:
    """Solve the scaled program; results come back in the model's own units."""
    scaled, scaling = scale(model)
    if options.solver == "cbc":
        run = solve_cbc(scaled, options, lp_names(form, model))
    else:
        run = solve_highs(scaled, options)
    options.note_stop(run.status is Status.TIME_LIMIT)
    return unscaled(run, scaling)


def attempt(form: Formulation, options: SolveOptions, purpose: Purpose, grids: Grids, seconds: float = 0.0) -> Attempt:
    """Compile and solve one program."""
    model = compile_model(form, purpose, grids)
    run = solve_program(model, options, form)
    return Attempt(model, run, grids, seconds + run.seconds)


def refine(form: Formulation, options: SolveOptions, plan: Attempt) -> Attempt:
    """Re-solve on breakpoints refined around the plan, ``options.refine`` times (while optimal)."""
    for _ in range(options.refine):
        if plan.run.status is not Status.OPTIMAL or not options.allows_more():
            break
        finer = refine_grids(plan.grids, plan.run.x[: form.size])
        if all(a.size == b.size for a, b in zip(finer, plan.grids, strict=True)):
            break
        finer_plan = attempt(form, options, "plan", finer, plan.seconds)
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
    """The outer program's attempt and the proven bound on the true optimum it gives (None: none)."""

    attempt: Attempt
    value: float | None


def outer_bound(form: Formulation, options: SolveOptions, grids: Grids) -> OuterBound:
    """Solve the outer program for a proven bound.

    A MILP stopped early (at a time limit) may have no bound yet; the LP relaxation of the
    outer program then gives a looser one, still proven (it only widens the feasible set).
    Past the deadline, each of these runs gets a short grace: a plan without a gap helps no one.
    """
    options.grant_grace()
    outer = attempt(form, options, "bound", grids)
    value = certified_bound(outer.model, outer.run)
    if value is None and outer.model.is_mip:
        options.grant_grace()
        relaxed = replace(outer.model, integer=np.zeros_like(outer.model.integer))
        run = solve_program(relaxed, options, form)
        value = certified_bound(relaxed, run) if run.status is Status.OPTIMAL else None
        outer = replace(outer, seconds=outer.seconds + run.seconds)
    return OuterBound(outer, value)


def certified_bound(model: CompiledModel, run: SolverRun) -> float | None:
    """The bound program's optimum as a proven bound (weak duality for an LP, the MILP's dual bound)."""
    if run.row_dual is not None and not model.is_mip:
        bound = dual_bound(model, run.row_dual)
    else:
        bound = run.bound
    return bound if bound is not None and np.isfinite(bound) else None


def polish(form: Formulation, options: SolveOptions, plan: Attempt) -> Attempt:
    """A MILP plan re-solved as an LP with its binaries fixed: the best plan for that mix of S-curve
    campaigns (a MILP stops within its gap), and the duals that price it."""
    run = plan.run
    if not plan.model.is_mip or run.status not in (Status.OPTIMAL, Status.TIME_LIMIT) or run.x is None:
        return plan
    pattern = np.round(run.x) * plan.model.integer
    lp = replace(
        plan.model,
        col_lower=np.where(plan.model.integer, pattern, plan.model.col_lower),
        col_upper=np.where(plan.model.integer, pattern, plan.model.col_upper),
        integer=np.zeros_like(plan.model.integer),
    )
    fixed = solve_program(lp, options, form)
    seconds = plan.seconds + fixed.seconds
    slack = 1e-9 * max(1.0, abs(run.objective or 0.0))
    better = fixed.objective is not None and run.objective is not None and (
        fixed.objective >= run.objective - slack if plan.model.sense == "maximize"
        else fixed.objective <= run.objective + slack)
    if fixed.status is not Status.OPTIMAL or fixed.x is None or not better:
        return replace(plan, seconds=seconds)
    polished = replace(run, x=fixed.x, objective=fixed.objective, row_dual=fixed.row_dual)
    return replace(plan, run=polished, seconds=seconds)
