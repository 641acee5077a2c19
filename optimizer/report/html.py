"""The client report as one self-contained HTML file: the chart as inline SVG, the logo as a data
URI, every piece of text escaped, and no request to anywhere (no script, no font or style sheet link)."""

from __future__ import annotations

import base64
import io
import re
from html import escape as _escape
from pathlib import Path

from matplotlib.figure import Figure

from optimizer.charts.frontier import clear_legend, draw_frontier
from optimizer.formatting import printable
from optimizer.output import write_text
from optimizer.report.content import ReportContent, Table, check_logo
from optimizer.report.pdf import report_style

_CHART_SIZE = (7.0, 4.6)
"""Inches: the width of the page's wider column at 96 dpi, so the chart's text shows at its own size."""
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}

_CSS = """
body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: #222; margin: 0;
       background: #f4f5f7; }
main { max-width: 1180px; margin: 0 auto; background: white; padding: 0 0 24px; }
header { background: var(--primary); color: white; padding: 18px 36px; display: flex;
         justify-content: space-between; align-items: center; gap: 24px; }
header h1 { margin: 0; font-size: 26px; }
header p { margin: 4px 0 0; opacity: 0.9; }
header img { max-height: 64px; max-width: 240px; background: white; padding: 6px; border-radius: 3px; }
section { padding: 0 36px; }
.headline { font-size: 21px; font-weight: bold; margin: 22px 0 6px; }
.subhead { color: #6b6b6b; margin: 0 0 12px; }
.columns { display: grid; grid-template-columns: 3fr 2fr; gap: 28px; align-items: start; }
.chart svg { width: 100%; height: auto; }
h2 { font-size: 17px; margin: 22px 0 8px; }
ul { padding-left: 20px; margin: 0; }
li { margin: 0 0 8px; line-height: 1.4; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th { color: #6b6b6b; text-align: left; border-bottom: 1px solid #d9d9d9; padding: 4px 8px 4px 0; }
td { padding: 3px 8px 3px 0; }
.r { text-align: right; }
tfoot td { font-weight: bold; border-top: 1px solid #d9d9d9; }
footer { color: #8c8c8c; font-size: 12px; padding: 18px 36px 0; }
@media print { body { background: white; } main { max-width: none; } @page { size: landscape; } }
"""


def report_html(content: ReportContent) -> str:
    """The report as the text of one HTML document."""
    brand = content.brand
    logo = _logo(brand.logo) if brand.logo is not None else ""
    prices_title = ("The price of share of voice" if content.frontier.is_share
                    else f"The price of {content.frontier.secondary_label}")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{escape(content.title)}</title>",
        f"<style>:root {{ --primary: {brand.primary}; }}{_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<header><div><h1>{escape(content.title)}</h1><p>{escape(content.subtitle)}</p></div>{logo}</header>",
        "<section>",
        f'<p class="headline">{escape(content.headline)}</p>',
        f'<p class="subhead">{escape(content.subhead)}</p>',
        '<div class="columns">',
        f'<figure class="chart" aria-label="{escape(content.frontier.secondary_label)} frontier">'
        f"{chart_svg(content)}</figure>",
        f"<div><h2>{escape(prices_title)}</h2>{_list(content.prices)}<h2>Budget by stage</h2>"
        f"{_table(content.stages)}</div>",
        "</div>",
        "<h2>By campaign: today and recommended</h2>",
        _table(content.campaigns),
        "<h2>Binding constraints: what relaxing each is worth</h2>",
        _table(content.constraints) if content.constraints.rows else "<p>None: no constraint holds the plan back.</p>",
        *((f"<h2>Notes</h2>{_list(content.notes)}",) if content.notes else ()),
        f"<h2>Assumptions</h2>{_list(content.assumptions)}",
        "</section>",
        f"<footer>{escape(content.footer)}</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def write_html(content: ReportContent, path: str | Path) -> Path:
    """Write the report to ``path`` as one self-contained HTML file, atomically."""
    write_text(path, report_html(content))
    return Path(path)


def chart_svg(content: ReportContent) -> str:
    """The frontier chart as an ``<svg>`` element to place inline (no XML prolog, no metadata)."""
    with report_style():
        figure = Figure(figsize=_CHART_SIZE, layout="constrained")
        axes = figure.add_subplot()
        titles = draw_frontier(axes, content.frontier, accent=content.brand.accent, legend_size=9.5,
                               subtitle=content.chart_note)
        figure.draw_without_rendering()
        clear_legend(axes, content.frontier, titles)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = printable(buffer.getvalue())  # the chart's text is the user's: no control character may reach the page
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    # Namespace declarations are implied inside HTML; dropped, the file holds no URL at all.
    return re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)


def _logo(path: Path) -> str:
    check_logo(path)  # the reader's browser would decode it
    kind = _IMAGE_TYPES[path.suffix.lower()]
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:{kind};base64,{data}" alt="logo">'


def escape(text: str) -> str:
    """``text`` as the page's text: markup escaped, control characters replaced (``printable``), so
    that a strict HTML or XML parser reads the page."""
    return _escape(printable(text))


def _list(items) -> str:
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"


def _table(table: Table) -> str:
    def cells(row, tag: str) -> str:
        return "".join(f'<{tag}{_align(a)}>{escape(cell)}</{tag}>' for cell, a in zip(row, table.align, strict=True))

    head = f"<thead><tr>{cells(table.headers, 'th')}</tr></thead>"
    body = "<tbody>" + "".join(f"<tr>{cells(row, 'td')}</tr>" for row in table.rows) + "</tbody>"
    foot = f"<tfoot><tr>{cells(table.total, 'td')}</tr></tfoot>" if table.total else ""
    return f"<table>{head}{body}{foot}</table>"


def _align(letter: str) -> str:
    return ' class="r"' if letter == "r" else ""
