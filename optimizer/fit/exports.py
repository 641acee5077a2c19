"""Campaign history from platform exports: one long table, whatever the export's spellings.

A strategist's history comes as the long format (``period, campaign, channel, stage, spend,
impressions, clicks, leads[, mqls, sqls, customers, revenue]``) or as a platform's own report:
Google Ads (``Cost``, ``Impr.``, ``Conversions``, ``Search impr. share``, two title lines and
``Total:`` rows), Meta Ads Manager (``Amount spent (USD)``, ``Link clicks``, ``Results``) or
LinkedIn Campaign Manager (``Total Spent``, report lines above the header). The header row is
found, its columns are matched to the long format's by their usual spellings (or by a mapping
given with ``--map``), and every cell is read as the platform wrote it: currency symbols,
thousands separators, percentages, ``< 10%`` shares and ``--`` for nothing. A row that cannot be
read is reported with its line number, all of them at once; summary rows are set aside and listed.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from optimizer.errors import Problem, ScenarioError, shortened
from optimizer.scenario.limits import MOST_DIGITS, too_many_digits
from optimizer.scenario.sources import csv_records, read_text

TEXT_COLUMNS = ("period", "campaign", "channel", "stage")
NUMBER_COLUMNS = ("spend", "impressions", "clicks", "leads", "mqls", "sqls", "customers", "revenue",
                  "impression_share")
COLUMNS = TEXT_COLUMNS + NUMBER_COLUMNS
REQUIRED = ("campaign", "spend")

SPELLINGS: dict[str, tuple[str, ...]] = {
    "period": ("period", "date", "day", "week", "month", "reporting starts", "start date (in utc)", "start date"),
    "campaign": ("campaign", "campaign name", "campaign_name"),
    "channel": ("channel", "network", "campaign type"),
    "stage": ("stage", "funnel stage"),
    "spend": ("spend", "est. cost", "estimated cost", "cost", "amount spent", "total spent", "spent"),
    "impressions": ("impressions", "est. impr.", "estimated impressions", "impr.", "impr"),
    "clicks": ("clicks", "est. clicks", "estimated clicks", "link clicks"),
    "leads": ("leads", "est. conversions", "est. conv.", "estimated conversions", "conversions", "results"),
    "mqls": ("mqls", "mql"),
    "sqls": ("sqls", "sql"),
    "customers": ("customers", "won", "closed won"),
    "revenue": ("revenue", "est. conv. value", "conv. value", "conversion value", "total conversion value"),
    "impression_share": ("impression_share", "search impr. share", "impression share", "search_is"),
}
"""Each long-format column's spellings in the usual exports, most specific first (lower case, a
currency code in brackets taken off: ``Amount spent (USD)`` is ``amount spent``). ``Est. ...`` are a
bid or budget simulator's estimates (``fit.simulator``), read before a plain ``Cost`` or ``Clicks``."""

PLATFORMS: tuple[tuple[str, frozenset[str]], ...] = (
    ("Google Ads", frozenset({"impr.", "search impr. share", "conv. value"})),
    ("Meta Ads Manager", frozenset({"amount spent", "link clicks", "reporting starts", "results"})),
    ("LinkedIn Campaign Manager", frozenset({"total spent", "start date (in utc)", "campaign name"})),
)
"""Headers only one platform's exports use, to name the platform a file came from."""
PLATFORM_CHANNELS = {"Google Ads": "search", "Meta Ads Manager": "social", "LinkedIn Campaign Manager": "linkedin"}
"""The channel of an export's campaigns when it has no channel column of its own."""

_HEADER_SEARCH = 30
_CURRENCY_CODE = re.compile(r"\s*\(([A-Z]{3})\)\s*$")
_MISSING = {"", "--", "-", "—", "n/a", "na", "null"}
_SUMMARY = re.compile(r"totals?\s*(:|$)", re.IGNORECASE)
_SYMBOLS = re.compile(r"[$€£¥₹]|\b[A-Z]{3}\b")


@dataclass(frozen=True)
class History:
    """A history in the long format: the table, where each column came from, and what was set aside.

    ``frame`` has the columns of ``COLUMNS`` that the file had, numbers as floats (NaN where the
    export had nothing), and ``line``, each row's line in the file. ``sources`` maps each column
    to the header it was read from; ``set_aside`` lists summary rows (``Total: ...``) not read.
    """

    frame: pd.DataFrame
    platform: str
    sources: dict[str, str]
    set_aside: tuple[Problem, ...]


