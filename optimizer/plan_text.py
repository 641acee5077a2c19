"""A plan in a few lines of text (``Plan.summary()``) and the pieces the terminal table shares.

These functions read a plan's fields only, so ``plan.py`` can use them without importing the
table renderer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from optimizer.formatting import count, counted, kpi_value, money, percent, price_figure, price_step, signed_percent

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
            versus = (f" (current split: {kpi_value(plan.objective_kpi, current, plan.currency)}, "
                      f"{signed_percent(plan.objective_value / current - 1)})")
        lines.append(f"{plan.objective_sense} {plan.objective_kpi}: {shown}{versus}")
    info = plan.info
    milp = f"; {counted(len(info.milp_campaigns), 'campaign')} solved exactly as a MILP" if info.milp_campaigns else ""
    if info.segments:
        lines.append(f"solver {info.solver}, {info.seconds:.2f} s, {info.segments:,} segments at "
                     f"{percent(info.tolerance, 2)} chord tolerance{milp}")
    return "\n".join(lines)


def readable_price(price: ShadowPrice, currency: str) -> str:
    """``8.56 leads per extra $1,000 of budget``, ``75.7 leads per $1 of CPL``: see ``shown_price``."""
    value, unit = shown_price(price, currency)
    return f"{price_figure(value)} {unit}"


def shown_price(price: ShadowPrice, currency: str) -> tuple[float, str]:
    """A shadow price per the step ``formatting.PRICE_STEPS`` shows its KPI in, and its unit in words:
    ``(8.56, "leads per extra $1,000 of budget")`` from the JSON's ``leads per extra $1 of budget``."""
    step = price_step(price.kpi, currency)
    if step is None:
        return price.price, price.unit
    unit = _AMOUNT.sub(lambda found: f" per {found[1] or ''}{step.words}{found[3]}", price.unit, count=1)
    return price.price * step.per, unit


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
