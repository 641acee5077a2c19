"""``solve``: scenario -> formulation -> compiled program -> solver -> checked, certified ``Plan``."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from optimizer.errors import ScenarioError
from optimizer.model.campaigns import campaign_grids
from optimizer.model.evaluate import Evaluation, evaluate, goal_reach
from optimizer.model.formulation import ExtraRows, Formulation, RowSpec
from optimizer.model.refine import refine_grids
from optimizer.model.rows import formulate
from optimizer.plan import Explanation, Plan, SolveInfo
from optimizer.scenario.checks import check_scenario
from optimizer.scenario.schema import Scenario
from optimizer.solver.cbc import lp_names, write_lp
from optimizer.solver.certificate import NEGLIGIBLE, relative_gap
from optimizer.solver.explain import explain
from optimizer.solver.messages import no_plan_message, plan_message, plan_notes
from optimizer.solver.options import SolveOptions
from optimizer.solver.precheck import hard_conflicts
from optimizer.solver.prices import shadow_prices
from optimizer.solver.programs import (
    Attempt,
    OuterBound,
    attempt,
    outer_bound,
    polish,
    refine,
    rescue,
    strict,
    time_for,
)
from optimizer.solver.results import allocation, current_breaks, excess_sov
from optimizer.solver.verify import verify
from optimizer.status import Status

_log = logging.getLogger(__name__)
Stages = Callable[[str], None]
STAGES = ("formulating", "solving", "checking reach", "explaining", "refining", "certifying", "checking")
"""The stages a solve reports, in order (``checking reach`` and ``explaining`` only when no plan is found at first)."""


def solve(scenario: Scenario, options: SolveOptions | None = None, *, extra_rows: ExtraRows | None = None,
          progress: Stages | None = None, **option_overrides: Any) -> Plan:
    """The optimal budget split for ``scenario``, checked on the exact curves and certified.

    ``options`` (or keyword overrides such as ``solver="cbc"``, ``tolerance=1e-4``) default to
    the scenario's ``[solver]`` settings. ``extra_rows(formulation)`` may return more
    ``RowSpec`` s: the hook for constraints a planning tool adds. Infeasible and unbounded
    scenarios give a ``Plan`` with that status; bad input raises ``ScenarioError``.
    ``progress(stage)`` is called as each stage begins (see ``STAGES``); Ctrl-C raises
    ``KeyboardInterrupt`` between solver runs, with nothing written.
    """
    options = checked_options(scenario, options, **option_overrides).started()
    _report(progress, "formulating")
    form = formulate(scenario, options.tolerance)
    if extra_rows is not None:
        form = form.with_rows(extra_rows(form))
    plan = solve_formulation(form, options, period=scenario.period, keys=constraint_keys(scenario), progress=progress)
    _log.info("solved %r with %s: %s in %.2f s", scenario.name, plan.info.solver, plan.status.value, plan.info.seconds)
    return plan


def _report(progress: Stages | None, stage: str) -> None:
    if progress is not None:
        progress(stage)


def checked_options(scenario: Scenario, options: SolveOptions | None = None, **option_overrides: Any) -> SolveOptions:
    """The options to solve ``scenario`` with, once it has passed every check (``ScenarioError`` if not).

    ``options`` default to the scenario's ``[solver]`` settings; keyword overrides win over either.
    """
    problems = check_scenario(scenario)
    if problems:
        raise ScenarioError(problems, scenario.name)
    if options is None:
        return SolveOptions.for_scenario(scenario, **option_overrides)
    return replace(options, **option_overrides) if option_overrides else options


def constraint_keys(scenario: Scenario) -> dict[int, str]:
    """Each constraint's ``--set`` prefix: ``constraints."CPL cap"`` when its name can be typed so
    (unique, without quotes or ``=``), else ``constraints[2]``."""
    counts = Counter(c.name for c in scenario.constraints)
    return {index: f'constraints."{c.name}"' if _typeable(c.name) and counts[c.name] == 1 else f"constraints[{index}]"
            for index, c in enumerate(scenario.constraints)}


def _typeable(name: str | None) -> bool:
    return bool(name) and not any(character in name for character in '"=\\')


def explain_infeasible(scenario: Scenario, options: SolveOptions | None = None, **option_overrides: Any) -> Explanation:
    """Why ``scenario`` has no plan, and the smallest change to each conflicting constraint that fixes it.

    For a scenario that has a plan, the explanation's conflict is empty.
    """
    options = checked_options(scenario, options, **option_overrides)
    form = formulate(scenario, options.tolerance)
    keys = constraint_keys(scenario)
    return hard_conflicts(form, keys) or explain(form, options, keys, _deciding_grids(form, options))


def _deciding_grids(form: Formulation, options: SolveOptions) -> tuple[np.ndarray, ...]:
    """The breakpoints on which the plan program finds a plan or the outer program proves none exists
    (``rescue``: refined where a floor or cap sits at the edge of what is reachable)."""
    plan = attempt(form, options, "plan", campaign_grids(form.campaigns, options.tolerance))
    if plan.run.status is Status.INFEASIBLE:
        plan, _ = rescue(form, options, plan)
    return plan.grids


def conflicts_before_solving(scenario: Scenario) -> Explanation | None:
    """Bounds that rule out any plan on their own (a min above its max, locked or minimum spend
    over the budget), found without solving; None when there are none."""
    return hard_conflicts(formulate(scenario), constraint_keys(scenario))


@dataclass(frozen=True)
class _Context:
    form: Formulation
    options: SolveOptions
    period: str | None
    started: float
    current: Evaluation
    progress: Stages | None = None


def solve_formulation(form: Formulation, options: SolveOptions, period: str | None = None,
                      keys: dict[int, str] | None = None, progress: Stages | None = None) -> Plan:
    """Solve an already formulated problem; ``keys`` name constraints in explanations (see ``constraint_keys``)."""
    if options.deadline is None:
        options = options.started()
    current_spend = np.array([c.current for c in form.campaigns])
    # With a time limit, the clock runs from where its deadline started (the formulation included).
    started = options.deadline.started if options.deadline is not None else time.perf_counter()
    context = _Context(form, options, period, started, evaluate(form, current_spend), progress)
    conflicts = hard_conflicts(form, keys)
    if conflicts is not None:
        return _no_plan(context, Status.INFEASIBLE, conflicts.message, None, conflicts)
    grids = campaign_grids(form.campaigns, options.tolerance)
    _report(progress, "solving")
    plan = attempt(form, options, "plan", grids)
    proven = True
    if plan.run.status is Status.INFEASIBLE:
        _report(progress, "checking reach")
        plan, proven = rescue(form, options, plan)
    if plan.run.status is Status.INFEASIBLE and not proven:
        # Neither a plan nor a proof that none exists: a time limit, or the edge beyond the solver's precision.
        status = Status.TIME_LIMIT if options.cut_short else Status.NUMERICAL
        return _no_plan(context, status, no_plan_message(status if options.cut_short else Status.INFEASIBLE,
                                                         proven, options), plan)
    if plan.run.status is Status.INFEASIBLE:
        _report(progress, "explaining")
        # The explanation's runs are many and small: each gets the time limit, not what is left of it.
        explanation = explain(form, replace(options, deadline=None), keys, plan.grids)
        return _no_plan(context, Status.INFEASIBLE, explanation.message, plan, explanation)
    if not plan.run.has_solution:
        return _no_plan(context, plan.run.status, no_plan_message(plan.run.status, proven, options), plan)
    _report(progress, "refining")
    plan = refine(form, options, plan)
    if options.write_lp is not None:
        write_lp(plan.model, options.write_lp, lp_names(form, plan.model))
    return _certified_plan(context, plan)


def _certified_plan(context: _Context, plan: Attempt) -> Plan:
    """Evaluate the plan on the exact curves, re-check it, bound it, price its constraints."""
    form, options = context.form, context.options
    _report(context.progress, "certifying")
    plan = polish(form, options, plan)
    plan, outer, raw_bound = _close_gap(context, plan, outer_bound(form, options, plan.grids, plan))
    plan = _meeting_rows(context, plan)
    _report(context.progress, "checking")
    evaluation = _evaluate(form, plan)
    checks = verify(form, evaluation, options.feasibility)
    raw_value = evaluation.value(form.goal.expr)
    value = _reported(form, raw_value)
    notes: tuple[str, ...] = ()
    contradiction = _contradiction(form, raw_value, raw_bound)
    if 0 < contradiction <= _TRUSTED_SLIP:
        notes = (f"the solver's bound fell {contradiction:.2g} (relative) below this verified plan, within its "
                 "numerical precision: no certificate is given",)
        raw_bound = None
    bound = _reported(form, raw_bound) if raw_bound is not None else None
    gap = _gap(form, value, bound)
    failed = [c for c in checks if not c.ok]
    status = plan.run.status
    if status is Status.OPTIMAL and (failed or contradiction > _TRUSTED_SLIP):
        status = Status.NUMERICAL
    elif status is Status.OPTIMAL and options.cut_short:
        status = Status.TIME_LIMIT
    milp = tuple(form.campaigns[i].name for i in plan.model.milp)
    return Plan(
        status=status,
        message=plan_message(form, status, value, gap, failed),
        scenario=form.name, currency=form.currency, period=context.period,
        objective_kpi=form.goal.kpi, objective_sense=form.goal.sense, objective_value=value,
        bound=bound, gap=gap,
        allocation=allocation(form, evaluation, context.current, plan.model.milp),
        kpis=evaluation.kpis(), sov=evaluation.sov,
        current_kpis=context.current.kpis(), current_sov=context.current.sov,
        shadow_prices=shadow_prices(form, options, plan, evaluation, raw_value),
        checks=checks,
        info=_info(context, plan.seconds + outer.seconds, plan),
        warnings=plan_notes(form, context.current, evaluation, options, milp) + notes,
        esov=excess_sov(form, evaluation), current_breaks=current_breaks(form, context.current, options.feasibility),
    )


def _evaluate(form: Formulation, plan: Attempt) -> Evaluation:
    """The plan's spend split (clipped to the bounds against solver round-off) on the exact curves."""
    lo, hi = [c.lo for c in form.campaigns], [c.hi for c in form.campaigns]
    return evaluate(form, np.clip(plan.run.x[: form.size], lo, hi))


