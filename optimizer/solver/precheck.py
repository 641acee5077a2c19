"""Conflicts visible before solving: bounds that cannot hold whatever the other campaigns do.

Each conflict names the bounds and the numbers that rule them out, in the client's units, and
the change to each bound that would remove it.
"""

from __future__ import annotations

import math

from optimizer.formatting import money
from optimizer.model.campaigns import CampaignModel
from optimizer.model.formulation import Formulation
from optimizer.plan import Explanation, Relaxation

_SHOWN_CONTRIBUTORS = 4


def hard_conflicts(form: Formulation) -> Explanation | None:
    """Why no plan can exist, from the campaigns' spend ranges alone (None when nothing shows)."""
    found = _budget_below_minimums(form) + [_campaign_range(form, c) for c in form.campaigns if _clashes(c)]
    if not found:
        return None
    conflict = tuple(name for names, _, _ in found for name in names)
    relaxations = tuple(r for _, fixes, _ in found for r in fixes)
    # Each clash needs one of its own fixes; the sentences keep them apart.
    sentences = [text + (": " + ", or ".join(r.sentence for r in fixes) if fixes else "") + "."
                 for _, fixes, text in found]
    return Explanation(conflict, relaxations, "No plan exists. " + " ".join(sentences), True)


def _clashes(campaign: CampaignModel) -> bool:
    return campaign.lo > campaign.hi + 1e-9 * max(1.0, campaign.hi) and campaign.hi_reason != "budget"


def _budget_below_minimums(form: Formulation) -> list[tuple[tuple[str, ...], tuple[Relaxation, ...], str]]:
    floor = sum(c.lo for c in form.campaigns)
    if form.budget_total is None or floor <= form.budget_total * (1 + 1e-9):
        return []
    c = form.currency
    largest = sorted((x for x in form.campaigns if x.lo > 0), key=lambda x: -x.lo)
    shown = ", ".join(f"{x.name} {money(x.lo, c)} ({x.lo_reason})" for x in largest[:_SHOWN_CONTRIBUTORS])
    more = f" and {len(largest) - _SHOWN_CONTRIBUTORS} more" if len(largest) > _SHOWN_CONTRIBUTORS else ""
    text = (f"The campaigns' lowest allowed spends add up to {money(floor, c)} ({shown}{more}), above the "
            f"budget of {money(form.budget_total, c)}")
    raise_budget = Relaxation("budget", "spend", "total", form.budget_total, floor, "budget.total",
                              f"raise the budget to {money(floor, c)}")
    return [(("budget",), (raise_budget,), text)]


def _campaign_range(form: Formulation, campaign: CampaignModel) -> tuple[tuple[str, ...], tuple[Relaxation, ...], str]:
    c, name = form.currency, campaign.name
    text = (f"{name}'s lowest allowed spend ({money(campaign.lo, c)}, from {campaign.lo_reason}) is above its "
            f"highest ({money(campaign.hi, c)}, from {campaign.hi_reason})")
    fixes = []
    if campaign.lo_reason == "min":
        fixes.append(Relaxation(f"{name} spend.min", "spend", "min", campaign.lo, campaign.hi,
                                f'campaigns."{name}".spend.min', f"lower its spend.min to {money(campaign.hi, c)}"))
    elif campaign.lo_reason == "max_change" and campaign.current > 0:
        needed, now = 1 - campaign.hi / campaign.current, 1 - campaign.lo / campaign.current
        fixes.append(_max_change(name, now, needed))
    if campaign.hi_reason == "max":
        fixes.append(Relaxation(f"{name} spend.max", "spend", "max", campaign.hi, campaign.lo,
                                f'campaigns."{name}".spend.max', f"raise its spend.max to {money(campaign.lo, c)}"))
    elif campaign.hi_reason == "max_change" and campaign.current > 0:
        needed, now = campaign.lo / campaign.current - 1, campaign.hi / campaign.current - 1
        fixes.append(_max_change(name, now, needed))
    elif campaign.hi_reason == "curve data":
        text += " (its curve's points end there: add points up to that spend)"
    return (f"{name} spend range",), tuple(fixes), text


def _max_change(name: str, now: float, needed: float) -> Relaxation:
    """Raise the max_change that binds (the campaign's own or the budget's), rounded up to 0.001."""
    shown = math.ceil(needed * 1000 - 1e-9) / 1000
    return Relaxation(f"{name} max_change", "spend", "max_change", now, shown, None,
                      f"raise its max_change (now {now:.3g}) to {shown:.3f}")
