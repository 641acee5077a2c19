"""Every mark a chart draws is explained on the chart itself, and its ticks sit at round values.

Checked on the Figure each chart function returns: every artist that draws data (a line, a
collection, a patch, an arrow) carries a label that the chart shows, in a legend or as a text.
The arrows from today's split are checked against the Frontier result (an independent source of
where they must end), campaign colours by their CIE76 distance (computed here, from sRGB).
"""

from __future__ import annotations

import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import Collection, PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Annotation

from optimizer import (
    allocation_chart,
    cost_chart,
    frontier,
    frontier_chart,
    frontier_sweep,
    load_scenario,
    response_curves_chart,
    sweep_chart,
)
from optimizer.charts.style import STAGE_COLORS, clip_middle
from optimizer.pareto.text import today_apart
from optimizer.uncertainty import frontier_uncertainty

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
DISTINCT = 12.0
"""CIE76 distance two campaign colours keep at least: well above the 2.3 of a just-noticeable difference."""
FAMILY = 30.0
"""Degrees of hue (CIELAB) a campaign's colour keeps within its stage's colour."""

CHARTS = {
    "frontier": frontier_chart,
    "costs": cost_chart,
    "allocation": allocation_chart,
    "allocation-campaigns": lambda traced: allocation_chart(traced, by="campaign"),
    "curves": response_curves_chart,
}


@pytest.fixture(scope="module")
def b2b():
    return frontier(load_scenario(SCENARIOS / "b2b_saas.toml"), points=9)


@pytest.fixture(scope="module")
def large():
    return frontier(load_scenario(SCENARIOS / "large_portfolio.toml"), points=5)


@pytest.fixture(scope="module")
def banded():
    scenario = load_scenario(SCENARIOS / "history_example.toml")
    return frontier_uncertainty(scenario, frontier(scenario, points=5), 3)


@pytest.fixture(scope="module")
def sweep():
    return frontier_sweep(load_scenario(SCENARIOS / "b2b_saas.toml"), [200_000, 250_000, 300_000], points=4)


def chart(kind, traced, sweep):
    return sweep_chart(sweep) if kind == "sweep" else CHARTS[kind](traced)


def data_artists(axes):
    """What draws data on ``axes``: lines, collections, patches (not the frame, its spines), arrows."""
    frame = [axes.patch, *axes.spines.values()]
    drawn = [a for a in axes.get_children() if isinstance(a, Line2D | Collection | Patch) and a not in frame
             and not isinstance(a, Legend)]
    drawn += [a for a in axes.texts if isinstance(a, Annotation) and a.arrow_patch is not None]
    return [a for a in drawn if a.get_visible()]


def shown_words(figure):
    """Every legend entry and every visible text of the figure."""
    legends = [axes.get_legend() for axes in figure.axes if axes.get_legend() is not None] + list(figure.legends)
    words = {text.get_text() for legend in legends for text in legend.get_texts()}
    texts = [*figure.texts, *(t for axes in figure.axes for t in (*axes.texts, axes.title))]
    return words | {t.get_text() for t in texts if t.get_visible() and t.get_text().strip()}


@pytest.mark.parametrize("kind", [*CHARTS, "sweep"])
def test_every_mark_has_a_legend_entry_or_a_label(kind, b2b, sweep):
    figure = chart(kind, b2b, sweep)
    words = shown_words(figure)
    unexplained = [(type(artist).__name__, artist.get_label()) for axes in figure.axes if axes.get_visible()
                   for artist in data_artists(axes) if artist.get_label() not in words]
    assert unexplained == []


def test_the_frontier_has_no_band_without_draws(b2b, large):
    for traced in (b2b, large):
        axes = frontier_chart(traced).axes[0]
        assert [c for c in axes.collections if isinstance(c, PolyCollection)] == []