def read_history(path: Path | str, mapping: Mapping[str, str] | None = None) -> History:
    """The history in ``path`` (a platform export or the long format), every problem reported at once.

    ``mapping`` names the header to read a column from (``{"spend": "Cost (converted)"}``), over
    the usual spellings. Raises ``ScenarioError`` naming each unreadable row by its line.
    """
    path, mapping = Path(path), mapping or {}
    rows, header_at = _table(read_text(path, path.name, utf16=True), mapping, path.name)
    if header_at is None:
        raise ScenarioError([Problem(path.name, "no header row with a campaign column and a spend column was found "
                                     f"in its first {_HEADER_SEARCH} lines",
                                     "export the report with its column headers, or name them with --map "
                                     "(e.g. --map spend=\"Cost\")")])
    header = rows[header_at][1]
    sources, problems = _columns(header, mapping, path.name)
    if problems:
        raise ScenarioError(problems)
    records, set_aside, problems = _records(rows[header_at + 1:], sources, header, path.name)
    if problems:
        raise ScenarioError(problems)
    if not records:
        raise ScenarioError([_no_rows(path.name, rows[header_at][0], len(set_aside))])
    frame = pd.DataFrame.from_records(records, columns=["line", *[c for c in COLUMNS if c in sources]])
    platform, named = _platform(header), {c: header[i] for c, i in sources.items()}
    if "channel" not in frame and platform in PLATFORM_CHANNELS:
        frame["channel"] = PLATFORM_CHANNELS[platform]
        named["channel"] = f"({platform})"
    return History(frame, platform, named, tuple(set_aside))


def _no_rows(name: str, header_line: int, set_aside: int) -> Problem:
    aside = f" ({set_aside} summary rows set aside)" if set_aside else ""
    return Problem(f"{name} line {header_line}", f"the header is here, but no rows of data follow it{aside}",
                   "export the report with its rows (one per campaign and period, or per bid level), "
                   "not the header or the totals alone")


def _table(text: str, mapping: Mapping[str, str], name: str) -> tuple[list[tuple[int, list[str]]], int | None]:
    """The file's rows, each with its line, split by commas, tabs or semicolons (whichever gives a
    header row), and where that header row is. A row the csv module cannot read (a cell over its
    size limit) is a problem at its line when no delimiter gives a header."""
    rows: list[tuple[int, list[str]]] = []
    unreadable: ScenarioError | None = None
    for delimiter in (",", "\t", ";"):
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        try:
            rows = [(reader.line_num, row) for row in csv_records(reader, name)]
        except ScenarioError as error:
            unreadable = unreadable or error
            continue
        header_at = _header_row([row for _, row in rows], mapping)
        if header_at is not None:
            return rows, header_at
    if unreadable is not None:
        raise unreadable
    return rows, None


def _header_row(rows: list[list[str]], mapping: Mapping[str, str]) -> int | None:
    """The first row (among the first ``_HEADER_SEARCH``) naming a campaign column and a spend column."""
    for index, row in enumerate(rows[:_HEADER_SEARCH]):
        found = _matches(row, mapping)
        if all(column in found for column in REQUIRED):
            return index
    return None


def _key(header: str) -> str:
    """A header as matched: lower case, spaces squeezed, a trailing currency code in brackets taken off."""
    return " ".join(_CURRENCY_CODE.sub("", header).split()).lower()


def _matches(header: list[str], mapping: Mapping[str, str]) -> dict[str, int]:
    """Each long-format column found in ``header``: at the header ``mapping`` names, else (when
    there is none, or it is missing, which ``_columns`` reports) at its most specific usual spelling."""
    keys = [_key(cell) for cell in header]
    found: dict[str, int] = {}
    for column in COLUMNS:
        wanted = ([_key(mapping[column])] if column in mapping else []) + list(SPELLINGS[column])
        for spelling in wanted:
            if spelling in keys and keys.index(spelling) not in found.values():
                found[column] = keys.index(spelling)
                break
    return found


def _columns(header: list[str], mapping: Mapping[str, str], name: str) -> tuple[dict[str, int], list[Problem]]:
    """The columns to read, and a problem for each mapping that names no header or no known column."""
    problems = []
    for column, wanted in mapping.items():
        if column not in COLUMNS:
            problems.append(Problem(f"--map {column}", f"'{column}' is not a history column",
                                    f"use one of {', '.join(COLUMNS)}"))
        elif _key(wanted) not in {_key(cell) for cell in header}:
            problems.append(Problem(f"--map {column}", f"{name} has no column '{wanted}'",
                                    f"use one of its headers: {', '.join(cell for cell in header if cell)}"))
    return _matches(header, mapping), problems


