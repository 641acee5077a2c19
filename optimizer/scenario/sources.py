"""Reading scenario documents: TOML and JSON files, and the files they point to.

Scenario files are data, never code. A file may point to CSV files (campaigns, simulator
points) only inside its own folder: scenarios come from clients, and a file must never make
the tool read elsewhere. Paths the user types on the command line are not restricted.
"""

from __future__ import annotations

import csv
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any

from optimizer.errors import Problem, ScenarioError


def read_document(path: Path) -> dict[str, Any]:
    """The scenario at ``path`` as a dict; TOML or JSON by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ScenarioError(
            [Problem(str(path), f'unknown scenario format "{suffix or "(none)"}"', "use a .toml or .json file")]
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError([Problem(str(path), "file not found", "check the path")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError([Problem(str(path), f"cannot read the file: {error}", "check the file")]) from None
    return parse_document(text, "json" if suffix == ".json" else "toml", str(path))


def parse_document(text: str, kind: str, source: str) -> dict[str, Any]:
    """Parse TOML or JSON text; syntax errors are reported with their line and column."""
    if kind == "json":
        try:
            document = json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as error:
            raise ScenarioError(
                [Problem(f"line {error.lineno}, column {error.colno}", f"invalid JSON: {error.msg}",
                         "fix the syntax at that place")],
                source,
            ) from None
        except ValueError as error:
            raise ScenarioError([Problem("", str(error), "use numbers or null")], source) from None
    else:
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            message = str(error)
            place = re.search(r"\(at line (\d+), column (\d+)\)", message)
            location = f"line {place[1]}, column {place[2]}" if place else ""
            message = message[: place.start()].strip() if place else message
            raise ScenarioError([Problem(location, f"invalid TOML: {message}", "fix the syntax at that place")],
                                source) from None
    if not isinstance(document, dict):
        raise ScenarioError([Problem("", "the document must be a table (a JSON object)", "wrap it in { }")], source)
    return document


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in a scenario")


def resolve_inside(folder: Path, relative: str, what: str) -> Path:
    """``folder / relative``, refusing absolute paths and paths that leave ``folder``."""
    candidate = Path(relative)
    resolved = (folder / candidate).resolve()
    if candidate.is_absolute() or not resolved.is_relative_to(folder.resolve()):
        raise ScenarioError([
            Problem(
                what,
                f'"{relative}" is outside the scenario\'s folder',
                "put the file beside the scenario (or in a folder below it) and give its relative path",
            )
        ])
    if not resolved.is_file():
        raise ScenarioError([Problem(what, f'file "{relative}" not found in {folder}', "check the name")])
    return resolved


def read_points(path: Path, what: str) -> list[list[float]]:
    """Simulator points ``[spend, outcome]`` from a two-column CSV (a header row is optional)."""
    points: list[list[float]] = []
    problems: list[Problem] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            cells = [c.strip() for c in row if c.strip()]
            if not cells:
                continue
            numbers = [_number(c) for c in cells]
            if line == 1 and any(n is None for n in numbers):
                continue
            if len(cells) != 2 or any(n is None or not math.isfinite(n) for n in numbers):
                problems.append(Problem(f"{path.name} line {line}", f"expected two numbers, got {row}",
                                        "write one spend,outcome pair per line"))
                continue
            points.append([float(n) for n in numbers])  # type: ignore[arg-type]
    if problems:
        raise ScenarioError(problems, what)
    return points


def _number(text: str) -> float | None:
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return None
