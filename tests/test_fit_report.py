"""A history drawn from known funnels, fitted, written as campaign rows, and solved: the plan the
fitted curves give must be within 2% of the plan on the true curves, with leads counted on the
true curves; flat rates must come back as rates whose intervals hold the truth."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from optimizer import Status, load_scenario, solve
from optimizer.fit.report import RateFit, fit_curves
from optimizer.fit.synthetic import EXAMPLE_FUNNELS, synthetic_funnel_history

FUNNELS = EXAMPLE_FUNNELS
BUDGET = 60_000.0


@pytest.fixture(scope="module")
def history():
    return synthetic_funnel_history(FUNNELS, weeks=52, noise=0.08, seed=7)


@pytest.fixture(scope="module")
def report(history):
    return fit_curves(history)


def test_flat_click_and_lead_rates_come_back_as_rates_whose_intervals_hold_the_truth(history, report):
    for funnel, fitted in zip(FUNNELS, report.campaigns, strict=True):
        assert fitted.name == funnel.name and fitted.stage == funnel.stage
        weeks = history[history["campaign"] == funnel.name]
        assert fitted.current_spend == pytest.approx(weeks["spend"].iloc[-4:].mean())  # the last four weeks
        clicks, leads = fitted.outcomes["clicks"], fitted.outcomes["leads"]
        assert isinstance(clicks, RateFit) and clicks.of == "impressions"
        assert isinstance(leads, RateFit) and leads.of == "clicks"
        assert clicks.low <= funnel.ctr <= clicks.high
        assert leads.low <= funnel.cvr <= leads.high


def test_a_history_in_any_row_order_fits_the_same(history, report):
    shuffled = {row["name"]: row for row in fit_curves(history.sample(frac=1.0, random_state=3)).campaign_rows()}
    for row in report.campaign_rows():
        again = shuffled[row["name"]]
        assert again.keys() == row.keys()
        for key, value in row.items():
            assert again[key] == (pytest.approx(value, rel=1e-6) if isinstance(value, float) else value)


def _scenario(tmp_path, rows: list[dict] | str, name: str):
    """A scenario on these campaign rows (or this campaign CSV's text)."""
    if isinstance(rows, str):
        (tmp_path / f"{name}.csv").write_text(rows)
    else:
        columns = sorted({key for row in rows for key in row}, key=lambda k: (k != "name", k))
        with open(tmp_path / f"{name}.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            writer.writerows(rows)
    (tmp_path / f"{name}.toml").write_text(
        f'name = "{name}"\ncurrency = "USD"\ncampaigns = "{name}.csv"\n\n'
        f'[objective]\nmaximize = "leads"\n\n[budget]\ntotal = {BUDGET}\n')
    return load_scenario(tmp_path / f"{name}.toml")


@pytest.mark.parametrize(("noise", "seed"), [(0.08, 7), (0.05, 0), (0.05, 1), (0.15, 0), (0.15, 1), (0.15, 5)])
def test_the_fitted_curves_plan_is_within_two_percent_of_the_true_curves_plan(noise, seed, tmp_path):
    """From 5% to 15% noise a week (weekly CVR swings of that size are common), over seeds."""
    report = fit_curves(synthetic_funnel_history(FUNNELS, weeks=52, noise=noise, seed=seed))
    fitted = solve(_scenario(tmp_path, report.campaign_csv(), "fitted"))
    truth_rows = [{"name": f.name, "channel": f.channel, "stage": f.stage,
                   **{f"impressions.{k}": v for k, v in f.impressions.params().items()},
                   "clicks.rate": f.ctr, "clicks.of": "impressions", "leads.rate": f.cvr, "leads.of": "clicks"}
                  for f in FUNNELS]
    true = solve(_scenario(tmp_path, truth_rows, "true"))
    assert fitted.status is Status.OPTIMAL and true.status is Status.OPTIMAL
    spend = {a.campaign: a.spend for a in fitted.allocation}
    on_true_curves = sum(float(f.leads(np.array([spend[f.name]]))[0]) for f in FUNNELS)
    assert on_true_curves >= true.objective_value * 0.98
