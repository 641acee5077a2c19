"""Every price the tool shows is the one-sided rate of change its words state, measured by re-solves.

A shadow price says what relaxing its constraint by one quoted step gains ("leads per extra $1 of
budget", "per SOV point", "per $1 of CPL", "per $1 of raising its max"); a frontier point's
``primary_lost_per_point`` what one more SOV point costs in the primary KPI at the scenario's budget,
and its ``budget_per_point`` what it costs in spend with the primary KPI held at the lead-max end's
level and the budget set aside. Where a dual is not unique (a pinned floor or cap, a tie, a frontier
end, a point on a kink of the frontier) only the one-sided rate in the stated direction is right.

Each figure is checked against independent re-solves of random scenario documents
(``random_scenarios.generate``): the document itself is edited (the one bound moved in the stated
direction: the budget's total, a constraint's min lowered or max raised, a campaign's max raised or
min lowered, a ``max_change`` or a lock first written out as the range it makes; loaded through the
public loader, never the code's own row builders) and solved again, by
``h`` quoted steps and by ``h/2``, ``h/4``, ... (``h`` is ``FIRST_STEP``, 0.1%, of the bound's natural
scale: the bound itself, or the frontier's span) until halving the step moves the finite difference by
less than 1% (or leaves it within the absolute allowance of zero). The shown figure must then equal
it within 2%. Before a figure is called wrong, the halving goes on until two halvings in a row agree
(a rate that curves in steps can hold still over one halving). Where ``HALVINGS`` halvings do not
settle it, the value curves sharply there, and the figure must lie between the secants of the
smallest step on either side (within 2%).

A figure marked steep (``ShadowPrice.steep``: ``price`` None, ``steep.size`` quoted steps gain
``steep.change``) or a NaN frontier price with a ``lost_step``/``budget_step`` (``FiniteStep(size,
change, direction)``: ``"last"``, the ``size`` SOV points up to the point; ``"next"``, from it) must
give a step whose change a re-solve at that step confirms within 2%. A NaN with no step passes only
where the view has no plan at the point, or none further and the last SOV point before it changes
nothing (a frontier of one point). New fields are read with ``getattr`` so that the code of before
them fails on values, not on a missing attribute.

Every comparison allows for the certified gaps of the solves compared (each plan's ``gap`` bounds how
far its objective is from the true optimum; their sum over the step bounds the finite difference's
error) and for ``NEGLIGIBLE``: a rate that moves the objective by 0.001% of itself over the bound's
whole natural scale (or the frontier's whole span) reads as zero. A frontier price also has ``FLAT``,
1% of its view's average rate over the frontier: from the lead-max end, where the rate starts from
zero, both the tool's and the re-solves' piecewise-linear curves leave crumbs of that size.

The frontier figures are compared with these re-solves (the definitions of ``optimizer.pareto``: the
frontier drops the scenario's own floors on the pool's SOV and moves its own; every other constraint
holds):

* ``primary_lost_per_point`` at a point of SOV ``sigma``: ``(P(sigma) - P(sigma + t)) / t`` per SOV
  point, where ``P(s)`` is the most primary KPI with ``sov >= s`` in place of the scenario's own SOV
  floors on the pool (budget and every other constraint kept);
* ``budget_per_point``: ``(B(sigma + t) - B(sigma)) / t``, where ``B(s)`` is the least spend with the
  budget total (and ``spend_all``) removed, its ``max_change`` kept (every generated campaign has a max
  of its own), the primary KPI at or above the lead-max level (``P`` with no SOV floor, loosened by
  the least of ``LEVEL_SLACKS`` a re-solve reaches) and ``sov >= s``. Every S-curve mix is open to it:
  the least spend, not the least with the point's own mix of S-curve campaigns.

Run: the default suite checks the ``QUICK_*`` scenarios (at most six campaigns) and the B2B example's
far end; ``-m slow`` checks 200 more seeds (``_many``) and the whole B2B example, best with ``-n 2``.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from random_scenarios import SOLVE_OPTIONS, Generated, generate, optimal, scenario_of, solve_document, spend_range

from optimizer import Plan, frontier, solve

QUICK_CAMPAIGNS = 6
QUICK_PRICES = [pytest.param(seed, id=f"seed{seed}") for seed in (1000, 1001, 1005, 1006, 1012, 1018, 1020, 1038)]
"""The default suite's shadow-price scenarios: every family but ties, at most six campaigns, quick to re-solve."""
QUICK_FRONTIERS = [pytest.param(seed, id=f"seed{seed}") for seed in (1000, 1026)]
"""The default suite's frontiers (a frontier of one point; one with ties), beside the B2B example's far end."""
KNOWN_GAPS = {
    "shadow": (3039, 3077, 3104, 3144, 3147),
    "frontier": (3000, 3059, 3062, 3082, 3085, 3086, 3125, 3137, 3141, 3144, 3147, 3155, 3165, 3173, 3179, 3190),
}
"""Seeds the code still gets wrong (issue 20 is open: 5 of 200 scenarios on shadow prices, against 23 before the
prices were measured; 16 of 138 frontiers, against 136), kept as reproducers that must fail until fixed."""


