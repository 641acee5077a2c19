"""Conflicts visible before solving: bounds that cannot hold whatever the other campaigns do.

Each conflict names the bounds and the numbers that rule them out, in the client's units, and
the change to each bound that would remove it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import highspy
import numpy as np
import scipy.sparse as sp

from optimizer.formatting import money
from optimizer.model.campaigns import CampaignModel
from optimizer.model.formulation import Formulation, RowSpec
from optimizer.plan import Explanation, Relaxation
from optimizer.solver.explain import relaxation_to, shown_bound
from optimizer.solver.highs import new_highs

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


def hard_conflicts(form: Formulation, keys: dict[int, str] | None = None) -> Explanation | None:
    """Why no plan can exist, from the campaigns' spend ranges, each constraint's own bounds and
    the spend shares alone (None when nothing shows). ``keys`` are the constraints' ``--set`` prefixes."""
    found = (_budget_below_minimums(form) + [_campaign_range(form, c) for c in form.campaigns if _clashes(c)]
             + _constraint_ranges(form))
    if not found:
        found = _share_mix(form, keys or {})
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


def _share_mix(form: Formulation, keys: dict[int, str]) -> list[_Clash]:
    """Spend-share bounds that no split of a dollar meets (say awareness >= 60% and conversion >= 50%):
    only a plan that spends nothing would, which is no plan.

    Share rows are homogeneous in spend, so the question is whether some mix of campaigns that can
    take spend meets them all; campaigns alike in every share row are one column of a tiny LP.
    """
    rows = [row for row in form.rows if row.family == "share"]
    takers = np.array([c.hi > 0 for c in form.campaigns])
    if not any(row.sense == ">=" for row in rows) or not takers.any():
        return []
    mixes = np.unique(np.array([row.expr.spend[takers] for row in rows]).T, axis=0).T
    if _reachable_share(rows, mixes, None) is not None:
        return []
    fixes = []
    for index, row in enumerate(rows):
        others = [r for k, r in enumerate(rows) if k != index]
        reachable = _reachable_share(others, mixes[[k for k in range(len(rows)) if k != index]], row, mixes[index])
        # The LP's last digits are noise: a share to nine decimals is as exact as a plan can meet.
        fix = relaxation_to(form, row, round(reachable, 9), keys) if reachable is not None else None
        if fix is not None:
            fixes.append(fix)
    names = tuple(f.constraint for f in fixes) or tuple(row.name for row in rows)
    listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    text = (f"{listed} ask for more than all of the spend together: only a plan that spends nothing meets "
            f"{'them' if len(names) > 1 else 'it'}")
    return [_Clash(names, tuple(fixes), text)]


def _reachable_share(rows: list[RowSpec], mixes: np.ndarray, target: RowSpec | None = None,
                     target_mix: np.ndarray | None = None) -> float | None:
    """With one dollar spread over the campaign kinds (columns of ``mixes``) so that ``rows`` hold:
    the most (for a floor) or least (for a cap) share ``target`` can reach, 0 with no target, or
    None when no spread meets ``rows``."""
    sign = np.array([-1.0 if row.sense == ">=" else 1.0 for row in rows])
    kinds = mixes.shape[1]
    cost = np.zeros(kinds)
    if target is not None:
        selected = target_mix + target.bound  # a share row is spend(selection) - bound x spend(all)
        cost = -selected if target.sense == ">=" else selected
    found = _smallest(cost, np.vstack([sign[:, None] * mixes, np.ones((1, kinds))]) if rows else np.ones((1, kinds)),
                      np.r_[np.full(len(rows), -np.inf), 1.0], np.r_[np.zeros(len(rows)), 1.0])
    if found is None:
        return None
    return float(abs(found)) if target is not None else 0.0


def _smallest(cost: np.ndarray, matrix: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float | None:
    """The least ``cost x`` over ``x >= 0`` with ``lower <= matrix x <= upper`` (None: no such x), by HiGHS
    (already loaded: scipy's ``linprog`` would add a quarter second or more to the first solve of a process)."""
    highs = new_highs()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, np.zeros(matrix.shape[1]), np.full(matrix.shape[1], np.inf)
    lp.row_lower_, lp.row_upper_ = lower, upper
    columns = sp.csc_array(matrix)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = matrix.shape[1], matrix.shape[0]
    lp.a_matrix_.start_ = columns.indptr.astype(np.int32)
    lp.a_matrix_.index_ = columns.indices.astype(np.int32)
    lp.a_matrix_.value_ = columns.data
    highs.passModel(lp)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return float(highs.getInfo().objective_function_value)
