"""Each campaign's response curve, with today's spend and the recommended spend marked."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from optimizer.charts.style import (
    CURRENT,
    chart_style,
    clip_middle,
    count_axis,
    legible,
    money_axis,
    new_figure,
    stage_color,
)
from optimizer.pareto.result import CampaignCurve, Frontier

_MOST = 30


def response_curves_chart(frontier: Frontier, most: int = _MOST) -> Figure:
    """Small multiples: one panel per campaign (the ``most`` largest by recommended spend)."""
    frontier = legible(frontier)
    curves = sorted(frontier.campaigns, key=lambda c: -max(c.recommended_spend, c.current_spend))[:most]
    columns = max(1, math.ceil(math.sqrt(len(curves) * 16 / 9)))
    rows = max(1, math.ceil(len(curves) / columns))
    with chart_style():
        figure = new_figure((max(11.0, 2.3 * columns), max(6.2, 1.9 * rows + 1.0)))
        grid = figure.subplots(rows, columns, squeeze=False)
        for axes, curve in zip(grid.flat, curves, strict=False):
            _panel(axes, curve, frontier)
        for axes in list(grid.flat)[len(curves):]:
            axes.set_visible(False)
        hidden = len(frontier.campaigns) - len(curves)
        more = f" (the {len(curves)} largest; {hidden} more not shown)" if hidden > 0 else ""
        figure.suptitle(f"{frontier.primary.capitalize()} by spend, campaign by campaign{more}",
                        x=0.01, ha="left", fontsize=15, fontweight="bold")
        figure.text(0.99, 0.995, "◆ today   ● recommended", ha="right", va="top", fontsize=11, color=CURRENT)
        return figure


def _panel(axes, curve: CampaignCurve, frontier: Frontier) -> None:
    color = stage_color(curve.stage)
    spend, primary = np.array(curve.spend), np.array(curve.primary)
    axes.plot(spend, primary, color=color, linewidth=2)
    for value, marker, face in ((curve.current_spend, "D", CURRENT), (curve.recommended_spend, "o", color)):
        axes.scatter([value], [np.interp(value, spend, primary)], marker=marker, s=40, color=face, zorder=3)
    axes.set_title(clip_middle(curve.name, 30), fontsize=9, fontweight="normal", loc="left")
    axes.tick_params(labelsize=8)
    money_axis(axes.xaxis, frontier.currency)
    count_axis(axes.yaxis)
    axes.xaxis.set_major_locator(MaxNLocator(3))
    axes.yaxis.set_major_locator(MaxNLocator(3))
