"""Frontier charts: the trade-off itself, its cost in CPL and CPC, the allocation along it, budget sweeps.

Every function takes a ``Frontier`` (or several) and returns a ``Figure``; nothing is shown
or saved here.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from optimizer.charts.style import (
    ACCENT,
    CURRENT,
    INK,
    MUTED,
    chart_style,
    clip_middle,
    count_axis,
    fit_text,
    legible,
    money_axis,
    new_figure,
    percent_axis,
    short_money,
    stage_color,
    title,
)
from optimizer.formatting import kpi_value
from optimizer.pareto.result import Frontier
from optimizer.pareto.text import current_sentence, price_sentence, traded_text

_TOP_CAMPAIGNS = 9
_CAPTION_WIDTH = 125


def _traded_axis(axes: Axes, frontier: Frontier) -> None:
    if frontier.is_share:
        percent_axis(axes.xaxis, 1 if _span(frontier) < 0.05 else 0)
    else:
        count_axis(axes.xaxis)
    axes.set_xlabel(frontier.secondary_label + (" (share of voice)" if frontier.is_share else ""))


def _span(frontier: Frontier) -> float:
    return frontier.points[-1].traded - frontier.points[0].traded if frontier.points else 0.0


def _primary_axis(axes: Axes, frontier: Frontier) -> None:
    if frontier.primary == "revenue":
        money_axis(axes.yaxis, frontier.currency)
    else:
        count_axis(axes.yaxis)
    per = f" (per {frontier.period})" if frontier.period else ""
    axes.set_ylabel(frontier.primary.capitalize() + per)


def _subtitle(frontier: Frontier) -> str:
    budget = f"budget {short_money(frontier.budget, frontier.currency)}" if frontier.budget else ""
    return " · ".join(part for part in (frontier.period or "", budget, frontier.scenario) if part)


def frontier_chart(frontier: Frontier) -> Figure:
    """The frontier with today's split, the recommended point and the knee, priced in words."""
    frontier = legible(frontier)
    with chart_style():
        figure = new_figure()
        axes = figure.add_subplot()
        titles = draw_frontier(axes, frontier)
        caption = _caption(frontier)
        if caption:
            lines = caption.count("\n") + 1
            figure.text(0.01, 0.005, caption, fontsize=11, color=INK, va="bottom")
            figure.get_layout_engine().set(rect=(0, 0.035 * lines + 0.01, 1, 1 - 0.035 * lines - 0.01))
        figure.draw_without_rendering()  # the layout sets the axes' size, and so the legend's share of it
        clear_legend(axes, frontier, titles)
        return figure


def draw_frontier(axes: Axes, frontier: Frontier, accent: str = ACCENT, legend_size: float | None = None,
                  subtitle: str | None = None) -> list[tuple[Text, str]]:
    """The frontier on ``axes``: the curve, its band, today's split, the recommended point and the knee.

    Every label is in the legend, which has the top of the frame to itself, so none overlaps a mark.
    ``subtitle`` replaces the default one (period, budget, scenario). Returns the titles' text
    artists with their full texts: call ``clear_legend`` with them once the axes have their final
    size (after a layout).
    """
    frontier = legible(frontier)
    xs = np.array([p.traded for p in frontier.points])
    ys = np.array([p.primary for p in frontier.points])
    axes.fill_between(xs, ys, ys.min() - 0.02 * _height(frontier), color="#DDE8F3", alpha=0.6, linewidth=0)
    axes.plot(xs, ys, color=INK, linewidth=2.4, marker="o", markersize=4, zorder=3,
              label="Best possible plan at each level")
    _band(axes, frontier)
    _mark_points(axes, frontier, accent)
    _frame(axes, frontier)
    titles = title(axes, f"What {frontier.secondary_label} costs in {frontier.primary}",
                   _subtitle(frontier) if subtitle is None else subtitle)
    full_titles = [text.get_text() for text in titles]
    for text in titles:  # no wider than the figure, or a layout cannot place the axes at all
        fit_text(text, axes.figure.bbox.width * 0.9)
    _traded_axis(axes, frontier)
    _primary_axis(axes, frontier)
    # The lowest primary tick would sit on the traded axis's first label, in the frame's corner.
    axes.yaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], prune="lower"))
    axes.legend(loc="upper left", fontsize=legend_size)
    return [(text, full) for text, full in zip(titles, full_titles, strict=True)]


