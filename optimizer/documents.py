"""The JSON documents results are written as: the types ``Plan.to_dict()``, ``Frontier.to_dict()`` and a
budget sweep return, from which ``optimizer.schemas`` generates the published JSON Schemas.

Nested records are the result dataclasses themselves (``asdict`` writes them field by field), so a
field added to one is in the schema at once; a key added to a ``to_dict`` without its place here is
refused by the schema, and the tests say so. Floats that are not finite are written as null.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field
from typing_extensions import TypedDict  # pydantic reads TypedDicts from typing_extensions on 3.11

from optimizer.glossary import GLOSSARY, RATIOS, VOLUMES
from optimizer.pareto.result import BandPoint, CampaignCurve, CurrentPosition, FrontierPoint
from optimizer.plan import CampaignResult, Check, Explanation, ShadowPrice, SolveInfo, Uncertainty
from optimizer.report.document import BindingConstraint, CampaignRow, PriceView, RecommendedPoint, StageRow
from optimizer.status import Status

CONFIG = ConfigDict(extra="forbid", use_attribute_docstrings=True)
"""Closed objects (the result dataclasses nested in them too), described by their docstrings."""


class ScenarioHeading(TypedDict):
    """The scenario a result belongs to."""

    __pydantic_config__ = CONFIG  # type: ignore[misc]
    name: str
    currency: str
    """ISO 4217 code, e.g. ``USD``: every amount of the document is in it."""
    period: str | None


class Objective(TypedDict):
    """What the plan optimised, and the value it reached."""

    __pydantic_config__ = CONFIG  # type: ignore[misc]
    kpi: str
    """A volume KPI (``leads``, ``mqls``, ...), ``sov.<pool>``, or ``spend`` when minimised."""
    sense: Literal["maximize", "minimize"]
    value: float | None
    """The objective on the exact curves (a share for ``sov.<pool>``); null when there is no plan."""


def _kpi(name: str) -> object:
    kpi = GLOSSARY[name]
    return Annotated[float | None, Field(description=f"{kpi.label}: {kpi.formula} ({kpi.unit})")]


_TOTALS = {name: _kpi(name) for name in (*VOLUMES, *RATIOS)}
_BY_POOL = dict[str, float | None]

# One key per volume and ratio of the glossary, so a KPI added there is in the schema too; all required.
PlanKPIs = TypedDict("PlanKPIs", {**_TOTALS, "sov": _BY_POOL, "esov": _BY_POOL})  # type: ignore[misc]
PlanKPIs.__doc__ = ("The plan's KPIs: each volume and ratio of the glossary (null when there is no plan); ``sov`` "
                    "as ``{pool: share}`` for every pool of the scenario (each null when there is no plan); ``esov`` "
                    "as ``{pool: SOV minus share of market}`` for the pools with a share of market (empty when "
                    "there is no plan). Shares are fractions: 0.28 is 28%.")
PlanKPIs.__pydantic_config__ = CONFIG  # type: ignore[attr-defined]

CurrentKPIs = TypedDict("CurrentKPIs", {**_TOTALS, "sov": _BY_POOL})  # type: ignore[misc]
CurrentKPIs.__doc__ = ("Today's split evaluated the same way: each volume and ratio of the glossary, and ``sov`` "
                       "for every pool.")
CurrentKPIs.__pydantic_config__ = CONFIG  # type: ignore[attr-defined]


class PlanDocument(TypedDict):
    """A plan: ``tradeoff solve --format json``, ``Plan.to_dict()``."""

    __pydantic_config__ = CONFIG  # type: ignore[misc]
    schema_version: str
    scenario: ScenarioHeading
    status: Status
    message: str
    """One sentence for people: the result, or why there is none."""
    objective: Objective
    gap: float | None
    """Relative distance from the plan to a proven bound on the true optimum (0.0003: within 0.03%)."""
    bound: float | None
    """The proven bound on the objective."""
    kpis: PlanKPIs
    current: CurrentKPIs
    current_breaks: list[str]
    """The constraints today's split breaks (``budget <= $200,000`` when it overspends): where there are any,
    today's figures are no plan the plan is compared with."""
    allocation: list[CampaignResult]
    """One record per campaign (empty when there is no plan)."""
    shadow_prices: list[ShadowPrice]
    """What relaxing each binding constraint is worth."""
    checks: list[Check]
    solver: SolveInfo
    warnings: list[str]
    explanation: Explanation | None
    """Why no plan exists, and what would make one possible; null when there is a plan."""
    uncertainty: Uncertainty | None
    """With ``--uncertainty N``: the plan's figures over draws of its fitted curves; else null."""


