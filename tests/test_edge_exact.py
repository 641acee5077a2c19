"""Answers at the edge: a floor or cap within a hair of what the campaigns can reach is decided exactly.

Seeded random scenarios (three campaigns with concave or S-shaped leads curves, and a search
campaign whose impressions make the search SOV) get one floor or cap placed at the edge of what is
reachable: a leads floor (the most leads the budget buys), an SOV floor (the most impressions it
buys) or a CPL cap (the least CPL that reaches a leads floor). Within 1e-4 (relative, drawn down to
1e-9) on the feasible side, ``solve`` must return an optimal plan whose every check holds, and the plan meets the
floor or cap on the curves as written here (``reference``), not only as the tool evaluates them.
1e-3 beyond, it must say that no plan exists, proven, and offer the least change: applied through
its ``--set`` key, the change gives a plan; 99% of it gives none.

Where the edge lies is computed independently of the tool's plan program, whose edge handling is
under test:

- the SOV reach: the search campaign alone makes the pool, so the most impressions are its curve's
  value at the most it can spend (the budget): a closed form;
- the leads reach: for exponential curves, the Lagrangian closed form (``exponential_optimum``); for
  S-curves, the tool's solve at ten times finer breakpoints (which involves no edge: the most leads
  is its objective, not a floor), its split re-evaluated here on the curves' formulas (a plan that
  really reaches that much: the feasible side is placed below it) and its proven bound (from the
  outer program, a different program; the side beyond is placed above it, and it must lie within
  1e-6 of the split's value);
- the CPL reach (concave curves only): the least spend for the leads floor, by bisection on the
  closed form; with concave curves from zero spend, the least CPL of any plan that meets the
  floor is that spend over the floor (least spend is convex in leads, so spend per lead grows).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from reference import exponential, exponential_optimum, hill

from optimizer import SolveOptions, Status, solve
from optimizer.model.rows import formulate
from optimizer.scenario.loading import scenario_from_document
from optimizer.solver.relaxed import has_plan

SEED = 1517
COMPETITORS = 600_000.0
SEARCH_RATE = 0.05 * 0.08  # leads per impression of the search campaign (CTR x CVR)
INSIDE, MORE_INSIDE = (1, 4, 5, 6, 8, 15, 21), (0, 2, 3, 7, *range(9, 15), *range(16, 21), *range(22, 48))
BEYOND, MORE_BEYOND = (2, 4, 6), (0, 1, 3, 5, *range(7, 31))
"""The default suite places 7 cases inside the edge and 3 beyond it (each kind of floor or cap, concave
and S-shaped curves; about 4 s in all); ``-m slow`` 41 and 28 more."""


def scenario(document: dict, *overrides: str):
    return scenario_from_document(document, Path("."), "edge.toml", overrides=overrides)


# --- random scenarios, and their curves as formulas ------------------------------------------------


def random_document(seed: int, s_curves: bool) -> dict:
    """Three campaigns with leads curves (exponential, or Hill with shape 2 to 3 when ``s_curves``, one
    in two) and a search campaign in the ``search`` pool, under a budget the search campaign alone could spend."""
    rng = np.random.default_rng([SEED, seed])
    campaigns = []
    for k in range(3):
        top, reach = float(rng.uniform(300, 3_000)), float(rng.uniform(5_000, 40_000))
        leads = {"curve": "exponential", "max": top, "scale": reach / 2}
        if s_curves and k % 2 == 0:
            leads = {"curve": "hill", "max": top, "half": reach / 2, "shape": float(rng.uniform(2.0, 3.0))}
        campaigns.append({"name": f"c{k}", "channel": "video", "stage": "awareness", "spend": {"max": reach},
                          "leads": leads})
    total = round(sum(c["spend"]["max"] for c in campaigns) * float(rng.uniform(0.3, 0.6)))
    scale = float(rng.uniform(0.5, 1.5)) * total
    impressions = {"curve": "exponential", "max": 900_000.0, "scale": scale}
    if s_curves:
        impressions = {"curve": "hill", "max": 900_000.0, "half": scale, "shape": float(rng.uniform(2.0, 3.0))}
    campaigns.append({"name": "search", "channel": "search", "stage": "conversion", "pools": ["search"],
                      "spend": {"max": 2.0 * total}, "impressions": impressions,
                      "clicks": {"rate": 0.05, "of": "impressions"}, "leads": {"rate": 0.08, "of": "clicks"}})
    return {"name": f"edge {seed}", "campaigns": campaigns, "budget": {"total": total},
            "pools": {"search": {"competitor_impressions": COMPETITORS}}}


def curve(spec: dict, spend: np.ndarray | float) -> np.ndarray:
    if spec["curve"] == "exponential":
        return exponential(spend, spec["max"], spec["scale"])
    return hill(spend, spec["max"], spec["half"], spec["shape"])


def leads_at(document: dict, spend: dict[str, float]) -> float:
    """Total leads of a split, on the curves' formulas."""
    total = 0.0
    for c in document["campaigns"]:
        if "impressions" in c:
            total += SEARCH_RATE * float(curve(c["impressions"], spend[c["name"]]))
        else:
            total += float(curve(c["leads"], spend[c["name"]]))
    return total


