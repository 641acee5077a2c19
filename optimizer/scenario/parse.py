"""Turn a raw scenario document (a dict from TOML, JSON or CSV) into a validated ``Scenario``.

Campaigns and constraints are validated one by one, so that a broken campaign does not
hide the problems of the others. Parts that fail are reported, then set aside so that the
checks across the scenario still run on the rest: every problem is raised together in one
``ScenarioError``, worded for a strategist (where, what, and the fix).
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from optimizer.errors import Problem, ScenarioError, shortened
from optimizer.glossary import OUTCOMES
from optimizer.scenario.checks import Locator, check_scenario, closest, suggest
from optimizer.scenario.limits import digit_count, too_many_digits
from optimizer.scenario.schema import (
    CURVE_SPECS,
    BudgetSpec,
    Campaign,
    ConstraintSpec,
    ExponentialSpec,
    HillSpec,
    LinearSpec,
    LogSpec,
    ObjectiveSpec,
    Pool,
    PowerSpec,
    RateSpec,
    Scenario,
    SolverSpec,
    SpendSpec,
    TabularSpec,
    Where,
    nesting,
)

_MODELS: tuple[type[BaseModel], ...] = (
    Scenario, Campaign, SpendSpec, ConstraintSpec, Where, Pool, ObjectiveSpec, BudgetSpec, SolverSpec,
    LinearSpec, ExponentialSpec, HillSpec, PowerSpec, LogSpec, TabularSpec, RateSpec,
)
KNOWN_KEYS = frozenset(name for model in _MODELS for name in model.model_fields)
M = TypeVar("M", bound=BaseModel)
_SALVAGE_ROUNDS = 12


def parse_scenario(raw: Mapping[str, Any], locator: Locator | None = None, source: str = "",
                   prior: Sequence[Problem] = (), unreadable: Mapping[int, set[str]] | None = None) -> Scenario:
    """Validate ``raw`` completely; raise ``ScenarioError`` listing every problem found.

    ``prior`` are problems found while reading (bad CSV cells, missing points files);
    ``unreadable`` names, per campaign position, the keys those problems left out.
    """
    locator = locator or Locator()
    if not isinstance(raw, Mapping):
        raise ScenarioError([Problem("", "the scenario must be a table of keys", "start the file with name = ...")],
                            source)
    problems: list[Problem] = list(prior)
    hidden = Hidden()
    head = dict(raw)
    if isinstance(raw.get("campaigns"), list):
        head["campaigns"] = _items(raw["campaigns"], Campaign, locator.campaign, problems, hidden, unreadable or {},
                                   locator.from_table)
    if isinstance(raw.get("constraints"), list):
        head["constraints"] = _items(raw["constraints"], ConstraintSpec, locator.constraint, problems, hidden, {})
    scenario: Scenario | None
    try:
        scenario = Scenario.model_validate(head)
    except ValidationError as error:
        problems += translate(error, "")
        scenario, dropped = salvage(Scenario, head, {"name": "(unnamed)"})
        hidden.words |= dropped
    if scenario is not None:
        local = tuple(locator.campaign(i, c) for i, c in enumerate(scenario.campaigns))
        problems += [p for p in check_scenario(scenario, locator) if not hidden.hides(p, local)]
    if problems or scenario is None:
        raise ScenarioError(sorted(problems, key=_natural), source)
    return scenario


def _natural(problem: Problem) -> list[Any]:
    """Sort key that puts campaigns[2] before campaigns[10] and line 9 before line 10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", problem.location)]


class Hidden:
    """What validation set aside, so that cross-check problems do not repeat it."""

    def __init__(self) -> None:
        self.words: set[str] = set()
        self.places: dict[str, set[str] | None] = {}

    def hides(self, problem: Problem, campaign_places: Sequence[str] = ()) -> bool:
        """True when ``problem`` may stem from a set-aside part.

        A problem about one campaign is hidden by what was set aside from that campaign; a
        problem about the whole scenario (``no campaign defines leads``) by anything set aside.
        Only the message is searched: names, places and suggestions do not count.
        """
        text = re.sub(r' \(did you mean "[^"]*"\?\)', "", problem.message)
        for place, words in self.places.items():
            if problem.location.startswith(place) and (words is None or _mentions(text, words)):
                return True
        if not problem.location.startswith(tuple(campaign_places)):
            set_aside = set().union(*(w for w in self.places.values() if w))
            if _mentions(text, set_aside):
                return True
        return _mentions(text, self.words)