_REPAIRS = 2


def _meeting_rows(context: _Context, plan: Attempt) -> Attempt:
    """The plan, or when it breaks a row on the exact curves (a solver's tolerance let a MILP's segments
    fill a hair out of order, say), the plan program re-solved with the rows it breaks tightened by twice
    the breach: a plan's floors and caps hold on the exact curves, not only on its segments."""
    form, options = context.form, context.options
    for _ in range(_REPAIRS):
        evaluation = _evaluate(form, plan)
        breaches = {k: _breach(row, evaluation, options.feasibility) for k, row in enumerate(form.rows)}
        breaches = {k: breach for k, breach in breaches.items() if breach > 0}
        if not breaches:
            break
        rows = tuple(replace(row, rhs=row.rhs + 2 * breaches[k] * (1 if row.sense == ">=" else -1))
                     if k in breaches and row.sense != "==" else row for k, row in enumerate(form.rows))
        tightened = replace(form, rows=rows)
        with strict(options):
            candidate = polish(tightened, options, attempt(tightened, options, "plan", plan.grids, plan.seconds))
        if not candidate.run.has_solution:
            break
        plan = candidate
    return plan


def _breach(row: RowSpec, evaluation: Evaluation, feasibility: float) -> float:
    """How far past its bound ``row`` is at the evaluated plan (0 within the re-check's tolerance)."""
    value = evaluation.value(row.expr)
    slack = feasibility * max(1.0, abs(row.rhs), evaluation.magnitude(row.expr))
    beyond = {">=": row.rhs - value, "<=": value - row.rhs, "==": abs(value - row.rhs)}[row.sense]
    return beyond if beyond > slack else 0.0