def _many(test: str) -> list:
    """200 more scenarios for ``-m slow`` (every family drawn about 20 times, plain ones about 65; most have a
    frontier). The tests were written on seeds below 3000: these were first run once they were done."""
    gap = pytest.mark.xfail(strict=True, reason="a known gap: see KNOWN_GAPS")
    return [pytest.param(seed, id=f"seed{seed}", marks=[pytest.mark.slow, *([gap] if seed in KNOWN_GAPS[test] else [])])
            for seed in range(3000, 3200)]
FRONTIER_POINTS = 5

RELATIVE = 0.02
"""A shown figure's allowed error, relative to the measured rate (or to the step's change)."""
SETTLED = 0.01
"""A finite difference has settled when halving its step moves it by less than this, relatively."""
HALVINGS = 6
FIRST_STEP = 1e-3
"""The first finite-difference step, as a share of the bound's natural scale (the last is 1/64 of it)."""
NEGLIGIBLE = 1e-5
"""An absolute allowance: a rate that moves the objective by this share of itself over the bound's whole
natural scale is zero to any reader."""
FLAT = 0.01
"""A further absolute allowance for a frontier price: this share of the view's average rate over the
frontier (see ``allowance``)."""


# --- values of re-solved documents ----------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A re-solved document's optimum in the quoted units, and its certified distance to the true optimum."""

    amount: float
    noise: float


class Resolver:
    """Solves documents (each once) and reads their optimum in the units prices are quoted in.

    ``factor`` turns the reported objective into quoted units (100 for an SOV goal quoted in SOV points).
    """

    def __init__(self, factor: float = 1.0):
        self.factor = factor
        self.solved: dict[str, Value | None] = {}

    def value(self, document: dict[str, Any]) -> Value | None:
        key = json.dumps(document, sort_keys=True)
        if key not in self.solved:
            plan = solve_document(document)
            self.solved[key] = None if not optimal(plan) else Value(
                plan.objective_value * self.factor, (plan.gap or 0.0) * abs(plan.objective_value) * self.factor)
        return self.solved[key]


# --- one-sided finite differences --------------------------------------------------------------------


@dataclass(frozen=True)
class Secant:
    """The rate over a step of ``steps`` quoted steps (negative: the other way), in the stated direction's sense."""

    steps: float
    rate: float
    noise: float

    def __str__(self) -> str:
        return f"{self.rate:.6g} (step {self.steps:+.4g})"


@dataclass
class Measurement:
    """Secants in the stated direction, step halving; the first that settled; the other side's at the last step."""

    secants: list[Secant] = field(default_factory=list)
    settled: Secant | None = None
    other: Secant | None = None
    smallest: float = math.nan
    """The smallest step tried in the stated direction (whether or not a plan exists there)."""

    @property
    def undefined(self) -> bool:
        """No plan exists at any step tried in the stated direction."""
        return not self.secants

    def __str__(self) -> str:
        if self.undefined:
            return f"no plan even {self.smallest:.3g} quoted steps further"
        shown = ", ".join(str(s) for s in self.secants)
        if self.settled is not None:
            return f"settled at {self.settled.rate:.6g} [{shown}]"
        other = f"the other side's {self.other}" if self.other else "no plan on the other side"
        return f"did not settle [{shown}]; {other}"


