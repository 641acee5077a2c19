"""A plan in a few lines of text (``Plan.summary()``) and the pieces the terminal table shares.

These functions read a plan's fields only, so ``plan.py`` can use them without importing the
table renderer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from optimizer.formatting import (
    count,
    counted,
    kpi_value,
    listed,
    money,
    percent,
    plural,
    price_figure,
    price_step,
    signed_percent,
)
from optimizer.glossary import GLOSSARY

if TYPE_CHECKING:
    from optimizer.plan import Plan, ShadowPrice

_AMOUNT = re.compile(r" per (extra )?(.+?)( of |$)")
"""The amount a price's JSON ``unit`` is per: ``$1`` in ``leads per extra $1 of budget``."""


def plan_header(plan: Plan) -> str:
    """Scenario, status, objective against the current split, certificate, solver."""
    period = f" · {plan.period}" if plan.period else ""
    status = "" if plan.status.value == "optimal" else f"{plan.status.value.upper()}: "
    lines = [f"{plan.scenario}{period} · {plan.currency}", f"{status}{plan.message}"]
    if plan.objective_value is not None:
        pool = plan.objective_kpi.removeprefix("sov.")
        pooled = pool != plan.objective_kpi
        current = plan.current_sov.get(pool) if pooled else plan.current_kpis.get(plan.objective_kpi)
        shown = kpi_value(plan.objective_kpi, plan.objective_value, plan.currency)
        versus = ""
        if current is not None and current > 0:
            versus = f" ({_against_current(plan, current)})"
        lines.append(f"{plan.objective_sense} {plan.objective_kpi}: {shown}{versus}")
    info = plan.info
    milp = f"; {counted(len(info.milp_campaigns), 'campaign')} solved exactly as a MILP" if info.milp_campaigns else ""
    if info.segments:
        lines.append(f"solver {info.solver}, {info.seconds:.2f} s, {info.segments:,} segments at "
                     f"{percent(info.tolerance, 2)} chord tolerance{milp}")
    return "\n".join(lines)


def _against_current(plan: Plan, current: float) -> str:
    """``current split: 4,462, +15.8%``; where today's split breaks a constraint, that in words, and no loss
    against it (a plan that keeps to a budget today overspends is not worse for giving less)."""
    assert plan.objective_value is not None
    shown = kpi_value(plan.objective_kpi, current, plan.currency)
    change = plan.objective_value / current - 1
    better = change >= 0 if plan.objective_sense == "maximize" else change <= 0
    if not plan.current_breaks:
        return f"current split: {shown}, {signed_percent(change)}"
    breaks = f"it breaks {listed(plan.current_breaks)}"
    return f"current split: {shown}, {signed_percent(change)}; {breaks}" if better else \
        f"the current split gives {shown}, but {breaks}"


def readable_price(price: ShadowPrice, currency: str) -> str:
    """``8.56 leads per extra $1,000 of budget``, ``75.7 leads per $1 of CPL``: see ``shown_price``; a price
    too steep to be a rate as its finite step (``steep_price``)."""
    if price.price is None:
        return steep_price(price, currency)
    value, unit = shown_price(price, currency)
    return f"{price_figure(value)} {unit}"


def steep_price(price: ShadowPrice, currency: str) -> str:
    """``too steep for a rate: relaxing it by 0.4 points gains 310 leads``."""
    step = price.steep
    if step is None:
        return "–"
    goal = price.unit.partition(" per ")[0]
    return f"too steep for a rate: relaxing it by {_relaxed_by(price, step.size, currency)} gains " \
           f"{price_figure(step.change)} {goal}"


def _relaxed_by(price: ShadowPrice, size: float, currency: str) -> str:
    """How far a steep price's finite step relaxes its bound, in the bound's own units (``size`` counts the
    steps the JSON's ``unit`` is per: $1, an SOV or share point, one unit of a volume)."""
    if price.kind == "campaign" or GLOSSARY.get(price.kpi) is not None and GLOSSARY[price.kpi].unit == "currency":
        return money(size, currency)
    if price.kind in ("sov", "share") or GLOSSARY.get(price.kpi) is not None and GLOSSARY[price.kpi].unit == "percent":
        return f"{price_figure(size)} {plural(size, 'point')}"
    return f"{price_figure(size)} {price.kpi}"


def shown_price(price: ShadowPrice, currency: str) -> tuple[float | None, str]:
    """A shadow price per the step ``formatting.PRICE_STEPS`` shows its KPI in, and its unit in words:
    ``(8.56, "leads per extra $1,000 of budget")`` from the JSON's ``leads per extra $1 of budget``
    (None for a price too steep to be a rate: see ``steep_price``)."""
    step = price_step(price.kpi, currency)
    if step is None:
        return price.price, price.unit
    unit = _AMOUNT.sub(lambda found: f" per {found[1] or ''}{step.words}{found[3]}", price.unit, count=1)
    return (price.price * step.per if price.price is not None else None), unit


def plan_summary(plan: Plan) -> str:
    """A few lines: header, headline KPIs, and the binding constraints."""
    lines = [plan_header(plan)]
    if plan.allocation:
        c = plan.currency
        k = plan.kpis
        sov = ", ".join(f"{pool} {percent(share)}" for pool, share in plan.sov.items())
        lines.append(f"spend {money(k['spend'], c)}, leads {count(k['leads'])}, CPL {money(k['cpl'], c)}, "
                     f"CPC {money(k['cpc'], c)}" + (f", SOV {sov}" if sov else ""))
        for price in plan.shadow_prices[:5]:
            lines.append(f"binding: {price.constraint}: {readable_price(price, c)}")
    return "\n".join(lines)
