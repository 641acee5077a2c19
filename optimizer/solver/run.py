"""``solve``: scenario -> formulation -> compiled program -> solver -> checked, certified ``Plan``."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from optimizer.errors import ScenarioError
from optimizer.formatting import kpi_value, within
from optimizer.model.compile import CompiledModel, compile_model
from optimizer.model.evaluate import Evaluation, evaluate
from optimizer.model.formulation import ExtraRows, Formulation
from optimizer.model.refine import refine_grids
from optimizer.model.rows import formulate
from optimizer.plan import Check, Plan, ShadowPrice, SolveInfo
from optimizer.scenario.checks import check_scenario
from optimizer.scenario.schema import Scenario
from optimizer.solver.cbc import lp_names, solve_cbc, write_lp
from optimizer.solver.highs import solve_highs
from optimizer.solver.options import SolveOptions
from optimizer.solver.precheck import hard_conflicts
from optimizer.solver.results import allocation, excess_sov
from optimizer.solver.shadow import campaign_prices, constraint_prices, row_duals
from optimizer.solver.status import SolverRun, Status
from optimizer.solver.verify import row_checks, verify


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
        return _no_plan(context, Status.INFEASIBLE, "No plan exists: " + "; ".join(conflicts) + ".", 0.0, 0, ())
    grids = tuple(c.grid(options.tolerance) for c in form.campaigns)
    model = compile_model(form, "plan", grids)
    run = _run(model, options, form)
    milp_names = tuple(form.campaigns[i].name for i in model.milp)
    if not run.has_solution:
        return _no_plan(context, run.status, _no_plan_message(run), run.seconds, _segments(model), milp_names)
    model, run, grids, refine_seconds = _refine(form, options, model, run, grids)
    if options.write_lp is not None:
        write_lp(model, options.write_lp, lp_names(form, model))
    spend = np.clip(run.x[: form.size], [c.lo for c in form.campaigns], [c.hi for c in form.campaigns])
    evaluation = evaluate(form, spend)
    checks = verify(form, evaluation, options.feasibility)
    value = _reported(form, evaluation.value(form.goal.expr))
    duals = _duals(model, run, options, form)
    bound_run = _run(compile_model(form, "bound", grids), options, form)
    finite = bound_run.bound is not None and np.isfinite(bound_run.bound)
    bound = _reported(form, bound_run.bound) if finite else None
    gap = _gap(form, value, bound)
    status = run.status
    failed = [c for c in checks if not c.ok]
    if failed and status is Status.OPTIMAL:
        status = Status.NUMERICAL
    prices: list[ShadowPrice] = []
    if duals is not None:
        prices = constraint_prices(form, duals, evaluation, value) + campaign_prices(form, duals, evaluation, value)
    return Plan(
        status=status,
        message=_message(form, status, value, gap, failed),
        scenario=form.name, currency=form.currency, period=period,
        objective_kpi=form.goal.kpi, objective_sense=form.goal.sense, objective_value=value,
        bound=bound, gap=gap,
        allocation=allocation(form, evaluation, context.current, model.milp),
        kpis=evaluation.kpis(), sov=evaluation.sov,
        current_kpis=context.current.kpis(), current_sov=context.current.sov,
        shadow_prices=tuple(sorted(prices, key=lambda p: (p.kind == "campaign", -p.price))),
        checks=checks,
        info=_info(context, run.seconds + bound_run.seconds + refine_seconds, _segments(model), milp_names),
        warnings=_warnings(form, context.current, evaluation, options, milp_names),
        esov=excess_sov(form, evaluation),
    )


def _refine(form: Formulation, options: SolveOptions, model: CompiledModel, run: SolverRun,
            grids: tuple[np.ndarray, ...]) -> tuple[CompiledModel, SolverRun, tuple[np.ndarray, ...], float]:
    """Re-solve on breakpoints refined around the plan, ``options.refine`` times."""
    seconds = 0.0
    for _ in range(options.refine):
        if run.status is not Status.OPTIMAL:
            break
        finer = refine_grids(grids, run.x[: form.size])
        if all(a.size == b.size for a, b in zip(finer, grids, strict=True)):
            break
        finer_model = compile_model(form, "plan", finer)
        finer_run = _run(finer_model, options, form)
        if finer_run.status is not Status.OPTIMAL:
            seconds += finer_run.seconds
            break
        seconds += run.seconds
        model, run, grids = finer_model, finer_run, finer
    return model, run, grids, seconds


def _run(model: CompiledModel, options: SolveOptions, form: Formulation) -> SolverRun:
    if options.solver == "cbc":
        return solve_cbc(model, options, lp_names(form, model))
    return solve_highs(model, options)


def _duals(model: CompiledModel, run: SolverRun, options: SolveOptions, form: Formulation) -> np.ndarray | None:
    """Row duals per RowSpec; for a MILP, from the LP with its binaries fixed at the plan."""
    if run.status is not Status.OPTIMAL:
        return None
    row_dual = run.row_dual
    if model.is_mip:
        fixed = np.round(run.x) * model.integer
        lp = replace(
            model,
            col_lower=np.where(model.integer, fixed, model.col_lower),
            col_upper=np.where(model.integer, fixed, model.col_upper),
            integer=np.zeros_like(model.integer),
        )
        fixed_run = _run(lp, options, form)
        row_dual = fixed_run.row_dual if fixed_run.status is Status.OPTIMAL else None
    if row_dual is None:
        return None
    return row_duals(model, row_dual, len(form.rows))


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


def _no_plan_message(run: SolverRun) -> str:
    return {
        Status.INFEASIBLE: "No plan satisfies every constraint at once; relax a floor, a cap or the budget.",
        Status.UNBOUNDED: "The objective has no limit: give every campaign a spend max or set a budget total.",
        Status.TIME_LIMIT: "The solver stopped at the time limit before finding a plan; allow more time.",
        Status.INTERRUPTED: "The solve was interrupted before a plan was found.",
    }.get(run.status, f"The solver failed: {run.message}.")


def _message(form: Formulation, status: Status, value: float, gap: float | None, failed: list[Check]) -> str:
    shown = f"{kpi_value(form.goal.kpi, value, form.currency)} {form.goal.kpi}"
    certificate = within(gap)
    if status is Status.OPTIMAL:
        return f"Optimal plan: {shown}, {certificate}."
    if status is Status.NUMERICAL:
        names = "; ".join(f"{c.constraint} (got {c.value:,.4g})" for c in failed[:5])
        return f"The solver's plan failed the re-check on the exact curves: {names}."
    return f"Stopped early ({status.value}); best plan found: {shown}, {certificate}."


def _no_plan(context: _Context, status: Status, message: str, seconds: float, segments: int,
             milp: tuple[str, ...]) -> Plan:
    form = context.form
    return Plan(
        status=status, message=message, scenario=form.name, currency=form.currency, period=context.period,
        objective_kpi=form.goal.kpi, objective_sense=form.goal.sense, objective_value=None, bound=None, gap=None,
        allocation=(), kpis={}, sov={}, current_kpis=context.current.kpis(), current_sov=context.current.sov,
        shadow_prices=(), checks=(), info=_info(context, seconds, segments, milp),
    )


def _segments(model: CompiledModel) -> int:
    return int(model.segment_start[-1])


def _info(context: _Context, solver_seconds: float, segments: int, milp: tuple[str, ...]) -> SolveInfo:
    return SolveInfo(
        solver=context.options.solver, seconds=time.perf_counter() - context.started, solver_seconds=solver_seconds,
        tolerance=context.options.tolerance, segments=segments, milp_campaigns=milp,
    )


def _warnings(form: Formulation, current: Evaluation, plan: Evaluation, options: SolveOptions,
              milp: tuple[str, ...]) -> tuple[str, ...]:
    notes = [
        f"the current split breaks {spec.name} (it has {kpi_value(spec.kpi, check.value, form.currency)})"
        for spec, check in zip(form.rows, row_checks(form, current, options.feasibility), strict=True)
        if not check.ok
    ]
    if milp:
        notes.append(f"{len(milp)} campaign(s) with S-shaped or non-concave curves were solved exactly as a MILP: "
                     + ", ".join(milp[:5]) + ("..." if len(milp) > 5 else ""))
    if form.goal.sense == "maximize" and plan.totals["spend"] <= 0:
        notes.append("the plan spends nothing: no campaign can meet every cap (a CPL or CPC cap below every "
                     "campaign's cost, say); loosen the caps to buy anything")
    return tuple(notes)
