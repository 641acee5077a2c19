"""Frontier charts: the trade-off itself, its cost in CPL and CPC, the allocation along it, budget sweeps.

Every function takes a ``Frontier`` (or several) and returns a ``Figure``; nothing is shown
or saved here.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.legend_handler import HandlerBase
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Annotation, Text

from optimizer.charts.style import (
    ACCENT,
    CURRENT,
    INK,
    MUTED,
    chart_style,
    count_axis,
    fit_text,
    legible,
    money_axis,
    new_figure,
    percent_axis,
    round_ticks,
    short_money,
    stage_color,
    title,
)
from optimizer.formatting import kpi_value, price_figure, signed_count, signed_points
from optimizer.pareto.result import Frontier
from optimizer.pareto.text import current_sentence, lost_per_step, price_sentence, step_text, today_apart, traded_text

_CAPTION_WIDTH = 125


def traded_axis(axes: Axes, frontier: Frontier) -> None:
    """The traded KPI on the x axis: a share in percent, a volume in counts, at round ticks."""
    if frontier.is_share:
        percent_axis(axes.xaxis)
    else:
        count_axis(axes.xaxis)
    axes.set_xlabel(frontier.secondary_label + (" (share of voice)" if frontier.is_share else ""))


def _primary_axis(axes: Axes, frontier: Frontier) -> None:
    if frontier.primary == "revenue":
        money_axis(axes.yaxis, frontier.currency)
    else:
        count_axis(axes.yaxis)
    per = f" (per {frontier.period})" if frontier.period else ""
    axes.set_ylabel(frontier.primary.capitalize() + per)


def chart_subtitle(frontier: Frontier) -> str:
    """``2027-Q1 · budget $250k · <scenario>``."""
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
    """The frontier on ``axes``: the curve, its band (with draws only), today's split with arrows to
    the frontier points it is compared with, the recommended point and the knee.

    Every mark is in the legend, which has the top of the frame to itself, so none overlaps a mark.
    ``subtitle`` replaces the default one (period, budget, scenario). Returns the titles' text
    artists with their full texts: call ``clear_legend`` with them once the axes have their final
    size (after a layout).
    """
    frontier = legible(frontier)
    xs, ys = frontier_line(frontier)
    axes.plot(xs, ys, color=INK, linewidth=2.4, marker="o", markersize=4, zorder=3,
              label="Best possible plan at each level")
    _band(axes, frontier)
    _mark_points(axes, frontier, accent)
    _frame(axes, frontier)
    titles = title(axes, f"What {frontier.secondary_label} costs in {frontier.primary}",
                   chart_subtitle(frontier) if subtitle is None else subtitle)
    full_titles = [text.get_text() for text in titles]
    for text in titles:  # no wider than the figure, or a layout cannot place the axes at all
        fit_text(text, axes.figure.bbox.width * 0.9)
    traded_axis(axes, frontier)
    _primary_axis(axes, frontier)
    # The lowest primary tick would sit on the traded axis's first label, in the frame's corner.
    round_ticks(axes.yaxis, prune="lower")
    frontier_legend(axes, legend_size)
    return [(text, full) for text, full in zip(titles, full_titles, strict=True)]


def frontier_line(frontier: Frontier) -> tuple[list[float], list[float]]:
    """The frontier's points, with the points today's split is compared with that fall between them
    (each is a best plan too): an arrow from today ends on the line, not on a chord below it."""
    points = {(p.traded, p.primary) for p in frontier.points}
    if frontier.current is not None and frontier.points:
        low, high = frontier.points[0].traded, frontier.points[-1].traded
        points |= {end for end, _ in compared_points(frontier) if low < end[0] < high}
    ordered = sorted(points)
    return [x for x, _ in ordered], [y for _, y in ordered]


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
        legend = frontier_legend(axes, size)
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
                     zorder=5, label=f"Knee at {traded_text(frontier, point.traded)}: each extra {step_text(frontier)} "
                                     f"costs ~{price_figure(lost_per_step(frontier, point))} {frontier.primary}")
    if frontier.current is not None:
        current = frontier.current
        axes.scatter([current.traded], [current.primary], s=120, marker="D", color=CURRENT, zorder=5,
                     label=f"Today: {_short(frontier, current.primary)} {frontier.primary} at "
                           f"{traded_text(frontier, current.traded)}")
        _arrows_to_frontier(axes, frontier)


def compared_points(frontier: Frontier) -> list[tuple[tuple[float, float], str]]:
    """The frontier points today's split is compared with, each with what moving there gains.

    More primary at today's traded level: the lead-max end when today's level is below it (that
    plan already meets the level, with more to spare), else the frontier at today's level. More
    traded at today's primary: the far end when it has more primary than today, else the frontier
    at today's primary. None when today's split is no plan of this frontier (``today_apart``).
    """
    current = frontier.current
    assert current is not None
    if not frontier.points or today_apart(frontier) is not None:  # over budget, or beyond the frontier
        return []
    first, last = frontier.points[0], frontier.points[-1]
    compared = []
    if current.primary_gain is not None and current.primary_gain > 0:
        gain = f"{signed_count(current.primary_gain)} {frontier.primary}"
        if current.traded <= first.traded:
            compared.append(((first.traded, first.primary),
                             f"{gain} at {traded_text(frontier, first.traded)} (the most {frontier.primary})"))
        else:
            compared.append(((current.traded, current.primary + current.primary_gain),
                             f"{gain} at the same {_level(frontier)}"))
    if current.traded_gain is not None and current.traded_gain > 0:
        gain = (signed_points(current.traded_gain) if frontier.is_share
                else f"{signed_count(current.traded_gain)} {frontier.secondary}")
        if current.primary <= last.primary:
            compared.append(((last.traded, last.primary), f"{gain} at {_short(frontier, last.primary)} "
                                                          f"{frontier.primary} (the most {_level(frontier)})"))
        else:
            compared.append(((current.traded + current.traded_gain, current.primary),
                             f"{gain} at the same {frontier.primary}"))
    return compared


def _arrows_to_frontier(axes: Axes, frontier: Frontier) -> None:
    """Dashed arrows from today's split to each frontier point it is compared with, tip on the point;
    what each gains is its legend entry (written beside arrows this short, labels ran into each other)."""
    current = frontier.current
    assert current is not None
    arrow = {"arrowstyle": "->", "color": MUTED, "lw": 1.4, "linestyle": "--", "shrinkA": 0, "shrinkB": 0}
    for end, gain in compared_points(frontier):
        drawn = axes.annotate("", end, (current.traded, current.primary), arrowprops=arrow, zorder=4)
        drawn.set_label(gain)


class _ArrowHandler(HandlerBase):
    """A legend entry for an arrow drawn as an annotation: a short arrow in the annotation's style."""

    def create_artists(self, legend, orig_handle, xdescent, ydescent, width, height, fontsize, trans):
        patch = orig_handle.arrow_patch
        y = height / 2 - ydescent
        return [FancyArrowPatch((-xdescent, y), (width - xdescent, y), arrowstyle=patch.get_arrowstyle(),
                                color=patch.get_edgecolor(), linestyle=patch.get_linestyle(),
                                linewidth=patch.get_linewidth(), mutation_scale=fontsize, transform=trans)]


