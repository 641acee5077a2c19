"""``tradeoff fit``: a campaign history in, the scenario's campaign CSV out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from optimizer.cli_support import EXIT_OK, OutputFile, debug_option, emit
from optimizer.errors import Problem, ScenarioError
from optimizer.fit.exports import COLUMNS, read_history
from optimizer.fit.families import CurveFit
from optimizer.fit.report import CampaignFit, FitReport, RateFit, fit_curves


@click.command("fit")
@click.argument("history", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=OutputFile((".csv",)),
              help="Write the campaign CSV to this file (atomically) instead of the terminal.")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=HEADER",
              help=f"Read a column from a header of the file's own (repeatable); columns: {', '.join(COLUMNS)}.")
@debug_option
def fit_command(history: str, output: Path | None, maps: Sequence[str]) -> int:
    """Fit response curves to a campaign history and write them as the scenario's campaign CSV.

    HISTORY is the long format (period, campaign, channel, stage, spend, impressions, clicks,
    leads[, mqls, sqls, customers, revenue]) or a Google Ads, Meta Ads Manager or LinkedIn
    Campaign Manager export. What was fitted, and how well, goes to the terminal.

    \b
    Examples:
      tradeoff fit scenarios/history_example.csv -o campaigns.csv
      tradeoff fit google_ads_report.csv --map spend="Cost (converted)" -o search.csv
    """
    read = read_history(history, _mapping(maps))
    report = fit_curves(read.frame)
    if not report.campaigns:
        raise ScenarioError([Problem(f"{Path(history).name}: {name}", f"not fitted: {why}",
                                     "give at least 4 periods of spend with outcomes per campaign")
                             for name, why in report.unfitted], history)
    click.echo(_summary(read.platform, report, len(read.frame), len(read.set_aside)), err=True)
    emit(report.campaign_csv(), output)
    return EXIT_OK


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
        else:
            parts.append(_curve(outcome, fitted))
    return "; ".join(parts)


def _curve(outcome: str, fitted: CurveFit) -> str:
    low, high = fitted.spend_range
    params = ", ".join(f"{name} {_number(value)} ± {_number(error)}" for (name, value), error
                       in zip(fitted.params.items(), fitted.errors.values(), strict=True))
    return f"{outcome} {fitted.family} ({params}; R² {fitted.r_squared:.3f}; seen ${low:,.0f}-${high:,.0f})"


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
