"""The KPI glossary: one definition of every KPI, used everywhere a KPI is computed.

Volume KPIs are sums over campaigns (they can be objectives, floors and caps). Ratios are
computed from volumes in exactly one way, here (they are constraints and reported figures,
never objectives). Shares (share of spend, share of voice) depend on a selection or a pool.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

OUTCOMES = ("impressions", "clicks", "leads", "mqls", "sqls", "customers", "revenue")
VOLUMES = ("spend", *OUTCOMES)

Unit = Literal["currency", "count", "percent", "multiple"]


@dataclass(frozen=True)
class KPI:
    """A KPI's definition.

    For a ratio, value = scale * numerator / denominator + offset.
    """

    name: str
    label: str
    formula: str
    unit: Unit
    higher_is_better: bool | None
    kind: Literal["volume", "ratio", "share"]
    numerator: str = ""
    denominator: str = ""
    scale: float = 1.0
    offset: float = 0.0
    step: float = 1.0
    """The unit a shadow price is quoted per in the JSON (its ``unit``): $1 of CPL or of budget, one unit of a
    volume, 1 point of CTR, 0.1x of ROAS. Words for people use ``formatting.PRICE_STEPS`` (per $1,000 of
    budget, per 1,000 impressions)."""

    @property
    def direction(self) -> str:
        if self.higher_is_better is None:
            return "neither (a mix)"
        return "higher is better" if self.higher_is_better else "lower is better"

    def ratio(self, numerator: float, denominator: float) -> float:
        """The ratio's value, or NaN when the denominator is zero."""
        if denominator <= 0:
            return math.nan
        return self.scale * numerator / denominator + self.offset


def _volume(name: str, label: str, unit: Unit = "count", formula: str = "") -> KPI:
    return KPI(name, label, formula or f"sum of {name} over campaigns", unit, name != "spend", "volume")


def _ratio(name: str, label: str, num: str, den: str, unit: Unit, higher: bool, **extra: float) -> KPI:
    scale = extra.get("scale", 1.0)
    offset = extra.get("offset", 0.0)
    formula = extra.get("formula") or (f"{scale:g} * {num} / {den}" if scale != 1 else f"{num} / {den}")
    step = extra.get("step", 1.0 if unit == "currency" else 0.01 if unit == "percent" else 0.1)
    return KPI(name, label, str(formula), unit, higher, "ratio", num, den, scale, offset, step)


_DEFINITIONS = (
    _volume("spend", "Spend", "currency", "sum of spend over campaigns"),
    _volume("impressions", "Impressions"),
    _volume("clicks", "Clicks"),
    _volume("leads", "Leads"),
    _volume("mqls", "Marketing-qualified leads"),
    _volume("sqls", "Sales-qualified leads"),
    _volume("customers", "Customers"),
    _volume("revenue", "Revenue (pipeline value)", "currency"),
    _ratio("cpm", "Cost per thousand impressions", "spend", "impressions", "currency", False, scale=1000.0),
    _ratio("ctr", "Click-through rate", "clicks", "impressions", "percent", True),
    _ratio("cpc", "Cost per click", "spend", "clicks", "currency", False),
    _ratio("cvr", "Conversion rate (click to lead)", "leads", "clicks", "percent", True),
    _ratio("cpl", "Cost per lead", "spend", "leads", "currency", False),
    _ratio("cpmql", "Cost per MQL", "spend", "mqls", "currency", False),
    _ratio("cpsql", "Cost per SQL", "spend", "sqls", "currency", False),
    _ratio("cac", "Customer acquisition cost", "spend", "customers", "currency", False),
    _ratio("roas", "Return on ad spend", "revenue", "spend", "multiple", True),
    _ratio(
        "roi", "Return on investment", "revenue", "spend", "percent", True,
        offset=-1.0, formula="(revenue - spend) / spend",
    ),
    KPI("share", "Share of spend", "spend of the selection / total spend", "percent", None, "share", step=0.01),
    KPI(
        "sov", "Share of voice", "ours / fixed total, or ours / (ours + competitors), per pool",
        "percent", True, "share", step=0.01,
    ),
    KPI("esov", "Excess share of voice", "SOV - share of market (SOM), per pool", "percent", True, "share", step=0.01),
)

GLOSSARY: Mapping[str, KPI] = {kpi.name: kpi for kpi in _DEFINITIONS}
RATIOS = tuple(k.name for k in _DEFINITIONS if k.kind == "ratio")


def ratio_kpis(totals: Mapping[str, float]) -> dict[str, float]:
    """Every glossary ratio computed from volume totals (NaN where a denominator is zero)."""
    return {name: GLOSSARY[name].ratio(totals[GLOSSARY[name].numerator], totals[GLOSSARY[name].denominator])
            for name in RATIOS}


def split_pool_kpi(name: str) -> tuple[str, str] | None:
    """``"sov.search"`` -> ``("sov", "search")``; None for a KPI that is not per pool."""
    head, dot, pool = name.partition(".")
    if dot and head in ("sov", "esov") and pool:
        return head, pool
    return None