def _mentions(text: str, words: Iterable[str]) -> bool:
    return any(re.search(rf"(?<![\w.]){re.escape(word)}(?!\w)", text) for word in words)


_PLACEHOLDERS: dict[type[BaseModel], Callable[[int], dict[str, Any]]] = {
    Campaign: lambda i: {"name": f"(campaign {i})", "channel": "(unknown)", "stage": "conversion",
                         "leads": {"curve": "linear", "unit_cost": 1.0}, "spend": {"max": 0.0}},
    ConstraintSpec: lambda i: {"kpi": "spend", "min": 0.0},
}


def _items(items: list, model: type[BaseModel], locate: Callable, problems: list[Problem], hidden: Hidden,
           unreadable: Mapping[int, set[str]], from_table: Callable[[int], bool] = lambda index: False) -> list:
    """Validate each item on its own; failed ones are reported, then salvaged or replaced.

    ``unreadable`` names, per position, keys whose cells were already reported as unreadable:
    they are not reported again as missing.
    """
    valid = []
    for index, item in enumerate(items):
        try:
            valid.append(model.model_validate(item))
            if index in unreadable:
                hidden.places[locate(index, valid[-1])] = set(unreadable[index])
            continue
        except ValidationError as error:
            name = item.get("name") if isinstance(item, Mapping) else None
            label = model.model_construct(name=name) if isinstance(name, str) else None
            problems += translate(error, locate(index, label), unreadable.get(index, ()), from_table(index))
        placeholder = _PLACEHOLDERS[model](index)
        fallbacks = {k: placeholder[k] for k in ("name", "channel", "stage", "kpi") if k in placeholder}
        salvaged, dropped = salvage(model, item, fallbacks)
        words: set[str] | None = dropped
        if salvaged is None:
            salvaged, words = model.model_validate(placeholder), None
        elif index in unreadable:
            words = set(words or ()) | unreadable[index]
        valid.append(salvaged)
        hidden.places[locate(index, salvaged)] = words
    return valid


def salvage(model: type[M], raw: Any, fallbacks: Mapping[str, Any]) -> tuple[M | None, set[str]]:
    """``raw`` validated after dropping (or defaulting) each part that fails, and the dropped keys.

    Returns ``(None, ...)`` when nothing valid remains.
    """
    if not isinstance(raw, Mapping):
        return None, set()
    data = copy.deepcopy(dict(raw))
    dropped: set[str] = set()
    for _ in range(_SALVAGE_ROUNDS):
        try:
            return model.model_validate(data), dropped
        except ValidationError as error:
            changed = False
            for detail in error.errors():
                path = _salvage_path(detail)
                if not path:
                    return None, dropped
                leaf = [p for p in path if isinstance(p, str)][-1:]
                dropped.update(leaf)
                if len(path) == 1 and path[0] in fallbacks:
                    changed |= data.get(path[0]) != fallbacks[path[0]]
                    data[path[0]] = fallbacks[path[0]]
                else:
                    changed |= _delete(data, path)
            if not changed:
                return None, dropped
    return None, dropped


def _salvage_path(detail: Mapping[str, Any]) -> list[str | int]:
    path = list(_clean_location(detail["loc"]))
    if detail["type"] == "missing" and len(path) > 1:
        path = path[:-1]
    if path and path[0] in OUTCOMES:
        path = path[:1]
    return path


def _delete(data: Any, path: Sequence[str | int]) -> bool:
    node = data
    for segment in path[:-1]:
        try:
            node = node[segment]
        except (KeyError, IndexError, TypeError):
            return False
    try:
        del node[path[-1]]
    except (KeyError, IndexError, TypeError):
        return False
    return True