Moved = Callable[[float], "Value | None"]
"""The value with the bound moved by ``t`` quoted steps in the stated direction (``t < 0``: the other way)."""


def secant(moved: Moved, base: Value, steps: float, sign: float) -> Secant | None:
    """``sign * (V(steps) - V(0)) / steps``, or None without a plan there."""
    value = moved(steps)
    if value is None:
        return None
    return Secant(steps, sign * (value.amount - base.amount) / steps, (value.noise + base.noise) / abs(steps))


def measure(moved: Moved, base: Value, first: float, sign: float, floor: float, agreements: int = 1) -> Measurement:
    """Halve the step from ``first`` until the finite difference settles (at most ``HALVINGS`` times): until
    ``agreements`` halvings in a row each move it by less than ``SETTLED`` of itself (or leave it within
    ``floor`` of zero).

    The solves' certified gaps are not counted here: they would let a difference still on the move
    pass for settled. Without settling, the other side's secant at the last step is measured too.
    """
    found = Measurement()
    steps, agreed = first, 0
    for _ in range(HALVINGS + 1):
        found.smallest = steps
        current = secant(moved, base, steps, sign)
        if current is not None:
            agreed = agreed + 1 if found.secants and _settled(found.secants[-1], current, floor) else 0
            found.secants.append(current)
            if agreed == agreements:
                found.settled = current
                break
        steps /= 2
    if found.settled is None and found.secants:
        found.other = secant(moved, base, -found.secants[-1].steps, sign)
    return found


def judge_rate(shown: float, moved: Moved, base: Value, first: float, sign: float, floor: float) -> str | None:
    """Why ``shown`` is not the one-sided rate (None when it is). A difference that settled after one halving
    but disagrees is halved on until two halvings in a row agree, before the figure is called wrong: a rate
    curving in steps can hold still over one halving and move again over the next."""
    problem = rate_problem(shown, measure(moved, base, first, sign, floor), floor)
    if problem is None:
        return None
    return rate_problem(shown, measure(moved, base, first, sign, floor, agreements=2), floor)


def _settled(before: Secant, after: Secant, floor: float) -> bool:
    """Halving moved the difference by under ``SETTLED`` of itself, or both are within ``floor`` of zero."""
    return (abs(after.rate - before.rate) <= SETTLED * abs(after.rate)
            or max(abs(after.rate), abs(before.rate)) <= floor)


def rate_problem(shown: float, measured: Measurement, floor: float) -> str | None:
    """Why ``shown`` is not the measured one-sided rate (None when it is)."""
    if measured.undefined:
        return f"shows {shown:.6g}, but {measured}: the rate is undefined there"
    if measured.settled is not None:
        rate = measured.settled
        if abs(shown - rate.rate) <= RELATIVE * abs(rate.rate) + rate.noise + floor:
            return None
        return f"shows {shown:.6g}, measured {rate.rate:.6g}: {measured}"
    last, other = measured.secants[-1], measured.other
    rates = [last.rate] + ([other.rate] if other is not None else [math.inf if last.rate >= 0 else -math.inf])
    noise = last.noise + (other.noise if other is not None else 0.0) + floor
    low, high = min(rates), max(rates)
    if low - RELATIVE * abs(low) - noise <= shown <= high + RELATIVE * abs(high) + noise:
        return None
    return f"shows {shown:.6g}, outside the secants either side ({low:.6g} to {high:.6g}): {measured}"


def step_problem(size: float, change: float, moved: Moved, base: Value, sign: float, floor: float,
                 what: str) -> str | None:
    """Why a finite step's claimed ``change`` over ``size`` quoted steps is not what a re-solve gives."""
    measured = secant(moved, base, size, sign)
    if measured is None:
        return f"{what} claims {change:.6g} over {size:+.4g} steps, but no plan exists there"
    actual = measured.rate * abs(size)
    if abs(change - actual) <= RELATIVE * abs(actual) + measured.noise * abs(size) + floor * abs(size):
        return None
    return f"{what} claims {change:.6g} over {size:+.4g} steps; a re-solve gives {actual:.6g}"


