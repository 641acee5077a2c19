"""``tradeoff report --json``: the report's content as a document, and the same plan, constraints and prices
as ``tradeoff solve`` gives for the scenario; a budget's worth is what one more $1,000 buys."""

from __future__ import annotations

import functools
import json
import tomllib
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from optimizer import load_scenario, solve
from optimizer.cli import EXIT_INPUT, EXIT_OK, run
from optimizer.pareto.api import with_budget
from optimizer.pareto.recommend import at_level
from optimizer.plan import ShadowPrice
from optimizer.plan_text import shown_price
from optimizer.schemas import json_schema

ROOT = Path(__file__).resolve().parents[1]
B2B = ROOT / "scenarios" / "b2b_saas.toml"
RUNS = {"b2b": (), "b2b-stretch": ("--variant", "stretch"), "b2b-stretch-knee": ("--variant", "stretch",
                                                                                   "--recommend", "knee")}
"""The runs compared: the scenario's own plan is recommended in the first two, a pinned level in the third."""
STEP = 1_000.0


@functools.cache
def report_document(name: str, folder: Path) -> dict:
    """``tradeoff report --json`` of the run ``name``, written once for the module."""
    target = folder / f"{name}.json"
    assert run(["report", str(B2B), *RUNS[name], "--points", "7", "--json", str(target)]) == EXIT_OK
    return json.loads(target.read_text(encoding="utf-8"))


@functools.cache
def solve_document(args: tuple[str, ...], folder: Path) -> dict:
    """``tradeoff solve --format json`` of the scenario with ``args``."""
    target = folder / f"solve{len(list(folder.iterdir()))}.json"
    assert run(["solve", str(B2B), *args, "--format", "json", "-o", str(target)]) == EXIT_OK
    return json.loads(target.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("report_json")


def page_worth(price: dict, currency: str) -> tuple[float, str]:
    """A plan document's shadow price in the units the report's page states (``shown_price``)."""
    return shown_price(ShadowPrice(**price), currency)


@pytest.mark.parametrize("name", ["b2b", "b2b-stretch"])
def test_the_report_shows_the_plan_solve_gives_with_its_constraints_and_prices(name, folder):
    report = report_document(name, folder)
    assert not report["recommended"]["pinned"], "the scenario's own plan reaches the recommended level"
    solved = solve_document(RUNS[name], folder)
    assert {r["campaign"]: r["spend"] for r in report["campaigns"]} == pytest.approx(
        {r["campaign"]: r["spend"] for r in solved["allocation"]}, rel=1e-6, abs=1e-3)
    currency = solved["scenario"]["currency"]
    expected = {p["constraint"]: page_worth(p, currency) for p in solved["shadow_prices"]}
    shown = {c["constraint"]: (c["worth"], c["unit"]) for c in report["binding_constraints"]}
    assert shown.keys() == expected.keys()
    for constraint, (worth, unit) in expected.items():
        assert shown[constraint][1] == unit, constraint
        assert shown[constraint][0] == pytest.approx(worth, rel=1e-6), constraint


@functools.cache
def frontier_document(args: tuple[str, ...], folder: Path) -> dict:
    """``tradeoff frontier --format json`` of the scenario with ``args``."""
    target = folder / f"frontier{len(list(folder.iterdir()))}.json"
    assert run(["frontier", str(B2B), *args, "--points", "7", "--format", "json", "-o", str(target)]) == EXIT_OK
    return json.loads(target.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["b2b", "b2b-stretch"])
def test_the_frontier_gives_the_reports_point_with_its_constraints_and_prices(name, folder):
    """The frontier's recommended point is the report's plan (to the frontier's own breakpoints), and its
    binding constraints and their worth are the report's, in the plan document's units."""
    report, traced = report_document(name, folder), frontier_document(RUNS[name], folder)
    point = traced["points"][traced["recommended"]]
    assert point[traced["primary"]] == pytest.approx(report["recommended"]["primary"], rel=1e-4)
    assert point[traced["secondary"]] == pytest.approx(report["recommended"]["traded"], abs=1e-4)
    budget = sum(point["allocation"].values())
    planned = {r["campaign"]: r["spend"] for r in report["campaigns"]}
    assert point["allocation"] == pytest.approx(planned, abs=5e-3 * budget)
    currency = traced["scenario"]["currency"]
    shown = {c["constraint"]: (c["worth"], c["unit"]) for c in report["binding_constraints"]}
    frontier_worth = {p["constraint"]: page_worth(p, currency) for p in traced["recommended_constraints"]}
    assert frontier_worth.keys() == shown.keys()
    for constraint, (worth, unit) in frontier_worth.items():
        assert shown[constraint] == (pytest.approx(worth, rel=1e-6), unit), constraint


def budget_worth(report: dict) -> float:
    (row,) = [c for c in report["binding_constraints"] if c["kind"] == "budget"]
    assert row["unit"] == "leads per extra $1,000 of budget"
    return row["worth"]


@pytest.mark.parametrize("name", list(RUNS))
def test_the_budgets_worth_is_what_1000_more_buys(name, folder):
    """The plan solved at its budget and at $1,000 more, at the recommended level when one is pinned."""
    report = report_document(name, folder)
    variant = "stretch" if "stretch" in name else None
    scenario = load_scenario(B2B, variant=variant)
    if report["recommended"]["pinned"]:
        scenario = at_level(scenario, report["secondary"], report["recommended"]["traded"])
    budget = scenario.budget.total
    at, more = (solve(with_budget(scenario, budget + extra)) for extra in (0.0, STEP))
    assert at.kpis["leads"] == pytest.approx(report["plan"]["kpis"]["leads"], rel=1e-6)
    difference = (more.kpis["leads"] - at.kpis["leads"]) * 1_000 / STEP
    assert budget_worth(report) == pytest.approx(difference, rel=0.02)


@pytest.mark.parametrize("name", list(RUNS))
def test_the_report_document_validates_against_its_schema(name, folder):
    report = report_document(name, folder)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
              for e in Draft202012Validator(json_schema("report")).iter_errors(report)]
    assert not errors
    assert report["kind"] == "report" and report["schema_version"] == "1"
    assert report["headline"].startswith("Recommended: ") and len(report["prices"]) == 3
    assert report["notes"] and report["assumptions"]


