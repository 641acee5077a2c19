"""``tradeoff fit``: a campaign history in, the scenario's campaign CSV out."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import click
import pandas as pd

from optimizer.cli_support import (
    EXIT_OK,
    OutputFile,
    OutputFolder,
    debug_option,
    emit,
    inputs_noted,
    load,
    options_for,
    problems_of,
    spare_inputs,
)
from optimizer.errors import Problem, ScenarioError
from optimizer.fit.exports import COLUMNS, read_history
from optimizer.fit.families import CurveFit
from optimizer.fit.report import CampaignFit, FitReport, RateFit, TableFit, fit_curves
from optimizer.fit.simulator import read_simulator, with_simulator
from optimizer.formatting import money
from optimizer.scenario.reads import note_read


@click.command("fit")
@click.argument("history", type=click.Path(dir_okay=False))
@click.option("--simulator", type=click.Path(dir_okay=False),
              help="A bid or budget simulator export (cost, clicks, impressions, conversions per bid level, for 7 "
                   "days): its campaigns' outcomes become tabular curves. The history should be weekly to match.")
@click.option("-o", "--output", type=OutputFile((".csv",)),
              help="Write the campaign CSV to this file (atomically) instead of the terminal.")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=HEADER",
              help=f"Read a column from a header of the file's own (repeatable); columns: {', '.join(COLUMNS)}.")
@click.option("--charts", type=OutputFolder(),
              help="Write a diagnostics chart per campaign (PNG) into this folder: history, fit, band, spend seen.")
@click.option("--scenario", type=click.Path(dir_okay=False),
              help="With --charts: solve this scenario on the fitted campaigns and mark the plan's spend.")
@debug_option
def fit_command(history: str, simulator: str | None, output: Path | None, maps: Sequence[str],
                charts: Path | None, scenario: str | None) -> int:
    """Fit response curves to a campaign history and write them as the scenario's campaign CSV.

    HISTORY is the long format (period, campaign, channel, stage, spend, impressions, clicks,
    leads[, mqls, sqls, customers, revenue]) or a Google Ads, Meta Ads Manager or LinkedIn
    Campaign Manager export. What was fitted, and how well, goes to the terminal.

    \b
    Examples:
      tradeoff fit scenarios/history_example.csv -o campaigns.csv
      tradeoff fit google_ads_report.csv --map spend="Cost (converted)" -o search.csv
      tradeoff fit weekly.csv --simulator bid_simulator.csv -o campaigns.csv
      tradeoff fit scenarios/history_example.csv -o c.csv --charts fit/ --scenario scenarios/history_example.toml
    """
    if scenario is not None and charts is None:
        raise click.BadParameter("--scenario marks the plan on the diagnostics charts: give --charts DIR too",
                                 param_hint="--scenario")
    with inputs_noted():
        read = read_history(history, _mapping(maps))
        points = read_simulator(simulator) if simulator is not None else None
        if scenario is not None:
            note_read(scenario)  # read after the CSV is written: it must not be the CSV's name
    spare_inputs(("-o", output))
    report = fit_curves(read.frame)
    if points is not None:
        report = with_simulator(report, points)  # --map names the history's headers
    if not report.campaigns:
        raise ScenarioError([Problem(f"{Path(history).name}: {name}", f"not fitted: {why}",
                                     "give at least 4 periods of spend with outcomes per campaign")
                             for name, why in report.unfitted], history)
    click.echo(_summary(read.platform, report, len(read.frame), len(read.set_aside)), err=True)
    campaign_csv = report.campaign_csv()
    emit(campaign_csv, output)
    if charts is not None:
        _write_charts(report, read.frame, charts, scenario, campaign_csv)
    return EXIT_OK


def _write_charts(report: FitReport, history: pd.DataFrame, folder: Path, scenario: str | None,
                  campaign_csv: str) -> None:
    """A diagnostics chart per campaign, with the spend of the plan ``scenario`` gives on these campaigns."""
    from optimizer.charts import save_figure  # matplotlib is loaded only to draw
    from optimizer.charts.fit import fit_chart

    planned, currency = _planned(scenario, campaign_csv) if scenario is not None else ({}, "USD")
    folder.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    for campaign in report.campaigns:
        figure = fit_chart(campaign, history, currency, planned.get(campaign.name))
        click.echo(f"wrote {save_figure(figure, folder / f'{_file_name(campaign.name, taken)}.png')}", err=True)


def _planned(scenario: str, campaign_csv: str) -> tuple[dict[str, float], str]:
    """Each campaign's spend in the plan ``scenario`` gives on the fitted campaigns, and its currency."""
    from optimizer.solver import solve  # only --scenario solves

    with tempfile.TemporaryDirectory() as folder:
        campaigns = Path(folder) / "fitted_campaigns.csv"
        campaigns.write_text(campaign_csv, encoding="utf-8")
        loaded = load(scenario, None, (), str(campaigns))
        with problems_of(scenario):
            plan = solve(loaded, options_for(loaded))
    if not plan.allocation:
        click.echo(f"note: {scenario} has no plan on the fitted campaigns ({plan.message}); charts show no plan",
                   err=True)
    return plan.spend, loaded.currency


