"""Solving compiled programs: scaled solver runs, refinement rounds, infeasibility proofs, bounds.

``solve_program`` is the one place a solver is called: it scales the program, runs the
chosen adapter and maps the results back to the model's units. ``solve_model`` is how a
program is solved: a large one with HiGHS over the segments in doubt (``reduced``), priced by
the duals of an earlier solve, or of its LP relaxation.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace

import numpy as np

from optimizer.model.compile import CompiledModel, Purpose, compile_model
from optimizer.model.formulation import Formulation
from optimizer.model.refine import refine_grids
from optimizer.model.scaling import Scaling, scale
from optimizer.solver.cbc import lp_names, solve_cbc
from optimizer.solver.certificate import dual_bound, within
from optimizer.solver.dual import tightest_bound
from optimizer.solver.highs import solve_highs
from optimizer.solver.options import SolveOptions
from optimizer.solver.reduced import Fold, fold, from_relaxation, lagrangian_bound, solve_reduced
from optimizer.solver.status import SolverRun
from optimizer.status import Status

Grids = tuple[np.ndarray, ...]
REDUCED_FROM = 200
"""Programs of this many campaigns or more are solved over their segments in doubt."""
_ROUND_COST = 2.0
"""A refinement round takes up to this many times the last solve (its program is larger)."""
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
    """Solve the scaled program; results come back in the model's own units (``form`` names CBC's columns).
    In the deadline's grace with no time left, nothing is run: the status is ``time_limit``."""
    if options.deadline is not None and options.deadline.exhausted():
        return SolverRun(Status.TIME_LIMIT, "no time left in the grace", options.solver, 0.0)
    scaled, scaling = scale(model)
    if options.solver == "cbc":
        run = solve_cbc(scaled, options, lp_names(form, model) if form is not None else None)
    else:
        run = solve_highs(scaled, options)
    options.note_stop(run.status is Status.TIME_LIMIT)
    if options.deadline is not None:
        options.deadline.note_run(run.seconds)
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
        if plan.run.status is not Status.OPTIMAL or not options.allows_more() \
                or not time_for(options, _ROUND_COST * plan.run.seconds):
            break
        finer = refine_grids(plan.grids, plan.run.x[: form.size])
        if all(a.size == b.size for a, b in zip(finer, plan.grids, strict=True)):
            break
        with strict(options):
            finer_plan = attempt(form, options, "plan", finer, plan.seconds, plan.run.row_dual)
        if finer_plan.run.status is not Status.OPTIMAL:
            return replace(plan, seconds=finer_plan.seconds)
        plan = finer_plan
    return plan


def rescue(form: Formulation, options: SolveOptions, plan: Attempt) -> tuple[Attempt, bool]:
    """After an infeasible plan program: prove infeasibility, or find the plan it missed.

    The plan program is an inner approximation, so it can be infeasible when a floor sits at
    the edge of what is reachable. The outer (bound) program decides at once when it is
    infeasible too: no plan exists. Otherwise breakpoints are refined around its solution and
    the plan program tried again; failing that, ``decide_edge`` settles it on the exact curves.
    Returns the last attempt and whether infeasibility is proven.
    """
    if not options.allows_more():
        return plan, False
    outer = attempt(form, options, "bound", plan.grids, plan.seconds)
    if outer.run.status is Status.INFEASIBLE:
        return replace(plan, seconds=outer.seconds), True
    if not outer.run.has_solution:
        return replace(plan, seconds=outer.seconds), False
    finer = refine_grids(plan.grids, outer.run.x[: form.size], keep_ends=False)
    retried = attempt(form, options, "plan", finer, outer.seconds)
    if retried.run.has_solution:
        return retried, False
    return decide_edge(form, options, retried)


@dataclass(frozen=True)
class Depth:
    """How deep inside the constraint rows a program's plans can sit (``CompiledModel.with_depth``):
    the depth found (a plan's, None without one), a proven bound on it (None: none), the plan's
    columns, each constraint row's size (by ``RowSpec``) and the solver time spent."""

    value: float | None
    bound: float | None
    x: np.ndarray | None
    sizes: np.ndarray
    seconds: float


def depth(form: Formulation, options: SolveOptions, purpose: Purpose, grids: Grids) -> Depth:
    """The deepest plan of the ``purpose`` program on ``grids``, solved whole."""
    model = compile_model(form, purpose, grids)
    deepest = model.with_depth()
    run = solve_program(deepest, options, form)
    value = run.objective if run.status is Status.OPTIMAL else None
    bound = certified_bound(deepest, run) if run.status in (Status.OPTIMAL, Status.TIME_LIMIT) else None
    if run.status is Status.INFEASIBLE:
        bound = -np.inf  # the rows that take no depth (equalities, the campaigns' own) cannot hold
    sizes = np.zeros(len(form.rows))
    np.maximum.at(sizes, model.row_spec[model.row_spec >= 0], model.row_sizes()[model.row_spec >= 0])
    return Depth(value, bound, run.x[: model.shape[1]] if run.x is not None else None, sizes, run.seconds)


