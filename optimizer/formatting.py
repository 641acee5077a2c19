"""Numbers as a strategist reads them: money, percentages, counts (one place for all output)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from optimizer.glossary import GLOSSARY, split_pool_kpi

if TYPE_CHECKING:
    import pandas as pd

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$", "NZD": "NZ$", "INR": "₹"}


def currency_symbol(currency: str) -> str:
    """``$`` for USD, ``€`` for EUR; other codes are followed by a space (``SEK 1,200``)."""
    return _SYMBOLS.get(currency, f"{currency} ")


def money(value: float | None, currency: str = "USD", decimals: int | None = None) -> str:
    """``$250,000`` (no cents from $1,000 up), ``$4.66``; a dash when undefined; never ``-$0.00``."""
    if value is None or not math.isfinite(value):
        return "–"
    if decimals is None:
        decimals = 0 if abs(value) >= 1000 or value == 0 else 2
    digits = f"{abs(value):,.{decimals}f}"
    sign = "-" if value < 0 and not _all_zero(digits) else ""
    return f"{sign}{currency_symbol(currency)}{digits}"


def money_price(value: float | None, currency: str = "USD") -> str:
    """A price in money, as ``price_figure`` shows a number: whole from 100 up, cents above 1, and three
    significant figures below (``$0.00413``), so a small price never reads as ``$0``."""
    if value is None or not math.isfinite(value):
        return "–"
    if abs(value) >= 100:
        return money(value, currency, 0)
    if abs(value) >= 1 or value == 0:
        return money(value, currency, 2)
    whole, _, cents = money(value, currency, max(2, _decimals(value, 3))).partition(".")
    return f"{whole}.{cents[:2]}{cents[2:].rstrip('0')}"


def price_figure(value: float) -> str:
    """A price to three significant figures, whole from 100 up: ``862``, ``35.4``, ``1.75``, ``0.000413``.

    A nonzero price never reads as ``0`` (a value below ``ROUND_OFF`` is the solver's round-off, and is 0),
    and a negative one that rounds to zero is 0, never ``-0``."""
    if not math.isfinite(value):
        return "–"
    if abs(value) < ROUND_OFF:
        return "0"
    if abs(value) >= 100:
        return unsigned_zero(f"{value:,.0f}")
    shown = f"{value:,.{_decimals(value, 3)}f}"
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


ROUND_OFF = 1e-9
"""A price smaller than this is the solver's round-off: it is shown as 0."""


def _decimals(value: float, figures: int) -> int:
    """The decimals that show ``figures`` significant figures of ``value`` (nonzero)."""
    return max(0, figures - 1 - math.floor(math.log10(abs(value))))


def _all_zero(text: str) -> bool:
    return not any(ch in "123456789" for ch in text)


def unsigned_zero(text: str) -> str:
    """``-0``, ``-0.0%``, ``-$0``: a number that rounded to zero loses its minus sign (``0``, ``0.0%``)."""
    return text[1:] if text.startswith("-") and _all_zero(text) else text


def percent(value: float | None, decimals: int = 1) -> str:
    """``23.5%`` from 0.235."""
    if value is None or not math.isfinite(value):
        return "–"
    return unsigned_zero(f"{value * 100:.{decimals}f}%")


def count(value: float | None) -> str:
    """``1,234`` for volumes; one decimal below 100 so small plans stay readable."""
    if value is None or not math.isfinite(value):
        return "–"
    return unsigned_zero(f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}")


def signed_count(value: float | None, decimals: int = 0) -> str:
    """``+705``, ``-1,204``; ``0`` when it rounds to zero (never ``-0`` or ``+0``)."""
    if value is None or not math.isfinite(value):
        return "–"
    shown = f"{value:+,.{decimals}f}"
    return shown[1:] if _all_zero(shown) else shown


def signed_points(share: float | None) -> str:
    """A change of a share in points, its noun agreeing: ``+4.1 points``, ``+1.0 point``, ``0.0 points``."""
    if share is None or not math.isfinite(share):
        return "–"
    shown = signed_count(share * 100, 1)
    return f"{shown} {plural(float(shown.replace(',', '')), 'point')}"


def plural(number: float, noun: str, nouns: str | None = None) -> str:
    """``noun`` for one (``1 campaign``, ``1.0 point``), else ``nouns`` (default: ``noun`` + ``s``)."""
    return noun if abs(number) == 1 else (nouns or noun + "s")


def counted(number: int, noun: str, nouns: str | None = None) -> str:
    """``1 campaign``, ``3 campaigns``."""
    return f"{number:,} {plural(number, noun, nouns)}"


def listed(names: tuple[str, ...] | list[str], shown: int = 2) -> str:
    """Names in a sentence: ``budget <= $200,000 and Search SOV floor``; ``A, B and 3 more``."""
    if len(names) <= shown:
        return " and ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


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


@dataclass(frozen=True)
class PriceStep:
    """What a price of a KPI is shown per: ``words`` (``$1,000``, ``1,000 impressions``, ``SOV point``), and
    ``per``, how many of the steps the results quote it in (the JSON's unit, the glossary's ``step``) it holds."""

    words: str
    per: float


PRICE_STEPS: dict[str, tuple[float, str]] = {
    # KPI: (the step a price is shown per, in the KPI's own units; how it reads, {money} in the currency)
    "spend": (1000.0, "{money}"),  # the budget, a spend floor or cap, a campaign's min or max
    "revenue": (1000.0, "{money}"),
    "impressions": (1000.0, "1,000 impressions"),  # one is worth less than a cent: per 1,000, as CPM
    "clicks": (1.0, "click"),
    "leads": (1.0, "lead"),
    "mqls": (1.0, "MQL"),
    "sqls": (1.0, "SQL"),
    "customers": (1.0, "customer"),
    **{ratio: (1.0, "{money}") for ratio in ("cpm", "cpc", "cpl", "cpmql", "cpsql", "cac")},  # a cap: per $1 of it
    **{rate: (0.01, "point") for rate in ("ctr", "cvr", "roi")},  # a rate or a return: per point (0.01)
    "roas": (0.1, "0.1x"),  # $1 of ROAS is 1.0x, too coarse to negotiate: per 0.1x
    "share": (0.01, "point"),
    "sov": (0.01, "SOV point"),  # per pool (sov.search): 0.01 of share
    "esov": (0.01, "SOV point"),
}
"""The one table of the units prices are shown in (terminal, workbook, report, charts). The JSON keeps
its documented ``unit`` (per $1 of budget, per one unit of a volume); ``price_step`` converts."""


def price_step(kpi: str, currency: str = "USD") -> PriceStep | None:
    """The step a price of ``kpi`` (``spend``, ``cpl``, ``sov.search``, ...) is shown per, from ``PRICE_STEPS``
    (None for a KPI it does not know: its price is shown as the results quote it)."""
    pooled = split_pool_kpi(kpi)
    base = pooled[0] if pooled is not None else kpi
    if base not in PRICE_STEPS:
        return None
    size, words = PRICE_STEPS[base]
    quoted = GLOSSARY[base].step if base in GLOSSARY else 1.0
    return PriceStep(words.format(money=money(size, currency, 0)), size / quoted)


def signed_percent(value: float | None) -> str:
    """``+12.5%`` / ``-3.0%``; ``0.0%`` when it rounds to zero."""
    if value is None or not math.isfinite(value):
        return "–"
    return signed_count(value * 100, 1) + "%"


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