def clear_legend(axes: Axes, frontier: Frontier, titles: Sequence[tuple[Text, str]] = ()) -> None:
    """Fit the titles, the axis label and the legend to the frame, then raise the frame's top until
    every mark sits below the legend, which spans the frame's top left, where the frontier is
    highest. Call it once, when the axes have their final size: fitting only ever cuts."""
    frontier = legible(frontier)
    frame = axes.get_window_extent()
    for text, full in titles:
        fit_text(text, frame.width, full)
    label = axes.yaxis.label
    if label.get_window_extent().height > frame.height:
        label.set_text(frontier.primary.capitalize())
    fit_text(axes.xaxis.label, frame.width)
    legend = axes.get_legend()
    if legend is None:
        return
    size = legend.get_texts()[0].get_fontsize() if legend.get_texts() else 10.0
    while legend.get_window_extent().width > frame.width * 0.98 and size > 6:
        size -= 0.5
        legend = axes.legend(loc="upper left", fontsize=size)
    box = legend.get_window_extent().transformed(axes.transAxes.inverted())
    free = box.y0 - 0.04
    if free < 0.25:
        return
    ys = [p.primary for p in frontier.points] + [v for b in frontier.band for v in (b.p90,) if np.isfinite(v)]
    if frontier.current is not None:
        ys.append(frontier.current.primary)
    low, high = axes.get_ylim()
    needed = low + (max(ys) - low) / free
    if needed > high:
        axes.set_ylim(low, needed)


BAND = "#6A8FBF"


def _band(axes: Axes, frontier: Frontier) -> None:
    """The P10-P90 band of each curve draw's own frontier, where the draws reach the level."""
    if not frontier.band:
        return
    xs = np.array([b.traded for b in frontier.band])
    low = np.array([b.p10 for b in frontier.band])
    high = np.array([b.p90 for b in frontier.band])
    draws = frontier.uncertainty.draws if frontier.uncertainty is not None else max(b.reached for b in frontier.band)
    axes.fill_between(xs, low, high, where=np.isfinite(low) & np.isfinite(high), color=BAND, alpha=0.3,
                      linewidth=0, zorder=2, label=f"P10-P90 over {draws} draws of the fitted curves")


def _height(frontier: Frontier) -> float:
    values = [p.primary for p in frontier.points]
    if frontier.current is not None:
        values.append(frontier.current.primary)
    return max(values) - min(values) or max(abs(values[0]), 1.0)


def _frame(axes: Axes, frontier: Frontier) -> None:
    """Room around the curve and today's split, with the top quarter left free for the legend."""
    xs = [p.traded for p in frontier.points]
    ys = [p.primary for p in frontier.points]
    if frontier.current is not None:
        xs.append(frontier.current.traded)
        ys.append(frontier.current.primary)
    ys += [v for b in frontier.band for v in (b.p10, b.p90) if np.isfinite(v)]
    width, height = (max(xs) - min(xs)) or 1e-3, (max(ys) - min(ys)) or 1.0
    axes.set_xlim(min(xs) - 0.06 * width, max(xs) + 0.22 * width)
    axes.set_ylim(min(ys) - 0.08 * height, max(ys) + 0.45 * height)


def _mark_points(axes: Axes, frontier: Frontier, accent: str = ACCENT) -> None:
    """Today's split, the recommended point and the knee; their labels go in the legend, so none overlap."""
    if frontier.recommended is not None:
        point = frontier.points[frontier.recommended]
        axes.scatter([point.traded], [point.primary], s=150, color=accent, zorder=5,
                     label=f"Recommended: {_short(frontier, point.primary)} {frontier.primary} at "
                           f"{traded_text(frontier, point.traded)}")
    if frontier.knee is not None and frontier.knee != frontier.recommended:
        point = frontier.points[frontier.knee]
        axes.scatter([point.traded], [point.primary], s=120, facecolor="white", edgecolor=INK, linewidth=2,
                     zorder=5, label=f"Knee at {traded_text(frontier, point.traded)}: each extra {_step(frontier)} "
                                     f"costs ~{point.primary_lost_per_point:,.0f} {frontier.primary}")
    if frontier.current is not None:
        current = frontier.current
        gains = _gains(axes, frontier)
        axes.scatter([current.traded], [current.primary], s=120, marker="D", color=CURRENT, zorder=5,
                     label=f"Today: {_short(frontier, current.primary)} {frontier.primary} at "
                           f"{traded_text(frontier, current.traded)}" + (f"\n(arrows: {gains})" if gains else ""))


