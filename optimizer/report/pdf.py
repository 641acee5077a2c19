"""The client report as a two-page PDF laid out like slides, drawn with matplotlib (no browser).

Page 1: the headline, the frontier chart, the price of share of voice in its three views and the
budget by stage. Page 2: the allocation by campaign, the binding constraints, notes and
assumptions. Blocks are placed top-down in columns whose text is measured as it is placed, so
nothing overlaps; what does not fit a column is counted in a last line instead of overflowing.
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.image import imread
from matplotlib.patches import Rectangle

from optimizer.charts.frontier import clear_legend, draw_frontier
from optimizer.charts.style import INK, MOST_CHARACTERS, MUTED, chart_style, clip_middle, clipped
from optimizer.formatting import printable
from optimizer.output import atomic_path
from optimizer.report.content import ReportContent, Table, check_logo

PAGE = (13.333, 7.5)
"""Inches: a 16:9 slide."""
MARGIN = 0.45
BAND = 0.95
FOOTER = 0.35
RULE = "#D9D9D9"
_REPORT_RC = {"text.parse_math": False, "pdf.fonttype": 42}
"""Money such as "$80,000 → $95,000" is text, not mathtext; TrueType fonts keep the PDF's text extractable."""


@contextlib.contextmanager
def report_style() -> Iterator[None]:
    """The charts' look, with dollar signs read as text."""
    with chart_style(), mpl.rc_context(_REPORT_RC):
        yield


def report_pages(content: ReportContent) -> tuple[Figure, Figure]:
    """The two pages of the report as figures."""
    with report_style():
        return _first_page(content), _second_page(content)


def write_pdf(content: ReportContent, path: str | Path) -> Path:
    """Write the report to ``path`` as a PDF, atomically."""
    target = Path(path)
    pages = report_pages(content)
    # The PDF's font type is a setting of the style.
    with report_style(), atomic_path(target) as temporary, PdfPages(temporary, metadata=_metadata(content)) as pdf:
        for page in pages:
            pdf.savefig(page)
    return target


def _metadata(content: ReportContent) -> dict[str, str]:
    return {"Title": printable(content.title), "Subject": printable(content.headline), "Creator": content.footer}


@dataclass
class _Column:
    """A column of a page filled from the top: ``y`` is the next free height, in inches from the top."""

    page: Page
    x: float
    width: float
    y: float
    bottom: float

    def room(self) -> float:
        return self.bottom - self.y


class Page:
    """A blank slide-sized figure with inch coordinates measured from its top left corner."""

    def __init__(self) -> None:
        self.figure = Figure(figsize=PAGE)
        FigureCanvasAgg(self.figure)
        self.renderer = self.figure.canvas.get_renderer()

    def text(self, x: float, y: float, text: str, size: float, **style) -> None:
        """``text`` with its top left (``ha="right"``: top right) corner at ``(x, y)`` inches."""
        self.figure.text(x / PAGE[0], 1 - y / PAGE[1], printable(text), fontsize=size, va="top", **style)

    def measure(self, text: str, size: float, bold: bool = False) -> tuple[float, float]:
        """Width and height of ``text`` in inches."""
        font = FontProperties(size=size, weight="bold" if bold else "normal")
        width, height, _ = self.renderer.get_text_width_height_descent(printable(text), font, ismath=False)
        return width / self.figure.dpi, height / self.figure.dpi

    def wrap(self, text: str, width: float, size: float, bold: bool = False) -> list[str]:
        """``text`` in lines no wider than ``width`` inches."""
        chars = max(int(width * 72 / (size * 0.5)), 10)
        while True:
            lines = textwrap.wrap(text, chars) or [""]
            if chars <= 10 or all(self.measure(line, size, bold)[0] <= width for line in lines):
                return lines
            chars -= 3

    def line_height(self, size: float) -> float:
        return size * 1.45 / 72

    def rectangle(self, x: float, y: float, width: float, height: float, color: str) -> None:
        self.figure.add_artist(Rectangle((x / PAGE[0], 1 - (y + height) / PAGE[1]), width / PAGE[0],
                                         height / PAGE[1], transform=self.figure.transFigure, color=color,
                                         linewidth=0, zorder=0))

    def rule(self, x: float, y: float, width: float) -> None:
        self.rectangle(x, y, width, 0.012, RULE)

    def axes(self, x: float, y: float, width: float, height: float):
        return self.figure.add_axes((x / PAGE[0], 1 - (y + height) / PAGE[1], width / PAGE[0], height / PAGE[1]))


