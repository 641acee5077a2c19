"""Variants and ``--set`` overrides: dotted keys applied to a scenario document.

Precedence, lowest to highest: defaults, the file, the chosen variant, ``--set``. Within one
layer a key may be set once (setting a key and one of its parents also counts as twice).

Keys are dotted paths into the document: ``budget.total``, ``pools.search.competitor_impressions``,
``campaigns."Search: brand".spend.max`` (a campaign by name, quoted when it holds dots or
spaces) or ``campaigns[2].spend.max`` (by position); constraints likewise, by ``name`` or
position. Values are TOML values (``300_000``, ``true``, ``"text"``, ``[1, 2]``); a bare word
is taken as text, so ``--set objective.maximize=mqls`` works.
"""

from __future__ import annotations

import copy
import datetime
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optimizer.errors import Problem, ScenarioError, shortened
from optimizer.scenario.campaign_csv import OUTCOME_KEYS
from optimizer.scenario.checks import suggest
from optimizer.scenario.limits import InputTooLarge, parse_limited_toml
from optimizer.scenario.schema import Scenario, nesting

Segment = str | int


@dataclass(frozen=True)
class Override:
    """One key set to one value, and where the setting came from."""

    path: tuple[Segment, ...]
    value: Any
    source: str
    origin: str = ""

    @property
    def key(self) -> str:
        return format_key(self.path)

    @property
    def given_by(self) -> str:
        """Where the value was given, without the key: ``--set``, ``variant "stretch"``, ``--budget``."""
        return self.origin or self.source


def parse_key(key: str) -> tuple[Segment, ...]:
    """``campaigns."Search: brand".spend.max`` -> ``("campaigns", "Search: brand", "spend", "max")``.

    Parts are separated by dots; a part in double quotes may hold dots and spaces; ``[2]``
    is a position in a list.
    """
    segments: list[Segment] = []
    k = 0
    while k < len(key):
        if key[k] == '"':
            end = key.find('"', k + 1)
            if end < 0:
                raise ValueError(f'"{key}": a quote is not closed')
            segments.append(key[k + 1:end])
            k = end + 1
        elif key[k] == "[":
            end = key.find("]", k)
            if end < 0 or not key[k + 1:end].strip().isdigit():
                raise ValueError(f'"{key}": a position is written [0], [1], ...')
            segments.append(int(key[k + 1:end]))
            k = end + 1
        else:
            text = re.match(r'[^.\["]*', key[k:]).group()  # type: ignore[union-attr]
            if not text.strip():
                raise ValueError(f'"{key}" has an empty part; write keys like budget.total')
            segments.append(text.strip())
            k += len(text)
        if k < len(key):
            if key[k] == ".":
                k += 1
                if k == len(key):
                    raise ValueError(f'"{key}" ends with a dot')
            elif key[k] != "[":
                raise ValueError(f'"{key}": expected a dot after {format_key(segments[-1:])}')
    if not segments:
        raise ValueError("the key is empty")
    return tuple(segments)


def format_key(path: Sequence[Segment]) -> str:
    """The inverse of ``parse_key``."""
    text = ""
    for segment in path:
        if isinstance(segment, int):
            text += f"[{segment}]"
        else:
            part = segment if segment.replace("_", "").isalnum() else '"' + segment + '"'
            text += f".{part}" if text else part
    return text


