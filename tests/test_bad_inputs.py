"""A corpus of bad scenarios (tests/bad_inputs/), each run through the real command line.

Every file holds mistakes a strategist makes: broken syntax, typos in keys, quoted numbers,
percentages where fractions belong, bad CSV cells, names that clash or point nowhere, files
outside the scenario's folder, bad variants and ``--set`` values, several problems at once.
``tests/bad_inputs/expected.toml`` says, for each file, every problem ``tradeoff validate`` (and
``solve`` on some) must report: where (the line starts with the location), what (fragments of
the message) and how to fix it (fragments of the fix). The run must exit 2, name the file, show
no traceback, and report exactly those problems, all in one run.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from optimizer.cli import EXIT_INPUT, EXIT_OK, run

CORPUS = Path(__file__).parent / "bad_inputs"
CASES: list[dict[str, Any]] = tomllib.loads((CORPUS / "expected.toml").read_text(encoding="utf-8"))["case"]
SCENARIO_SUFFIXES = (".toml", ".json")

# Files in a folder beside the corpus, for the symbolic links that lead out of it.
OUTSIDE_FILES = {
    "campaigns.csv": "name,channel,stage,spend.max,leads.curve,leads.unit_cost\n"
                     "Search: brand,search,conversion,40000,linear,80\n",
    "sim.csv": "spend,leads\n0,0\n3000,40\n6000,60\n",
}
PROBLEM_LINE = re.compile(r"^  - (?P<rest>.*) \(fix: (?P<fix>.+)\)$")


def scenario_files() -> list[str]:
    """The scenario files of the corpus (its CSV files are data the scenarios point to)."""
    return sorted(p.name for p in CORPUS.iterdir() if p.suffix in SCENARIO_SUFFIXES and p.name != "expected.toml")


def runs() -> list[Any]:
    """One test per case and command, named by the file, the command and the case's arguments."""
    params = []
    for case in CASES:
        for command in case.get("commands", ["validate"]):
            label = " ".join([command, case["file"], *case.get("args", [])])
            params.append(pytest.param(case, command, id=label))
    return params


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A copy of the corpus, a folder beside it, and the symbolic links the cases ask for."""
    root = tmp_path_factory.mktemp("bad_inputs")
    folder = root / "corpus"
    shutil.copytree(CORPUS, folder)
    outside = root / "outside"
    outside.mkdir()
    for name, text in OUTSIDE_FILES.items():
        (outside / name).write_text(text, encoding="utf-8")
    for case in CASES:
        for link, target in case.get("links", {}).items():
            with contextlib.suppress(OSError):  # no symbolic links here: those cases are skipped
                (folder / link).symlink_to(target)
    return folder


def problem_lines(err: str, path: Path) -> list[str]:
    """The problem lines of an error report, after checking its header names the file and the count."""
    header, *lines = err.splitlines()
    problems = [line for line in lines if line.startswith("  - ")]
    noun = "problem" if len(problems) == 1 else "problems"
    assert header == f"error: {path}: {len(problems)} {noun} found", err
    assert len(problems) == len(lines), f"lines that are not problems:\n{err}"
    return problems


def fits(line: str, expected: dict[str, Any]) -> bool:
    """Whether a reported problem is the expected one: its location, message and fix."""
    parsed = PROBLEM_LINE.match(line)
    if parsed is None or not parsed["rest"].startswith(f"{expected['at']}: "):
        return False
    message = parsed["rest"][len(expected["at"]) + 2:]
    return (all(words in message for words in expected["says"])
            and all(words in parsed["fix"] for words in expected["fix"]))


def unmatched(expected: Sequence[dict[str, Any]], lines: Sequence[str]) -> list[dict[str, Any]]:
    """The expected problems left over by the best one-to-one matching with the reported lines."""
    if not expected:
        return []
    first, rest = expected[0], expected[1:]
    best = [first, *unmatched(rest, lines)]
    for k, line in enumerate(lines):
        if fits(line, first):
            left = unmatched(rest, [*lines[:k], *lines[k + 1:]])
            if len(left) < len(best):
                best = left
            if not best:
                break
    return best


def test_the_corpus_covers_every_file_and_every_case_is_complete():
    files = scenario_files()
    assert len(files) >= 45
    assert {case["file"] for case in CASES} == set(files)
    for case in CASES:
        assert case["kind"] and case["problem"], case
        for problem in case["problem"]:
            assert problem["at"] and problem["says"] and problem["fix"], (case["file"], problem)


@pytest.mark.parametrize(("case", "command"), runs())
def test_a_bad_scenario_is_refused_with_every_problem_located_and_a_fix(corpus, capsys, case, command):
    path = corpus / case["file"]
    for link in case.get("links", {}):
        if not (corpus / link).is_symlink():
            pytest.skip("symbolic links are not available here")
    code = run([command, str(path), *case.get("args", [])])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err, err
    assert code == EXIT_INPUT, err
    assert out == ""
    lines = problem_lines(err, path)
    assert all(PROBLEM_LINE.match(line) for line in lines), f"a problem without a fix:\n{err}"
    missing = unmatched(case["problem"], lines)
    assert not missing, f"not reported as expected: {missing}\nreported:\n{err}"
    assert len(lines) == len(case["problem"]), f"unexpected problems:\n{err}"


@pytest.mark.parametrize("name", sorted({case["file"] for case in CASES if all(c.get("args") for c in CASES
                                                                                if c["file"] == case["file"])}))
def test_files_whose_mistakes_are_on_the_command_line_are_valid_alone(corpus, capsys, name):
    code = run(["validate", str(corpus / name)])
    _, err = capsys.readouterr()
    assert code == EXIT_OK, err
