"""Each campaign's response curve, with today's spend and the recommended spend marked.

One legend under the panels names the marks (today, recommended) and the stage each curve's colour
stands for; each panel's title names its campaign.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from optimizer.charts.style import (
    CURRENT,
    INK,
    chart_style,
    clip_middle,
    count_axis,
    legible,
    money_axis,
    new_figure,
    round_ticks,
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
        _legend(figure, [curve.stage for curve in curves])
        return figure


_TODAY, _RECOMMENDED = "Today's spend", "Recommended spend"


def _legend(figure: Figure, stages: list[str]) -> None:
    """Below the panels, in one row: the two marks, then each stage a curve's colour stands for."""
    handles = [Line2D([], [], linestyle="", marker="D", markersize=7, color=CURRENT, label=_TODAY),
               Line2D([], [], linestyle="", marker="o", markersize=7, color=INK, label=_RECOMMENDED)]
    for stage in dict.fromkeys(stages):
        handles.append(Line2D([], [], color=stage_color(stage), linewidth=2, label=_stage_label(stage)))
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=10,
                  handlelength=1.5, columnspacing=1.2)


def _stage_label(stage: str) -> str:
    return f"{stage.capitalize()} stage" if stage else "No stage"


def _panel(axes, curve: CampaignCurve, frontier: Frontier) -> None:
    color = stage_color(curve.stage)
    spend, primary = np.array(curve.spend), np.array(curve.primary)
    axes.plot(spend, primary, color=color, linewidth=2, label=_stage_label(curve.stage))
    for value, marker, face, label in ((curve.current_spend, "D", CURRENT, _TODAY),
                                       (curve.recommended_spend, "o", color, _RECOMMENDED)):
        axes.scatter([value], [np.interp(value, spend, primary)], marker=marker, s=40, color=face, zorder=3,
                     label=label)
    axes.set_title(clip_middle(curve.name, 30), fontsize=9, fontweight="normal", loc="left")
    axes.tick_params(labelsize=8)
    money_axis(axes.xaxis, frontier.currency)
    count_axis(axes.yaxis)
    round_ticks(axes.xaxis, 3)
    round_ticks(axes.yaxis, 3)
