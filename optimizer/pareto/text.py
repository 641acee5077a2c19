"""A frontier as text: the terminal table and ``Frontier.summary()``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from optimizer.formatting import (
    PriceStep,
    count,
    currency_symbol,
    kpi_value,
    listed,
    money,
    money_price,
    percent,
    plural,
    price_figure,
    price_step,
    signed_count,
    signed_percent,
    signed_points,
)

if TYPE_CHECKING:
    from optimizer.pareto.result import Frontier, FrontierPoint
    from optimizer.plan import FiniteStep

NOT_COMPARABLE = "it is not a plan this frontier can be compared with"


def traded_text(frontier: Frontier, value: float) -> str:
    """A level of the traded KPI: ``28.0%`` for a share, ``15,805,894`` for a volume."""
    return percent(value) if frontier.is_share else count(value)


def traded_step(frontier: Frontier) -> PriceStep:
    """The step of the traded KPI prices are shown per (``formatting.PRICE_STEPS``): an SOV point, 1,000
    impressions, a click; ``per`` is how many of the frontier's own steps (a point, one unit) it holds."""
    return price_step(frontier.secondary, frontier.currency) or PriceStep(frontier.secondary, 1.0)


def step_text(frontier: Frontier) -> str:
    """One step of the traded KPI in a sentence: ``point of Search SOV``, ``1,000 impressions``, ``click``."""
    return f"point of {frontier.secondary_label}" if frontier.is_share else traded_step(frontier).words


def lost_per_step(frontier: Frontier, point: FrontierPoint) -> float:
    """The primary KPI lost per shown step of the traded KPI, at a fixed budget."""
    return point.primary_lost_per_point * traded_step(frontier).per


def budget_per_step(frontier: Frontier, point: FrontierPoint) -> float:
    """The extra budget per shown step of the traded KPI, at constant primary KPI."""
    return point.budget_per_point * traded_step(frontier).per


def price_sentence(frontier: Frontier, point: FrontierPoint) -> str:
    """``each extra point of Search SOV costs about 38 leads, or $4,300 of budget at constant leads``; where a
    rate is none to quote, its finite step (``the last 0.94 points of Search SOV cost 313 leads``)."""
    lost = lost_per_step(frontier, point)
    if math.isfinite(lost):
        parts = [f"each extra {step_text(frontier)} costs about {price_figure(lost)} {frontier.primary}"]
    elif point.lost_step is not None:
        parts = [step_sentence(frontier, point.lost_step, f"{price_figure(point.lost_step.change)} {frontier.primary}")]
    else:
        parts = [f"no plan at this budget goes past {traded_text(frontier, point.traded)}"]
    budget = budget_per_step(frontier, point)
    if math.isfinite(budget) and math.isfinite(lost):
        parts.append(f"or {money_price(budget, frontier.currency)} of budget at constant {frontier.primary}")
    elif math.isfinite(budget):
        parts.append(f"and at constant {frontier.primary} each further {step_text(frontier)} costs about "
                     f"{money_price(budget, frontier.currency)} of budget")
    elif point.budget_step is not None:
        cost = f"{money_price(point.budget_step.change, frontier.currency)} of budget at constant {frontier.primary}"
        parts.append(f"or {step_sentence(frontier, point.budget_step, cost)}")
    return ", ".join(parts)


def step_sentence(frontier: Frontier, step: FiniteStep, cost: str) -> str:
    """A finite step of the traded KPI and what it costs: ``the last 0.94 points of Search SOV cost 313
    leads``, ``the next 1 point of Search SOV costs $823`` (where a rate would be steep or undefined)."""
    if frontier.is_share:
        amount = f"{price_figure(step.size)} {plural(step.size, 'point')} of {frontier.secondary_label}"
    else:
        amount = f"{count(step.size)} {frontier.secondary_label}"
    verb = "costs" if step.size == 1 else "cost"
    return f"the {step.direction} {amount} {verb} {cost}"


def step_notes(frontier: Frontier) -> list[str]:
    """One line per point whose price is a finite step rather than a rate, for under a table of points."""
    notes = []
    for point in frontier.points:
        if math.isfinite(point.primary_lost_per_point) and math.isfinite(point.budget_per_point):
            continue
        if point is frontier.points[-1] and math.isnan(point.primary_lost_per_point):
            head = (f"at {traded_text(frontier, point.traded)}, the most {frontier.secondary_label} this budget "
                    "buys, there is no price per further step")
        else:
            head = f"at {traded_text(frontier, point.traded)} a price per step would mislead"
        notes.append(f"{head}: {price_sentence(frontier, point)}")
    return notes


