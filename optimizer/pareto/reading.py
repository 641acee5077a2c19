"""A saved frontier (or budget sweep) read back, checked whole against the frontier document's schema
before anything is drawn: every problem found at once, each located (``frontiers[1].points[3].leads``).

The shape is checked by pydantic, strictly, over the TypedDicts the published schema is generated from
(``optimizer.documents``); what a schema cannot say is checked here: ``knee`` and ``recommended``
index a point, the values a chart draws are finite numbers, a curve's arrays are as long as each
other, and every point splits the budget over the same campaigns.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any

import pydantic_core
from pydantic import Field, TypeAdapter, ValidationError

from optimizer.documents import FrontierDocument, SweepDocument
from optimizer.errors import Problem, ScenarioError
from optimizer.glossary import VOLUMES
from optimizer.pareto.result import Frontier, FrontierPoint
from optimizer.scenario.reads import note_read

REMEDY = "give the output of tradeoff frontier --format json"
_DOCUMENT = TypeAdapter(Annotated[FrontierDocument | SweepDocument, Field(discriminator="kind")])
_POINT_FIELDS = frozenset(item.name for item in fields(FrontierPoint))
_WHERE = re.compile(r" at line (\d+) column (\d+)$")
_PARSE_REASONS = {"recursion limit exceeded": "nested deeper than any frontier is",
                  "number out of range": "a number with more digits than any frontier holds"}
_KINDS = {"float_type": "a number", "int_type": "a whole number", "string_type": "text", "bool_type": "true or false",
          "list_type": "a list", "dict_type": "an object", "typed_dict_type": "an object",
          "dataclass_type": "an object", "tuple_type": "a list"}


def read_frontier_file(path: Path) -> tuple[Frontier, ...]:
    """The frontier (or each frontier of a budget sweep) saved as JSON at ``path``, by
    ``tradeoff frontier --format json``. Raises ``ScenarioError`` listing every problem, each located."""
    try:
        content = path.read_bytes()
        note_read(path)
    except FileNotFoundError:
        raise ScenarioError([Problem(str(path), "file not found", "check the path")]) from None
    except OSError as error:
        raise ScenarioError([Problem("the file", f"cannot be read ({error.strerror or error})", REMEDY)],
                            str(path)) from None
    return frontiers_from_document(_parsed(content, str(path)), str(path))


def frontiers_from_document(data: Any, source: str = "") -> tuple[Frontier, ...]:
    """The frontiers of a frontier or budget-sweep document (parsed JSON), once it has passed every check."""
    problems = document_problems(data)
    if problems:
        raise ScenarioError(problems, source)
    documents = data["frontiers"] if data["kind"] == "frontier_sweep" else [data]
    results = tuple(Frontier.from_dict(document) for document in documents)
    if not any(result.points for result in results):
        raise ScenarioError([Problem("the file", "the frontier has no points (no plan existed)",
                                     "fix the scenario (its explanation says how), then trace it again")], source)
    return results


def _parsed(content: bytes, source: str) -> Any:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        byte = content[error.start]
        raise ScenarioError([Problem("the file", f"not UTF-8 text (byte 0x{byte:02x} at offset {error.start:,})",
                                     "save the file as UTF-8, as tradeoff frontier writes it")], source) from None
    try:
        return pydantic_core.from_json(text)  # a depth limit, and no limit on digits turned into a crash
    except ValueError as error:
        message = str(error)
        where = _WHERE.search(message)
        location = f"line {where[1]}, column {where[2]}" if where else "the file"
        reason = message[:where.start()] if where else message
        reason = _PARSE_REASONS.get(reason, reason)
        raise ScenarioError([Problem(location, f"not JSON that can be read ({reason})", REMEDY)], source) from None


def document_problems(data: Any) -> list[Problem]:
    """Every problem of a frontier or budget-sweep document, each located; empty when it can be drawn."""
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in ("frontier", "frontier_sweep"):
        return [Problem("the file", 'not a frontier (its "kind" is neither "frontier" nor "frontier_sweep")',
                        REMEDY)]
    documents = list(_frontiers(data))
    renamed = {**data, "frontiers": [_renamed(d) for _, d in documents]} if kind == "frontier_sweep" \
        else _renamed(data)
    problems = _shape_problems(renamed, documents)
    for prefix, document in documents:
        if isinstance(document, Mapping):
            problems += [Problem(prefix + where, message, fix) for where, message, fix in _meaning_problems(document)]
    return list(dict.fromkeys(problems))  # the primary KPI's value is a field of its own too (``leads``)


def _frontiers(data: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Each frontier document with the prefix that locates it (``frontiers[1].`` in a sweep)."""
    if data["kind"] == "frontier":
        yield "", data
    elif isinstance(data.get("frontiers"), list):
        for index, document in enumerate(data["frontiers"]):
            yield f"frontiers[{index}].", document


def _renamed(document: Any) -> Any:
    """``document`` with each point's traded and primary values under the dataclass's field names, as
    the schema's ``FrontierPoint`` has them (the file writes them under the KPIs' own names)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("points"), list):
        return document
    names = {"traded": document.get("secondary"), "primary": document.get("primary")}
    if not all(isinstance(name, str) for name in names.values()):
        return document
    return {**document, "points": [_renamed_point(p, names) for p in document["points"]]}


def _renamed_point(record: Any, names: Mapping[str, str]) -> Any:
    if not isinstance(record, Mapping):
        return record
    dynamic = {key for key in record if key not in _POINT_FIELDS and (key in VOLUMES or key.startswith("sov."))}
    point = {key: value for key, value in record.items() if key not in dynamic}
    point |= {field: record[name] for field, name in names.items() if name in record}
    return point


def _shape_problems(data: Any, documents: list[tuple[str, Any]]) -> list[Problem]:
    """What pydantic finds against the documents' TypedDicts, strictly (JSON types, no coercion)."""
    try:
        _DOCUMENT.validate_json(pydantic_core.to_json(data), strict=True)
    except ValidationError as error:
        return [_problem(e, documents) for e in error.errors(include_url=False) if not _null_for_nan(e)]
    return []


