"""The contract as another program meets it: the installed ``tradeoff`` script in a real subprocess.

stdout carries only the document asked for, whatever the solver prints and however it prints it:
each command runs with a stand-in for a noisy solver release (``LOUD``: a ``Highs`` that writes to
file descriptor 1 from C's level as it is built and as it runs, as highspy 1.16 prints its banner),
and its stdout must parse as the document (JSON, CSV or the one line the command promises).
Ctrl-C ends the command with exit 130 and "Interrupted." at any moment, start-up included; each
signal is sent on a signal from the process (a line on its stderr), never after a fixed sleep.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.cli import EXIT_INFEASIBLE, EXIT_OK, EXIT_READER_GONE

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
B2B = SCENARIOS / "b2b_saas.toml"
LARGE = SCENARIOS / "large_portfolio.toml"
TRADEOFF = Path(sys.executable).with_name("tradeoff")
BANNER = b"LOUD SOLVER BANNER: licence text a release prints on descriptor 1"

LOUD = f'''
import os
import highspy

_Quiet = highspy.Highs


class Loud(_Quiet):
    """highspy as a release that prints from C's level as it is built and as it runs."""

    def __init__(self, *args, **kwargs):
        os.write(1, {BANNER!r} + b" (built)\\n")
        super().__init__(*args, **kwargs)

    def run(self, *args, **kwargs):
        os.write(1, {BANNER!r} + b" (run)\\n")
        return super().run(*args, **kwargs)


