"""Write the agency-scale example: scenarios/large_portfolio.toml and its campaigns CSV.

A national insurer buys local lead generation in 25 US metros: 8 channel types x 25 metros x
3 audiences = 600 line items, named like "Search non-brand | Denver | prospects". Every
curve family appears (exponential search, tabular brand-search simulator points, concave
and S-shaped hill video, power social, log audio, linear pay-per-lead partners); about 5% of
the line items are S-shaped, so the exact MILP path is exercised at scale.

Each line item is calibrated at a reference spend (its current spend, or a typical test
budget for new ones) to a unit cost drawn from the benchmark ranges of research/domain.md
section 4.4 (search CPC ~$4-7, CTR ~6.5%, CVR ~7.5%; Meta lead ads CPL ~$25; display CPM
$3-8; YouTube CPM ~$3.5 to $8 when geo-targeted), scaled by a metro cost index. The
constraints (budget, max_change, awareness share floor, CPL cap, search SOV floor, lead
partners' contracted spend) are set relative to today's split, computed here on the same
curves, so the plan is feasible and several constraints bind.

Run from anywhere (paths are relative to this file); the output is deterministic:

    python scenarios/generate_large.py
    tradeoff solve scenarios/large_portfolio.toml
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEED = 20270401
HERE = Path(__file__).resolve().parent
TOML_PATH = HERE / "large_portfolio.toml"
CSV_PATH = HERE / "large_portfolio_campaigns.csv"

# (metro, population in millions, media cost index relative to the US average, region)
METROS = (
    ("New York", 19.6, 1.30, "east"), ("Los Angeles", 12.9, 1.25, "west"), ("Chicago", 9.3, 1.10, "midwest"),
    ("Dallas", 7.9, 1.00, "south"), ("Houston", 7.3, 0.98, "south"), ("Washington", 6.3, 1.15, "east"),
    ("Philadelphia", 6.2, 1.05, "east"), ("Miami", 6.1, 1.05, "south"), ("Atlanta", 6.2, 1.00, "south"),
    ("Boston", 4.9, 1.20, "east"), ("Phoenix", 5.0, 0.95, "west"), ("San Francisco", 4.6, 1.35, "west"),
    ("Detroit", 4.3, 0.90, "midwest"), ("Seattle", 4.0, 1.20, "west"), ("Minneapolis", 3.7, 1.00, "midwest"),
    ("San Diego", 3.3, 1.10, "west"), ("Tampa", 3.3, 0.95, "south"), ("Denver", 3.0, 1.05, "west"),
    ("Baltimore", 2.8, 1.00, "east"), ("St. Louis", 2.8, 0.90, "midwest"), ("Orlando", 2.7, 0.95, "south"),
    ("Charlotte", 2.7, 0.95, "south"), ("San Antonio", 2.6, 0.90, "south"), ("Portland", 2.5, 1.00, "west"),
    ("Austin", 2.4, 1.05, "south"),
)


@dataclass(frozen=True)
class Audience:
    """Who a line item targets: its budget weight, response lifts and audience size."""

    name: str
    budget: float       # share of the prospects budget
    ctr: float          # multiplier on the click-through rate
    cvr: float          # multiplier on the conversion rate
    saturation: float   # multiplier on how far along its curve today's spend sits


AUDIENCES = (
    Audience("prospects", 1.00, 1.0, 1.0, 1.0),
    Audience("in-market", 0.60, 1.1, 1.25, 1.2),
    Audience("past visitors", 0.30, 1.3, 1.5, 1.8),   # a small list: it saturates fast, better leads
)


@dataclass(frozen=True)
class Channel:
    """A channel type: its curve family, stage, pool and benchmark ranges at today's spend."""

    label: str
    channel: str
    stage: str
    family: str
    pool: str | None
    budget: float                     # quarterly spend of the prospects line in an average metro
    cost: str                         # what unit_cost prices: cpc, cpm or cpl
    unit_cost: tuple[float, float]    # range at today's spend in an average-cost metro
    ctr: tuple[float, float] | None   # clicks per impression (None: no click outcome)
    cvr: tuple[float, float]          # leads per click, or per impression when ctr is None


