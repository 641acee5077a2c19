"""What a client report says, as text and tables: computed once, laid out as PDF or as HTML.

Every figure comes from the recommended ``Plan`` (its KPIs, allocation and binding constraints)
or from its ``Frontier`` point (the price of the traded KPI in three views), never computed a
second way here.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from optimizer import __version__
from optimizer.errors import Problem, ScenarioError
from optimizer.formatting import (
    ROUND_OFF,
    count,
    counted,
    kpi_value,
    money,
    money_price,
    percent,
    price_figure,
    signed_count,
    signed_percent,
    signed_points,
    within,
)
from optimizer.glossary import GLOSSARY
from optimizer.pareto.recommend import RECOMMENDED_LEVEL, Recommendation
from optimizer.pareto.result import Frontier, FrontierPoint
from optimizer.pareto.text import budget_per_step, lost_per_step, step_sentence, step_text, today_apart, traded_text
from optimizer.plan import CampaignResult, Plan, ShadowPrice
from optimizer.plan_text import readable_price
from optimizer.scenario.images import MAX_LOGO_PIXELS, logo_size_problem
from optimizer.scenario.schema import LOGO_SUFFIXES, Scenario

DEFAULT_PRIMARY, DEFAULT_ACCENT = "#1F3B5B", "#D62728"
CAMPAIGN_ROWS = 14
"""Campaigns listed by name; the rest (the smallest moves) are summed in one row."""
CONSTRAINT_ROWS = 7
HELD_BY = {"max": "its max", "min": "its min", "locked": "locked", "max_change": "change limit", "budget": "budget"}
"""Why a campaign cannot move further, in words (``CampaignResult.at_bound``)."""


@dataclass(frozen=True)
class Table:
    """Rows of text cells; ``align`` has one letter per column (``l`` or ``r``); ``total`` is set apart."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: str
    total: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Brand:
    """The report's colours and logo (a PNG or JPEG file), from the scenario's ``[report]`` table."""

    primary: str = DEFAULT_PRIMARY
    accent: str = DEFAULT_ACCENT
    logo: Path | None = None
    prepared_by: str | None = None

    def __post_init__(self) -> None:
        # The colours go into the HTML's style sheet as they are: only #RRGGBB may.
        for name in ("primary", "accent"):
            if not re.fullmatch(r"#[0-9A-Fa-f]{6}", getattr(self, name)):
                raise ValueError(f"{name} must be a colour written #RRGGBB, not {getattr(self, name)!r}")
        if self.logo is not None and Path(self.logo).suffix.lower() not in LOGO_SUFFIXES:
            raise ValueError(f"the logo must be a PNG or JPEG file, not {self.logo}")


def check_logo(path: Path, source: str = "") -> None:
    """Refuse a logo that is not a PNG or JPEG image a report can show, reading its header only: a
    logo is decoded only once this has passed (a 20,000 x 20,000 image would take gigabytes)."""
    problem = logo_size_problem(Path(path))
    if problem is not None:
        raise ScenarioError([Problem("report.logo", f'"{Path(path).name}" {problem}',
                                     f"give a PNG or JPEG file of at most {MAX_LOGO_PIXELS:,} pixels "
                                     "(a logo a few hundred pixels wide is plenty)")], source)


@dataclass(frozen=True)
class ReportContent:
    """Everything a report shows, in reading order."""

    title: str
    subtitle: str
    headline: str
    subhead: str
    prices: tuple[str, ...]
    stages: Table
    campaigns: Table
    constraints: Table
    notes: tuple[str, ...]
    assumptions: tuple[str, ...]
    footer: str
    frontier: Frontier
    brand: Brand = field(default_factory=Brand)

    @property
    def chart_note(self) -> str:
        """The chart's subtitle: what each point is (the page's header names the scenario)."""
        return f"the most {self.frontier.primary} the budget buys at each level"


