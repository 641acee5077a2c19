"""The ``tradeoff`` command: parse, call one library function, format, exit code.

Exit codes: 0 a plan (optimal, or the best found before a time limit); 1 the scenario has
no feasible plan (or no bounded one); 2 bad input or usage; 3 solver failure (or an output the file
system refused); 130 interrupted; 141 the reader of stdout closed it before the document was whole.
Tracebacks only with ``--debug``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

import optimizer
from optimizer.cli_support import (
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_READER_GONE,
    EXIT_SOLVER,
    FORMATS,
    OutputFile,
    ReaderGone,
    debug_option,
    emit,
    load,
    options_for,
    output_options,
    problems_of,
    progress_bar,
    resolve_format,
    say_why_no_result,
    scenario_options,
    shown_name,
    solver_options,
    spare_inputs,
    stage_line,
    uncertainty_options,
    with_solver_settings,
)
from optimizer.errors import ScenarioError, SolverError
from optimizer.formatting import csv_text
from optimizer.output import OutputError
from optimizer.plan import Plan
from optimizer.render import glossary_records, glossary_table, plan_table
from optimizer.scenario.loading import in_variant
from optimizer.scenario.overrides import Override
from optimizer.solver import conflicts_before_solving
from optimizer.status import Status


def exit_code(plan: Plan) -> int:
    """The exit code for a plan's status."""
    if plan.status is Status.OPTIMAL or (plan.status is Status.TIME_LIMIT and plan.allocation):
        return EXIT_OK
    if plan.status in (Status.INFEASIBLE, Status.UNBOUNDED):
        return EXIT_INFEASIBLE
    if plan.status is Status.INTERRUPTED:
        return EXIT_INTERRUPTED
    return EXIT_SOLVER


