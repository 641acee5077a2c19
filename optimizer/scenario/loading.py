"""Load a scenario file: read it, expand the CSV files it points to, apply the chosen
variant and the ``--set`` overrides, and validate the result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from optimizer.errors import Problem, ScenarioError
from optimizer.glossary import OUTCOMES
from optimizer.scenario.campaign_csv import Row, read_campaign_csv
from optimizer.scenario.checks import Locator
from optimizer.scenario.overrides import Override, apply_overrides, parse_assignment, variant_overrides
from optimizer.scenario.parse import parse_scenario
from optimizer.scenario.schema import Campaign, Scenario
from optimizer.scenario.sources import read_document, read_points, resolve_inside


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


def load_scenario(
    path: str | Path,
    variant: str | None = None,
    overrides: Sequence[str | Override] = (),
) -> Scenario:
    """Read, override and validate the scenario at ``path`` (TOML or JSON).

    ``variant`` names a table under ``[variants]``; ``overrides`` are ``"key=value"``
    strings as given to ``--set`` (they win over the variant, which wins over the file).
    Raises ``ScenarioError`` listing every problem found.
    """
    path = Path(path)
    document = read_document(path)
    return scenario_from_document(document, path.parent, str(path), variant, overrides)


def scenario_from_document(
    document: Mapping[str, Any],
    folder: Path,
    source: str,
    variant: str | None = None,
    overrides: Sequence[str | Override] = (),
) -> Scenario:
    """Validate a parsed document whose relative file references are inside ``folder``."""
    try:
        early: list[Problem] = []
        document, csv_name, rows = _expand_campaigns(document, folder, early)
        locator = FileLocator(csv_name, rows)
        unreadable = {i: set(row.unreadable) for i, row in enumerate(rows) if row.unreadable}
        document = _apply(document, variant, overrides)
        document = _resolve_point_files(document, folder, locator, early, unreadable)
        return parse_scenario(document, locator, source, early, unreadable)
    except ScenarioError as error:
        if error.source:
            raise
        raise ScenarioError(error.problems, source) from None


def _expand_campaigns(document: Mapping[str, Any], folder: Path,
                      problems: list[Problem]) -> tuple[dict[str, Any], str | None, list[Row]]:
    campaigns = document.get("campaigns")
    if not isinstance(campaigns, str):
        return dict(document), None, []
    csv_path = resolve_inside(folder, campaigns, "campaigns")
    rows, csv_problems = read_campaign_csv(csv_path)
    problems += csv_problems
    return {**document, "campaigns": [row.campaign for row in rows]}, csv_path.name, rows


def _resolve_point_files(document: dict[str, Any], folder: Path, locator: Locator, problems: list[Problem],
                         unreadable: dict[int, set[str]]) -> dict[str, Any]:
    """Tabular points given as a file name, read from the scenario's folder.

    An unreadable points file is reported and its outcome left out, so validation goes on.
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
                    points = read_points(resolve_inside(folder, spec["points"], where), where)
                    campaign[outcome] = {**spec, "points": points}
                except ScenarioError as error:
                    problems += error.problems
                    del campaign[outcome]
                    unreadable.setdefault(index, set()).add(outcome)
        resolved.append(campaign)
    return {**document, "campaigns": resolved}


def _apply(document: dict[str, Any], variant: str | None, overrides: Sequence[str | Override]) -> dict[str, Any]:
    layers: list[list[Override]] = []
    if variant is not None:
        variants = document.get("variants") or {}
        layers.append(variant_overrides(variants if isinstance(variants, Mapping) else {}, variant))
    set_layer = [o if isinstance(o, Override) else parse_assignment(o) for o in overrides]
    if set_layer:
        layers.append(set_layer)
    return apply_overrides(document, layers) if layers else document
