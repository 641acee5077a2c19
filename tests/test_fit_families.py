"""Curves fitted to histories drawn from known curves (``optimizer.fit.synthetic``, seeded): the
chosen fit must trace the curve that made the data over the spend it saw, an S-curve or a
straight line must be told from the rest, and each family's own fit must put the true
parameters within its stated uncertainty."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.curves.families import Curve, Exponential, Hill, Linear, Log, Power
from optimizer.fit.families import FAMILIES, best_fit, fit_family
from optimizer.fit.synthetic import synthetic_history

TRUTHS: dict[str, Curve] = {
    "linear": Linear(unit_cost=45.0),
    "exponential": Exponential(max=900.0, scale=20_000.0),
    "S-shaped hill": Hill(max=600.0, half=15_000.0, shape=2.5),
    "concave hill": Hill(max=800.0, half=12_000.0, shape=0.8),
    "power": Power(coef=0.9, exponent=0.6),
    "log": Log(coef=300.0, scale=8_000.0),
}
WEEKS, LOW, HIGH, NOISE = 52, 5_000.0, 40_000.0, 0.08
"""A year of weeks, spend from $5,000 to $40,000 a week, about 8% noise a week."""
SEEDS = (0, 1, 2)


def _history(curve: Curve, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return synthetic_history(curve, WEEKS, LOW, HIGH, NOISE, seed)


@pytest.mark.parametrize("name", TRUTHS)
@pytest.mark.parametrize("seed", SEEDS)
def test_the_chosen_fit_traces_the_curve_that_made_the_data_over_the_spend_it_saw(name, seed):
    truth = TRUTHS[name]
    spend, outcome = _history(truth, seed)
    best = best_fit(spend, outcome)[0]
    grid = np.linspace(spend.min(), spend.max(), 200)
    miss = (best.curve.value(grid) - truth.value(grid)) / truth.value(grid).max()
    # 8% a week over 52 weeks leaves about 1% on the curve's mean, two to three times that at the
    # ends of the spend seen: within 7% of the curve's top everywhere, 2.5% on average.
    assert np.max(np.abs(miss)) <= 0.07 and np.sqrt(np.mean(miss**2)) <= 0.025
    assert best.spend_range == (spend.min(), spend.max()) and best.points == WEEKS
    assert best.r_squared > 0.8


@pytest.mark.parametrize("seed", SEEDS)
def test_an_s_curve_and_a_straight_line_are_told_from_the_other_families(seed):
    s_shaped = best_fit(*_history(TRUTHS["S-shaped hill"], seed))[0]
    assert s_shaped.family == "hill" and s_shaped.params["shape"] > 1.5
    straight = best_fit(*_history(TRUTHS["linear"], seed))[0]
    assert straight.family == "linear"
    assert 1 / straight.params["per_dollar"] == pytest.approx(45.0, rel=0.05)


@pytest.mark.parametrize("name", ["exponential", "S-shaped hill", "power", "log"])
def test_a_familys_own_fit_puts_the_true_parameters_within_its_stated_uncertainty(name):
    truth = TRUTHS[name]
    family = next(f for f in FAMILIES if f.name == truth.family)
    true_params = {key: value for key, value in truth.params().items() if key != "curve"}
    inside = total = 0
    for seed in range(10):
        fit = fit_family(family, *_history(truth, seed))
        assert fit is not None
        for key, value in true_params.items():
            total += 1
            inside += abs(fit.params[key] - value) <= 3 * fit.errors[key]
    assert inside >= 0.9 * total  # three standard errors hold the truth nearly always
