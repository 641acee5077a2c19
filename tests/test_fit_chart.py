"""The diagnostics chart draws what was fitted: the line is the fitted funnel computed here from the
fit's own curve and rates, the band holds it, the history's points and the marks sit where they belong."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PathCollection, PolyCollection

from optimizer.charts.fit import fit_chart
from optimizer.fit.families import CurveFit
from optimizer.fit.report import RateFit, fit_curves
from optimizer.fit.synthetic import EXAMPLE_FUNNELS, synthetic_funnel_history


@pytest.fixture(scope="module")
def fitted():
    history = synthetic_funnel_history(EXAMPLE_FUNNELS, weeks=40, noise=0.08, seed=4)
    return history, fit_curves(history)


def _expected(campaign, outcome: str, spend: np.ndarray) -> np.ndarray:
    fitted = campaign.outcomes[outcome]
    if isinstance(fitted, RateFit):
        return fitted.rate * _expected(campaign, fitted.of, spend)
    assert isinstance(fitted, CurveFit)
    return fitted.curve.value(spend)


def test_each_panel_draws_the_fitted_funnel_its_band_the_history_and_the_marks(fitted):
    history, report = fitted
    campaign = report.campaigns[0]
    figure = fit_chart(campaign, history, planned=1.3 * campaign.current_spend, draws=60)
    panels = [axes for axes in figure.axes if axes.get_visible()]
    assert len(panels) == len(campaign.outcomes) == 3
    rows = history[history["campaign"] == campaign.name]
    for axes, outcome in zip(panels, campaign.outcomes, strict=True):
        line = next(line for line in axes.get_lines() if line.get_label() == "fitted")
        spend, drawn = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        np.testing.assert_allclose(drawn, _expected(campaign, outcome, spend), rtol=1e-9)
        assert spend.max() >= rows["spend"].max()  # past the spend seen, where the guess begins
        band = next(c for c in axes.collections if isinstance(c, PolyCollection) and "P10" in c.get_label())
        edges = band.get_paths()[0].vertices
        middle = len(spend) // 2
        low_high = edges[np.isclose(edges[:, 0], spend[middle])][:, 1]
        assert low_high.min() <= drawn[middle] <= low_high.max() and low_high.max() > low_high.min()
        dots = next(c for c in axes.collections if isinstance(c, PathCollection))
        np.testing.assert_allclose(np.sort(dots.get_offsets()[:, 0]), np.sort(rows["spend"]))
        np.testing.assert_allclose(np.sort(dots.get_offsets()[:, 1]), np.sort(rows[outcome]))
        marks = {line.get_label().split()[0]: line.get_xdata()[0] for line in axes.get_lines()
                 if line.get_label().startswith(("today", "plan"))}
        assert marks == pytest.approx({"today": campaign.current_spend, "plan": 1.3 * campaign.current_spend})
        seen = next(c for c in axes.patches if c.get_label() == "spend seen")
        xs = seen.get_patch_transform().transform(seen.get_path().vertices)[:, 0]
        assert (xs.min(), xs.max()) == pytest.approx(campaign.observed)