# Benchmarks (domain.md 4.4): search CPC $4.2-5.3 median, CTR 6.4-6.7%, CVR 7-7.5%; brand
# search far cheaper with CTR in the teens; display CPM $3-8, CTR ~0.46%, CVR ~0.6-0.8%; Meta
# lead ads CPC ~$1.9, CTR ~2.5%, CVR ~8% (CPL ~$23-28); YouTube CPM ~$3.5, more when
# geo-targeted; CTV and audio are priced per thousand and drive few direct leads.
CHANNELS = (
    Channel("Search non-brand", "search", "conversion", "exponential", "search", 30_000, "cpc", (4.0, 7.0),
            (0.055, 0.075), (0.060, 0.090)),
    Channel("Search brand", "search", "conversion", "tabular", "search", 6_000, "cpc", (1.5, 3.0),
            (0.12, 0.20), (0.10, 0.15)),
    Channel("Display", "display", "awareness", "hill", "media", 10_000, "cpm", (3.0, 8.0),
            (0.003, 0.006), (0.005, 0.010)),
    Channel("Meta lead ads", "social", "conversion", "power", "media", 14_000, "cpc", (1.6, 2.4),
            (0.015, 0.026), (0.070, 0.090)),
    Channel("YouTube", "video", "awareness", "hill", "media", 10_000, "cpm", (3.5, 8.0),
            (0.002, 0.005), (0.005, 0.015)),
    Channel("CTV", "ctv", "awareness", "hill", "media", 12_000, "cpm", (25.0, 40.0), None, (2e-5, 5e-5)),
    Channel("Streaming audio", "audio", "awareness", "log", "media", 6_000, "cpm", (10.0, 20.0), None,
            (2e-5, 4e-5)),
    Channel("Lead partners", "partner", "conversion", "linear", None, 10_000, "cpl", (55.0, 90.0), None,
            (0.0, 0.0)),
)

S_SHAPED_SHARE = 0.05     # of all line items; drawn among the video and CTV ones
MAX_CHANGE = 0.40         # no running line item moves more than +/-40% in a quarter
BUDGET_GROWTH = 1.08      # next quarter's budget over today's total
AWARENESS_LIFT = 0.02     # awareness share floor: today's share plus 2 points
SOV_LIFT = 0.02           # search SOV floor: today's SOV plus 2 points
CPL_TARGET = 0.98         # CPL cap: 2% below today's CPL (an efficiency target)
PARTNER_COMMITMENT = 0.85  # lead partners' contracts: at least 85% of today's spend
SEARCH_SOV_TODAY = 0.25   # sets the competitors' impressions from ours
MEDIA_SOV_TODAY = 0.08    # sets the category's total media impressions from ours

COLUMNS = (
    "name", "channel", "stage", "tags", "pools", "spend.current", "spend.max",
    "impressions.curve", "impressions.max", "impressions.scale", "impressions.half", "impressions.shape",
    "impressions.coef", "impressions.exponent", "impressions.points",
    "clicks.rate", "clicks.of", "leads.curve", "leads.unit_cost", "leads.rate", "leads.of",
)


# --- number formatting -------------------------------------------------------------------


def sig(value: float, digits: int = 4) -> float:
    """``value`` rounded to ``digits`` significant digits."""
    return float(f"{value:.{digits}g}")


def fmt(value: float, digits: int = 4) -> str:
    """A cell: whole numbers without a decimal point, others positional (never 1e-06)."""
    rounded = sig(value, digits)
    if rounded.is_integer():
        return str(int(rounded))
    return np.format_float_positional(rounded, trim="-")


def money(value: float, step: int = 100) -> int:
    """Spend rounded to ``step`` dollars."""
    return int(round(value / step) * step)


# --- curves: calibrated so that spend ``s0`` buys ``y0`` ------------------------------------


def exponential(rng: np.random.Generator, s0: float, y0: float, saturation: float) -> dict[str, str]:
    u = rng.uniform(0.35, 0.9) * saturation            # today's spend over the curve's scale
    scale = s0 / u
    return {"curve": "exponential", "max": fmt(y0 / (1 - math.exp(-u))), "scale": fmt(scale)}


def concave_hill(rng: np.random.Generator, s0: float, y0: float, saturation: float) -> dict[str, str]:
    shape = rng.uniform(0.75, 1.0)
    ratio = min(rng.uniform(0.2, 0.6) * saturation, 0.95)   # today's spend over the half point
    top = y0 * (ratio**shape + 1) / ratio**shape
    return {"curve": "hill", "max": fmt(top), "half": fmt(s0 / ratio), "shape": fmt(shape, 3)}


def s_shaped_hill(rng: np.random.Generator, s0: float, y0: float) -> dict[str, str]:
    shape = rng.uniform(1.5, 2.5)
    ratio = rng.uniform(0.7, 1.1)       # the reference spend sits near the inflection
    top = y0 * (ratio**shape + 1) / ratio**shape
    return {"curve": "hill", "max": fmt(top), "half": fmt(s0 / ratio), "shape": fmt(shape, 3)}