def report_content(recommendation: Recommendation, scenario: Scenario, brand: Brand | None = None,
                   date: dt.date | None = None, settings: Sequence[str] = ()) -> ReportContent:
    """The report of ``recommendation`` (see ``optimizer.pareto.recommend``) for ``scenario``.

    ``settings`` are the changes made to the scenario's file for this run (``--variant stretch``,
    ``--set budget.total=300000``): the assumptions list them, so the page says what it shows.
    """
    plan, traced = recommendation.plan, recommendation.frontier
    assert plan is not None, "no report without a plan"
    brand = brand or Brand()
    date = date or dt.date.today()
    return ReportContent(
        title=scenario.name,
        subtitle=_subtitle(plan, scenario, brand, date),
        headline=headline(plan, traced),
        subhead=_subhead(plan, traced, recommendation.basis),
        prices=price_sentences(traced, recommendation.point),
        stages=stage_table(plan, traced.primary),
        campaigns=campaign_table(plan, traced.primary),
        constraints=constraint_table(plan, traced, recommendation.point),
        notes=_notes(recommendation),
        assumptions=(*_settings_line(settings), *assumptions(plan, scenario), *_knee_line(traced)),
        footer=f"Prepared {date.isoformat()} with kpi-tradeoff {__version__}",
        frontier=traced,
        brand=brand,
    )


def _subtitle(plan: Plan, scenario: Scenario, brand: Brand, date: dt.date) -> str:
    budget = scenario.budget.total if scenario.budget is not None else None
    parts = [scenario.period or "", f"budget {money(budget, plan.currency)}" if budget is not None else "",
             f"prepared {date.day} {date:%B %Y}", f"by {brand.prepared_by}" if brand.prepared_by else ""]
    return " · ".join(part for part in parts if part)


def _notes(recommendation: Recommendation) -> tuple[str, ...]:
    """Page 2's notes, what changes the decision first: a replaced floor; then the frontier's own (a floor
    out of reach, a point today's split beats, before the curves it stretches past their data); then the
    plan's (the constraints today's split breaks first)."""
    plan, traced = recommendation.plan, recommendation.frontier
    assert plan is not None
    notes = [*traced.warnings, *plan.warnings]
    if recommendation.replaced_floor is not None:
        floor, level = (traded_text(traced, v) for v in (recommendation.replaced_floor, recommendation.point.traded))
        notes.insert(0, f"the scenario's own floor of {floor} {traced.secondary_label} is replaced here by the "
                        f"recommended level, {level}")
    return tuple(dict.fromkeys(_sentence(note) for note in notes))


def unit_cost_kpi(primary: str) -> str | None:
    """The glossary's cost per unit of ``primary`` (``cpl`` for leads, ``cac`` for customers)."""
    return next((k.name for k in GLOSSARY.values()
                 if k.kind == "ratio" and k.numerator == "spend" and k.denominator == primary), None)


def quantity(kpi: str, value: float, currency: str) -> str:
    """``1,420 leads``; an amount of money reads as one: ``$2,821,948 of revenue``."""
    if _is_money(kpi):
        return f"{money(value, currency, 0)} of {kpi}"
    return f"{kpi_value(kpi, value, currency)} {kpi}"


def _is_money(kpi: str) -> bool:
    return kpi in GLOSSARY and GLOSSARY[kpi].unit == "currency"


def traded_of(plan: Plan, kpi: str, current: bool = False) -> float:
    """The plan's (or today's split's) value of the traded KPI: a pool's share, or a volume."""
    if kpi.startswith("sov."):
        shares = plan.current_sov if current else plan.sov
        return shares.get(kpi.removeprefix("sov."), math.nan)
    return (plan.current_kpis if current else plan.kpis).get(kpi, math.nan)


def headline(plan: Plan, traced: Frontier) -> str:
    """``Recommended: 1,420 leads at 22.0% Search SOV, CPL $176; the current split gives 1,180 leads at 19.0%.``"""
    c, primary, label = plan.currency, traced.primary, traced.secondary_label
    level = traded_text(traced, traded_of(plan, traced.secondary))
    cost = unit_cost_kpi(primary)
    cost_text = f", {cost.upper()} {kpi_value(cost, plan.kpis.get(cost), c)}" if cost else ""
    now = plan.current_kpis.get(primary, math.nan)
    apart = today_apart(traced)
    today = (f"; {apart}" if apart else f"; the current split gives {quantity(primary, now, c)} at "
             f"{traded_text(traced, traded_of(plan, traced.secondary, current=True))}")
    return f"Recommended: {quantity(primary, plan.kpis[primary], c)} at {level} {label}{cost_text}{today}."