def _file_name(campaign: str, taken: set[str]) -> str:
    """A campaign's name as a file name of letters, digits and dashes, not one in ``taken`` (then added)."""
    stem = re.sub(r"[^a-z0-9]+", "-", campaign.lower()).strip("-") or "campaign"
    name, count = stem, 1
    while name in taken:
        count += 1
        name = f"{stem}-{count}"
    taken.add(name)
    return name


def _mapping(maps: Sequence[str]) -> dict[str, str]:
    """``--map`` values as column -> header (a usage error names a malformed one)."""
    mapping = {}
    for item in maps:
        column, sign, header = item.partition("=")
        if not sign or not column.strip() or not header.strip():
            raise click.BadParameter(f'"{item}" is not COLUMN=HEADER (e.g. spend="Cost (converted)")',
                                     param_hint="--map")
        mapping[column.strip()] = header.strip()
    return mapping


def _summary(platform: str, report: FitReport, rows: int, set_aside: int) -> str:
    aside = f", {set_aside} summary rows set aside" if set_aside else ""
    lines = [f"{rows} rows read ({platform}{aside}); {len(report.campaigns)} campaigns fitted:"]
    for campaign in report.campaigns:
        lines.append(f"  {campaign.name}: {_outcomes(campaign)}")
        lines += [f"    note: {note}" for note in campaign.notes]
    if report.unfitted:
        lines.append(f"{len(report.unfitted)} campaigns not written (too little data to fit):")
        lines += [f"  {name}: {why}" for name, why in report.unfitted]
    return "\n".join(lines)


def _outcomes(campaign: CampaignFit) -> str:
    parts = []
    for outcome, fitted in campaign.outcomes.items():
        if isinstance(fitted, RateFit):
            parts.append(f"{outcome} {fitted.rate:.4g} of {fitted.of} (95%: {fitted.low:.4g}-{fitted.high:.4g})")
        elif isinstance(fitted, TableFit):
            parts.append(_table(outcome, fitted))
        else:
            parts.append(_curve(outcome, fitted))
    return "; ".join(parts)


def _curve(outcome: str, fitted: CurveFit) -> str:
    low, high = fitted.spend_range
    params = ", ".join(f"{name} {_number(value)} ± {_number(error)}" for (name, value), error
                       in zip(fitted.params.items(), fitted.errors.values(), strict=True))
    return f"{outcome} {fitted.family} ({params}; R² {fitted.r_squared:.3f}; seen {_spend_range(low, high)})"


def _table(outcome: str, fitted: TableFit) -> str:
    (low, _), (high, _) = fitted.points[0], fitted.points[-1]
    return f"{outcome} tabular ({len(fitted.points)} simulator points, {_spend_range(low, high)}; {fitted.source})"


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _spend_range(low: float, high: float) -> str:
    """``$1,200-$9,800`` (a history carries no currency: dollars, as the fit charts assume)."""
    return f"{money(low, 'USD', 0)}-{money(high, 'USD', 0)}"