def _gains(axes: Axes, frontier: Frontier) -> str:
    """Dashed arrows from today's split to the frontier: straight up (same SOV), straight right (same leads).

    What each arrow gains is said in the legend: written beside arrows this short, the two labels
    ran into each other and into today's mark.
    """
    current = frontier.current
    assert current is not None
    arrow = {"arrowstyle": "->", "color": MUTED, "lw": 1.4, "linestyle": "--"}
    said = []
    if current.primary_gain is not None and current.primary_gain > 0:
        top = (current.traded, current.primary + current.primary_gain)
        axes.annotate("", top, (current.traded, current.primary), arrowprops=arrow)
        said.append(f"+{current.primary_gain:,.0f} {frontier.primary} at the same {_level(frontier)}")
    if current.traded_gain is not None and current.traded_gain > 0:
        right = (current.traded + current.traded_gain, current.primary)
        axes.annotate("", right, (current.traded, current.primary), arrowprops=arrow)
        gain = (f"+{current.traded_gain * 100:.1f} pts" if frontier.is_share
                else f"+{current.traded_gain:,.0f} {frontier.secondary}")
        said.append(f"{gain} at the same {frontier.primary}")
    return ", or ".join(said)


def _level(frontier: Frontier) -> str:
    return "SOV" if frontier.is_share else frontier.secondary


def _short(frontier: Frontier, value: float) -> str:
    return kpi_value(frontier.primary, value, frontier.currency)


def _step(frontier: Frontier) -> str:
    return "SOV point" if frontier.is_share else frontier.secondary.rstrip("s")


def _caption(frontier: Frontier) -> str:
    lines = []
    for index, name in ((frontier.knee, "At the knee"), (frontier.recommended, "At the recommended point")):
        if index is not None:
            point = frontier.points[index]
            lines.append(f"{name} ({traded_text(frontier, point.traded)}): {price_sentence(frontier, point)}.")
            if frontier.knee == frontier.recommended:
                break
    if frontier.current is not None:
        sentence = current_sentence(frontier)
        lines.append(sentence[0].upper() + sentence[1:] + ".")
    return "\n".join(textwrap.fill(line, _CAPTION_WIDTH) for line in lines)


def cost_chart(frontier: Frontier) -> Figure:
    """CPL, and blended, pool average and pool marginal CPC, as the traded KPI rises."""
    frontier = legible(frontier)
    with chart_style():
        figure = new_figure()
        left, right = figure.subplots(1, 2, sharex=True)
        xs = [p.traded for p in frontier.points]
        left.plot(xs, [p.cpl for p in frontier.points], color=ACCENT, linewidth=2.4, marker="o", markersize=4)
        left.set_ylabel("Cost per lead")
        right.plot(xs, [p.cpc for p in frontier.points], color=INK, linewidth=2.2, label="Blended CPC")
        right.plot(xs, [p.pool_cpc for p in frontier.points], color=stage_color("conversion"), linewidth=2.2,
                   label="Pool average CPC")
        right.plot(xs, [p.pool_marginal_cpc for p in frontier.points], color=stage_color("consideration"),
                   linewidth=2.2, linestyle="--", label="Pool marginal CPC")
        right.set_ylabel("Cost per click")
        right.legend(loc="upper left")
        for axes in (left, right):
            money_axis(axes.yaxis, frontier.currency)
            _traded_axis(axes, frontier)
            for index, style in ((frontier.knee, ":"), (frontier.recommended, "--")):
                if index is not None:
                    axes.axvline(frontier.points[index].traded, color=MUTED, linestyle=style, linewidth=1)
        title(left, "Raising share of voice: what it does to CPL and CPC", _subtitle(frontier))
        right.set_title("dotted: knee · dashed: recommended", loc="right", fontsize=10, color=MUTED)
        return figure


