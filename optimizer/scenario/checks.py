"""Checks that look across a scenario: small functions, each returning the problems it finds.

``check_scenario`` runs them all so that every problem is reported at once. Each problem
names where it is (``campaigns[3] "Search: brand"``, or the CSV row) and how to fix it.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from optimizer.errors import Problem
from optimizer.glossary import GLOSSARY, OUTCOMES, split_pool_kpi
from optimizer.scenario.schema import Campaign, ConstraintSpec, RateSpec, Scenario, TabularSpec, Where, rate_ceiling


class Locator:
    """Names places in a scenario for messages; the loader subclasses it for CSV rows."""

    def campaign(self, index: int, campaign: Campaign | None = None) -> str:
        label = f" {_quote(campaign.name)}" if campaign is not None else ""
        return f"campaigns[{index}]{label}"

    def constraint(self, index: int, constraint: ConstraintSpec | None = None) -> str:
        label = f" {_quote(constraint.name)}" if constraint is not None and constraint.name else ""
        return f"constraints[{index}]{label}"

    def from_table(self, index: int) -> bool:
        """Whether campaign ``index`` came from a table row (a CSV line) rather than a [[campaigns]] table."""
        return False


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def closest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice closest to ``word`` if it is at least ``cutoff`` similar, else ``None``."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return match[0] if match else None


def suggest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean "x"?)`` when a match at least ``cutoff`` close exists, else ``""``."""
    match = closest(word, choices, cutoff)
    return f' (did you mean "{match}"?)' if match else ""


def check_scenario(scenario: Scenario, locator: Locator | None = None) -> list[Problem]:
    """Every cross-field problem in ``scenario``; an empty list when it is consistent."""
    locator = locator or Locator()
    checks: tuple[Callable[[Scenario, Locator], Iterator[Problem]], ...] = (
        check_unique_names,
        check_pool_membership,
        check_outcomes,
        check_spend,
        check_budget,
        check_objective,
        check_constraints,
    )
    return [problem for check in checks for problem in check(scenario, locator)]


def check_unique_names(scenario: Scenario, locator: Locator) -> Iterator[Problem]:
    """Every campaign name is used once."""
    counts = Counter(c.name for c in scenario.campaigns)
    first: dict[str, int] = {}
    for index, campaign in enumerate(scenario.campaigns):
        if campaign.name in first:
            earlier = locator.campaign(first[campaign.name])
            yield Problem(
                locator.campaign(index, campaign),
                f"the name is used by {counts[campaign.name]} campaigns (first by {earlier})",
                "give every campaign a unique name (add the geo or audience to it)",
            )
        first.setdefault(campaign.name, index)


def check_pool_membership(scenario: Scenario, locator: Locator) -> Iterator[Problem]:
    """Campaigns count toward pools that exist, with the volume the pool is measured in."""
    for index, campaign in enumerate(scenario.campaigns):
        for pool_name in campaign.pools:
            pool = scenario.pools.get(pool_name)
            where = f"{locator.campaign(index, campaign)}: pools"
            if pool is None:
                yield Problem(
                    where,
                    f'pool "{pool_name}" is not defined{suggest(pool_name, scenario.pools)}',
                    _define_pool_fix(scenario, pool_name),
                )
            elif pool.volume == "impressions" and campaign.impressions is None:
                yield Problem(
                    where,
                    f'the campaign counts toward pool "{pool_name}", which is measured in impressions, '
                    "but it has no impressions curve",
                    "add impressions = {...} to the campaign or take it out of the pool",
                )


def _define_pool_fix(scenario: Scenario, pool_name: str) -> str:
    define = f"define [pools.{pool_name}] (with competitor_impressions or another measure)"
    if not scenario.pools:
        return f"{define}; the scenario has no pools yet"
    return f"{define} or use one of: {', '.join(scenario.pools)}"


