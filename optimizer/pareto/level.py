"""A level of the traded KPI in a scenario: its own floors on that KPI, a floor pinned at a level, and
the plan there (what the recommended point of a frontier is, solved as a full plan)."""

from __future__ import annotations

from optimizer.pareto.result import Frontier
from optimizer.plan import Plan
from optimizer.scenario.schema import ConstraintSpec, Scenario
from optimizer.solver.options import SolveOptions
from optimizer.solver.run import solve

_REACH_TOLERANCE = 1e-9
"""Relative: a level this close to what the scenario's own plan reaches is reached."""
RECOMMENDED_LEVEL = " at the recommended level"
"""How the floor a recommendation adds is named (after the traded KPI's label)."""


def plan_at(own: Scenario, traced: Frontier, level: float, reach: float,
            options: SolveOptions | None) -> tuple[Plan, bool]:
    """The plan at ``level`` of the traded KPI, and whether a floor was pinned there to get it.

    At a level ``own`` (the scenario as the frontier was traced) already reaches, the plan is its
    own, solved as ``solve`` solves it, so that its plan, binding constraints and prices are
    ``solve``'s. Above it, the floor binds and is pinned at the level.
    """
    if level <= reach + _REACH_TOLERANCE * max(1.0, abs(reach)):
        plan = solve(own, options)
        if plan.success:
            return plan, False
    return solve(at_level(own, traced.secondary, level, traced.secondary_label), options), True


def own_reach(traced: Frontier, floor: float | None) -> float:
    """The level of the traded KPI the scenario's own plan reaches: the lead-max end's, or the scenario's
    ``floor`` when that is higher (its plan then sits at its floor)."""
    start = traced.points[0].traded
    return start if floor is None else max(start, floor)


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


def without_floors(scenario: Scenario, kpi: str) -> Scenario:
    """``scenario`` without its floors on ``kpi`` (its caps kept): the floors a frontier moves itself."""
    kept = []
    for constraint in scenario.constraints:
        if traded_floor(constraint, kpi):
            if constraint.max is None:
                continue
            constraint = constraint.model_copy(update={"min": None})
        kept.append(constraint)
    return scenario.replace(constraints=tuple(kept))


def at_level(scenario: Scenario, kpi: str, level: float, label: str | None = None) -> Scenario:
    """``scenario`` with its floors on ``kpi`` replaced by one at ``level`` (caps on ``kpi`` kept),
    named after ``label`` (the frontier's name for the KPI, ``Search SOV``; default: ``kpi``)."""
    floor = ConstraintSpec(kpi=kpi, min=level * (1 - 1e-9), name=f"{label or kpi}{RECOMMENDED_LEVEL}")
    stripped = without_floors(scenario, kpi)
    return stripped.replace(constraints=(*stripped.constraints, floor))
