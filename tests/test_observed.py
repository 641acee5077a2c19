"""Extrapolation warnings: a plan past the spend a campaign's history saw says so, with the multiple
computed here from the plan's own spend; the keys tradeoff fit writes are read and checked."""

from __future__ import annotations

import re

import numpy as np
import pytest

from optimizer import ScenarioError, Status, frontier, load_scenario, solve
from optimizer.fit.report import fit_curves
from optimizer.fit.synthetic import EXAMPLE_FUNNELS, synthetic_funnel_history
from optimizer.scenario.schema import Scenario

MARGIN = 1.25  # the documented margin: 25% past the spend observed


def _scenario(*campaigns: dict, budget: float = 1_000.0, pools: dict | None = None,
              secondary: str | None = None) -> Scenario:
    objective = {"maximize": "leads", **({"secondary": secondary} if secondary else {})}
    return Scenario.model_validate({"name": "observed", "budget": {"total": budget}, "objective": objective,
                                    "pools": pools or {}, "campaigns": list(campaigns)})


def _campaign(name: str, spend: dict, unit_cost: float = 10.0, **extra) -> dict:
    return {"name": name, "channel": "search", "stage": "conversion", "spend": spend,
            "leads": {"curve": "linear", "unit_cost": unit_cost}, **extra}


def _extrapolations(warnings) -> dict[str, str]:
    return {m.group(1): w for w in warnings if (m := re.match(r"extrapolating (.+?) to ", w))}


def test_a_plan_past_the_highest_spend_seen_is_warned_of_with_its_multiple():
    plan = solve(_scenario(
        _campaign("Cheap", {"max": 900, "observed_max": 120}, unit_cost=5.0),
        _campaign("Dear", {"max": 900, "observed_min": 20, "observed_max": 400}, unit_cost=8.0),
    ))
    assert plan.status is Status.OPTIMAL
    spend = plan.spend
    assert spend["Cheap"] > MARGIN * 120 and spend["Dear"] <= 400  # the budget fills Cheap first
    found = _extrapolations(plan.warnings)
    assert set(found) == {"Cheap"}
    assert f"{spend['Cheap'] / 120:.1f}x the highest spend observed in a period ($120.00)" in found["Cheap"]


@pytest.mark.parametrize(("spend", "observed", "warned"), [
    (149.0, {"observed_max": 120}, False),   # 1.24x: within the margin
    (151.0, {"observed_max": 120}, True),    # 1.26x
    (97.0, {"observed_min": 120}, False),    # 0.81x: within the margin below
    (95.0, {"observed_min": 120}, True),     # 0.79x
    (0.0, {"observed_min": 120}, False),     # paused: nothing is extrapolated
])
def test_the_margin_is_a_quarter_of_the_spend_seen_either_way(spend, observed, warned):
    plan = solve(_scenario(_campaign("Held", {"current": spend, "locked": True, **observed}),
                           _campaign("Other", {"max": 100})))
    found = _extrapolations(plan.warnings)
    assert ("Held" in found) is warned
    if warned:
        side = "highest" if "observed_max" in observed else "lowest"
        assert f"{spend / 120:.1f}x the {side}" in found["Held"]


def test_a_campaign_never_seen_spending_is_not_measured_against_nothing():
    plan = solve(_scenario(_campaign("Never", {"max": 900, "observed_min": 0, "observed_max": 0}),
                           _campaign("Other", {"max": 100})))
    assert plan.status is Status.OPTIMAL and plan.spend["Never"] > 0 and not _extrapolations(plan.warnings)


def test_a_frontier_names_each_campaign_once_at_the_point_that_moves_it_farthest():
    pools = {"search": {"competitor_impressions": 50_000}}
    reach = {"pools": ["search"], "impressions": {"curve": "exponential", "max": 40_000, "scale": 400}}
    traced = frontier(_scenario(
        _campaign("Reach", {"max": 1_000, "observed_max": 150}, unit_cost=40.0, **reach),
        _campaign("Leads", {"max": 1_000, "observed_max": 150}, unit_cost=5.0),
        pools=pools, secondary="sov.search"), points=7)
    assert traced.status is Status.OPTIMAL
    found = _extrapolations(traced.warnings)
    assert sorted(found) == ["Leads", "Reach"] and len([w for w in traced.warnings if "extrapolating" in w]) == 2
    for name, warning in found.items():
        farthest = max(p.allocation[name] for p in traced.points)
        assert f"{farthest / 150:.1f}x the highest" in warning


def test_fit_writes_each_campaigns_spend_range_and_the_uncertainty_it_found():
    history = synthetic_funnel_history(EXAMPLE_FUNNELS, weeks=30, noise=0.08, seed=3)
    rows = {row["name"]: row for row in fit_curves(history).campaign_rows()}
    for name, weeks in history.groupby("campaign"):
        row = rows[name]
        assert row["spend.observed_min"] == pytest.approx(weeks["spend"].min(), abs=0.01)
        assert row["spend.observed_max"] == pytest.approx(weeks["spend"].max(), abs=0.01)
        covariance = np.array(row["impressions.covariance"])
        size = len([k for k in row if k.startswith("impressions.") and k not in
                    ("impressions.curve", "impressions.covariance")])
        assert covariance.shape == (size, size) and np.all(np.diag(covariance) > 0)
        assert row["clicks.se"] > 0 and row["leads.se"] > 0


def test_the_keys_fit_writes_are_read_back_from_its_csv(tmp_path):
    report = fit_curves(synthetic_funnel_history(EXAMPLE_FUNNELS, weeks=30, noise=0.08, seed=3))
    (tmp_path / "fitted.csv").write_text(report.campaign_csv())
    (tmp_path / "fitted.toml").write_text('name = "f"\ncampaigns = "fitted.csv"\n[objective]\nmaximize = "leads"\n'
                                          "[budget]\ntotal = 60000\n")
    scenario = load_scenario(tmp_path / "fitted.toml")
    for campaign, fitted in zip(scenario.campaigns, report.campaigns, strict=True):
        assert (campaign.spend.observed_min, campaign.spend.observed_max) == pytest.approx(fitted.observed, rel=1e-5)
        np.testing.assert_allclose(campaign.impressions.covariance, fitted.outcomes["impressions"].covariance,
                                   rtol=1e-5)
        assert campaign.clicks.se == pytest.approx(fitted.outcomes["clicks"].se, rel=1e-5)


@pytest.mark.parametrize(("covariance", "words"), [
    ([[1.0, 0.5]], "must be a 2x2 matrix"),
    ([[1.0, 0.5], [0.4, 2.0]], "is not symmetric"),
    ([[-1.0, 0.0], [0.0, 2.0]], "the variance of max is negative"),
])
def test_a_covariance_that_cannot_be_one_is_refused_with_the_reason(covariance, words, tmp_path):
    (tmp_path / "s.toml").write_text(
        'name = "s"\n[objective]\nmaximize = "leads"\n[budget]\ntotal = 100\n[[campaigns]]\nname = "A"\n'
        'channel = "search"\nstage = "conversion"\nspend = { max = 100, observed_min = 50, observed_max = 40 }\n'
        f'leads = {{ curve = "exponential", max = 100, scale = 50, covariance = {covariance} }}\n')
    with pytest.raises(ScenarioError) as error:
        load_scenario(tmp_path / "s.toml")
    text = str(error.value)
    assert words in text and "leads" in text
    assert "the lowest spend observed (50) is above the highest (40)" in text  # reported with it, at once