# --- shadow prices: moving one bound of the document ------------------------------------------------------


def quoted_step(unit: str) -> float:
    """The step a price is quoted per, from its unit's words (``per SOV point`` is 0.01 of a share)."""
    per = unit.rpartition(" per ")[2]
    if "SOV point" in per or "point of share" in per:
        return 0.01
    money = re.search(r"\$([\d,]+(?:\.\d+)?)", per)
    if money:
        return float(money[1].replace(",", ""))
    if re.match(r"(one|1) unit", per):
        return 1.0
    raise AssertionError(f"the unit {unit!r} names no step this test knows")


def goal_factor(unit: str) -> float:
    """Quoted goal units per unit of the reported objective: SOV points of a share, else 1."""
    return 100.0 if unit.startswith("SOV points") else 1.0


@dataclass(frozen=True)
class Bound:
    """Where one shown constraint's bound lives in the document, and which way relaxes it."""

    step: float
    scale: float
    """The bound's natural size in quoted steps (the bound itself)."""
    move: Callable[[dict[str, Any], float], None]
    """Move the bound by ``t`` quoted steps the relaxing way (``t < 0`` tightens), in place."""


def locate(document: dict[str, Any], price: Any) -> Bound:
    """The document bound behind a shown price (``AssertionError`` when the price names none)."""
    step = quoted_step(price.unit)
    if price.kind == "budget":
        def move(doc: dict[str, Any], t: float) -> None:
            doc["budget"]["total"] += t * step
        return Bound(step, document["budget"]["total"] / step, move)
    if price.kind == "campaign":
        return _campaign_bound(document, price, step)
    return _constraint_bound(document, price, step)


def _constraint_bound(document: dict[str, Any], price: Any, step: float) -> Bound:
    for index, constraint in enumerate(document.get("constraints", [])):
        name = constraint["name"]
        sides = [s for s in ("min", "max") if s in constraint]
        for side in sides:
            if price.constraint in (name, f"{name} ({side})"):
                sense = -1.0 if side == "min" else 1.0

                def move(doc: dict[str, Any], t: float, index: int = index, side: str = side,
                         sense: float = sense) -> None:
                    doc["constraints"][index][side] += sense * t * step
                return Bound(step, abs(constraint[side]) / step, move)
    raise AssertionError(f"no constraint of the document is called {price.constraint!r}")


def _campaign_bound(document: dict[str, Any], price: Any, step: float) -> Bound:
    """A campaign's max raised or its min lowered; a bound set by ``max_change`` or a lock is first written
    as the range it makes (``max_change`` 5 turns the percentage off: its range then holds every spend
    considered here), so that only the one bound moves."""
    match = re.fullmatch(r"(?P<name>.*): spend (?P<side>max|min) \((?P<reason>[^)]*)\)", price.constraint)
    assert match, f"a campaign price names its bound as 'NAME: spend max (reason)': {price.constraint!r}"
    index = next(i for i, c in enumerate(document["campaigns"]) if c["name"] == match["name"])
    side, reason = match["side"], match["reason"]
    low, high = spend_range(document, index)
    bound = high if side == "max" else low
    assert math.isclose(bound, price.bound, rel_tol=1e-9, abs_tol=1e-6), (
        f"{price.constraint}: the document's {side} is {bound}, the price's bound {price.bound}")

    def move(doc: dict[str, Any], t: float) -> None:
        spend = doc["campaigns"][index]["spend"]
        if reason in ("max_change", "locked"):
            spend.update({"locked": False, "max_change": 5.0, "min": low, "max": high})
        if side == "max":
            spend["max"] = high + t * step
        else:
            spend["min"] = low - t * step
    return Bound(step, bound / step, move)


def moved_value(resolver: Resolver, document: dict[str, Any], bound: Bound) -> Moved:
    def value(t: float) -> Value | None:
        edited = copy.deepcopy(document)
        bound.move(edited, t)
        return resolver.value(edited)
    return value


