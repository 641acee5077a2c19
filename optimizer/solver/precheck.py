"""Conflicts visible before solving: bounds that cannot hold whatever the other campaigns do.

Each message names the constraint and the numbers that rule it out, in the client's units.
"""

from __future__ import annotations

import numpy as np

from optimizer.formatting import kpi_value, money
from optimizer.model.evaluate import constraint_value, evaluate
from optimizer.model.formulation import Formulation, RowSpec


def hard_conflicts(form: Formulation) -> list[str]:
    """Reasons no plan can exist, found from the campaigns' spend ranges alone."""
    reasons = _budget_below_minimums(form) + _campaign_ranges(form)
    return reasons or _unreachable_rows(form)


def _campaign_ranges(form: Formulation) -> list[str]:
    return [
        f"{c.name}: its lowest allowed spend ({money(c.lo, form.currency)}, from {c.lo_reason}) is above its "
        f"highest ({money(c.hi, form.currency)}, from {c.hi_reason})"
        for c in form.campaigns
        if c.lo > c.hi + 1e-9 * max(1.0, c.hi) and c.hi_reason != "budget"
    ]


def _budget_below_minimums(form: Formulation) -> list[str]:
    floor = sum(c.lo for c in form.campaigns)
    if form.budget_total is None or floor <= form.budget_total * (1 + 1e-9):
        return []
    return [f"the campaigns' lowest allowed spends add up to {money(floor, form.currency)}, above the budget "
            f"of {money(form.budget_total, form.currency)}"]


def _unreachable_rows(form: Formulation) -> list[str]:
    """Floors on non-negative sums (volumes, pooled impressions) above what every campaign at its max gives."""
    top = evaluate(form, np.array([c.hi for c in form.campaigns]))
    reasons = []
    for row in form.rows:
        if row.sense != ">=" or not _non_negative(row) or row.family not in ("volume", "sov"):
            continue
        if top.value(row.expr) < row.rhs * (1 - 1e-9):
            best = kpi_value(row.kpi, constraint_value(form, row, top), form.currency)
            reasons.append(f"{row.name} cannot be met: with every campaign at its highest allowed spend, "
                           f"{row.kpi} reaches only {best}")
    return reasons


def _non_negative(row: RowSpec) -> bool:
    return bool(np.all(row.expr.spend >= 0) and all(np.all(w >= 0) for w in row.expr.outcomes.values()))
