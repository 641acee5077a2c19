"""How well a campaign's curves fit its history: one panel per outcome of its funnel.

Each panel shows the history's periods as dots, the fitted relation to spend (a curve, or a
rate times the outcome before it), its P10-P90 band over draws of the fitted parameters and
rates, the spend the history saw (shaded), today's spend and, when a plan was solved on the
fitted campaigns, the plan's spend. Past the shaded range the line is the family's guess.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from optimizer.charts.style import (
    ACCENT,
    CURRENT,
    INK,
    chart_style,
    count_axis,
    fit_text,
    money_axis,
    new_figure,
    short_money,
    stage_color,
)
from optimizer.fit.families import CurveFit
from optimizer.fit.report import CampaignFit, RateFit, TableFit
from optimizer.formatting import printable
from optimizer.model.campaigns import curve_from_spec
from optimizer.scenario.schema import TabularSpec
from optimizer.uncertainty.draws import draw_parameters, draw_rate, rate_limits

_PANELS = 4
_GRID = 240
_REACH = 1.6
"""The spend axis runs to this multiple of the highest spend seen (or past the plan's spend)."""


def fit_chart(campaign: CampaignFit, history: pd.DataFrame, currency: str = "USD",
              planned: float | None = None, draws: int = 200, seed: int = 0) -> Figure:
    """The campaign's fitted funnel against its history (``history``: the long format's rows, any
    campaigns; this one's are picked by name). ``planned`` marks a plan's spend."""
    rows = history[history["campaign"] == campaign.name]
    currency = printable(currency)
    outcomes = list(campaign.outcomes)[:_PANELS]
    spend = np.linspace(0.0, _axis_end(campaign, rows, planned), _GRID)
    fitted = _funnel(campaign, spend)
    rng = np.random.default_rng(seed)
    drawn = [_funnel(campaign, spend, rng) for _ in range(draws)]
    with chart_style():
        figure = new_figure()
        panels = figure.subplots(1, max(len(outcomes), 1), squeeze=False)[0]
        for index, (axes, outcome) in enumerate(zip(panels, outcomes, strict=False)):
            band = np.percentile([d[outcome] for d in drawn], [10, 90], axis=0) if draws else None
            _panel(axes, campaign, outcome, rows, spend, fitted[outcome], band, currency, planned)
            if index == 0:
                figure.legend(*axes.get_legend_handles_labels(), loc="outside lower center", ncols=6, fontsize=10)
        heading = figure.suptitle(f"{printable(campaign.name)}: fitted curves against {len(rows)} periods of history",
                                  x=0.01, ha="left", fontsize=15, fontweight="bold")
        fit_text(heading, figure.bbox.width * 0.97)  # a name as long as the user likes stays on the figure
        return figure


def _axis_end(campaign: CampaignFit, rows: pd.DataFrame, planned: float | None) -> float:
    seen = float(rows["spend"].max()) if len(rows) else campaign.current_spend
    tables = [fitted.points[-1][0] for fitted in campaign.outcomes.values() if isinstance(fitted, TableFit)]
    ends = [_REACH * seen, 1.15 * campaign.current_spend, 1.15 * (planned or 0.0), *(1.1 * end for end in tables)]
    return max(max(ends), 1.0)


def _funnel(campaign: CampaignFit, spend: np.ndarray, rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Every outcome at ``spend``, down the funnel; with ``rng``, on one draw of the fitted uncertainty."""
    values: dict[str, np.ndarray] = {}
    for outcome, fitted in campaign.outcomes.items():
        if isinstance(fitted, RateFit):
            rate = (draw_rate(fitted.rate, fitted.se, rng, rate_limits(outcome, fitted.of))
                    if rng is not None and fitted.se > 0 else fitted.rate)
            values[outcome] = rate * values.get(fitted.of, np.zeros_like(spend))
        elif isinstance(fitted, CurveFit):
            values[outcome] = _drawn_curve(fitted, rng).value(spend)
        elif isinstance(fitted, TableFit):  # simulator points: exact where given, not defined past the last
            table = curve_from_spec(TabularSpec(curve="tabular", points=fitted.points))  # as the model reads it
            values[outcome] = np.where(spend <= table.domain_max, table.value(spend), np.nan)
    return values


def _drawn_curve(fitted: CurveFit, rng: np.random.Generator | None):  # noqa: ANN202 - a Curve of the fit's family
    if rng is None or fitted.covariance is None:
        return fitted.curve
    names = tuple(name for name in fitted.curve.params() if name != "curve")
    mean = np.array([fitted.curve.params()[name] for name in names], dtype=float)
    drawn = draw_parameters(mean, np.array(fitted.covariance), names, rng)
    return replace(fitted.curve, **dict(zip(names, map(float, drawn), strict=True)))


def _panel(axes: Axes, campaign: CampaignFit, outcome: str, rows: pd.DataFrame, spend: np.ndarray,
           fitted: np.ndarray, band: np.ndarray | None, currency: str, planned: float | None) -> None:
    color = stage_color(campaign.stage, INK)
    if campaign.observed is not None:
        axes.axvspan(*campaign.observed, color="#EEEEEE", zorder=0, label="spend seen")
    if band is not None:
        axes.fill_between(spend, band[0], band[1], color=color, alpha=0.2, linewidth=0, label="P10-P90 of draws")
    axes.plot(spend, fitted, color=color, linewidth=2.2, label="fitted")
    if outcome in rows:
        axes.scatter(rows["spend"], rows[outcome], s=14, color=INK, alpha=0.7, zorder=3, label="a period of history")
    axes.axvline(campaign.current_spend, color=CURRENT, linestyle="--", linewidth=1.2,
                 label=f"today {short_money(campaign.current_spend, currency)}")
    if planned is not None:
        axes.axvline(planned, color=ACCENT, linewidth=1.6, label=f"plan {short_money(planned, currency)}")
    axes.set_title(_describe(outcome, campaign.outcomes[outcome]), fontsize=11, loc="left")
    axes.set_xlabel("spend per period")
    axes.tick_params(labelsize=9)
    money_axis(axes.xaxis, currency)
    count_axis(axes.yaxis)
    axes.set_xlim(0, spend[-1])
    axes.set_ylim(bottom=0)


def _describe(outcome: str, fitted: object) -> str:
    if isinstance(fitted, RateFit):
        return f"{outcome}: {fitted.rate:.3%} of {fitted.of}\n(95%: {fitted.low:.3%}-{fitted.high:.3%})"
    if isinstance(fitted, CurveFit):
        return f"{outcome}: {fitted.family}\n(R² {fitted.r_squared:.3f}, {fitted.points} periods)"
    return f"{outcome}: simulator points\n(exact where given)"


__all__ = ["fit_chart"]
