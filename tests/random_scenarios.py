"""Seeded random scenario documents, for tests that check the tool's figures against independent re-solves.

``generate(seed)`` returns a scenario document (a dict of a scenario file's keys) that loads through the
public loader (``scenario_from_document``, validated like a user's file) and has an optimal plan. Each
document has 4-12 campaigns over the four stages and several channels, curves of every family the format
supports (linear, exponential, concave and S-shaped hill, power, log, concave and S-shaped tabular),
rates down the funnel (clicks, leads, MQLs, revenue), zero to two SOV pools (competitor-volume and
fixed-total forms), an objective maximising leads, MQLs or revenue, a budget (sometimes spent in
full, sometimes with a ``max_change``), campaign minimums, maximums, ``max_change`` and locks, and
constraints: stage shares of spend, CPL and CPC caps, SOV floors, channel spend floors and caps, and
leads floors under a spend-minimising objective. Every campaign has a max of its own (a frontier's
budget view sets the budget total aside, and a campaign without one would then be unbounded).

Some documents are degenerate on purpose (``Generated.family``):

* ``pinned floor``: an SOV floor placed exactly at the SOV of the plan solved without it;
* ``pinned cap``: the budget exactly the sum of the campaigns' highest spends (every campaign at its max
  and the budget binding at once), or a CPL cap exactly at the plan's own CPL;
* ``tie``: one or two campaigns duplicated under another name (identical curves and bounds);
* ``near end``: an SOV floor within a hair of the most SOV any plan reaches;
* ``min spend``: spend minimised under a leads floor (and sometimes an SOV floor);
* ``sov goal``: a pool's SOV maximised under a leads floor or a CPL cap.

Floors and caps are placed from solves of the document built so far (an SOV floor between the SOV the
plan has without it and the most any plan reaches; a CPL cap near the plan's own CPL), so many of them
bind. A draw without an optimal plan is thrown away and drawn again from the same seed's stream.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from optimizer import Plan, Scenario, Status, solve
from optimizer.scenario.loading import scenario_from_document

SOLVE_OPTIONS: dict[str, Any] = {"tolerance": 1e-4, "mip_gap": 1e-7}
"""The options of every solve in these tests (the tested one and the re-solves): a chord error of 0.01% of
each curve's range, and S-curve MILPs solved to a relative gap of 1e-7."""

FAMILIES = ("plain", "plain", "plain", "pinned floor", "pinned cap", "tie", "near end", "min spend", "sov goal")
"""Drawn uniformly: three plain documents in nine, one of each degenerate or special family."""

CURVES = ("linear", "exponential", "hill", "hill S", "power", "log", "tabular", "tabular S")
CURVE_WEIGHTS = np.array([1, 1, 1, 0.6, 1, 1, 1, 0.6]) / 7.2
"""S-shaped curves a little less often: each makes the plan a MILP, whose re-solves are the slowest."""
STAGE_CHANNELS = {
    "awareness": ("video", "display"),
    "consideration": ("social", "linkedin"),
    "conversion": ("search", "meta"),
    "retention": ("email", "remarketing"),
}
ATTEMPTS = 20
MOST_S_CURVES = 2
"""At most this many S-shaped campaigns in a document: a MILP's re-solve takes seconds with four."""


@dataclass(frozen=True)
class Generated:
    """A scenario document drawn from a seed, with what was placed in it and why."""

    seed: int
    family: str
    document: dict[str, Any]
    notes: tuple[str, ...]
    attempt: int
    """How many draws from the seed's stream were thrown away (no optimal plan) before this one."""

    def describe(self) -> str:
        pools = ", ".join(self.document.get("pools", {})) or "none"
        objective = self.document["objective"]
        return (f"seed {self.seed} ({self.family}, draw {self.attempt}): {len(self.document['campaigns'])} campaigns, "
                f"pools {pools}, objective {objective}; " + "; ".join(self.notes))


# --- loading and solving a document ----------------------------------------------------------


def scenario_of(document: dict[str, Any]) -> Scenario:
    """The document validated by the public loader, as a user's file would be."""
    return scenario_from_document(copy.deepcopy(document), Path("."), "random.toml")


def solve_document(document: dict[str, Any]) -> Plan:
    """The document's plan, solved with ``SOLVE_OPTIONS``."""
    return solve(scenario_of(document), **SOLVE_OPTIONS)


def optimal(plan: Plan) -> bool:
    return plan.status is Status.OPTIMAL and plan.objective_value is not None


# --- curves ----------------------------------------------------------------------------------


