"""Curve draws and the spread they give: draws follow the covariance written; a plan's spread is
checked against a closed form and a large independent Monte Carlo; no uncertainty gives no spread."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from optimizer import ScenarioError, Status, frontier, solve
from optimizer.cli import EXIT_OK, run
from optimizer.pareto import Frontier
from optimizer.scenario.schema import Scenario
from optimizer.uncertainty import draw_scenarios, frontier_uncertainty, plan_uncertainty
from optimizer.uncertainty.draws import draw_rate, drawn_campaigns

Z90 = 1.2815515655446004  # the standard normal's 90th percentile


def _scenario(*campaigns: dict, budget: float = 1_000.0, **extra) -> Scenario:
    return Scenario.model_validate({"name": "uncertain", "budget": {"total": budget},
                                    "objective": {"maximize": "leads"}, "campaigns": list(campaigns), **extra})


def _linear(name: str, unit_cost: float, sd: float, **extra) -> dict:
    return {"name": name, "channel": "search", "stage": "conversion", "spend": {"max": 1_000},
            "leads": {"curve": "linear", "unit_cost": unit_cost, "covariance": [[sd**2]]}, **extra}


def test_drawn_parameters_follow_the_covariance_written():
    covariance = [[4.0e6, 3.0e4], [3.0e4, 400.0]]  # max 100,000 +/- 2,000, scale 5,000 +/- 20, correlation 0.75
    campaign = {"name": "A", "channel": "video", "stage": "awareness", "spend": {"max": 50_000},
                "impressions": {"curve": "exponential", "max": 100_000, "scale": 5_000, "covariance": covariance},
                "clicks": {"rate": 0.02, "of": "impressions", "se": 0.001}}
    draws = draw_scenarios(_scenario(campaign), 4_000, seed=11)
    params = np.array([[d.campaigns[0].impressions.max, d.campaigns[0].impressions.scale] for d in draws])
    np.testing.assert_allclose(params.mean(axis=0), [100_000, 5_000], rtol=2e-3)
    np.testing.assert_allclose(np.cov(params.T), covariance, rtol=0.08)
    rates = np.array([d.campaigns[0].clicks.rate for d in draws])
    assert rates.mean() == pytest.approx(0.02, rel=2e-3) and rates.std() == pytest.approx(0.001, rel=0.05)


def test_draws_stay_within_each_familys_valid_range():
    wide = {"name": "A", "channel": "video", "stage": "awareness", "spend": {"max": 50_000},
            "impressions": {"curve": "hill", "max": 1_000, "half": 100, "shape": 9.0,
                            "covariance": [[1e6, 0, 0], [0, 1e4, 0], [0, 0, 4.0]]}}
    for drawn in draw_scenarios(_scenario(wide), 300, seed=2):
        curve = drawn.campaigns[0].impressions
        assert curve.max > 0 and curve.half > 0 and 0 < curve.shape <= 10
        Scenario.model_validate(drawn.model_dump())  # every draw is a valid scenario


def test_the_same_seed_gives_the_same_draws_and_another_seed_others():
    scenario = _scenario(_linear("A", 10.0, 1.0))
    first, again, other = (draw_scenarios(scenario, 5, seed) for seed in (4, 4, 5))
    assert [d.campaigns[0].leads.unit_cost for d in first] == [d.campaigns[0].leads.unit_cost for d in again]
    assert [d.campaigns[0].leads.unit_cost for d in first] != [d.campaigns[0].leads.unit_cost for d in other]


@pytest.mark.slow  # 2 s: a Monte Carlo of re-solves
def test_a_plans_spread_matches_the_closed_form_and_its_best_plans_an_independent_monte_carlo():
    """Two linear campaigns, the budget binding: the plan puts it all on the cheaper one (A), so on
    each draw it buys budget / cost_A. Costs are drawn log-normal (log cost normal with sd sd/cost),
    so its percentiles are budget / (cost_A exp(-/+ z sd / cost_A)). Each draw's best plan buys
    budget / min(cost_A, cost_B), checked on 400,000 independent samples."""
    budget, (cost_a, sd_a), (cost_b, sd_b) = 1_000.0, (10.0, 0.8), (10.5, 0.8)
    scenario = _scenario(_linear("A", cost_a, sd_a), _linear("B", cost_b, sd_b), budget=budget)
    plan = solve(scenario)
    assert plan.spend["A"] == pytest.approx(budget)
    spread = plan_uncertainty(scenario, plan, 300, seed=1).uncertainty
    assert spread.drawn == ("A", "B") and spread.unsolved == 0
    planned = spread.as_planned["leads"]
    # 300 draws place these percentiles to about 1% (one standard error): 3.5% is three and a half
    assert planned.p10 == pytest.approx(budget / (cost_a * math.exp(Z90 * sd_a / cost_a)), rel=0.035)
    assert planned.p50 == pytest.approx(budget / cost_a, rel=0.035)
    assert planned.p90 == pytest.approx(budget / (cost_a * math.exp(-Z90 * sd_a / cost_a)), rel=0.035)
    rng = np.random.default_rng(12345)
    costs_a = cost_a * np.exp(rng.normal(0.0, sd_a / cost_a, 400_000))
    costs_b = cost_b * np.exp(rng.normal(0.0, sd_b / cost_b, 400_000))
    best = budget / np.minimum(costs_a, costs_b)
    reference = np.percentile(best, [10, 50, 90])
    solved = spread.re_solved["leads"]
    np.testing.assert_allclose([solved.p10, solved.p50, solved.p90], reference, rtol=0.035)
    assert solved.p50 > planned.p50  # re-optimising on each draw can only do better than the fixed split


def test_no_uncertainty_gives_no_spread():
    held = {"name": "A", "channel": "search", "stage": "conversion", "spend": {"max": 800}, "pools": ["search"],
            "impressions": {"curve": "exponential", "max": 50_000, "scale": 300, "covariance": [[0, 0], [0, 0]]},
            "leads": {"rate": 0.001, "of": "impressions", "se": 0.0}}
    scenario = _scenario(held, _linear("B", 12.0, 0.0), pools={"search": {"competitor_impressions": 40_000}},
                         objective={"maximize": "leads", "secondary": "sov.search"})
    plan = solve(scenario)
    spread = plan_uncertainty(scenario, plan, 5).uncertainty
    for kpi, value in (("leads", plan.objective_value), ("sov.search", plan.sov["search"])):
        planned, best = spread.as_planned[kpi], spread.re_solved[kpi]
        assert (planned.p10, planned.p50, planned.p90) == pytest.approx((value,) * 3, rel=1e-9)
        assert best.p10 == best.p50 == best.p90  # every draw is the same scenario
    # each draw is solved at a 0.5% chord tolerance and a 0.1% MILP gap, as documented
    assert spread.re_solved["leads"].p50 == pytest.approx(plan.objective_value, rel=2e-3)
    traced = frontier(scenario, points=5)
    assert len(traced.points) == 5
    banded = frontier_uncertainty(scenario, traced, 3)
    assert len(banded.band) == len(traced.points)
    for band, point in zip(banded.band, traced.points, strict=True):
        assert band.reached == 3 and band.traded == point.traded
        assert band.p10 == band.p90 == pytest.approx(point.primary, rel=2e-3)
    again = Frontier.from_dict(banded.to_dict())
    assert again.band == banded.band and again.uncertainty == banded.uncertainty


def test_a_level_too_few_draws_reach_has_no_percentile_there():
    from optimizer.uncertainty import _band

    rows = np.array([[100.0, 50.0], [110.0, math.nan], [120.0, math.nan], [90.0, 40.0], [105.0, 45.0]] * 2)
    low, high = _band(np.array([0.1, 0.2]), rows)
    assert low.reached == 10 and (low.p10, low.p50, low.p90) == (90.0, 105.0, 120.0)
    assert high.reached == 6 and math.isnan(high.p10) and high.p50 == 40.0 and high.p90 == 50.0


def test_a_scenario_without_fitted_uncertainty_is_refused_with_the_fix():
    scenario = _scenario({"name": "A", "channel": "search", "stage": "conversion", "spend": {"max": 100},
                          "leads": {"curve": "linear", "unit_cost": 10.0}})
    assert drawn_campaigns(scenario) == ()
    plan = solve(scenario)
    assert plan.status is Status.OPTIMAL
    with pytest.raises(ScenarioError, match="tradeoff fit"):
        plan_uncertainty(scenario, plan, 10)


# --- draws keep to the ranges the scenario schema gives ------------------------------------------


def _rate_campaign(rate: float, se: float, of: str = "clicks", outcome: str = "leads") -> dict:
    """A campaign whose clicks are bought at $2 each (drawn) and whose ``outcome`` is a rate of ``of``."""
    return {"name": "A", "channel": "search", "stage": "conversion", "spend": {"max": 8_000},
            "clicks": {"curve": "linear", "unit_cost": 2.0, "covariance": [[0.01]]},
            outcome: {"rate": rate, "of": of, "se": se}}


def test_a_rate_that_often_draws_above_1_is_drawn_from_the_normal_truncated_to_its_range():
    mean, se = 0.95, 0.2  # unbounded, 40% of the normal's draws would be above 1
    rates = np.array([d.campaigns[0].leads.rate for d in draw_scenarios(_scenario(_rate_campaign(mean, se)), 200)])
    assert np.all((rates > 0) & (rates <= 1)), rates.max()
    truncated = stats.truncnorm((0 - mean) / se, (1 - mean) / se, loc=mean, scale=se)
    assert stats.kstest(rates, truncated.cdf).pvalue > 0.01  # the draws follow the truncated normal


def test_a_rate_far_from_its_limits_keeps_its_median_and_revenue_per_customer_is_not_capped_at_1():
    far = draw_scenarios(_scenario(_rate_campaign(0.05, 0.005)), 200, seed=3)
    rates = np.array([d.campaigns[0].leads.rate for d in far])
    assert np.median(rates) == pytest.approx(0.05, abs=3 * 1.2533 * 0.005 / math.sqrt(200))
    revenue = _rate_campaign(1.5, 0.8, of="clicks", outcome="revenue")
    drawn = np.array([d.campaigns[0].revenue.rate for d in draw_scenarios(_scenario(revenue), 200, seed=3)])
    assert np.all(drawn > 0) and np.mean(drawn > 1) > 0.5  # any positive amount of money per click


def test_a_range_holding_little_of_the_normal_is_still_drawn_from_the_truncated_normal():
    rng = np.random.default_rng(5)
    mean, se = 0.5, 50.0  # the normal puts under 1% of its draws in (0, 1]: nearly uniform there
    rates = np.array([draw_rate(mean, se, rng, (0.0, 1.0)) for _ in range(400)])
    assert np.all((rates > 0) & (rates <= 1))
    truncated = stats.truncnorm((0 - mean) / se, (1 - mean) / se, loc=mean, scale=se)
    assert stats.kstest(rates, truncated.cdf).pvalue > 0.01


def test_solve_under_uncertainty_accepts_a_scenario_whose_rate_draws_would_pass_1(tmp_path, capsys):
    path = tmp_path / "rate.toml"
    path.write_text('name = "rate"\n[budget]\ntotal = 10_000\n[[campaigns]]\nname = "A"\nchannel = "search"\n'
                    'stage = "conversion"\nspend = { max = 8_000 }\n'
                    'clicks = { curve = "linear", unit_cost = 2, covariance = [[0.01]] }\n'
                    'leads = { rate = 0.95, of = "clicks", se = 0.2 }\n')
    code = run(["solve", str(path), "--uncertainty", "20"])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    assert "above 1" not in out + err and "20 draws" in out
