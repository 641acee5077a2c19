"""One look for every chart: slide-sized figures, a palette by funnel stage, money and percent axes.

Charts are built on ``matplotlib.figure.Figure`` directly (never pyplot), so they render
headless and leave no global state behind.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import Formatter, MaxNLocator

from optimizer.formatting import currency_symbol, printable, short_count
from optimizer.output import atomic_path
from optimizer.pareto.result import Frontier

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
    "text.parse_math": False,
}
"""``text.parse_math``: a name such as "Search $5 promo $10 off" is text, never mathematics."""


@contextlib.contextmanager
def chart_style() -> Iterator[None]:
    """The charts' settings, for the duration of one chart only."""
    with mpl.rc_context(_RC):
        yield


def new_figure(size: tuple[float, float] = SLIDE) -> Figure:
    """A blank figure (no pyplot, no global state)."""
    return Figure(figsize=size, layout="constrained")


ROUND_STEPS = (1, 2, 2.5, 5, 10)
"""Ticks are multiples of one of these times a power of ten: 0.5%, 25k, $200, never 600 or $15k."""


def round_ticks(axis: Axis, bins: int | str = "auto", prune: str | None = None) -> None:
    """Major ticks at round values (``ROUND_STEPS``), at most ``bins`` intervals of them."""
    axis.set_major_locator(MaxNLocator(nbins=bins, steps=list(ROUND_STEPS), prune=prune))


class StepFormatter(Formatter):
    """Tick labels exact at the step between the ticks: ``label(value, step)``, the step ``None``
    when the formatter is asked outside an axis's ticks."""

    def __init__(self, label: Callable[[float, float | None], str]) -> None:
        self.label = label
        self.step: float | None = None

    def set_locs(self, locs: Sequence[float]) -> None:
        """Called with the axis's ticks before they are labelled: keep their step."""
        super().set_locs(locs)
        ordered = sorted(locs)
        steps = [b - a for a, b in zip(ordered, ordered[1:], strict=False) if b > a]
        self.step = min(steps) if steps else None

    def __call__(self, value: float, pos: int | None = None) -> str:
        return self.label(value, self.step)


def step_decimals(step: float) -> int:
    """The decimals that write every multiple of ``step``: 0 for 50, 1 for 2.5, 2 for 0.25."""
    for decimals in range(7):
        scaled = step * 10 ** decimals
        if math.isclose(scaled, round(scaled), rel_tol=1e-6, abs_tol=1e-9):
            return decimals
    return 6


def count_tick(value: float, step: float | None, symbol: str = "") -> str:
    """``250k``, ``1.25M``, ``98.65k``, ``500``: in thousands or millions as ``short_count`` writes
    them, with the decimals that keep each tick exact (no two ticks read alike)."""
    if step is None or not math.isfinite(value):
        return symbol + short_count(value, money=bool(symbol))
    unit, suffix = next((u, s) for u, s in ((1e6, "M"), (1e3, "k"), (1.0, "")) if abs(value) >= u or u == 1.0)
    shown = f"{value / unit:,.{step_decimals(step / unit)}f}"
    if "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    sign = "-" if shown.startswith("-") and shown.strip("-0.") else ""
    return sign + symbol + shown.lstrip("-") + suffix


def percent_tick(value: float, step: float | None) -> str:
    """``24%``, ``24.5%``: a share in percent, with the decimals its step needs."""
    decimals = 0 if step is None else step_decimals(step * 100)
    return f"{value * 100:.{decimals}f}%".replace("-0%", "0%")


def money_axis(axis: Axis, currency: str) -> None:
    """Round ticks labelled such as $250k, $1.2M or $53.5."""
    symbol = currency_symbol(currency)
    axis.set_major_formatter(StepFormatter(lambda value, step: count_tick(value, step, symbol)))
    round_ticks(axis)


def percent_axis(axis: Axis) -> None:
    """Round ticks of a share, labelled in percent with the decimals their step needs (24%, 24.5%)."""
    axis.set_major_formatter(StepFormatter(percent_tick))
    round_ticks(axis)


def count_axis(axis: Axis) -> None:
    """Round ticks labelled such as 250k, 1.5M or 98.65k."""
    axis.set_major_formatter(StepFormatter(count_tick))
    round_ticks(axis)


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


MOST_CHARACTERS = 400
"""No line of a chart or a page holds more characters than this (the narrowest glyphs, 9 points,
across a 13-inch page): a longer text is cut to it before anything is measured."""
_FEWEST_CHARACTERS = 8


def clipped(full: str, fits: Callable[[str], bool]) -> str:
    """``full``, cut in its middle (``clip_middle``) to the most characters that ``fits``, or to 8.

    A bisection on the cut: a few measures of at most ``MOST_CHARACTERS`` characters, whatever the
    length of ``full`` (cutting one character at a time measured a 10,000-character name 5,000 times)."""
    longest = clip_middle(full, MOST_CHARACTERS)
    if len(longest) <= _FEWEST_CHARACTERS or fits(longest):
        return longest
    low, high = _FEWEST_CHARACTERS, len(longest) - 1  # low: the longest cut known to be kept; high: to try
    while low < high:
        middle = (low + high + 1) // 2
        if fits(clip_middle(full, middle)):
            low = middle
        else:
            high = middle - 1
    return clip_middle(full, low)


def clip_middle(name: str, width: int) -> str:
    """A name cut to ``width`` characters that keeps what tells campaigns apart.

    ``Search non-brand | Phoenix | prospects`` becomes ``Search non-b… | Phoenix | prospects``:
    the longest parts are shortened first, to one length; a name without parts keeps its start and its end.
    """
    if len(name) <= width:
        return name
    parts = name.split(" | ")
    if len(parts) > 1:
        joined = " | ".join(_parts_within(parts, width))
        if len(joined) <= width:
            return joined
    head = (width - 1) // 2
    return name[:head].rstrip() + "…" + name[len(name) - (width - 1 - head):].lstrip()


def _parts_within(parts: list[str], width: int) -> list[str]:
    """``parts`` with the longest cut (each to one length, a ``…`` included, at least 4) so that joined
    they fit ``width`` when they can: a bisection on that length, so the cost is linear in the name."""

    def cut(length: int) -> list[str]:
        return [part if len(part) <= length else part[:length - 1].rstrip() + "…" for part in parts]

    low, high = 4, max(len(part) for part in parts)
    while low < high:
        middle = (low + high + 1) // 2
        if len(" | ".join(cut(middle))) <= width:
            low = middle
        else:
            high = middle - 1
    return cut(low)


def legible(frontier: Frontier) -> Frontier:
    """``frontier`` with every name a chart may show made printable (``printable``): the scenario's,
    the KPIs', the campaigns' and the stages'. Names are the user's: any character can be in them."""
    points = tuple(replace(point, allocation=_printable_keys(point.allocation),
                           spend_by_stage=_printable_keys(point.spend_by_stage)) for point in frontier.points)
    campaigns = tuple(replace(curve, name=printable(curve.name), stage=printable(curve.stage),
                              channel=printable(curve.channel)) for curve in frontier.campaigns)
    period = printable(frontier.period) if frontier.period is not None else None
    return replace(frontier, scenario=printable(frontier.scenario), currency=printable(frontier.currency),
                   period=period, primary=printable(frontier.primary), secondary=printable(frontier.secondary),
                   secondary_label=printable(frontier.secondary_label),
                   stages=tuple(map(printable, frontier.stages)), points=points, campaigns=campaigns)


def _printable_keys(values: Mapping[str, float]) -> dict[str, float]:
    return {printable(key): value for key, value in values.items()}


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
