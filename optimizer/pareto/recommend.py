"""The recommended point of a frontier, solved as a full plan: what a client report presents.

A frontier point carries the price of the traded KPI in its three views; the plan at the same
level adds what only a solve of its own gives: every campaign's outcomes, the binding constraints
and what relaxing each is worth, and the plan's certificate and notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from optimizer.errors import Problem, ScenarioError
from optimizer.pareto.api import frontier
from optimizer.pareto.level import RECOMMENDED_LEVEL, at_level, own_floor, own_reach, plan_at, without_floors
from optimizer.pareto.result import Frontier
from optimizer.pareto.sweep import Progress
from optimizer.pareto.text import traded_text
from optimizer.plan import Plan
from optimizer.scenario.schema import Scenario
from optimizer.solver.options import SolveOptions

KNEE = "knee"
RECOMMEND_HELP = "knee, or the traded KPI's level: sov=0.22 (also 22%), sov.search=0.22, clicks=50000"


@dataclass(frozen=True)
class Recommendation:
    """A frontier, the point recommended on it (``frontier.recommended``) and the plan at that point.

    ``basis`` says how the point was chosen, in words a report prints after "the point sits":
    ``at the knee of the frontier``, ``at the scenario's floor of 28.0%``, ``at the level asked
    for``. ``replaced_floor`` is the scenario's own floor on the traded KPI when the recommended
    level stands in for it (a report says so). ``pinned`` is False when the plan is the scenario's own
    (the level is one its own plan reaches), solved as ``solve`` solves it, so that its binding
    constraints and prices are ``solve``'s; True when a floor is pinned at a level above it.
    """

    frontier: Frontier
    plan: Plan | None
    """None when the frontier has no points (its status and message say why)."""
    basis: str
    replaced_floor: float | None = None
    pinned: bool = False

    @property
    def success(self) -> bool:
        """True when the frontier was traced and the plan at its recommended point is optimal."""
        return self.plan is not None and self.plan.success and self.frontier.success

    @property
    def point(self):
        """The recommended frontier point."""
        assert self.frontier.recommended is not None
        return self.frontier.points[self.frontier.recommended]


def parse_recommend(text: str | None) -> str | float | None:
    """``knee``, a level (``sov=0.22``, ``sov=22%``, ``sov.search=0.22``, ``clicks=50000``), or None.

    A level is returned as a number; ``check_recommend`` checks the KPI named before ``=``.
    """
    if text is None or text.strip().lower() == KNEE:
        return None if text is None else KNEE
    kpi, sep, value = text.partition("=")
    if not sep or not kpi.strip():
        raise ScenarioError([Problem("--recommend", f'cannot read "{text}"', f"give {RECOMMEND_HELP}")])
    value = value.strip().replace("_", "").replace(",", "")
    try:
        level = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        raise ScenarioError([Problem("--recommend", f'"{value}" is not a number', f"give {RECOMMEND_HELP}")]) from None
    if not math.isfinite(level) or level < 0:
        raise ScenarioError([Problem("--recommend", f"{value} is not a level", "give a level of 0 or more")])
    return level


def recommend_kpi(text: str | None) -> str | None:
    """The KPI a ``--recommend`` level names (``sov`` means the traded KPI, whatever its pool)."""
    if text is None or "=" not in text:
        return None
    kpi = text.partition("=")[0].strip()
    return None if kpi == "sov" else kpi


def check_recommend(text: str | None, traded: str | None) -> None:
    """Refuse a share (``sov=``, ``22%``) asked of a frontier that trades a volume such as clicks."""
    if text is None or "=" not in text or traded is None or traded.startswith("sov."):
        return
    kpi, _, value = text.partition("=")
    if kpi.strip().startswith("sov") or value.strip().endswith("%"):
        raise ScenarioError([Problem("--recommend", f'"{text}" asks for a share, but the frontier trades {traded}, '
                                     "a volume", f"give {traded}=N (a number of {traded})")])


def recommend(scenario: Scenario, choice: str | float | None = None, against: str | None = None, points: int = 21,
              options: SolveOptions | None = None, *, progress: Progress | None = None) -> Recommendation:
    """The frontier of ``scenario`` and the full plan at its recommended point.

    ``choice``: None for the frontier's own recommendation (the scenario's floor on the traded
    KPI, or the knee when it has none); ``"knee"``; or a level of the traded KPI (a share for
    SOV: 0.22). A level below the lead-max end is that end (the share comes free); a level no
    plan reaches is refused, with the most that can be reached. A knee or a level replaces the
    scenario's own floor on the traded KPI, which is then not traced as a point of its own.
    """
    kpi = against or scenario.objective.secondary
    floor = own_floor(scenario, kpi) if kpi is not None else None
    level = float(choice) if isinstance(choice, float | int) else None
    traced = frontier(scenario if choice is None or kpi is None else without_floors(scenario, kpi), against, points,
                      options, progress=progress, recommend_at=level, with_plan=False)
    if not traced.points:
        return Recommendation(traced, None, "")
    index, basis = _pick(traced, choice, floor)
    traced = replace(traced, recommended=index)
    point = traced.points[index]
    own = scenario if choice is None else without_floors(scenario, traced.secondary)
    plan, pinned = plan_at(own, traced, point.traded, own_reach(traced, floor if choice is None else None), options)
    traced = replace(traced, recommended_constraints=plan.shadow_prices if plan.success else ())
    replaced = floor if choice is not None and floor is not None and abs(point.traded - floor) > 1e-9 else None
    return Recommendation(traced, plan, basis, replaced, pinned)


def _pick(traced: Frontier, choice: str | float | None, floor: float | None) -> tuple[int, str]:
    points = traced.points
    if choice is None and floor is not None and traced.recommended is not None:
        at_floor = _index_at(points, floor)
        if traced.recommended != at_floor:
            return traced.recommended, _moved_off(traced, "the point at the scenario's floor", at_floor)
        return traced.recommended, _at_floor(traced, floor)
    if choice == KNEE or choice is None:
        if traced.knee is None or traced.recommended is None:
            return 0, "at the lead-max end (the frontier has no knee)"
        if traced.recommended != traced.knee:
            return traced.recommended, _moved_off(traced, "the knee of the frontier", traced.knee)
        return traced.knee, "at the knee of the frontier"
    level = float(choice)
    if level > points[-1].traded + 1e-9:
        most = points[-1].traded
        shown = f"{math.floor(most * 10_000) / 10_000:.2%}" if traced.is_share else f"{math.floor(most):,.0f}"
        asked = f"{level:.2%}" if traced.is_share else f"{level:,.0f}"
        raise ScenarioError([Problem("--recommend", f"no plan reaches {asked} {traced.secondary_label}",
                                     f"ask for at most {shown}")])
    above = [i for i, p in enumerate(points) if p.traded >= level - 1e-9]
    if above[0] == 0 and level < points[0].traded - 1e-9:
        return 0, f"at the lead-max end, which already passes the level asked for ({traded_text(traced, level)})"
    return above[0], "at the level asked for"


def _index_at(points, level: float) -> int:
    """The first point at ``level`` of the traded KPI or past it (the far end when none is)."""
    return next((i for i, p in enumerate(points) if p.traded >= level - 1e-9), len(points) - 1)


def _moved_off(traced: Frontier, what: str, beaten: int) -> str:
    """The basis of a recommendation moved off ``what`` because today's split beats it (``sweep._unbeaten``)."""
    shown = traded_text(traced, traced.points[beaten].traded)
    label = traced.secondary_label
    return (f"at the nearest point today's split does not beat (today's split beats {what}, at {shown} {label}: "
            f"at least its {traced.primary} and its {label}, at no more spend)")


def _at_floor(traced: Frontier, floor: float) -> str:
    points, shown = traced.points, traded_text(traced, floor)
    if floor <= points[0].traded + 1e-9:
        return f"at the lead-max end, which already meets the scenario's floor of {shown}"
    if floor > points[-1].traded + 1e-9:
        return f"at the far end of the frontier: the scenario's floor of {shown} is out of reach"
    return f"at the scenario's floor of {shown}"


__all__ = ["RECOMMENDED_LEVEL", "Recommendation", "at_level", "recommend", "without_floors"]