def power(rng: np.random.Generator, s0: float, y0: float, saturation: float) -> dict[str, str]:
    exponent = rng.uniform(0.75, 0.9) / saturation**0.15
    return {"curve": "power", "coef": fmt(y0 / s0**exponent, 5), "exponent": fmt(exponent, 3)}


def logarithmic(rng: np.random.Generator, s0: float, y0: float, saturation: float) -> dict[str, str]:
    u = rng.uniform(0.5, 1.5) * saturation             # today's spend over the curve's scale
    return {"curve": "log", "coef": fmt(y0 / math.log1p(u), 5), "scale": fmt(s0 / u)}


def tabular(rng: np.random.Generator, s0: float, y0: float, saturation: float) -> dict[str, str]:
    """Eight simulator points up to twice today's spend, equally spaced and concave.

    Whole-number increments that never grow keep the table concave after rounding, so the
    line item needs no MILP.
    """
    u = rng.uniform(0.5, 1.0) * saturation
    step = money(s0 / 4, 10)
    spends = step * np.arange(1, 9)
    values = (y0 / (1 - math.exp(-u))) * (1 - np.exp(-u * spends / s0))
    increments = np.diff(np.concatenate(([0.0], values))) * rng.uniform(0.97, 1.03, size=8)
    increments = np.floor(np.minimum.accumulate(increments))
    points = [[int(s), int(v)] for s, v in zip(spends, np.cumsum(increments), strict=True)]
    return {"curve": "tabular", "points": json.dumps(points, separators=(",", ":"))}


def impressions_curve(rng: np.random.Generator, family: str, s0: float, y0: float, saturation: float,
                      s_shaped: bool) -> dict[str, str]:
    if s_shaped:
        return s_shaped_hill(rng, s0, y0)
    builders = {"exponential": exponential, "hill": concave_hill, "power": power,
                "log": logarithmic, "tabular": tabular}
    return builders[family](rng, s0, y0, saturation)


# --- line items ----------------------------------------------------------------------------


def stage_for(channel: Channel, audience: Audience) -> str:
    """Past visitors are retention for display and social; in-market display is consideration."""
    if channel.channel in ("display", "social") and audience.name == "past visitors":
        return "retention"
    if channel.channel == "display" and audience.name == "in-market":
        return "consideration"
    return channel.stage


def line_item(rng: np.random.Generator, channel: Channel, metro: tuple, audience: Audience,
              weight: float, s_shaped: bool) -> dict[str, str]:
    """One CSV row: spend, curve and rates of ``channel`` in ``metro`` for ``audience``."""
    city, _, cost_index, region = metro
    reference = money(channel.budget * weight * audience.budget * rng.lognormal(0.0, 0.25))
    current = 0 if s_shaped and rng.random() < 0.5 else reference    # half the S-shaped ones are new
    tags = [region, audience.name.replace(" ", "-")] + (["test"] if current == 0 else [])
    row = {
        "name": f"{channel.label} | {city} | {audience.name}",
        "channel": channel.channel,
        "stage": stage_for(channel, audience),
        "tags": ";".join(tags),
        "pools": channel.pool or "",
        "spend.current": str(current),
        "spend.max": str(money(2 * reference)),
    }
    cost = rng.uniform(*channel.unit_cost) * cost_index
    cvr = rng.uniform(*channel.cvr) * audience.cvr
    if channel.cost == "cpl":
        row.update({"leads.curve": "linear", "leads.unit_cost": fmt(cost, 3)})
        return row
    ctr = rng.uniform(*channel.ctr) * audience.ctr if channel.ctr else None
    impressions = reference / cost / ctr if channel.cost == "cpc" else reference * 1000 / cost
    curve = impressions_curve(rng, channel.family, reference, impressions, audience.saturation, s_shaped)
    row.update({f"impressions.{key}": value for key, value in curve.items()})
    if channel.family == "tabular":
        row["spend.max"] = str(json.loads(curve["points"])[-1][0])
    if ctr is not None:
        row.update({"clicks.rate": fmt(ctr), "clicks.of": "impressions",
                    "leads.rate": fmt(cvr), "leads.of": "clicks"})
    else:
        row.update({"leads.rate": fmt(cvr), "leads.of": "impressions"})
    return row