_GAP_TARGET = 1e-4
_GAP_ROUNDS = 4


def _close_gap(context: _Context, plan: Attempt, bound: OuterBound) -> tuple[Attempt, OuterBound, float | None]:
    """While the certificate is loose, refine around both the plan and the bound's solution and solve again.

    A loose gap means the plan program's segments near the optimum were too coarse to see it
    (a floor that admits only a sliver of spend, say); the outer program's solution shows where
    to look. Every bound found is valid, so the tightest is kept, with the best plan.
    """
    form, options = context.form, context.options
    best = bound.value
    for _ in range(_GAP_ROUNDS):
        gap = _gap(form, _evaluate(form, plan).value(form.goal.expr), best)
        outer_x = bound.x
        if best is None or gap is None or gap <= _GAP_TARGET or outer_x is None or not options.allows_more() \
                or not time_for(options, 2 * plan.run.seconds):
            break
        grids = refine_grids(plan.grids, plan.run.x[: form.size], keep_ends=False)
        grids = refine_grids(grids, outer_x[: form.size], keep_ends=False)
        with strict(options):
            candidate = polish(form, options, attempt(form, options, "plan", grids, plan.seconds, plan.run.row_dual))
        if candidate.run.status is not Status.OPTIMAL:
            break
        bound = outer_bound(form, options, grids, candidate)
        found = bound.value
        if found is not None:
            best = min(best, found) if form.goal.sense == "maximize" else max(best, found)
        if _better(form, candidate, plan):
            plan = candidate
    return plan, bound, best


