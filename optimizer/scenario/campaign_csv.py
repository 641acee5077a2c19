"""Campaigns as table rows: one row per campaign, the scenario's keys flattened by dots.

Columns are ``name, channel, stage, tags, pools, spend.current, spend.max, leads.curve,
leads.max, ...``; ``tags`` and ``pools`` are separated by ``;``; tabular points are a JSON
list (``[[0, 0], [5000, 120]]``) or the name of a points CSV beside the scenario, and a
covariance is a JSON list of rows (``[[4.1e6, 9.2e3], [9.2e3, 25.0]]``). An empty
cell means the key is not given. The same rules serve CSV files and pandas DataFrames.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.errors import Problem, ScenarioError, shortened
from optimizer.glossary import OUTCOMES
from optimizer.scenario.checks import suggest
from optimizer.scenario.limits import (
    TOO_DEEP,
    InputTooLarge,
    check_limits,
    digit_count,
    json_int,
    long_number_at,
    too_many_digits,
)
from optimizer.scenario.sources import csv_header, csv_records, read_text

TEXT_KEYS = {"name", "channel", "stage", "notes"}
LIST_KEYS = {"tags", "pools"}
SPEND_KEYS = {"current", "min", "max", "locked", "max_change", "observed_min", "observed_max"}
OUTCOME_KEYS = {"curve", "rate", "of", "se", "unit_cost", "max", "scale", "half", "shape", "coef", "exponent", "points",
                "covariance"}
OUTCOME_TEXT_KEYS = {"curve", "of"}
COLUMNS = sorted(
    TEXT_KEYS | LIST_KEYS | {f"spend.{k}" for k in SPEND_KEYS} | {f"{o}.{k}" for o in OUTCOMES for k in OUTCOME_KEYS}
)
_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


@dataclass(frozen=True)
class Row:
    """A campaign read from a table, the line it came from, and the keys of cells that were unreadable."""

    line: int
    campaign: dict[str, Any]
    unreadable: frozenset[str] = frozenset()


class CellError(ValueError):
    """A cell that cannot be read as its column's type, and how to write it."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.fix = fix


def unreadable_keys(columns: Iterable[str]) -> set[str]:
    """The keys of unreadable cells, as validation knows them: ``leads.unit_cost`` and ``unit_cost``."""
    return {key for column in columns for key in (column, column.rpartition(".")[2])}


def read_campaign_csv(path: Path) -> tuple[list[Row], list[Problem]]:
    """The campaigns in a CSV file, and a problem for each unreadable cell or column.

    Unreadable cells are left out of the rows (and reported), so that validation can go on
    and report every other problem of the file at once.
    """
    _refuse_other_formats(path)
    text = read_text(path, "campaigns")
    semicolons = _semicolon_separated(text, path.name)
    if semicolons:
        raise ScenarioError([semicolons])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in csv_header(reader, path.name)]
    reader.fieldnames = header
    problems = check_columns(header, path.name)
    rows: list[Row] = []
    for record in csv_records(reader, path.name):
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue
        line = reader.line_num
        if None in record:
            problems.append(Problem(f"{path.name} line {line}", "the row has more cells than the header",
                                    "remove the extra cells or add a column name"))
            continue
        name = (record.get("name") or "").strip()
        where = f'{path.name} line {line}' + (f' "{name}"' if name else "")
        campaign, cell_problems, bad = unflatten(record, where)
        problems += cell_problems
        rows.append(Row(line, campaign, frozenset(unreadable_keys(bad))))
    if not header:
        problems.append(Problem(path.name, "the file is empty", "add a header row: name,channel,stage,..."))
    return rows, problems


_OTHER_FORMATS = {".toml": "a TOML file", ".json": "a JSON file", ".xlsx": "an Excel workbook",
                  ".xls": "an Excel workbook", ".tsv": "a tab-separated file"}


def _refuse_other_formats(path: Path) -> None:
    """A scenario or a workbook given where the campaign table belongs is named as such, not read as CSV."""
    kind = _OTHER_FORMATS.get(path.suffix.lower())
    if kind is None:
        return
    fix = ("save it as CSV UTF-8 (comma-separated) and give that file" if "Excel" in kind or "tab" in kind else
           "give the campaign table (.csv) here; a scenario file is the command's first argument")
    raise ScenarioError([Problem(path.name, f"{kind} was given where the campaign table (a .csv file) belongs", fix)])


def _semicolon_separated(text: str, where: str) -> Problem | None:
    """A header split by ``;`` rather than ``,`` (Excel's CSV where the decimal mark is a comma)."""
    header = text.splitlines()[0] if text.strip() else ""
    cells = [cell.strip().strip('"') for cell in header.split(";")]
    if "," in header or len(cells) < 2 or not {"name", "channel", "stage"} & set(cells):
        return None
    return Problem(where, "the cells are separated by semicolons, not commas",
                   "save the table as CSV UTF-8 with commas between cells (Excel uses semicolons where the "
                   "decimal mark is a comma: set the list separator to a comma, or replace ; by , in a text "
                   "editor after turning decimal commas into points)")


