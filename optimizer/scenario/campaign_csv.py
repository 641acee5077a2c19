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
    """A campaign read from a table, with the line it came from."""

    line: int
    campaign: dict[str, Any]


def read_campaign_csv(path: Path) -> list[Row]:
    """The campaigns in a CSV file; raises ``ScenarioError`` with every bad cell."""
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
            campaign, cell_problems = unflatten(record, f"{path.name} line {line}")
            problems += cell_problems
            rows.append(Row(line, campaign))
    if not header:
        problems.append(Problem(path.name, "the file is empty", "add a header row: name,channel,stage,..."))
    if problems:
        raise ScenarioError(problems, str(path))
    return rows


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


def unflatten(record: Mapping[str, Any], where: str) -> tuple[dict[str, Any], list[Problem]]:
    """One row's cells as a nested campaign dict, converting each cell by its column."""
    campaign: dict[str, Any] = {}
    problems: list[Problem] = []
    for column, cell in record.items():
        if column not in COLUMNS or _blank(cell):
            continue
        try:
            value = _convert(column, cell)
        except ValueError as error:
            problems.append(Problem(f"{where} column {column}", str(error), "fix the cell"))
            continue
        head, _, key = column.partition(".")
        if key:
            campaign.setdefault(head, {})[key] = value
        else:
            campaign[head] = value
    return campaign, problems


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