def parse_value(text: str) -> Any:
    """A ``--set`` value: a TOML value when it parses as one, else the text itself.

    Raises ``InputTooLarge`` for lists nested far deeper than a scenario's, or an integer beyond a float.
    """
    try:
        value = parse_limited_toml(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text.strip()
    return text.strip() if isinstance(value, datetime.date | datetime.time) else value


def parse_assignment(text: str) -> Override:
    """``"budget.total=300000"`` -> an ``Override`` from ``--set``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError([Problem(f"--set {_clipped(text)}", "expected KEY=VALUE",
                                     "write --set budget.total=300000")])
    try:
        path = parse_key(key.strip())
    except ValueError as error:
        raise ScenarioError([Problem(f"--set {_clipped(text)}", str(error), 'write the key as in budget.total or '
                                     'campaigns."Search: brand".spend.max')]) from None
    try:
        parsed = parse_value(value)
    except InputTooLarge as error:
        raise ScenarioError([Problem(f"--set {_clipped(key.strip())}", str(error), error.fix)]) from None
    return Override(path, parsed, f"--set {key.strip()}", "--set")


def _clipped(text: str) -> str:
    """Command-line text for a message, cut short (a value may be megabytes long)."""
    return shortened(text, 80)


def variant_overrides(variants: Mapping[str, Any], name: str) -> list[Override]:
    """The settings of variant ``name`` as overrides."""
    if name not in variants:
        known = ", ".join(variants) or "none defined"
        raise ScenarioError([Problem(
            f"--variant {name}", f'no variant named "{name}"{suggest(name, variants)}', f"use one of: {known}"
        )])
    settings = variants[name]
    if not isinstance(settings, Mapping):
        raise ScenarioError([Problem(f"variants.{name}", "a variant is a table of key = value",
                                     f'write [variants.{name}] followed by lines such as "budget.total" = 300_000')])
    overrides, problems = [], []
    for key, value in settings.items():
        try:
            path = parse_key(key)
        except ValueError as error:
            problems.append(Problem(f"variants.{name}", str(error),
                                    'write the key as in "budget.total" or \'campaigns."Search: brand".spend.max\''))
            continue
        for leaf, leaf_value in _leaves(path, value):
            overrides.append(Override(leaf, leaf_value, f'variant "{name}": {format_key(leaf)}', f'variant "{name}"'))
    if problems:
        raise ScenarioError(problems)
    return overrides


def _leaves(path: tuple[Segment, ...], value: Any) -> list[tuple[tuple[Segment, ...], Any]]:
    """A nested table as dotted keys: TOML reads ``budget.total = 1`` as ``{budget: {total: 1}}``.

    A curve or rate (a table with ``curve`` or ``rate``) stays whole: it replaces the outcome.
    """
    if not isinstance(value, Mapping) or "curve" in value or "rate" in value or not value:
        return [(path, value)]
    return [leaf for key, sub in value.items() for leaf in _leaves((*path, key), sub)]


def apply_overrides(document: Mapping[str, Any], layers: Sequence[Sequence[Override]]) -> dict[str, Any]:
    """A copy of ``document`` with each layer of overrides applied in turn (``ScenarioError`` on a bad key)."""
    result, problems = apply_layers(document, layers)
    if problems:
        raise ScenarioError(problems)
    return result


def apply_layers(document: Mapping[str, Any],
                 layers: Sequence[Sequence[Override]]) -> tuple[dict[str, Any], list[Problem]]:
    """A copy of ``document`` with every override that can be applied, and a problem for each other one.

    A key that names no setting is reported and skipped, so that the rest of the scenario can
    still be validated and every problem reported at once.
    """
    result = copy.deepcopy(dict(document))
    problems: list[Problem] = []
    for layer in layers:
        problems += _layer_conflicts(layer, result)
        for override in layer:
            problem = check_key(override) or _set(result, override)
            if problem is not None:
                problems.append(problem)
    return result, problems


def _layer_conflicts(layer: Sequence[Override], document: Mapping[str, Any]) -> list[Problem]:
    """Keys set twice in one layer, with campaigns and constraints compared by position."""
    problems = []
    paths = [_by_position(o.path, document) for o in layer]
    for k, first in enumerate(layer):
        for m in range(k + 1, len(layer)):
            second = layer[m]
            shorter, longer = sorted((paths[k], paths[m]), key=len)
            if longer[: len(shorter)] == shorter:
                problems.append(Problem(
                    second.source,
                    f"{format_key(shorter)} is already set in the same layer by {first.source}",
                    "set each key once",
                ))
    return problems


def _by_position(path: tuple[Segment, ...], document: Mapping[str, Any]) -> tuple[Segment, ...]:
    """``campaigns."Search".spend`` as ``campaigns[3].spend`` when a campaign has that name."""
    if len(path) < 2 or path[0] not in ("campaigns", "constraints") or not isinstance(path[1], str):
        return path
    items = document.get(str(path[0]))
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, Mapping) and item.get("name") == path[1]:
                return (path[0], index, *path[2:])
    return path


def check_key(override: Override) -> Problem | None:
    """A problem when the key names no setting of the scenario schema."""
    path = override.path
    model: type | None = Scenario
    fields: Any = Scenario.model_fields
    depth = 0
    while depth < len(path):
        segment = path[depth]
        if not isinstance(segment, str) or segment not in fields:
            return _unknown(override, segment, fields, depth)
        kind, child = nesting(model, segment) if model is not None else ("value", None)
        if kind == "model":
            model, fields, depth = child, child.model_fields, depth + 1
        elif kind in ("map", "list"):
            model, fields, depth = child, child.model_fields, depth + 2
        elif kind == "outcome":
            model, fields, depth = None, OUTCOME_KEYS, depth + 1
        else:
            depth += 1
            if depth < len(path):
                return Problem(override.source, f"{format_key(path[:depth])} has no keys below it",
                               f"set {format_key(path[:depth])} itself")
    return None


def _unknown(override: Override, segment: Segment, fields: Any, depth: int) -> Problem:
    where = format_key(override.path[:depth]) or "the scenario"
    return Problem(
        override.source,
        f'{where} has no key "{segment}"{suggest(str(segment), list(fields))}',
        f"use one of: {', '.join(sorted(fields))}",
    )


def _set(document: dict[str, Any], override: Override) -> Problem | None:
    node: Any = document
    path = override.path
    for depth, segment in enumerate(path[:-1]):
        if depth == 0 and segment in ("campaigns", "constraints"):
            node = _select_item(node.get(segment), path[1], str(segment), override)
            if isinstance(node, Problem):
                return node
            continue
        if depth == 1 and path[0] in ("campaigns", "constraints"):
            continue
        child = node.get(segment)
        if child is None:
            child = node[segment] = {}
        if not isinstance(child, dict):
            return Problem(override.source, f"{format_key(path[: depth + 1])} is not a table",
                           f"set {format_key(path[: depth + 1])} itself")
        node = child
    if len(path) == 2 and path[0] in ("campaigns", "constraints"):
        return Problem(override.source, "an item cannot be replaced whole",
                       f"name a key of the item, such as {format_key(path)}."
                       + ("spend.max" if path[0] == "campaigns" else "max"))
    node[path[-1]] = override.value
    return None


def _select_item(items: Any, selector: Segment, kind: str, override: Override) -> Any:
    if not isinstance(items, list):
        return Problem(override.source, f"the scenario has no {kind} to change", f"add {kind} to the file first")
    if isinstance(selector, int):
        if 0 <= selector < len(items) and isinstance(items[selector], dict):
            return items[selector]
        return Problem(override.source, f"there is no {kind}[{selector}] ({len(items)} defined)",
                       f"give a position from 0 to {len(items) - 1}" if items else f"add {kind} to the file first")
    names = [item.get("name") for item in items if isinstance(item, dict)]
    for item in items:
        if isinstance(item, dict) and item.get("name") == selector:
            return item
    singular = kind.rstrip("s")
    known = [n for n in names if isinstance(n, str)]
    listed = ", ".join(f'"{n}"' for n in known[:8]) + (", ..." if len(known) > 8 else "")
    return Problem(
        override.source,
        f'no {singular} named "{selector}"{suggest(str(selector), known)}',
        f"use one of: {listed}, or select by position: {kind}[0]" if known else f"select by position: {kind}[0]",
    )
