"""What every ``tradeoff`` command shares: exit codes, options, output, and loading a scenario."""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click

from optimizer.errors import Problem, ScenarioError
from optimizer.output import OutputError, output_target, write_text
from optimizer.plan import Explanation
from optimizer.scenario import Scenario, load_scenario
from optimizer.scenario.loading import scenario_from_json
from optimizer.scenario.overrides import Override
from optimizer.scenario.reads import files_read
from optimizer.scenario.schema import SolverSpec
from optimizer.solver import SolveOptions

EXIT_OK, EXIT_INFEASIBLE, EXIT_INPUT, EXIT_SOLVER, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_READER_GONE = 141
"""The reader of stdout closed it before the document was written whole (``| head``): 128 + SIGPIPE, as a
shell reports a program ended by that signal."""


class ReaderGone(Exception):
    """stdout's reader went away while the command wrote to it."""

FORMATS = ("table", "json", "csv", "xlsx")
TEXT_FORMATS = ("table", "json", "csv")
"""What every command that prints results writes; ``xlsx`` (a binary workbook, to a file only) only some."""


def scenario_options(command: Callable) -> Callable:
    """``--variant``, ``--set`` and ``--campaigns``."""
    command = click.option("--campaigns", type=click.Path(dir_okay=False), metavar="CSV",
                           help="Use the campaigns of this CSV instead of the scenario's (it may be anywhere).")(
        command)
    command = click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                           help="Override one setting (repeatable); wins over --variant, which wins over the file.")(
        command)
    return click.option("--variant", metavar="NAME", help="Apply a named [variants.NAME] table of the file.")(command)


def solver_options(command: Callable) -> Callable:
    """``--solver``, ``--tolerance`` and ``--time-limit``."""
    command = click.option("--time-limit", type=float, metavar="SECONDS",
                           help="Stop each solver run after this long.")(command)
    command = click.option("--tolerance", type=float, metavar="FRACTION",
                           help="Chord error per segment as a fraction of each curve's range (default 0.001).")(command)
    return click.option("--solver", type=click.Choice(["highs", "cbc"]),
                        help="highs (default) or cbc (through PuLP).")(command)


def uncertainty_options(command: Callable) -> Callable:
    """``--uncertainty N`` and ``--seed S``: re-solve on N draws of the fitted curves."""
    command = click.option("--seed", type=int, default=0, show_default=True,
                           help="Seed of the curve draws (the same seed gives the same draws).")(command)
    return click.option("--uncertainty", "draws", type=click.IntRange(1, 10_000), metavar="N",
                        help="Re-solve on N draws of the fitted curves (tradeoff fit writes their uncertainty) and "
                             "report P10/P50/P90 of the objective and SOV.")(command)


class OutputFile(click.Path):
    """A file the command will write: its folder must exist and be writable, its suffix one of ``suffixes``.

    Checked when the command line is read, so that a typo in a path fails at once rather than
    after a long solve.
    """

    def __init__(self, suffixes: Sequence[str] = (), dash_is_stdout: bool = False):
        super().__init__(dir_okay=False, path_type=Path)
        self.suffixes = tuple(suffixes)
        self.dash_is_stdout = dash_is_stdout

    def convert(self, value, param, ctx) -> Path | None:  # noqa: ANN001 - click's signature
        if self.dash_is_stdout and value == "-":
            return None  # as "-" for the scenario means stdin, "-o -" means stdout
        path = Path(super().convert(value, param, ctx))
        try:
            output_target(path)
        except OutputError as error:
            self.fail(f'"{path}": {error.reason}', param, ctx)
        folder = path.parent
        if not folder.is_dir():
            self.fail(f'the folder "{folder}" does not exist: create it first, or write elsewhere', param, ctx)
        if not os.access(folder, os.W_OK):
            self.fail(f'the folder "{folder}" is not writable: choose another', param, ctx)
        if self.suffixes and path.suffix.lower() not in self.suffixes:
            self.fail(f'cannot tell what to write as "{path.suffix or path.name}": name the file with one of '
                      f"{', '.join(self.suffixes)}", param, ctx)
        return path


class OutputFolder(click.Path):
    """A folder the command will write into (made if missing): it must not be a file, and must be writable."""

    def __init__(self):
        super().__init__(file_okay=False, path_type=Path)

    def convert(self, value, param, ctx) -> Path:  # noqa: ANN001 - click's signature
        path = Path(super().convert(value, param, ctx))
        existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
        if not existing.is_dir():
            self.fail(f'"{existing}" is a file, not a folder', param, ctx)
        if not os.access(existing, os.W_OK):
            self.fail(f'the folder "{existing}" is not writable: choose another', param, ctx)
        return path


