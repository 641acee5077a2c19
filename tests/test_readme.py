"""The README is a contract: its quick start, commands, Python example and key reference are checked."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from optimizer.cli import EXIT_OK, cli, run
from optimizer.scenario import schema

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_exactly_two_commands():
    first_section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", first_section, flags=re.S)
    assert block is not None
    assert block[1].split("\n")[:-1] == ["make demo", "make test"]
    assert README.index("## Quick start") == README.index("## "), "the quick start is the first section"


def test_make_targets_and_ci_run_the_documented_commands():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, flags=re.M) and re.search(r"^test:", makefile, flags=re.M)
    demo = re.search(r"^DEMO_SCENARIO := (\S+)", makefile, flags=re.M)
    assert demo is not None and (ROOT / demo[1]).is_file()
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert run(["solve", str(ROOT / demo[1])]) == EXIT_OK


def readme_commands() -> list[list[str]]:
    lines = [line.split("#", 1)[0].strip() for block in code_blocks("sh") for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("tradeoff ")]


OUTPUT_FLAGS = ("-o", "--output", "--chart", "--charts", "--write-lp", "--html", "--xlsx", "--json")


@pytest.mark.parametrize("args", readme_commands(), ids=" ".join)
def test_every_readme_command_runs(args, tmp_path, monkeypatch, capsys):
    """Each command runs in the repository; files it writes go to a temporary folder instead."""
    monkeypatch.chdir(ROOT)
    moved = [str(tmp_path / a) if k and args[k - 1] in OUTPUT_FLAGS else a for k, a in enumerate(args)]
    if moved[0] == "chart":  # redraws a frontier the README saved a step before
        assert run(["frontier", "scenarios/b2b_saas.toml", "--points", "5", "-o", str(tmp_path / moved[1])]) == EXIT_OK
        moved[1] = str(tmp_path / moved[1])
    assert run(moved) == EXIT_OK, capsys.readouterr().err
    assert not [p for suffix in ("png", "json", "svg", "pdf", "html", "xlsx") for p in ROOT.glob(f"*.{suffix}")]


def test_readme_documents_every_command():
    for command in cli.list_commands(None):
        assert f"tradeoff {command}" in README


def test_readme_python_example_runs(monkeypatch):
    monkeypatch.chdir(ROOT)
    (example,) = code_blocks("python")
    exec(compile(example, "README.md", "exec"), {})  # noqa: S102 - the README's own example


def test_readme_documents_every_scenario_key():
    models = [schema.Scenario, schema.Campaign, schema.SpendSpec, schema.ConstraintSpec, schema.Where,
              schema.Pool, schema.ObjectiveSpec, schema.BudgetSpec, schema.SolverSpec, *schema.CURVE_SPECS.values(),
              schema.RateSpec, schema.ReportSpec]
    missing = {key for model in models for key in model.model_fields if f"`{key}`" not in README}
    assert not missing, f"undocumented keys: {sorted(missing)}"