def pick_s_shaped(rng: np.random.Generator, keys: list[tuple[int, int, int]]) -> set[tuple[int, int, int]]:
    """About 5% of all line items, drawn among the video and CTV ones."""
    candidates = [k for k in keys if CHANNELS[k[0]].channel in ("video", "ctv")]
    count = round(S_SHAPED_SHARE * len(keys))
    chosen = rng.choice(len(candidates), size=count, replace=False)
    return {candidates[i] for i in sorted(chosen)}


def build_rows(rng: np.random.Generator) -> list[dict[str, str]]:
    """Every line item, channel by channel, metro by metro, audience by audience."""
    mean_population = sum(m[1] for m in METROS) / len(METROS)
    keys = [
        (c, m, a) for c in range(len(CHANNELS)) for m in range(len(METROS)) for a in range(len(AUDIENCES))
    ]
    s_shaped = pick_s_shaped(rng, keys)
    rows = []
    for c, m, a in keys:
        weight = METROS[m][1] / mean_population
        rows.append(line_item(rng, CHANNELS[c], METROS[m], AUDIENCES[a], weight, (c, m, a) in s_shaped))
    return rows


# --- today's split, on the same curves -----------------------------------------------------


def curve_value(row: dict[str, str], outcome: str, spend: float) -> float:
    """The outcome's curve at ``spend`` (the row's curve columns, as the tool reads them)."""
    p = {key.split(".", 1)[1]: value for key, value in row.items() if key.startswith(outcome + ".")}
    family = p["curve"]
    if family == "linear":
        return spend / float(p["unit_cost"])
    if family == "exponential":
        return float(p["max"]) * -math.expm1(-spend / float(p["scale"]))
    if family == "hill":
        shape, half = float(p["shape"]), float(p["half"])
        return float(p["max"]) * spend**shape / (spend**shape + half**shape)
    if family == "power":
        return float(p["coef"]) * spend ** float(p["exponent"])
    if family == "log":
        return float(p["coef"]) * math.log1p(spend / float(p["scale"]))
    points = np.array([[0, 0], *json.loads(p["points"])], dtype=float)
    return float(np.interp(spend, points[:, 0], points[:, 1]))


def outcome_at(row: dict[str, str], outcome: str, spend: float) -> float:
    """An outcome at ``spend``: its curve, or its rate times the outcome it is a rate of."""
    if row.get(f"{outcome}.curve"):
        return curve_value(row, outcome, spend)
    if row.get(f"{outcome}.rate"):
        return float(row[f"{outcome}.rate"]) * outcome_at(row, row[f"{outcome}.of"], spend)
    return 0.0


def today(rows: list[dict[str, str]]) -> dict[str, float]:
    """Spend, leads, pooled impressions and awareness share of the current split."""
    totals = {"spend": 0.0, "leads": 0.0, "search": 0.0, "media": 0.0, "awareness": 0.0, "partner": 0.0}
    for row in rows:
        spend = float(row["spend.current"])
        totals["spend"] += spend
        totals["leads"] += outcome_at(row, "leads", spend)
        if row["pools"]:
            totals[row["pools"]] += outcome_at(row, "impressions", spend)
        totals["awareness"] += spend if row["stage"] == "awareness" else 0.0
        totals["partner"] += spend if row["channel"] == "partner" else 0.0
    return totals


# --- writing -------------------------------------------------------------------------------