def check_outcomes(scenario: Scenario, locator: Locator) -> Iterator[Problem]:
    """Each campaign defines an outcome; rates point to outcomes it has, without cycles; tables cover its spend."""
    for index, campaign in enumerate(scenario.campaigns):
        where = locator.campaign(index, campaign)
        if not campaign.defined_outcomes():
            yield Problem(where, f"the campaign defines none of {', '.join(OUTCOMES)}",
                          "give it at least leads or impressions")
            continue
        yield from _check_rates(campaign, where)
        yield from _check_tabular_range(campaign, where)
        top = _top_spend(scenario, campaign)
        yield from _check_magnitudes(campaign, where, top)
        yield from _check_scales(campaign, where, top)


def _check_rates(campaign: Campaign, where: str) -> Iterator[Problem]:
    for outcome in campaign.defined_outcomes():
        spec = campaign.outcome(outcome)
        if not isinstance(spec, RateSpec):
            continue
        if spec.of == outcome:
            yield Problem(f"{where}: {outcome}.of", f"{outcome} is given as a rate of itself", "name another outcome")
        elif campaign.outcome(spec.of) is None:
            yield Problem(
                f"{where}: {outcome}.of",
                f'{outcome} is a rate of "{spec.of}", which this campaign does not define',
                _other_outcome_fix(campaign, outcome, spec.of),
            )
        ceiling = rate_ceiling(outcome, spec.of)
        if spec.rate > ceiling:
            yield Problem(
                f"{where}: {outcome}.rate",
                f"rate {spec.rate:g} is above {ceiling:g}, but {outcome} is a fraction of {spec.of}",
                f"write percentages as fractions: {spec.rate / 100:g} for {spec.rate:g}%",
            )
    cycle = _rate_cycle(campaign)
    if len(cycle) > 2:
        yield Problem(
            where,
            "the rates form a cycle: " + " -> ".join(cycle),
            "give one outcome in the cycle a curve of its own",
        )


def _other_outcome_fix(campaign: Campaign, outcome: str, missing: str) -> str:
    others = [o for o in campaign.defined_outcomes() if o != outcome]
    if not others:
        return f"define {missing} for the campaign (a curve of spend), or give {outcome} a curve instead of a rate"
    return f"define {missing} for the campaign or take {outcome} as a rate of one it has ({', '.join(others)})"


def _rate_cycle(campaign: Campaign) -> list[str]:
    for start in campaign.defined_outcomes():
        path = [start]
        spec = campaign.outcome(start)
        while isinstance(spec, RateSpec) and campaign.outcome(spec.of) is not None:
            if spec.of in path:
                return path[path.index(spec.of):] + [spec.of]
            path.append(spec.of)
            spec = campaign.outcome(spec.of)
    return []


def _check_tabular_range(campaign: Campaign, where: str) -> Iterator[Problem]:
    """Spend the plan may use must lie within the simulator's points."""
    spend = campaign.spend
    limits = {"max": spend.max, "min": spend.min, "current": spend.current if spend.locked else None}
    for outcome in campaign.defined_outcomes():
        spec = campaign.outcome(outcome)
        if not isinstance(spec, TabularSpec):
            continue
        last = spec.points[-1][0]
        for key, value in limits.items():
            if value is not None and value > last:
                yield Problem(
                    f"{where}: spend.{key}",
                    f"spend.{key} ({value:,.2f}) is beyond the last point of the {outcome} table ({last:,.2f}); "
                    "the curve is not known there",
                    f"lower spend.{key} or add simulator points up to it",
                )


OUTCOME_CEILING = 1e15
"""No real campaign delivers more of any outcome (1e15 impressions, or dollars of revenue, is beyond
the world's); a curve that claims more has a slip in its parameters, and would overflow the solver."""


def _top_spend(scenario: Scenario, campaign: Campaign) -> float:
    spend = campaign.spend
    budget = scenario.budget.total if scenario.budget is not None else None
    limit = spend.max if spend.max is not None else budget
    return max(limit or 0.0, spend.current, spend.min)


