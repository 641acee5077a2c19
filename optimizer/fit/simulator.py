"""A bid or budget simulator's estimates as tabular curves, put in place of a fitted history's.

A search campaign's bid or budget simulator (Google Ads) estimates what the last 7 days would
have cost and brought (impressions, clicks, conversions) at each bid or budget level. The export
is read as a history export is (``exports.read_history``: the header found below title lines,
the usual spellings and the ``Est. ...`` ones, currency symbols, thousands separators, ``--``);
each campaign's levels become, per outcome, ``(spend, value)`` points sorted by spend. Levels
with the same spend are averaged, and noted. An estimate that falls as spend rises is refused,
naming both lines: a response curve never falls, and smoothing the export's noise away here
would hide it. ``with_simulator`` writes the points as tabular curves in place of the history's
fits; the history's rates further down the funnel (leads as a rate of clicks) apply to them,
and a campaign the history lacks is added on its own. The estimates are for 7 days, so the
history's periods should be weeks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from optimizer.errors import Problem, ScenarioError
from optimizer.fit.exports import read_history
from optimizer.fit.report import CampaignFit, Fit, FitReport, RateFit, TableFit
from optimizer.formatting import money
from optimizer.glossary import OUTCOMES
from optimizer.scenario.checks import closest

CHANNEL, STAGE = "search", "conversion"
"""The channel and stage of a campaign the simulator has and the history does not."""
_NEAR_MISS = 0.9
"""How alike two names must be to suggest they are one campaign ("Search: brand" and "Search: non-brand"
score 0.87: two campaigns)."""
_FAR = 2.0
"""A simulator whose spend lies this many times beyond the history's range (either way) is noted:
its 7 days may be set against a history of months."""


@dataclass(frozen=True)
class Simulator:
    """A simulator export, read: each campaign's points per outcome, and what was done to them."""

    source: str
    """The file's name."""
    tables: dict[str, dict[str, TableFit]]
    """Campaign -> outcome -> its points, outcomes in funnel order; an outcome with fewer than two
    points, or one that never rises, is left out (and noted)."""
    notes: dict[str, tuple[str, ...]]
    """Campaign -> levels averaged and outcomes left out."""
    set_aside: tuple[Problem, ...] = ()
    """Summary rows (``Total: ...``) not read."""


@dataclass(frozen=True)
class _Where:
    """An outcome's estimates in the file: the file's name, the campaign, and the column's header."""

    file: str
    campaign: str
    column: str


@dataclass(frozen=True)
class _Point:
    spend: float
    value: float
    lines: tuple[int, ...]
    """The file's lines it was read from (more than one when levels with the same spend were averaged)."""


def read_simulator(path: Path | str, mapping: Mapping[str, str] | None = None) -> Simulator:
    """The bid or budget simulator export in ``path``: per campaign, per outcome, its points.

    ``mapping`` names the header to read a column from (``{"spend": "Est. cost (converted)"}``),
    over the usual spellings; a ``Bid``, ``Max. CPC`` or ``Budget`` column is not needed. Raises
    ``ScenarioError`` naming every unreadable cell, and every estimate below the one before it.
    """
    path = Path(path)
    read = read_history(path, mapping)
    outcomes = [outcome for outcome in OUTCOMES if outcome in read.frame]
    if not outcomes:
        raise ScenarioError([Problem(path.name, "no estimates were found (impressions, clicks or conversions)",
                                     'export the simulator with its Est. impr., Est. clicks or Est. conversions '
                                     'columns, or name one with --map (e.g. --map clicks="Est. clicks")')])
    tables: dict[str, dict[str, TableFit]] = {}
    notes: dict[str, tuple[str, ...]] = {}
    problems: list[Problem] = []
    for name, rows in read.frame.groupby("campaign", sort=False):
        campaign, campaign_notes = str(name), []
        tables[campaign] = {}
        for outcome in outcomes:
            where = _Where(path.name, campaign, read.sources[outcome])
            table, found = _table(rows, outcome, where, campaign_notes)
            problems += found
            if table is not None:
                tables[campaign][outcome] = table
        notes[campaign] = tuple(campaign_notes)
    if problems:
        raise ScenarioError(problems)
    return Simulator(path.name, tables, notes, read.set_aside)


def _table(rows: pd.DataFrame, outcome: str, where: _Where,
           notes: list[str]) -> tuple[TableFit | None, list[Problem]]:
    """One campaign's points for ``outcome`` (its ``rows``), or None, with a note added to ``notes``
    or the problems found, when they make no curve."""
    points = _points(rows, outcome)
    notes += [f"{outcome}: {_lines(p.lines)} estimate the same spend ({money(p.spend)}): their mean, "
              f"{p.value:,.6g}, kept" for p in points if len(p.lines) > 1]
    problems = list(_falls(points, where))
    if problems:
        return None, problems
    if len(points) < 2:
        notes.append(f"{outcome}: {len(points)} estimate{'' if len(points) == 1 else 's'} (2 or more are needed): "
                     "left out")
        return None, []
    if points[-1].value == points[0].value:
        notes.append(f"{outcome}: every estimate is {points[0].value:,.6g}, so spend buys none: left out")
        return None, []
    lines = [line for point in points for line in point.lines]
    source = f"{where.file} lines {min(lines)}-{max(lines)}"
    return TableFit(tuple((p.spend, p.value) for p in points), source), []


def _points(rows: pd.DataFrame, outcome: str) -> list[_Point]:
    """The rows with an estimate of ``outcome``, by spend; rows with the same spend as one point, their mean."""
    known = rows[rows[outcome].notna()]
    return [_Point(float(spend), float(level[outcome].mean()), tuple(int(line) for line in level["line"]))
            for spend, level in known.groupby("spend", sort=True)]


