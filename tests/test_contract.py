"""The embedding contract: the JSON Schemas match the code and the committed copies, validate every
example scenario and every JSON the CLI prints, and refuse what the tool refuses; ``import optimizer``
has no side effects, and the library logs through ``logging`` only."""

from __future__ import annotations

import ast
import copy
import functools
import json
import logging
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import optimizer
from optimizer.cli import EXIT_INFEASIBLE, EXIT_OK, run
from optimizer.pareto.result import FrontierPoint
from optimizer.plan import SCHEMA_VERSION
from optimizer.schemas import DIALECT, KINDS, json_schema, schema_text

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted((ROOT / "scenarios").glob("*.toml"))


@functools.cache
def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(json_schema(kind))


def problems(kind: str, document: Any) -> list[str]:
    """What the schema of ``kind`` finds wrong with ``document``, each with its place."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in validator(kind).iter_errors(document)]


def worked_example() -> dict[str, Any]:
    """The scenario of docs/embedding.md's worked example."""
    (block,) = re.findall(r"```json\n(.*?)```", (DOCS / "embedding.md").read_text(), flags=re.S)
    return json.loads(block)


# --- the schemas themselves ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_committed_schema_is_what_the_code_generates(kind):
    committed = DOCS / f"{kind}.schema.json"
    assert committed.is_file() and committed.read_text(encoding="utf-8") == schema_text(kind), (
        f"docs/{kind}.schema.json differs from the code: regenerate it with "
        f"`tradeoff schema {kind} -o docs/{kind}.schema.json` (and say what changed for embedders)")