def output_options(command: Callable) -> Callable:
    """``--format`` and ``-o``."""
    command = click.option("-o", "--output", type=OutputFile(dash_is_stdout=True),
                           help="Write to this file (atomically) instead of the terminal; - is stdout.")(command)
    return click.option("--format", "fmt", type=click.Choice(FORMATS),
                        help="table (default), json, csv or xlsx (an Excel workbook, with -o; solve and frontier); "
                             "inferred from -o's suffix when not given.")(command)


def debug_option(command: Callable) -> Callable:
    """``--debug`` after the command name too (``main`` reads it)."""
    return click.option("--debug", is_flag=True, hidden=True, expose_value=False, help="Show tracebacks.")(command)


def emit(text: str, output: Path | None) -> None:
    """Print ``text``, or write it atomically to ``output``; a Ctrl-C meanwhile stops the command only
    once the text is written whole (a program reading stdout gets the complete document, or none)."""
    with interrupts_deferred():
        if output is None:
            click.echo(text, nl=not text.endswith("\n"))
        else:
            write_text(output, text)
            click.echo(f"wrote {output}", err=True)


def say_why_no_result(reason: str, explanation: Explanation | None, budgets_option: bool = False) -> None:
    """On stderr, why there is no result and each change that alone makes one possible, as a ``--set``: for
    a result written to a file, so that the person who ran the command reads the reason where they look.
    ``budgets_option``: the budget comes from ``--budgets``, so a budget change is said as one there."""
    click.echo(reason, err=True)
    for relaxation in explanation.relaxations if explanation is not None else ():
        value = _setting_value(relaxation.value)
        if budgets_option and relaxation.key == "budget.total":
            click.echo(f"  to {relaxation.sentence}: give {value} in --budgets", err=True)
        elif relaxation.key is not None:
            click.echo(f"  to {relaxation.sentence}: --set {shlex.quote(f'{relaxation.key}={value}')}", err=True)


def _setting_value(value: float) -> str:
    """A number as ``--set`` reads it back exactly: whole numbers without a decimal point."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Run the block to its end even if SIGINT (Ctrl-C) arrives meanwhile, then act on that SIGINT.

    While the block runs, SIGINT is held pending in this thread (where the platform can: not on
    Windows), so that it cannot cut a write short: with stdout unbuffered (``PYTHONUNBUFFERED``,
    common in containers) Python drops the rest of a write a signal interrupts. A SIGINT the kernel
    hands to another thread (a solver's) is caught by a handler that only notes it. Either way it is
    raised again, under the handler that was there before, once the block is done. Only the main
    thread can do this: elsewhere the block runs unguarded.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        with _sigint_held():
            yield
    finally:  # a SIGINT held pending reaches the noting handler as it is released, so restore that last
        signal.signal(signal.SIGINT, previous)
    if caught:
        signal.raise_signal(signal.SIGINT)  # as the previous handler would have: KeyboardInterrupt, by default


@contextmanager
def _sigint_held() -> Iterator[None]:
    """SIGINT blocked in this thread (it stays pending until the block ends); nothing where there is no
    ``pthread_sigmask``."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def resolve_format(fmt: str | None, output: Path | None, formats: Sequence[str] = TEXT_FORMATS) -> str:
    """The format asked for, else the one ``output``'s suffix names, else a table; one of ``formats``
    (the command's). An Excel workbook is written to an .xlsx file only, never to the terminal."""
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    hint = "--format" if fmt is not None else "-o"
    if fmt is None:
        fmt = _format_of(suffix, formats)
    if fmt not in formats:
        raise click.BadParameter(f"this command writes {', '.join(formats)}, not {fmt}", param_hint=hint)
    if fmt != "xlsx" and suffix == "xlsx":
        raise click.BadParameter(f'"{output.name}" names an Excel workbook, but --format {fmt} writes text: give '
                                 f"--format xlsx, or name the file .{'txt' if fmt == 'table' else fmt}",
                                 param_hint="-o")
    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx writes an Excel workbook, which is not printed to a terminal: "
                               "give -o FILE.xlsx")
    if fmt == "xlsx" and suffix != "xlsx":
        raise click.BadParameter(f'name the workbook .xlsx, not "{output.name}" (Excel refuses other names)',
                                 param_hint="-o")
    return fmt