def curve(rng: np.random.Generator, family: str, top: float, unit_cost: float) -> dict[str, Any]:
    """A curve of ``family`` over spends up to ``top`` that buys about one unit per ``unit_cost`` at half of it."""
    mid = top / 2
    volume = mid / unit_cost
    if family == "linear":
        return {"curve": "linear", "unit_cost": unit_cost}
    if family == "exponential":
        scale = top * rng.uniform(0.3, 1.2)
        return {"curve": "exponential", "max": volume / -math.expm1(-mid / scale), "scale": scale}
    if family in ("hill", "hill S"):
        shape = rng.uniform(0.6, 1.0) if family == "hill" else rng.uniform(1.5, 3.0)
        half = top * (rng.uniform(0.3, 1.5) if family == "hill" else rng.uniform(0.25, 0.6))
        ratio = (mid / half) ** shape
        return {"curve": "hill", "max": volume * (1 + ratio) / ratio, "half": half, "shape": shape}
    if family == "power":
        exponent = rng.uniform(0.4, 0.9)
        return {"curve": "power", "coef": volume / mid**exponent, "exponent": exponent}
    if family == "log":
        scale = top * rng.uniform(0.1, 1.0)
        return {"curve": "log", "coef": volume / math.log1p(mid / scale), "scale": scale}
    if family in ("tabular", "tabular S"):
        return tabular(rng, family, top, volume)
    raise ValueError(family)


def tabular(rng: np.random.Generator, family: str, top: float, volume: float) -> dict[str, Any]:
    """Five to seven simulator points up to a quarter past ``top`` (so a max at ``top`` can be raised):
    concave (sampled from an exponential) or S-shaped (a hill)."""
    count = int(rng.integers(5, 8))
    spends = 1.25 * top * np.arange(1, count + 1) / count
    if family == "tabular":
        scale = top * rng.uniform(0.3, 1.0)
        values = -np.expm1(-spends / scale)
    else:
        half, shape = top * rng.uniform(0.3, 0.6), rng.uniform(2.0, 3.5)
        values = spends**shape / (spends**shape + half**shape)
    values = values * volume / float(np.interp(top / 2, spends, values, left=0.0))
    return {"curve": "tabular", "points": [[round(float(s), 2), round(float(v), 3)] for s, v in zip(spends, values,
                                                                                                   strict=True)]}


# --- campaigns -------------------------------------------------------------------------------


def campaign(rng: np.random.Generator, index: int, stage: str, pools: list[str],
             concave: bool = False) -> dict[str, Any]:
    """One campaign: spend limits, a curve on impressions (with click and lead rates) or on leads, and the
    funnel below leads (MQLs, revenue). ``concave``: no S-shaped curve."""
    channel = str(rng.choice(STAGE_CHANNELS[stage]))
    top = round(float(rng.uniform(10_000, 90_000)), 2)
    family = str(rng.choice(CURVES, p=CURVE_WEIGHTS))
    if concave and family.endswith(" S"):
        family = family.removesuffix(" S")
    cpl = float(rng.uniform(20, 200))
    document: dict[str, Any] = {"name": f"{channel} {stage} {index}", "channel": channel, "stage": stage}
    if pools:
        document["pools"] = pools
    document["spend"] = spend_limits(rng, top)
    if pools or rng.random() < 0.6:
        cpm, ctr = float(rng.uniform(3, 40)), float(rng.uniform(0.003, 0.06))
        document["impressions"] = curve(rng, family, top, cpm / 1000)
        document["clicks"] = {"rate": round(ctr, 5), "of": "impressions"}
        document["leads"] = {"rate": float(np.clip(cpm / (1000 * ctr * cpl), 1e-4, 0.5)), "of": "clicks"}
    else:
        document["leads"] = curve(rng, family, top, cpl)
    document["mqls"] = {"rate": round(float(rng.uniform(0.1, 0.5)), 3), "of": "leads"}
    document["revenue"] = {"rate": round(float(rng.uniform(2_000, 8_000)), 2), "of": "mqls"}
    return document


def spend_limits(rng: np.random.Generator, top: float) -> dict[str, Any]:
    """Today's spend, a max (always given: a frontier's budget view sets the budget aside), and sometimes a
    min, a max_change or a lock."""
    current = 0.0 if rng.random() < 0.15 else round(top * float(rng.uniform(0.2, 0.8)), 2)
    limits: dict[str, Any] = {"current": current, "max": top}
    if current > 0 and rng.random() < 0.25:
        limits["min"] = round(current * float(rng.uniform(0.3, 0.8)), 2)
    if current > 0 and rng.random() < 0.15:
        limits["max_change"] = round(float(rng.uniform(0.2, 0.6)), 3)
    if current > 0 and rng.random() < 0.06:
        limits["locked"] = True
    return limits


