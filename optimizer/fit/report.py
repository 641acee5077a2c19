"""Every campaign of a history fitted along its funnel, written as the scenario's campaign rows.

For each campaign, the first outcome of the funnel the history has (impressions, else clicks,
else leads, ...) is fitted against spend in every curve family (``families.best_fit``). Each
later outcome is a rate of the one before it (CTR, CVR, lead-to-MQL) when the data say the
ratio is flat, that is when its slope against spend is not two standard errors from zero; the
rate comes with its 95% confidence interval. Otherwise it gets a curve of its own against spend.
Curves are per the history's period (a week for weekly rows), and today's spend is the mean of
the last four periods (by date when every period reads as one, else in the file's order).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.fit.families import CurveFit, best_fit
from optimizer.glossary import OUTCOMES
from optimizer.scenario.schema import STAGES

_RECENT = 4
_FEWEST = 4
"""Periods an outcome needs to be fitted (a curve's two or three parameters, and one to spare)."""
_Z95 = 1.96
_FLAT = 2.0
"""A ratio whose slope against spend is within this many standard errors of zero is flat."""
_DEFAULT_STAGE = "conversion"


@dataclass(frozen=True)
class RateFit:
    """An outcome as a rate of the one before it: the pooled ratio and its 95% confidence interval."""

    of: str
    rate: float
    low: float
    high: float
    points: int
    se: float
    """The rate's standard error."""


@dataclass(frozen=True)
class TableFit:
    """An outcome read off a bid or budget simulator: ``(spend, value)`` points, sorted by spend and
    never falling, written as a tabular curve (linear between points, from the origin, none past the last)."""

    points: tuple[tuple[float, float], ...]
    source: str
    """Where the points came from: the file and its lines."""


Fit = CurveFit | RateFit | TableFit
"""How a campaign's outcome is known: a curve fitted to the history, a rate of an earlier outcome,
or a simulator's points."""


@dataclass(frozen=True)
class CampaignFit:
    """One campaign's fitted funnel: a curve, a rate or a simulator's points per outcome, in funnel order."""

    name: str
    channel: str
    stage: str
    current_spend: float
    observed: tuple[float, float] | None
    """The lowest and highest spend of a period in the history (None for a campaign it does not have)."""
    outcomes: dict[str, Fit]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class FitReport:
    """Every campaign of a history, fitted; those with too little data to fit are named with the reason."""

    campaigns: tuple[CampaignFit, ...]
    unfitted: tuple[tuple[str, str], ...] = ()
    """``(campaign, why)`` for campaigns left out of the campaign rows."""

    def campaign_rows(self) -> list[dict[str, object]]:
        """The campaigns as rows of the scenario's campaign CSV (``name, channel, stage, spend.current,
        impressions.curve, impressions.max, ..., clicks.rate, clicks.of, ...``)."""
        return [_row(campaign) for campaign in self.campaigns]

    def campaign_csv(self) -> str:
        """The scenario's campaign CSV, ready for ``campaigns = "..."`` or ``--campaigns``."""
        rows = self.campaign_rows()
        present = {key for row in rows for key in row}
        columns = [c for c in ("name", "channel", "stage", "spend.current", "spend.observed_min", "spend.observed_max")
                   if c in present]
        for outcome in OUTCOMES:
            columns += sorted(key for key in present if key.startswith(f"{outcome}."))
        columns += ["notes"] if "notes" in present else []
        out = io.StringIO()
        writer = csv.DictWriter(out, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: _cell(value) for key, value in row.items()} for row in rows)
        return out.getvalue()


def fit_curves(history: pd.DataFrame) -> FitReport:
    """Each campaign's funnel in ``history`` (the long format, as ``exports.read_history`` gives it)."""
    campaigns, unfitted = [], []
    for name, rows in history.groupby("campaign", sort=False):
        fitted = _campaign(str(name), rows)
        if fitted.outcomes:
            campaigns.append(fitted)
        else:
            unfitted.append((fitted.name, _why_unfitted(fitted, len(rows))))
    return FitReport(tuple(campaigns), tuple(unfitted))


def _why_unfitted(campaign: CampaignFit, periods: int) -> str:
    if periods < _FEWEST:
        return f"only {periods} period{'s' if periods != 1 else ''} of data ({_FEWEST} or more are needed)"
    return "; ".join(campaign.notes) or "no outcome columns with data"


