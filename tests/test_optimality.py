"""Optimality: plans reach independently computed optima, and their certificates are honest.

References: the Lagrangian closed form for exponential curves under a budget, exhaustive grid
search for small S-curve cases, finite differences of re-solved optima for shadow prices. The
tool's own numbers are only ever compared with these, never with copies of earlier output.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from reference import (
    SmallCampaign,
    assert_optimal,
    build,
    concave_envelope,
    exponential,
    exponential_campaign,
    exponential_optimum,
    grid_search,
    hill,
    price_of,
    scenario_dict,
    spends,
)

from optimizer import Scenario, Status, load_scenario, solve
from optimizer.solver.cbc import cbc_path

REPO = Path(__file__).resolve().parent.parent
SCENARIO_FILES = sorted((REPO / "scenarios").glob("*.toml"))
VENV_BIN = Path(sys.executable).parent


def assert_certificate(plan, true_optimum: float, tolerance: float = 1e-3) -> None:
    """The plan's bound covers the true optimum and its gap is consistent with that bound."""
    value, bound, gap = plan.objective_value, plan.bound, plan.gap
    assert bound is not None and gap is not None
    assert value <= bound * (1 + 1e-12)
    assert true_optimum <= bound * (1 + 1e-9), "the certified bound is below a plan that exists"
    assert gap >= (bound - value) / value - 1e-12
    assert gap <= tolerance
    assert (true_optimum - value) / value <= gap + 1e-9, "the optimum is further away than the gap says"


# --- 1. exponential curves under a budget: the Lagrangian closed form ----------------------


@dataclass(frozen=True)
class ExponentialInstance:
    top: np.ndarray
    scale: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    budget: float

    def scenario(self, budget: float | None = None) -> Scenario:
        campaigns = [
            exponential_campaign(f"campaign {i}", float(t), float(s), min=float(a), max=float(b))
            for i, (t, s, a, b) in enumerate(zip(self.top, self.scale, self.lo, self.hi, strict=True))
        ]
        return build(scenario_dict(campaigns, budget={"total": self.budget if budget is None else budget}))

    def leads(self, spend: np.ndarray) -> float:
        return float(exponential(spend, self.top, self.scale).sum())

    def optimum(self, budget: float | None = None):
        total = self.budget if budget is None else budget
        return exponential_optimum(self.top, self.scale, self.lo, self.hi, total)


