"""Load a scenario file: read it, expand the CSV files it points to, apply the chosen
variant and the ``--set`` overrides, and validate the result."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from optimizer.errors import Problem, ScenarioError
from optimizer.glossary import OUTCOMES
from optimizer.scenario.campaign_csv import Row, read_campaign_csv
from optimizer.scenario.checks import Locator
from optimizer.scenario.images import MAX_LOGO_PIXELS, logo_size_problem
from optimizer.scenario.overrides import Override, apply_layers, parse_assignment, variant_overrides
from optimizer.scenario.parse import parse_scenario
from optimizer.scenario.schema import LOGO_SUFFIXES, Campaign, Scenario, given_measures, measure_problem
from optimizer.scenario.sources import (
    LINK_LOOP,
    leads_back,
    parse_json_text,
    read_document,
    read_points_with_lines,
    resolve_inside,
)


class FileLocator(Locator):
    """Names campaigns that came from a CSV file by their file and line."""

    def __init__(self, csv_name: str | None, rows: Sequence[Row]):
        self.csv_name = csv_name
        self.lines = [row.line for row in rows]

    def campaign(self, index: int, campaign: Campaign | None = None) -> str:
        if self.csv_name is None or index >= len(self.lines):
            return super().campaign(index, campaign)
        label = f' "{campaign.name}"' if campaign is not None else ""
        return f"{self.csv_name} line {self.lines[index]}{label}"

    def from_table(self, index: int) -> bool:
        return self.csv_name is not None and index < len(self.lines)


def load_scenario(
    path: str | Path,
    variant: str | None = None,
    overrides: Sequence[str | Override] = (),
    campaigns: str | Path | None = None,
) -> Scenario:
    """Read, override and validate the scenario at ``path`` (TOML or JSON).

    ``variant`` names a table under ``[variants]``; ``overrides`` are ``"key=value"``
    strings as given to ``--set`` (they win over the variant, which wins over the file).
    ``campaigns`` is a campaign CSV to use instead of the file's campaigns: a path the user
    gives, so it is read wherever it is, and the points files it names are read from its folder.
    Raises ``ScenarioError`` listing every problem found.
    """
    path = Path(path)
    document = read_document(path)
    return scenario_from_document(document, path.parent, str(path), variant, overrides, campaigns)


def scenario_from_json(
    text: str | bytes,
    folder: str | Path | None = None,
    source: str = "<json>",
    variant: str | None = None,
    overrides: Sequence[str | Override] = (),
    campaigns: str | Path | None = None,
) -> Scenario:
    """Read, override and validate a scenario sent as JSON text (``tradeoff solve -`` reads stdin so).

    The files it names (a campaign CSV, points files) are read from ``folder``, the current
    directory by default. Problems are reported against ``source`` with their place (a syntax
    error's line and column); empty text and TOML are refused with what to send instead.
    """
    document = parse_json_text(text, source)
    return scenario_from_document(document, folder, source, variant, overrides, campaigns)


def scenario_from_document(
    document: Mapping[str, Any],
    folder: str | Path | None = None,
    source: str = "<document>",
    variant: str | None = None,
    overrides: Sequence[str | Override] = (),
    campaigns: str | Path | None = None,
) -> Scenario:
    """Validate a parsed document (a dict of the file's keys) whose relative file references are inside
    ``folder`` (the current directory by default); problems are reported against ``source``.

    When the file itself (no ``variant`` chosen) has problems, those of each of its variants are
    raised with them, each located in its variant, so that one run lists them all.
    """
    folder = Path.cwd() if folder is None else Path(folder)
    try:
        return _validated(document, folder, source, variant, overrides, campaigns)
    except ScenarioError as error:
        if variant is not None:
            raise
        others = _variant_problems(document, error.problems,
                                   lambda name: _validated(document, folder, source, name, overrides, campaigns))
        if not others:
            raise
        raise ScenarioError([*error.problems, *others], error.source) from None


def _validated(document: Mapping[str, Any], folder: Path, source: str, variant: str | None,
               overrides: Sequence[str | Override], campaigns: str | Path | None) -> Scenario:
    scenario_folder, given = folder, document
    try:
        early: list[Problem] = []
        if campaigns is not None:
            document, csv_name, rows = _given_campaigns(document, Path(campaigns), early)
            folder = Path(campaigns).parent
        else:
            document, csv_name, rows = _expand_campaigns(document, folder, early)
        locator = FileLocator(csv_name, rows)
        read = tuple(early)
        unreadable = {i: set(row.unreadable) for i, row in enumerate(rows) if row.unreadable}
        unread = ("campaigns" in given or campaigns is not None) and "campaigns" not in document
        document, applied = _apply(document, variant, overrides, early, unread)
        point_lines: dict[str, tuple[str, list[int]]] = {}
        document = _resolve_point_files(document, folder, locator, early, unreadable, point_lines)
        document = _resolve_logo(document, scenario_folder, early)
        document = one_measure_each(document, early)
        try:
            return parse_scenario(document, locator, source, early, unreadable)
        except ScenarioError as error:
            problems = [_with_point_lines(p, point_lines) for p in _unread_campaigns(error.problems, unread, read)]
            problems = _with_origins(problems, applied, document, locator, read)
            raise ScenarioError(problems, error.source) from None
    except ScenarioError as error:
        if error.source:
            raise
        raise ScenarioError(error.problems, source) from None


def _variant_problems(document: Mapping[str, Any], known: Sequence[Problem],
                      load: Callable[[str], Scenario]) -> list[Problem]:
    """The problems each variant of ``document`` brings that the file does not have (``known``), located
    in the variant; ``load(name)`` validates the file with variant ``name`` applied."""
    variants = document.get("variants")
    if not isinstance(variants, Mapping):
        return []
    seen = set(known)
    found: list[Problem] = []
    for name, settings in variants.items():
        if not isinstance(name, str) or not isinstance(settings, Mapping):
            continue  # the file's own problems name a variant that is not a table
        try:
            load(name)
        except ScenarioError as error:
            found += [in_variant(name, p) for p in error.problems if p not in seen]
    return found


def in_variant(name: str, problem: Problem) -> Problem:
    """A problem found with variant ``name`` applied, located in that variant."""
    prefix = f'variant "{name}"'
    if problem.location.startswith(prefix):
        return problem
    location = f"{prefix}: {problem.location}" if problem.location else prefix
    return Problem(location, problem.message, problem.fix)


def _resolve_logo(document: dict[str, Any], folder: Path, problems: list[Problem]) -> dict[str, Any]:
    """``report.logo`` found in the scenario's folder and made absolute; a missing one, or one whose header
    says it is not a PNG or JPEG or is too large to draw, is a problem (and left out)."""
    report = document.get("report")
    logo = report.get("logo") if isinstance(report, dict) else None
    if not isinstance(logo, str) or Path(logo).suffix.lower() not in LOGO_SUFFIXES:
        return document  # the schema names a logo of the wrong type or kind
    without_logo = {**document, "report": {k: v for k, v in report.items() if k != "logo"}}
    try:
        path = resolve_inside(folder, logo, "report.logo")
    except ScenarioError as error:
        problems.extend(error.problems)
        return without_logo
    unusable = logo_size_problem(path)
    if unusable is not None:
        problems.append(Problem("report.logo", f'the logo "{logo}" {unusable}: the report cannot read it',
                                f"export the logo as a PNG or JPEG of at most {MAX_LOGO_PIXELS:,} pixels "
                                "(500 x 200 is plenty) and name that file"))
        return without_logo
    return {**document, "report": {**report, "logo": str(path)}}


def one_measure_each(document: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """Each pool given more than one measure reported, and kept with the first it writes: the pool
    still exists for the constraints and campaigns that name it, and its other values are checked."""
    pools = document.get("pools")
    if not isinstance(pools, Mapping):
        return document
    kept = {}
    for name, pool in pools.items():
        problem = measure_problem(pool) if isinstance(pool, Mapping) else None
        if problem is None or len(given_measures(pool)) < 2:
            kept[name] = pool
            continue
        problems.append(Problem(f"pools.{_key(str(name))}", str(problem), problem.fix))
        extra = given_measures(pool)[1:]
        kept[name] = {key: value for key, value in pool.items() if key not in extra}
    return {**document, "pools": kept}


def _key(name: str) -> str:
    """A key as a TOML file writes it: bare, or in quotes when it holds spaces or dots."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name, ensure_ascii=False)


def _expand_campaigns(document: Mapping[str, Any], folder: Path,
                      problems: list[Problem]) -> tuple[dict[str, Any], str | None, list[Row]]:
    campaigns = document.get("campaigns")
    if not isinstance(campaigns, str):
        return dict(document), None, []
    try:
        csv_path = resolve_inside(folder, campaigns, "campaigns")
    except ScenarioError as error:
        return _without_campaigns(document, error, problems)
    return _read_campaigns(document, csv_path, problems)


def _given_campaigns(document: Mapping[str, Any], csv_path: Path,
                     problems: list[Problem]) -> tuple[dict[str, Any], str | None, list[Row]]:
    """The document with its campaigns replaced by those of a CSV given on the command line."""
    if csv_path.is_dir():
        return _without_campaigns(document, ScenarioError([Problem(
            f"--campaigns {csv_path}", "this is a folder, not a file", "give the path of the campaign CSV")]), problems)
    if leads_back(csv_path):
        return _without_campaigns(document, ScenarioError([Problem(
            f"--campaigns {csv_path}", f"the file {LINK_LOOP[0]}", LINK_LOOP[1])]), problems)
    if not csv_path.is_file():
        return _without_campaigns(document, ScenarioError([Problem(
            f"--campaigns {csv_path}", "file not found", "check the path of the campaign CSV")]), problems)
    return _read_campaigns(document, csv_path, problems)


def _read_campaigns(document: Mapping[str, Any], csv_path: Path,
                    problems: list[Problem]) -> tuple[dict[str, Any], str | None, list[Row]]:
    try:
        rows, csv_problems = read_campaign_csv(csv_path)
    except ScenarioError as error:
        return _without_campaigns(document, error, problems)
    problems += csv_problems
    return {**document, "campaigns": [row.campaign for row in rows]}, csv_path.name, rows


def _without_campaigns(document: Mapping[str, Any], error: ScenarioError,
                       problems: list[Problem]) -> tuple[dict[str, Any], str | None, list[Row]]:
    """The document without campaigns, when the campaign file cannot be read: its problem is reported
    and the rest of the file is still checked (``_unread_campaigns`` drops the echo of the gap)."""
    problems += error.problems
    return {key: value for key, value in document.items() if key != "campaigns"}, None, []


def _unread_campaigns(problems: Sequence[Problem], unread: bool, read: Sequence[Problem]) -> list[Problem]:
    """Without the campaigns' absence reported again ("campaigns" is required) when their file was unreadable."""
    if not unread:
        return list(problems)
    return [p for p in problems if p in read or p.location != "campaigns"]


def _resolve_point_files(document: dict[str, Any], folder: Path, locator: Locator, problems: list[Problem],
                         unreadable: dict[int, set[str]],
                         point_lines: dict[str, tuple[str, list[int]]]) -> dict[str, Any]:
    """Tabular points given as a file name, read from the scenario's folder.

    An unreadable points file is reported and its outcome left out, so validation goes on.
    ``point_lines`` receives, per place (``campaigns[0] "A": leads.points``), the file's name
    and the line of each point, so that problems with the points can name their lines.
    """
    campaigns = document.get("campaigns")
    if not isinstance(campaigns, list):
        return document
    resolved = []
    for index, campaign in enumerate(campaigns):
        if not isinstance(campaign, dict):
            resolved.append(campaign)
            continue
        campaign = dict(campaign)
        for outcome in OUTCOMES:
            spec = campaign.get(outcome)
            if isinstance(spec, dict) and isinstance(spec.get("points"), str):
                name = campaign.get("name")
                label = SimpleNamespace(name=name) if isinstance(name, str) else None
                where = f"{locator.campaign(index, label)}: {outcome}.points"  # type: ignore[arg-type]
                try:
                    path = resolve_inside(folder, spec["points"], where)
                    points, lines = read_points_with_lines(path, where)
                    campaign[outcome] = {**spec, "points": points}
                    point_lines[where] = (path.name, lines)
                except ScenarioError as error:
                    problems += error.problems
                    del campaign[outcome]
                    unreadable.setdefault(index, set()).add(outcome)
        resolved.append(campaign)
    return {**document, "campaigns": resolved}


def _apply(document: dict[str, Any], variant: str | None, overrides: Sequence[str | Override],
           problems: list[Problem], unread: bool = False) -> tuple[dict[str, Any], list[Override]]:
    """The document with the variant and the overrides applied, and the overrides that were.

    Problems with the variant's name or a key are added to ``problems``; the rest is applied.
    ``unread``: the campaign file could not be read, so settings of campaigns are left aside.
    """
    layers: list[list[Override]] = []
    if variant is not None:
        layers.append(_variant_layer(document.get("variants"), variant, problems))
    set_layer = []
    for item in overrides:
        try:
            set_layer.append(item if isinstance(item, Override) else parse_assignment(item))
        except ScenarioError as error:
            problems += error.problems
    if set_layer:
        layers.append(set_layer)
    if unread:
        layers = [[o for o in layer if o.path[0] != "campaigns"] for layer in layers]
    if not layers:
        return document, []
    document, override_problems = apply_layers(document, layers)
    problems += override_problems
    refused = {p.location for p in override_problems}
    return document, [o for layer in layers for o in layer if o.source not in refused]


def _variant_layer(variants: Any, name: str, problems: list[Problem]) -> list[Override]:
    """The settings of variant ``name`` as overrides, key by key: a key that cannot be read is added to
    ``problems`` and the variant's other settings still apply (and are checked)."""
    variants = variants if isinstance(variants, Mapping) else {}
    settings = variants.get(name)
    if not isinstance(settings, Mapping):
        try:
            return variant_overrides(variants, name)
        except ScenarioError as error:
            problems += error.problems
            return []
    overrides: list[Override] = []
    for key, value in settings.items():
        try:
            overrides += variant_overrides({name: {key: value}}, name)
        except ScenarioError as error:
            problems += error.problems
    return overrides


def _with_point_lines(problem: Problem, point_lines: Mapping[str, tuple[str, list[int]]]) -> Problem:
    """A problem with points read from a file, with the file's line of each point it names."""
    for place, (name, lines) in point_lines.items():
        if not problem.location.startswith(place):
            continue
        pairs = re.findall(r"\bpoints? (\d+)(?: and (\d+))?", problem.message)
        numbers = [int(number) for pair in pairs for number in pair if number]
        numbers += [int(k) + 1 for k in re.findall(r"points\[(\d+)\]", problem.location)]
        named = [f"point {n} is line {lines[n - 1]}" for n in dict.fromkeys(numbers) if 0 < n <= len(lines)]
        where = f"{name}: {', '.join(named)}" if named else name
        return Problem(problem.location, f"{problem.message} (in {where})", problem.fix)
    return problem


def _with_origins(problems: Sequence[Problem], applied: Sequence[Override], document: Mapping[str, Any],
                  locator: Locator, read: Sequence[Problem] = ()) -> list[Problem]:
    """Problems about a value set by a variant or on the command line say so; those found while reading the
    files (``read``: a CSV cell, a points file) are about what the file says, whatever overrides it."""
    places = {_place_of(o.path, document, locator): o.given_by for o in applied}
    places.pop(None, None)
    annotated = []
    for problem in problems:
        origin = None if problem in read else next(
            (given_by for place, given_by in places.items()
             if problem.location == place or problem.location.startswith((f"{place}.", f"{place}["))), None)
        if origin is not None:
            problem = Problem(problem.location, f"{problem.message} (given by {origin})", problem.fix)
        annotated.append(problem)
    return annotated


def _place_of(path: Sequence[str | int], document: Mapping[str, Any], locator: Locator) -> str | None:
    """The location problems use for the setting at ``path`` (``campaigns[0] "A": spend.max``)."""
    head, rest = path[0], path[1:]
    if head not in ("campaigns", "constraints"):
        return ".".join(str(part) for part in path)
    items = document.get(str(head))
    if not rest or not isinstance(items, list):
        return None
    index = rest[0] if isinstance(rest[0], int) else next(
        (k for k, item in enumerate(items) if isinstance(item, Mapping) and item.get("name") == rest[0]), None)
    if index is None or not 0 <= index < len(items) or not isinstance(items[index], Mapping):
        return None
    name = items[index].get("name")
    label = SimpleNamespace(name=name) if isinstance(name, str) else None
    prefix = (locator.campaign if head == "campaigns" else locator.constraint)(index, label)  # type: ignore[arg-type]
    keys = ".".join(str(part) for part in rest[1:])
    return f"{prefix}: {keys}" if keys else prefix