highspy.Highs = Loud
'''

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="descriptors, signals and ptys are POSIX's here")


@pytest.fixture(scope="module")
def loud(tmp_path_factory) -> dict[str, str]:
    """The environment of a process whose solver prints on descriptor 1 (a ``sitecustomize`` patches it)."""
    folder = tmp_path_factory.mktemp("loud")
    (folder / "sitecustomize.py").write_text(LOUD, encoding="utf-8")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """The three campaigns of docs/embedding.md's worked example, as a file: frontiers and reports in a blink."""
    path = tmp_path_factory.mktemp("small") / "three.json"
    path.write_bytes(worked_example())
    return path


def tradeoff(*args: str | Path, env: dict[str, str] | None = None, stdin: bytes | None = None,
             cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(TRADEOFF), *map(str, args)], input=stdin, capture_output=True, env=env, cwd=cwd,
                          timeout=300)


def test_the_stand_in_solver_does_print_on_descriptor_1(loud):
    """Without this, every test below could pass on a quiet solver."""
    done = subprocess.run([sys.executable, "-c", "import highspy; highspy.Highs()"], capture_output=True, env=loud)
    assert BANNER in done.stdout


def worked_example() -> bytes:
    import re

    (block,) = re.findall(r"```json\n(.*?)```", (ROOT / "docs" / "embedding.md").read_text(), flags=re.S)
    return block.encode("utf-8")


JSON_RUNS = {
    "solve": (["solve", B2B, "--format", "json"], None),
    "solve from stdin": (["solve", "-", "--format", "json"], "worked"),
    "solve with CBC": (["solve", B2B, "--format", "json", "--solver", "cbc"], None),
    "frontier": (["frontier", "SMALL", "--format", "json", "--points", "5"], None),
    "frontier from stdin": (["frontier", "-", "--format", "json", "--points", "5"], "worked"),
    "a budget sweep": (["frontier", "SMALL", "--format", "json", "--points", "3", "--budgets", "90000,120000"], None),
    "schema": (["schema", "plan"], None),
    "kpis": (["kpis", "--format", "json"], None),
}


@pytest.mark.parametrize(("args", "stdin"), JSON_RUNS.values(), ids=JSON_RUNS.keys())
def test_stdout_is_the_json_document_and_nothing_else(args, stdin, loud, small):
    args = [small if arg == "SMALL" else arg for arg in args]
    done = tradeoff(*args, env=loud, stdin=worked_example() if stdin else None)
    assert done.returncode == EXIT_OK, done.stderr.decode()
    json.loads(done.stdout)  # the whole of stdout is one document
    assert b"Traceback" not in done.stderr
    if args[0] in ("solve", "frontier"):  # what the solver prints as it runs is on stderr, where a person sees it
        assert BANNER + b" (run)" in done.stderr or "cbc" in args
        assert BANNER + b" (built)" not in done.stderr  # the banner as it is built is dropped


CSV_RUNS = {
    "solve": (["solve", B2B, "--format", "csv"], "campaign"),
    "frontier": (["frontier", "SMALL", "--format", "csv", "--points", "5"], "leads"),
    "fit": (["fit", SCENARIOS / "history_example.csv"], "name"),
}


@pytest.mark.parametrize(("args", "column"), CSV_RUNS.values(), ids=CSV_RUNS.keys())
def test_stdout_is_the_csv_table_and_nothing_else(args, column, loud, small):
    done = tradeoff(*[small if arg == "SMALL" else arg for arg in args], env=loud)
    assert done.returncode == EXIT_OK, done.stderr.decode()
    rows = list(csv.reader(io.StringIO(done.stdout.decode("utf-8"))))
    assert column in rows[0] and len(rows) > 1
    assert len({len(row) for row in rows}) == 1  # a table: no stray line


def test_the_fitted_campaigns_piped_to_a_file_solve(loud, tmp_path):
    """``tradeoff fit ... --scenario ... > campaigns.csv`` writes the CSV the scenario then reads."""
    fitted = tradeoff("fit", SCENARIOS / "history_example.csv", "--charts", tmp_path / "charts",
                      "--scenario", SCENARIOS / "history_example.toml", env=loud)
    assert fitted.returncode == EXIT_OK, fitted.stderr.decode()
    campaigns = tmp_path / "campaigns.csv"
    campaigns.write_bytes(fitted.stdout)
    solved = tradeoff("solve", SCENARIOS / "history_example.toml", "--campaigns", campaigns, "--format", "json",
                      env=loud)
    assert solved.returncode == EXIT_OK, solved.stderr.decode()
    assert json.loads(solved.stdout)["status"] == "optimal"


def test_validate_report_and_chart_print_their_one_line_or_nothing(loud, small, tmp_path):
    validated = tradeoff("validate", B2B, env=loud)
    assert validated.returncode == EXIT_OK and validated.stdout.decode().count("\n") == 1
    assert validated.stdout.decode().startswith(f"{B2B}: valid.")
    reported = tradeoff("report", small, "-o", tmp_path / "plan.pdf", "--points", "5", env=loud)
    assert reported.returncode == EXIT_OK, reported.stderr.decode()
    (headline,) = reported.stdout.decode().splitlines()
    assert headline.startswith("Recommended:")
    traced = tradeoff("frontier", small, "--points", "5", "-o", tmp_path / "frontier.json", env=loud)
    assert traced.returncode == EXIT_OK and traced.stdout == b""
    drawn = tradeoff("chart", tmp_path / "frontier.json", "-o", tmp_path / "frontier.png", env=loud)
    assert drawn.returncode == EXIT_OK and drawn.stdout == b"", drawn.stderr.decode()


def test_a_table_for_a_person_opens_with_the_plan(loud):
    done = tradeoff("solve", B2B, env=loud)
    assert done.returncode == EXIT_OK
    assert done.stdout.decode().splitlines()[0].startswith("Acme Analytics")
    assert BANNER not in done.stdout


# --- no plan, with -o --------------------------------------------------------------------------------


def test_with_o_a_scenario_with_no_plan_says_why_on_stderr(tmp_path):
    output = tmp_path / "plan.json"
    done = tradeoff("solve", B2B, "--set", 'constraints."CPL cap".max=30', "-o", output)
    assert done.returncode == EXIT_INFEASIBLE
    err = done.stderr.decode()
    explanation = json.loads(output.read_text())["explanation"]
    assert explanation["message"] in err
    settings = [shlex.split(line.partition("--set ")[2])[0] for line in err.splitlines() if "--set " in line]
    assert len(settings) == len(explanation["relaxations"]) > 0
    for setting in settings:  # each change it names, applied as written, makes a plan
        redone = tradeoff("solve", B2B, "--set", setting, "--format", "json")
        assert redone.returncode == EXIT_OK, setting


def test_with_o_a_frontier_with_no_plan_says_why_on_stderr(tmp_path):
    output = tmp_path / "frontier.json"
    done = tradeoff("frontier", B2B, "--set", "budget.total=1000", "--points", "3", "-o", output)
    assert done.returncode == EXIT_INFEASIBLE
    assert json.loads(output.read_text())["explanation"]["message"] in done.stderr.decode()


@pytest.mark.parametrize("unbuffered", ["1", pytest.param("", marks=pytest.mark.slow)],
                         ids=["PYTHONUNBUFFERED", "buffered"])  # unbuffered is where a partial write was lost
def test_a_reader_that_goes_away_early_is_told_from_no_plan(unbuffered):
    """``tradeoff solve ... | head -c 1``: exit 141 (as a shell says of a program SIGPIPE ended), not 1, and not
    0 as if the whole document had been read (a write the pipe took only part of is finished or fails)."""
    env = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
    process = subprocess.Popen([str(TRADEOFF), "solve", str(LARGE), "--format", "json"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=ROOT, env=env)
    assert process.stdout.read(1) == b"{"  # the document has begun (far more than a pipe holds is to come)
    process.stdout.close()
    with process.stderr:
        err = process.stderr.read().decode()
    assert process.wait(timeout=300) == EXIT_READER_GONE, err
    assert "Traceback" not in err and "Exception ignored" not in err