def _records(rows: list[tuple[int, list[str]]], sources: dict[str, int], header: list[str],
             name: str) -> tuple[list[dict], list[Problem], list[Problem]]:
    """The rows as records, the summary rows set aside, and a problem for each unreadable cell."""
    records, set_aside, problems = [], [], []
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if _is_summary(row):
            set_aside.append(Problem(f"{name} line {line}", f"summary row '{_first_text(row)}' set aside"))
            continue
        record: dict[str, object] = {"line": line}
        for column, index in sources.items():
            cell = row[index] if index < len(row) else ""
            where = f"{name} line {line}, column '{header[index]}'"
            record[column], problem = _cell(column, cell, where)
            if problem is not None:
                problems.append(problem)
        records.append(record)
    return records, set_aside, problems


def _is_summary(row: list[str]) -> bool:
    """A report's total row (``Total: Account``, ``Totals``): the first cell with text says so."""
    return _SUMMARY.match(_first_text(row)) is not None


def _first_text(row: list[str]) -> str:
    return next((cell.strip() for cell in row if cell.strip()), "")


def _cell(column: str, cell: str, where: str) -> tuple[object, Problem | None]:
    """A cell's value in its column, or the problem with it."""
    if column in TEXT_COLUMNS:
        text = cell.strip()
        if column in REQUIRED and not text:
            return None, Problem(where, "is empty", "give every row its campaign's name, or delete the row")
        return text, None
    try:
        value = parse_number(cell, share=column == "impression_share")
    except ValueError:
        digits = sum(character.isdigit() for character in cell)
        if digits > MOST_DIGITS:
            error = too_many_digits(digits)
            return math.nan, Problem(where, str(error), error.fix)
        shown = shortened(cell.strip())
        return math.nan, Problem(where, f"'{shown}' is not a number",
                                 "write a number such as 1234.56, $1,234.56 or 12.5%, or leave it empty")
    if value is not None and value < 0:
        return value, Problem(where, f"{cell.strip()} is negative", "spend and outcomes are counts: 0 or more")
    if value is None and column in REQUIRED:
        return math.nan, Problem(where, "is empty", "give the row's spend (0 if nothing was spent)")
    return (math.nan if value is None else value), None


def parse_number(text: str, share: bool = False) -> float | None:
    """A number as exports write it (None for an empty cell or ``--``); ``ValueError`` if it is not one.

    Currency symbols and codes are dropped; ``1,234.56`` and ``1.234,56`` are both 1234.56 (the
    last separator before two decimals or fewer is the decimal point; a lone comma with three
    digits after it groups thousands); ``12.5%`` is 0.125; a share of ``< 10%`` (Google Ads's
    "below 10%") is read as 0.10 and ``> 90%`` as 0.90, the bounds it states; ``(12)`` is -12.
    """
    raw = text.strip()
    if raw.lower() in _MISSING:
        return None
    if share and raw[:1] in "<>":
        raw = raw[1:].strip()
    negative = raw.startswith("(") and raw.endswith(")")
    raw = _SYMBOLS.sub("", raw.strip("()")).replace("\u00a0", "").replace(" ", "")
    percent = raw.endswith("%")
    raw = _plain(raw.rstrip("%"))
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(text)
    value = -value if negative else value
    return value / 100 if percent else value


def _plain(raw: str) -> str:
    """``raw`` with its thousands separators dropped and a decimal point for its decimal separator."""
    match = re.fullmatch(r"([-+]?)(\d[\d.,]*)", raw)
    if match is None:
        raise ValueError(raw)
    sign, body = match.groups()
    decimal = _decimal_separator(body)
    whole, fraction = body.rsplit(decimal, 1) if decimal else (body, "")
    if not fraction.isdigit() and fraction:
        raise ValueError(raw)
    separators = set(re.sub(r"\d", "", whole))
    if len(separators) > 1 or separators and not re.fullmatch(r"\d{1,3}(" + re.escape(min(separators)) + r"\d{3})+",
                                                              whole):
        raise ValueError(raw)  # thousands come in groups of three, all split by the same mark
    digits = re.sub(r"\D", "", whole)
    return sign + digits + ("." + fraction if fraction else "")


def _decimal_separator(body: str) -> str | None:
    """The mark before the decimals, if any: the last of two kinds of mark; a lone ``.``; a lone
    ``,`` unless exactly three digits follow it (``1,234`` groups thousands)."""
    marks = [c for c in body if c in ",."]
    if not marks:
        return None
    last = marks[-1]
    if len(set(marks)) == 2:
        return last
    if len(marks) > 1:
        return None
    decimals = len(body) - body.rfind(last) - 1
    return None if last == "," and decimals == 3 else last


def _platform(header: Iterable[str]) -> str:
    """The platform whose own headers the file has, or the long format."""
    keys = {_key(cell) for cell in header}
    for platform, own in PLATFORMS:
        if keys & own:
            return platform
    return "long format"
