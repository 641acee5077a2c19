"""Seeded benchmark plans: N campaigns across channels and stages, in real dollar units.

Each campaign gets a channel (search, social, display, video, remarketing, lead partners), a
spend range with a maximum between $1k and $200k, and a response curve calibrated so that at
its reference spend it buys impressions at a plausible CPM or CPC; clicks and leads follow as
rates (CTR, CVR). Every family of the schema appears: exponential, concave Hill
(shape <= 1), S-shaped Hill (shape > 1, about 3% of campaigns, solved as a MILP), power, log,
tabular simulator points, and linear cost-per-lead partners.

The constraints are set from today's split: a budget 10% above today's spend, awareness and
consideration share floors a point under today's shares, a search SOV floor a point under
today's 25%, and a CPL cap 15% under today's CPL. Today's split keeps all but the CPL cap; the
cap is below the CPL of the lead-max plan, so it binds, and a plan exists because cutting the
dearest spend lowers the CPL (our solver finds an optimal plan at 10, 100, 1,000 and 10,000
campaigns with the fixed seed).

    plan = generate(1000)            # the same plan for the same size and seed
    plan.scenario                    # an optimizer.Scenario
    plan.response                    # the same curves as arrays, for the references
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from benchmarks.response import Response, curves_from_specs
from optimizer import Scenario

SEED = 20270501
S_SHAPED_SHARE = 0.03
TABULAR_POINTS = 6
SOV_TODAY = 0.25
CPL_CUT = 0.85
"""The CPL cap as a fraction of today's CPL: below what lead-max plans reach, so the cap binds."""


@dataclass(frozen=True)
class Channel:
    """A channel's stage, curve families and price ranges (CPC for search, else CPM)."""

    name: str
    stage: str
    weight: float
    families: tuple[str, ...]
    cost: tuple[float, float]
    ctr: tuple[float, float]
    cvr: tuple[float, float]
    priced_per_click: bool = False
    pool: str | None = None


CHANNELS = (
    Channel("search", "conversion", 0.30, ("exponential", "log", "tabular"), (2.0, 8.0), (0.03, 0.08),
            (0.04, 0.10), priced_per_click=True, pool="search"),
    Channel("social", "consideration", 0.20, ("power", "hill", "log"), (6.0, 15.0), (0.005, 0.015), (0.02, 0.06)),
    Channel("display", "awareness", 0.15, ("hill", "exponential", "power"), (2.0, 6.0), (0.001, 0.004),
            (0.005, 0.015)),
    Channel("video", "awareness", 0.15, ("hill", "power", "exponential"), (8.0, 20.0), (0.0005, 0.002),
            (0.005, 0.01)),
    Channel("remarketing", "retention", 0.10, ("exponential", "tabular"), (4.0, 10.0), (0.005, 0.01),
            (0.03, 0.06)),
    Channel("partner", "conversion", 0.10, ("linear",), (40.0, 120.0), (1.0, 1.0), (1.0, 1.0)),
)
"""The partner channel sells leads at a fixed CPL: its ``cost`` is the CPL and it has no impressions."""


@dataclass(frozen=True)
class BenchPlan:
    """A generated plan: the scenario for our solver and the same plan as arrays for the references."""

    size: int
    scenario: Scenario
    response: Response
    stage: np.ndarray
    in_pool: np.ndarray
    s_shaped: np.ndarray
    budget: float
    share_floors: dict[str, float]
    cpl_cap: float
    sov_floor: float
    competitor_impressions: float
    current: np.ndarray

    @property
    def pool_floor(self) -> float:
        """The pooled impressions at the SOV floor: ours / (ours + competitors) >= f, multiplied out."""
        return self.sov_floor / (1 - self.sov_floor) * self.competitor_impressions

    def violations(self, spend: np.ndarray, rtol: float = 1e-6) -> dict[str, float]:
        """The constraints ``spend`` breaks on the exact curves, each with its relative excess.

        A CPL of $41 under a $40 cap is ``{"CPL cap": 0.025}``; excesses within ``rtol`` are not breaks.
        """
        r = self.response
        total, leads = spend.sum(), r.leads(spend).sum()
        excess = {
            "bounds": float(max(np.max((r.lo - spend) / r.hi), np.max((spend - r.hi) / r.hi))),
            "budget": total / self.budget - 1,
            "CPL cap": total / (self.cpl_cap * leads) - 1 if leads > 0 else np.inf,
            "SOV floor": 1 - r.impressions(spend)[self.in_pool].sum() / self.pool_floor,
        }
        for stage, floor in self.share_floors.items():
            excess[f"{stage} share"] = 1 - spend[self.stage == stage].sum() / (floor * total)
        return {name: float(value) for name, value in excess.items() if value > rtol}