class LazyGroup(click.Group):
    """A command group whose commands in other modules are imported when first asked for, so that
    ``tradeoff solve`` starts without loading the fitting, charting and report code (and matplotlib)."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a reader of stdout that went away (``| head``) is told from a failure, which
        click would report as exit 1, the code for "no plan"."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise ReaderGone from None

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name not in self.commands:
            module, attribute = self.lazy[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)


LAZY_COMMANDS = {
    "frontier": "optimizer.cli_frontier:frontier_command",
    "chart": "optimizer.cli_frontier:chart_command",
    "fit": "optimizer.cli_fit:fit_command",
    "report": "optimizer.cli_report:report_command",
    "schema": "optimizer.cli_schema:schema_command",
}


@click.group(cls=LazyGroup, lazy=LAZY_COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(optimizer.__version__, prog_name="tradeoff")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
def cli(debug: bool) -> None:
    """Optimal budget splits across marketing campaigns, certified, and the price of share of voice.

    \b
    Examples:
      tradeoff solve scenarios/b2b_saas.toml
      tradeoff validate scenarios/b2b_saas.toml
      tradeoff kpis
    """


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@scenario_options
@click.option("--objective", metavar="KPI", help="KPI to maximise (leads, mqls, sov.search, ...); spend to minimise.")
@click.option("--budget", type=float, metavar="N", help="Total budget (same as --set budget.total=N).")
@solver_options
@click.option("--write-lp", type=OutputFile((".lp",)),
              help="Also write the program as an LP file.")
@uncertainty_options
@output_options
@debug_option
def solve(file: str, variant: str | None, sets: tuple[str, ...], campaigns: str | None, objective: str | None,
          budget: float | None, solver: str | None, tolerance: float | None, time_limit: float | None,
          write_lp: Path | None, draws: int | None, seed: int, fmt: str | None, output: Path | None) -> int:
    """Solve a scenario: the optimal budget split beside the current one, with its KPIs,
    binding constraints and how close it is to the true optimum.

    \b
    Examples:
      tradeoff solve scenarios/b2b_saas.toml
      tradeoff solve scenarios/b2b_saas.toml --variant stretch
      tradeoff solve scenarios/b2b_saas.toml --budget 280000 --objective mqls
      tradeoff solve scenarios/b2b_saas.toml --set 'constraints."CPL cap".max=100'
      tradeoff solve scenarios/b2b_saas.toml --format json -o plan.json
      tradeoff solve scenarios/b2b_saas.toml -o plan.xlsx
      tradeoff solve scenarios/b2b_saas.toml --solver cbc --write-lp plan.lp
      tradeoff solve scenarios/history_example.toml --uncertainty 100
    """
    fmt = resolve_format(fmt, output, FORMATS)
    extra = _objective_overrides(objective)
    if budget is not None:
        extra.append(Override(("budget", "total"), budget, "--budget"))
    scenario = load(file, variant, sets, campaigns, extra)
    spare_inputs(("-o", output), ("--write-lp", write_lp))
    if draws:
        from optimizer.uncertainty import check_drawable, plan_uncertainty  # loaded only to draw

        check_drawable(scenario, draws)  # before the solve, not after it
    options = options_for(scenario, solver=solver, tolerance=tolerance, time_limit=time_limit, write_lp=write_lp)
    with problems_of(file), stage_line(f"Solving {len(scenario.campaigns):,} campaigns") as report:
        plan = optimizer.solve(scenario, options, progress=report)
    if draws and plan.allocation:
        with problems_of(file), progress_bar(draws, "Re-solving on curve draws") as report:
            plan = plan_uncertainty(scenario, plan, draws, seed, options, progress=report)
    if fmt == "xlsx":
        from optimizer.export import write_workbook  # openpyxl is loaded only to write a workbook

        write_workbook(output, plan=plan, scenario=with_solver_settings(scenario, options))
        click.echo(f"wrote {output}", err=True)
    else:
        emit(_format_plan(plan, fmt), output)
    code = exit_code(plan)
    if output is not None and code == EXIT_INFEASIBLE:
        say_why_no_result(f"No plan: {plan.message}", plan.explanation)
    return code


def _objective_overrides(objective: str | None) -> list[Override]:
    if objective is None:
        return []
    if objective == "spend":
        return [Override(("objective", "minimize"), "spend", "--objective"),
                Override(("objective", "maximize"), None, "--objective")]
    return [Override(("objective", "maximize"), objective, "--objective"),
            Override(("objective", "minimize"), None, "--objective")]


def _format_plan(plan: Plan, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return csv_text(plan.to_frame())
    return plan_table(plan)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@scenario_options
@debug_option
def validate(file: str, variant: str | None, sets: tuple[str, ...], campaigns: str | None) -> int:
    """Check a scenario file (and every variant in it) without solving.

    \b
    Examples:
      tradeoff validate scenarios/b2b_saas.toml
      tradeoff validate scenarios/b2b_saas.toml --variant stretch --set budget.total=320000
    """
    scenario = load(file, variant, sets, campaigns)
    problems, loaded = [], {variant: scenario}
    if variant is None:
        for name in scenario.variants:
            try:
                loaded[name] = load(file, name, sets, campaigns)
            except ScenarioError as error:
                problems += [in_variant(name, p) for p in error.problems]
    file = shown_name(file)
    if problems:
        raise ScenarioError(problems, file)
    conflicts = [(name, found) for name, each in loaded.items()
                 if (found := conflicts_before_solving(each)) is not None]
    for name, found in conflicts:
        within = f' (variant "{name}")' if name is not None else ""
        click.echo(f"{file}{within}: the input is well formed, but no plan can exist. {found.message}")
    if conflicts:
        return EXIT_INFEASIBLE
    variants = ", ".join(scenario.variants) or "none"
    objective = f"{scenario.objective.sense} {scenario.objective.kpi}"
    click.echo(f"{file}: valid. {len(scenario.campaigns)} campaigns, {len(scenario.constraints)} constraints, "
               f"{len(scenario.pools)} SOV pools; {objective}; variants: {variants}")
    return EXIT_OK


@cli.command()
@output_options
@debug_option
def kpis(fmt: str | None, output: Path | None) -> int:
    """Print the KPI glossary: every KPI's formula, unit and direction.

    \b
    Examples:
      tradeoff kpis
      tradeoff kpis --format json
    """
    fmt = resolve_format(fmt, output)
    if fmt == "json":
        text = json.dumps(glossary_records(), indent=2) + "\n"
    elif fmt == "csv":
        import pandas as pd

        text = pd.DataFrame(glossary_records()).to_csv(index=False)
    else:
        text = glossary_table() + "\n"
    emit(text, output)
    return EXIT_OK




def main(argv: Sequence[str] | None = None, started: Callable[[], None] | None = None) -> None:
    """Run the command on ``argv`` (the process's arguments by default) and exit with its code. ``started``
    is called once the command's own handling of errors and Ctrl-C is in place (``optimizer.entry``, the
    console script, hands Ctrl-C over to it, and keeps stdout for the document)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or debug_from_environment(os.environ.get("TRADEOFF_DEBUG"))
    sys.exit(run(args, debug, started))


def debug_from_environment(value: str | None) -> bool:
    """``TRADEOFF_DEBUG`` turns tracebacks on when it is 1, true or yes (in any case); 0, false or empty do not."""
    return (value or "").strip().lower() in ("1", "true", "yes")


def run(args: list[str], debug: bool = False, started: Callable[[], None] | None = None) -> int:
    """Run the CLI on ``args`` and return the exit code (no ``sys.exit``); ``debug`` adds the traceback of an
    error on stderr, the exit code staying the same; ``started`` is called first, inside the handling."""
    try:
        if started is not None:
            started()
        result: Any = cli.main(args=args, prog_name="tradeoff", standalone_mode=False)
    except ReaderGone:
        return EXIT_READER_GONE
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as error:
        error.show()
        return EXIT_INPUT
    except click.exceptions.Exit as error:
        return error.exit_code
    except ScenarioError as error:
        _traceback(debug)
        click.echo(f"error: {error}", err=True)
        return EXIT_INPUT
    except SolverError as error:
        _traceback(debug)
        click.echo(f"solver error: {error}", err=True)
        return EXIT_SOLVER
    except OutputError as error:
        _traceback(debug)
        click.echo(f"error: {error} (a file already there is left as it was)", err=True)
        return EXIT_SOLVER
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the last line of defence: no traceback without --debug
        _traceback(debug)
        click.echo(f"internal error: {type(error).__name__}: {error} (rerun with --debug for the traceback)", err=True)
        return EXIT_SOLVER
    return result if isinstance(result, int) else EXIT_OK


def _traceback(debug: bool) -> None:
    """With ``debug``, the traceback of the error being handled, on stderr."""
    if debug:
        traceback.print_exc(file=sys.stderr)