def translate(error: ValidationError, prefix: str, already_reported: Collection[str] = (),
              from_table: bool = False) -> list[Problem]:
    """Pydantic errors as ``Problem`` s located under ``prefix`` (``campaigns[2] "Search"``).

    A misspelt key is one problem: an unknown key whose "did you mean" is a required key
    that is missing hides that key's "is required". Keys in ``already_reported`` (cells
    that could not be read) are not reported as missing; ``from_table`` words the fix for
    a missing key as a cell to fill in.
    """
    root = _root_model(error.title)
    details = []
    for detail in error.errors(include_url=False):
        loc = _clean_location(detail["loc"])
        if detail["type"] == "extra_forbidden" and root is not None:
            detail = {**detail, "allowed": _allowed_keys(root, detail["loc"][:-1])}
        details.append((detail, loc))
    renamed = {loc[:-1] + (closest(str(loc[-1]), d.get("allowed") or KNOWN_KEYS),): loc[-1]
               for d, loc in details if d["type"] == "extra_forbidden" and loc}
    point_errors = {loc[:loc.index("points") + 1] for _, loc in details
                    if "points" in loc and len(loc) > loc.index("points") + 1}
    problems = []
    for detail, loc in details:
        path = _dotted(loc)
        if detail["type"] == "missing" and (loc in renamed or path in already_reported):
            continue
        if detail["type"] == "too_short" and loc in point_errors:
            continue  # "at least 2 items after validation, not 0" only echoes the bad points below it
        location = f"{prefix}: {path}" if prefix and path else prefix or path
        message, fix = _points_wording(detail, loc) if "points" in loc else _wording(detail, loc)
        if detail["type"] == "missing" and from_table and "points" not in loc:
            fix = f"fill in the {path} column"
        problems.append(Problem(location, message, fix))
    return problems


_POINT_FORM = "write the points as [[spend, value], [spend, value], ...]"


def _points_wording(detail: Mapping[str, Any], loc: Sequence[str | int]) -> tuple[str, str]:
    """Problems with tabular points, in terms of points: ``[spend, value]`` pairs, at least two."""
    kind, given = detail["type"], detail.get("input")
    depth = len(loc) - loc.index("points") - 1  # 0: the list, 1: a point, 2: a number in a point
    if depth == 0 and kind == "too_short":
        return "needs at least two points", _POINT_FORM
    if depth == 0 and kind in ("tuple_type", "list_type"):
        return f"expected a list of points, got {_show(given)}", _POINT_FORM + ", or the name of a points CSV"
    if depth == 1:
        number = int(loc[-1]) + 1
        if kind in ("too_short", "too_long", "missing"):
            return f"point {number} is not a [spend, value] pair", _POINT_FORM
        return f"point {number} is {_show(given)}, not a [spend, value] pair", _POINT_FORM
    if depth == 2:
        number, what = int(loc[-2]) + 1, "spend" if loc[-1] == 0 else "value"
        if kind in ("greater_than_equal", "greater_than"):
            return f"the {what} of point {number} is negative (got {_show(given)})", f"give it a {what} of 0 or more"
        if kind == "finite_number":
            return f"the {what} of point {number} is not a finite number", "replace NaN or infinity by a number"
        return f"the {what} of point {number} is {_show(given)}, not a number", "write it as a number"
    return _wording(detail, loc)


def _root_model(title: str) -> type[BaseModel] | None:
    return next((model for model in _MODELS if model.__name__ == title), None)


def _allowed_keys(model: type[BaseModel], loc: Sequence[str | int]) -> set[str]:
    """The keys accepted at ``loc`` (a raw pydantic location, union tags included)."""
    current: type[BaseModel] | None = model
    k = 0
    while current is not None and k < len(loc):
        kind, child = nesting(current, str(loc[k]))  # type: ignore[arg-type]
        if kind == "model":
            current, k = child, k + 1
        elif kind in ("map", "list"):
            current, k = child, k + 2
        elif kind == "outcome":
            tag = loc[k + 1] if k + 1 < len(loc) else None
            if tag == "curve" and k + 2 < len(loc):
                current, k = CURVE_SPECS.get(str(loc[k + 2])), k + 3
            else:
                current, k = (RateSpec if tag == "rate" else None), k + 2
        else:
            return set()
    return set(current.model_fields) if current is not None else set()