def _subhead(plan: Plan, traced: Frontier, basis: str) -> str:
    certificate = f"The point sits {basis}; the plan is {within(plan.gap)}."
    if today_apart(traced) is not None:
        return certificate
    return f"{_against_today(plan, traced)} {certificate}"


def _against_today(plan: Plan, traced: Frontier) -> str:
    """``+705 leads (+15.8%) and +3.6 points of Search SOV against today, for $25,000 more spend.``"""
    primary, c = traced.primary, plan.currency
    now, new = plan.current_kpis.get(primary, math.nan), plan.kpis[primary]
    spend_now, spend = plan.current_kpis.get("spend", math.nan), plan.kpis["spend"]
    gained = round(new) - round(now)  # the difference of the figures the headline shows
    amount = quantity(primary, abs(gained), c) if _is_money(primary) else f"{abs(gained):,} {primary}"
    change = f"{'-' if gained < 0 else '+' if gained > 0 else ''}{amount}"
    change += f" ({signed_percent(new / now - 1)})" if now > 0 else ""
    level = traded_of(plan, traced.secondary) - traded_of(plan, traced.secondary, current=True)
    label = traced.secondary_label
    moved = f"{signed_points(level)} of {label}" if traced.is_share else f"{signed_count(level)} {label}"
    budget = (f"for {money(spend - spend_now, c)} more spend" if spend > spend_now + 0.5
              else f"for {money(spend_now - spend, c)} less spend" if spend < spend_now - 0.5
              else "for the same spend")
    return f"{change} and {moved} against today, {budget}."


def price_sentences(traced: Frontier, point: FrontierPoint) -> tuple[str, ...]:
    """The price of the traded KPI at ``point`` in its three views: the primary KPI at a fixed budget,
    the budget at a constant primary KPI, and (for a share of voice) the CPC inside the pool."""
    views = [_fixed_budget(traced, point), _constant_primary(traced, point)]
    if traced.is_share:
        views.append(_inside_pool(traced, point))
    return tuple(views)


def _fixed_budget(traced: Frontier, point: FrontierPoint) -> str:
    first, c, primary = traced.points[0], traced.currency, traced.primary
    lost, step = lost_per_step(traced, point), step_text(traced)
    at = traded_text(traced, point.traded)
    if point is traced.points[-1]:
        last = f"; {step_sentence(traced, point.lost_step, _priced(primary, point.lost_step.change, c))}" \
            if point.lost_step is not None and not math.isfinite(lost) else ""
        head = f"At a fixed budget: {at} is the most {traced.secondary_label} the budget can buy{last}. "
    elif point.lost_step is not None:
        step_cost = step_sentence(traced, point.lost_step, _priced(primary, point.lost_step.change, c))
        head = f"At a fixed budget: {_sentence(step_cost)}. "
    elif not math.isfinite(lost):
        head = ""
    elif abs(lost) < ROUND_OFF:
        head = f"At a fixed budget: each extra {step} costs nothing here. "
    else:
        verb = "costs" if lost > 0 else "gains"
        head = f"At a fixed budget: each extra {step} {verb} about {_priced(primary, abs(lost), c)} here. "
    given_up = first.primary - point.primary
    if point is first:
        return head + f"The plan with the most {primary} already reaches {at}, so this level costs nothing."
    if given_up < 0.5:
        return head + (f"Reaching {at} costs almost nothing against the plan with the most {primary}, which "
                       f"reaches {traded_text(traced, first.traded)}.")
    most = quantity(primary, first.primary, c)
    return head + (f"Reaching {at} gives up {quantity(primary, given_up, c)} of the {most} the budget can buy, and "
                   f"{_cost_moves(traced, first, point)}.")