def allocation_chart(frontier: Frontier, by: str = "stage") -> Figure:
    """Spend along the frontier, stacked by funnel stage or by campaign (the largest, then the rest)."""
    frontier = legible(frontier)
    with chart_style():
        figure = new_figure()
        axes = figure.add_subplot()
        xs = [p.traded for p in frontier.points]
        if by == "stage":
            stages = list(frontier.stages) or sorted({s for p in frontier.points for s in p.spend_by_stage})
            series = {stage: [p.spend_by_stage.get(stage, 0.0) for p in frontier.points] for stage in stages}
            colors = [stage_color(stage) for stage in stages]
            labels = [stage.capitalize() for stage in stages]
        else:
            series, colors = _by_campaign(frontier)
            labels = list(series)
        axes.stackplot(xs, *series.values(), labels=labels, colors=colors, alpha=0.9, linewidth=0.3,
                       edgecolor="white")
        money_axis(axes.yaxis, frontier.currency)
        axes.set_ylabel("Spend")
        _traded_axis(axes, frontier)
        if frontier.recommended is not None:
            axes.axvline(frontier.points[frontier.recommended].traded, color=ACCENT, linestyle="--", linewidth=1.5)
        axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=10, reverse=True)
        title(axes, f"Where the budget goes as {frontier.secondary_label} rises (by {by})", _subtitle(frontier))
        return figure


def _by_campaign(frontier: Frontier) -> tuple[dict[str, list[float]], list[str]]:
    """The campaigns whose spend moves most along the frontier (then the largest), the others together."""
    names = list(frontier.points[0].allocation) if frontier.points else []
    spend = {name: [p.allocation[name] for p in frontier.points] for name in names}
    top = sorted(names, key=lambda name: (-(max(spend[name]) - min(spend[name])), -sum(spend[name])))
    top = top[:_TOP_CAMPAIGNS]
    stage_of = {c.name: c.stage for c in frontier.campaigns}
    series = {_clip(name): [p.allocation[name] for p in frontier.points] for name in top}
    colors = [stage_color(stage_of.get(name, ""), MUTED) for name in top]
    rest = [n for n in names if n not in top]
    if rest:
        series[f"{len(rest)} other campaigns"] = [sum(p.allocation[n] for n in rest) for p in frontier.points]
        colors.append("#D0D0D0")
    shades = _shade(colors)
    return series, shades


def _shade(colors: list[str]) -> list[str]:
    """Campaigns of one stage in lighter and darker shades of its colour, so neighbours differ."""
    seen: dict[str, int] = {}
    shaded = []
    for color in colors:
        k = seen.get(color, 0)
        seen[color] = k + 1
        rgb = np.array(to_rgb(color))
        factor = [1.0, 0.75, 1.25, 0.6, 1.4][k % 5]
        shaded.append(to_hex(np.clip(rgb * factor if factor < 1 else rgb + (1 - rgb) * (factor - 1), 0, 1)))
    return shaded


def _clip(name: str, width: int = 34) -> str:
    return clip_middle(name, width)


def sweep_chart(frontiers: Sequence[Frontier]) -> Figure:
    """The frontier at each budget: what more budget buys in the traded KPI without losing the primary."""
    frontiers = [legible(frontier) for frontier in frontiers]
    with chart_style():
        figure = new_figure()
        axes = figure.add_subplot()
        shades = np.linspace(0.35, 0.9, max(len(frontiers), 2))
        for frontier, shade in zip(frontiers, shades, strict=False):
            if not frontier.points:
                continue
            xs = [p.traded for p in frontier.points]
            ys = [p.primary for p in frontier.points]
            color = (0.12, 0.32 * shade + 0.2, 0.55 * shade + 0.25)
            label = f"Budget {short_money(frontier.budget, frontier.currency)}" if frontier.budget else "No budget"
            axes.plot(xs, ys, color=color, linewidth=2.4, marker="o", markersize=3, label=label)
            axes.annotate(label, (xs[-1], ys[-1]), xytext=(8, 0), textcoords="offset points", color=color,
                          fontsize=11, va="center", fontweight="bold")
            if frontier.knee is not None:
                knee = frontier.points[frontier.knee]
                axes.scatter([knee.traded], [knee.primary], s=70, facecolor="white", edgecolor=color, zorder=4)
        first = frontiers[0]
        _traded_axis(axes, first)
        _primary_axis(axes, first)
        axes.margins(x=0.18)
        title(axes, f"What a bigger budget buys: {first.primary} against {first.secondary_label}",
              " · ".join(p for p in (first.period or "", first.scenario, "open circles: knees") if p))
        return figure

