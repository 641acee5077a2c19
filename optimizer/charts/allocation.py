"""Where the budget goes along the frontier: spend stacked by funnel stage or by campaign."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from optimizer.charts.frontier import chart_subtitle, traded_axis
from optimizer.charts.palette import OTHERS, campaign_colors
from optimizer.charts.style import ACCENT, chart_style, clip_middle, legible, money_axis, new_figure, stage_color, title
from optimizer.pareto.result import Frontier
from optimizer.pareto.text import traded_text

TOP_CAMPAIGNS = 9
"""Campaigns a chart by campaign names; the rest share one layer."""
_NAME_WIDTH = 34


def allocation_chart(frontier: Frontier, by: str = "stage") -> Figure:
    """Spend along the frontier, stacked by funnel stage or by campaign (the largest, then the rest)."""
    frontier = legible(frontier)
    with chart_style():
        figure = new_figure()
        axes = figure.add_subplot()
        xs = [p.traded for p in frontier.points]
        series, colors = _by_stage(frontier) if by == "stage" else _by_campaign(frontier)
        axes.stackplot(xs, *series.values(), labels=list(series), colors=colors, alpha=0.9, linewidth=0.3,
                       edgecolor="white")
        money_axis(axes.yaxis, frontier.currency)
        axes.set_ylabel("Spend")
        traded_axis(axes, frontier)
        _mark_recommended(axes, frontier)
        axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=10, reverse=True)
        title(axes, f"Where the budget goes as {frontier.secondary_label} rises (by {by})", chart_subtitle(frontier))
        return figure


def _mark_recommended(axes: Axes, frontier: Frontier) -> None:
    """A dashed line at the recommended point, named in the legend."""
    if frontier.recommended is None:
        return
    level = frontier.points[frontier.recommended].traded
    axes.axvline(level, color=ACCENT, linestyle="--", linewidth=1.5,
                 label=f"Recommended: {traded_text(frontier, level)}")


def _by_stage(frontier: Frontier) -> tuple[dict[str, list[float]], list[str]]:
    """Spend by funnel stage at each point, in the stage colours."""
    stages = list(frontier.stages) or sorted({s for p in frontier.points for s in p.spend_by_stage})
    series = {stage.capitalize(): [p.spend_by_stage.get(stage, 0.0) for p in frontier.points] for stage in stages}
    return series, [stage_color(stage) for stage in stages]


def _by_campaign(frontier: Frontier) -> tuple[dict[str, list[float]], list[str]]:
    """The campaigns whose spend moves most along the frontier (then the largest), grouped by stage,
    each in its own colour of its stage's family (``campaign_colors``); the others together, in grey."""
    names = list(frontier.points[0].allocation) if frontier.points else []
    spend = {name: [p.allocation[name] for p in frontier.points] for name in names}
    ranked = sorted(names, key=lambda name: (-(max(spend[name]) - min(spend[name])), -sum(spend[name])))
    stage_of = {c.name: c.stage for c in frontier.campaigns}
    order = {stage: index for index, stage in enumerate(frontier.stages)}
    top = sorted(ranked[:TOP_CAMPAIGNS], key=lambda name: order.get(stage_of.get(name, ""), len(order)))
    series = {clip_middle(name, _NAME_WIDTH): spend[name] for name in top}
    colors = campaign_colors([stage_of.get(name, "") for name in top])
    rest = [name for name in names if name not in top]
    if rest:
        series[f"{len(rest)} other campaigns"] = [sum(p.allocation[n] for n in rest) for p in frontier.points]
        colors.append(OTHERS)
    return series, colors