def _check_magnitudes(campaign: Campaign, where: str, top: float) -> Iterator[Problem]:
    """Each outcome, at the most the campaign may spend, stays within what any campaign delivers.

    Only the first outcome of a chain of rates to go too far is reported: those resting on it follow.
    """
    reach = {outcome: _reach(campaign, outcome, top) for outcome in campaign.defined_outcomes()}
    for outcome, value in reach.items():
        spec = campaign.outcome(outcome)
        rests_on_excess = isinstance(spec, RateSpec) and reach.get(spec.of, 0.0) > OUTCOME_CEILING
        if value > OUTCOME_CEILING and not rests_on_excess:
            shown = f"{value:.3g}" if math.isfinite(value) else "more than 1e308"
            yield Problem(
                f"{where}: {outcome}",
                f"{outcome} would reach {shown} at a spend of {_amount(top)}, more than any campaign delivers",
                _magnitude_fix(campaign, outcome),
            )
        if 0 < value < OUTCOME_FLOOR and top >= OUTCOME_FLOOR and not isinstance(spec, RateSpec):
            yield Problem(
                f"{where}: {outcome}",
                f"{outcome} would reach only {value:.3g} at a spend of {_amount(top)}: too little to plan with",
                _magnitude_fix(campaign, outcome),
            )


def _reach(campaign: Campaign, outcome: str, top: float) -> float:
    """The most of ``outcome`` a spend of ``top`` can buy (0 when a rate leads nowhere or in a cycle)."""
    spec, multiplier, seen = campaign.outcome(outcome), 1.0, {outcome}
    while isinstance(spec, RateSpec) and spec.of not in seen:
        multiplier *= spec.rate
        seen.add(spec.of)
        spec = campaign.outcome(spec.of)
    if spec is None or isinstance(spec, RateSpec):
        return 0.0  # reported by _check_rates
    return multiplier * spec.ceiling(top)


OUTCOME_FLOOR = 1e-12
"""A curve that buys less than this at the most the campaign may spend has a slip in its parameters."""

SCALE_FLOOR = 1e-9
"""A curve's spend scale (``scale``, ``half``) or a table's step below this fraction of the spend the
campaign may use makes the curve a step at float precision: nothing a solver can price."""


def _check_scales(campaign: Campaign, where: str, top: float) -> Iterator[Problem]:
    """Curves bend over a spend range the plan can see, not within a rounding error of zero."""
    for outcome in campaign.defined_outcomes():
        spec = campaign.outcome(outcome)
        for key in ("scale", "half"):
            value = getattr(spec, key, None)
            if value is not None and value < SCALE_FLOOR * top:
                yield Problem(
                    f"{where}: {outcome}.{key}",
                    f"{key} {value:.3g} is a vanishing fraction of the spend range (up to {_amount(top)}): the "
                    f"curve would jump to its top at once",
                    f"write {key} in the currency's units, as a spend level (e.g. {_amount(top / 4)})"
                    + ("" if campaign.spend.max is not None else ", or give the campaign a spend.max"),
                )
        if isinstance(spec, TabularSpec):
            yield from _check_table_steps(spec, f"{where}: {outcome}.points")


def _check_table_steps(spec: TabularSpec, where: str) -> Iterator[Problem]:
    spends = [point[0] for point in spec.points]
    span = spends[-1] - spends[0]
    for k in range(1, len(spends)):
        if spends[k] - spends[k - 1] < SCALE_FLOOR * span:
            yield Problem(
                where,
                f"points {k} and {k + 1} are only {spends[k] - spends[k - 1]:.3g} apart in spend, a vanishing "
                "fraction of the table's range: the curve would be a vertical step there",
                f"merge the two points, or space them at least {_amount(SCALE_FLOOR * span * 1000)} apart",
            )


def _amount(value: float) -> str:
    return f"{value:,.2f}" if 0.01 <= value < 1e15 else f"{value:.3g}"


def _magnitude_fix(campaign: Campaign, outcome: str) -> str:
    spec = campaign.outcome(outcome)
    if isinstance(spec, RateSpec):
        return f"check the rates from {outcome} down to its curve"
    hints = {
        "power": "check coef and exponent (an exponent is usually between 0.2 and 1)",
        "linear": "check unit_cost: it is the cost of one unit, in the scenario's currency",
        "exponential": "check max: it is the most the campaign can deliver",
        "hill": "check max: it is the most the campaign can deliver",
        "log": "check coef: it is the outcome gained as spend grows e-fold",
    }
    return hints.get(getattr(spec, "curve", ""), "check the curve's parameters")


