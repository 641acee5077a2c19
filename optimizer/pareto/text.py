"""A frontier as text: the terminal table and ``Frontier.summary()``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from optimizer.formatting import count, kpi_value, money, percent

if TYPE_CHECKING:
    from optimizer.pareto.result import Frontier, FrontierPoint


def traded_text(frontier: Frontier, value: float) -> str:
    return percent(value) if frontier.is_share else count(value)


def step_text(frontier: Frontier) -> str:
    return "point" if frontier.is_share else frontier.secondary.rstrip("s")


def price_sentence(frontier: Frontier, point: FrontierPoint) -> str:
    """``each extra point of SOV Search costs about 38 leads, or $4,300 of budget at constant leads``."""
    parts = [f"each extra {step_text(frontier)} of {frontier.secondary_label} costs about "
             f"{_amount(point.primary_lost_per_point)} {frontier.primary}"]
    if math.isfinite(point.budget_per_point):
        dollars = money(point.budget_per_point, frontier.currency, 0 if point.budget_per_point >= 100 else None)
        parts.append(f"or {dollars} of budget at constant {frontier.primary}")
    return ", ".join(parts)


def _with_change(text: str, change: float) -> str:
    """``$49.21 (+1.7%)`` against the lead-max end."""
    return f"{text} ({change * 100:+.1f}%)" if math.isfinite(change) and abs(change) >= 5e-4 else text


def _amount(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:,.0f}" if value >= 10 else f"{value:,.2g}"


def frontier_summary(frontier: Frontier) -> str:
    """The frontier's ends, its knee, the price of the traded KPI there, and today's position."""
    if not frontier.points:
        return f"{frontier.scenario}: {frontier.message}"
    first, last = frontier.points[0], frontier.points[-1]
    c = frontier.currency
    lines = [
        f"{frontier.scenario}: {frontier.primary} against {frontier.secondary_label} ({len(frontier.points)} points)",
        f"from {traded_text(frontier, first.traded)} with {kpi_value(frontier.primary, first.primary, c)} "
        f"{frontier.primary} (CPL {money(first.cpl, c)}) to {traded_text(frontier, last.traded)} with "
        f"{kpi_value(frontier.primary, last.primary, c)} (CPL {money(last.cpl, c)})",
    ]
    if frontier.knee is not None:
        knee = frontier.points[frontier.knee]
        lines.append(f"knee at {traded_text(frontier, knee.traded)}: {price_sentence(frontier, knee)}")
    if frontier.current is not None:
        lines.append(current_sentence(frontier))
    return "\n".join(lines)


def current_sentence(frontier: Frontier) -> str:
    """``today's split: 4,462 leads at 24.4%; the frontier offers +705 leads at the same SOV, or +4.1 points``."""
    current = frontier.current
    assert current is not None
    c = frontier.currency
    offers = []
    if current.primary_gain is not None:
        offers.append(f"{current.primary_gain:+,.0f} {frontier.primary} at the same {frontier.secondary_label}")
    if current.traded_gain is not None:
        gain = f"{current.traded_gain * 100:+.1f} points" if frontier.is_share else f"{current.traded_gain:+,.0f}"
        offers.append(f"{gain} of {frontier.secondary_label} at the same {frontier.primary}")
    offer = "; the frontier offers " + ", or ".join(offers) if offers else ""
    return (f"today's split: {kpi_value(frontier.primary, current.primary, c)} {frontier.primary} at "
            f"{traded_text(frontier, current.traded)}{offer}")


def frontier_table(frontier: Frontier) -> str:
    """Every point: traded level, primary, CPL, CPC, pool CPCs, and the price of a step in both views."""
    from optimizer.render import text_table

    c = frontier.currency
    label = frontier.secondary_label
    banded = frontier.banded
    headers = [label, frontier.primary.capitalize(), *([f"P10-P90 {frontier.primary}"] if banded else []),
               f"Δ {frontier.primary}", "CPL", "CPC", "Pool CPC",
               "Pool marg. CPC", f"{frontier.primary} lost/{step_text(frontier)}",
               f"$/{step_text(frontier)} (same {frontier.primary})", "Gap", ""]
    first = frontier.points[0].primary if frontier.points else 0.0
    rows = []
    for index, p in enumerate(frontier.points):
        marks = [m for m, i in (("knee", frontier.knee), ("recommended", frontier.recommended)) if i == index]
        band = [_band_text(frontier, index)] if banded else []
        rows.append([
            traded_text(frontier, p.traded), kpi_value(frontier.primary, p.primary, c), *band,
            f"{p.primary - first:+,.0f}", _with_change(money(p.cpl, c), p.cpl_change),
            _with_change(money(p.cpc, c), p.cpc_change), money(p.pool_cpc, c),
            money(p.pool_marginal_cpc, c), _amount(p.primary_lost_per_point), money(p.budget_per_point, c),
            percent(p.gap, 3) if p.gap is not None else "–", ", ".join(marks),
        ])
    head = [f"{frontier.scenario}{' · ' + frontier.period if frontier.period else ''} · {c}",
            f"{frontier.primary} against {label}: {frontier.message}"]
    if frontier.dropped:
        head.append(f"(the frontier moves: {', '.join(frontier.dropped)})")
    if not frontier.points:
        return "\n".join(head) + "\n"
    parts = ["\n".join(head), text_table(headers, rows, left=1)]
    notes = []
    if frontier.knee is not None:
        knee = frontier.points[frontier.knee]
        notes.append(f"knee at {traded_text(frontier, knee.traded)}: {price_sentence(frontier, knee)}")
    if frontier.current is not None:
        notes.append(current_sentence(frontier))
    if frontier.uncertainty is not None:
        notes.append(_uncertainty_sentence(frontier))
    notes.extend(f"note: {warning}" for warning in frontier.warnings)
    if notes:
        parts.append("\n".join(notes))
    return "\n\n".join(parts) + "\n"


def _band_text(frontier: Frontier, index: int) -> str:
    """``1,310-1,460``; a percentile no plan reaches is a dash, with how many draws reach the level."""
    band = frontier.band[index]
    c = frontier.currency
    text = "-".join(kpi_value(frontier.primary, v, c) if math.isfinite(v) else "–" for v in (band.p10, band.p90))
    uncertainty = frontier.uncertainty
    draws = uncertainty.draws if uncertainty is not None else band.reached
    return text if band.reached >= draws else f"{text} ({band.reached} of {draws} draws reach)"


def _uncertainty_sentence(frontier: Frontier) -> str:
    """``over 50 curve draws, the recommended split gives 1,310-1,460 leads (P10-P90) and 27.1%-29.4% SOV``."""
    uncertainty = frontier.uncertainty
    assert uncertainty is not None
    c = frontier.currency
    parts = []
    for kpi, spread in uncertainty.as_planned.items():
        parts.append(f"{kpi_value(kpi, spread.p10, c)}-{kpi_value(kpi, spread.p90, c)} {kpi}")
    unsolved = f" ({uncertainty.unsolved} draws had no frontier)" if uncertainty.unsolved else ""
    return (f"over {uncertainty.draws} draws of the fitted curves{unsolved}, the recommended split gives "
            f"{', '.join(parts)} (P10-P90); the band is each draw's own frontier")