def generate(size: int, seed: int = SEED) -> BenchPlan:
    """The seeded plan of ``size`` campaigns (the same plan for the same size and seed)."""
    rng = np.random.default_rng([seed, size])
    channels = rng.choice(len(CHANNELS), size=size, p=[c.weight for c in CHANNELS])
    s_shaped = _pick_s_shaped(rng, channels)
    campaigns = [_campaign(rng, i, CHANNELS[c], bool(s_shaped[i])) for i, c in enumerate(channels)]
    return _assemble(size, campaigns, s_shaped)


def _pick_s_shaped(rng: np.random.Generator, channels: np.ndarray) -> np.ndarray:
    """About 3% of campaigns (at least one), drawn among the awareness video and display ones."""
    awareness = np.flatnonzero([CHANNELS[c].stage == "awareness" for c in channels])
    count = min(len(awareness), max(1, round(S_SHAPED_SHARE * len(channels))))
    chosen = np.zeros(len(channels), dtype=bool)
    chosen[rng.choice(awareness, size=count, replace=False)] = True
    return chosen


def _money(value: float, step: float = 10.0) -> float:
    return float(max(step, round(value / step) * step))


def _campaign(rng: np.random.Generator, i: int, channel: Channel, s_shaped: bool) -> dict:
    """One campaign's scenario table (plus ``_base``: which outcome carries the curve)."""
    top = _money(float(np.clip(rng.lognormal(math.log(20_000), 1.0), 1_000, 200_000)), 100)
    current = 0.0 if s_shaped and rng.random() < 0.5 else _money(top * rng.uniform(0.3, 0.7))
    minimum = _money(current * rng.uniform(0.2, 0.6)) if current and rng.random() < 0.4 else 0.0
    reference = current or 0.5 * top
    campaign = {
        "name": f"{channel.name} {i:05d}", "channel": channel.name, "stage": channel.stage,
        "pools": [channel.pool] if channel.pool else [],
        "spend": {"current": current, "min": minimum, "max": top},
    }
    cost = rng.uniform(*channel.cost)
    if channel.name == "partner":
        campaign["leads"] = {"curve": "linear", "unit_cost": round(cost, 2)}
        campaign["_base"] = "leads"
        return campaign
    ctr, cvr = rng.uniform(*channel.ctr), rng.uniform(*channel.cvr)
    at_reference = reference / cost / ctr if channel.priced_per_click else reference * 1000 / cost
    family = "hill" if s_shaped else channel.families[rng.integers(len(channel.families))]
    curve = _CURVES[family](rng, reference, at_reference, top, s_shaped)
    if family == "tabular":
        campaign["spend"]["max"] = curve["points"][-1][0]
    campaign.update({
        "impressions": curve,
        "clicks": {"rate": round(ctr, 5), "of": "impressions"},
        "leads": {"rate": round(cvr, 5), "of": "clicks"},
        "_base": "impressions",
    })
    return campaign


# --- curves through (reference spend, impressions there), each with its own saturation --------


def _exponential(rng, s0, y0, top, s_shaped):
    k = rng.uniform(0.3, 1.5)  # s0 / scale: how far along the curve today's spend sits
    return {"curve": "exponential", "max": y0 / -math.expm1(-k), "scale": s0 / k}