def frontier_legend(axes: Axes, size: float | None = None) -> Legend:
    """The frontier chart's legend, top left: every labelled mark, the arrows from today included."""
    return axes.legend(loc="upper left", fontsize=size, handler_map={Annotation: _ArrowHandler()})


def _level(frontier: Frontier) -> str:
    return "SOV" if frontier.is_share else frontier.secondary


def _short(frontier: Frontier, value: float) -> str:
    return kpi_value(frontier.primary, value, frontier.currency)


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
        left.plot(xs, [p.cpl for p in frontier.points], color=ACCENT, linewidth=2.4, marker="o", markersize=4,
                  label="Cost per lead")
        left.set_ylabel("Cost per lead")
        right.plot(xs, [p.cpc for p in frontier.points], color=INK, linewidth=2.2, label="Blended CPC")
        right.plot(xs, [p.pool_cpc for p in frontier.points], color=stage_color("conversion"), linewidth=2.2,
                   label="Pool average CPC")
        right.plot(xs, [p.pool_marginal_cpc for p in frontier.points], color=stage_color("consideration"),
                   linewidth=2.2, linestyle="--", label="Pool marginal CPC")
        right.set_ylabel("Cost per click")
        for axes in (left, right):
            money_axis(axes.yaxis, frontier.currency)
            traded_axis(axes, frontier)
            _mark_levels(axes, frontier)
        left.legend(loc="upper left")  # names the knee's and the recommended point's lines of both panels
        right.legend(handles=right.get_lines()[:3], loc="upper left")
        title(left, "Raising share of voice: what it does to CPL and CPC", chart_subtitle(frontier))
        return figure


def _mark_levels(axes: Axes, frontier: Frontier) -> None:
    """Thin vertical lines at the knee (dotted) and the recommended point (dashed), each named in the legend."""
    for index, style, name in ((frontier.knee, ":", "Knee"), (frontier.recommended, "--", "Recommended")):
        if index is not None:
            level = frontier.points[index].traded
            axes.axvline(level, color=MUTED, linestyle=style, linewidth=1.2,
                         label=f"{name}: {traded_text(frontier, level)}")


def sweep_chart(frontiers: Sequence[Frontier]) -> Figure:
    """The frontier at each budget: what more budget buys in the traded KPI without losing the primary.

    Each frontier is named at its end; the knees are one mark, in the legend."""
    frontiers = [legible(frontier) for frontier in frontiers]
    with chart_style():
        figure = new_figure()
        axes = figure.add_subplot()
        shades = np.linspace(0.35, 0.9, max(len(frontiers), 2))
        knees: list[tuple[float, float, tuple[float, float, float]]] = []
        for frontier, shade in zip(frontiers, shades, strict=False):
            if not frontier.points:
                continue
            color = (0.12, 0.32 * shade + 0.2, 0.55 * shade + 0.25)
            _budget_line(axes, frontier, color)
            if frontier.knee is not None:
                knee = frontier.points[frontier.knee]
                knees.append((knee.traded, knee.primary, color))
        if knees:
            drawn = axes.scatter([k[0] for k in knees], [k[1] for k in knees], s=70, facecolor="white",
                                 edgecolors=[k[2] for k in knees], zorder=4, label="Knee of each budget's frontier")
            axes.legend(handles=[drawn], loc="best")
        first = frontiers[0]
        traded_axis(axes, first)
        _primary_axis(axes, first)
        axes.margins(x=0.18)
        title(axes, f"What a bigger budget buys: {first.primary} against {first.secondary_label}",
              " · ".join(p for p in (first.period or "", first.scenario) if p))
        return figure


def _budget_line(axes: Axes, frontier: Frontier, color: tuple[float, float, float]) -> None:
    """One budget's frontier, named at its far end."""
    xs = [p.traded for p in frontier.points]
    ys = [p.primary for p in frontier.points]
    label = f"Budget {short_money(frontier.budget, frontier.currency)}" if frontier.budget else "No budget"
    axes.plot(xs, ys, color=color, linewidth=2.4, marker="o", markersize=3, label=label)
    axes.annotate(label, (xs[-1], ys[-1]), xytext=(8, 0), textcoords="offset points", color=color,
                  fontsize=11, va="center", fontweight="bold")