def _better(form: Formulation, candidate: Attempt, plan: Attempt) -> bool:
    new, old = (_evaluate(form, a).value(form.goal.expr) for a in (candidate, plan))
    return new > old if form.goal.sense == "maximize" else new < old


_TRUSTED_SLIP = 1e-2
"""A bound this far (relative) on the wrong side of a verified plan is a solver's round-off: the plan
stands without a certificate. Further, the solver's numbers cannot be trusted at all."""


def _contradiction(form: Formulation, value: float, bound: float | None) -> float:
    """How far (relative) a proven bound lies on the wrong side of a verified plan; 0 when it does not."""
    if bound is None:
        return 0.0
    wrong = value - bound if form.goal.sense == "maximize" else bound - value
    # A plan worth next to nothing is measured against the goal's reach, as its gap is (``relative_gap``).
    reach = goal_reach(form)
    scale = abs(value) if abs(value) >= NEGLIGIBLE * reach else max(reach, 1e-300)
    return max(wrong - 1e-9 * scale, 0.0) / scale


def _reported(form: Formulation, value: float) -> float:
    """The goal's value as reported: a pool's share of voice rather than its volume."""
    if form.goal.pool is None:
        return value
    return form.pools[form.goal.pool].share(value)


def _gap(form: Formulation, value: float, bound: float | None) -> float | None:
    return relative_gap(value, bound, form.goal.sense, _reported(form, goal_reach(form)))


def _no_plan(context: _Context, status: Status, message: str, plan: Attempt | None,
             explanation: Explanation | None = None) -> Plan:
    form = context.form
    return Plan(
        status=status, message=message, scenario=form.name, currency=form.currency, period=context.period,
        objective_kpi=form.goal.kpi, objective_sense=form.goal.sense, objective_value=None, bound=None, gap=None,
        allocation=(), kpis={}, sov={}, current_kpis=context.current.kpis(), current_sov=context.current.sov,
        shadow_prices=(), checks=(), info=_info(context, plan.seconds if plan else 0.0, plan), explanation=explanation,
    )


def _info(context: _Context, solver_seconds: float, plan: Attempt | None) -> SolveInfo:
    segments = int(plan.model.segment_start[-1]) if plan is not None else 0
    milp = tuple(context.form.campaigns[i].name for i in plan.model.milp) if plan is not None else ()
    return SolveInfo(
        solver=context.options.solver, seconds=time.perf_counter() - context.started, solver_seconds=solver_seconds,
        tolerance=context.options.tolerance, segments=segments, milp_campaigns=milp,
    )