def shadow_price_problems(document: dict[str, Any], plan: Plan) -> list[str]:
    """Each shadow price ``plan`` (the document's) shows, measured against re-solves; the problems found."""
    sign = -1.0 if plan.objective_sense == "minimize" else 1.0
    resolvers: dict[float, Resolver] = {}
    problems = []
    for price in plan.shadow_prices:
        bound = locate(document, price)
        resolver = resolvers.setdefault(goal_factor(price.unit), Resolver(goal_factor(price.unit)))
        base = resolver.value(document)
        assert base is not None
        moved = moved_value(resolver, document, bound)
        floor = NEGLIGIBLE * abs(base.amount) / max(bound.scale, 1e-300)
        steep = getattr(price, "steep", None)
        label = f"{price.constraint} [{price.kind}, bound {price.bound:.6g}, {price.unit}]"
        if steep is not None:
            problem = step_problem(steep.size, steep.change, moved, base, sign, floor, "its steep step")
        elif price.price is None:
            problem = "shows no price and no steep step"
        else:
            problem = judge_rate(price.price, moved, base, FIRST_STEP * bound.scale, sign, floor)
        if problem is not None:
            problems.append(f"{label}: {problem}")
    return problems


# --- frontier prices ----------------------------------------------------------------------------------------


def without_own_floors(document: dict[str, Any], pool: str) -> dict[str, Any]:
    """The document with its floors on the pool's SOV (or ESOV) taken out: the frontier moves them."""
    edited = copy.deepcopy(document)
    kept = []
    for constraint in edited.get("constraints", []):
        if constraint["kpi"] in (f"sov.{pool}", f"esov.{pool}") and "min" in constraint:
            constraint = {k: v for k, v in constraint.items() if k != "min"}
            if "max" not in constraint:
                continue
        kept.append(constraint)
    edited["constraints"] = kept
    return edited


def with_constraints(document: dict[str, Any], *extra: dict[str, Any]) -> dict[str, Any]:
    return {**document, "constraints": [*document.get("constraints", []), *extra]}


class FrontierViews:
    """The two re-solved views of a frontier, as functions of the SOV floor (a share).

    A floor past the most SOV a re-solve of the view reaches (one that maximises the pool's SOV there) is
    answered "no plan" without a solve: an infeasible solve is slow (it is explained), and the
    frontier's far end asks for many. (The true most lies within that solve's certified gap of it.)
    """

    def __init__(self, document: dict[str, Any], pool: str, primary: str):
        self.pool, self.primary = pool, primary
        self.resolver = Resolver()
        self.free = without_own_floors(document, pool)
        lead_max = solve_document(self.free)
        assert optimal(lead_max), f"the document without its SOV floors has no plan: {lead_max.message}"
        self.reach = reachable(self.free, pool)
        self.lead_max_level = self._held(lead_max.objective_value, lead_max.sov[pool])
        self.spend_reach = reachable(self._least_spend_document(), pool)

    def most_primary(self, share: float) -> Value | None:
        """P(share): the most primary KPI with SOV at or above ``share``, at the scenario's budget."""
        if share > self.reach:
            return None
        return self.resolver.value(with_constraints(self.free, _floor(self.pool, share)))

    def least_spend(self, share: float) -> Value | None:
        """B(share): the least spend with the primary KPI at the lead-max level and SOV at or above ``share``,
        the budget total set aside."""
        if share > self.spend_reach:
            return None
        return self.resolver.value(with_constraints(self._least_spend_document(), _floor(self.pool, share)))

    def _least_spend_document(self, level: float | None = None) -> dict[str, Any]:
        level = self.lead_max_level if level is None else level
        budget = {k: v for k, v in self.free.get("budget", {}).items() if k not in ("total", "spend_all")}
        held = {"name": "lead-max level", "kpi": self.primary, "min": level}
        return {**with_constraints(self.free, held), "budget": budget, "objective": {"minimize": "spend"}}

    def _held(self, most: float, share: float) -> float:
        """The lead-max level, loosened by the least of ``LEVEL_SLACKS`` that a re-solve's chords reach (they
        lie under the exact curves the lead-max plan's own level was measured on) with SOV at its own."""
        for slack in LEVEL_SLACKS:
            level = most * (1 - slack)
            held = with_constraints(self._least_spend_document(level), _floor(self.pool, share))
            if self.resolver.value(held) is not None:
                return level
        raise AssertionError(f"no re-solve holds the lead-max level {most:.8g} within {LEVEL_SLACKS[-1]:g} of it")