def random_exponential_instance(seed: int) -> ExponentialInstance:
    """5-50 campaigns in dollars: scales $1k-$300k, CPL at zero spend $20-$200, some minimums."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 51))
    scale = 10 ** rng.uniform(3, 5.5, n)
    top = scale / rng.uniform(20, 200, n)
    lo = np.where(rng.random(n) < 0.3, rng.uniform(0, 0.5, n) * scale, 0.0)
    hi = np.minimum(lo + rng.uniform(0.5, 5, n) * scale, 1e6)
    budget = float(lo.sum() + rng.uniform(0.2, 0.8) * (hi.sum() - lo.sum()))
    return ExponentialInstance(top, scale, lo, hi, budget)


@pytest.mark.parametrize("seed", range(8))
def test_exponential_plan_reaches_the_lagrangian_optimum(seed):
    instance = random_exponential_instance(seed)
    reference = instance.optimum()
    plan = solve(instance.scenario())

    assert_optimal(plan)
    spend = spends(plan)
    leads = instance.leads(spend)
    assert plan.objective_value == pytest.approx(leads, rel=1e-9)
    assert spend.sum() <= instance.budget * (1 + 1e-9)
    assert np.all(spend >= instance.lo - 1e-6) and np.all(spend <= instance.hi + 1e-6)
    assert leads <= reference.value * (1 + 1e-9)
    assert leads >= reference.value * (1 - 1e-3)
    assert_certificate(plan, reference.value)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_tighter_tolerance_gets_closer_to_the_optimum(seed):
    instance = random_exponential_instance(seed)
    reference = instance.optimum()
    plan = solve(instance.scenario(), tolerance=1e-4)
    assert_optimal(plan)
    assert instance.leads(spends(plan)) >= reference.value * (1 - 1e-4)
    assert_certificate(plan, reference.value, tolerance=1e-4)


def test_a_budget_above_every_max_puts_every_campaign_at_its_max():
    instance = random_exponential_instance(3)
    plan = solve(instance.scenario(budget=instance.hi.sum() * 1.5))
    assert_optimal(plan)
    np.testing.assert_allclose(spends(plan), instance.hi, rtol=1e-9)
    assert price_of(plan, "budget") == 0.0
    assert all(row.at_bound == "max" for row in plan.allocation)


# --- 2. S-shaped Hill curves: exhaustive search ---------------------------------------------

SEARCH = SmallCampaign("search", "exponential", (1000, 20_000))
VIDEO = SmallCampaign("video", "hill", (3000, 60_000, 2.5))
S_CURVE_CASES = {
    "one S-curve, small budget": ([SEARCH, VIDEO], 40_000),
    "one S-curve, large budget": ([SEARCH, VIDEO], 90_000),
    "two S-curves and a concave one": ([
        SmallCampaign("search", "exponential", (800, 30_000), hi=80_000),
        SmallCampaign("video", "hill", (2000, 40_000, 1.5), hi=120_000),
        SmallCampaign("ctv", "hill", (1500, 25_000, 3.0), hi=60_000),
    ], 70_000),
    "two S-curves, one with a minimum": ([
        SmallCampaign("video", "hill", (2000, 40_000, 2.0), lo=5_000, hi=120_000),
        SmallCampaign("ctv", "hill", (1500, 25_000, 3.0), hi=60_000),
    ], 50_000),
}


@pytest.mark.parametrize("case", S_CURVE_CASES)
def test_s_curve_plan_reaches_the_grid_optimum(case):
    campaigns, budget = S_CURVE_CASES[case]
    plan = solve(build(scenario_dict([c.entry() for c in campaigns], budget={"total": budget})))
    best = grid_search([c.leads for c in campaigns], [c.lo for c in campaigns], [c.hi for c in campaigns],
                       budget)

    assert_optimal(plan)
    spend = spends(plan)
    leads = sum(float(c.leads(s)) for c, s in zip(campaigns, spend, strict=True))
    assert plan.objective_value == pytest.approx(leads, rel=1e-9)
    assert spend.sum() <= budget * (1 + 1e-9)
    # The grid's best is a feasible plan, so it is at most the true optimum.
    assert leads >= best.value * (1 - 1e-3)
    assert_certificate(plan, best.value)


@pytest.mark.parametrize("case", S_CURVE_CASES)
def test_s_curve_campaigns_are_solved_as_an_exact_milp(case):
    campaigns, budget = S_CURVE_CASES[case]
    plan = solve(build(scenario_dict([c.entry() for c in campaigns], budget={"total": budget})))
    flagged = {row.campaign: row.exact_milp for row in plan.allocation}
    assert flagged == {c.name: c.is_s_shaped for c in campaigns}
    assert set(plan.info.milp_campaigns) == {c.name for c in campaigns if c.is_s_shaped}
    assert any("MILP" in warning for warning in plan.warnings)


def test_concave_hill_and_an_s_curve_above_its_inflection_need_no_milp():
    campaigns = [SmallCampaign("concave hill", "hill", (2000, 40_000, 0.8), hi=200_000),
                 SmallCampaign("past inflection", "hill", (1500, 25_000, 3.0), lo=30_000, hi=90_000)]
    plan = solve(build(scenario_dict([c.entry() for c in campaigns], budget={"total": 100_000})))
    assert_optimal(plan)
    assert not any(row.exact_milp for row in plan.allocation)
    assert plan.info.milp_campaigns == ()


CONVEXIFY_CASES = {
    # The concave envelope spreads budget into the S-curve's convex stretch; the truth is all or nothing.
    "S-curve off": (SmallCampaign("video", "hill", (3000, 60_000, 2.5), hi=100_000), 40_000, 0.0),
    "S-curve fully on": (SmallCampaign("video", "hill", (3000, 60_000, 2.5), hi=40_000), 50_000, 40_000.0),
}


@pytest.mark.parametrize("case", CONVEXIFY_CASES)
def test_a_convexified_answer_would_be_wrong(case):
    s_curve, budget, true_spend = CONVEXIFY_CASES[case]
    concave = SmallCampaign("search", "exponential", (1000, 20_000), hi=100_000)
    plan = solve(build(scenario_dict([concave.entry(), s_curve.entry()], budget={"total": budget})))
    assert_optimal(plan)

    best = grid_search([concave.leads, s_curve.leads], [0, 0], [concave.hi, s_curve.hi], budget)
    assert best.spend[1] == pytest.approx(true_spend, abs=1.0)
    assert spends(plan)[1] == pytest.approx(true_spend, abs=1e-6 * budget)

    xs, ys = concave_envelope(s_curve.leads, s_curve.hi)
    convexified = grid_search([concave.leads, lambda s: np.interp(s, xs, ys)], [0, 0],
                              [concave.hi, s_curve.hi], budget)
    assert 1.0 < convexified.spend[1] < s_curve.hi - 1.0, "the envelope answer sits in the convex stretch"
    convexified_leads = float(concave.leads(convexified.spend[0]) + s_curve.leads(convexified.spend[1]))
    assert convexified_leads < plan.objective_value * (1 - 0.02)


# --- 5. HiGHS and CBC agree -----------------------------------------------------------------


@pytest.fixture
def cbc():
    """CBC is a dependency (pulp[cbc]); the adapter finds it without PATH."""
    assert cbc_path() is not None, "no CBC binary: the installation is incomplete"


def search_campaign(name: str, impressions: float, scale: float, ctr: float, cvr: float, **spend) -> dict:
    return {
        "name": name, "channel": "search", "stage": "conversion", "pools": ["search"], "spend": spend,
        "impressions": {"curve": "exponential", "max": impressions, "scale": scale},
        "clicks": {"rate": ctr, "of": "impressions"}, "leads": {"rate": cvr, "of": "clicks"},
    }


def sov_scenario(floor: float, pool: dict, budget: float = 200_000) -> Scenario:
    """Two search campaigns in an SOV pool and a cheaper social campaign outside it."""
    campaigns = [
        search_campaign("Search: brand", 400_000, 20_000, 0.10, 0.08, max=60_000),
        search_campaign("Search: generic", 1_500_000, 150_000, 0.03, 0.05, max=300_000),
        {**exponential_campaign("Social: lead ads", 3000, 60_000, max=200_000), "channel": "social"},
    ]
    return build(scenario_dict(campaigns, budget={"total": budget}, pools={"search": pool},
                               constraints=[{"kpi": "sov.search", "min": floor}]))


COMPETITORS = {"competitor_impressions": 2_000_000}
FIXED_TOTAL = {"total_impressions": 3_000_000}


def mixed_lp_scenario() -> Scenario:
    """Concave curves only (an LP): a budget, a stage share floor and a binding SOV floor."""
    campaigns = [
        search_campaign("Search: brand", 400_000, 20_000, 0.10, 0.08, max=60_000),
        search_campaign("Search: generic", 1_500_000, 150_000, 0.03, 0.05, max=300_000),
        {**exponential_campaign("Social: lead ads", 3000, 60_000, max=200_000), "channel": "social"},
        {"name": "Display", "channel": "display", "stage": "awareness", "spend": {"max": 100_000},
         "leads": {"curve": "log", "coef": 400, "scale": 15_000}},
    ]
    return build(scenario_dict(
        campaigns, budget={"total": 250_000}, pools={"search": COMPETITORS},
        constraints=[{"kpi": "sov.search", "min": 0.35},
                     {"kpi": "share", "where": {"stage": "awareness"}, "min": 0.2}],
    ))


def s_curve_scenario() -> Scenario:
    campaigns, budget = S_CURVE_CASES["two S-curves and a concave one"]
    return build(scenario_dict([c.entry() for c in campaigns], budget={"total": budget}))


def min_spend_scenario() -> Scenario:
    campaigns = [exponential_campaign("a", 1000, 20_000, max=100_000),
                 exponential_campaign("b", 2500, 80_000, max=200_000)]
    return build(scenario_dict(campaigns, objective={"minimize": "spend"},
                               constraints=[{"kpi": "leads", "min": 1800}]))


AGREEMENT_CASES = {
    "LP with budget, share and SOV rows": (mixed_lp_scenario, {}),
    "MILP with S-curves": (s_curve_scenario, {"mip_gap": 1e-9}),
    "minimise spend under a leads floor": (min_spend_scenario, {}),
}


@pytest.mark.parametrize("case", AGREEMENT_CASES)
def test_highs_and_cbc_agree_on_the_same_program(case, cbc):
    """Without refinement both solvers get identical arrays, so they must agree to solver precision."""
    make, options = AGREEMENT_CASES[case]
    highs = solve(make(), solver="highs", refine=0, **options)
    coin = solve(make(), solver="cbc", refine=0, **options)
    assert_optimal(highs)
    assert_optimal(coin)
    assert coin.info.solver == "cbc"
    assert coin.objective_value == pytest.approx(highs.objective_value, rel=1e-6)
    np.testing.assert_allclose(spends(coin), spends(highs), rtol=1e-5, atol=1e-3)
    highs_prices = {p.constraint: p.price for p in highs.shadow_prices}
    coin_prices = {p.constraint: p.price for p in coin.shadow_prices}
    assert highs_prices, "every case has a binding constraint"
    assert coin_prices.keys() == highs_prices.keys()
    for name, price in highs_prices.items():
        assert price > 0
        # A price is measured by re-solving a step (a thousandth of the bound) ahead: each solver's optimum
        # carries its round-off (about 1e-8 of the objective), which that step turns into about 1e-5 of the rate.
        assert coin_prices[name] == pytest.approx(price, rel=1e-4), name


@pytest.mark.parametrize("case", AGREEMENT_CASES)
def test_highs_and_cbc_agree_within_their_certificates(case, cbc):
    """Refined grids follow each solver's plan, so the optima may differ, but only within the proven gaps."""
    make, options = AGREEMENT_CASES[case]
    highs = solve(make(), solver="highs", **options)
    coin = solve(make(), solver="cbc", **options)
    assert_optimal(highs)
    assert_optimal(coin)
    slack = max(highs.gap, coin.gap) * abs(highs.objective_value) + 1e-9 * abs(highs.objective_value)
    assert abs(coin.objective_value - highs.objective_value) <= slack


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_a_budget_too_small_for_a_floor_is_infeasible_on_both_solvers(solver, cbc):
    """The floor is reachable at the campaigns' maxima, so only the solver can find the conflict."""
    campaigns = [exponential_campaign("a", 1000, 20_000, max=100_000),
                 exponential_campaign("b", 1000, 20_000, max=100_000)]
    scenario = build(scenario_dict(campaigns, budget={"total": 50_000},
                                   constraints=[{"kpi": "leads", "min": 1800}]))
    plan = solve(scenario, solver=solver)
    assert plan.status is Status.INFEASIBLE
    assert plan.objective_value is None and plan.allocation == ()