def _header(page: Page, content: ReportContent, title: str, subtitle: str) -> float:
    """The brand band with a title, a subtitle and the logo; returns where the page's body begins."""
    page.rectangle(0, 0, PAGE[0], BAND, content.brand.primary)
    logo_width = _logo(page, content)
    width = PAGE[0] - 2 * MARGIN - logo_width
    size = 22.0
    while size > 12 and page.measure(clip_middle(title, MOST_CHARACTERS), size, bold=True)[0] > width:
        size -= 1
    page.text(MARGIN, 0.16, _fit(page, title, width, size, bold=True), size, color="white", fontweight="bold")
    page.text(MARGIN, 0.60, _fit(page, subtitle, width, 11.5), 11.5, color="white", alpha=0.9)
    return BAND + 0.25


def _logo(page: Page, content: ReportContent) -> float:
    """The logo at the band's right end, on a white tile; returns the width it takes (0 without one)."""
    if content.brand.logo is None:
        return 0.0
    check_logo(content.brand.logo)  # from its header: a logo too large to decode is refused before imread
    image = imread(content.brand.logo)
    height = BAND - 0.24
    width = min(height * image.shape[1] / image.shape[0], 2.6)
    x = PAGE[0] - MARGIN - width
    page.rectangle(x - 0.06, 0.06, width + 0.12, BAND - 0.12, "white")
    axes = page.axes(x, 0.12, width, height)
    axes.imshow(image, interpolation="antialiased")
    axes.set_axis_off()
    return width + 0.3


def _fit(page: Page, text: str, width: float, size: float, bold: bool = False) -> str:
    """``text`` cut in its middle to fit ``width`` inches on one line."""
    return clipped(text, lambda shown: page.measure(shown, size, bold)[0] <= width)


def _footer(page: Page, content: ReportContent, number: int) -> None:
    y = PAGE[1] - FOOTER + 0.08
    page.rule(MARGIN, y - 0.08, PAGE[0] - 2 * MARGIN)
    page.text(MARGIN, y, content.footer, 9, color=MUTED)
    page.text(PAGE[0] - MARGIN, y, f"page {number} of 2", 9, color=MUTED, ha="right")


def _first_page(content: ReportContent) -> Figure:
    page = Page()
    top = _header(page, content, content.title, content.subtitle)
    body = _Column(page, MARGIN, PAGE[0] - 2 * MARGIN, top, PAGE[1] - FOOTER - 0.1)
    _paragraph(body, content.headline, 16, color=INK, bold=True)
    _paragraph(body, content.subhead, 11.5, color=MUTED)
    body.y += 0.1
    split = MARGIN + 7.3
    chart = page.axes(MARGIN + 0.7, body.y + 0.55, split - MARGIN - 0.95, body.bottom - body.y - 1.1)
    titles = draw_frontier(chart, content.frontier, accent=content.brand.accent, legend_size=9,
                           subtitle=content.chart_note)
    clear_legend(chart, content.frontier, titles)  # the page has no layout engine: the axes' size is final
    right = _Column(page, split + 0.25, PAGE[0] - MARGIN - split - 0.25, body.y, body.bottom)
    _heading(right, "The price of share of voice" if content.frontier.is_share else
             f"The price of {content.frontier.secondary_label}")
    for sentence in content.prices:
        _bullet(right, sentence, 10)
    right.y += 0.08
    _heading(right, "Budget by stage")
    _table(right, content.stages, 9.5)
    _footer(page, content, 1)
    return page.figure


def _second_page(content: ReportContent) -> Figure:
    page = Page()
    top = _header(page, content, "The recommended allocation", content.title)
    bottom = PAGE[0] - MARGIN
    split = MARGIN + 8.5
    left = _Column(page, MARGIN, split - MARGIN, top, PAGE[1] - FOOTER - 0.1)
    _heading(left, "By campaign: today and recommended")
    _table(left, content.campaigns, 8.5)
    left.y += 0.08
    _heading(left, "Binding constraints: what relaxing each is worth")
    if content.constraints.rows:
        _table(left, content.constraints, 9)
    else:
        _paragraph(left, "None: no constraint holds the plan back.", 9.5, color=MUTED)
    right = _Column(page, split + 0.3, bottom - split - 0.3, top, PAGE[1] - FOOTER - 0.1)
    assumptions_height = 0.3 + _bullets_height(page, right.width, content.assumptions, 9)
    if content.notes:
        _heading(right, "Notes")
        counted = page.line_height(9) * 2 + 0.1  # the notes keep room to say how many there are
        notes = _Column(page, right.x, right.width, right.y,
                        max(right.bottom - assumptions_height - 0.08, right.y + counted))
        _bullets(notes, content.notes, 9)
        right.y = notes.y + 0.08
    _heading(right, "Assumptions")
    _bullets(right, content.assumptions, 9)
    _footer(page, content, 2)
    return page.figure


