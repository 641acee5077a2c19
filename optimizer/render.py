"""Plain-text views of results for a terminal: the plan beside the current split, the KPI glossary."""

from __future__ import annotations

import math
from collections.abc import Sequence

from optimizer.formatting import count, counted, kpi_value, money, percent, signed_percent, signed_points
from optimizer.glossary import GLOSSARY, KPI
from optimizer.plan import Plan, Uncertainty
from optimizer.plan_text import plan_header, readable_price

_NAME_WIDTH = 32
_CAMPAIGN_PRICES = 8
_KPI_ROWS = ("spend", "impressions", "clicks", "leads", "mqls", "sqls", "customers", "revenue",
             "cpm", "ctr", "cpc", "cvr", "cpl", "cpmql", "cac", "roas")


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """Columns padded to their widest cell; the first ``left`` columns left-aligned, the rest right."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [str(c).ljust(w) if k < left else str(c).rjust(w)
                 for k, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _short(name: str) -> str:
    return name if len(name) <= _NAME_WIDTH else name[: _NAME_WIDTH - 1] + "…"


def allocation_table(plan: Plan) -> str:
    """Campaign by campaign: current and planned spend, change, outcomes and unit costs."""
    c = plan.currency
    headers = ["Campaign", "Stage", "Current", "Plan", "Change", "Impr.", "Clicks", "Leads", "CPC", "CPL",
               "Marg. CPL", "Held by"]
    rows = [
        [_short(r.campaign), r.stage, money(r.current_spend, c), money(r.spend, c),
         signed_percent(r.change_pct) if not math.isnan(r.change_pct) else ("new" if r.spend > 0 else "–"),
         count(r.impressions), count(r.clicks), count(r.leads), money(r.cpc, c), money(r.cpl, c),
         money(r.marginal_cpl, c), r.at_bound or ""]
        for r in plan.allocation
    ]
    k, q = plan.kpis, plan.current_kpis
    rows.append(["Total", "", money(q["spend"], c), money(k["spend"], c),
                 signed_percent(k["spend"] / q["spend"] - 1) if q["spend"] else "–",
                 count(k["impressions"]), count(k["clicks"]), count(k["leads"]), money(k["cpc"], c),
                 money(k["cpl"], c), "", ""])
    return text_table(headers, rows, left=2)


def kpi_table(plan: Plan) -> str:
    """Every KPI for the current split and the plan, with the change."""
    c = plan.currency
    rows = []
    for name in _KPI_ROWS:
        now, new = plan.current_kpis.get(name, math.nan), plan.kpis.get(name, math.nan)
        if name in ("mqls", "sqls", "customers", "revenue", "cpmql", "cac", "roas") and not new:
            continue
        change = signed_percent(new / now - 1) if now and math.isfinite(now) and math.isfinite(new) else "–"
        rows.append([GLOSSARY[name].label, kpi_value(name, now, c), kpi_value(name, new, c), change])
    for pool, share in plan.sov.items():
        now = plan.current_sov.get(pool, math.nan)
        rows.append([f"SOV {pool}", percent(now), percent(share), signed_points(share - now)])
    return text_table(["KPI", "Current", "Plan", "Change"], rows)


def prices_table(plan: Plan, campaign_rows: int = _CAMPAIGN_PRICES) -> str:
    """Binding constraints and what relaxing each is worth (the largest campaign bounds only)."""
    constraints = [p for p in plan.shadow_prices if p.kind != "campaign"]
    campaigns = sorted((p for p in plan.shadow_prices if p.kind == "campaign"), key=lambda p: -p.worth)
    shown = constraints + campaigns[:campaign_rows]
    rows = [[p.constraint, readable_price(p, plan.currency)] for p in shown]
    if len(campaigns) > campaign_rows:
        rows.append([f"... and {counted(len(campaigns) - campaign_rows, 'more campaign', 'more campaigns')} held at "
                     "a bound", "(see --format json)"])
    return text_table(["Binding constraint", "Relaxing it is worth"], rows, left=2) if rows else ""


def plan_table(plan: Plan) -> str:
    """The full terminal view of a plan."""
    parts = [plan_header(plan)]
    if plan.allocation:
        parts += [allocation_table(plan), kpi_table(plan)]
        prices = prices_table(plan)
        if prices:
            parts.append(prices)
    if plan.uncertainty is not None:
        parts.append(uncertainty_table(plan.uncertainty, plan.currency))
    if plan.warnings:
        parts.append("Notes:\n" + "\n".join(f"  - {w}" for w in plan.warnings))
    return "\n\n".join(parts) + "\n"


def uncertainty_table(uncertainty: Uncertainty, currency: str) -> str:
    """The spread of each figure over curve draws: the plan's split as planned, and each draw's best plan."""
    rows = []
    for kpi in dict.fromkeys([*uncertainty.as_planned, *uncertainty.re_solved]):
        row = [kpi if kpi.startswith("sov.") else GLOSSARY[kpi].label if kpi in GLOSSARY else kpi]
        for side in (uncertainty.as_planned, uncertainty.re_solved):
            spread = side.get(kpi)
            row += [kpi_value(kpi, v, currency) for v in (spread.p10, spread.p50, spread.p90)] if spread else ["–"] * 3
        rows.append(row)
    headers = ["KPI", "This plan P10", "P50", "P90", "Best plan P10", "P50", "P90"]
    unsolved = f"; {uncertainty.unsolved} draws had no optimal plan" if uncertainty.unsolved else ""
    head = (f"How sure: {uncertainty.draws} draws of the fitted curves of {len(uncertainty.drawn)} campaigns "
            f"(seed {uncertainty.seed}{unsolved}). \"This plan\" is its split on each draw; \"best plan\" is each "
            "draw's own optimum.")
    return head + "\n" + text_table(headers, rows)


def glossary_table() -> str:
    """The KPI glossary as a table."""
    rows = [[k.name, k.label, k.formula, k.unit, k.direction] for k in GLOSSARY.values()]
    return text_table(["KPI", "Name", "Formula", "Unit", "Direction"], rows, left=5)


def glossary_records() -> list[dict[str, str]]:
    """The KPI glossary as records (JSON and CSV output)."""
    return [_record(k) for k in GLOSSARY.values()]


def _record(kpi: KPI) -> dict[str, str]:
    return {"kpi": kpi.name, "name": kpi.label, "formula": kpi.formula, "unit": kpi.unit,
            "direction": kpi.direction, "kind": kpi.kind}