def _cost_moves(traced: Frontier, first: FrontierPoint, point: FrontierPoint) -> str:
    """``moves CPL from $42.73 to $47.29 and blended CPC from $2.17 to $2.39``; a cost that does not move
    (a CPL held at its cap) is kept: ``keeps CPL at $46.00 and moves blended CPC from $2.30 to $2.34``."""
    c, kept, moved = traced.currency, [], []
    cost = unit_cost_kpi(traced.primary)
    shown = [(cost.upper(), *(money(p.kpis.get(cost, math.nan), c) for p in (first, point)))] if cost else []
    for name, before, after in [*shown, ("blended CPC", money(first.cpc, c), money(point.cpc, c))]:
        (kept if before == after else moved).append((name, before, after))
    parts = []
    if kept:
        parts.append("keeps " + " and ".join(f"{name} at {after}" for name, _, after in kept))
    if moved:
        parts.append("moves " + " and ".join(f"{name} from {before} to {after}" for name, before, after in moved))
    return " and ".join(parts)


def _priced(kpi: str, value: float, currency: str) -> str:
    """A price in the primary KPI, to three figures: ``1.75 leads``, ``$210.40 of revenue``."""
    return f"{money(value, currency)} of {kpi}" if _is_money(kpi) else f"{price_figure(value)} {kpi}"


def _constant_primary(traced: Frontier, point: FrontierPoint) -> str:
    first, c, primary = traced.points[0], traced.currency, traced.primary
    kept, at = quantity(primary, first.primary, c), traded_text(traced, point.traded)
    if not (math.isfinite(point.extra_budget) and math.isfinite(point.budget_per_point)):
        return f"At constant {primary}: no budget within the campaigns' limits keeps {kept} at {at}."
    return f"At constant {primary}: keeping all {kept} at {at} {_extra_budget(point.extra_budget, c)}" \
           f"{'' if point is traced.points[-1] else _further(traced, point)}."


def _extra_budget(extra: float, currency: str) -> str:
    """``takes $6,714 more budget``; ``takes no more budget`` when the budget already holds it."""
    if round(extra) <= 0:
        return "takes no more budget"
    return f"takes {money(extra, currency, 0)} more budget"


def _further(traced: Frontier, point: FrontierPoint) -> str:
    """``, and each further point of Search SOV about $205`` (``saves`` for a price below zero)."""
    each, step = budget_per_step(traced, point), step_text(traced)
    if abs(each) < ROUND_OFF:
        return f", and each further {step} costs no more"
    verb = "about" if each > 0 else "saves about"
    return f", and each further {step} {verb} {money_price(abs(each), traced.currency)}"


def _inside_pool(traced: Frontier, point: FrontierPoint) -> str:
    first, c, label = traced.points[0], traced.currency, traced.secondary_label
    if point is first:
        return (f"Inside the pool: the campaigns that buy {label} pay {money(point.pool_cpc, c)} a click on average "
                f"and {money(point.pool_marginal_cpc, c)} for the next one.")
    moves = "rises" if point.pool_marginal_cpc > first.pool_marginal_cpc else "falls"
    return (f"Inside the pool: the marginal CPC of the campaigns that buy {label} {moves} from "
            f"{money(first.pool_marginal_cpc, c)} to {money(point.pool_marginal_cpc, c)} (their average CPC from "
            f"{money(first.pool_cpc, c)} to {money(point.pool_cpc, c)}).")


def stage_table(plan: Plan, primary: str = "leads") -> Table:
    """Spend by funnel stage, today and recommended, with the primary KPI the plan buys there."""
    c = plan.currency
    now, new, bought = stage_sums(plan, primary)
    total_now, total = sum(now.values()), sum(new.values())
    rows = tuple((stage.capitalize(), _spend(now[stage], c), _spend(new[stage], c), _change(now[stage], new[stage]),
                  percent(new[stage] / total if total else math.nan, 0), kpi_value(primary, bought[stage], c))
                 for stage in new)
    totals = ("Total", _spend(total_now, c), _spend(total, c), _change(total_now, total), "100%",
              kpi_value(primary, sum(bought.values()), c))
    return Table(("Stage", "Today", "Plan", "Change", "Share", column_name(primary)), rows, "lrrrrr", totals)


def column_name(kpi: str) -> str:
    """``Leads``, ``MQLs``, ``Revenue``: a KPI as a column's header."""
    return {"mqls": "MQLs", "sqls": "SQLs"}.get(kpi, kpi.capitalize())


