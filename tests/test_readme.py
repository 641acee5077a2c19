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


@pytest.mark.parametrize("args", readme_commands(), ids=" ".join)
def test_every_readme_command_runs(args, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    args = [str(tmp_path / a) if a in ("plan.json", "plan.lp") else a for a in args]
    assert run(args) == EXIT_OK, capsys.readouterr().err
    for written in ("plan.json", "plan.lp"):
        assert not (ROOT / written).exists()


def test_readme_documents_every_command():
    for command in cli.commands:
        assert f"tradeoff {command}" in README


def test_readme_python_example_runs(monkeypatch):
    monkeypatch.chdir(ROOT)
    (example,) = code_blocks("python")
    exec(compile(example, "README.md", "exec"), {})  # noqa: S102 - the README's own example


def test_readme_documents_every_scenario_key():
    models = [schema.Scenario, schema.Campaign, schema.SpendSpec, schema.ConstraintSpec, schema.Where,
              schema.Pool, schema.ObjectiveSpec, schema.BudgetSpec, schema.SolverSpec, *schema.CURVE_SPECS.values(),
              schema.RateSpec]
    missing = {key for model in models for key in model.model_fields if f"`{key}`" not in README}
    assert not missing, f"undocumented keys: {sorted(missing)}"
