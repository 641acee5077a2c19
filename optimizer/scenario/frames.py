"""Build a ``Scenario`` from pandas DataFrames, for planning tools that hold campaigns in tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optimizer.scenario.campaign_csv import check_columns, unflatten, unreadable_keys
from optimizer.scenario.checks import Locator
from optimizer.scenario.loading import one_measure_each
from optimizer.scenario.parse import parse_scenario
from optimizer.scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd


def scenario_from_frames(campaigns: pd.DataFrame, constraints: pd.DataFrame | None = None,
                         **settings: Any) -> Scenario:
    """A scenario whose campaigns are the rows of ``campaigns`` (columns as in the campaign CSV).

    ``constraints`` (optional) has columns ``kpi, min, max, name`` and ``where.stage``,
    ``where.channel``, ``where.tag``, ``where.name``; ``settings`` are the other top-level
    keys (``name``, ``budget``, ``pools``, ``objective``, ...) as dicts.
    """
    problems = check_columns([str(c) for c in campaigns.columns], "campaigns")
    rows, unreadable = [], {}
    for position, record in enumerate(campaigns.to_dict(orient="records")):
        name = record.get("name")
        label = f' "{name}"' if isinstance(name, str) and name.strip() else ""
        campaign, cell_problems, bad = unflatten(record, f"campaigns row {position}{label}")
        problems += cell_problems
        if bad:
            unreadable[position] = unreadable_keys(bad)
        rows.append(campaign)
    document = one_measure_each({**settings, "campaigns": rows}, problems)
    if constraints is not None:
        document["constraints"] = [_constraint(record) for record in constraints.to_dict(orient="records")]
    return parse_scenario(document, Locator(), "DataFrames", problems, unreadable)


def _constraint(record: dict[str, Any]) -> dict[str, Any]:
    constraint: dict[str, Any] = {}
    for column, value in record.items():
        if value is None or (isinstance(value, float) and value != value):
            continue
        head, _, key = str(column).partition(".")
        if key:
            constraint.setdefault(head, {})[key] = value
        else:
            constraint[head] = value.item() if hasattr(value, "item") else value
    return constraint


__all__ = ["scenario_from_frames"]
