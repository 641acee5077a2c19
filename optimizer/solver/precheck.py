"""Conflicts visible before solving: bounds that cannot hold whatever the other campaigns do.

Each conflict names the bounds and the numbers that rule them out, in the client's units, and
the change to each bound that would remove it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from optimizer.formatting import money
from optimizer.model.campaigns import CampaignModel
from optimizer.model.formulation import Formulation
from optimizer.plan import Explanation, Relaxation
from optimizer.solver.explain import shown_bound

_SHOWN_CONTRIBUTORS = 4
_REASONS = {"locked": "locked at today's spend", "min": "from spend.min", "max": "from spend.max"}


class _Clash(NamedTuple):
    """Bounds that cannot all hold, the numeric changes that would each fix it, and other ways out."""

    names: tuple[str, ...]
    fixes: tuple[Relaxation, ...]
    text: str
    other_ways: tuple[str, ...] = ()

    def sentence(self) -> str:
        ways = [r.sentence for r in self.fixes] + list(self.other_ways)
        return self.text + (": " + ", or ".join(ways) if ways else "") + "."


def hard_conflicts(form: Formulation) -> Explanation | None:
    """Why no plan can exist, from the campaigns' spend ranges and each constraint's own bounds
    alone (None when nothing shows)."""
    found = (_budget_below_minimums(form) + [_campaign_range(form, c) for c in form.campaigns if _clashes(c)]
             + _constraint_ranges(form))
    if not found:
        return None
    conflict = tuple(name for clash in found for name in clash.names)
    relaxations = tuple(r for clash in found for r in clash.fixes)
    # Each clash needs one of its own fixes; the sentences keep them apart.
    return Explanation(conflict, relaxations, "No plan exists. " + " ".join(c.sentence() for c in found), True)


def _clashes(campaign: CampaignModel) -> bool:
    return campaign.lo > campaign.hi + 1e-9 * max(1.0, campaign.hi) and campaign.hi_reason != "budget"


def _budget_below_minimums(form: Formulation) -> list[_Clash]:
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
    return [_Clash(("budget",), (raise_budget,), text)]


def _campaign_range(form: Formulation, campaign: CampaignModel) -> _Clash:
    c, name = form.currency, campaign.name
    text = (f"{name}'s lowest allowed spend ({money(campaign.lo, c)}, {_reason(campaign.lo_reason)}) "
            f"is above its highest ({money(campaign.hi, c)}, {_reason(campaign.hi_reason)})")
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
    unlock = ("unlock it",) if "locked" in (campaign.lo_reason, campaign.hi_reason) else ()
    return _Clash((f"{name} spend range",), tuple(fixes), text, unlock)


def _reason(reason: str) -> str:
    return _REASONS.get(reason, f"from {reason}")


def _max_change(name: str, now: float, needed: float) -> Relaxation:
    """Raise the max_change that binds (the campaign's own or the budget's), rounded up to 0.001."""
    shown = math.ceil(needed * 1000 - 1e-9) / 1000
    return Relaxation(f"{name} max_change", "spend", "max_change", now, shown, None,
                      f"raise its max_change (now {now:.3g}) to {shown:.3f}")


def _constraint_ranges(form: Formulation) -> list[_Clash]:
    """Constraints whose min is above their max: most likely swapped. (Moving one bound onto the
    other is no fix: an exact target is refused, as it cannot be certified on a curve.)"""
    floors = {row.constraint: row for row in form.rows if row.constraint is not None and row.sense == ">="}
    caps = {row.constraint: row for row in form.rows if row.constraint is not None and row.sense == "<="}
    found = []
    for index in sorted(floors.keys() & caps.keys()):
        floor, cap = floors[index], caps[index]
        low, high = floor.bound - floor.offset, cap.bound - cap.offset
        if low <= high:
            continue
        low_shown, high_shown = (shown_bound(form, floor, v, _exact_step(v)) for v in (low, high))
        text = f"{floor.name} and {cap.name} cannot both hold (the min, {low_shown}, is above the max, {high_shown})"
        found.append(_Clash((floor.name, cap.name), (), text,
                            (f"swap them (min {high_shown}, max {low_shown})", "drop one of them")))
    return found


def _exact_step(value: float) -> float:
    """The coarsest power of ten that shows ``value`` exactly (down to a millionth)."""
    for digits in range(7):
        if abs(round(value, digits) - value) <= 1e-9 * max(1.0, abs(value)):
            return 10.0 ** -digits
    return 1e-6
