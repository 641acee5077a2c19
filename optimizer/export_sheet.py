"""Writing one worksheet of an export: typed cells, Excel number formats, fitted columns.

Cells hold numbers, never numbers printed as text, so a client can compute with them; the
number format says how Excel shows them (in the scenario's currency, as a percentage, with
thousands separators). NaN and infinity become empty cells.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterable
from typing import Any, Literal, NamedTuple

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from optimizer.formatting import currency_symbol, money, percent, signed_percent
from optimizer.glossary import GLOSSARY, split_pool_kpi

Kind = Literal["text", "money", "price", "percent", "change", "gap", "count", "decimal", "multiple", "number"]
"""How a cell reads: ``money`` whole currency units (spend), ``price`` with cents (CPC, CPL),
``percent`` a share, ``change`` a signed share (a change, or points of SOV), ``gap`` an optimality
gap, ``count`` a volume, ``decimal`` a small rate (leads per SOV point), ``multiple`` ROAS,
``number`` anything else (curve parameters), shown as Excel's General format."""

MAX_WIDTH = 60
_HEADER_LINE = 14
"""Headers longer than this wrap (their column need not be wider than their values and longest word)."""
_LINE_HEIGHT = 15
_HIGHLIGHT = "FFF2CC"


class Cell(NamedTuple):
    """A value and how it reads."""

    value: Any
    kind: Kind = "text"


def number_formats(currency: str) -> dict[str, str]:
    """Excel number formats for each kind of cell, money in ``currency`` (``[$€]#,##0``)."""
    symbol = currency_symbol(currency)
    tag = f"[${symbol.strip()}]" + (" " if symbol.endswith(" ") else "")
    return {
        "text": "General",
        "money": f"{tag}#,##0;-{tag}#,##0",
        "price": f"{tag}#,##0.00;-{tag}#,##0.00",
        "percent": "0.0%",
        "change": "+0.0%;-0.0%;0.0%",
        "gap": "0.0000%",
        "count": "#,##0",
        "decimal": "#,##0.00",
        "multiple": '0.00"x"',
        "number": "General",
    }


def kpi_kind(kpi: str) -> Kind:
    """How a glossary KPI's value reads: spend and revenue as money, CPL as a price, SOV as a percentage."""
    if split_pool_kpi(kpi) is not None:
        return "percent"
    definition = GLOSSARY.get(kpi)
    if definition is None:
        return "number"
    if definition.unit == "currency":
        return "money" if definition.kind == "volume" else "price"
    if definition.unit in ("percent", "multiple"):
        return definition.unit
    return "count"


def kpi_label(kpi: str) -> str:
    """``Leads``, ``Cost per lead``; ``sov.search`` as it is."""
    definition = GLOSSARY.get(kpi)
    return definition.label if definition is not None else kpi


def cell_value(value: Any) -> Any:
    """What a cell holds: numbers as Python numbers, NaN and infinity as empty, the rest as text."""
    if value is None or isinstance(value, str | bool):
        return value
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value if math.isfinite(value) else None
    return str(value)


class Sheet:
    """A worksheet filled row by row; columns are fitted to what they hold when it is finished."""

    def __init__(self, worksheet: Worksheet, currency: str):
        self.worksheet = worksheet
        self.currency = currency
        self.formats = number_formats(currency)
        self.row = 0
        self.widths: dict[int, int] = {}
        self.headers: dict[int, list[str]] = {}

    def header(self, labels: Iterable[str]) -> None:
        """A bold row of column headers, wrapped: a long header widens its column only to its longest word."""
        self.row += 1
        texts = list(labels)
        for column, label in enumerate(texts, start=1):
            self.put(column, Cell(label), bold=True, fit=False)
            self.worksheet.cell(row=self.row, column=column).alignment = Alignment(wrap_text=True, vertical="top")
            needed = max(max(len(word) for word in label.split()), min(len(label), _HEADER_LINE))
            self.widths[column] = max(self.widths.get(column, 0), needed)
        self.headers[self.row] = texts

    def title(self, text: str) -> None:
        """A bold line introducing a block (its width does not widen the column)."""
        self.blank()
        self.write([Cell(text)], bold=True, fit=False)

    def note(self, text: str) -> None:
        """A line of text that runs across the columns to its right (it does not widen the column)."""
        self.write([Cell(text)], fit=False)

    def blank(self) -> None:
        """An empty row (none at the top of the sheet)."""
        if self.row:
            self.row += 1

    def write(self, cells: Iterable[Cell | None], *, bold: bool = False, highlight: bool = False,
              fit: bool = True) -> None:
        """One row; ``None`` leaves a cell empty."""
        self.row += 1
        for column, cell in enumerate(cells, start=1):
            if cell is not None:
                self.put(column, cell, bold=bold, highlight=highlight, fit=fit)

    def put(self, column: int, cell: Cell, *, bold: bool = False, highlight: bool = False, fit: bool = True) -> None:
        """One cell of the current row (``fit=False``: text that may run on into the empty cells to its right)."""
        value = cell_value(cell.value)
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters cannot be stored
        target = self.worksheet.cell(row=self.row, column=column, value=value)
        if isinstance(value, str):
            target.data_type = "s"  # text, even when it starts with "=": never a formula
        target.number_format = self.formats[cell.kind]
        if bold:
            target.font = Font(bold=True)
        if highlight:
            target.fill = PatternFill("solid", start_color=_HIGHLIGHT, end_color=_HIGHLIGHT)
        if fit and value is not None:
            self.widths[column] = max(self.widths.get(column, 0), len(self.shown(value, cell.kind)))

    def shown(self, value: Any, kind: Kind) -> str:
        """About what Excel shows for ``value`` (to fit the column's width)."""
        if isinstance(value, str | bool):
            return str(value)
        return _SHOWN[kind](value, self.currency) if kind in _SHOWN else f"{value:.10g}"

    def finish(self, freeze: str) -> None:
        """Fit the columns and freeze the panes above and left of ``freeze`` (``A2``: the header row)."""
        widths = {column: min(width, MAX_WIDTH) for column, width in self.widths.items()}
        for column, width in widths.items():
            self.worksheet.column_dimensions[get_column_letter(column)].width = width + 2
        for row, labels in self.headers.items():
            lines = max(len(textwrap.wrap(label, widths[column]) or [""])
                        for column, label in enumerate(labels, start=1))
            self.worksheet.row_dimensions[row].height = _LINE_HEIGHT * lines
        self.worksheet.freeze_panes = freeze


_SHOWN: dict[str, Callable[[float, str], str]] = {
    "money": lambda value, currency: money(value, currency, 0),
    "price": lambda value, currency: money(value, currency, 2),
    "percent": lambda value, _: percent(value),
    "change": lambda value, _: signed_percent(value),
    "gap": lambda value, _: f"{value * 100:.4f}%",
    "count": lambda value, _: f"{value:,.0f}",
    "decimal": lambda value, _: f"{value:,.2f}",
    "multiple": lambda value, _: f"{value:.2f}x",
}
"""About what each number format shows, by kind (to fit a column's width)."""