EDGE = 1e-9
"""A depth this close to 0 (a share of each row's size) is the edge itself: a plan that gives this
much is within any tolerance the exact curves are checked with, and no plan that gives less exists."""
_EDGE_ROUNDS = 10


def decide_edge(form: Formulation, options: SolveOptions, plan: Attempt) -> tuple[Attempt, bool]:
    """Whether a plan exists on the exact curves when the plan program says none does: the plan
    program's plan found on finer breakpoints, or infeasibility proven (the second value).

    The outer program's deepest plan sits where the exact curves' deepest one does, so refining
    the breakpoints around it (and around the plan program's) closes the two depths in on the
    exact one, about 64 times closer each round: until the plan program's reaches 0 (a plan
    exists), the outer program's is proven below 0 (none does), or both are at the edge itself
    (``EDGE``): the plan program's rows are then loosened by that hair and its plan taken.
    Returns ``plan`` with the time spent (and, proven, the breakpoints that prove it: an explanation
    finds its conflict there), and False, when the deadline or the rounds run out first.
    """
    with strict(options):
        return _decided_edge(form, options, plan)


def _decided_edge(form: Formulation, options: SolveOptions, plan: Attempt) -> tuple[Attempt, bool]:
    grids, seconds = plan.grids, plan.seconds
    for _ in range(_EDGE_ROUNDS):
        if not options.allows_more():
            break
        inner = depth(form, options, "plan", grids)
        seconds += inner.seconds
        if _within_edge(inner):
            # A MILP stops within an absolute gap of its depth: the plan program itself decides.
            share = min(max(-(inner.value or 0.0), 0.0), EDGE)
            found = attempt(loosened(form, inner.sizes, share), options, "plan", grids, seconds)
            if found.run.has_solution:
                return found, False
            seconds = found.seconds
        outer = depth(form, options, "bound", grids)
        seconds += outer.seconds
        if outer.bound is not None and outer.bound < -EDGE:
            return replace(plan, grids=grids, seconds=seconds), True
        if outer.x is None:
            break
        finer = refine_grids(grids, outer.x[: form.size], keep_ends=False)
        if inner.x is not None:
            finer = refine_grids(finer, inner.x[: form.size], keep_ends=False)
        grids = finer
    return replace(plan, seconds=seconds), False


def _within_edge(found: Depth) -> bool:
    """Whether a plan program's depth may reach the edge: found there, or bounded above it."""
    return (found.value is not None and found.value >= -EDGE) or (found.bound is not None and found.bound >= 0)


def loosened(form: Formulation, sizes: np.ndarray, share: float) -> Formulation:
    """``form`` with each floor and cap given ``share`` of its row's size (``sizes``, by row)."""
    if share <= 0:
        return form
    rows = tuple(row if row.sense == "==" else
                 replace(row, rhs=row.rhs - share * sizes[k] if row.sense == ">=" else row.rhs + share * sizes[k])
                 for k, row in enumerate(form.rows))
    return replace(form, rows=rows)


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
    the deadline, these runs share a short grace (``Deadline.graced``): a plan without a gap helps
    no one. When they find nothing in it, the plan's duals (or none) are tightened into a
    Lagrangian bound without a solver run (``dual.tightest_bound``): looser, but proven.
    """
    with graced(options):
        model = compile_model(form, "bound", grids)
        found = _solved_bound(form, options, model, plan)
        if found.value is None:
            found = replace(found, value=_unsolved_bound(model, plan, options))
        return found


def graced(options: SolveOptions) -> AbstractContextManager[None]:
    """The deadline's grace for the runs that certify a plan (nothing to do without a time limit)."""
    return options.deadline.graced() if options.deadline is not None else nullcontext()


def strict(options: SolveOptions) -> AbstractContextManager[None]:
    """An optional step's runs: none starts that the deadline cannot fit (see ``Deadline.strict``)."""
    return options.deadline.strict() if options.deadline is not None else nullcontext()


