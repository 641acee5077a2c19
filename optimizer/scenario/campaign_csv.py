"""Campaigns as table rows: one row per campaign, the scenario's keys flattened by dots.

Columns are ``name, channel, stage, tags, pools, spend.current, spend.max, leads.curve,
leads.max, ...``; ``tags`` and ``pools`` are separated by ``;``; tabular points are a JSON
list (``[[0, 0], [5000, 120]]``) or the name of a points CSV beside the scenario. An empty
cell means the key is not given. The same rules serve CSV files and pandas DataFrames.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.errors import Problem, ScenarioError
from optimizer.glossary import OUTCOMES
from optimizer.scenario.checks import suggest

TEXT_KEYS = {"name", "channel", "stage", "notes"}
LIST_KEYS = {"tags", "pools"}
SPEND_KEYS = {"current", "min", "max", "locked", "max_change"}
OUTCOME_KEYS = {"curve", "rate", "of", "unit_cost", "max", "scale", "half", "shape", "coef", "exponent", "points"}
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


def read_campaign_csv(path: Path) -> tuple[list[Row], list[Problem]]:
    """The campaigns in a CSV file, and a problem for each unreadable cell or column.

    Unreadable cells are left out of the rows (and reported), so that validation can go on
    and report every other problem of the file at once.
    """
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise ScenarioError([Problem(str(path), f"cannot read the file: {error}", "check the path")]) from None
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        problems = check_columns(header, path.name)
        rows: list[Row] = []
        for record in reader:
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
            rows.append(Row(line, campaign, frozenset(column.rpartition(".")[2] for column in bad)))
    if not header:
        problems.append(Problem(path.name, "the file is empty", "add a header row: name,channel,stage,..."))
    return rows, problems


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
        except ValueError as error:
            problems.append(Problem(f"{where}: {column}", str(error), "fix the cell"))
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
    if key == "locked":
        return _boolean(cell)
    return _number(cell)


def _number(cell: Any) -> float | int:
    if isinstance(cell, bool):
        raise ValueError(f"expected a number, got {cell}")
    if isinstance(cell, int | float):
        value = cell
    else:
        text = str(cell).strip().replace("_", "")
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f'expected a number, got "{cell}"') from None
    if not math.isfinite(value):
        raise ValueError(f'expected a finite number, got "{cell}"')
    return value


def _boolean(cell: Any) -> bool:
    if isinstance(cell, bool):
        return cell
    text = str(cell).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f'expected true or false, got "{cell}"')


def _points(cell: Any) -> Any:
    text = str(cell).strip()
    if not text.startswith("["):
        return text  # a points file beside the scenario, resolved by the loader
    try:
        return json.loads(text, parse_constant=lambda name: math.nan)
    except json.JSONDecodeError as error:
        raise ValueError(f"points are not a valid JSON list ({error.msg})") from None