def test_cbc_is_found_without_activating_the_virtualenv(monkeypatch):
    kept = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p) != VENV_BIN]
    monkeypatch.setenv("PATH", os.pathsep.join(kept))
    if shutil.which("cbc") is not None:
        pytest.skip("a cbc binary outside the virtualenv is on PATH")
    plan = solve(min_spend_scenario(), solver="cbc")
    assert plan.status is Status.OPTIMAL


# --- 6. shadow prices --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_budget_price_is_the_lagrange_multiplier(seed):
    """For exponential curves d(optimum)/d(budget) is exactly the multiplier of the closed form."""
    instance = random_exponential_instance(seed)
    plan = solve(instance.scenario(), tolerance=1e-4)
    assert_optimal(plan)
    assert price_of(plan, "budget") == pytest.approx(instance.optimum().multiplier, rel=0.02)


def two_exponentials(budget: float) -> Scenario:
    return build(scenario_dict(
        [exponential_campaign("a", 1000, 50_000, max=500_000),
         exponential_campaign("b", 2000, 100_000, max=500_000)],
        budget={"total": budget},
    ))


def central_difference(values: tuple[float, float], step: float) -> float:
    low, high = values
    return (high - low) / (2 * step)


def test_budget_price_at_the_default_tolerance_matches_a_finite_difference():
    budget, step = 300_000.0, 1_500.0
    plan = solve(two_exponentials(budget))
    exact = [exponential_optimum(np.array([1000.0, 2000.0]), np.array([50_000.0, 100_000.0]), np.zeros(2),
                                 np.full(2, 5e5), b).value for b in (budget - step, budget + step)]
    assert price_of(plan, "budget") == pytest.approx(central_difference(exact, step), rel=0.02)