LEVEL_SLACKS = (1e-6, 1e-5, 1e-4, 1e-3)


def reachable(document: dict[str, Any], pool: str) -> float:
    """The most SOV a re-solve of ``document`` reaches (a solve that maximises it), a hair loosened."""
    plan = solve_document({**document, "objective": {"maximize": f"sov.{pool}"}})
    return plan.objective_value * (1 + 1e-9) if optimal(plan) else -math.inf


def _floor(pool: str, share: float) -> dict[str, Any]:
    return {"name": "frontier floor", "kpi": f"sov.{pool}", "min": share}


def at_level(view: Callable[[float], Value | None], share: float) -> tuple[Value | None, float]:
    """The view at ``share``, or a hair below it when the point's own level is just out of a re-solve's reach
    (its exact curves reach a little past the chords a re-solve plans on); the level used."""
    for slack in (0.0, *LEVEL_SLACKS[:3]):
        level = share * (1 - slack)
        value = view(level)
        if value is not None:
            return value, level
    return None, share


@dataclass(frozen=True)
class View:
    """One of a frontier's two views: its value at an SOV floor, and which way a price per point counts it."""

    name: str
    value: Callable[[float], Value | None]
    sign: float
    """+1: the price is the value's rise per point (spend); -1: its fall (the primary KPI lost)."""
    step_field: str
    """The point's field with the finite step that stands in for a NaN price."""


def frontier_price_problem(view: View, shown: float, step: Any, share: float, span: float,
                           allowed: float) -> str | None:
    """One frontier price (per SOV point, up from ``share``) against re-solves of ``view``; ``span`` is the
    frontier's width in SOV points, ``allowed`` the absolute allowance (see ``allowance``)."""
    name, sign = view.name, view.sign
    base, level = at_level(view.value, share)
    if base is None:
        if math.isnan(shown):
            return None  # no plan at the point in this view: nothing to price
        return f"{name} shows {shown:.6g}, but no plan holds this point's SOV in this view"

    def moved(t: float) -> Value | None:
        return view.value(max(level + 0.01 * t, 0.0))

    problems = []
    if step is not None:
        size = step.size if step.direction == "next" else -step.size
        problems.append(step_problem(size, step.change, moved, base, sign, allowed, f"{name}'s {step.direction} step"))
    if not math.isnan(shown):
        problem = judge_rate(shown, moved, base, FIRST_STEP * span, sign, allowed)
        problems.append(None if problem is None else f"{name} {problem}")
    elif step is None:
        problems.append(unpriced_problem(view, moved, base, span, allowed))
    return "; ".join(p for p in problems if p) or None


END_WITHIN = 1e-3
"""SOV points: how far past a frontier's end the exact curves may reach before the end is wrong."""


def unpriced_problem(view: View, moved: Moved, base: Value, span: float, allowed: float) -> str | None:
    """Why a NaN with no finite step is wrong here (None where it is right: the view ends at the point, and
    the last SOV point before it changes nothing, as on a frontier of one point). An end the re-solves pass by
    less than ``END_WITHIN`` of a point is the end, to the linearisation's tolerance (the frontier's programs
    are inner approximations: their most SOV may fall a hair short of the exact curves')."""
    if moved(END_WITHIN) is None:
        return None
    measured = measure(moved, base, FIRST_STEP * span, view.sign, allowed)
    if not measured.undefined:
        return f"{view.name} is NaN with no finite step, though the rate is defined: {measured}"
    last = secant(moved, base, -1.0, view.sign)
    if last is None or abs(last.rate) <= last.noise + allowed:
        return None
    return f"{view.name} is NaN (no plan further) and gives no {view.step_field} (the last SOV point: {last})"