def _null_for_nan(error: Mapping[str, Any]) -> bool:
    """A float written as null: the document's way to write NaN (the checks of meaning say where it may not be)."""
    return error["type"] == "float_type" and error["input"] is None


def _problem(error: Mapping[str, Any], documents: list[tuple[str, Any]]) -> Problem:
    location = list(error["loc"][1:])  # the first is the document's kind
    if "points" in location:  # a point's traded and primary values are named after their KPIs in the file
        at = location.index("points") + 2
        document = documents[location[1]][1] if location[0] == "frontiers" else documents[0][1]
        if at < len(location) and location[at] in ("traded", "primary") and isinstance(document, Mapping):
            location[at] = document.get("secondary" if location[at] == "traded" else "primary")
    return Problem(_path(location) or "the file", _message(error), REMEDY)


def _path(location: list[Any]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is missing"
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return "is not a key of a frontier document"
    if kind in _KINDS:
        return f"is {_shown(error['input'])}, not {_KINDS[kind]}"
    return f"is {_shown(error['input'])}: {error['msg'][:1].lower()}{error['msg'][1:]}"


def _shown(value: Any) -> str:
    """A value as a problem quotes it: short, whatever the file holds."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"a number of {len(str(abs(value))):,} digits"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "…"


# --- what the schema cannot say --------------------------------------------------------------


def _meaning_problems(document: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Within one frontier document: (location, message, fix) for each value a chart cannot draw."""
    found = list(_non_finite(document, ""))
    points = document.get("points")
    if isinstance(points, list):
        found += _point_problems(document, points)
        found += _index_problems(document, len(points))
    campaigns = document.get("campaigns")
    if isinstance(campaigns, list):
        for index, curve in enumerate(campaigns):
            if isinstance(curve, Mapping):
                found += _curve_problems(curve, f"campaigns[{index}]")
    current = document.get("current")
    if isinstance(current, Mapping):
        found += [_needed(f"current.{key}") for key in ("primary", "traded") if current.get(key, 0) is None]
    return found


def _non_finite(value: Any, where: str) -> Iterator[tuple[str, str, str]]:
    """NaN or infinity anywhere: the writer writes null for those, and a chart cannot place them."""
    if isinstance(value, float) and not math.isfinite(value):
        yield where or "the file", f"is {value}, not a finite number", "write a finite number (null where none)"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _non_finite(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, f"{where}[{index}]")


def _needed(where: str) -> tuple[str, str, str]:
    return where, "is null, but the chart draws it: a number is needed here", REMEDY


def _point_problems(document: Mapping[str, Any], points: list[Any]) -> list[tuple[str, str, str]]:
    """Each point's traded and primary values are numbers, and it splits the budget over the first point's campaigns."""
    found = []
    names = [document.get(key) for key in ("secondary", "primary")]
    first = points[0].get("allocation") if points and isinstance(points[0], Mapping) else None
    for index, point in enumerate(points):
        if not isinstance(point, Mapping):
            continue
        found += [_needed(f"points[{index}].{name}") for name in names
                  if isinstance(name, str) and name in point and point[name] is None]
        allocation = point.get("allocation")
        if isinstance(first, Mapping) and isinstance(allocation, Mapping) and set(allocation) != set(first):
            missing, extra = sorted(set(first) - set(allocation)), sorted(set(allocation) - set(first))
            said = "; ".join(part for part in (f"lacks {_names(missing)}" if missing else "",
                                               f"adds {_names(extra)}" if extra else "") if part)
            found.append((f"points[{index}].allocation", f"names other campaigns than points[0]'s ({said})",
                          "give every point the spend of the same campaigns"))
    return found


def _names(names: list[str]) -> str:
    shown = ", ".join(json.dumps(name[:40], ensure_ascii=False) for name in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _index_problems(document: Mapping[str, Any], count: int) -> list[tuple[str, str, str]]:
    found = []
    for key in ("knee", "recommended"):
        index = document.get(key)
        if isinstance(index, int) and not isinstance(index, bool) and not 0 <= index < count:
            found.append((key, f"is {_shown(index)}, but the frontier has {count} points (0 to {count - 1})",
                          "give the index of one of its points, or null"))
    return found


def _curve_problems(curve: Mapping[str, Any], where: str) -> list[tuple[str, str, str]]:
    """A campaign's sampled curve: as many values as spends, at least one, and none null."""
    spend, primary = curve.get("spend"), curve.get("primary")
    found = [_needed(f"{where}.{key}") for key in ("current_spend", "recommended_spend") if curve.get(key, 0) is None]
    if not (isinstance(spend, list) and isinstance(primary, list)):
        return found
    if len(spend) != len(primary) or not spend:
        found.append((where, f"spend has {len(spend)} values and primary {len(primary)}",
                      "give one primary value for each spend, at least one"))
    for key, values in (("spend", spend), ("primary", primary)):
        found += [_needed(f"{where}.{key}[{k}]") for k, value in enumerate(values) if value is None]
    return found
