"""``tradeoff report``: the page a strategist takes into a client meeting, as PDF and HTML."""

from __future__ import annotations

import json
from pathlib import Path

import click

from optimizer.cli_support import (
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_SOLVER,
    OutputFile,
    debug_option,
    emit,
    load,
    options_for,
    problems_of,
    progress_bar,
    scenario_options,
    shown_name,
    solver_options,
    spare_inputs,
    with_solver_settings,
)
from optimizer.errors import Problem, ScenarioError
from optimizer.pareto.recommend import (
    RECOMMEND_HELP,
    Recommendation,
    check_recommend,
    parse_recommend,
    recommend,
    recommend_kpi,
)
from optimizer.report import Brand, ReportContent, report_content, write_html, write_pdf
from optimizer.report.content import DEFAULT_ACCENT, DEFAULT_PRIMARY, check_logo
from optimizer.scenario.schema import Scenario
from optimizer.status import Status

REPORT_SUFFIXES = (".pdf", ".html", ".htm")


@click.command("report")
@click.argument("file", type=click.Path(dir_okay=False))
@scenario_options
@click.option("-o", "--output", type=OutputFile(REPORT_SUFFIXES),
              help="The report: .pdf (two slide-sized pages) or .html (one self-contained file).")
@click.option("--html", type=OutputFile((".html", ".htm")), help="Also write the report as one HTML file.")
@click.option("--xlsx", type=OutputFile((".xlsx",)),
              help="Also write the plan, the frontier and the assumptions as an Excel workbook.")
@click.option("--json", "json_file", type=OutputFile((".json",)),
              help="Also write the report's content as JSON (`tradeoff schema report` describes it).")
@click.option("--recommend", "choice", metavar="knee|sov=LEVEL",
              help=f"The point to recommend: {RECOMMEND_HELP}. Default: the scenario's floor on the traded KPI, "
                   "else the knee.")
@click.option("--against", metavar="KPI", help="What to trade against (default: objective.secondary, e.g. sov.search).")
@click.option("--points", type=click.IntRange(3, 201), default=21, show_default=True, help="Points on the frontier.")
@solver_options
@debug_option
def report_command(file: str, variant: str | None, sets: tuple[str, ...], campaigns: str | None,
                   output: Path | None, html: Path | None, xlsx: Path | None, json_file: Path | None,
                   choice: str | None,
                   against: str | None, points: int, solver: str | None, tolerance: float | None,
                   time_limit: float | None) -> int:
    """Write the client-meeting report: the recommended plan against today's, the frontier chart,
    the price of share of voice in three views, the allocation, the binding constraints and the notes.

    \b
    Examples:
      tradeoff report scenarios/b2b_saas.toml -o plan.pdf
      tradeoff report scenarios/b2b_saas.toml -o plan.pdf --html plan.html --recommend knee
      tradeoff report scenarios/b2b_saas.toml -o plan.pdf --recommend sov=0.30 --xlsx plan.xlsx
      tradeoff report scenarios/b2b_saas.toml --json report.json
    """
    if output is None and html is None and xlsx is None and json_file is None:
        raise click.UsageError("name the report: -o plan.pdf (or .html), --html plan.html, --xlsx plan.xlsx "
                               "or --json report.json")
    with problems_of(file):
        level = parse_recommend(choice)
    against = _against(against, recommend_kpi(choice))
    scenario = load(file, variant, sets, campaigns)
    spare_inputs(("-o", output), ("--html", html), ("--xlsx", xlsx), ("--json", json_file))
    with problems_of(file):
        check_recommend(choice, against or scenario.objective.secondary)
    brand = brand_of(scenario, file)
    options = options_for(scenario, solver=solver, tolerance=tolerance, time_limit=time_limit)
    with problems_of(file), progress_bar(points, "Tracing the frontier") as report:
        found = recommend(scenario, level, against, points, options, progress=report)
    if not found.success:
        return _failed(found)
    content = report_content(found, scenario, brand, settings=_settings(variant, sets, campaigns))
    for path in (output, html):
        if path is not None:
            write = write_html if path.suffix.lower() in (".html", ".htm") else write_pdf
            click.echo(f"wrote {write(content, path)}", err=True)
    if xlsx is not None:
        from optimizer.export import write_workbook  # openpyxl is loaded only to write a workbook

        write_workbook(xlsx, plan=found.plan, frontier=found.frontier,
                       scenario=with_solver_settings(scenario, options))
        click.echo(f"wrote {xlsx}", err=True)
    if json_file is not None:
        emit(report_json(content, found), json_file)
    click.echo(content.headline)
    return EXIT_OK


def report_json(content: ReportContent, found: Recommendation) -> str:
    """The report as the JSON text ``--json`` writes (``optimizer.report.document``)."""
    from optimizer.report.document import report_dict

    return json.dumps(report_dict(content, found), indent=2, ensure_ascii=False) + "\n"


def _settings(variant: str | None, sets: tuple[str, ...], campaigns: str | None) -> list[str]:
    """The command line's changes to the scenario file, as the report's assumptions name them."""
    return ([f"--variant {variant}"] if variant else []) + [f"--set {s}" for s in sets] + \
        ([f"--campaigns {Path(campaigns).name}"] if campaigns else [])


def _against(option: str | None, named: str | None) -> str | None:
    if option is not None and named is not None and option != named:
        raise click.UsageError(f"--recommend names {named} but --against {option}: give one of them")
    return option or named


def brand_of(scenario: Scenario, file: str) -> Brand:
    """The report's colours and logo from the scenario's ``[report]`` table (the loader has found
    the logo in the scenario's folder); a logo that is not an image is refused before solving."""
    spec = scenario.report
    logo = Path(spec.logo) if spec.logo is not None else None
    if logo is not None:
        _check_image(logo, shown_name(file))
    return Brand(spec.primary or DEFAULT_PRIMARY, spec.accent or DEFAULT_ACCENT, logo, spec.prepared_by)


def _check_image(path: Path, file: str) -> None:
    """Refuse a logo that is not the image its name says (before any solving): its header first, so
    that only a logo of a size a report can show is decoded."""
    from matplotlib.image import imread

    check_logo(path, file)
    try:
        imread(path)
    except (OSError, ValueError, SyntaxError) as error:
        raise ScenarioError([Problem("report.logo", f'cannot read "{path.name}" as an image ({error})',
                                     "give a PNG or JPEG file")], file) from None


def _failed(found: Recommendation) -> int:
    """No report without a plan: say why, with the exit code of the frontier's or the plan's status."""
    result = found.plan if found.plan is not None else found.frontier
    click.echo(f"No report: {result.message}", err=True)
    if result.status in (Status.INFEASIBLE, Status.UNBOUNDED):
        return EXIT_INFEASIBLE
    return EXIT_SOLVER if result.status is not Status.OPTIMAL else EXIT_INPUT