@pytest.mark.parametrize("kind", KINDS)
def test_schemas_are_draft_2020_12_and_state_their_version(kind):
    schema = json_schema(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DIALECT and schema["title"] and schema["description"]
    assert schema["$id"] == f"urn:kpi-tradeoff:{kind}:{SCHEMA_VERSION}"
    documents = [schema, *schema["$defs"].values()]
    versions = [d["properties"]["schema_version"] for d in documents if "schema_version" in d.get("properties", {})]
    assert len(versions) == {"scenario": 0, "plan": 1, "frontier": 2, "report": 2}[kind]  # a sweep; a plan in a report
    assert all(v["const"] == SCHEMA_VERSION for v in versions)


def test_the_schema_command_prints_and_writes_the_schema(tmp_path, capsys):
    assert run(["schema", "plan"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == json_schema("plan")
    assert run(["schema", "frontier", "-o", str(tmp_path / "f.schema.json")]) == EXIT_OK
    assert json.loads((tmp_path / "f.schema.json").read_text()) == json_schema("frontier")
    assert run(["schema", "plans"]) == 2


# --- scenarios: the schema accepts what the tool accepts, and refuses what it refuses ---------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_scenario_and_its_json_form_validate(path):
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    assert problems("scenario", document) == []
    assert problems("scenario", json.loads(json.dumps(document))) == []
    optimizer.load_scenario(path)  # and the tool reads it


def test_the_worked_example_validates_and_loads():
    assert problems("scenario", worked_example()) == []
    optimizer.scenario_from_document(worked_example())


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
        node = document
        for part in parents:
            node = node[part]
        node[last] = value
    return change


REFUSED = {
    "unknown top-level key": _set("budjet", {"total": 1}),
    "unknown campaign key": _set("campaigns/0/spend/maximum", 5),
    "unknown curve": _set("campaigns/0/impressions/curve", "sigmoid"),
    "curve parameter of another family": _set("campaigns/0/impressions/half", 5),
    "a number in quotes": _set("budget/total", "100000"),
    "a stage that does not exist": _set("campaigns/0/stage", "convertion"),
    "a rate of no outcome": _set("campaigns/0/clicks/of", "views"),
    "a pool with two measures": _set("pools/media/competitor_impressions", 5),
    "a pool with none": _set("pools/media", {"label": "Media"}),
    "a constraint without a bound": _set("constraints/0", {"kpi": "leads"}),
    "maximize and minimize": _set("objective/minimize", "spend"),
    "a selection's unknown stage": _set("constraints/0/where", {"stage": ["awareness", "loyalty"]}),
    "no campaigns": _set("campaigns", []),
    "a fraction above 1": _set("pools/media/som", 1.5),
}


@pytest.mark.parametrize("change", REFUSED.values(), ids=REFUSED.keys())
def test_the_schema_refuses_what_the_loader_refuses(change):
    document = worked_example()
    change(document)
    assert problems("scenario", document), "the schema accepts it"
    with pytest.raises(optimizer.ScenarioError):
        optimizer.scenario_from_document(document)


ACCEPTED = {
    "a selection's single value": _set("constraints/0", {"kpi": "share", "where": {"stage": "awareness"}, "max": 0.5}),
    "a selection's list": _set("constraints/0", {"kpi": "spend", "where": {"name": ["Video", "Social"]}, "max": 9e4}),
    "inline tabular points": _set("campaigns/0/leads", {"curve": "tabular", "points": [[0, 0], [90000, 700]]}),
    "a variant of dotted keys": _set("variants", {"big": {"budget.total": 150000, "campaigns[0].spend.max": 1e5}}),
    "a variant of nested tables": _set("variants", {"big": {"budget": {"total": 150000}}}),
    "null for an optional table": _set("budget", None),
}


@pytest.mark.parametrize("change", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_the_schema_accepts_the_forms_the_loader_accepts(change):
    document = worked_example()
    change(document)
    assert problems("scenario", document) == []
    optimizer.scenario_from_document(document, variant="big" if document.get("variants") else None)


# --- results: every JSON the CLI prints -----------------------------------------------------


def cli_json(args: list[str], capsys, expected: int = EXIT_OK) -> Any:
    code = run(args)
    out, err = capsys.readouterr()
    assert code == expected, err
    return json.loads(out)


B2B = str(ROOT / "scenarios" / "b2b_saas.toml")
HISTORY = str(ROOT / "scenarios" / "history_example.toml")


def test_a_plan_validates(capsys):
    plan = cli_json(["solve", B2B, "--format", "json"], capsys)
    assert problems("plan", plan) == []
    assert plan["allocation"] and plan["shadow_prices"]


@pytest.mark.parametrize("setting", ["budget.total=10", "constraints[0].min=0.99"], ids=["bounds", "explained"])
def test_a_plan_with_no_feasible_solution_validates(setting, capsys):
    plan = cli_json(["solve", B2B, "--format", "json", "--set", setting], capsys, EXIT_INFEASIBLE)
    assert plan["status"] == "infeasible" and plan["allocation"] == [] and plan["explanation"]["relaxations"]
    assert problems("plan", plan) == []


def test_a_plan_with_no_feasible_solution_has_every_kpi_key_as_null(capsys):
    """The keys a feasible plan's ``kpis`` has, every one null; ``sov`` names every pool of the scenario."""
    feasible = cli_json(["solve", B2B, "--format", "json"], capsys)
    plan = cli_json(["solve", B2B, "--format", "json", "--set", "budget.total=10"], capsys, EXIT_INFEASIBLE)
    assert set(plan["kpis"]) == set(feasible["kpis"]) and set(plan["current"]) == set(feasible["current"])
    pools = set(tomllib.loads(Path(B2B).read_text(encoding="utf-8"))["pools"])
    assert plan["kpis"]["sov"] == dict.fromkeys(pools) and set(plan["current"]["sov"]) == pools
    assert all(value is None for kpi, value in plan["kpis"].items() if kpi not in ("sov", "esov"))
    assert plan["kpis"]["esov"] == {}


def test_a_plan_with_uncertainty_validates(capsys):
    plan = cli_json(["solve", HISTORY, "--format", "json", "--uncertainty", "3"], capsys)
    assert plan["uncertainty"]["draws"] == 3
    assert problems("plan", plan) == []


def fixed_point_keys() -> set[str]:
    return {f.name for f in fields(FrontierPoint)} - {"traded", "primary"}


def check_frontier(document: dict[str, Any]) -> None:
    """Valid, and each point's two KPI-named keys are exactly those its document names."""
    assert problems("frontier", document) == []
    named = {document["primary"], document["secondary"]}
    for point in document["points"]:
        assert set(point) - fixed_point_keys() == named - fixed_point_keys()
        assert named <= set(point)


def test_a_frontier_validates(capsys):
    curve = cli_json(["frontier", B2B, "--format", "json", "--points", "5"], capsys)
    assert curve["kind"] == "frontier" and len(curve["points"]) >= 5
    check_frontier(curve)


def test_a_budget_sweep_validates(capsys):
    sweep = cli_json(["frontier", B2B, "--format", "json", "--points", "5", "--budgets", "200000,300000"], capsys)
    assert sweep["kind"] == "frontier_sweep" and [f["budget"] for f in sweep["frontiers"]] == [200000, 300000]
    assert problems("frontier", sweep) == []
    for curve in sweep["frontiers"]:
        check_frontier(curve)


def test_budgets_give_a_sweep_even_for_one_budget(tmp_path, capsys):
    """``--budgets`` promises a ``frontier_sweep`` (docs/embedding.md), whatever the number of budgets."""
    path = tmp_path / "three.json"
    path.write_text(json.dumps(worked_example()))
    sweep = cli_json(["frontier", str(path), "--format", "json", "--points", "3", "--budgets", "120000"], capsys)
    assert sweep["kind"] == "frontier_sweep" and [f["budget"] for f in sweep["frontiers"]] == [120000]
    assert problems("frontier", sweep) == []
    saved = tmp_path / "sweep.json"
    saved.write_text(json.dumps(sweep))
    assert run(["chart", str(saved), "-o", str(tmp_path / "sweep.svg")]) == EXIT_OK
    assert (tmp_path / "sweep.svg").read_text().startswith("<?xml")


def test_a_frontier_with_no_feasible_plan_validates(capsys):
    curve = cli_json(["frontier", B2B, "--format", "json", "--points", "5", "--set", "budget.total=10"], capsys,
                     EXIT_INFEASIBLE)
    assert curve["points"] == [] and curve["explanation"] is not None
    assert problems("frontier", curve) == []


def test_a_frontier_with_uncertainty_validates(capsys):
    curve = cli_json(["frontier", HISTORY, "--format", "json", "--points", "5", "--uncertainty", "2",
                      "--tolerance", "0.01"], capsys)
    assert curve["band"] and curve["uncertainty"]["draws"] == 2
    check_frontier(curve)


# --- the schemas are not vacuous -------------------------------------------------------------


@functools.cache
def small_plan() -> dict[str, Any]:
    return optimizer.solve(optimizer.scenario_from_document(worked_example())).to_dict()


@functools.cache
def small_frontier() -> dict[str, Any]:
    return optimizer.frontier(optimizer.scenario_from_document(worked_example()), points=3).to_dict()


def _drop(path: str) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
        node = document
        for part in parents:
            node = node[part]
        del node[last]
    return change


BROKEN_PLANS = {
    "no status": _drop("status"),
    "an unknown key": _set("extra", 1),
    "an unknown key in a campaign's line": _set("allocation/0/roi", 1.0),
    "an unknown KPI": _set("kpis/reach", 1.0),
    "a status that does not exist": _set("status", "great"),
    "another schema version": _set("schema_version", "2"),
    "a spend as text": _set("allocation/0/spend", "1000"),
    "no solver info": _drop("solver/seconds"),
    "a field with a default left out": _drop("solver/milp_campaigns"),
    "a KPI left out": _drop("kpis/cpl"),
    "the pools' SOV left out": _drop("kpis/sov"),
    "a KPI of today's split left out": _drop("current/leads"),
}


@pytest.mark.parametrize("change", BROKEN_PLANS.values(), ids=BROKEN_PLANS.keys())
def test_the_plan_schema_refuses_a_broken_plan(change):
    plan = copy.deepcopy(small_plan())
    assert problems("plan", plan) == []
    change(plan)
    assert problems("plan", plan)


BROKEN_FRONTIERS = {
    "no points": _drop("points"),
    "an unknown kind": _set("kind", "frontiers"),
    "a third KPI-named key in a point": _set("points/0/reach", 1.0),
    "a fourth KPI-named key": lambda curve: curve["points"][0].update({"sov.search": 0.3, "mqls": 9.0}),
    "a point without its price": _drop("points/0/primary_lost_per_point"),
    "a curve with an unknown key": _set("campaigns/0/colour", "red"),
}


@pytest.mark.parametrize("change", BROKEN_FRONTIERS.values(), ids=BROKEN_FRONTIERS.keys())
def test_the_frontier_schema_refuses_a_broken_frontier(change):
    curve = copy.deepcopy(small_frontier())
    assert problems("frontier", curve) == []
    change(curve)
    assert problems("frontier", curve)
    assert problems("frontier", {"schema_version": SCHEMA_VERSION, "kind": "frontier_sweep", "frontiers": [curve]})


# --- no import-time side effects; logging only -------------------------------------------------

IMPORT_CHECK = """
import logging, sys, warnings
import highspy, numpy, pandas, pulp, pydantic, scipy.optimize, scipy.sparse  # their own import-time filters
filters, handlers = list(warnings.filters), list(logging.getLogger().handlers)
import optimizer
assert "matplotlib" not in sys.modules, "import optimizer imported matplotlib"
assert warnings.filters == filters, "import optimizer changed the warnings filters"
root = logging.getLogger()
assert root.handlers == handlers and root.level == logging.WARNING, "import optimizer configured the root logger"
library = logging.getLogger("optimizer").handlers
assert [type(h) for h in library] == [logging.NullHandler], library
"""


def test_import_optimizer_has_no_side_effects(tmp_path):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", IMPORT_CHECK], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
    assert list(tmp_path.iterdir()) == [], "import optimizer wrote files"


def test_the_chart_functions_are_still_exported():
    from optimizer import charts, frontier_chart

    assert frontier_chart is charts.frontier_chart
    assert all(getattr(optimizer, name) is not None for name in optimizer.__all__)
    assert set(optimizer.__all__) <= set(dir(optimizer))
    with pytest.raises(AttributeError):
        optimizer.no_such_function  # noqa: B018


def test_a_solve_and_a_frontier_log_through_the_optimizer_logger(caplog):
    scenario = optimizer.scenario_from_document(worked_example())
    with caplog.at_level(logging.INFO, logger="optimizer"):
        plan = optimizer.solve(scenario)
        optimizer.frontier(scenario, points=3)
    records = [r for r in caplog.records if r.name.startswith("optimizer.")]
    solved = [r.getMessage() for r in records if r.name == "optimizer.solver.run"]
    traced = [r.getMessage() for r in records if r.name == "optimizer.pareto.sweep"]
    assert any("highs" in m and plan.status.value in m and f"{plan.info.seconds:.2f} s" in m for m in solved), solved
    assert traced and "sov.media" in traced[-1] and "solves" in traced[-1], traced


def _writes_to_the_terminal(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = ast.unparse(node.func)
    return name in ("print", "click.echo", "click.secho", "sys.stdout.write", "sys.stderr.write", "pprint")


def test_the_library_never_prints():
    """Only the CLI modules write to the terminal; the library returns results and logs."""
    offenders = []
    for path in sorted((ROOT / "optimizer").rglob("*.py")):
        if path.name.startswith("cli") or path.name == "__main__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(tree) if _writes_to_the_terminal(n)]
    assert offenders == []