def check_columns(header: Iterable[str], where: str) -> list[Problem]:
    """Problems with unknown or repeated column names."""
    problems, seen = [], set()
    for column in header:
        if column in seen:
            problems.append(Problem(f"{where} column {column}", "the column appears twice", "keep one of them"))
        seen.add(column)
        if column not in COLUMNS:
            problems.append(Problem(
                f"{where} column {column or '(blank)'}",
                f'unknown column "{column}"{suggest(column, COLUMNS)}',
                "use the scenario's keys joined by dots, such as spend.max or leads.curve",
            ))
    return problems


def unflatten(record: Mapping[str, Any], where: str) -> tuple[dict[str, Any], list[Problem], list[str]]:
    """One row's cells as a nested campaign dict, converting each cell by its column.

    Returns the campaign, a problem per unreadable cell, and the columns of those cells.
    """
    campaign: dict[str, Any] = {}
    problems: list[Problem] = []
    bad: list[str] = []
    for column, cell in record.items():
        if column not in COLUMNS or _blank(cell):
            continue
        try:
            value = _convert(column, cell)
        except CellError as error:
            problems.append(Problem(f"{where}: {column}", str(error), error.fix))
            bad.append(column)
            continue
        head, _, key = column.partition(".")
        if key:
            campaign.setdefault(head, {})[key] = value
        else:
            campaign[head] = value
    return campaign, problems, bad


def _blank(cell: Any) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float) and math.isnan(cell):
        return True
    return isinstance(cell, str) and not cell.strip()


def _convert(column: str, cell: Any) -> Any:
    key = column.rpartition(".")[2]
    if column in TEXT_KEYS or ("." in column and key in OUTCOME_TEXT_KEYS):
        return str(cell).strip()
    if column in LIST_KEYS:
        return [part.strip() for part in str(cell).split(";") if part.strip()]
    if key == "points":
        return _points(cell)
    if key == "covariance":
        return _matrix(cell)
    if key == "locked":
        return _boolean(cell)
    return _number(cell)


def _number(cell: Any) -> float | int:
    if isinstance(cell, bool):
        raise CellError(f"expected a number, got {cell}", "write a number")
    if isinstance(cell, int) and abs(cell) > sys.float_info.max:
        _refuse(too_many_digits(digit_count(cell)))
    if isinstance(cell, int | float):
        value = cell
    else:
        text = str(cell).strip().replace("_", "")
        found = long_number_at(text)
        if found is not None:
            _refuse(too_many_digits(found[1]))
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise CellError(f"expected a number, got {_quoted(cell)}", _number_fix(text)) from None
    if not math.isfinite(value):
        raise CellError(f"expected a finite number, got {_quoted(cell)}",
                        "write a number, or leave the cell empty when the key is not given")
    return value


def _refuse(error: InputTooLarge) -> None:
    raise CellError(str(error), error.fix)


def _quoted(cell: Any) -> str:
    """A cell's text in quotes for a message, cut short: a cell may hold a whole file's worth."""
    text = str(cell)
    return f'"{text}"' if len(text) <= 60 else f'"{shortened(text)}" ({len(text):,} characters)'



def _number_fix(text: str) -> str:
    if re.fullmatch(r"[-+]?\d+(\.\d+)?\s*%", text):
        fraction = float(text.rstrip("% ")) / 100
        return f"write {fraction:g}: rates and shares are fractions, not percentages"
    if re.fullmatch(r"[-+]?\d+,\d+", text) and not re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", text):
        return f"write {text.replace(',', '.')}, with a point as the decimal mark"
    plain = text.replace(",", "")
    try:
        float(plain)
    except ValueError:
        return "write the number in digits, without units or words (leave the cell empty when not given)"
    return f"write {plain}, without thousands separators"


def _boolean(cell: Any) -> bool:
    if isinstance(cell, bool):
        return cell
    text = str(cell).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"expected true or false, got {_quoted(cell)}", "write true or false (or leave the cell empty)")


def _points(cell: Any) -> Any:
    text = str(cell).strip()
    if not text.startswith("["):
        return text  # a points file beside the scenario, resolved by the loader
    return _json_cell(text, "points are not a valid JSON list",
                      "write the points as [[spend, value], [spend, value], ...], or the name of a points CSV",
                      parse_constant=lambda name: math.nan)


def _matrix(cell: Any) -> Any:
    if isinstance(cell, list | tuple):
        return cell  # a DataFrame cell may hold the rows themselves
    return _json_cell(str(cell).strip(), "the covariance is not a valid JSON list of rows",
                      "write it as [[a, b], [b, c]]: one row per parameter, in the family's parameter order")


def _json_cell(text: str, invalid: str, fix: str, **options: Any) -> Any:
    """A cell's JSON; syntax errors, and what ``check_limits`` refuses, are a ``CellError``."""
    try:
        value = json.loads(text, parse_int=json_int, **options)
        check_limits(value)
    except json.JSONDecodeError as error:
        raise CellError(f"{invalid} ({error.msg} at character {error.pos + 1})", fix) from None
    except RecursionError:
        raise CellError(*TOO_DEEP) from None
    except InputTooLarge as error:
        raise CellError(str(error), error.fix) from None
    return value
