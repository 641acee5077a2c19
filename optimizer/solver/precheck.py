"""Conflicts visible before solving: bounds that cannot hold whatever the other campaigns do.

Each message names the constraint and the numbers that rule it out, in the client's units.
"""

from __future__ import annotations

from optimizer.formatting import money
from optimizer.model.formulation import Formulation


def hard_conflicts(form: Formulation) -> list[str]:
    """Reasons no plan can exist, found from the campaigns' spend ranges alone."""
    return _budget_below_minimums(form) + _campaign_ranges(form)


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