def _with_change(text: str, change: float) -> str:
    """``$49.21 (+1.7%)`` against the lead-max end."""
    return f"{text} ({signed_percent(change)})" if math.isfinite(change) and abs(change) >= 5e-4 else text


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
    """``today's split: 4,462 leads at 24.4%; the frontier offers +705 leads at 27.7% (the most leads), or
    +6.9 points of Search SOV at 4,707 leads (the most Search SOV)``: each gain where the frontier gives it
    (the charts' arrows end there); when today's split is no plan of this frontier, why (``today_apart``)."""
    current = frontier.current
    assert current is not None
    c = frontier.currency
    gives = (f"{kpi_value(frontier.primary, current.primary, c)} {frontier.primary} at "
             f"{traded_text(frontier, current.traded)}")
    apart = today_apart(frontier)
    if apart is not None:
        return f"{apart} (it gives {gives})"
    offers = []
    first, last = (frontier.points[0], frontier.points[-1]) if frontier.points else (None, None)
    if current.primary_gain is not None:  # a gain a hair below zero is the linearisation's error: none
        where = (f"at {traded_text(frontier, first.traded)} (the most {frontier.primary})"
                 if first is not None and current.traded <= first.traded else f"at the same {frontier.secondary_label}")
        offers.append(f"{signed_count(max(current.primary_gain, 0.0))} {frontier.primary} {where}")
    if current.traded_gain is not None:
        traded_gain = max(current.traded_gain, 0.0)
        gain = f"{signed_points(traded_gain)} of" if frontier.is_share else signed_count(traded_gain)
        where = (f"at {kpi_value(frontier.primary, last.primary, c)} {frontier.primary} (the most "
                 f"{frontier.secondary_label})" if last is not None and current.primary <= last.primary
                 else f"at the same {frontier.primary}")
        offers.append(f"{gain} {frontier.secondary_label} {where}")
    return f"today's split: {gives}" + ("; the frontier offers " + ", or ".join(offers) if offers else "")


def today_spend(frontier: Frontier) -> float | None:
    """What today's split spends (its campaigns' current spend), or None when the frontier has no campaigns."""
    return sum(c.current_spend for c in frontier.campaigns) if frontier.campaigns else None


def today_apart(frontier: Frontier) -> str | None:
    """Why today's split is no plan this frontier can be compared with, in words; None when it is one.

    It is none when it spends more than the budget, or when it lies beyond the frontier (more of the
    primary KPI at its level than any plan there, or more of the traded KPI): only a split that breaks
    one of the scenario's constraints can.
    """
    current = frontier.current
    if current is None:
        return None
    c, spend = frontier.currency, today_spend(frontier)
    if frontier.budget is not None and spend is not None and spend > frontier.budget + 0.5:
        return (f"today's split spends {money(spend, c)}, over the {money(frontier.budget, c)} budget: "
                f"{NOT_COMPARABLE}")
    if _beyond(current.primary_gain, current.primary) or _beyond(current.traded_gain, current.traded):
        which = f"it breaks {listed(current.breaks)}, which" if current.breaks else "it breaks a constraint"
        return f"today's split is beyond the frontier: {which} the frontier's plans meet: {NOT_COMPARABLE}"
    return None


BEYOND = 2e-3
"""How far (relative) today's split must lie past the frontier to be beyond it: closer is the linearisation's
error (a chord tolerance of 0.1% by default), and a split that meets every constraint cannot beat the optimum."""


def _beyond(gain: float | None, level: float) -> bool:
    """True when ``gain`` (to the frontier from today's ``level``) is negative by more than round-off."""
    return gain is not None and gain < -BEYOND * max(abs(level), 1e-12)


def frontier_table(frontier: Frontier) -> str:
    """Every point: traded level, primary, CPL, CPC, pool CPCs, and the price of a step in both views."""
    from optimizer.render import text_table

    c = frontier.currency
    label = frontier.secondary_label
    banded = frontier.banded
    step = traded_step(frontier).words
    headers = [label, frontier.primary.capitalize(), *([f"P10-P90 {frontier.primary}"] if banded else []),
               f"Δ {frontier.primary}", "CPL", "CPC", "Pool CPC",
               "Pool marg. CPC", f"{frontier.primary} lost/{step}",
               f"{currency_symbol(c).strip()}/{step} (same {frontier.primary})", "Gap", ""]
    first = frontier.points[0].primary if frontier.points else 0.0
    rows = []
    for index, p in enumerate(frontier.points):
        marks = [m for m, i in (("knee", frontier.knee), ("recommended", frontier.recommended)) if i == index]
        band = [_band_text(frontier, index)] if banded else []
        rows.append([
            traded_text(frontier, p.traded), kpi_value(frontier.primary, p.primary, c), *band,
            signed_count(p.primary - first), _with_change(money(p.cpl, c), p.cpl_change),
            _with_change(money(p.cpc, c), p.cpc_change), money(p.pool_cpc, c), money(p.pool_marginal_cpc, c),
            price_figure(lost_per_step(frontier, p)), money_price(budget_per_step(frontier, p), c),
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
    notes.extend(step_notes(frontier))
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