def stage_sums(plan: Plan, primary: str) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Spend today, spend recommended and the primary KPI bought, by funnel stage (in the plan's order)."""
    now, new, bought = defaultdict(float), defaultdict(float), defaultdict(float)
    for row in plan.allocation:
        now[row.stage] += row.current_spend
        new[row.stage] += row.spend
        bought[row.stage] += outcome(row, primary)
    return dict(now), dict(new), dict(bought)


def outcome(row: CampaignResult, primary: str) -> float:
    """A campaign's amount of the primary KPI (its leads, MQLs, ... or revenue)."""
    return float(getattr(row, primary, math.nan))


def _spend(value: float, currency: str) -> str:
    """Spend in whole units of money, as a budget reads: ``$600``, ``$4,583,991``."""
    return money(value, currency, 0)


def _change(before: float, after: float) -> str:
    if before > 0:
        return signed_percent(after / before - 1)
    return "new" if after > 0 else "–"


def campaign_table(plan: Plan, primary: str = "leads", limit: int = CAMPAIGN_ROWS) -> Table:
    """Each campaign's spend today and recommended, what it buys and what holds it; past ``limit``
    campaigns, the largest moves are listed and the rest summed in one row."""
    c = plan.currency
    cost = unit_cost_kpi(primary)
    ordered = sorted(plan.allocation, key=lambda r: -abs(r.spend - r.current_spend))
    shown = ordered if len(ordered) <= limit else ordered[: limit - 1]
    shown = sorted(shown, key=lambda r: (r.stage, -r.spend))

    def per_unit(spend: float, bought: float) -> str:
        figure = cost_per_unit(primary, spend, bought)
        return kpi_value("roas", figure, c) if cost is None else money(figure, c)

    rows = [(r.campaign, r.stage, _spend(r.current_spend, c), _spend(r.spend, c), _change(r.current_spend, r.spend),
             kpi_value(primary, outcome(r, primary), c), per_unit(r.spend, outcome(r, primary)),
             HELD_BY.get(r.at_bound or "", r.at_bound or "")) for r in shown]
    rest = [r for r in ordered if r not in shown]
    if rest:
        now, new = sum(r.current_spend for r in rest), sum(r.spend for r in rest)
        bought = sum(outcome(r, primary) for r in rest)
        rows.append((f"{len(rest)} other campaigns", "", _spend(now, c), _spend(new, c),
                     _change(now, new), kpi_value(primary, bought, c), per_unit(new, bought), ""))
    k, q = plan.kpis, plan.current_kpis
    total = ("Total", "", _spend(q["spend"], c), _spend(k["spend"], c), _change(q["spend"], k["spend"]),
             kpi_value(primary, k[primary], c), per_unit(k["spend"], k[primary]), "")
    unit = cost.upper() if cost else "ROAS"
    headers = ("Campaign", "Stage", "Today", "Plan", "Change", column_name(primary), unit, "Held by")
    return Table(headers, tuple(rows), "llrrrrrl", total)


def cost_per_unit(primary: str, spend: float, bought: float) -> float:
    """Cost per unit of the primary KPI (``unit_cost_kpi``: CPL for leads, CPM per 1,000 impressions); for a
    primary KPI without one (revenue), its return on spend."""
    cost = unit_cost_kpi(primary)
    if cost is None:
        return bought / spend if spend else math.nan
    return GLOSSARY[cost].scale * spend / bought if bought else math.nan


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def constraint_table(plan: Plan, traced: Frontier, point: FrontierPoint, limit: int = CONSTRAINT_ROWS) -> Table:
    """The binding constraints and what relaxing each is worth (``report_constraints``)."""
    c = plan.currency
    binding = report_constraints(plan, traced, point)
    shown = binding[:limit]
    rows = [(p.constraint, kpi_value(p.kpi, p.bound, c) if p.kpi else count(p.bound), readable_price(p, c))
            for p in shown]
    hidden = len(binding) - len(shown)
    if hidden:
        rows.append((f"{counted(hidden, 'more campaign', 'more campaigns')} held at a bound", "",
                     "see report --json"))
    return Table(("Binding constraint", "Limit", "Relaxing it is worth"), tuple(rows), "lrl")


def report_constraints(plan: Plan, traced: Frontier, point: FrontierPoint) -> list[ShadowPrice]:
    """The plan's binding constraints in the order the report lists them (the scenario's constraints, then
    the campaigns' bounds, most valuable first), the recommended level's own floor priced as the frontier
    prices it (on the frontier's finer breakpoints), so that the page quotes one price for an SOV point."""
    general = [p for p in plan.shadow_prices if p.kind != "campaign"]
    campaigns = sorted((p for p in plan.shadow_prices if p.kind == "campaign"), key=lambda p: -p.worth)
    # Where the point has no price a step further (the far end), the plan's own price (the floor relaxed) stands.
    return [replace(p, price=point.primary_lost_per_point, steep=None)
            if _is_level(p, traced) and math.isfinite(point.primary_lost_per_point) else p
            for p in general + campaigns]


def _is_level(price: ShadowPrice, traced: Frontier) -> bool:
    """True for the floor ``at_level`` puts at the recommended point."""
    return price.kpi == traced.secondary and price.constraint.endswith(RECOMMENDED_LEVEL)


def _settings_line(settings: Sequence[str], shown: int = 6) -> tuple[str, ...]:
    if not settings:
        return ()
    more = f" and {len(settings) - shown} more settings" if len(settings) > shown else ""
    return (f"The scenario file as run with {', '.join(settings[:shown])}{more}.",)


def _knee_line(frontier: Frontier) -> tuple[str, ...]:
    """How the knee is defined, when the frontier has one."""
    if frontier.knee is None:
        return ()
    return ("Knee: the point farthest above the line between the frontier's ends (axes scaled to their ranges), "
            "solved on the frontier itself.",)


def assumptions(plan: Plan, scenario: Scenario) -> tuple[str, ...]:
    """What the numbers rest on: money and period, budget rules, SOV definitions, curves, certificate."""
    c = plan.currency
    lines = [f"Money in {c} per {scenario.period or 'planning period'}; figures are the period's totals."]
    budget = scenario.budget
    if budget is not None and budget.total is not None:
        rules = ["spent in full" if budget.spend_all else "an upper limit"]
        if budget.max_change is not None:
            rules.append(f"no running campaign moves more than ±{budget.max_change:.0%} from today")
        lines.append(f"Budget {money(budget.total, c)}, " + "; ".join(rules) + ".")
    for name, pool in scenario.pools.items():
        label = pool.label or f"SOV {name}"
        ours = "our " + pool.volume
        if pool.against_competitors:
            lines.append(f"{label} = {ours} / ({ours} + competitors' {_big(pool.reference, pool.volume, c)}).")
        else:
            lines.append(f"{label} = {ours} / a fixed market total of {_big(pool.reference, pool.volume, c)}.")
    lines.append(_curve_line(scenario))
    info = plan.info
    lines.append(f"Curves are linearised to {percent(info.tolerance, 2)} of each curve's range and solved by "
                 f"{info.solver}; the plan is re-checked on the exact curves and is {within(plan.gap)}.")
    return tuple(lines)


def _big(value: float, volume: str, currency: str) -> str:
    return money(value, currency, 0) if volume == "spend" else f"{value:,.0f} impressions"


def _curve_line(scenario: Scenario) -> str:
    families: dict[str, int] = defaultdict(int)
    fitted = 0
    for campaign in scenario.campaigns:
        for outcome in ("impressions", "clicks", "leads", "mqls", "sqls", "customers", "revenue"):
            spec = getattr(campaign, outcome)
            curve = getattr(spec, "curve", None)
            if curve is not None:
                families[curve] += 1
                fitted += getattr(spec, "covariance", None) is not None
    shown = ", ".join(f"{name} ({n})" for name, n in sorted(families.items(), key=lambda item: -item[1]))
    source = f"; {fitted} fitted from history" if fitted else ""
    return (f"{len(scenario.campaigns)} campaigns; response curves: {shown}{source}. Outcomes further down the "
            "funnel are rates of the ones above.")