@dataclass(frozen=True)
class Span:
    """A view over the frontier's levels: its value at the first level it has a plan at, and its average
    rate per SOV point from there to the last (None when it has a plan at one level only)."""

    first: Value | None
    average: float | None


def view_span(view: View, levels: list[float]) -> Span:
    values = [(level, value) for level in levels if (value := at_level(view.value, level)[0]) is not None]
    if not values:
        return Span(None, None)
    (first, low), (last, high) = values[0], values[-1]
    return Span(low, abs(high.amount - low.amount) / ((last - first) / 0.01) if last > first else None)


def allowance(span: Span, points: float, average: float | None) -> float:
    """``NEGLIGIBLE`` of the view's value over the frontier's ``points`` SOV points, plus ``FLAT`` of its
    ``average`` rate: a price that small reads as zero beside the frontier's others (from the lead-max
    end, where the rate starts from zero, the tool's and the re-solves' linearisations leave crumbs)."""
    first = abs(span.first.amount) if span.first is not None else 0.0
    return NEGLIGIBLE * first / points + FLAT * (average or 0.0)


def frontier_problems(document: dict[str, Any], far_end_only: bool = False) -> list[str]:
    """Each price of the document's frontier (against its ``objective.secondary``) measured against
    re-solves (``far_end_only``: the far end's); the problems found.

    Where the budget view has a plan at one level only, its average rate is the primary view's priced at
    the lead-max plan's average spend per unit of the primary KPI.
    """
    pool = document["objective"]["secondary"].removeprefix("sov.")
    traced = frontier(scenario_of(document), points=FRONTIER_POINTS, **SOLVE_OPTIONS)
    assert traced.points, f"no frontier: {traced.message}"
    views = FrontierViews(document, pool, document["objective"]["maximize"])
    points = max((traced.points[-1].traded - traced.points[0].traded) / 0.01, 0.1)
    levels = [point.traded for point in traced.points]
    lost = View("primary_lost_per_point", views.most_primary, -1.0, "lost_step")
    budget = View("budget_per_point", views.least_spend, 1.0, "budget_step")
    lost_span, budget_span = view_span(lost, levels), view_span(budget, levels)
    budget_average = budget_span.average
    if budget_average is None and lost_span.average is not None and lost_span.first and budget_span.first:
        budget_average = lost_span.average * budget_span.first.amount / abs(lost_span.first.amount)
    problems = []
    for view, span, average in ((lost, lost_span, lost_span.average), (budget, budget_span, budget_average)):
        allowed = allowance(span, points, average)
        for point in traced.points[-1:] if far_end_only else traced.points:
            problem = frontier_price_problem(view, getattr(point, view.name), getattr(point, view.step_field, None),
                                             point.traded, points, allowed)
            if problem is not None:
                problems.append(f"point {point.kind} at SOV {point.traded:.6f}: {problem}")
    return problems


# --- the tests ---------------------------------------------------------------------------------------------


@functools.cache
def _generated(seed: int) -> Generated:
    """The seed's document (the quick seeds, from 1000 to 1999, have at most ``QUICK_CAMPAIGNS`` campaigns)."""
    return generate(seed, QUICK_CAMPAIGNS if 1000 <= seed < 2000 else 12)


def _report(generated: Generated, problems: list[str]) -> str:
    return generated.describe() + "\n" + "\n".join(f"  - {p}" for p in problems)


def has_frontier(generated: Generated) -> bool:
    objective = generated.document["objective"]
    return "maximize" in objective and not objective["maximize"].startswith("sov.") and "secondary" in objective


@pytest.mark.parametrize("seed", QUICK_PRICES + _many("shadow"))
def test_every_shadow_price_is_the_one_sided_rate_in_its_stated_direction(seed):
    generated = _generated(seed)
    plan = solve(scenario_of(generated.document), **SOLVE_OPTIONS)
    assert optimal(plan), plan.message
    problems = shadow_price_problems(generated.document, plan)
    assert not problems, _report(generated, problems)