class FrontierDocument(TypedDict):
    """A frontier: ``tradeoff frontier --format json``, ``Frontier.to_dict()``."""

    __pydantic_config__ = CONFIG  # type: ignore[misc]
    schema_version: str
    kind: Literal["frontier"]
    scenario: ScenarioHeading
    status: Status
    message: str
    primary: str
    """The KPI maximised at each point (``leads``): each point holds its value under this name."""
    secondary: str
    """The KPI traded against it (``sov.search``): each point holds its value under this name."""
    secondary_label: str
    is_share: bool
    """True when the traded KPI is a share (its values are fractions, its steps SOV points)."""
    budget: float | None
    points: list[FrontierPoint]
    """From the primary KPI's maximum to the traded KPI's; written as records (see ``schemas``)."""
    knee: int | None
    """The index of the knee point: the point farthest above the chord between the ends, on axes scaled to
    the frontier's ranges."""
    recommended: int | None
    """The index of the point at the scenario's own floor on the traded KPI, or the knee."""
    current: CurrentPosition | None
    campaigns: list[CampaignCurve]
    """Each campaign's primary-KPI response curve, sampled for charts."""
    stages: list[str]
    dropped: list[str]
    """The scenario's floors on the traded KPI, which the frontier moves instead."""
    solves: int
    seconds: float
    warnings: list[str]
    explanation: Explanation | None
    band: list[BandPoint]
    """With ``--uncertainty N``: the primary KPI's P10-P90 at each point's level; else empty."""
    uncertainty: Uncertainty | None
    recommended_constraints: list[ShadowPrice]
    """The binding constraints of the plan at the recommended point and what relaxing each is worth (the plan
    ``tradeoff report`` presents there; ``solve``'s own when the scenario reaches that level by itself)."""


class SweepDocument(TypedDict):
    """A budget sweep: ``tradeoff frontier --budgets A,B,... --format json``, one frontier per budget."""

    __pydantic_config__ = CONFIG  # type: ignore[misc]
    schema_version: str
    kind: Literal["frontier_sweep"]
    frontiers: list[FrontierDocument]


class ReportDocument(TypedDict):
    """A client report: ``tradeoff report --json``, what its pages say with their figures unrounded."""

    __pydantic_config__ = CONFIG  # type: ignore[misc]
    schema_version: str
    kind: Literal["report"]
    scenario: ScenarioHeading
    title: str
    subtitle: str
    headline: str
    """The page's headline (also printed on the terminal)."""
    subhead: str
    """What the move buys against today, where the point sits and how close the plan is to the optimum."""
    primary: str
    """The KPI the plan maximises (``leads``): the unit of the primary figures below."""
    secondary: str
    """The KPI traded against it (``sov.search``)."""
    secondary_label: str
    is_share: bool
    cost_kpi: str
    """The cost per unit of the primary KPI the campaign rows give (``cpl``), or ``roas`` for revenue."""
    recommended: RecommendedPoint
    prices: list[PriceView]
    """The price of the traded KPI at the recommended point: two views, three for a share of voice."""
    binding_constraints: list[BindingConstraint]
    """Every binding constraint of the plan (the page lists the first few), in the page's order and units."""
    stages: list[StageRow]
    campaigns: list[CampaignRow]
    notes: list[str]
    assumptions: list[str]
    plan: PlanDocument
    """The recommended plan, as ``tradeoff solve --format json`` writes a plan."""
    footer: str


__all__ = ["CurrentKPIs", "FrontierDocument", "Objective", "PlanDocument", "PlanKPIs", "ReportDocument",
           "ScenarioHeading", "SweepDocument"]