def write_csv(rows: list[dict[str, str]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def entry(key: str, value: object, comment: str = "") -> str:
    """``key = value``, with the comment aligned like the hand-written examples."""
    text = f"{key} = {value}"
    return f"{text:<37} # {comment}" if comment else text


def constraint(name: str, kpi: str, bound: str, value: object, comment: str, where: str = "") -> str:
    lines = ["[[constraints]]", entry("name", f'"{name}"'), entry("kpi", f'"{kpi}"')]
    if where:
        lines.append(entry("where", where))
    return "\n".join([*lines, entry(bound, value, comment)])


def is_s_shaped(row: dict[str, str]) -> bool:
    return row.get("impressions.curve") == "hill" and float(row["impressions.shape"]) > 1


def header(rows: list[dict[str, str]], now: dict[str, float]) -> str:
    """The comment block that opens the file: what it is and today's split."""
    shape = f"{len(CHANNELS)} channel types x {len(METROS)} metros x {len(AUDIENCES)} audiences"
    cpl = now["spend"] / now["leads"]
    awareness = now["awareness"] / now["spend"]
    return "\n".join([
        f"# GENERATED by scenarios/generate_large.py (seed {SEED}); edit the script, not this file.",
        "#",
        f"# Agency scale: {len(rows)} line items ({shape}) in large_portfolio_campaigns.csv;",
        f"# {sum(map(is_s_shaped, rows))} of them are S-shaped hill curves (solved exactly as a MILP "
        "where they matter).",
        f"# Money is USD per quarter. Today's split: ${now['spend']:,.0f} for {now['leads']:,.0f} quote "
        f"requests (CPL ${cpl:.2f}),",
        f"# {awareness:.1%} of spend on awareness, search SOV {SEARCH_SOV_TODAY:.0%}, media SOV "
        f"{MEDIA_SOV_TODAY:.0%}.",
        "# Curves are calibrated to research/domain.md section 4.4 (see the script's CHANNELS table).",
        "#",
        "#   python scenarios/generate_large.py",
        "#   tradeoff solve scenarios/large_portfolio.toml",
        "#   tradeoff solve scenarios/large_portfolio.toml --variant stretch",
    ])


def settings(now: dict[str, float]) -> str:
    """Name, objective, budget and the two share-of-voice pools."""
    competitors = money(now["search"] * (1 - SEARCH_SOV_TODAY) / SEARCH_SOV_TODAY, 1000)
    category = money(now["media"] / MEDIA_SOV_TODAY, 100_000)
    budget = money(now["spend"] * BUDGET_GROWTH, 1000)
    return "\n".join([
        entry("name", f'"Northwind Insurance: Q3 2027 local lead generation, {len(METROS)} metros"'),
        entry("currency", '"USD"'),
        entry("period", '"2027-Q3"'),
        entry("description", '"Quote requests from search, social, display, video, CTV, audio, partners."'),
        "",
        entry("campaigns", '"large_portfolio_campaigns.csv"', "one row per line item"),
        "",
        "[objective]",
        entry("maximize", '"leads"', "quote requests"),
        entry("secondary", '"sov.search"', "what the frontier trades leads against"),
        "",
        "[budget]",
        entry("total", f"{budget:_}", f"today's total plus {BUDGET_GROWTH - 1:.0%}"),
        entry("max_change", MAX_CHANGE, f"no running line item moves more than +/-{MAX_CHANGE:.0%}"),
        "",
        "[pools.search]",
        entry("label", '"Search SOV"'),
        entry("competitor_impressions", f"{competitors:_}",
              f"today we hold {SEARCH_SOV_TODAY:.0%} of the auctions"),
        entry("som", 0.20, "share of market, for ESOV"),
        "",
        "[pools.media]",
        entry("label", '"Media SOV"'),
        entry("total_impressions", f"{category:_}",
              f"the category's paid impressions; we hold {MEDIA_SOV_TODAY:.0%}"),
        entry("som", 0.20),
    ])


def constraints(now: dict[str, float]) -> str:
    """The constraints, each a little beyond today's split so that it matters."""
    cpl = now["spend"] / now["leads"]
    awareness = now["awareness"] / now["spend"]
    partners = money(now["partner"] * PARTNER_COMMITMENT, 1000)
    return "\n\n".join([
        constraint("Awareness floor", "share", "min", math.ceil((awareness + AWARENESS_LIFT) * 100) / 100,
                   f"share of spend; today {awareness:.1%}", where='{ stage = "awareness" }'),
        constraint("CPL cap", "cpl", "max", round(cpl * CPL_TARGET), f"today ${cpl:.2f}; binds in stretch"),
        constraint("Search SOV floor", "sov.search", "min", round(SEARCH_SOV_TODAY + SOV_LIFT, 4),
                   f"today {SEARCH_SOV_TODAY:.0%}"),
        constraint("Lead partners commitment", "spend", "min", f"{partners:_}",
                   f"contracted; today ${now['partner']:,.0f}", where='{ channel = "partner" }'),
    ])


def scenario_toml(rows: list[dict[str, str]], now: dict[str, float]) -> str:
    """The scenario file, its numbers derived from today's split ``now``."""
    stretch = money(now["spend"] * (BUDGET_GROWTH + 0.10), 1000)
    variants = "\n".join([
        "# More budget: the CPL cap decides how much of it is worth spending.",
        "[variants.stretch]",
        entry('"budget.total"', f"{stretch:_}"),
    ])
    return "\n\n".join([header(rows, now), settings(now), constraints(now), variants]) + "\n"


def main() -> None:
    rng = np.random.default_rng(SEED)
    rows = build_rows(rng)
    write_csv(rows, CSV_PATH)
    TOML_PATH.write_text(scenario_toml(rows, today(rows)), encoding="utf-8")
    print(f"wrote {TOML_PATH.name} and {CSV_PATH.name} ({len(rows)} line items)")


if __name__ == "__main__":
    main()
