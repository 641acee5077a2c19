"""Cases found by adversarial testing: each checked against a closed form or a brute-force answer.

They cover badly scaled objectives, curves that start vertically, floors that admit only a
sliver of spend, degenerate budget prices and solver quirks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimizer import Scenario, Status, solve


def campaign(name: str, **fields) -> dict:
    return {"name": name, "channel": "search", "stage": "conversion", **fields}


def build(campaigns: list[dict], **settings) -> Scenario:
    return Scenario.model_validate({"name": "case", "campaigns": campaigns, **settings})


def price(plan, kind: str) -> float:
    (found,) = [p.price for p in plan.shadow_prices if p.kind == kind]
    return found


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_a_tiny_s_curve_beside_a_huge_linear_coefficient_is_still_optimised(solver):
    """Objective costs a million times apart: the S-curve campaign must still get the budget."""
    scenario = build(
        [campaign("big", clicks={"curve": "linear", "unit_cost": 0.001}, spend={"max": 1000.0}),
         campaign("s", clicks={"curve": "hill", "max": 1.0, "half": 1000.0, "shape": 3.0}, spend={"max": 2000.0})],
        budget={"total": 3000.0}, objective={"maximize": "clicks"},
        constraints=[{"kpi": "spend", "where": {"name": "big"}, "max": 1e-6}])
    plan = solve(scenario, solver=solver)
    s_curve = 2000.0**3 / (2000.0**3 + 1000.0**3)  # all of s's allowed spend
    assert plan.status is Status.OPTIMAL
    assert plan.spend["s"] == pytest.approx(2000.0)
    assert plan.objective_value >= s_curve * (1 - 1e-6)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_a_ctr_floor_met_by_spending_nothing_on_a_vertical_curve(solver):
    """CTR 0.5% can never reach a 1% floor, but zero spend meets it (0 >= 0)."""
    scenario = build(
        [campaign("a", impressions={"curve": "power", "coef": 1000.0, "exponent": 0.5},
                  clicks={"rate": 0.005, "of": "impressions"}, leads={"rate": 0.1, "of": "clicks"},
                  spend={"max": 1000.0}),
         campaign("b", leads={"curve": "linear", "unit_cost": 50.0}, spend={"max": 1000.0})],
        budget={"total": 2000.0}, constraints=[{"kpi": "ctr", "where": {"name": "a"}, "min": 0.01}])
    plan = solve(scenario, solver=solver)
    assert plan.status is Status.OPTIMAL
    assert plan.spend["a"] == 0.0
    assert plan.objective_value == pytest.approx(1000.0 / 50.0)


def test_cbc_does_not_call_a_feasible_milp_infeasible():
    scenario = build(
        [campaign("a", leads={"curve": "linear", "unit_cost": 0.008}, spend={"max": 24.0}),
         campaign("b", stage="awareness", clicks={"curve": "linear", "unit_cost": 1e-4},
                  leads={"rate": 0.18, "of": "clicks"}, spend={"max": 10.0}),
         campaign("c", stage="awareness", leads={"curve": "hill", "max": 22.0, "half": 16.0, "shape": 1.6},
                  spend={"max": 12.5, "min": 5.0})],
        budget={"total": 47.0}, constraints=[{"kpi": "cvr", "min": 0.19}])
    everything = 24.0 / 0.008 + 0.18 * 10.0 / 1e-4 + 22.0 * 12.5**1.6 / (12.5**1.6 + 16.0**1.6)
    for solver in ("highs", "cbc"):
        plan = solve(scenario, solver=solver)
        assert plan.status is Status.OPTIMAL, (solver, plan.message)
        assert plan.objective_value == pytest.approx(everything, rel=1e-6)


def test_a_roas_floor_that_admits_a_sliver_of_spend_finds_it():
    """ROAS >= 999 on revenue = 1000 x (1 - e^-s/30000) x 30000 / s: only spend up to ~60 qualifies."""
    scenario = build(
        [campaign("k", impressions={"curve": "exponential", "max": 1e9, "scale": 30_000.0},
                  clicks={"rate": 0.01, "of": "impressions"}, revenue={"rate": 3.0, "of": "clicks"},
                  spend={"max": 20_000.0})],
        objective={"maximize": "clicks"}, constraints=[{"kpi": "roas", "min": 999.0}])

    def roas(s: float) -> float:
        return 3.0 * 0.01 * 1e9 * -math.expm1(-s / 30_000.0) / s

    low, high = 1.0, 20_000.0
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if roas(mid) >= 999.0 else (low, mid)
    best = 0.01 * 1e9 * -math.expm1(-low / 30_000.0)
    plan = solve(scenario)
    assert plan.status is Status.OPTIMAL
    assert plan.objective_value == pytest.approx(best, rel=1e-4)
    assert plan.gap <= 1e-3


def test_the_budget_is_priced_when_a_campaign_without_a_max_takes_it_all():
    one = solve(build([campaign("k", leads={"curve": "linear", "unit_cost": 50.0})], budget={"total": 1000.0}))
    assert price(one, "budget") == pytest.approx(1 / 50.0)
    two = solve(build(
        [campaign("k", leads={"curve": "exponential", "max": 100.0, "scale": 2000.0}),
         campaign("j", leads={"curve": "linear", "unit_cost": 100.0}, spend={"max": 500.0})],
        budget={"total": 1000.0}))
    assert two.spend["k"] == pytest.approx(1000.0)
    assert price(two, "budget") == pytest.approx(100.0 / 2000.0 * math.exp(-0.5), rel=1e-3)


def test_tiny_but_real_prices_are_reported():
    """A price is kept by its effect relative to the objective, not by its size in its own units."""
    sov = solve(build(
        [campaign("k", pools=["p"], impressions={"curve": "linear", "unit_cost": 0.01}, spend={"max": 2e6})],
        pools={"p": {"competitor_impressions": 1e8}}, budget={"total": 1e6}, objective={"maximize": "sov.p"}))
    # SOV = X / (X + C) with X = 100 spend: d SOV / d spend = 100 C / (X + C)^2, in points.
    assert price(sov, "budget") == pytest.approx(100 * 100 * 1e8 / (1e8 + 1e8) ** 2, rel=1e-6)
    cheap = solve(build([campaign("k", leads={"curve": "linear", "unit_cost": 1e10}, spend={"max": 2e8})],
                        budget={"total": 1e8}))
    assert price(cheap, "budget") == pytest.approx(1e-10, rel=1e-6)


def test_milp_prices_come_from_the_optimal_mix_not_a_near_optimal_one():
    """The budget's price equals the finite difference of optimal leads in the budget."""
    def scenario(total: float) -> Scenario:
        return build(
            [campaign("k0", stage="awareness", impressions={"curve": "linear", "unit_cost": 0.001095},
                      clicks={"rate": 0.0708, "of": "impressions"}, leads={"rate": 0.0709, "of": "clicks"},
                      spend={"max": 67.18}),
             campaign("k1", stage="consideration",
                      impressions={"curve": "tabular", "points": [[0, 0], [3.5, 37532], [85.93, 1521580]]},
                      leads={"curve": "tabular", "points": [[0, 0], [51.96, 316.67], [85.93, 771.45]]},
                      spend={"max": 58.55, "min": 9.95}),
             campaign("k2", leads={"curve": "power", "coef": 1594.26, "exponent": 0.7544},
                      spend={"max": 45.62, "min": 13.24})],
            budget={"total": total},
            constraints=[{"kpi": "clicks", "where": {"stage": "awareness"}, "min": 3718.97}])

    plan = solve(scenario(122.84))
    step = 0.05
    higher, lower = (solve(scenario(122.84 + sign * step)).objective_value for sign in (1, -1))
    slope = (higher - lower) / (2 * step)
    assert price(plan, "budget") == pytest.approx(slope, rel=0.01)