def _format_of(suffix: str, formats: Sequence[str]) -> str:
    """The format a file's suffix names (a table for .txt, .md or no suffix)."""
    if suffix in ("json", "csv", "xlsx"):
        return suffix
    if suffix not in ("", "txt", "text", "md"):
        names = ", ".join(f".{f}" for f in formats if f != "table")
        raise click.BadParameter(f'cannot tell the format from ".{suffix}": name the file {names} or .txt, '
                                 "or give --format", param_hint="-o")
    return "table"


def load(file: str, variant: str | None, sets: Sequence[str], campaigns: str | None,
         extra: Sequence[Override] = ()) -> Scenario:
    """The scenario at ``file`` with the variant and overrides applied, and the campaigns of ``campaigns``.

    ``file`` ``-`` is a JSON scenario on stdin, its file names relative to the current directory.
    The files read are noted as the command's inputs (see ``spare_inputs``).
    """
    with inputs_noted():
        if file == "-":
            return scenario_from_json(_stdin(), None, STDIN, variant, [*sets, *extra], campaigns)
        return load_scenario(file, variant, [*sets, *extra], campaigns)


@contextmanager
def inputs_noted() -> Iterator[None]:
    """The files read in the block are noted as the command's inputs."""
    with files_read() as read:
        try:
            yield
        finally:
            _inputs().update(read)


def _inputs() -> set[Path]:
    """The files the running command has read (their real paths)."""
    return click.get_current_context().find_root().meta.setdefault("optimizer.inputs", set())


def spare_inputs(*outputs: tuple[str, Path | None]) -> None:
    """A usage error (exit 2) for an output, given as (option, path), that names a file the command read:
    the result would replace its own input (the scenario, its campaign CSV, a history)."""
    inputs = _inputs()
    for option, path in outputs:
        if path is not None and Path(os.path.realpath(path)) in inputs:
            raise click.BadParameter(f'"{path}" is a file this command reads: writing the result there would '
                                     "replace it. Name another file", param_hint=option)


STDIN = "<stdin>"


def _stdin() -> bytes:
    """The bytes on stdin, read once per command (``validate`` loads the scenario once per variant)."""
    meta = click.get_current_context().find_root().meta
    if "optimizer.stdin" not in meta:
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None or stream.isatty():
            raise ScenarioError([Problem("", "- reads a JSON scenario from stdin, but nothing is piped in",
                                         "pipe the JSON in: tradeoff solve - < scenario.json")], STDIN)
        meta["optimizer.stdin"] = stream.read()
    return meta["optimizer.stdin"]


def with_solver_settings(scenario: Scenario, options: SolveOptions) -> Scenario:
    """The scenario with the solver settings it was solved with (the command line's) in its ``[solver]``,
    as an export's assumptions record them."""
    settings = SolverSpec(name=options.solver, tolerance=options.tolerance, time_limit=options.time_limit,
                          mip_gap=options.mip_gap)
    return scenario.replace(solver=settings)


def options_for(scenario: Scenario, **settings: object) -> SolveOptions:
    """Solve options from the command line (a usage error when they make no sense)."""
    try:
        return SolveOptions.for_scenario(scenario, **settings)
    except ValueError as error:
        raise click.UsageError(str(error)) from None


@contextmanager
def problems_of(file: str) -> Iterator[None]:
    """Problems found after loading (an unknown ``--against``, say) are reported against ``file``,
    not the scenario's name."""
    source = shown_name(file)
    try:
        yield
    except ScenarioError as error:
        if error.source == source:
            raise
        raise ScenarioError(error.problems, source) from None


def shown_name(file: str) -> str:
    """How messages name the scenario file: ``<stdin>`` for ``-``."""
    return STDIN if file == "-" else file


@contextmanager
def stage_line(label: str, stream: TextIO | None = None) -> Iterator[Callable[[str], None] | None]:
    """A progress callback showing the current stage and the time so far on one line of a
    terminal (stderr), cleared at the end; None when not on a terminal."""
    stream = sys.stderr if stream is None else stream
    if not stream.isatty():
        yield None
        return
    started = time.perf_counter()
    width = 0

    def report(stage: str) -> None:
        nonlocal width
        line = f"{label}: {stage}... ({time.perf_counter() - started:.1f} s)"
        stream.write("\r" + line.ljust(width))
        stream.flush()
        width = max(width, len(line))

    try:
        yield report
    finally:
        stream.write("\r" + " " * width + "\r")
        stream.flush()


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on a terminal (stderr), or None when not on one."""
    if not sys.stderr.isatty() or total <= 0:
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        def report(done: int, _total: int) -> None:
            bar.update(max(done - bar.pos, 0))

        yield report