def _hill(rng, s0, y0, top, s_shaped):
    shape = rng.uniform(1.5, 3.0) if s_shaped else rng.uniform(0.5, 1.0)
    half = s0 * (rng.uniform(0.6, 1.4) if s_shaped else rng.uniform(0.5, 3.0))
    return {"curve": "hill", "max": y0 * (1 + (half / s0) ** shape), "half": half, "shape": shape}


def _power(rng, s0, y0, top, s_shaped):
    exponent = rng.uniform(0.5, 0.9)
    return {"curve": "power", "coef": y0 / s0**exponent, "exponent": exponent}


def _log(rng, s0, y0, top, s_shaped):
    scale = s0 * rng.uniform(0.2, 1.0)
    return {"curve": "log", "coef": y0 / math.log1p(s0 / scale), "scale": scale}


def _tabular(rng, s0, y0, top, s_shaped):
    """A bid simulator's points: an exponential curve sampled at six spends up to the max."""
    k = rng.uniform(0.3, 1.5)
    spends = [_money(top * (j + 1) / TABULAR_POINTS) for j in range(TABULAR_POINTS)]
    values = [y0 * math.expm1(-s * k / s0) / math.expm1(-k) for s in spends]
    return {"curve": "tabular", "points": [[s, round(v, 3)] for s, v in zip(spends, values, strict=True)]}


_CURVES = {"exponential": _exponential, "hill": _hill, "power": _power, "log": _log, "tabular": _tabular}


# --- the scenario and its constraints, from today's split ---------------------------------------


def _assemble(size: int, campaigns: list[dict], s_shaped: np.ndarray) -> BenchPlan:
    bases = [c.pop("_base") for c in campaigns]
    response = Response(
        lo=np.array([c["spend"]["min"] for c in campaigns]),
        hi=np.array([c["spend"]["max"] for c in campaigns]),
        curves=curves_from_specs([c[base] for c, base in zip(campaigns, bases, strict=True)]),
        lead_rate=np.array([_lead_rate(c) for c in campaigns]),
        impression_rate=np.array([1.0 if base == "impressions" else 0.0 for base in bases]),
    )
    stage = np.array([c["stage"] for c in campaigns])
    in_pool = np.array([bool(c["pools"]) for c in campaigns])
    current = np.array([c["spend"]["current"] for c in campaigns])
    spend_today, leads_today = current.sum(), response.leads(current).sum()
    competitors = response.impressions(current)[in_pool].sum() * (1 - SOV_TODAY) / SOV_TODAY
    budget = _money(1.10 * spend_today, 1000)
    floors = {s: math.floor(100 * current[stage == s].sum() / spend_today - 1) / 100
              for s in ("awareness", "consideration")}
    floors = {s: f for s, f in floors.items() if f > 0}
    cpl_cap = round(CPL_CUT * spend_today / leads_today, 2)
    sov_floor = SOV_TODAY - 0.01
    data = {
        "name": f"Benchmark plan: {size:,} campaigns (seed {SEED})",
        "objective": {"maximize": "leads", "secondary": "sov.search"},
        "budget": {"total": budget},
        "pools": {"search": {"label": "Search SOV", "competitor_impressions": _money(competitors, 1000)}},
        "campaigns": campaigns,
        "constraints": [
            *({"name": f"{s.title()} floor", "kpi": "share", "where": {"stage": s}, "min": f}
              for s, f in floors.items()),
            {"name": "CPL cap", "kpi": "cpl", "max": cpl_cap},
            {"name": "Search SOV floor", "kpi": "sov.search", "min": sov_floor},
        ],
    }
    return BenchPlan(size, Scenario.model_validate(data), response, stage, in_pool, s_shaped, budget, floors,
                     cpl_cap, sov_floor, _money(competitors, 1000), current)


def _lead_rate(campaign: dict) -> float:
    """Leads per unit of the base curve: CTR x CVR, or 1 when the curve is the leads."""
    if "impressions" not in campaign:
        return 1.0
    return campaign["clicks"]["rate"] * campaign["leads"]["rate"]
