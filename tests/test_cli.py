"""The `tradeoff` command: output formats, files, exit codes, and errors without tracebacks."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from optimizer import GLOSSARY
from optimizer.cli import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK, EXIT_SOLVER, cli, main, run
from optimizer.plan import ALLOCATION_COLUMNS
from optimizer.solver import cbc as cbc_adapter

ROOT = Path(__file__).resolve().parents[1]
B2B = str(ROOT / "scenarios" / "b2b_saas.toml")


def tradeoff(capsys, *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_solve_prints_the_plan_beside_the_current_split(capsys):
    code, out, _ = tradeoff(capsys, "solve", B2B)
    assert code == EXIT_OK
    assert "Optimal plan" in out and "of the true optimum" in out
    header = next(line for line in out.splitlines() if line.startswith("Campaign"))
    for column in ("Current", "Plan", "Change", "CPC", "CPL", "Marg. CPL"):
        assert column in header
    assert "Search: non-brand" in out and "Total" in out
    assert "Binding constraint" in out


def test_json_output_has_the_documented_shape_and_adds_up(capsys):
    code, out, _ = tradeoff(capsys, "solve", B2B, "--format", "json")
    assert code == EXIT_OK
    plan = json.loads(out)
    for key in ("schema_version", "status", "message", "objective", "gap", "bound", "kpis", "current",
                "allocation", "shadow_prices", "checks", "solver", "warnings"):
        assert key in plan
    assert plan["status"] == "optimal"
    assert set(plan["objective"]) == {"kpi", "sense", "value"}
    kpis = plan["kpis"]
    rows = plan["allocation"]
    assert {"campaign", "stage", "channel", "current_spend", "spend", "impressions", "clicks", "leads"} <= set(rows[0])
    for volume in ("spend", "impressions", "clicks", "leads"):
        assert sum(row[volume] for row in rows) == pytest.approx(kpis[volume], rel=1e-9)
    assert kpis["cpl"] == pytest.approx(kpis["spend"] / kpis["leads"], rel=1e-12)
    assert kpis["cpc"] == pytest.approx(kpis["spend"] / kpis["clicks"], rel=1e-12)
    assert set(kpis["sov"]) == {"search", "media"} and all(0 < v < 1 for v in kpis["sov"].values())
    assert plan["objective"]["value"] == pytest.approx(kpis["leads"], rel=1e-12)
    assert 0 <= plan["gap"] <= 1e-3
    assert plan["bound"] >= plan["objective"]["value"]
    assert all(check["ok"] for check in plan["checks"])
    assert all(price["price"] > 0 for price in plan["shadow_prices"])


def test_csv_output_is_the_allocation_table(capsys):
    code, out, _ = tradeoff(capsys, "solve", B2B, "--format", "csv")
    assert code == EXIT_OK
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == ALLOCATION_COLUMNS
    assert len(rows) == 9


def test_output_file_format_follows_its_suffix(tmp_path, capsys):
    target = tmp_path / "plan.json"
    code, out, err = tradeoff(capsys, "solve", B2B, "-o", str(target))
    assert code == EXIT_OK and out == ""
    assert json.loads(target.read_text())["status"] == "optimal"
    assert "wrote" in err


def test_a_failed_run_leaves_an_existing_output_untouched(tmp_path, capsys):
    target = tmp_path / "plan.json"
    target.write_text("precious")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nbudjet = 1\n')
    code, _, err = tradeoff(capsys, "solve", str(bad), "-o", str(target))
    assert code == EXIT_INPUT
    assert target.read_text() == "precious"
    assert list(tmp_path.iterdir()) == sorted([bad, target]) or set(tmp_path.iterdir()) == {bad, target}
    assert "Traceback" not in err


def test_infeasible_exits_1_and_says_why(capsys):
    code, out, _ = tradeoff(capsys, "solve", B2B, "--set", 'constraints."Search SOV floor".min=0.4')
    assert code == EXIT_INFEASIBLE
    assert "Search SOV floor" in out and "INFEASIBLE" in out


def test_bad_input_exits_2_with_every_problem_located(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nbudjet = 1\n[[campaigns]]\nname = "A"\nchannel = "s"\nstage = "awarenes"\n'
                   'leads = { curve = "linear", unit_cost = "20" }\n')
    code, out, err = tradeoff(capsys, "solve", str(bad))
    assert code == EXIT_INPUT and out == ""
    assert "4 problems" in err  # the budget typo also leaves the campaign without any spend limit
    assert 'did you mean "budget"' in err and 'did you mean "awareness"' in err
    assert 'campaigns[0] "A": leads.unit_cost' in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["solve", "validate"])
def test_campaigns_from_the_command_line_replace_the_files_own(tmp_path, capsys, command):
    exports = tmp_path / "exports"
    exports.mkdir()
    for name in ("local_services_campaigns.csv", "local_services_search_sim.csv"):
        (exports / name).write_text((ROOT / "scenarios" / name).read_text(encoding="utf-8"), encoding="utf-8")
    given = exports / "local_services_campaigns.csv"
    header = next(csv.reader(io.StringIO(given.read_text(encoding="utf-8"))))
    with given.open("a", newline="", encoding="utf-8") as handle:
        csv.DictWriter(handle, header).writerow({"name": "Extra: new line item", "channel": "display",
                                                 "stage": "conversion", "spend.max": "500",
                                                 "leads.curve": "linear", "leads.unit_cost": "40"})
    local = str(ROOT / "scenarios" / "local_services.toml")
    _, own, _ = tradeoff(capsys, command, local)
    code, out, err = tradeoff(capsys, command, local, "--campaigns", str(given))
    assert code == EXIT_OK, err
    assert "Extra: new line item" not in own
    assert ("Extra: new line item" in out) if command == "solve" else ("valid. 10 campaigns" in out), out


def test_usage_errors_exit_2(capsys):
    assert tradeoff(capsys, "frobnicate")[0] == EXIT_INPUT
    assert tradeoff(capsys, "solve", B2B, "--format", "yaml")[0] == EXIT_INPUT
    assert tradeoff(capsys, "solve", B2B, "--variant", "nope")[0] == EXIT_INPUT
    assert tradeoff(capsys, "solve", B2B, "--set", "budget.totl=5")[0] == EXIT_INPUT


def test_a_missing_solver_exits_3(monkeypatch, capsys):
    monkeypatch.setattr(cbc_adapter, "cbc_path", lambda: None)
    code, _, err = tradeoff(capsys, "solve", B2B, "--solver", "cbc")
    assert code == EXIT_SOLVER
    assert "CBC is not installed" in err and "Traceback" not in err


def test_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n')
    code = run(["--debug", "solve", str(bad)], debug=True)
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and "Traceback" in err and "ScenarioError" in err
    assert f"error: {bad}: " in err and "campaigns" in err


def test_validate_checks_the_file_and_its_variants(tmp_path, capsys):
    code, out, _ = tradeoff(capsys, "validate", B2B)
    assert code == EXIT_OK and "valid" in out and "stretch" in out
    broken = tmp_path / "plan.toml"
    broken.write_text(Path(B2B).read_text() + '\n[variants.broken]\n"budget.totl" = 1\n')
    code, _, err = tradeoff(capsys, "validate", str(broken))
    assert code == EXIT_INPUT and 'variant "broken"' in err


def test_kpis_lists_the_glossary(capsys):
    code, out, _ = tradeoff(capsys, "kpis")
    assert code == EXIT_OK
    for name in GLOSSARY:
        assert f"\n{name} " in out
    code, out, _ = tradeoff(capsys, "kpis", "--format", "json")
    assert {record["kpi"] for record in json.loads(out)} == set(GLOSSARY)


def test_every_command_has_help_with_examples(capsys):
    for command in ("solve", "validate", "kpis"):
        code, out, _ = tradeoff(capsys, command, "--help")
        assert code == EXIT_OK and "Examples:" in out


@pytest.mark.parametrize("entry", [["-m", "optimizer"], [str(ROOT / "cli.py")]])
def test_module_and_checkout_shim_run_the_command(entry):
    result = subprocess.run([sys.executable, *entry, "validate", B2B], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_errors_from_the_real_entry_point_have_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    result = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(bad)], capture_output=True, text=True)
    assert result.returncode == EXIT_INPUT
    assert "line 1" in result.stderr and "Traceback" not in result.stderr


def test_write_lp_writes_a_readable_program(tmp_path, capsys):
    target = tmp_path / "plan.lp"
    code, _, _ = tradeoff(capsys, "solve", B2B, "--write-lp", str(target), "--format", "json")
    assert code == EXIT_OK
    text = target.read_text()
    assert text.startswith("\\* plan *\\") and "Maximize" in text and "Subject To" in text
    assert "c0_budget" in text and "Search_SOV_floor" in text and "link_0" in text
    assert "spend_1_Search_non_brand" in text


@pytest.mark.parametrize("option", [["--tolerance", "0.5"], ["--time-limit", "0"], ["--tolerance", "1e-9"]])
def test_impossible_solve_options_exit_2(option, capsys):
    code, _, err = tradeoff(capsys, "solve", B2B, *option)
    assert code == EXIT_INPUT
    assert "Traceback" not in err and "internal error" not in err


# --- tradeoff frontier and tradeoff chart -----------------------------------------------------


def test_frontier_table_shows_every_point_with_its_prices(capsys):
    code, out, _ = tradeoff(capsys, "frontier", B2B, "--points", "6")
    assert code == EXIT_OK
    header = next(line for line in out.splitlines() if line.startswith("Search SOV"))
    for column in ("Leads", "CPL", "CPC", "Pool marg. CPC", "leads lost/SOV point", "$/SOV point"):
        assert column in header
    rows = [line for line in out.splitlines() if line[:1].isdigit() and "%" in line.split()[0]]
    assert len(rows) == 6
    assert "knee at" in out and "today's split" in out


def test_frontier_json_is_redrawn_by_the_chart_command(tmp_path, capsys):
    saved = tmp_path / "frontier.json"
    code, _, _ = tradeoff(capsys, "frontier", B2B, "--points", "5", "-o", str(saved))
    assert code == EXIT_OK
    data = json.loads(saved.read_text())
    assert data["primary"] == "leads" and data["secondary"] == "sov.search"
    assert len(data["points"]) == 5 and isinstance(data["knee"], int)
    for kind in ("frontier", "costs", "allocation", "allocation-campaigns", "curves"):
        target = tmp_path / f"{kind}.svg"
        code, _, err = tradeoff(capsys, "chart", str(saved), "--kind", kind, "-o", str(target))
        assert code == EXIT_OK, err
        assert target.read_text().startswith("<?xml")
    data["points"][2]["leads"] = "x"
    data["points"][3]["allocation"] = [1, 2]
    saved.write_text(json.dumps(data))
    code, _, err = tradeoff(capsys, "chart", str(saved), "-o", str(tmp_path / "broken.png"))
    assert code == EXIT_INPUT and 'points[2].leads: is "x", not a number' in err
    assert not (tmp_path / "broken.png").exists()


def test_frontier_writes_its_chart_and_a_folder_of_charts(tmp_path, capsys):
    code, _, _ = tradeoff(capsys, "frontier", B2B, "--points", "4", "--chart", str(tmp_path / "f.pdf"),
                          "--charts", str(tmp_path / "charts"), "--format", "csv")
    assert code == EXIT_OK
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")
    assert {p.name for p in (tmp_path / "charts").iterdir()} == {
        "frontier.png", "costs.png", "allocation.png", "allocation-campaigns.png", "curves.png"}


def test_frontier_budget_sweep_as_json_and_chart(tmp_path, capsys):
    code, out, _ = tradeoff(capsys, "frontier", B2B, "--budgets", "220000,280000", "--points", "4",
                            "--format", "json", "--chart", str(tmp_path / "sweep.png"))
    assert code == EXIT_OK
    data = json.loads(out)
    assert data["kind"] == "frontier_sweep" and [f["budget"] for f in data["frontiers"]] == [220000, 280000]
    assert (tmp_path / "sweep.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("args", [["--against", "sov.nowhere"], ["--against", "leads"], ["--budgets", "lots"],
                                  ["--chart", "frontier.gif"], ["--points", "1"]])
def test_frontier_usage_errors_exit_2(args, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = tradeoff(capsys, "frontier", B2B, "--points", "3", *args) if args[0] != "--points" else \
        tradeoff(capsys, "frontier", B2B, *args)
    assert code == EXIT_INPUT, err
    assert "Traceback" not in err


@pytest.mark.parametrize(("option", "value", "words"), [
    ("-o", "missing/plan.json", 'the folder "'), ("-o", "plan.xls", 'format from ".xls"'),
    ("--write-lp", "missing/plan.lp", 'the folder "'), ("--write-lp", "plan.txt", ".lp"),
])
def test_output_paths_are_checked_before_solving(tmp_path, capsys, monkeypatch, option, value, words):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("optimizer.solve", lambda *args, **kwargs: pytest.fail("solved before checking the path"))
    code, out, err = tradeoff(capsys, "solve", B2B, option, value)
    assert code == EXIT_INPUT and out == "" and words in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_chart_refuses_a_file_that_is_not_a_frontier(tmp_path, capsys):
    plan = tmp_path / "plan.json"
    assert tradeoff(capsys, "solve", B2B, "-o", str(plan))[0] == EXIT_OK
    code, _, err = tradeoff(capsys, "chart", str(plan))
    assert code == EXIT_INPUT and "not a frontier" in err


def test_problems_found_while_tracing_name_the_file(capsys):
    path = str(ROOT / "scenarios" / "b2b_saas.toml")
    code, _, err = tradeoff(capsys, "frontier", path, "--against", "sov.nowhere")
    assert code == EXIT_INPUT
    assert err.startswith(f"error: {path}: 1 problem found") and "--against" in err, err


# --- debug mode, "-o -", an .xlsx name, and the frontier's CSV -------------------------------------


def test_debug_mode_keeps_the_exit_code_of_a_solver_error(monkeypatch, capsys):
    monkeypatch.setattr(cbc_adapter, "cbc_path", lambda: None)
    code = run(["--debug", "solve", B2B, "--solver", "cbc"], debug=True)
    err = capsys.readouterr().err
    assert code == EXIT_SOLVER and "Traceback" in err and "CBC is not installed" in err


@pytest.mark.parametrize(("value", "on"), [("1", True), ("true", True), ("Yes", True), ("TRUE", True),
                                           ("0", False), ("false", False), ("no", False), ("", False)])
def test_tradeoff_debug_is_on_only_for_1_true_or_yes(value, on, tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n')
    monkeypatch.setenv("TRADEOFF_DEBUG", value)
    with pytest.raises(SystemExit) as exited:
        main(["solve", str(bad)])
    err = capsys.readouterr().err
    assert exited.value.code == EXIT_INPUT and "campaigns" in err
    assert ("Traceback" in err) is on


def test_every_command_with_a_format_prints_for_o_dash(tmp_path, monkeypatch, capsys):
    """``-o -`` is stdout, as ``-`` is stdin for the scenario: no file named "-", no "wrote" line."""
    monkeypatch.chdir(tmp_path)
    context = click.Context(cli)
    commands = [cli.get_command(context, name) for name in cli.list_commands(context)]
    formatted = [c for c in commands if any(p.name == "fmt" for p in c.params)]
    assert {c.name for c in formatted} >= {"solve", "frontier", "kpis"}
    for command in formatted:
        output = next(p for p in command.params if p.name == "output")
        assert output.type.convert("-", output, None) is None, command.name
    code, out, err = tradeoff(capsys, "kpis", "--format", "json", "-o", "-")
    assert code == EXIT_OK and [k["kpi"] for k in json.loads(out)] == list(GLOSSARY) and "wrote" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
@pytest.mark.parametrize("command", ["solve", "frontier"])
def test_text_is_not_written_into_an_xlsx_file(command, fmt, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("optimizer.solve", "optimizer.cli_frontier.frontier"):
        monkeypatch.setattr(name, lambda *args, **kwargs: pytest.fail("solved before checking the output"))
    code, out, err = tradeoff(capsys, command, B2B, "--format", fmt, "-o", "plan.xlsx")
    assert code == EXIT_INPUT and out == "" and "plan.xlsx" in err and "--format xlsx" in err
    assert list(tmp_path.iterdir()) == []


def floored_scenario(tmp_path: Path) -> Path:
    """Three campaigns with a lead floor that 1,000 of budget cannot reach (and 120,000 can)."""
    campaigns = [{"name": name, "channel": name.lower(), "stage": stage, "pools": ["media"],
                  "spend": {"current": 20_000, "max": 60_000},
                  "impressions": {"curve": "exponential", "max": reach, "scale": 50_000},
                  "clicks": {"rate": 0.01, "of": "impressions"}, "leads": {"rate": 0.05, "of": "clicks"}}
                 for name, stage, reach in (("Search", "conversion", 3e6), ("Social", "consideration", 8e6),
                                            ("Video", "awareness", 2e7))]
    scenario = {"name": "floored", "objective": {"maximize": "leads", "secondary": "sov.media"},
                "budget": {"total": 100_000}, "pools": {"media": {"total_impressions": 4e7}},
                "campaigns": campaigns, "constraints": [{"kpi": "leads", "min": 2_000, "name": "lead floor"}]}
    path = tmp_path / "floored.json"
    path.write_text(json.dumps(scenario))
    return path


def test_a_budget_sweep_csv_is_one_table_when_the_first_budget_has_no_plan(tmp_path, capsys):
    path = str(floored_scenario(tmp_path))
    args = ["frontier", path, "--points", "3", "--budgets", "1000,120000"]
    code, out, _ = tradeoff(capsys, *args, "--format", "json")
    assert code == EXIT_INFEASIBLE
    first, second = json.loads(out)["frontiers"]
    assert first["points"] == [] and second["points"]
    code, out, _ = tradeoff(capsys, *args, "--format", "csv")
    assert code == EXIT_INFEASIBLE
    header, *rows = list(csv.reader(io.StringIO(out)))
    assert header.count("budget") == 1 and all(len(row) == len(header) for row in rows)
    assert not any("{" in cell or cell.lower() in ("nan", "inf", "-inf") for row in rows for cell in row)
    records = [dict(zip(header, row, strict=True)) for row in rows]
    assert len(records) == len(second["points"]) and {r["budget"] for r in records} == {"120000.0"}
    for record, point in zip(records, second["points"], strict=True):
        for stage, spend in point["spend_by_stage"].items():
            assert float(record[f"spend_{stage}"]) == pytest.approx(spend, rel=1e-12)
        for kpi, value in point["kpis"].items():
            assert record[kpi] == "" if value is None else float(record[kpi]) == pytest.approx(value, rel=1e-12)