def check_spend(scenario: Scenario, locator: Locator) -> Iterator[Problem]:
    """Every campaign has an upper limit, and its observed range runs upward (ranges that cannot hold
    are conflicts: see ``solver.precheck``)."""
    has_budget = scenario.budget is not None and scenario.budget.total is not None
    for index, campaign in enumerate(scenario.campaigns):
        spend = campaign.spend
        where = f"{locator.campaign(index, campaign)}: spend"
        tabular = any(isinstance(campaign.outcome(o), TabularSpec) for o in OUTCOMES)
        if spend.max is None and not spend.locked and not has_budget and not tabular:
            yield Problem(
                where,
                "the campaign has no max and the scenario has no budget total, so its spend is unbounded",
                "set spend.max for the campaign or [budget] total",
            )
        low, high = spend.observed_min, spend.observed_max
        if low is not None and high is not None and low > high:
            yield Problem(
                f"{where}.observed_min",
                f"the lowest spend observed ({low:g}) is above the highest ({high:g})",
                "swap observed_min and observed_max",
            )


def check_budget(scenario: Scenario, locator: Locator) -> Iterator[Problem]:
    """spend_all has a total; max_change is a fraction, not a percentage."""
    budget = scenario.budget
    if budget is not None and budget.spend_all and budget.total is None:
        yield Problem("budget.spend_all", "spend_all = true needs a budget total", "set budget.total")
    if budget is not None and budget.max_change is not None:
        yield from _check_max_change(budget.max_change, "budget.max_change")
    for index, campaign in enumerate(scenario.campaigns):
        if campaign.spend.max_change is not None:
            where = f"{locator.campaign(index, campaign)}: spend.max_change"
            yield from _check_max_change(campaign.spend.max_change, where)


_MAX_CHANGE_LIMIT = 5.0


def _check_max_change(value: float, where: str) -> Iterator[Problem]:
    if value > _MAX_CHANGE_LIMIT:
        yield Problem(
            where,
            f"max_change {value:g} allows moves of up to {value:.0%}; it is a fraction of current spend",
            f"write {value / 100:g} for +/-{value:g}%",
        )


def check_objective(scenario: Scenario, locator: Locator) -> Iterator[Problem]:
    """The goal is a volume KPI some campaign defines (or spend, minimised)."""
    objective = scenario.objective
    if objective.minimize is not None and objective.minimize != "spend":
        yield Problem(
            "objective.minimize",
            f'only spend can be minimised (got "{objective.minimize}")',
            'use minimize = "spend" with KPI floors, or maximize a volume KPI',
        )
    if objective.maximize is not None:
        yield from _check_volume_kpi(scenario, objective.maximize, "objective.maximize")
    if objective.secondary is not None:
        yield from _check_volume_kpi(scenario, objective.secondary, "objective.secondary")


def _check_volume_kpi(scenario: Scenario, kpi: str, where: str) -> Iterator[Problem]:
    pooled = split_pool_kpi(kpi)
    if pooled is not None and pooled[0] == "sov":
        yield from _check_pool_kpi(scenario, pooled[1], where)
        return
    definition = GLOSSARY.get(kpi)
    if definition is None or definition.kind != "volume" or kpi == "spend":
        if definition is not None and definition.kind == "ratio":
            yield Problem(
                where,
                f'"{kpi}" is a ratio, which rewards shrinking the plan and is never an objective',
                f"maximize a volume (leads, mqls, ...) and cap {kpi} with a constraint",
            )
        else:
            choices = [*OUTCOMES, *(f"sov.{p}" for p in scenario.pools)]
            yield Problem(
                where, f'"{kpi}" is not a volume KPI{suggest(kpi, choices)}', f"use one of: {', '.join(choices)}"
            )
        return
    if not any(c.outcome(kpi) is not None for c in scenario.campaigns):
        yield Problem(where, f"no campaign defines {kpi}", f"add {kpi} to the campaigns or choose another KPI")


