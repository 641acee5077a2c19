"""A plan in a few lines of text (``Plan.summary()``) and the pieces the terminal table shares.

These functions read a plan's fields only, so ``plan.py`` can use them without importing the
table renderer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer.formatting import count, kpi_value, money, percent, signed_percent

if TYPE_CHECKING:
    from optimizer.plan import Plan


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
    milp = f"; {len(info.milp_campaigns)} campaign(s) solved exactly as a MILP" if info.milp_campaigns else ""
    if info.segments:
        lines.append(f"solver {info.solver}, {info.seconds:.2f} s, {info.segments:,} segments at "
                     f"{percent(info.tolerance, 2)} chord tolerance{milp}")
    return "\n".join(lines)


def readable_price(price: float, unit: str, currency: str) -> str:
    """Prices per dollar quoted per thousand: ``8.6 leads per extra $1,000 of budget``."""
    price, unit = per_thousand(price, unit, currency)
    return f"{price_figure(price)} {unit}"


def per_thousand(price: float, unit: str, currency: str) -> tuple[float, str]:
    """A price per $1 as one per $1,000 (``8.56``, ``leads per extra $1,000 of budget``); others as they are."""
    one = money(1, currency, 0)
    if f"per {one} " in unit or f"per extra {one} " in unit:
        return price * 1000, unit.replace(f" {one} ", f" {money(1000, currency)} ")
    return price, unit


def price_figure(value: float) -> str:
    """A price to three figures, whole from 100 up: 862, 35.4, 1.75."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


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
            lines.append(f"binding: {price.constraint}: {readable_price(price.price, price.unit, c)}")
    return "\n".join(lines)
