"""Turn a raw scenario document (a dict from TOML, JSON or CSV) into a validated ``Scenario``.

Campaigns and constraints are validated one by one, so that a broken campaign does not
hide the problems of the others; every problem found is raised together in one
``ScenarioError``, worded for a strategist: where, what, and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from optimizer.curves import FAMILIES
from optimizer.errors import Problem, ScenarioError
from optimizer.glossary import OUTCOMES
from optimizer.scenario.checks import Locator, check_outcomes, check_scenario, check_unique_names, suggest
from optimizer.scenario.schema import (
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
)

_MODELS: tuple[type[BaseModel], ...] = (
    Scenario, Campaign, SpendSpec, ConstraintSpec, Where, Pool, ObjectiveSpec, BudgetSpec, SolverSpec,
    LinearSpec, ExponentialSpec, HillSpec, PowerSpec, LogSpec, TabularSpec, RateSpec,
)
KNOWN_KEYS = frozenset(name for model in _MODELS for name in model.model_fields)


def parse_scenario(raw: Mapping[str, Any], locator: Locator | None = None, source: str = "") -> Scenario:
    """Validate ``raw`` completely; raise ``ScenarioError`` listing every problem found."""
    locator = locator or Locator()
    if not isinstance(raw, Mapping):
        raise ScenarioError([Problem("", "the scenario must be a table of keys", "start the file with name = ...")],
                            source)
    campaigns, campaign_problems = _validate_items(raw.get("campaigns"), Campaign, locator.campaign)
    constraints, constraint_problems = _validate_items(raw.get("constraints", ()), ConstraintSpec,
                                                       locator.constraint)
    problems = campaign_problems + constraint_problems
    head = {**raw}
    if campaigns is not None:
        head["campaigns"] = tuple(campaigns) if campaigns else raw.get("campaigns")
    if constraints is not None:
        head["constraints"] = tuple(constraints)
    try:
        scenario = Scenario.model_validate(head)
    except ValidationError as error:
        skip = {"campaigns"} if campaign_problems else set()
        skip |= {"constraints"} if constraint_problems else set()
        problems += [p for p in translate(error, "", skip_top=skip)]
        partial = Scenario.model_construct(name="", campaigns=tuple(campaigns or ()))
        problems += list(check_unique_names(partial, locator)) + list(check_outcomes(partial, locator))
        raise ScenarioError(problems, source) from None
    if problems:
        problems += list(check_unique_names(scenario, locator)) + list(check_outcomes(scenario, locator))
        raise ScenarioError(problems, source)
    problems = check_scenario(scenario, locator)
    if problems:
        raise ScenarioError(problems, source)
    return scenario


def _validate_items(items: Any, model: type[BaseModel], locate) -> tuple[list | None, list[Problem]]:
    """Validate each item of a list on its own; ``None`` when ``items`` is not a list."""
    if not isinstance(items, list | tuple):
        return None, []
    valid, problems = [], []
    for index, item in enumerate(items):
        try:
            valid.append(model.model_validate(item))
        except ValidationError as error:
            name = item.get("name") if isinstance(item, Mapping) else None
            label = model.model_construct(name=name) if isinstance(name, str) else None
            problems += translate(error, locate(index, label))
    return valid, problems


def translate(error: ValidationError, prefix: str, skip_top: Iterable[str] = ()) -> list[Problem]:
    """Pydantic errors as ``Problem`` s located under ``prefix`` (``campaigns[2] "Search"``)."""
    problems = []
    skip = set(skip_top)
    for detail in error.errors(include_url=False):
        loc = _clean_location(detail["loc"])
        if loc and loc[0] in skip:
            continue
        path = _dotted(loc)
        location = f"{prefix}: {path}" if prefix and path else prefix or path
        message, fix = _wording(detail, loc)
        problems.append(Problem(location, message, fix))
    return problems


def _clean_location(loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """Drop pydantic's union tags: ``leads.curve.hill.max`` -> ``leads.max``."""
    out: list[str | int] = []
    k = 0
    while k < len(loc):
        item = loc[k]
        after_outcome = bool(out) and out[-1] in OUTCOMES
        if after_outcome and item == "curve" and k + 1 < len(loc) and loc[k + 1] in FAMILIES:
            k += 2
            continue
        if after_outcome and item == "rate" and k + 1 < len(loc):
            k += 1
            continue
        out.append(item)
        k += 1
    return tuple(out)


def _dotted(loc: Sequence[str | int]) -> str:
    text = ""
    for item in loc:
        text += f"[{item}]" if isinstance(item, int) else (f".{item}" if text else str(item))
    return text


def _wording(detail: Mapping[str, Any], loc: Sequence[str | int]) -> tuple[str, str]:
    kind = detail["type"]
    given = detail.get("input")
    ctx = detail.get("ctx") or {}
    key = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        return f'unknown key "{key}"{suggest(key, KNOWN_KEYS)}', "remove it or correct its spelling"
    if kind == "missing":
        return f'"{key}" is required', f"add {key} = ..."
    if kind in ("float_type", "int_type"):
        return f"expected a number, got {_show(given)}", "write the number without quotes"
    if kind == "finite_number":
        return "expected a finite number", "replace NaN or infinity by a number"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {_show(given)}", "write true or false without quotes"
    if kind in ("string_type", "str_type"):
        return f"expected text, got {_show(given)}", "put the value in quotes"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return _range_wording(kind, ctx, given)
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = [c.strip(" '") for c in expected.replace(" or ", ", ").split(",")]
        return f"{_show(given)} is not allowed{suggest(str(given), choices)}", f"use one of: {expected}"
    if kind == "union_tag_invalid":
        return (f'unknown curve "{ctx.get("tag")}"{suggest(str(ctx.get("tag")), FAMILIES)}',
                f"use one of: {', '.join(FAMILIES)}")
    if kind == "union_tag_not_found":
        return (f"expected a curve or a rate, got {_show(given)}",
                'write { curve = "exponential", max = ..., scale = ... } or { rate = 0.05, of = "clicks" }')
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"])), ""
    if kind == "too_short":
        return "needs at least one entry" if key == "campaigns" else detail["msg"], ""
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {_show(given)}", 'write a list: ["a", "b"]'
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a table of keys, got {_show(given)}", "write { key = value, ... }"
    if kind == "string_pattern_mismatch" and key == "currency":
        return f"{_show(given)} is not a currency code", 'use an ISO code such as "USD", "EUR" or "GBP"'
    return detail["msg"], ""


def _range_wording(kind: str, ctx: Mapping[str, Any], given: Any) -> tuple[str, str]:
    words = {
        "greater_than": "greater than", "greater_than_equal": "at least",
        "less_than": "less than", "less_than_equal": "at most",
    }[kind]
    limit = next(iter(ctx.values()), "")
    return f"must be {words} {limit} (got {_show(given)})", f"give a value {words} {limit}"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}" (text)' if value.strip() else "an empty value"
    if isinstance(value, bool):
        return str(value).lower()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