def test_budget_price_matches_a_finite_difference_of_re_solved_optima():
    scenario = mixed_lp_scenario()
    budget = scenario.budget.total
    step = 0.005 * budget

    def optimum(total: float) -> float:
        changed = scenario.replace(budget=scenario.budget.model_copy(update={"total": total}))
        plan = solve(changed, tolerance=1e-5)
        assert_optimal(plan)
        return plan.objective_value

    plan = solve(scenario, tolerance=1e-4)
    assert_optimal(plan)
    slope = central_difference((optimum(budget - step), optimum(budget + step)), step)
    assert slope > 0
    assert price_of(plan, "budget") == pytest.approx(slope, rel=0.02)


def sov_floor_price_and_finite_difference(pool: dict, floor: float, tolerance: float) -> tuple[float, float]:
    """The plan's price of the SOV floor, and leads lost per point between optima at floor +/- 0.2 pt."""
    step = 0.002

    def optimum(level: float) -> float:
        plan = solve(sov_scenario(level, pool), tolerance=1e-5)
        assert_optimal(plan)
        return plan.objective_value

    plan = solve(sov_scenario(floor, pool), tolerance=tolerance)
    assert_optimal(plan)
    assert plan.sov["search"] == pytest.approx(floor, rel=1e-3), "the floor binds"
    leads_lost_per_point = -central_difference((optimum(floor - step), optimum(floor + step)), step) * 0.01
    assert leads_lost_per_point > 0
    return price_of(plan, "sov"), leads_lost_per_point


