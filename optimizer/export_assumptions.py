"""The ``assumptions`` sheet of an export: what a plan's and a frontier's numbers rest on.

The scenario's settings, market figures, spend bounds, curves, rates and constraints (when
the scenario is given), and from the results the solver's tolerance, the certificate and the
notes. The solver settings shown are those the results were computed with: the plan's own
record where there is a plan, else the scenario's ``[solver]`` table (so a caller that solved
with other options passes the scenario with those in its ``[solver]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from optimizer.export_sheet import Cell, Kind, Sheet, kpi_kind
from optimizer.formatting import currency_symbol, within
from optimizer.glossary import OUTCOMES
from optimizer.scenario.schema import RateSpec, TabularSpec

if TYPE_CHECKING:
    from optimizer.pareto.result import Frontier
    from optimizer.plan import Plan
    from optimizer.scenario.schema import Campaign, Scenario

PARAMETERS = ("unit_cost", "max", "scale", "half", "shape", "coef", "exponent")


def assumptions_sheet(sheet: Sheet, scenario: Scenario | None, plan: Plan | None,
                      frontiers: Sequence[Frontier]) -> None:
    """Settings first (one per row), then the pools, campaigns, curves, constraints and notes as tables."""
    sheet.header(["Setting", "Value", "Detail"])
    _identity(sheet, scenario, plan, frontiers)
    if scenario is not None:
        _settings(sheet, scenario)
    _solver(sheet, scenario, plan, frontiers)
    if scenario is not None:
        _pools(sheet, scenario)
        _spend_bounds(sheet, scenario)
        _curves(sheet, scenario)
        _constraints(sheet, scenario)
    _notes(sheet, plan, frontiers)
    sheet.finish("A2")


def _setting(sheet: Sheet, name: str, value: object, kind: Kind = "text", detail: str = "") -> None:
    sheet.write([Cell(name), Cell(value, kind)])
    if detail:
        sheet.put(3, Cell(detail), fit=False)


def _identity(sheet: Sheet, scenario: Scenario | None, plan: Plan | None, frontiers: Sequence[Frontier]) -> None:
    source = scenario or plan or frontiers[0]
    name = source.name if scenario is not None else source.scenario  # type: ignore[union-attr]
    _setting(sheet, "Scenario", name)
    if scenario is not None and scenario.description:
        _setting(sheet, "Description", None, detail=scenario.description)
    _setting(sheet, "Period", source.period)
    _setting(sheet, "Currency", source.currency, detail=f"money is in {source.currency} ("
             f"{currency_symbol(source.currency).strip()}) per planning period")


def _settings(sheet: Sheet, scenario: Scenario) -> None:
    budget = scenario.budget
    total = budget.total if budget is not None else None
    unlimited = "no total: the campaigns' maxima limit spend"
    _setting(sheet, "Budget", total, "money", "" if total is not None else unlimited)
    _setting(sheet, "Spend the whole budget", "yes" if budget is not None and budget.spend_all else "no")
    max_change = budget.max_change if budget is not None else None
    _setting(sheet, "Max change per campaign", max_change, "percent",
             "from today's spend, either way" if max_change is not None else "none")
    objective = scenario.objective
    _setting(sheet, "Objective", f"{objective.sense} {objective.kpi}")
    _setting(sheet, "Traded against", objective.secondary or "", detail="what the frontier trades the objective for")


def _solver(sheet: Sheet, scenario: Scenario | None, plan: Plan | None, frontiers: Sequence[Frontier]) -> None:
    spec = scenario.solver if scenario is not None else None
    name = plan.info.solver if plan is not None else spec.name if spec is not None else None
    tolerance = plan.info.tolerance if plan is not None else spec.tolerance if spec is not None else None
    _setting(sheet, "Solver", name)
    _setting(sheet, "Solver tolerance", tolerance, "gap", "chord error per segment, as a share of each curve's range")
    if spec is not None:
        _setting(sheet, "MIP gap", spec.mip_gap, "gap", "where a campaign is solved exactly (S-shaped curves)")
        _setting(sheet, "Time limit (seconds)", spec.time_limit, "number", "" if spec.time_limit else "none")
    if plan is not None:
        _setting(sheet, "Plan status", plan.status.value, detail=plan.message)
        _setting(sheet, "Certificate gap", plan.gap, "gap", within(plan.gap))
        if plan.info.segments:
            _setting(sheet, "Segments", plan.info.segments, "count", f"solved in {plan.info.seconds:.2f} s")
    for frontier in frontiers:
        at = f" at {frontier.budget:,.0f}" if len(frontiers) > 1 and frontier.budget is not None else ""
        gaps = [p.gap for p in frontier.points if p.gap is not None]
        _setting(sheet, f"Frontier status{at}", frontier.status.value, detail=frontier.message)
        _setting(sheet, f"Frontier's largest gap{at}", max(gaps) if gaps else None, "gap",
                 f"over {len(frontier.points)} points, {frontier.solves} solves")


def _pools(sheet: Sheet, scenario: Scenario) -> None:
    if not scenario.pools:
        return
    sheet.title("Share-of-voice pools")
    sheet.header(["Pool", "Label", "Measure", "Value", "Share of market (SOM)"])
    for name, pool in scenario.pools.items():
        kind: Kind = "money" if pool.volume == "spend" else "count"
        sheet.write([Cell(name), Cell(pool.label), Cell(pool.measure.replace("_", " ")), Cell(pool.reference, kind),
                     Cell(pool.som, "percent")])


def _spend_bounds(sheet: Sheet, scenario: Scenario) -> None:
    sheet.title("Campaigns: spend per period")
    sheet.header(["Campaign", "Stage", "Channel", "Tags", "Pools", "Current", "Min", "Max", "Locked", "Max change",
                  "Observed min", "Observed max", "Notes"])
    for campaign in scenario.campaigns:
        spend = campaign.spend
        sheet.write([Cell(campaign.name), Cell(campaign.stage), Cell(campaign.channel), Cell(", ".join(campaign.tags)),
                     Cell(", ".join(campaign.pools)), Cell(spend.current, "money"), Cell(spend.min, "money"),
                     Cell(spend.max, "money"), Cell("yes" if spend.locked else None),
                     Cell(spend.max_change, "percent"), Cell(spend.observed_min, "money"),
                     Cell(spend.observed_max, "money")])
        if campaign.notes:
            sheet.put(13, Cell(campaign.notes), fit=False)


def _curves(sheet: Sheet, scenario: Scenario) -> None:
    sheet.title("Campaigns: response curves and rates")
    headers = [name.replace("_", " ").capitalize() for name in PARAMETERS]
    sheet.header(["Campaign", "Outcome", "Curve or rate", "Of", "Rate", "Rate std. error", *headers,
                  "Fitted covariance", "Points (spend: outcome)"])
    for campaign in scenario.campaigns:
        for outcome in OUTCOMES:
            spec = campaign.outcome(outcome)
            if spec is not None:
                _curve_row(sheet, campaign, outcome, spec)


def _curve_row(sheet: Sheet, campaign: Campaign, outcome: str, spec: object) -> None:
    cells = [Cell(campaign.name), Cell(outcome)]
    if isinstance(spec, RateSpec):
        rate_kind: Kind = "price" if outcome == "revenue" else "number"
        sheet.write([*cells, Cell("rate"), Cell(spec.of), Cell(spec.rate, rate_kind), Cell(spec.se, rate_kind)])
        return
    parameters = [Cell(getattr(spec, name, None), "number") for name in PARAMETERS]
    fitted = "yes" if getattr(spec, "covariance", None) is not None else None
    sheet.write([*cells, Cell(spec.curve), None, None, None, *parameters, Cell(fitted)])  # type: ignore[attr-defined]
    if isinstance(spec, TabularSpec):
        points = "; ".join(f"{s:,.10g}: {v:,.10g}" for s, v in spec.points)
        sheet.put(len(cells) + 4 + len(PARAMETERS) + 2, Cell(points), fit=False)


def _constraints(sheet: Sheet, scenario: Scenario) -> None:
    if not scenario.constraints:
        return
    sheet.title("Constraints")
    sheet.header(["Constraint", "KPI", "Applies to", "Min", "Max"])
    for index, constraint in enumerate(scenario.constraints):
        kind = kpi_kind(constraint.kpi)
        where = constraint.where.describe() if constraint.where is not None else "all campaigns"
        sheet.write([Cell(constraint.name or f"constraints[{index}]"), Cell(constraint.kpi), Cell(where),
                     Cell(constraint.min, kind), Cell(constraint.max, kind)])


def _notes(sheet: Sheet, plan: Plan | None, frontiers: Sequence[Frontier]) -> None:
    lines = list(plan.warnings) if plan is not None else []
    for frontier in frontiers:
        lines += [*frontier.warnings, *(f"the frontier moves {name}" for name in frontier.dropped)]
    lines = list(dict.fromkeys(lines))
    if lines:
        sheet.title("Notes")
        for line in lines:
            sheet.note(line)