def _falls(points: list[_Point], where: _Where) -> Iterable[Problem]:
    """A problem for each point whose estimate is below the previous point's."""
    for before, point in zip(points, points[1:], strict=False):
        if point.value < before.value:
            yield Problem(f"{where.file} {_lines(point.lines)}, column '{where.column}'",
                          f"{where.campaign}: the estimate {point.value:,.6g} at {money(point.spend)} is below "
                          f"{before.value:,.6g} at {money(before.spend)} ({_lines(before.lines)}), but an "
                          "estimate never falls as spend rises",
                          "check the export; each point's estimate must be at least the previous one's")


def _lines(lines: tuple[int, ...]) -> str:
    """``line 5``, ``lines 5 and 9``, ``lines 5, 7 and 9``."""
    if len(lines) == 1:
        return f"line {lines[0]}"
    return f"lines {', '.join(map(str, lines[:-1]))} and {lines[-1]}"


def with_simulator(report: FitReport, simulator: Simulator) -> FitReport:
    """``report`` with the simulator's points in place of the history's fits.

    For each campaign the simulator has, each outcome it estimates becomes a tabular curve; the
    history's fits of the others are kept (a rate, such as leads of clicks, then applies to the
    simulator's clicks). A campaign the history lacks (or could not fit) is added on its own:
    channel ``CHANNEL``, stage ``STAGE``, today's spend 0 and no observed range, with notes
    saying so. Names match after stripping whitespace; a near miss is noted, not matched.
    """
    by_name = {campaign.name.strip(): campaign for campaign in report.campaigns}
    campaigns = [_merged(campaign, simulator) if campaign.name.strip() in simulator.tables else campaign
                 for campaign in report.campaigns]
    unfitted = dict(report.unfitted)
    for name in simulator.tables:
        if name.strip() in by_name:
            continue
        added = _simulator_only(name, simulator, by_name, _pop_stripped(unfitted, name))
        if added.outcomes:
            campaigns.append(added)
        else:
            unfitted[name] = "; ".join(added.notes)
    return FitReport(tuple(campaigns), tuple(unfitted.items()))


def _pop_stripped(unfitted: dict[str, str], name: str) -> str | None:
    """Why the history could not fit ``name`` (taken out of ``unfitted``), or None when it was not there."""
    key = next((key for key in unfitted if key.strip() == name.strip()), None)
    return unfitted.pop(key) if key is not None else None


def _merged(campaign: CampaignFit, simulator: Simulator) -> CampaignFit:
    """A history's campaign with the simulator's points in place of its fits of the same outcomes."""
    name = campaign.name.strip()
    tables = simulator.tables[name]
    # A history's rate rests on an earlier outcome of its funnel, which the merged funnel keeps (as
    # the history's fit or the simulator's points), so every kept rate still has what it is a rate of.
    outcomes: dict[str, Fit] = {outcome: tables[outcome] if outcome in tables else campaign.outcomes[outcome]
                                for outcome in OUTCOMES if outcome in tables or outcome in campaign.outcomes}
    notes = [*campaign.notes, *simulator.notes[name], *_table_notes(tables)]
    notes += [f"{outcome}: the history's rate of {fitted.of}, applied to the simulator's {fitted.of}"
              for outcome, fitted in outcomes.items()
              if isinstance(fitted, RateFit) and isinstance(outcomes.get(fitted.of), TableFit)]
    notes += _scale_notes(campaign.observed, tables)
    return CampaignFit(campaign.name, campaign.channel, campaign.stage, campaign.current_spend, campaign.observed,
                       outcomes, tuple(notes))


def _simulator_only(name: str, simulator: Simulator, history: Mapping[str, CampaignFit],
                    unfitted: str | None) -> CampaignFit:
    """A campaign of the simulator's alone (``unfitted``: why the history could not fit it, if it has it)."""
    assumed = f"channel {CHANNEL} and stage {STAGE} assumed"
    notes = [f"not fitted from the history ({unfitted}): from the simulator alone, {assumed}" if unfitted else
             f"not in the history: a campaign of its own from the simulator, {assumed}"]
    near = closest(name, history, cutoff=_NEAR_MISS)
    if near is not None and unfitted is None:
        notes.append(f'the history has "{near}": if it is the same campaign, give it the same name in both files')
    notes.append("today's spend: 0, as the simulator gives none (set spend.current to its spend for 7 days)")
    notes += [*simulator.notes[name], *_table_notes(simulator.tables[name])]
    return CampaignFit(name, CHANNEL, STAGE, 0.0, None, dict(simulator.tables[name]), tuple(notes))


def _table_notes(tables: Mapping[str, TableFit]) -> list[str]:
    """Which outcomes are the simulator's points, where they were read, and the spend they end at."""
    if not tables:
        return []
    sources = "; ".join(sorted({table.source for table in tables.values()}))
    end = min(table.points[-1][0] for table in tables.values())
    return [f"{', '.join(tables)}: the simulator's points ({sources}: estimates for 7 days); the curve ends at "
            f"{money(end)}, so spend is capped there"]


def _scale_notes(observed: tuple[float, float] | None, tables: Mapping[str, TableFit]) -> list[str]:
    """A note when the simulator's spend is far from the history's: a history of months, not weeks?"""
    if observed is None or not tables:
        return []
    low, high = observed
    first = min(table.points[0][0] for table in tables.values())
    last = max(table.points[-1][0] for table in tables.values())
    if first <= high * _FAR and last >= low / _FAR:
        return []
    return [f"the simulator's spend ({money(first)}-{money(last)}) is far from the history's ({money(low)}-"
            f"{money(high)} a period): its estimates are for 7 days; are the history's periods weeks?"]