def _clean_location(loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """Drop pydantic's union tags: ``leads.curve.hill.max`` -> ``leads.max``."""
    out: list[str | int] = []
    k = 0
    while k < len(loc):
        item = loc[k]
        after_outcome = bool(out) and out[-1] in OUTCOMES
        if after_outcome and item == "curve" and k + 1 < len(loc) and loc[k + 1] in CURVE_SPECS:
            k += 2
            continue
        if after_outcome and item == "rate" and k + 1 < len(loc):
            k += 1
            continue
        out.append(item)
        k += 1
    return tuple(out)


def _dotted(loc: Sequence[str | int]) -> str:
    """``("pools", "brand search", "share")`` -> ``pools."brand search".share``, as a TOML key is written."""
    text = ""
    for item in loc:
        if isinstance(item, int):
            text += f"[{item}]"
            continue
        key = str(item) if _BARE_KEY.fullmatch(str(item)) else json.dumps(str(item), ensure_ascii=False)
        text += f".{key}" if text else key
    return text


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _wording(detail: Mapping[str, Any], loc: Sequence[str | int]) -> tuple[str, str]:
    kind = detail["type"]
    given = detail.get("input")
    ctx = detail.get("ctx") or {}
    key = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        return _unknown_key_wording(key, detail.get("allowed") or KNOWN_KEYS)
    if kind == "missing":
        return f'"{key}" is required', f"add {key} = ..."
    if kind in ("float_type", "int_type") and _beyond_float(given):
        error = too_many_digits(digit_count(given))
        return str(error), error.fix
    if kind in ("float_type", "int_type"):
        return f"expected a number, got {_show(given)}", _number_fix(given)
    if kind == "finite_number":
        return "expected a finite number", "replace NaN or infinity by a number"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {_show(given)}", "write true or false without quotes"
    if kind in ("string_type", "str_type"):
        return f"expected text, got {_show(given)}", "put the value in quotes"
    if kind == "string_too_short":
        return "must not be empty", f"write the {key} in quotes"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return _range_wording(kind, ctx, given, loc)
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = [c.strip(" '") for c in expected.replace(" or ", ", ").split(",")]
        return f"{_show(given)} is not allowed{suggest(str(given), choices)}", f"use one of: {', '.join(choices)}"
    if kind == "union_tag_invalid":
        return (f'unknown curve "{ctx.get("tag")}"{suggest(str(ctx.get("tag")), CURVE_SPECS)}',
                f"use one of: {', '.join(CURVE_SPECS)}")
    if kind == "union_tag_not_found":
        return (f"expected a curve or a rate, got {_show(given)}",
                'write { curve = "exponential", max = ..., scale = ... } or { rate = 0.05, of = "clicks" }')
    if kind == "value_error":
        error = ctx.get("error")
        return str(error or detail["msg"]), getattr(error, "fix", "")
    if kind == "too_short":
        return "needs at least one entry" if key == "campaigns" else detail["msg"], ""
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {_show(given)}", _list_fix(key, given)
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a table of keys, got {_show(given)}", _table_fix(key, given)
    if kind == "string_pattern_mismatch" and key == "currency":
        code = str(given).strip().upper()
        example = f'write "{code}"' if re.fullmatch(r"[A-Z]{3}", code) else 'use an ISO code such as "USD" or "EUR"'
        return f"{_show(given)} is not a currency code (three capital letters)", example
    return detail["msg"], ""


def _unknown_key_wording(key: str, allowed: Iterable[str]) -> tuple[str, str]:
    keys = sorted(allowed)
    close = closest(key, keys)
    if close is not None:
        return f'unknown key "{key}" (did you mean "{close}"?)', f'rename it "{close}" (or remove it)'
    return f'unknown key "{key}"', f"remove it, or use one of: {', '.join(keys)}"


def _number_fix(given: Any) -> str:
    """How to write ``given`` as a number: the fix depends on what was written instead."""
    if isinstance(given, bool):
        return f"write a number: {str(given).lower()} is not one"
    if isinstance(given, str):
        plain = given.strip().replace("_", "")
        for text in (plain, plain.replace(",", "")):
            try:
                float(text)
            except ValueError:
                continue
            if text != plain:
                return f"write {text} without quotes or thousands separators"
            return f"write {text} without quotes"
        return "write a number in digits, without quotes, units or words"
    if isinstance(given, list | tuple | dict):
        return "write a single number"
    return "write a number"


def _list_fix(key: str, given: Any) -> str:
    if key in ("campaigns", "constraints"):
        return f"write each as a [[{key}]] table (a list of tables: [ {{...}}, {{...}} ] in JSON)"
    if isinstance(given, str):
        return f'write a list: ["{given}"]'
    return 'write a list: ["a", "b"]'


def _table_fix(key: str, given: Any) -> str:
    if isinstance(given, list) and given and all(isinstance(item, dict) for item in given):
        return f"write [{key}] with single brackets: [[{key}]] makes a list of tables"
    return f"write {key} = {{ key = value, ... }}" if key else "write { key = value, ... }"


def _range_wording(kind: str, ctx: Mapping[str, Any], given: Any, loc: Sequence[str | int]) -> tuple[str, str]:
    words = {
        "greater_than": "greater than", "greater_than_equal": "at least",
        "less_than": "less than", "less_than_equal": "at most",
    }[kind]
    limit = next(iter(ctx.values()), "")
    shown = f"{limit:g}" if isinstance(limit, float) else str(limit)
    key = str(loc[-1]) if loc else ""
    if kind == "less_than_equal" and limit == 1 and isinstance(given, int | float) and given > 1:
        return (f"{given:g} is above 1, but {key} is a fraction between 0 and 1",
                f"write {given / 100:g} for {given:g}%")
    falls = isinstance(given, int | float) and given <= 0 and kind in ("greater_than", "greater_than_equal")
    if loc and loc[0] in OUTCOMES and key not in ("rate", "se") and falls:
        return (f"must be greater than 0 (got {_show(given)}): a response curve rises with spend",
                f"give {key} a positive value")
    if key == "exponent" and kind == "greater_than_equal":
        return (f"must be at least {shown} (got {_show(given)}): a smaller exponent makes the curve a step at zero",
                "give an exponent between 0.2 and 1, as fitted curves have")
    if key in ("shape", "exponent") and kind == "less_than_equal":
        return (f"must be at most {shown} (got {_show(given)}): a larger {key} makes the curve a step",
                "give an exponent between 0.2 and 1, as fitted curves have" if key == "exponent"
                else "give a shape between 0.5 and 5, as fitted curves have")
    if kind == "greater_than" and limit == 0:
        return f"must be greater than 0 (got {_show(given)})", f"give {key} a positive value" if key else ""
    if kind == "greater_than_equal" and limit == 0:
        return f"must not be negative (got {_show(given)})", f"give {key} a value of 0 or more" if key else ""
    return f"must be {words} {shown} (got {_show(given)})", f"give a value {words} {shown}"


def _beyond_float(value: Any) -> bool:
    """An integer no float holds (a document from the API; files and ``--set`` refuse it on reading)."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if _beyond_float(value):
        return f"a number with {digit_count(value):,} digits"
    if isinstance(value, str):
        return f'"{value}" (text)' if value.strip() else "an empty value"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a table" if not value else f"a table {_short(value)}"
    if isinstance(value, list | tuple):
        return "an empty list" if not value else f"a list {_short(value)}"
    return _short(value)


def _short(value: Any) -> str:
    text = json.dumps(value, default=repr) if isinstance(value, list | tuple | dict) else repr(value)
    return shortened(text)