def _campaign(name: str, rows: pd.DataFrame) -> CampaignFit:
    rows = _in_time_order(rows)
    spend = rows["spend"].to_numpy(dtype=float)
    outcomes: dict[str, Fit] = {}
    notes: list[str] = []
    before: str | None = None
    for outcome in OUTCOMES:
        if outcome not in rows or rows[outcome].isna().all():
            continue
        known = rows[outcome].notna().to_numpy()
        values = rows[outcome].to_numpy(dtype=float)
        fitted = _rate_or_curve(spend[known], values[known], rows[before].to_numpy(dtype=float)[known]
                                if before is not None else None, before)
        if fitted is None:
            notes.append(f"{outcome}: too few periods with data to fit ({_FEWEST} or more are needed)")
            continue
        outcomes[outcome] = fitted
        before = outcome
    stage = _text(rows, "stage")
    if stage not in STAGES:
        notes.append(f"stage '{stage}' is not one of {', '.join(STAGES)}: {_DEFAULT_STAGE} assumed" if stage
                     else f"no stage in the history: {_DEFAULT_STAGE} assumed")
        stage = _DEFAULT_STAGE
    recent = spend[-_RECENT:]
    return CampaignFit(name, _text(rows, "channel") or "other", stage, float(recent.mean()),
                       (float(spend.min()), float(spend.max())), outcomes, tuple(notes))


def _rate_or_curve(spend: np.ndarray, values: np.ndarray, previous: np.ndarray | None,
                   of: str | None) -> CurveFit | RateFit | None:
    """A rate of ``previous`` when the ratio is flat against spend, else the best curve against spend."""
    if previous is not None and of is not None:
        rate = _flat_rate(spend, values, previous, of)
        if rate is not None:
            return rate
    fits = best_fit(spend, values) if values.size >= _FEWEST else ()
    return fits[0] if fits else None


def _flat_rate(spend: np.ndarray, values: np.ndarray, previous: np.ndarray, of: str) -> RateFit | None:
    """The pooled ratio of ``values`` to ``previous`` and its 95% interval, when the ratio's slope
    against spend is within ``_FLAT`` standard errors of zero (None when it is not)."""
    usable = previous > 0
    if np.count_nonzero(usable) < 3:
        return None
    ratio, x = values[usable] / previous[usable], spend[usable]
    if np.ptp(x) > 0 and ratio.size > 3:
        slope, intercept = np.polyfit(x, ratio, 1)
        residual = ratio - (slope * x + intercept)
        slope_error = math.sqrt(float(residual @ residual) / (ratio.size - 2) / float(((x - x.mean()) ** 2).sum()))
        if abs(slope) > _FLAT * slope_error:
            return None
    rate = float(values[usable].sum() / previous[usable].sum())
    # The ratio estimator's standard error: residuals of values about rate x previous.
    errors = values[usable] - rate * previous[usable]
    n = ratio.size
    error = math.sqrt(float(errors @ errors) / (n - 1) * n) / float(previous[usable].sum())
    return RateFit(of, rate, max(rate - _Z95 * error, 0.0), rate + _Z95 * error, n, error)


def _in_time_order(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows by period when every period reads as a date (exports list them in any order), else as given."""
    if "period" not in rows:
        return rows
    dates = pd.to_datetime(rows["period"], errors="coerce", format="mixed")
    return rows.iloc[np.argsort(dates.to_numpy(), kind="stable")] if dates.notna().all() else rows


def _text(rows: pd.DataFrame, column: str) -> str:
    if column not in rows:
        return ""
    values = rows[column].dropna().astype(str).str.strip()
    values = values[values != ""]
    return str(values.mode().iloc[0]) if not values.empty else ""


def _cell(value: object) -> object:
    """A value as the CSV shows it: numbers to 6 significant digits, a matrix as a JSON list of rows."""
    if isinstance(value, tuple):
        return json.dumps([[float(f"{v:.6g}") for v in row] for row in value])
    return f"{value:.6g}" if isinstance(value, float | np.floating) else value


def _row(campaign: CampaignFit) -> dict[str, object]:
    row: dict[str, object] = {"name": campaign.name, "channel": campaign.channel, "stage": campaign.stage,
                              "spend.current": round(campaign.current_spend, 2)}
    if campaign.observed is not None:
        low, high = campaign.observed
        row["spend.observed_min"], row["spend.observed_max"] = round(low, 2), round(high, 2)
    for outcome, fitted in campaign.outcomes.items():
        row.update(_outcome_cells(outcome, fitted))
    if campaign.notes:
        row["notes"] = "; ".join(campaign.notes)
    return row


def _outcome_cells(outcome: str, fitted: Fit) -> dict[str, object]:
    """One outcome's cells of a campaign row: a rate, a simulator's points (as the JSON list), or a curve."""
    if isinstance(fitted, RateFit):
        return {f"{outcome}.rate": fitted.rate, f"{outcome}.of": fitted.of, f"{outcome}.se": fitted.se}
    if isinstance(fitted, TableFit):
        return {f"{outcome}.curve": "tabular", f"{outcome}.points": _cell(fitted.points)}
    cells = {f"{outcome}.{key}": value for key, value in fitted.curve.params().items()}
    if fitted.covariance is not None:
        cells[f"{outcome}.covariance"] = fitted.covariance
    return cells
