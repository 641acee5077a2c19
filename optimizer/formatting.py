"""Numbers as a strategist reads them: money, percentages, counts (one place for all output)."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from optimizer.glossary import GLOSSARY, split_pool_kpi

if TYPE_CHECKING:
    import pandas as pd

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$", "NZD": "NZ$", "INR": "₹"}


def currency_symbol(currency: str) -> str:
    """``$`` for USD, ``€`` for EUR; other codes are followed by a space (``SEK 1,200``)."""
    return _SYMBOLS.get(currency, f"{currency} ")


def money(value: float | None, currency: str = "USD", decimals: int | None = None) -> str:
    """``$250,000`` (no cents from $1,000 up), ``$4.66``; a dash when undefined."""
    if value is None or not math.isfinite(value):
        return "–"
    if decimals is None:
        decimals = 0 if abs(value) >= 1000 or value == 0 else 2
    sign = "-" if value < 0 else ""
    return f"{sign}{currency_symbol(currency)}{abs(value):,.{decimals}f}"


def percent(value: float | None, decimals: int = 1) -> str:
    """``23.5%`` from 0.235."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value * 100:.{decimals}f}%"


def count(value: float | None) -> str:
    """``1,234`` for volumes; one decimal below 100 so small plans stay readable."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def kpi_value(kpi: str, value: float | None, currency: str = "USD") -> str:
    """A KPI's value in its glossary unit (``sov.search`` and ``esov.media`` as percentages)."""
    if split_pool_kpi(kpi) is not None:
        return percent(value)
    definition = GLOSSARY.get(kpi)
    unit = definition.unit if definition is not None else "count"
    if unit == "currency":
        return money(value, currency)
    if unit == "percent":
        return percent(value)
    if unit == "multiple":
        return "–" if value is None or not math.isfinite(value) else f"{value:.2f}x"
    return count(value)


def signed_percent(value: float | None) -> str:
    """``+12.5%`` / ``-3.0%``."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value * 100:+.1f}%"


def within(gap: float | None) -> str:
    """An optimality gap as a strategist reads it, rounded up: ``within 0.012% of the true optimum``."""
    if gap is None or not math.isfinite(gap):
        return "no optimality bound"
    points = gap * 100
    if points <= 0.001:
        return "within 0.001% of the true optimum"
    digits = max(0, 1 - math.floor(math.log10(points)))
    shown = math.ceil(points * 10**digits - 1e-9) / 10**digits
    return f"within {shown:.{digits}f}% of the true optimum"


def short_count(value: float, money: bool = False) -> str:
    """``250k``, ``1.5M``, ``85``: a volume (or, ``money``, an amount) as an axis or a name shows it."""
    if not math.isfinite(value):
        return "–"
    size = abs(value)
    if size >= 1e6:
        return _trim(value / 1e6, 2) + "M"
    if size >= 1e4:
        return _trim(value / 1e3, 1) + "k"
    if size >= 1e3:
        return _trim(value / 1e3, 2) + "k"
    return f"{value:,.0f}" if (money or size >= 10) else f"{value:.2g}"


def _trim(value: float, decimals: int) -> str:
    """``4.25`` -> ``4.25``, ``4.50`` -> ``4.5``, ``4.00`` -> ``4``."""
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".")


_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Control characters but tab and newline, lone surrogates and the two non-characters: no page,
chart or strict parser takes them, and a lone surrogate cannot even be written as UTF-8."""
REPLACEMENT = "\ufffd"


def printable(text: str) -> str:
    """``text`` as any page, chart or parser can show it: each character of ``_UNPRINTABLE`` replaced
    by U+FFFD, so that the reader sees something was there."""
    return _UNPRINTABLE.sub(REPLACEMENT, text)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP's list for CSV injection)."""


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (no index), with every text cell a spreadsheet would read as a formula
    prefixed by ``'``; numbers, negative ones too, stay numbers."""
    return frame.map(_inert).to_csv(index=False)


def _inert(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