def _solved_bound(form: Formulation, options: SolveOptions, model: CompiledModel, plan: Attempt | None) -> OuterBound:
    """The outer program's bound as its solver runs find it (``outer_bound``); its value None when they
    find none, or when the grace is over before they start."""
    whole = certified_whole(model)
    folded = None if whole else _folded(model, options)
    if folded is not None and plan is not None and plan.run.row_dual is not None:
        quick = priced_bound(folded, plan.run.row_dual, plan.run.objective)
        if quick is not None or not options.allows_more():
            return quick or OuterBound(None, None, 0.0)
        run = solve_reduced(replace(folded, model=model.relaxed()), plan.run.row_dual,
                            lambda small: solve_program(small, options, form))
        if run is not None and run.row_dual is not None:
            values = (lagrangian_bound(folded, plan.run.row_dual), lagrangian_bound(folded, run.row_dual))
            return OuterBound(min(values) if model.sense == "maximize" else max(values), run.x, run.seconds)
    if whole and plan is not None and options.allows_more():
        relaxed = _relaxed_bound(model, options, form, plan.run.objective)
        if relaxed is not None:
            return relaxed
    if not options.allows_more():
        return OuterBound(None, None, 0.0)
    run = solve_program(model, options, form) if whole else solve_model(model, options, form)
    value, seconds = certified_bound(model, run), run.seconds
    if value is None and model.is_mip and options.allows_more():
        relaxed = model.relaxed()
        run = solve_program(relaxed, options, form)
        value = certified_bound(relaxed, run) if run.status is Status.OPTIMAL else None
        seconds += run.seconds
    return OuterBound(value, run.x, seconds)


_UNSOLVED_STEPS = 20


def _unsolved_bound(model: CompiledModel, plan: Attempt | None, options: SolveOptions) -> float | None:
    """A proven bound on the outer program without a solver run: its Lagrangian bound at the plan's
    duals (at none when it has none), tightened for as many steps as the time left allows (each
    about two evaluations); when the program cannot be folded, weak duality at the plan's duals."""
    folded = fold(model)
    if folded is None:
        return _weak_dual_bound(model, plan)
    duals = plan.run.row_dual if plan is not None and plan.run.row_dual is not None else np.zeros(model.shape[0])
    started = time.perf_counter()
    value = lagrangian_bound(folded, duals)
    steps = int(min(_UNSOLVED_STEPS, seconds_left(options) / (3 * (time.perf_counter() - started) + 1e-9)))
    if steps > 0:
        tightest = tightest_bound(folded, duals, steps, plan.run.objective if plan is not None else None).value
        value = min(value, tightest) if model.sense == "maximize" else max(value, tightest)
    return value if np.isfinite(value) else None


def _weak_dual_bound(model: CompiledModel, plan: Attempt | None) -> float | None:
    """The outer program's LP relaxation bounded by weak duality at the plan's duals of the rows both
    programs share (its constraint and linking rows; the ordering rows priced at 0); None without them."""
    if plan is None or plan.run.row_dual is None:
        return None
    shared = int(np.count_nonzero(model.row_spec >= 0)) + model.n_campaigns
    duals = np.zeros(model.shape[0])
    duals[:shared] = plan.run.row_dual[:shared]
    value = dual_bound(model.relaxed(), duals)
    return value if np.isfinite(value) else None


def seconds_left(options: SolveOptions) -> float:
    """Seconds until the deadline (its grace, when granted); infinite without a time limit."""
    return options.deadline.end - time.perf_counter() if options.deadline is not None else np.inf


def time_for(options: SolveOptions, seconds: float) -> bool:
    """Whether a step like one that took ``seconds`` fits before the deadline (when not, the solve
    was cut short): a refinement round started just before it would overrun it by a whole round."""
    if seconds_left(options) >= seconds:
        return True
    options.note_stop(True)
    return False


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
    campaigns (a MILP stops within its gap), and the duals that price it.

    The LP's plan is taken even when it is worth a hair less than the MILP said: a MILP's binaries
    are whole only to its tolerance, and a binary at 1e-6 lets segments fill out of order by as
    much, which the exact curves do not give (the MILP's plan can miss a floor by that hair). Part
    of certifying the plan, it runs in the deadline's grace.
    """
    run = plan.run
    if not plan.model.is_mip or run.status not in (Status.OPTIMAL, Status.TIME_LIMIT) or run.x is None:
        return plan
    if run.row_dual is not None:  # solved over its segments in doubt: already polished
        return plan
    with graced(options):
        fixed = solve_program(plan.model.with_binaries_fixed(run.x), options, form)
    seconds = plan.seconds + fixed.seconds
    if fixed.status is not Status.OPTIMAL or fixed.x is None or fixed.objective is None:
        return replace(plan, seconds=seconds)
    polished = replace(run, x=fixed.x, objective=fixed.objective, row_dual=fixed.row_dual)
    return replace(plan, run=polished, seconds=seconds)