def test_a_badly_scaled_roi_floor_solves():
    scenario = build(
        [campaign("a", stage="awareness", leads={"curve": "log", "coef": 8e5, "scale": 375.0},
                  revenue={"rate": 11692.0, "of": "leads"}, spend={"max": 218.0}),
         campaign("b", stage="awareness", leads={"curve": "power", "coef": 0.0017, "exponent": 0.47},
                  revenue={"rate": 372.0, "of": "leads"}, spend={"max": 110.0, "min": 4.0})],
        constraints=[{"kpi": "roi", "min": 1.2e7}])
    plan = solve(scenario)
    assert plan.status is Status.OPTIMAL, plan.message
    for name, spend in plan.spend.items():
        assert 0 <= spend <= {"a": 218.0, "b": 110.0}[name]
    leads = {row.campaign: row for row in plan.allocation}
    revenue = sum(row.revenue for row in leads.values())
    assert (revenue - plan.kpis["spend"]) / plan.kpis["spend"] >= 1.2e7 * (1 - 1e-6)


def test_cbc_solves_a_plan_with_nothing_to_decide():
    locked = build([campaign("a", spend={"current": 100.0, "locked": True},
                             leads={"curve": "linear", "unit_cost": 10.0})])
    for solver in ("highs", "cbc"):
        plan = solve(locked, solver=solver)
        assert plan.status is Status.OPTIMAL and plan.objective_value == pytest.approx(10.0)


def test_gaps_stay_small_on_random_small_plans():
    """Brute force on one campaign: the certified gap never hides a better plan."""
    rng = np.random.default_rng(7)
    for _ in range(10):
        top, scale, cap = rng.uniform(100, 1000), rng.uniform(1e3, 1e5), rng.uniform(1e3, 1e5)
        floor = rng.uniform(0.2, 0.9)
        scenario = build([campaign("k", leads={"curve": "exponential", "max": top, "scale": scale},
                                   spend={"max": cap})],
                         objective={"minimize": "spend"},
                         constraints=[{"kpi": "leads", "min": floor * top * -math.expm1(-cap / scale)}])
        plan = solve(scenario)
        need = -scale * math.log(1 - floor * -math.expm1(-cap / scale))
        assert plan.objective_value == pytest.approx(need, rel=1e-6)
        assert plan.bound <= need * (1 + 1e-9)