def s_curves(campaigns: list[dict[str, Any]]) -> int:
    """How many of ``campaigns`` have an S-shaped curve (a hill of shape above 1, or a table that steepens)."""
    def shaped(spec: dict[str, Any]) -> bool:
        if spec.get("curve") == "hill":
            return spec["shape"] > 1
        if spec.get("curve") == "tabular":
            points = np.array(spec["points"], dtype=float)
            slopes = np.diff(points[:, 1]) / np.diff(points[:, 0])
            return bool(np.any(np.diff(slopes) > 0) or slopes[0] > points[0, 1] / points[0, 0])
        return False
    return sum(any(shaped(c[o]) for o in ("impressions", "leads") if o in c) for c in campaigns)


def stages(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` stages, with at least one conversion and one awareness campaign."""
    drawn = ["conversion", "awareness"] + [str(s) for s in rng.choice(list(STAGE_CHANNELS), count - 2)]
    return [drawn[k] for k in rng.permutation(count)]


def pool_memberships(rng: np.random.Generator, stage_list: list[str], pools: list[str]) -> list[list[str]]:
    """Which pools each campaign counts toward: ``search`` holds conversion campaigns, ``media`` the awareness
    and consideration ones (each pool has at least one member)."""
    members: list[list[str]] = [[] for _ in stage_list]
    for pool, wanted in (("search", ("conversion",)), ("media", ("awareness", "consideration"))):
        if pool not in pools:
            continue
        eligible = [i for i, stage in enumerate(stage_list) if stage in wanted]
        chosen = [i for i in eligible if rng.random() < 0.7] or [int(rng.choice(eligible))]
        for i in chosen:
            members[i].append(pool)
    return members


def pool_tables(rng: np.random.Generator, campaigns: list[dict[str, Any]], pools: list[str]) -> dict[str, Any]:
    """Each pool's measure, sized to what its members buy at half their max: ``search`` against competitors'
    impressions, ``media`` as a share of a fixed category total."""
    tables = {}
    for pool in pools:
        ours = sum(_impressions_at(c, c["spend"]["max"] / 2) for c in campaigns if pool in c.get("pools", ()))
        if pool == "search":
            tables[pool] = {"competitor_impressions": round(ours * float(rng.uniform(0.5, 3.0)))}
        else:
            tables[pool] = {"total_impressions": round(ours * float(rng.uniform(2.0, 8.0)))}
    return tables


def _impressions_at(document: dict[str, Any], spend: float) -> float:
    """A campaign's impressions at ``spend``, from its curve's formula (DESIGN.md section 5)."""
    spec = document["impressions"]
    kind = spec["curve"]
    if kind == "linear":
        return spend / spec["unit_cost"]
    if kind == "exponential":
        return spec["max"] * -math.expm1(-spend / spec["scale"])
    if kind == "hill":
        ratio = (spend / spec["half"]) ** spec["shape"]
        return spec["max"] * ratio / (1 + ratio)
    if kind == "power":
        return spec["coef"] * spend ** spec["exponent"]
    if kind == "log":
        return spec["coef"] * math.log1p(spend / spec["scale"])
    points = np.array(spec["points"], dtype=float)
    return float(np.interp(spend, np.concatenate([[0.0], points[:, 0]]), np.concatenate([[0.0], points[:, 1]])))


# --- the document ----------------------------------------------------------------------------


def base_document(rng: np.random.Generator, seed: int, family: str, max_campaigns: int) -> dict[str, Any]:
    """Campaigns, pools and a budget; the objective maximises leads, MQLs or revenue (some families change it
    later), traded against the first pool's SOV."""
    count = int(rng.integers(4, max_campaigns + 1))
    if family == "tie":
        count = min(count, max_campaigns - 2)  # room for the twins
    pool_count = 1 if family in ("pinned floor", "near end", "sov goal") else int(rng.choice([0, 1, 1, 2, 2]))
    pools = ["search", "media"][:pool_count] if rng.random() < 0.5 else ["media", "search"][:pool_count]
    stage_list = stages(rng, count)
    members = pool_memberships(rng, stage_list, pools)
    campaigns: list[dict[str, Any]] = []
    for k, stage in enumerate(stage_list):
        campaigns.append(campaign(rng, k, stage, members[k], concave=s_curves(campaigns) >= MOST_S_CURVES))
    if family == "tie":
        # twins of concave campaigns: a twin of an S-curve campaign doubles the MILP's binaries
        concave = [k for k in range(count) if s_curves([campaigns[k]]) == 0] or list(range(count))
        for k in rng.choice(concave, size=min(int(rng.integers(1, 3)), len(concave)), replace=False):
            twin = copy.deepcopy(campaigns[int(k)])
            twin["name"] += " (twin)"
            campaigns.append(twin)
    tops = sum(c["spend"]["max"] for c in campaigns)
    budget: dict[str, Any] = {"total": round(tops * float(rng.uniform(0.3, 0.7)), 2)}
    if rng.random() < 0.1:
        budget["spend_all"] = True
    if rng.random() < 0.25:
        budget["max_change"] = round(float(rng.uniform(0.3, 0.6)), 3)
    document: dict[str, Any] = {
        "name": f"random {seed}",
        "currency": "USD",
        "objective": {"maximize": str(rng.choice(["leads", "leads", "leads", "mqls", "revenue"]))},
        "budget": budget,
        "campaigns": campaigns,
        "constraints": [],
    }
    if pools:
        document["pools"] = pool_tables(rng, campaigns, pools)
        document["objective"]["secondary"] = f"sov.{pools[0]}"
    return document


def add_constraint(document: dict[str, Any], constraint: dict[str, Any]) -> None:
    """Append ``constraint``, named so its shadow price can be traced back to it."""
    constraint = {"name": f"c{len(document['constraints'])} {constraint['kpi']}", **constraint}
    document["constraints"].append(constraint)


def add_shares_and_groups(rng: np.random.Generator, document: dict[str, Any], notes: list[str]) -> None:
    """Stage shares of spend, and spend floors and caps on one channel's campaigns."""
    stage_list = [c["stage"] for c in document["campaigns"]]
    if rng.random() < 0.35:
        add_constraint(document, {"kpi": "share", "where": {"stage": "awareness"},
                                  "min": round(float(rng.uniform(0.05, 0.3)), 3)})
        notes.append("awareness share floor")
    if rng.random() < 0.15 and stage_list.count("conversion") < len(stage_list):
        add_constraint(document, {"kpi": "share", "where": {"stage": "conversion"},
                                  "max": round(float(rng.uniform(0.4, 0.8)), 3)})
        notes.append("conversion share cap")
    channels = sorted({c["channel"] for c in document["campaigns"]})
    for side, chance, (low, high), words in (("min", 0.12, (0.2, 0.6), "floor"), ("max", 0.08, (0.3, 0.7), "cap")):
        if rng.random() < chance:
            channel = str(rng.choice(channels))
            top = sum(c["spend"]["max"] for c in document["campaigns"] if c["channel"] == channel)
            add_constraint(document, {"kpi": "spend", "where": {"channel": channel},
                                      side: round(top * float(rng.uniform(low, high)), 2)})
            notes.append(f"{channel} spend {words}")


def place_ratio_caps(rng: np.random.Generator, document: dict[str, Any], notes: list[str]) -> None:
    """A CPL cap (and sometimes a CPC cap) near the plan's own, so that it often binds."""
    for kpi, chance in (("cpl", 0.3), ("cpc", 0.08)):
        if rng.random() >= chance:
            continue
        plan = solve_document(document)
        if not optimal(plan) or not math.isfinite(plan.kpis.get(kpi, math.nan)):
            continue
        cap = round(plan.kpis[kpi] * float(rng.uniform(0.9, 1.03)), 4)
        add_constraint(document, {"kpi": kpi, "max": cap})
        notes.append(f"{kpi} cap {cap:g} (plan's own {plan.kpis[kpi]:.4g})")


def sov_reach(document: dict[str, Any], pool: str) -> tuple[float, float] | None:
    """The pool's SOV in the document's own plan, and the most SOV any plan of the document reaches."""
    plan = solve_document(document)
    most = solve_document({**document, "objective": {"maximize": f"sov.{pool}"}})
    if not (optimal(plan) and optimal(most)):
        return None
    return plan.sov[pool], most.objective_value


def spend_range(document: dict[str, Any], index: int) -> tuple[float, float]:
    """A campaign's allowed spend as the scenario format defines it: its min and max, within ``max_change``
    of today's spend (its own, else the budget's), or today's spend when locked (every campaign generated
    here has a max)."""
    spend = document["campaigns"][index]["spend"]
    current, low, high = spend.get("current", 0.0), spend.get("min", 0.0), spend["max"]
    if spend.get("locked"):
        return max(low, current), min(high, current)
    change = spend.get("max_change", document.get("budget", {}).get("max_change"))
    if change is not None and current > 0:
        low, high = max(low, current * (1 - change)), min(high, current * (1 + change))
    return low, high


def pin_a_cap(rng: np.random.Generator, document: dict[str, Any], notes: list[str]) -> None:
    """The budget at the sum of the campaigns' highest spends, or a CPL cap at the plan's own CPL."""
    if rng.random() < 0.5:
        document["budget"].pop("spend_all", None)
        document["budget"]["total"] = sum(spend_range(document, i)[1] for i in range(len(document["campaigns"])))
        notes.append(f"budget pinned at the campaigns' highest spends ({document['budget']['total']:.2f})")
        return
    plan = solve_document(document)
    if optimal(plan) and math.isfinite(plan.kpis.get("cpl", math.nan)):
        add_constraint(document, {"kpi": "cpl", "max": plan.kpis["cpl"]})
        notes.append(f"cpl cap pinned at the plan's own CPL ({plan.kpis['cpl']:.6g})")


def place_sov_floors(rng: np.random.Generator, document: dict[str, Any], family: str, notes: list[str]) -> None:
    """SOV floors between the plan's own SOV and the most any plan reaches: anywhere in plain documents,
    exactly at the plan's own SOV (``pinned floor``) or within a hair of the most (``near end``)."""
    for pool in document.get("pools", {}):
        degenerate = family in ("pinned floor", "near end") and pool == next(iter(document["pools"]))
        if not degenerate and rng.random() >= 0.4:
            continue
        reach = sov_reach(document, pool)
        if reach is None:
            continue
        own, most = reach
        if family == "pinned floor" and degenerate:
            floor, where = own, "at the plan's own SOV"
        elif family == "near end" and degenerate:
            floor = most - (most - own) * float(rng.choice([0.0, 1e-4, 1e-3, 1e-2])) - 1e-9
            where = f"near the most reachable ({most:.6f})"
        else:
            floor, where = own + (most - own) * float(rng.uniform(0.15, 0.85)), f"between {own:.4f} and {most:.4f}"
        add_constraint(document, {"kpi": f"sov.{pool}", "min": floor})
        notes.append(f"sov.{pool} floor {floor:.6f} {where}")


def make_min_spend(rng: np.random.Generator, document: dict[str, Any], notes: list[str]) -> None:
    """Minimise spend under a leads floor (a share of the most leads the budget buys)."""
    most = solve_document(document)
    if not optimal(most):
        return
    floor = round(most.kpis["leads"] * float(rng.uniform(0.4, 0.92)), 3)
    document["objective"] = {k: v for k, v in document["objective"].items() if k == "secondary"}
    document["objective"]["minimize"] = "spend"
    document["budget"].pop("spend_all", None)
    if rng.random() < 0.4:
        document["budget"].pop("total")
    add_constraint(document, {"kpi": "leads", "min": floor})
    notes.append(f"spend minimised with leads >= {floor:g}")


def make_sov_goal(rng: np.random.Generator, document: dict[str, Any], notes: list[str]) -> None:
    """Maximise the first pool's SOV under a leads floor or a CPL cap."""
    plan = solve_document(document)
    if not optimal(plan):
        return
    pool = next(iter(document["pools"]))
    if rng.random() < 0.5:
        add_constraint(document, {"kpi": "leads", "min": round(plan.kpis["leads"] * float(rng.uniform(0.5, 0.95)), 3)})
    else:
        add_constraint(document, {"kpi": "cpl", "max": round(plan.kpis["cpl"] * float(rng.uniform(1.05, 1.5)), 4)})
    document["objective"] = {"maximize": f"sov.{pool}"}
    notes.append(f"sov.{pool} maximised")


def draw(seed: int, attempt: int, max_campaigns: int) -> Generated:
    """One draw from the seed's stream (not yet checked for an optimal plan)."""
    rng = np.random.default_rng([seed, attempt])
    family = str(rng.choice(FAMILIES))
    document = base_document(rng, seed, family, max_campaigns)
    notes: list[str] = []
    add_shares_and_groups(rng, document, notes)
    place_ratio_caps(rng, document, notes)
    if family == "pinned cap":
        pin_a_cap(rng, document, notes)
    if family == "min spend":
        make_min_spend(rng, document, notes)
    place_sov_floors(rng, document, family, notes)
    if family == "sov goal":
        make_sov_goal(rng, document, notes)
    if not document["constraints"]:
        del document["constraints"]
    return Generated(seed, family, document, tuple(notes), attempt)


def generate(seed: int, max_campaigns: int = 12) -> Generated:
    """A document with an optimal plan, from the seed's stream (draws without one are thrown away)."""
    for attempt in range(ATTEMPTS):
        generated = draw(seed, attempt, max_campaigns)
        if optimal(solve_document(generated.document)):
            return generated
    raise RuntimeError(f"seed {seed}: no draw in {ATTEMPTS} had an optimal plan")
