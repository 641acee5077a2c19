"""The client report as a JSON document (``tradeoff report --json``): what the pages say, with its figures.

Every figure is the one the pages show, taken from the same place (``report_content``'s sources: the
recommended ``Plan`` and its ``Frontier`` point), as numbers rather than formatted text; the
sentences are the pages' own. ``optimizer.documents.ReportDocument`` is its published shape.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from optimizer.pareto.recommend import Recommendation
from optimizer.pareto.text import budget_per_step, lost_per_step, step_text
from optimizer.plan import SCHEMA_VERSION, FiniteStep, Plan, json_safe
from optimizer.plan_text import shown_price
from optimizer.report.content import (
    ReportContent,
    cost_per_unit,
    outcome,
    report_constraints,
    stage_sums,
    unit_cost_kpi,
)


@dataclass(frozen=True)
class RecommendedPoint:
    """The point the report recommends, and why it was chosen."""

    index: int
    """The point's index among the frontier's points (from the primary KPI's maximum)."""
    traded: float | None
    """The traded KPI's level at the point (a fraction for a share: 0.28 is 28%)."""
    primary: float | None
    """The primary KPI's value at the point, on the frontier."""
    basis: str
    """Why this point, as the report words it after "the point sits": ``at the knee of the frontier``."""
    replaced_floor: float | None
    """The scenario's own floor on the traded KPI when the recommended level stands in for it; else null."""
    pinned: bool
    """True when the plan is the scenario with a floor pinned at the point's level (a level above what the
    scenario's own plan reaches); false when it is the scenario's own plan, solved as ``tradeoff solve``
    solves it."""


@dataclass(frozen=True)
class PriceView:
    """One of the views of the price of the traded KPI at the recommended point, as the report states it."""

    view: Literal["fixed_budget", "constant_primary", "inside_pool"]
    sentence: str
    """The report's sentence."""
    price: float | None
    """fixed_budget: the primary KPI lost per ``step`` at a fixed budget; constant_primary: the extra budget
    per further ``step`` at constant primary KPI; inside_pool: the pool's marginal CPC."""
    unit: str
    """What ``price`` is in: ``leads per point of Search SOV``, ``USD per point of Search SOV``, ``USD per click``."""
    amount: float | None
    """fixed_budget: the primary KPI given up against the plan with the most of it; constant_primary: the
    extra budget that keeps that plan's primary KPI at this level; inside_pool: the pool's average CPC."""


@dataclass(frozen=True)
class BindingConstraint:
    """A binding constraint of the recommended plan and what relaxing it is worth, in the page's units."""

    constraint: str
    kind: str
    kpi: str
    limit: float | None
    """The constraint's bound (a fraction for a share)."""
    worth: float | None
    """What relaxing it by the step ``unit`` names is worth (the figure the page shows, unrounded); null
    where that rate is too steep to quote (then ``steep``)."""
    unit: str
    """e.g. ``leads per extra $1,000 of budget``, ``leads per SOV point``."""
    steep: FiniteStep | None = None
    """Where ``worth`` is null: a finite relaxation (in the steps the plan's JSON ``unit`` is per) and what it gains."""


@dataclass(frozen=True)
class StageRow:
    """Spend by funnel stage, today and recommended, and the primary KPI the plan buys there."""

    stage: str
    current_spend: float | None
    spend: float | None
    share: float | None
    """The stage's share of the plan's spend (a fraction)."""
    primary: float | None


@dataclass(frozen=True)
class CampaignRow:
    """A campaign today and recommended (every campaign; the page lists the largest moves)."""

    campaign: str
    stage: str
    current_spend: float | None
    spend: float | None
    primary: float | None
    """The campaign's amount of the primary KPI under the plan."""
    cost_per_primary: float | None
    """The cost per unit of the primary KPI the document's ``cost_kpi`` names (CPL for leads); ROAS for revenue."""
    held_by: str | None
    """The bound the campaign sits on (``max``, ``min``, ``locked``, ``max_change``, ``budget``), or null."""


def report_dict(content: ReportContent, recommendation: Recommendation) -> dict[str, Any]:
    """The report of ``recommendation`` as JSON-safe data (``"kind": "report"``, schema ``report``)."""
    plan, traced = recommendation.plan, recommendation.frontier
    assert plan is not None, "no report without a plan"
    cost = unit_cost_kpi(traced.primary)
    data = {
        "schema_version": SCHEMA_VERSION, "kind": "report",
        "scenario": {"name": plan.scenario, "currency": plan.currency, "period": plan.period},
        "title": content.title, "subtitle": content.subtitle, "headline": content.headline,
        "subhead": content.subhead, "primary": traced.primary, "secondary": traced.secondary,
        "secondary_label": traced.secondary_label, "is_share": traced.is_share, "cost_kpi": cost or "roas",
        "recommended": asdict(_recommended(recommendation)),
        "prices": [asdict(view) for view in price_views(recommendation, content.prices)],
        "binding_constraints": [asdict(row) for row in binding_constraints(recommendation)],
        "stages": [asdict(row) for row in stage_rows(plan, traced.primary)],
        "campaigns": [asdict(row) for row in campaign_rows(plan, traced.primary)],
        "notes": list(content.notes), "assumptions": list(content.assumptions),
        "plan": plan.to_dict(), "footer": content.footer,
    }
    return json_safe(data)


def _recommended(recommendation: Recommendation) -> RecommendedPoint:
    traced, point = recommendation.frontier, recommendation.point
    assert traced.recommended is not None
    return RecommendedPoint(traced.recommended, point.traded, point.primary, recommendation.basis,
                            recommendation.replaced_floor, recommendation.pinned)


def price_views(recommendation: Recommendation, sentences: tuple[str, ...]) -> list[PriceView]:
    """The report's price views (``price_sentences``) with their figures."""
    traced, point = recommendation.frontier, recommendation.point
    first, step, c = traced.points[0], step_text(traced), traced.currency
    views = [
        PriceView("fixed_budget", sentences[0], lost_per_step(traced, point), f"{traced.primary} per {step}",
                  first.primary - point.primary),
        PriceView("constant_primary", sentences[1], budget_per_step(traced, point), f"{c} per {step}",
                  point.extra_budget),
    ]
    if traced.is_share:
        views.append(PriceView("inside_pool", sentences[2], point.pool_marginal_cpc, f"{c} per click", point.pool_cpc))
    return views


def binding_constraints(recommendation: Recommendation) -> list[BindingConstraint]:
    """Every binding constraint of the recommended plan, priced as the page prices it."""
    plan, c = recommendation.plan, recommendation.frontier.currency
    assert plan is not None
    rows = []
    for price in report_constraints(plan, recommendation.frontier, recommendation.point):
        worth, unit = shown_price(price, c)
        rows.append(BindingConstraint(price.constraint, price.kind, price.kpi, price.bound, worth, unit, price.steep))
    return rows


def stage_rows(plan: Plan, primary: str) -> list[StageRow]:
    """Spend by funnel stage, today and recommended (``stage_table``'s figures)."""
    now, new, bought = stage_sums(plan, primary)
    total = sum(new.values())
    return [StageRow(stage, now[stage], new[stage], new[stage] / total if total else math.nan, bought[stage])
            for stage in new]


def campaign_rows(plan: Plan, primary: str) -> list[CampaignRow]:
    """Every campaign today and recommended, in the plan's order."""
    return [CampaignRow(r.campaign, r.stage, r.current_spend, r.spend, outcome(r, primary),
                        cost_per_unit(primary, r.spend, outcome(r, primary)), r.at_bound or None)
            for r in plan.allocation]