@pytest.mark.parametrize(("pool", "floor"), [(COMPETITORS, 0.35), (FIXED_TOTAL, 0.30)],
                         ids=["competitors", "total"])
def test_sov_floor_price_matches_a_finite_difference(pool, floor):
    price, finite_difference = sov_floor_price_and_finite_difference(pool, floor, tolerance=1e-5)
    assert price == pytest.approx(finite_difference, rel=0.02)


def test_sov_floor_price_at_the_default_tolerance_matches_a_finite_difference():
    price, finite_difference = sov_floor_price_and_finite_difference(FIXED_TOTAL, 0.30, tolerance=1e-3)
    assert price == pytest.approx(finite_difference, rel=0.02)


def test_minimised_spend_price_is_positive_spend_saved_per_lead():
    plan = solve(min_spend_scenario(), tolerance=1e-4)
    assert_optimal(plan)
    step = 10.0
    lower = min_spend_scenario().replace(constraints=({"kpi": "leads", "min": 1800 - step},))
    higher = min_spend_scenario().replace(constraints=({"kpi": "leads", "min": 1800 + step},))
    saved_per_lead = central_difference(
        (solve(lower, tolerance=1e-5).objective_value, solve(higher, tolerance=1e-5).objective_value), step)
    assert saved_per_lead > 0
    assert price_of(plan, "volume") == pytest.approx(saved_per_lead, rel=0.02)


# --- 7. every scenario file ------------------------------------------------------------------


def test_there_are_scenario_files():
    assert SCENARIO_FILES


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_scenario_file_solves_to_a_certified_optimum(path):
    plan = solve(load_scenario(path))
    assert_optimal(plan)
    assert plan.gap is not None and plan.gap <= 1e-3
    assert plan.objective_value <= plan.bound * (1 + 1e-12) if plan.objective_sense == "maximize" \
        else plan.objective_value >= plan.bound * (1 - 1e-12)
    assert len(plan.allocation) == len(load_scenario(path).campaigns)


# Sanity checks of the references themselves: a reference that is wrong makes every test above vacuous.


def test_lagrangian_reference_beats_random_feasible_splits():
    instance = random_exponential_instance(11)
    best = instance.optimum()
    assert best.spend.sum() == pytest.approx(instance.budget, rel=1e-9)
    rng = np.random.default_rng(0)
    for _ in range(200):
        weights = rng.dirichlet(np.ones(instance.top.size))
        spread = instance.lo + weights * (instance.budget - instance.lo.sum())
        spend = np.clip(spread, instance.lo, instance.hi)
        assert instance.leads(spend) <= best.value * (1 + 1e-12)


def test_grid_search_finds_a_known_split():
    # Two identical concave curves: the best split of any budget is half each.
    best = grid_search([lambda s: np.sqrt(s), lambda s: np.sqrt(s)], [0, 0], [100.0, 100.0], 100.0)
    assert best.spend == pytest.approx([50.0, 50.0], abs=1e-3)
    assert hill(np.array([2.0]), 10.0, 2.0, 3.0)[0] == pytest.approx(5.0)
