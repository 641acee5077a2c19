"""``frontier()`` and ``frontier_sweep()``: the public entry points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from optimizer.errors import Problem, ScenarioError
from optimizer.model.rows import formulate
from optimizer.pareto.axis import axis_for
from optimizer.pareto.level import own_floor, own_reach, plan_at
from optimizer.pareto.result import Frontier
from optimizer.pareto.sweep import Progress, trace
from optimizer.scenario.schema import BudgetSpec, Scenario
from optimizer.solver.options import SolveOptions
from optimizer.solver.run import checked_options, constraint_keys


def frontier(scenario: Scenario, against: str | None = None, points: int = 21, options: SolveOptions | None = None,
             *, progress: Progress | None = None, recommend_at: float | None = None, with_plan: bool = True,
             **option_overrides: Any) -> Frontier:
    """The frontier of the scenario's primary KPI against ``against`` (default: ``objective.secondary``).

    ``against`` is ``sov.<pool>`` or another volume KPI (``clicks``, ``impressions``, ...).
    The scenario's own floors on that KPI are what the frontier moves; every other constraint
    holds at every point. ``points`` counts the points, both ends included; ``progress(done,
    total)`` is called as points are solved. ``recommend_at`` is the traded level the
    recommended point sits at (a point is solved there); by default the scenario's own floor on
    the traded KPI, or the knee when it has none. ``with_plan``: solve the plan at the recommended
    point too, for its binding constraints (``Frontier.recommended_constraints``).
    """
    options = checked_options(scenario, options, **option_overrides)
    if scenario.objective.sense != "maximize":
        raise ScenarioError([Problem("objective.minimize", "a frontier trades a maximised KPI against another, and "
                                     "this scenario minimises spend", 'set objective.maximize = "leads" (or pass '
                                     "--objective leads to solve)")], scenario.name)
    against = against or scenario.objective.secondary
    if against is None:
        raise ScenarioError([Problem("objective.secondary", "the scenario names no KPI to trade against",
                                     'set objective.secondary = "sov.search", say, or pass --against')])
    form = formulate(scenario, options.tolerance)
    try:
        axis = axis_for(form, against)
    except ValueError as error:
        raise ScenarioError([Problem("--against", str(error), "")], scenario.name) from None
    if points < 2:
        raise ScenarioError([Problem("--points", f"a frontier needs at least 2 points (got {points})", "")])
    floor = own_floor(scenario, against)
    at = recommend_at if recommend_at is not None else floor
    traced = trace(form, axis, options, points, scenario.period, progress, at, constraint_keys(scenario))
    if not with_plan or traced.recommended is None:
        return traced
    plan, _ = plan_at(scenario, traced, traced.points[traced.recommended].traded, own_reach(traced, floor), options)
    return replace(traced, recommended_constraints=plan.shadow_prices if plan.success else ())


def frontier_sweep(scenario: Scenario, budgets: Sequence[float], against: str | None = None, points: int = 21,
                   options: SolveOptions | None = None, *, progress: Progress | None = None,
                   **option_overrides: Any) -> tuple[Frontier, ...]:
    """The same frontier at several budgets: what a bigger budget buys in the traded KPI."""
    return tuple(
        frontier(with_budget(scenario, budget), against, points, options, progress=progress, **option_overrides)
        for budget in budgets
    )


def with_budget(scenario: Scenario, total: float) -> Scenario:
    """The scenario with another budget total (other budget settings kept)."""
    budget = scenario.budget or BudgetSpec()
    return scenario.replace(budget=budget.model_copy(update={"total": float(total)}))