def test_the_knee_is_pinned_and_its_floor_priced_as_the_frontier_prices_it(folder):
    report = report_document("b2b-stretch-knee", folder)
    assert report["recommended"]["pinned"]
    (level,) = [c for c in report["binding_constraints"] if c["constraint"].endswith("at the recommended level")]
    assert level["worth"] == pytest.approx(report["prices"][0]["price"], rel=1e-9)


def test_the_json_is_not_written_over_an_input(tmp_path, capsys):
    scenario = tmp_path / "scenario.json"
    text = json.dumps(tomllib.loads(B2B.read_text(encoding="utf-8")))
    scenario.write_text(text, encoding="utf-8")
    assert run(["report", str(scenario), "--json", str(scenario)]) == EXIT_INPUT
    assert "a file this command reads" in capsys.readouterr().err
    assert scenario.read_text(encoding="utf-8") == text


def test_the_report_schema_refuses_a_broken_report(folder):
    schema = Draft202012Validator(json_schema("report"))
    report = report_document("b2b", folder)
    for broken in ({**report, "kind": "frontier"}, {**report, "extra": 1},
                   {k: v for k, v in report.items() if k != "binding_constraints"},
                   {**report, "binding_constraints": [{"constraint": "budget", "worth": "8.1"}]}):
        assert not schema.is_valid(broken)


def test_a_floor_out_of_reach_is_the_first_note_and_no_price_outgrows_the_plan(tmp_path):
    """With a CPL cap of $46 the scenario's 28% floor is out of reach: the report recommends the far end, says
    so first, and quotes no rate there as a huge number (a one-step relaxation worth more than the whole plan)."""
    target = tmp_path / "report.json"
    cap = 'constraints."CPL cap".max=46'
    assert run(["report", str(B2B), "--set", cap, "--points", "7", "--json", str(target)]) == EXIT_OK
    report = json.loads(target.read_text(encoding="utf-8"))
    assert "out of reach" in report["notes"][0]
    leads = report["recommended"]["primary"]
    for row in report["binding_constraints"]:
        if row["worth"] is None:
            assert row["steep"]["change"] <= leads, row
        else:
            assert row["worth"] < leads, row
    fixed_budget = next(view for view in report["prices"] if view["view"] == "fixed_budget")
    assert fixed_budget["price"] is None, "no plan goes a step past the far end: no rate to quote"
    assert "the last" in fixed_budget["sentence"]