def _heading(column: _Column, text: str) -> None:
    _paragraph(column, text, 12.5, color=INK, bold=True)
    column.y += 0.02


def _paragraph(column: _Column, text: str, size: float, color: str = INK, bold: bool = False) -> bool:
    """Place ``text`` wrapped to the column; False (and nothing placed) when it does not fit."""
    page = column.page
    lines = page.wrap(text, column.width, size, bold)
    height = page.line_height(size) * len(lines)
    if height > column.room():
        return False
    page.text(column.x, column.y, "\n".join(lines), size, color=color, fontweight="bold" if bold else "normal",
              linespacing=1.3)
    column.y += height + 0.06
    return True


def _bullet(column: _Column, text: str, size: float) -> bool:
    indent = 0.16
    inner = _Column(column.page, column.x + indent, column.width - indent, column.y, column.bottom)
    if not _paragraph(inner, text, size):
        return False
    column.page.text(column.x, column.y, "•", size, color=MUTED)
    column.y = inner.y + 0.03
    return True


def _bullets(column: _Column, items: Sequence[str], size: float) -> None:
    """Each item as a bullet; when the rest do not fit, a last line counts them (room is kept for it)."""
    page = column.page
    for index, item in enumerate(items):
        left = len(items) - index
        more = f"… and {left} more (the HTML report and report --json list them all)"
        last = left == 1
        reserve = 0.0 if last else len(page.wrap(more, column.width, size)) * page.line_height(size) + 0.1
        room = _Column(page, column.x, column.width, column.y, column.bottom - reserve)
        if not _bullet(room, item, size):
            _paragraph(column, more, size, color=MUTED)
            return
        column.y = room.y


def _bullets_height(page: Page, width: float, items: Sequence[str], size: float) -> float:
    """The height ``_bullets`` takes to place every item in a column ``width`` inches wide."""
    lines = sum(len(page.wrap(item, width - 0.16, size)) for item in items)
    return lines * page.line_height(size) + len(items) * 0.09


def _table(column: _Column, table: Table, size: float) -> None:
    """``table`` across the column: the first column takes what the others leave; names are cut to fit."""
    page = column.page
    gap = 0.17
    columns = list(zip(table.headers, *table.rows, *([table.total] if table.total else []), strict=True))
    widths = [0.0] + [max(page.measure(cell, size, bold=k == 0)[0] for k, cell in enumerate(cells))
                       for cells in columns[1:]]
    widths[0] = max(column.width - sum(widths[1:]) - gap * (len(widths) - 1), 0.6)  # names: what is left
    lines = [table.headers, *table.rows] + ([table.total] if table.total else [])
    height = page.line_height(size) * 1.12
    rows_fit = int(column.room() // height)
    if rows_fit < len(lines):  # a line says how many rows did not fit; the total stays last
        total = [table.total] if table.total else []
        kept = max(rows_fit - 1 - len(total), 1)
        left = len(lines) - len(total) - kept
        more = f"… {left} more row{'s' if left > 1 else ''} (the HTML report and the workbook list them)"
        lines = [*lines[:kept], (more, *[""] * (len(table.headers) - 1)), *total]
    x_edges, x = [], column.x
    for width in widths:
        x_edges.append((x, x + width))
        x += width + gap
    for index, cells in enumerate(lines):
        bold = index == 0 or (table.total is not None and cells is table.total)
        if index == 1 or (table.total is not None and cells is table.total):
            page.rule(column.x, column.y - 0.03, column.width)
        if cells[0].startswith("… ") and not any(cells[1:]):
            page.text(column.x, column.y, cells[0], size, color=MUTED)
            column.y += height
            continue
        for (left, right), align, cell, width in zip(x_edges, table.align, cells, widths, strict=True):
            text = _fit(page, cell, width, size, bold) if align == "l" else cell
            page.text(right if align == "r" else left, column.y, text, size, ha="right" if align == "r" else "left",
                      color=MUTED if index == 0 else INK, fontweight="bold" if bold else "normal")
        column.y += height
    column.y += 0.08