@pytest.mark.parametrize("seed", QUICK_FRONTIERS + _many("frontier"))
def test_every_frontier_price_is_the_one_sided_rate_per_sov_point(seed):
    generated = _generated(seed)
    if not has_frontier(generated):
        pytest.skip(f"seed {seed} ({generated.family}): no frontier (no pool, or no maximised volume)")
    problems = frontier_problems(generated.document)
    assert not problems, _report(generated, problems)


def b2b_example(budget: float) -> dict[str, Any]:
    """The B2B example's document at another budget (every campaign in it has a max, every constraint a name)."""
    with (Path(__file__).resolve().parents[1] / "scenarios" / "b2b_saas.toml").open("rb") as handle:
        document = tomllib.load(handle)
    document["budget"]["total"] = budget
    return document


def test_the_b2b_examples_far_end_at_200k():
    """The issue's example: at $200,000 the frontier's far end showed a dual of some 96,000 leads per SOV
    point, where no plan reaches a point further."""
    problems = frontier_problems(b2b_example(200_000), far_end_only=True)
    assert not problems, "b2b_saas.toml at a budget of 200,000:\n" + "\n".join(f"  - {p}" for p in problems)


@pytest.mark.slow
@pytest.mark.parametrize("budget", [200_000, 250_000])
def test_the_b2b_examples_frontier_prices(budget):
    problems = frontier_problems(b2b_example(budget))
    assert not problems, f"b2b_saas.toml at a budget of {budget:,}:\n" + "\n".join(f"  - {p}" for p in problems)


@pytest.mark.slow
@pytest.mark.parametrize("budget", [200_000, 250_000])
def test_the_b2b_examples_shadow_prices(budget):
    document = b2b_example(budget)
    plan = solve(scenario_of(document), **SOLVE_OPTIONS)
    assert optimal(plan), plan.message
    problems = shadow_price_problems(document, plan)
    assert not problems, f"b2b_saas.toml at a budget of {budget:,}:\n" + "\n".join(f"  - {p}" for p in problems)


# --- the measuring itself, on values known in closed form ---------------------------------------------------


def _closed_form(value: Callable[[float], float | None]) -> tuple[Moved, Value]:
    def moved(t: float) -> Value | None:
        found = value(t)
        return None if found is None else Value(found, 0.0)
    return moved, Value(value(0.0), 0.0)


def test_the_finite_difference_takes_the_stated_side_of_a_kink():
    """Gaining 3 per step one way and losing 5 per step the other: only 3 is the rate in the stated direction."""
    moved, base = _closed_form(lambda t: 100 + (3 * t if t > 0 else 5 * t))
    assert rate_problem(3.0, measure(moved, base, 1.0, 1.0, 0.0), 0.0) is None
    assert rate_problem(3.05, measure(moved, base, 1.0, 1.0, 0.0), 0.0) is None
    assert rate_problem(5.0, measure(moved, base, 1.0, 1.0, 0.0), 0.0) is not None
    assert rate_problem(4.0, measure(moved, base, 1.0, 1.0, 0.0), 0.0) is not None


def test_a_rate_that_curves_sharply_is_bracketed_by_the_secants_either_side():
    """t - 40 t^2 does not settle in six halvings from 1; a figure between the secants either side of the
    last step passes (its true rate, 1), one outside them does not."""
    moved, base = _closed_form(lambda t: t - 40 * t * t)
    measured = measure(moved, base, 1.0, 1.0, 0.0)
    assert measured.settled is None and measured.other is not None
    assert rate_problem(1.0, measured, 0.0) is None
    assert rate_problem(3.0, measured, 0.0) is not None


def test_no_plan_further_makes_a_shown_rate_wrong_and_a_right_step_right():
    """The primary KPI falls 7 per SOV point up to the end of the range, past which there is no plan: a rate
    shown there is wrong; the last step's change is checked."""
    moved, base = _closed_form(lambda t: None if t > 0 else 50 - 7 * t)
    assert "undefined" in rate_problem(7.0, measure(moved, base, 1.0, -1.0, 0.0), 0.0)
    assert step_problem(-1.0, 7.0, moved, base, -1.0, 0.0, "the last step") is None
    assert step_problem(-1.0, 9.0, moved, base, -1.0, 0.0, "the last step") is not None