def sov_at(document: dict, spend: dict[str, float]) -> float:
    (search,) = [c for c in document["campaigns"] if "impressions" in c]
    ours = float(curve(search["impressions"], spend["search"]))
    return ours / (ours + COMPETITORS)


def is_concave(document: dict) -> bool:
    return all((c.get("leads") or {}).get("curve", "exponential") == "exponential"
               and (c.get("impressions") or {}).get("curve", "exponential") == "exponential"
               for c in document["campaigns"])


def _exponential_terms(document: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each campaign's leads as ``top (1 - exp(-s / scale))`` and its spend max."""
    tops, scales, his = [], [], []
    for c in document["campaigns"]:
        spec = c["impressions"] if "impressions" in c else c["leads"]
        rate = SEARCH_RATE if "impressions" in c else 1.0
        tops.append(rate * spec["max"])
        scales.append(spec["scale"])
        his.append(c["spend"]["max"])
    return np.array(tops), np.array(scales), np.array(his)


# --- where the edge lies -------------------------------------------------------------------------------


def leads_reach(document: dict) -> tuple[float, float]:
    """(a value some split reaches on the formulas, a value no split exceeds): the most leads."""
    if is_concave(document):
        tops, scales, his = _exponential_terms(document)
        best = exponential_optimum(tops, scales, np.zeros_like(his), his, document["budget"]["total"]).value
        return best * (1 - 1e-12), best * (1 + 1e-12)
    fine = solve(scenario({**document, "objective": {"maximize": "leads"}}), tolerance=1e-4, mip_gap=1e-9)
    assert fine.status is Status.OPTIMAL, fine.message
    spend = {row.campaign: row.spend for row in fine.allocation}
    assert sum(spend.values()) <= document["budget"]["total"] * (1 + 1e-12)
    reached = leads_at(document, spend)
    assert fine.bound is not None and fine.bound - reached <= 1e-6 * reached, (fine.bound, reached)
    return reached, max(fine.bound, reached)


def sov_reach(document: dict) -> float:
    """The most SOV: the search campaign alone fills the pool, at the most it can spend."""
    (search,) = [c for c in document["campaigns"] if "impressions" in c]
    return sov_at(document, {"search": min(search["spend"]["max"], document["budget"]["total"])})


def least_spend(document: dict, floor: float) -> float:
    """The least spend that buys ``floor`` leads (exponential curves): bisection on the budget."""
    tops, scales, his = _exponential_terms(document)
    low, high = 0.0, float(his.sum())
    for _ in range(200):
        middle = (low + high) / 2
        if exponential_optimum(tops, scales, np.zeros_like(his), his, middle).value >= floor:
            high = middle
        else:
            low = middle
    return high


def case(seed: int, side: float) -> tuple[dict, str, float]:
    """The scenario of ``seed`` with one floor or cap at the edge: ``side`` (relative) inside when
    negative, beyond when positive; and the kind of the constraint and its value."""
    kind = ("leads floor", "sov floor", "cpl cap")[seed % 3]
    document = random_document(seed, s_curves=kind != "cpl cap" and seed % 2 == 0)
    rng = np.random.default_rng([SEED, seed, 1])
    hair = side if side > 0 else -(10.0 ** rng.uniform(-9, -4))  # within 1e-4 of the edge, as close as 1e-9
    if kind == "leads floor":
        reached, bound = leads_reach(document)
        floor = bound * (1 + hair) if hair > 0 else reached * (1 + hair)
        document.update(objective={"maximize": "sov.search"},
                        constraints=[{"kpi": "leads", "min": floor, "name": "Lead target"}])
        return document, kind, floor
    if kind == "sov floor":
        floor = sov_reach(document) * (1 + hair)
        document.update(objective={"maximize": "leads"},
                        constraints=[{"kpi": "sov.search", "min": floor, "name": "SOV floor"}])
        return document, kind, floor
    leads_floor = round(0.5 * leads_reach(document)[0])
    cap = least_spend(document, leads_floor) / leads_floor * (1 - hair)
    document.update(objective={"maximize": "leads"},
                    constraints=[{"kpi": "leads", "min": leads_floor, "name": "Lead target"},
                                 {"kpi": "cpl", "max": cap, "name": "CPL cap"}])
    return document, kind, cap


# --- the feasible side --------------------------------------------------------------------------------


def assert_meets(document: dict, plan, kind: str, bound: float) -> None:
    """The plan meets its floor or cap, and the budget, on the curves' formulas (to the re-check's 1e-6)."""
    spend = {row.campaign: row.spend for row in plan.allocation}
    assert sum(spend.values()) <= document["budget"]["total"] * (1 + 1e-6)
    if kind == "leads floor":
        assert leads_at(document, spend) >= bound * (1 - 1e-6)
    elif kind == "sov floor":
        assert sov_at(document, spend) >= bound * (1 - 1e-6)
    else:
        assert sum(spend.values()) <= bound * leads_at(document, spend) * (1 + 1e-6)


@pytest.mark.parametrize("seeds", [INSIDE, pytest.param(MORE_INSIDE, marks=pytest.mark.slow)], ids=["quick", "many"])
def test_a_floor_or_cap_within_a_hair_of_the_reach_gets_a_plan_that_meets_it(seeds):
    for seed in seeds:
        document, kind, bound = case(seed, side=-1.0)
        plan = solve(scenario(document))
        assert plan.status is Status.OPTIMAL, f"{document['name']} ({kind} {bound!r}): {plan.message}"
        failed = [check for check in plan.checks if not check.ok]
        assert plan.checks and not failed, (document["name"], failed)
        assert_meets(document, plan, kind, bound)


# --- just beyond ----------------------------------------------------------------------------------------


def printed(sentence: str) -> float:
    """The value a sentence offers: ``to 21.23%`` is 0.2123, ``to $1,200`` 1200."""
    shown = re.search(r" to (\S+?)(?: \(|$)", sentence)
    assert shown is not None, sentence
    text = shown.group(1).replace("$", "").replace(",", "")
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


def has_plan_with(document: dict, key: str, value: float) -> bool:
    """Whether ``solve`` finds a plan with ``key`` set to ``value`` (asked without explaining why not)."""
    changed = scenario(document, f"{key}={value!r}")
    return has_plan(formulate(changed), SolveOptions.for_scenario(changed))


def assert_least(document: dict, relaxed) -> None:
    """As printed, the change gives a plan whose every check holds; 99% of the change gives none."""
    assert relaxed.key is not None and relaxed.value != relaxed.current, relaxed
    assert printed(relaxed.sentence) == pytest.approx(relaxed.value, rel=1e-12, abs=1e-12), relaxed
    fixed = solve(scenario(document, f"{relaxed.key}={relaxed.value!r}"))
    assert fixed.status is Status.OPTIMAL, f"{relaxed.sentence}: {fixed.message}"
    assert all(check.ok for check in fixed.checks), [c for c in fixed.checks if not c.ok]
    nearly = relaxed.current + 0.99 * (relaxed.value - relaxed.current)
    assert not has_plan_with(document, relaxed.key, nearly), f"{relaxed.sentence} is more than needed"


@pytest.mark.parametrize("seeds", [BEYOND, pytest.param(MORE_BEYOND, marks=pytest.mark.slow)], ids=["quick", "many"])
def test_just_beyond_the_reach_no_plan_is_proven_and_the_least_change_is_offered(seeds):
    for seed in seeds:
        document, kind, bound = case(seed, side=1e-3)
        plan = solve(scenario(document))
        assert plan.status is Status.INFEASIBLE, f"{document['name']} ({kind} {bound!r}): {plan.message}"
        explanation = plan.explanation
        assert explanation is not None and explanation.proven and explanation.relaxations, plan.message
        for relaxed in explanation.relaxations:
            assert_least(document, relaxed)


# --- a floor mistyped far beyond reach ---------------------------------------------------------------------


def test_a_typo_sized_floor_is_lowered_to_the_reachable_amount_not_to_zero():
    """A CPL cap just above the cheapest leads of campaign ``a`` lets it spend only a little: the leads
    it buys there are the reach, however far above it the floor was typed (1e7 for, say, 1e3)."""
    top, scale = 4_000.0, 50_000.0
    cap = round(scale / top * 1.002, 4)  # a's CPL at zero spend is scale / top; b's is three times that
    low, high = 1e-9, 1e9
    for _ in range(300):  # the spend at which a's CPL, s / leads(s), reaches the cap
        middle = (low + high) / 2
        low, high = (middle, high) if middle / float(exponential(middle, top, scale)) <= cap else (low, middle)
    reach = float(exponential(low, top, scale))
    document = {
        "name": "typo", "budget": {"total": 500_000.0},
        "campaigns": [{"name": name, "channel": "search", "stage": "conversion", "spend": {"max": 1e6},
                       "leads": {"curve": "exponential", "max": top, "scale": scale * factor}}
                      for name, factor in (("a", 1.0), ("b", 3.0))],
        "constraints": [{"kpi": "cpl", "max": cap, "name": "CPL cap"},
                        {"kpi": "leads", "min": 1e7, "name": "Lead target"}],
    }
    plan = solve(scenario(document))
    assert plan.status is Status.INFEASIBLE and plan.explanation.proven, plan.message
    (lowered,) = [r for r in plan.explanation.relaxations if r.constraint == "Lead target"]
    assert reach * (1 - 2e-3) <= lowered.value <= reach, (lowered.sentence, reach)  # shown to 0.2% of itself
    assert_least(document, lowered)


# --- a time limit that bites ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "limit"), [(600, 1.0), pytest.param(3000, 2.0, marks=pytest.mark.slow)])
def test_a_time_limited_s_curve_plan_carries_a_bound_and_stops_within_its_allowance(monkeypatch, size, limit):
    """The benchmark plan with three in ten campaigns S-shaped (a MILP), under a limit that cuts it short.
    The allowance is the SolveOptions docstring's: the limit, plus a tenth of it (at least half a second)
    for the bound that certifies the plan. Timed by the solve's own clock (``info.seconds``)."""
    import benchmarks.plans as plans

    monkeypatch.setattr(plans, "S_SHAPED_SHARE", 0.3)
    plan = solve(plans.generate(size).scenario, time_limit=limit)
    assert plan.info.milp_campaigns and plan.status is Status.TIME_LIMIT, plan.message
    assert plan.info.seconds <= limit + max(0.1 * limit, 0.5), plan.info.seconds
    if plan.allocation:  # a plan was found in time: it is certified
        assert plan.bound is not None and plan.gap is not None, plan.message
        assert all(check.ok for check in plan.checks)
        assert plan.bound >= plan.objective_value


# --- the 200-campaign case of the issue ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 17])
def test_a_relaxation_of_a_large_milp_plan_works_as_printed(seed):
    """The benchmark plan of 200 campaigns (S-curves among them) with its CPL cap cut by a fifth and half
    of the spend on awareness: each relaxation offered gives a plan whose floors hold on the exact curves."""
    from benchmarks.plans import generate

    document = generate(200, seed).scenario.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    for constraint in document["constraints"]:
        if constraint["kpi"] == "cpl":
            constraint["max"] = round(constraint["max"] * 0.8, 2)
        if constraint["kpi"] == "share" and constraint["where"] == {"stage": "awareness"}:
            constraint["min"] = 0.5
    plan = solve(scenario(document))
    assert plan.status is Status.INFEASIBLE and plan.explanation.relaxations, plan.message
    for relaxed in plan.explanation.relaxations:
        assert_least(document, relaxed)


def test_reach_formulas_agree_with_the_closed_forms():
    """The helpers above on one concave scenario: the split's leads on the formulas, and the least spend."""
    document = random_document(1, s_curves=False)
    reached, bound = leads_reach(document)
    total = document["budget"]["total"]
    assert least_spend(document, reached) == pytest.approx(total, rel=1e-6)
    assert math.isclose(reached, bound, rel_tol=1e-9)