def _check_pool_kpi(scenario: Scenario, pool_name: str, where: str) -> Iterator[Problem]:
    if pool_name not in scenario.pools:
        yield Problem(
            where,
            f'pool "{pool_name}" is not defined{suggest(pool_name, scenario.pools)}',
            _define_pool_fix(scenario, pool_name),
        )
    elif not any(pool_name in c.pools for c in scenario.campaigns):
        yield Problem(where, f'no campaign counts toward pool "{pool_name}"', f'add "{pool_name}" to campaigns\' pools')


def check_constraints(scenario: Scenario, locator: Locator) -> Iterator[Problem]:
    """Each constraint names a known KPI, a selection that matches, and bounds in the KPI's units."""
    for index, constraint in enumerate(scenario.constraints):
        where = locator.constraint(index, constraint)
        yield from _check_constraint(scenario, constraint, where)


def _check_constraint(scenario: Scenario, constraint: ConstraintSpec, where: str) -> Iterator[Problem]:
    kpi = constraint.kpi
    pooled = split_pool_kpi(kpi)
    if pooled is not None:
        yield from _check_pool_constraint(scenario, constraint, pooled, where)
        return
    definition = GLOSSARY.get(kpi)
    if definition is None or definition.kind not in ("volume", "ratio", "share") or kpi in ("sov", "esov"):
        choices = [k for k in GLOSSARY if k not in ("sov", "esov")] + [f"sov.{p}" for p in scenario.pools]
        yield Problem(
            f"{where}: kpi",
            f'unknown KPI "{kpi}"{suggest(kpi, choices)}',
            f"use one of: {', '.join(choices)} (`tradeoff kpis` explains each)",
        )
        return
    selected = list(_select(scenario, constraint.where))
    if constraint.where is not None:
        yield from _check_where(scenario, constraint.where, f"{where}: where")
        if not selected and not list(_where_typos(scenario, constraint.where)):
            yield _empty_selection(scenario, constraint.where, f"{where}: where")
    if kpi == "share":
        if constraint.where is None:
            yield Problem(where, "a share constraint needs a selection", 'add where = { stage = "awareness" }, say')
        yield from _check_fraction(constraint, where, "share of spend")
    if definition.kind == "ratio":
        yield from _check_ratio_bounds(constraint, definition.unit, where)
    if kpi not in ("spend", "share"):
        yield from _check_exact_target(constraint, where)
    for volume in (definition.numerator, definition.denominator) if definition.kind == "ratio" else (kpi,):
        if volume in OUTCOMES and selected and not any(c.outcome(volume) is not None for c in selected):
            yield Problem(
                where,
                f"{kpi} needs {volume}, which no selected campaign defines",
                f"add {volume} to the campaigns or drop the constraint",
            )


def _check_pool_constraint(
    scenario: Scenario, constraint: ConstraintSpec, pooled: tuple[str, str], where: str
) -> Iterator[Problem]:
    kind, pool_name = pooled
    yield from _check_pool_kpi(scenario, pool_name, f"{where}: kpi")
    if constraint.where is not None:
        yield Problem(
            f"{where}: where",
            f"{kind} is measured over the pool's campaigns, so where does not apply",
            "remove where (change which campaigns count with each campaign's pools)",
        )
    yield from _check_exact_target(constraint, where)
    pool = scenario.pools.get(pool_name)
    if pool is None:
        return
    if kind == "esov" and pool.som is None:
        # the message names som, so that it is not repeated when a som the file gives was set aside
        yield Problem(where, f'esov needs the share of market (som) of pool "{pool_name}"',
                      f"set pools.{pool_name}.som")
    elif kind == "esov":
        yield from _check_excess_range(constraint, where, pool.som or 0.0, pool.against_competitors)
    if kind == "sov":
        yield from _check_fraction(constraint, where, "share of voice", open_top=pool.against_competitors)


