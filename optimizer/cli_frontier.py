"""``tradeoff frontier`` and ``tradeoff chart``: the price of share of voice, in tables and charts."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from optimizer.charts import CHARTS, allocation_chart, save_figure, sweep_chart
from optimizer.cli_support import (
    EXIT_INFEASIBLE,
    EXIT_OK,
    EXIT_SOLVER,
    FORMATS,
    OutputFile,
    OutputFolder,
    debug_option,
    emit,
    inputs_noted,
    load,
    options_for,
    output_options,
    problems_of,
    progress_bar,
    resolve_format,
    say_why_no_result,
    scenario_options,
    solver_options,
    spare_inputs,
    uncertainty_options,
    with_solver_settings,
)
from optimizer.formatting import csv_text
from optimizer.pareto import Frontier, frontier, frontier_sweep
from optimizer.pareto.api import with_budget
from optimizer.pareto.reading import read_frontier_file
from optimizer.pareto.text import frontier_table
from optimizer.plan import SCHEMA_VERSION
from optimizer.scenario.schema import Scenario
from optimizer.solver.options import SolveOptions
from optimizer.status import Status

CHART_KINDS = (*CHARTS, "allocation-campaigns", "sweep")
CHART_SUFFIXES = (".png", ".svg", ".pdf")


@click.command("frontier")
@click.argument("file", type=click.Path(dir_okay=False))
@scenario_options
@click.option("--against", metavar="KPI", help="What to trade against (default: objective.secondary, e.g. sov.search).")
@click.option("--points", type=click.IntRange(2, 201), default=21, show_default=True, help="Points on the frontier.")
@click.option("--budgets", metavar="N,N,...", help="Trace the frontier at each of these budgets.")
@solver_options
@output_options
@click.option("--chart", type=OutputFile(CHART_SUFFIXES),
              help="Write the frontier chart (the budget family with --budgets): .png, .svg or .pdf.")
@click.option("--charts", type=OutputFolder(), help="Write every chart (PNG) into this folder.")
@uncertainty_options
@debug_option
def frontier_command(file: str, variant: str | None, sets: tuple[str, ...], campaigns: str | None,
                     against: str | None, points: int, budgets: str | None, solver: str | None,
                     tolerance: float | None, time_limit: float | None, fmt: str | None, output: Path | None,
                     chart: Path | None, charts: Path | None, draws: int | None, seed: int) -> int:
    """Trace the frontier of the primary KPI against share of voice: what each point of SOV costs
    in leads, CPL, CPC and budget.

    \b
    Examples:
      tradeoff frontier scenarios/b2b_saas.toml
      tradeoff frontier scenarios/b2b_saas.toml --chart frontier.png
      tradeoff frontier scenarios/b2b_saas.toml --points 31 --format json -o frontier.json
      tradeoff frontier scenarios/b2b_saas.toml --budgets 200000,250000 -o frontier.xlsx
      tradeoff frontier scenarios/b2b_saas.toml --budgets 200000,250000,300000 --chart sweep.png
      tradeoff frontier scenarios/b2b_saas.toml --against sov.media --charts charts/
      tradeoff frontier scenarios/history_example.toml --uncertainty 30 --chart frontier.png
    """
    fmt = resolve_format(fmt, output, FORMATS)
    scenario = load(file, variant, sets, campaigns)
    spare_inputs(("-o", output), ("--chart", chart))
    if draws:
        from optimizer.uncertainty import check_drawable  # loaded only to draw

        check_drawable(scenario, draws)  # before the frontier is traced, not after
    options = options_for(scenario, solver=solver, tolerance=tolerance, time_limit=time_limit)
    levels = _budgets(budgets)
    total = points * (len(levels) if levels else 1)
    with problems_of(file), progress_bar(total, "Tracing the frontier") as report:
        if levels:
            results = frontier_sweep(scenario, levels, against, points, options, progress=_offset(report, points))
        else:
            results = (frontier(scenario, against, points, options, progress=report),)
    if draws:
        results = _with_bands(scenario, results, draws, seed, options, file)
    if fmt == "xlsx":
        from optimizer.export import write_workbook  # openpyxl is loaded only to write a workbook

        write_workbook(output, frontier=results, scenario=with_solver_settings(scenario, options))
        click.echo(f"wrote {output}", err=True)
    else:
        emit(_format(results, fmt, sweep=bool(levels)), output)
    _write_charts(results, chart, charts)
    code = _exit_code(results)
    if output is not None and code == EXIT_INFEASIBLE:
        for traced in results:
            if traced.status in (Status.INFEASIBLE, Status.UNBOUNDED):
                say_why_no_result(_at_budget(traced.message, traced.budget, len(results)), traced.explanation,
                                  budgets_option=bool(levels))
    return code


def _at_budget(message: str, budget: float | None, count: int) -> str:
    """A frontier's message, naming its budget when it is one of a sweep's."""
    return message if budget is None or count == 1 else f"At a budget of {budget:,.0f}: {message}"


def _with_bands(scenario: Scenario, results: Sequence[Frontier], draws: int, seed: int, options: SolveOptions,
                file: str) -> tuple[Frontier, ...]:
    """Each traced frontier with its band over ``draws`` curve draws (at its own budget)."""
    from optimizer.uncertainty import frontier_uncertainty

    banded = []
    with problems_of(file), progress_bar(draws * len(results), "Tracing frontiers on curve draws") as report:
        for index, traced in enumerate(results):
            if not traced.success:
                banded.append(traced)
                continue
            at_budget = with_budget(scenario, traced.budget) if traced.budget is not None else scenario
            step = None if report is None else (lambda done, _total, base=index * draws: report(base + done, 0))
            banded.append(frontier_uncertainty(at_budget, traced, draws, seed, options, progress=step))
    return tuple(banded)


def _budgets(text: str | None) -> tuple[float, ...]:
    if not text:
        return ()
    try:
        values = tuple(float(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(f'"{text}" is not a list of numbers', param_hint="--budgets") from None
    if not values or any(v < 0 or not math.isfinite(v) for v in values):
        raise click.BadParameter("give budgets as positive numbers: 200000,250000", param_hint="--budgets")
    return values


def _offset(report, points: int):
    """A progress callback for the k-th frontier of a sweep, counting on from the ones before."""
    if report is None:
        return None
    state = {"base": 0, "last": 0}

    def progress(done: int, total: int) -> None:
        if done < state["last"]:
            state["base"] += state["last"]
        state["last"] = done
        report(state["base"] + done, total)

    return progress


def _format(results: Sequence[Frontier], fmt: str, sweep: bool) -> str:
    """The frontier, or with ``sweep`` (``--budgets``, even one budget) the budget sweep, as text."""
    if fmt == "json":
        data: Any = sweep_dict(results) if sweep else results[0].to_dict()
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(results)
    return "\n".join(frontier_table(result) for result in results)


def _csv(results: Sequence[Frontier]) -> str:
    """One row per point of every frontier, under one header: the union of their columns (a budget with no
    frontier has no rows), each point's KPIs spread into a column each."""
    import pandas as pd

    frames = []
    for result in results:
        frame = result.to_frame()
        frame.insert(0, "budget", result.budget)
        if "kpis" in frame:
            kpis = pd.DataFrame([dict(record) for record in frame.pop("kpis")], index=frame.index)
            frame = frame.join(kpis[[name for name in kpis.columns if name not in frame.columns]])
        frames.append(frame)
    return csv_text(pd.concat(frames, ignore_index=True))


