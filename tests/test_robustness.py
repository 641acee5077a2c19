"""Numerical robustness: the edge cases a planning tool will meet, on both solvers.

Mixed magnitudes in one plan ($10 to $1e9 of spend, outcomes from 1e-3 to 1e10), a single
campaign, a thousand identical campaigns, everything locked, a zero budget, a budget above
every maximum. Each answer is checked against a closed form, never against the tool's output,
and neither solver may report numerical trouble.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import exponential, exponential_optimum

from optimizer import Scenario, Status, solve

SOLVERS = ["highs", "cbc"]


def campaign(name: str, top: float, scale: float, spend_max: float, **spend) -> dict:
    return {"name": name, "channel": "search", "stage": "conversion", "spend": {"max": spend_max, **spend},
            "leads": {"curve": "exponential", "max": top, "scale": scale}}


def scenario(campaigns: list[dict], budget: float, **extra) -> Scenario:
    return Scenario.model_validate({"name": "robustness", "budget": {"total": budget}, "campaigns": campaigns,
                                    **extra})


def certified(plan, exact: float) -> None:
    """The plan is optimal, verified, and its certificate brackets the exact optimum."""
    assert plan.status is Status.OPTIMAL, plan.message
    assert all(check.ok for check in plan.checks)
    assert plan.objective_value <= exact * (1 + 1e-7) + 1e-12
    assert plan.bound >= exact * (1 - 1e-7) - 1e-12
    assert plan.gap <= 2e-3


@pytest.mark.parametrize("solver", SOLVERS)
def test_spend_from_ten_dollars_to_a_billion_in_one_plan(solver):
    """Saturation scales from $4 to $4e8: the budget splits by the Lagrangian closed form."""
    tops = np.array([50.0, 2e3, 1e5, 4e6, 2e8])
    scales = np.array([4.0, 4e2, 4e4, 4e6, 4e8])
    maxima = np.array([10.0, 1e3, 1e5, 1e7, 1e9])
    budget = 5e8
    exact = exponential_optimum(tops, scales, np.zeros(5), maxima, budget)
    plan = solve(scenario([campaign(f"c{i}", t, s, m) for i, (t, s, m) in enumerate(zip(tops, scales, maxima,
                                                                                         strict=True))], budget),
                 solver=solver)
    certified(plan, exact.value)
    spend = np.array([a.spend for a in plan.allocation])
    assert np.allclose(spend, exact.spend, rtol=2e-2, atol=1e-2 * maxima.min())


@pytest.mark.parametrize("solver", SOLVERS)
def test_outcomes_from_a_thousandth_to_ten_billion_in_one_plan(solver):
    """Leads of wildly different sizes are added up and maximised as one KPI."""
    tops = np.array([1e-3, 1.0, 1e4, 1e10])
    scales = np.array([1e3, 2e3, 5e3, 1e4])
    maxima = np.full(4, 1e5)
    budget = 2e4
    exact = exponential_optimum(tops, scales, np.zeros(4), maxima, budget)
    plan = solve(scenario([campaign(f"c{i}", t, s, 1e5) for i, (t, s) in enumerate(zip(tops, scales,
                                                                                        strict=True))], budget),
                 solver=solver)
    certified(plan, exact.value)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_single_campaign_spends_the_budget(solver):
    plan = solve(scenario([campaign("only", 1_000.0, 20_000.0, 100_000.0)], 30_000.0), solver=solver)
    exact = exponential(np.array([30_000.0]), np.array([1_000.0]), np.array([20_000.0])).sum()
    certified(plan, exact)
    assert plan.allocation[0].spend == pytest.approx(30_000.0, rel=1e-9)


@pytest.mark.parametrize("solver", ["highs", pytest.param("cbc", marks=pytest.mark.slow)])
def test_a_thousand_identical_campaigns_share_the_budget_equally(solver):
    """By symmetry and concavity the optimum gives each campaign budget / 1000."""
    n, budget = 1000, 2_000_000.0
    campaigns = [campaign(f"c{i:04d}", 100.0, 3_000.0, 10_000.0) for i in range(n)]
    plan = solve(scenario(campaigns, budget), solver=solver)
    exact = n * exponential(np.array([budget / n]), np.array([100.0]), np.array([3_000.0]))[0]
    certified(plan, exact)
    assert sum(a.spend for a in plan.allocation) == pytest.approx(budget, rel=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_every_campaign_locked_gives_the_current_split(solver):
    spends = [10_000.0, 25_000.0, 5_000.0]
    campaigns = [campaign(f"c{i}", 500.0, 8_000.0, 50_000.0, current=s, locked=True) for i, s in enumerate(spends)]
    plan = solve(scenario(campaigns, 60_000.0), solver=solver)
    exact = exponential(np.array(spends), np.full(3, 500.0), np.full(3, 8_000.0)).sum()
    certified(plan, exact)
    assert [a.spend for a in plan.allocation] == pytest.approx(spends, rel=1e-9)
    assert plan.gap <= 1e-9


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_zero_budget_spends_nothing(solver):
    plan = solve(scenario([campaign("a", 500.0, 8_000.0, 50_000.0), campaign("b", 300.0, 2_000.0, 50_000.0)], 0.0),
                 solver=solver)
    assert plan.status is Status.OPTIMAL, plan.message
    assert all(check.ok for check in plan.checks)
    reach = exponential(np.full(2, 50_000.0), np.array([500.0, 300.0]), np.array([8_000.0, 2_000.0])).sum()
    # Nothing to gain: the bound may carry the solver's round-off, a millionth of what the campaigns could give.
    assert plan.objective_value == 0.0 and 0.0 <= plan.bound <= 1e-6 * reach and plan.gap <= 1e-6
    assert all(a.spend == 0.0 for a in plan.allocation)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_budget_above_every_maximum_puts_each_campaign_at_its_max(solver):
    maxima = np.array([20_000.0, 35_000.0])
    plan = solve(scenario([campaign("a", 500.0, 8_000.0, maxima[0]), campaign("b", 300.0, 2_000.0, maxima[1])],
                          1e9), solver=solver)
    exact = exponential(maxima, np.array([500.0, 300.0]), np.array([8_000.0, 2_000.0])).sum()
    certified(plan, exact)
    assert [a.spend for a in plan.allocation] == pytest.approx(list(maxima), rel=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_zero_budget_with_a_floor_is_explained(solver):
    document = [campaign("a", 500.0, 8_000.0, 50_000.0)]
    plan = solve(scenario(document, 0.0, constraints=[{"kpi": "leads", "min": 10.0}]), solver=solver)
    assert plan.status is Status.INFEASIBLE
    assert plan.explanation is not None and "raise the budget to $" in plan.message
