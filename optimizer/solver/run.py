"""``solve``: scenario -> formulation -> compiled program -> solver -> checked, certified ``Plan``."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from optimizer.errors import ScenarioError
from optimizer.model.evaluate import Evaluation, evaluate
from optimizer.model.formulation import ExtraRows, Formulation
from optimizer.model.rows import formulate
from optimizer.plan import Plan, ShadowPrice, SolveInfo
from optimizer.scenario.checks import check_scenario
from optimizer.scenario.schema import Scenario
from optimizer.solver.cbc import lp_names, write_lp
from optimizer.solver.messages import no_plan_message, plan_message, plan_notes
from optimizer.solver.options import SolveOptions
from optimizer.solver.precheck import hard_conflicts
from optimizer.solver.programs import Attempt, attempt, certified_bound, model_duals, refine, rescue
from optimizer.solver.results import allocation, excess_sov
from optimizer.solver.shadow import campaign_prices, constraint_prices, spec_duals
from optimizer.solver.verify import verify
from optimizer.status import Status


def solve(scenario: Scenario, options: SolveOptions | None = None, *, extra_rows: ExtraRows | None = None,
          **option_overrides: Any) -> Plan:
    """The optimal budget split for ``scenario``, checked on the exact curves and certified.

    ``options`` (or keyword overrides such as ``solver="cbc"``, ``tolerance=1e-4``) default to
    the scenario's ``[solver]`` settings. ``extra_rows(formulation)`` may return more
    ``RowSpec`` s: the hook for constraints a planning tool adds. Infeasible and unbounded
    scenarios give a ``Plan`` with that status; bad input raises ``ScenarioError``.
    """
    problems = check_scenario(scenario)
    if problems:
        raise ScenarioError(problems, scenario.name)
    if options is None:
        options = SolveOptions.for_scenario(scenario, **option_overrides)
    elif option_overrides:
        options = replace(options, **option_overrides)
    form = formulate(scenario, options.tolerance)
    if extra_rows is not None:
        form = form.with_rows(extra_rows(form))
    return solve_formulation(form, options, period=scenario.period)


@dataclass(frozen=True)
class _Context:
    form: Formulation
    options: SolveOptions
    period: str | None
    started: float
    current: Evaluation


def solve_formulation(form: Formulation, options: SolveOptions, period: str | None = None) -> Plan:
    """Solve an already formulated problem (the frontier re-solves with other bounds)."""
    current_spend = np.array([c.current for c in form.campaigns])
    context = _Context(form, options, period, time.perf_counter(), evaluate(form, current_spend))
    conflicts = hard_conflicts(form)
    if conflicts:
        return _no_plan(context, Status.INFEASIBLE, "No plan exists: " + "; ".join(conflicts) + ".", None)
    grids = tuple(c.grid(options.tolerance) for c in form.campaigns)
    plan = attempt(form, options, "plan", grids)
    proven = True
    if plan.run.status is Status.INFEASIBLE:
        plan, proven = rescue(form, options, plan)
    if not plan.run.has_solution:
        return _no_plan(context, plan.run.status, no_plan_message(plan.run.status, proven, options), plan)
    plan = refine(form, options, plan)
    if options.write_lp is not None:
        write_lp(plan.model, options.write_lp, lp_names(form, plan.model))
    return _certified_plan(context, plan)


def _certified_plan(context: _Context, plan: Attempt) -> Plan:
    """Evaluate the plan on the exact curves, re-check it, bound it, price its constraints."""
    form, options = context.form, context.options
    lo, hi = [c.lo for c in form.campaigns], [c.hi for c in form.campaigns]
    evaluation = evaluate(form, np.clip(plan.run.x[: form.size], lo, hi))
    checks = verify(form, evaluation, options.feasibility)
    raw_value = evaluation.value(form.goal.expr)
    bound_attempt = attempt(form, options, "bound", plan.grids)
    raw_bound = certified_bound(bound_attempt.model, bound_attempt.run)
    value = _reported(form, raw_value)
    bound = _reported(form, raw_bound) if raw_bound is not None else None
    gap = _gap(form, value, bound)
    failed = [c for c in checks if not c.ok]
    status = plan.run.status
    if status is Status.OPTIMAL and (failed or _bound_contradicts(form, raw_value, raw_bound)):
        status = Status.NUMERICAL
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
        shadow_prices=_prices(context, plan, evaluation, raw_value),
        checks=checks,
        info=_info(context, plan.seconds + bound_attempt.run.seconds, plan),
        warnings=plan_notes(form, context.current, evaluation, options, milp),
        esov=excess_sov(form, evaluation),
    )


def _prices(context: _Context, plan: Attempt, evaluation: Evaluation, value: float) -> tuple[ShadowPrice, ...]:
    duals = model_duals(plan.model, plan.run, context.options, context.form)
    if duals is None:
        return ()
    per_spec = spec_duals(plan.model, duals, len(context.form.rows))
    prices = constraint_prices(context.form, per_spec, evaluation, value)
    prices += campaign_prices(context.form, per_spec, evaluation, value)
    return tuple(sorted(prices, key=lambda p: (p.kind == "campaign", -p.price)))


def _bound_contradicts(form: Formulation, value: float, bound: float | None) -> bool:
    """A proven bound on the wrong side of a verified plan means a solver's numbers are off."""
    if bound is None:
        return False
    slack = 1e-6 * max(1.0, abs(value))
    return bound < value - slack if form.goal.sense == "maximize" else bound > value + slack


def _reported(form: Formulation, value: float) -> float:
    """The goal's value as reported: a pool's share of voice rather than its volume."""
    if form.goal.pool is None:
        return value
    return form.pools[form.goal.pool].share(value)


def _gap(form: Formulation, value: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    distance = bound - value if form.goal.sense == "maximize" else value - bound
    return max(distance, 0.0) / max(abs(value), 1e-9)


def _no_plan(context: _Context, status: Status, message: str, plan: Attempt | None) -> Plan:
    form = context.form
    return Plan(
        status=status, message=message, scenario=form.name, currency=form.currency, period=context.period,
        objective_kpi=form.goal.kpi, objective_sense=form.goal.sense, objective_value=None, bound=None, gap=None,
        allocation=(), kpis={}, sov={}, current_kpis=context.current.kpis(), current_sov=context.current.sov,
        shadow_prices=(), checks=(), info=_info(context, plan.seconds if plan else 0.0, plan),
    )


def _info(context: _Context, solver_seconds: float, plan: Attempt | None) -> SolveInfo:
    segments = int(plan.model.segment_start[-1]) if plan is not None else 0
    milp = tuple(context.form.campaigns[i].name for i in plan.model.milp) if plan is not None else ()
    return SolveInfo(
        solver=context.options.solver, seconds=time.perf_counter() - context.started, solver_seconds=solver_seconds,
        tolerance=context.options.tolerance, segments=segments, milp_campaigns=milp,
    )