def _check_excess_range(constraint: ConstraintSpec, where: str, som: float, open_top: bool) -> Iterator[Problem]:
    """ESOV = SOV - SOM, so a bound must lie between -SOM and 1 - SOM."""
    for side in ("min", "max"):
        bound = getattr(constraint, side)
        if bound is None:
            continue
        if bound < -som or bound > 1 - som or (open_top and bound >= 1 - som):
            yield Problem(
                f"{where}: {side}",
                f"ESOV {bound:+g} is out of reach: with a share of market of {som:g}, ESOV runs from {-som:+g} "
                f"to {1 - som:+g}",
                "give ESOV as a fraction (0.05 for +5 points) within that range",
            )


def _check_exact_target(constraint: ConstraintSpec, where: str) -> Iterator[Problem]:
    if constraint.min is not None and constraint.min == constraint.max:
        yield Problem(
            where,
            f"min and max are both {constraint.min:g}: an exact {constraint.kpi} target cannot be certified on a curve",
            "give a range (min below max)",
        )


def _check_fraction(constraint: ConstraintSpec, where: str, what: str, open_top: bool = False) -> Iterator[Problem]:
    for side in ("min", "max"):
        bound = getattr(constraint, side)
        if bound is None:
            continue
        if bound > 1:
            yield Problem(
                f"{where}: {side}",
                f"{bound:g} is not a {what} ({what} is a fraction between 0 and 1)",
                f"write {bound / 100:g} for {bound:g}%",
            )
        elif bound < 0 or (open_top and bound >= 1):
            top = "below 1" if open_top else "at most 1"
            yield Problem(f"{where}: {side}", f"{bound:g} is out of range", f"give a fraction from 0 to {top}")


def _check_ratio_bounds(constraint: ConstraintSpec, unit: str, where: str) -> Iterator[Problem]:
    for side in ("min", "max"):
        bound = getattr(constraint, side)
        if bound is None:
            continue
        if unit == "percent" and constraint.kpi != "roi" and bound > 1:
            yield Problem(
                f"{where}: {side}",
                f"{constraint.kpi} {bound:g} is above 100%",
                f"write {constraint.kpi} as a fraction: {bound / 100:g} for {bound:g}%",
            )
        elif unit != "percent" and bound <= 0:
            yield Problem(f"{where}: {side}", f"{constraint.kpi} must be positive (got {bound:g})",
                          "give a positive bound")


def _check_where(scenario: Scenario, where_spec: Where, where: str) -> Iterator[Problem]:
    for key, value, known in _where_typos(scenario, where_spec):
        yield Problem(
            f"{where}.{key}",
            f'no campaign has {key} "{value}"{suggest(value, known)}',
            f"use one of: {', '.join(sorted(known)[:12])}",
        )


def _empty_selection(scenario: Scenario, where_spec: Where, where: str) -> Problem:
    """A problem for a selection that matches no campaign, saying what the campaigns do have."""
    given = where_spec.model_dump(exclude_none=True)
    message = f"no campaign matches {where_spec.describe()}"
    if len(given) > 1:
        return Problem(where, message + " (every key must match)",
                       "drop a key, or give a list of values to a key to match any of them")
    key = next(iter(given))
    present = sorted({value for c in scenario.campaigns for value in _where_values(c, key)})
    return Problem(where, message, f"use a {key} some campaign has: {', '.join(present[:12]) or 'none'}")


def _where_values(campaign: Campaign, key: str) -> tuple[str, ...]:
    if key == "tag":
        return campaign.tags
    return (getattr(campaign, key),)


def _where_typos(scenario: Scenario, where_spec: Where) -> Iterator[tuple[str, str, set[str]]]:
    known = {
        "channel": {c.channel for c in scenario.campaigns},
        "tag": {t for c in scenario.campaigns for t in c.tags},
        "name": {c.name for c in scenario.campaigns},
    }
    for key, values in known.items():
        for value in getattr(where_spec, key) or ():
            if value not in values:
                yield key, value, values


def selects(where: Where | None, campaign: Campaign) -> bool:
    """Whether ``campaign`` is in the selection (``None`` selects every campaign)."""
    return where is None or where.matches(campaign.stage, campaign.channel, campaign.tags, campaign.name)


def _select(scenario: Scenario, where: Where | None) -> Iterator[Campaign]:
    return (c for c in scenario.campaigns if selects(where, c))