def sweep_dict(results: Sequence[Frontier]) -> dict[str, Any]:
    """Several frontiers (a budget sweep) as one JSON document."""
    return {"schema_version": SCHEMA_VERSION, "kind": "frontier_sweep", "frontiers": [r.to_dict() for r in results]}


def _write_charts(results: Sequence[Frontier], chart: Path | None, folder: Path | None) -> None:
    drawable = [r for r in results if r.points]
    if not drawable:
        return
    if chart is not None:
        figure = sweep_chart(drawable) if len(results) > 1 else CHARTS["frontier"](drawable[0])
        click.echo(f"wrote {_save(figure, chart)}", err=True)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for kind in _kinds(len(drawable)):
            click.echo(f"wrote {_save(draw(kind, drawable), folder / f'{kind}.png')}", err=True)


def _kinds(count: int) -> tuple[str, ...]:
    return CHART_KINDS if count > 1 else tuple(k for k in CHART_KINDS if k != "sweep")


def draw(kind: str, results: Sequence[Frontier]):
    """The chart ``kind`` of the first frontier (``sweep``: of them all)."""
    if kind == "sweep":
        return sweep_chart(results)
    if kind == "allocation-campaigns":
        return allocation_chart(results[0], by="campaign")
    return CHARTS[kind](results[0])


def _save(figure, path: Path) -> Path:
    try:
        return save_figure(figure, path)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--chart") from None


def _exit_code(results: Sequence[Frontier]) -> int:
    statuses = {r.status for r in results}
    if statuses == {Status.OPTIMAL}:
        return EXIT_OK
    if Status.INFEASIBLE in statuses or Status.UNBOUNDED in statuses:
        return EXIT_INFEASIBLE
    return EXIT_SOLVER


@click.command("chart")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(CHART_KINDS), default="frontier", show_default=True,
              help="Which chart to draw.")
@click.option("-o", "--output", type=OutputFile(CHART_SUFFIXES),
              help="The chart file (.png, .svg or .pdf); default: FILE's name with .png.")
@click.option("--charts", type=OutputFolder(), help="Write every chart into this folder.")
@debug_option
def chart_command(file: Path, kind: str, output: Path | None, charts: Path | None) -> int:
    """Redraw charts from a saved frontier JSON (from `tradeoff frontier --format json`), without solving.

    \b
    Examples:
      tradeoff chart frontier.json -o frontier.png
      tradeoff chart frontier.json --kind costs -o costs.svg
      tradeoff chart frontier.json --charts charts/
    """
    with inputs_noted():
        results = read_frontiers(file)
    spare_inputs(("-o", output))
    if charts is not None:
        _write_charts(results, None, charts)
    if output is not None or charts is None:
        target = output or file.with_suffix(".png")
        click.echo(f"wrote {_save(draw(kind, results), target)}", err=True)
    return EXIT_OK


def read_frontiers(path: Path) -> tuple[Frontier, ...]:
    """The frontier (or budget sweep) saved as JSON at ``path``, every problem in it reported at once."""
    return read_frontier_file(path)