def test_the_band_over_draws_is_drawn_and_in_the_legend(banded):
    assert banded.banded
    axes = frontier_chart(banded).axes[0]
    bands = [c for c in axes.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert bands[0].get_label().startswith("P10-P90") and bands[0].get_label() in legend


def compared_points(traced):
    """Where the frontier's comparison with today's split lands, from the Frontier alone.

    At today's traded level: the lead-max end when today's level is below it, else the frontier
    at that level. At today's primary: the far end when it has more, else the frontier there.
    """
    current, first, last = traced.current, traced.points[0], traced.points[-1]
    same_level = ((first.traded, first.primary) if current.traded <= first.traded
                  else (current.traded, current.primary + current.primary_gain))
    same_primary = ((last.traded, last.primary) if current.primary <= last.primary
                    else (current.traded + current.traded_gain, current.primary))
    return [same_level, same_primary]


@pytest.mark.parametrize("name", ["b2b", "large"])
def test_each_arrow_from_today_ends_at_the_frontier_point_it_compares_with(name, request):
    traced = request.getfixturevalue(name)
    figure = frontier_chart(traced)
    axes = figure.axes[0]
    figure.draw_without_rendering()
    arrows = [t for t in axes.texts if isinstance(t, Annotation) and t.arrow_patch is not None]
    expected = compared_points(traced)
    assert len(arrows) == len(expected) == 2
    line = next(line for line in axes.get_lines() if line.get_label() == "Best possible plan at each level")
    drawn_xs, drawn_ys = line.get_data()
    most = max(p.primary for p in traced.points)
    for arrow, end in zip(arrows, expected, strict=True):
        assert arrow.xy == pytest.approx(end, rel=1e-9)
        assert arrow.xyann == pytest.approx((traced.current.traded, traced.current.primary), rel=1e-9)
        assert np.interp(end[0], drawn_xs, drawn_ys) == pytest.approx(end[1], rel=1e-9)  # on the line drawn
        chord = np.interp(end[0], [p.traded for p in traced.points], [p.primary for p in traced.points])
        assert chord - 1e-6 * most <= end[1] <= most * (1 + 1e-6)  # between the points' chord and the most leads
        patch = arrow.arrow_patch
        assert patch.shrinkB == 0
        # A "->" head's path stops short of its point by half the stroke over the sine of the head's
        # half-angle (0.2 wide, 0.4 long), so that the stroke's mitred tip lands on the point itself.
        stroke = patch.get_linewidth() * figure.dpi / 72
        reach = 0.5 * stroke / (0.2 / math.hypot(0.4, 0.2))
        tip = axes.transData.transform(end)
        vertices = patch.get_path().transformed(patch.get_transform()).vertices
        assert np.min(np.hypot(*(vertices - tip).T)) < reach + 0.5


def test_no_arrow_points_at_a_frontier_todays_split_cannot_be_compared_with(banded):
    """The history example's split spends more than its budget: the caption says so, no arrow offers a gain."""
    assert today_apart(banded) is not None
    axes = frontier_chart(banded).axes[0]
    assert [t for t in axes.texts if isinstance(t, Annotation) and t.arrow_patch is not None] == []


def lab(color):
    """CIELAB (D65) of an sRGB colour."""
    rgb = np.array(to_rgb(color))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    f = [t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29
         for t in xyz / np.array([0.9505, 1.0, 1.089])]
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def hue(color):
    _, a, b = lab(color)
    return math.degrees(math.atan2(b, a))


def close_pairs(colors):
    return [(a, b, round(float(np.linalg.norm(lab(a) - lab(b))), 1)) for a, b in combinations(colors, 2)
            if np.linalg.norm(lab(a) - lab(b)) < DISTINCT]


def test_campaign_colours_are_distinct_and_keep_their_stages_hue(large):
    axes = allocation_chart(large, by="campaign").axes[0]
    layers = [c for c in axes.collections if isinstance(c, PolyCollection)]
    colors = {layer.get_label(): tuple(layer.get_facecolor()[0][:3]) for layer in layers}
    assert len(colors) >= 10
    assert close_pairs(list(colors.values())) == []
    stage_of = {clip_middle(c.name, 34): c.stage for c in large.campaigns}
    for label, color in colors.items():
        if label in stage_of:
            turn = (hue(color) - hue(STAGE_COLORS[stage_of[label]]) + 180) % 360 - 180
            assert abs(turn) <= FAMILY, label


@pytest.mark.parametrize("stages", [["conversion"] * 12, ["awareness"] * 5 + ["retention"] * 7,
                                    ["consideration"] * 6 + ["conversion"] * 6, list(STAGE_COLORS) * 3])
def test_twelve_campaigns_get_twelve_distinct_colours(stages):
    from optimizer.charts.palette import campaign_colors

    colors = campaign_colors(stages)
    assert len(colors) == 12 and close_pairs(colors) == []
    for stage, color in zip(stages, colors, strict=True):
        assert abs((hue(color) - hue(STAGE_COLORS[stage]) + 180) % 360 - 180) <= FAMILY


def is_round_step(step: float) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 2.5, 5, 10))


@pytest.mark.parametrize(("kind", "name"), [*((kind, name) for name in ("b2b", "large") for kind in CHARTS),
                                            ("sweep", "b2b")])
def test_ticks_sit_at_round_values_with_distinct_labels(kind, name, request, sweep):
    figure = chart(kind, request.getfixturevalue(name), sweep)
    for axes in (a for a in figure.axes if a.get_visible()):
        for axis in (axes.xaxis, axes.yaxis):
            low, high = sorted(axis.get_view_interval())
            locs = [v for v in axis.get_majorticklocs() if low - 1e-9 * abs(high) <= v <= high + 1e-9 * abs(high)]
            assert len(locs) >= 2, (kind, axis.axis_name, locs)
            step = locs[1] - locs[0]
            assert np.allclose(np.diff(locs), step, rtol=1e-6), (kind, axis.axis_name, locs)
            assert is_round_step(step), (kind, axis.axis_name, step)
            assert all(abs(v / step - round(v / step)) < 1e-6 for v in locs), (kind, axis.axis_name, locs)
            labels = axis.get_major_formatter().format_ticks(locs)
            assert len(set(labels)) == len(labels), (kind, axis.axis_name, labels)
