"""Numerical honesty: extreme magnitudes, vertical tangents, and floors at the edge of reach.

Each case is checked against an independent answer (the Lagrangian closed form for exponential
curves, a dense evaluation of the curve formulas), never against the tool's own output.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import exponential_optimum

from optimizer import Scenario, Status, solve
from optimizer.curves import Hill, Power, breakpoints, envelope


def exponential_scenario(tops, scales, budget: float, spend_max: float, **extra) -> Scenario:
    campaigns = [
        {"name": f"c{i}", "channel": "search", "stage": "conversion", "spend": {"max": spend_max},
         "leads": {"curve": "exponential", "max": float(top), "scale": float(scale)}}
        for i, (top, scale) in enumerate(zip(tops, scales, strict=True))
    ]
    return Scenario.model_validate({"name": "magnitudes", "budget": {"total": budget}, "campaigns": campaigns, **extra})


@pytest.mark.parametrize(("spend_unit", "outcome_unit"), [(1e5, 1e-6), (1.0, 1e-8), (1e4, 1e6), (1e-1, 1e3)])
def test_the_certificate_holds_at_extreme_magnitudes(spend_unit, outcome_unit):
    """Spend from tens of dollars to billions, outcomes from 1e-6 to 1e9: the same plan, scaled."""
    tops = np.array([3.0, 1.5, 2.0]) * outcome_unit
    scales = np.array([2.0, 0.8, 1.2]) * spend_unit
    budget = 3.0 * spend_unit
    exact = exponential_optimum(tops, scales, np.zeros(3), np.full(3, 4 * spend_unit), budget).value
    plan = solve(exponential_scenario(tops, scales, budget, 4 * spend_unit))
    assert plan.status is Status.OPTIMAL, plan.message
    assert plan.objective_value == pytest.approx(exact, rel=1e-4)
    assert plan.bound >= exact * (1 - 1e-9), "the bound must not fall below the true optimum"
    assert plan.gap <= 1e-3


def two_exponentials_minimising_spend(floor: float) -> Scenario:
    return exponential_scenario([1000.0, 500.0], [5000.0, 2000.0], 10_000.0, 100_000.0,
                                objective={"minimize": "spend"},
                                constraints=[{"kpi": "leads", "min": floor}])


def best_leads_within_the_budget() -> float:
    return exponential_optimum(np.array([1000.0, 500.0]), np.array([5000.0, 2000.0]), np.zeros(2),
                               np.full(2, 1e5), 10_000.0).value


def test_a_floor_just_inside_reach_is_met():
    """The plan program is an inner approximation; refining around the outer solution finds the plan."""
    floor = best_leads_within_the_budget() * (1 - 1e-6)
    plan = solve(two_exponentials_minimising_spend(floor))
    assert plan.status is Status.OPTIMAL, plan.message
    assert plan.kpis["leads"] >= floor * (1 - 1e-9)
    assert plan.kpis["spend"] <= 10_000 * (1 + 1e-9)


def test_a_floor_out_of_reach_is_proven_infeasible():
    plan = solve(two_exponentials_minimising_spend(best_leads_within_the_budget() * 1.001))
    assert plan.status is Status.INFEASIBLE
    assert plan.explanation is not None and plan.explanation.proven
    assert set(plan.explanation.conflict) == {"budget <= $10,000", "leads >= 1,144"}


def test_a_floor_just_out_of_reach_gets_no_plan():
    """Ten parts in a million above the limit (beyond the re-check's tolerance): no plan is returned."""
    plan = solve(two_exponentials_minimising_spend(best_leads_within_the_budget() * (1 + 1e-5)))
    assert plan.status is Status.INFEASIBLE
    assert plan.allocation == ()


@pytest.mark.parametrize(("curve", "hi"), [(Power(1.0, 0.2), 1e4), (Power(2.0, 0.05), 1e4),
                                           (Hill(1000.0, 5000.0, 0.3), 1e9), (Hill(1e6, 1000.0, 0.5), 1e4)])
def test_envelopes_stay_on_their_side_next_to_a_vertical_tangent(curve, hi):
    grid = breakpoints(curve, 0.0, hi, 1e-3)
    spend = np.concatenate([[0.0], np.geomspace(1e-16 * hi, hi, 100_001)])
    value = curve.value(spend)
    scale = float(curve.value(hi))
    assert np.all(envelope(curve, grid, "upper").at(spend) >= value - 1e-12 * scale)
    assert np.all(envelope(curve, grid, "lower").at(spend) <= value + 1e-12 * scale)


def test_a_small_cap_on_a_curve_with_a_vertical_start_is_feasible_at_zero():
    """Spending nothing on display meets its impressions cap, even though the curve starts vertically."""
    scenario = Scenario.model_validate({
        "name": "vertical", "budget": {"total": 8000},
        "campaigns": [
            {"name": "Display", "channel": "display", "stage": "awareness", "spend": {"max": 10_000},
             "impressions": {"curve": "hill", "max": 1e6, "half": 1000, "shape": 0.5},
             "leads": {"rate": 0.001, "of": "impressions"}},
            {"name": "Search", "channel": "search", "stage": "conversion", "spend": {"max": 10_000},
             "leads": {"curve": "exponential", "max": 500, "scale": 2000}},
        ],
        "constraints": [{"kpi": "impressions", "where": {"channel": "display"}, "max": 500}],
    })
    plan = solve(scenario)
    assert plan.status is Status.OPTIMAL, plan.message
    display = next(row for row in plan.allocation if row.campaign == "Display")
    hill = 1e6 * np.sqrt(display.spend) / (np.sqrt(display.spend) + np.sqrt(1000))
    assert hill <= 500 * (1 + 1e-6)


def test_a_campaign_max_above_the_budget_leaves_the_whole_price_on_the_budget():
    """The budget's price matches d(optimum)/d(budget) even when a campaign's max exceeds the budget."""
    tops, scales = np.array([1000.0, 2000.0]), np.array([50_000.0, 100_000.0])
    budget = 120_000.0
    plan = solve(exponential_scenario(tops, scales, budget, 500_000.0))
    step = 600.0
    optimum = [exponential_optimum(tops, scales, np.zeros(2), np.full(2, 5e5), b).value
               for b in (budget - step, budget + step)]
    slope = (optimum[1] - optimum[0]) / (2 * step)
    budget_prices = [p.price for p in plan.shadow_prices if p.kind == "budget"]
    assert budget_prices == [pytest.approx(slope, rel=0.01)]
    assert not [p for p in plan.shadow_prices if p.kind == "campaign"]


def test_maximising_share_of_voice_reports_a_share_and_prices_in_points():
    scenario = Scenario.model_validate({
        "name": "sov", "objective": {"maximize": "sov.search"}, "budget": {"total": 20_000},
        "pools": {"search": {"competitor_impressions": 100_000}},
        "campaigns": [
            {"name": "A", "channel": "search", "stage": "conversion", "pools": ["search"], "spend": {"max": 30_000},
             "impressions": {"curve": "exponential", "max": 80_000, "scale": 10_000}},
            {"name": "B", "channel": "search", "stage": "conversion", "pools": ["search"], "spend": {"max": 30_000},
             "impressions": {"curve": "exponential", "max": 60_000, "scale": 5_000}},
        ],
    })
    plan = solve(scenario, tolerance=1e-4)
    ours = exponential_optimum(np.array([80_000.0, 60_000.0]), np.array([10_000.0, 5_000.0]), np.zeros(2),
                               np.full(2, 30_000.0), 20_000.0)
    share = ours.value / (ours.value + 100_000)
    assert plan.objective_value == pytest.approx(share, rel=1e-5)
    assert plan.sov["search"] == pytest.approx(plan.objective_value, rel=1e-12)
    (budget_price,) = [p for p in plan.shadow_prices if p.kind == "budget"]
    # d(share)/d(budget) = d(share)/dX * dX/d(budget), with dX/d(budget) the Lagrange multiplier.
    points_per_dollar = 100 * 100_000 / (ours.value + 100_000) ** 2 * ours.multiplier
    assert budget_price.unit.startswith("SOV points")
    assert budget_price.price == pytest.approx(points_per_dollar, rel=0.01)
