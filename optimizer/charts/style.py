"""One look for every chart: slide-sized figures, a palette by funnel stage, money and percent axes.

Charts are built on ``matplotlib.figure.Figure`` directly (never pyplot), so they render
headless and leave no global state behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter

from optimizer.formatting import currency_symbol, short_count
from optimizer.output import atomic_path

SLIDE = (11.0, 6.2)
"""Inches: a 16:9 slide at a size where 12-point text stays readable."""

STAGE_COLORS = {
    "awareness": "#4C78A8",
    "consideration": "#F58518",
    "conversion": "#54A24B",
    "retention": "#B279A2",
}
INK, MUTED, ACCENT, CURRENT = "#222222", "#8C8C8C", "#D62728", "#444444"
FORMATS = ("png", "svg", "pdf")

_RC = {
    "font.size": 12,
    "axes.titlesize": 15,
    "axes.titleweight": "bold",
    "axes.labelsize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.8,
    "legend.frameon": False,
    "svg.fonttype": "none",
}


@contextlib.contextmanager
def chart_style() -> Iterator[None]:
    """The charts' settings, for the duration of one chart only."""
    with mpl.rc_context(_RC):
        yield


def new_figure(size: tuple[float, float] = SLIDE) -> Figure:
    """A blank figure (no pyplot, no global state)."""
    return Figure(figsize=size, layout="constrained")


def money_axis(axis, currency: str) -> None:
    """Tick labels such as $250k or $1.2M."""
    axis.set_major_formatter(FuncFormatter(lambda value, _: short_money(value, currency)))


def percent_axis(axis, decimals: int = 0) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value * 100:.{decimals}f}%"))


def count_axis(axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _: short_count(value)))


def short_money(value: float, currency: str) -> str:
    """$250k, $1.2M, $85."""
    return currency_symbol(currency) + short_count(value, money=True)


def title(axes: Axes, text: str, subtitle: str = "") -> list[Text]:
    """A bold title with a muted subtitle under it; returns their text artists."""
    placed = [axes.set_title(text, loc="left", pad=22 if subtitle else 10)]
    if subtitle:
        placed.append(axes.text(0, 1.015, subtitle, transform=axes.transAxes, fontsize=11, color=MUTED, va="bottom"))
    return placed


def fit_text(text: Text, width: float, full: str | None = None) -> None:
    """Set ``text`` to ``full`` (default: its own text), cut in its middle to at most ``width``
    display units wide."""

    def fits(shown: str) -> bool:
        text.set_text(shown)
        return text.get_window_extent().width <= width

    text.set_text(clipped(text.get_text() if full is None else full, fits))


def clipped(full: str, fits: Callable[[str], bool]) -> str:
    """``full``, cut in its middle (``clip_middle``) until ``fits`` it, or to 8 characters."""
    cut = len(full)
    while cut > 8 and not fits(clip_middle(full, cut)):
        cut -= 2
    return clip_middle(full, cut)


def clip_middle(name: str, width: int) -> str:
    """A name cut to ``width`` characters that keeps what tells campaigns apart.

    ``Search non-brand | Phoenix | prospects`` becomes ``Search non-b… | Phoenix | prospects``:
    the longest part is shortened first; a name without parts keeps its start and its end.
    """
    if len(name) <= width:
        return name
    parts = name.split(" | ")
    if len(parts) > 1:
        while len(" | ".join(parts)) > width and max(len(p) for p in parts) > 4:
            longest = max(range(len(parts)), key=lambda k: len(parts[k]))
            parts[longest] = parts[longest].rstrip("…")[:-1].rstrip() + "…"
        if len(" | ".join(parts)) <= width:
            return " | ".join(parts)
    head = (width - 1) // 2
    return name[:head].rstrip() + "…" + name[len(name) - (width - 1 - head):].lstrip()


def stage_color(stage: str, fallback: str = MUTED) -> str:
    return STAGE_COLORS.get(stage, fallback)


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` to ``path`` (PNG, SVG or PDF by its suffix), atomically."""
    target = Path(path)
    kind = target.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise ValueError(f'cannot write a chart as "{target.suffix or target.name}": use .png, .svg or .pdf')
    with chart_style(), atomic_path(target) as temporary:
        figure.savefig(temporary, format=kind, dpi=200 if kind == "png" else None)
    return target
