"""``frontier()`` and ``frontier_sweep()``: the public entry points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optimizer.errors import Problem, ScenarioError
from optimizer.model.rows import formulate
from optimizer.pareto.axis import axis_for
from optimizer.pareto.result import Frontier
from optimizer.pareto.sweep import Progress, trace
from optimizer.scenario.schema import BudgetSpec, ConstraintSpec, Scenario
from optimizer.solver.options import SolveOptions
from optimizer.solver.run import checked_options, constraint_keys


def frontier(scenario: Scenario, against: str | None = None, points: int = 21, options: SolveOptions | None = None,
             *, progress: Progress | None = None, recommend_at: float | None = None,
             **option_overrides: Any) -> Frontier:
    """The frontier of the scenario's primary KPI against ``against`` (default: ``objective.secondary``).

    ``against`` is ``sov.<pool>`` or another volume KPI (``clicks``, ``impressions``, ...).
    The scenario's own floors on that KPI are what the frontier moves; every other constraint
    holds at every point. ``points`` counts the points, both ends included; ``progress(done,
    total)`` is called as points are solved. ``recommend_at`` is the traded level the
    recommended point sits at (a point is solved there); by default the scenario's own floor on
    the traded KPI, or the knee when it has none.
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
    at = recommend_at if recommend_at is not None else own_floor(scenario, against)
    return trace(form, axis, options, points, scenario.period, progress, at, constraint_keys(scenario))


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


def own_floor(scenario: Scenario, against: str) -> float | None:
    """The scenario's own floor on the traded KPI, if any (the recommended point sits there; the highest
    when there are several). An ESOV floor is a floor on SOV at the pool's share of market above it."""
    floors = [_as_traded(scenario, c) for c in scenario.constraints if traded_floor(c, against)]
    return max(floors) if floors else None


def traded_floor(constraint: ConstraintSpec, against: str) -> bool:
    """Whether ``constraint`` is a floor the frontier against ``against`` moves: one on the whole plan's
    traded KPI (a pool's SOV or ESOV; a volume over all campaigns), not on a selection's."""
    if constraint.min is None:
        return False
    if against.startswith("sov."):
        return constraint.kpi in (against, "e" + against)
    return constraint.kpi == against and constraint.where is None


def _as_traded(scenario: Scenario, constraint: ConstraintSpec) -> float:
    assert constraint.min is not None
    if constraint.kpi.startswith("esov."):
        return constraint.min + (scenario.pools[constraint.kpi.removeprefix("esov.")].som or 0.0)
    return constraint.min
