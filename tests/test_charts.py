"""Charts render headless for every example scenario and hold what a client needs to see.

Checked through the figures' artists (legend entries, captions, lines, panels) and the
rendered extents of their labels, never by comparing pixels.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection

from optimizer import (
    allocation_chart,
    cost_chart,
    frontier,
    frontier_chart,
    frontier_sweep,
    load_scenario,
    response_curves_chart,
    save_figure,
    sweep_chart,
)
from optimizer.pareto.text import NOT_COMPARABLE

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


@pytest.fixture(scope="module", params=SCENARIOS, ids=[p.stem for p in SCENARIOS])
def traced(request):
    return frontier(load_scenario(request.param), points=5)


def rendered(figure):
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return canvas.get_renderer()


def overlapping(texts, renderer, slack: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of visible, non-empty texts whose drawn boxes overlap."""
    boxes = [(t.get_text(), t.get_window_extent(renderer).expanded(1.0, 1.0))
             for t in texts if t.get_visible() and t.get_text().strip()]
    return [(a, b) for (a, box_a), (b, box_b) in combinations(boxes, 2)
            if box_a.x0 + slack < box_b.x1 and box_b.x0 + slack < box_a.x1
            and box_a.y0 + slack < box_b.y1 and box_b.y0 + slack < box_a.y1]


def test_frontier_chart_marks_today_the_recommendation_and_the_knee_in_words(traced):
    figure = frontier_chart(traced)
    axes = figure.axes[0]
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert any(label.startswith("Recommended:") for label in legend)
    assert any(label.startswith("Today:") for label in legend)
    if traced.knee != traced.recommended:
        assert any(label.startswith("Knee at") and "costs ~" in label for label in legend)
    caption = "\n".join(text.get_text() for text in figure.texts)
    assert "costs about" in caption
    assert ("the frontier offers" in caption) != (NOT_COMPARABLE in caption.replace("\n", " "))
    assert traced.secondary_label in axes.get_xlabel() and axes.get_ylabel().lower().startswith(traced.primary)
    shown = axes.xaxis.get_major_formatter()(0.25, 0)
    assert shown.endswith("%") if traced.is_share else not shown.endswith("%")  # a share in percent, a volume not
    renderer = rendered(figure)
    labels = [*axes.get_legend().get_texts(), axes.title, axes.xaxis.label, axes.yaxis.label, *figure.texts]
    assert overlapping(labels, renderer) == []


def test_cost_chart_shows_cpl_and_three_cpcs(traced):
    figure = cost_chart(traced)
    left, right = figure.axes[:2]
    assert len(left.get_lines()) >= 1
    names = [text.get_text() for text in right.get_legend().get_texts()]
    assert names == ["Blended CPC", "Pool average CPC", "Pool marginal CPC"]
    assert left.yaxis.get_major_formatter()(120, 0).startswith("$")


@pytest.mark.parametrize("by", ["stage", "campaign"])
def test_allocation_chart_stacks_spend_with_a_readable_legend(traced, by):
    figure = allocation_chart(traced, by=by)
    axes = figure.axes[0]
    layers = [c for c in axes.collections if isinstance(c, PolyCollection)]
    entries = axes.get_legend().get_texts()
    named = [t for t in entries if not t.get_text().startswith("Recommended:")]  # the recommended point's line
    assert len(layers) == len(named) <= 10 and len(entries) - len(named) == (traced.recommended is not None)
    if by == "stage":
        assert {t.get_text().lower() for t in named} == set(traced.stages)
    assert overlapping(entries, rendered(figure)) == []


def test_response_curves_chart_has_a_panel_per_campaign_up_to_thirty(traced):
    figure = response_curves_chart(traced)
    panels = [axes for axes in figure.axes if axes.get_visible()]
    assert len(panels) == min(30, len(traced.campaigns))
    titles = [axes.title for axes in panels]
    assert all(len(t.get_text()) <= 30 for t in titles)
    assert overlapping(titles, rendered(figure)) == []


# Saving is the same for every scenario's chart: the other scenarios' saves run with the slow checks.
@pytest.mark.parametrize("traced", [pytest.param(path, id=path.stem, marks=[] if path.stem == "b2b_saas"
                                                 else [pytest.mark.slow]) for path in SCENARIOS], indirect=True)
def test_charts_save_as_png_svg_and_pdf(traced, tmp_path):
    figure = frontier_chart(traced)
    magic = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}
    for kind, start in magic.items():
        path = save_figure(figure, tmp_path / f"frontier.{kind}")
        assert path.read_bytes().startswith(start)
    with pytest.raises(ValueError, match="png"):
        save_figure(figure, tmp_path / "frontier.gif")


def test_sweep_chart_draws_one_labelled_frontier_per_budget():
    scenario = load_scenario(ROOT / "scenarios" / "b2b_saas.toml")
    curves = frontier_sweep(scenario, [220_000, 260_000, 300_000], points=4)
    figure = sweep_chart(curves)
    axes = figure.axes[0]
    assert len(axes.get_lines()) == 3
    labels = {text.get_text() for text in axes.texts}
    assert {"Budget $220k", "Budget $260k", "Budget $300k"} <= labels
