"""Excel exports: the workbook read back with openpyxl holds the plan's and the frontier's own figures,
as numbers in the scenario's currency, percentages and counts."""

from __future__ import annotations

import dataclasses
import math
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

import optimizer
from optimizer.cli import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK, run
from optimizer.export import write_workbook
from optimizer.glossary import GLOSSARY
from optimizer.output import OutputError
from optimizer.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
B2B = str(ROOT / "scenarios" / "b2b_saas.toml")


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(B2B)


@pytest.fixture(scope="module")
def plan(scenario):
    return optimizer.solve(scenario)


@pytest.fixture(scope="module")
def frontier(scenario):
    return optimizer.frontier(scenario, points=5)


@pytest.fixture(scope="module")
def book(plan, frontier, scenario, tmp_path_factory):
    path = write_workbook(tmp_path_factory.mktemp("book") / "all.xlsx", plan=plan, frontier=frontier,
                          scenario=scenario)
    return openpyxl.load_workbook(path)


def table(sheet, first: str, nth: int = 0) -> list[dict[str, openpyxl.cell.Cell]]:
    """The ``nth`` table whose (bold) header row starts with ``first``: one {header: cell} per row, up to an
    empty row."""
    rows = list(sheet.iter_rows())
    start = [k for k, row in enumerate(rows) if row[0].value == first and row[0].font.bold][nth]
    headers = [cell.value for cell in rows[start] if cell.value is not None]
    records = []
    for row in rows[start + 1:]:
        if all(cell.value is None for cell in row):
            break
        records.append(dict(zip(headers, row, strict=False)))
    return records


def same(cell, expected) -> bool:
    """The cell holds ``expected`` as a number (an empty cell where it is NaN or missing)."""
    if expected is None or (isinstance(expected, float) and not math.isfinite(expected)):
        return cell.value is None
    return isinstance(cell.value, int | float) and cell.value == pytest.approx(float(expected), rel=1e-12, abs=1e-12)


def test_sheets_are_named_and_only_those_with_something_to_show_are_written(plan, frontier, scenario, tmp_path):
    assert openpyxl.load_workbook(write_workbook(tmp_path / "p.xlsx", plan=plan, scenario=scenario)).sheetnames == [
        "plan", "assumptions"]
    assert openpyxl.load_workbook(write_workbook(tmp_path / "f.xlsx", frontier=frontier)).sheetnames == [
        "frontier", "assumptions"]
    sweep = [dataclasses.replace(frontier, budget=b) for b in (200_000.0, 250_000.0, 1_500_000.0)]
    assert openpyxl.load_workbook(write_workbook(tmp_path / "s.xlsx", frontier=sweep)).sheetnames == [
        "frontier 200k", "frontier 250k", "frontier 1.5M", "assumptions"]
    with pytest.raises(ValueError, match="nothing to export"):
        write_workbook(tmp_path / "none.xlsx")


def test_the_plan_sheet_holds_every_campaign_of_the_plan(book, plan):
    rows = table(book["plan"], "Campaign")
    campaigns, total = rows[:-1], rows[-1]
    assert [r["Campaign"].value for r in campaigns] == [c.campaign for c in plan.allocation]
    columns = {"Stage": "stage", "Channel": "channel", "Held by": "at_bound"}
    numbers = {"Current spend": "current_spend", "Planned spend": "spend", "Change": "change", "Change %": "change_pct",
               "Impressions": "impressions", "Clicks": "clicks", "Leads": "leads", "MQLs": "mqls", "SQLs": "sqls",
               "Customers": "customers", "Revenue": "revenue", "CPC": "cpc", "CPL": "cpl",
               "Marginal CPL": "marginal_cpl"}
    for row, result in zip(campaigns, plan.allocation, strict=True):
        for header, name in columns.items():
            assert row[header].value == getattr(result, name)
        for header, name in numbers.items():
            assert same(row[header], getattr(result, name)), (result.campaign, header)
    new = next(r for r in campaigns if r["Current spend"].value == 0)
    assert new["Change %"].value is None  # undefined from zero: an empty cell, not NaN or text
    assert total["Campaign"].value == "Total"
    for header in ("Current spend", "Planned spend", "Impressions", "Clicks", "Leads"):
        assert total[header].value == pytest.approx(sum(r[header].value for r in campaigns), rel=1e-9)
    assert same(total["CPL"], total["Planned spend"].value / total["Leads"].value)
    assert total["Planned spend"].font.bold


def test_undefined_numbers_are_empty_cells_in_the_file(plan, frontier, tmp_path):
    path = write_workbook(tmp_path / "nan.xlsx", plan=plan, frontier=frontier)
    assert math.isnan(plan.allocation[2].change_pct) and math.isnan(frontier.points[0].lost_since_previous)
    with zipfile.ZipFile(path) as archive:
        sheets = [archive.read(name).decode() for name in archive.namelist() if name.startswith("xl/worksheets/")]
    assert sheets and not any(re.search(r"<v\s*/>|<v>\s*</v>|<v>[^<]*(nan|inf)", xml, flags=re.I) for xml in sheets)
    book = openpyxl.load_workbook(path)  # text is stored apart from the sheets' XML: read the cells themselves
    texts = [cell.value for sheet in book for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert not [text for text in texts if text.strip().lower().lstrip("+-") in ("nan", "inf", "infinity")]
    tables = [table(book["plan"], "Campaign"), table(book["plan"], "KPI"),
              table(book["frontier"], book["frontier"]["A1"].value)]
    for records in tables:
        for header in records[0]:
            values = [record[header].value for record in records if record[header].value is not None]
            if any(_is_number(value) for value in values):  # a column of numbers holds nothing else
                assert all(_is_number(value) for value in values), (header, values)
    assert table(book["plan"], "Campaign")[2]["Change %"].value is None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def test_funnel_columns_appear_only_when_some_campaign_has_them(plan, tmp_path):
    bare = [dataclasses.replace(row, mqls=0.0, sqls=0.0, customers=0.0, revenue=0.0) for row in plan.allocation]
    book = openpyxl.load_workbook(write_workbook(tmp_path / "bare.xlsx",
                                                 plan=dataclasses.replace(plan, allocation=tuple(bare))))
    headers = set(table(book["plan"], "Campaign")[0])
    assert {"Leads", "CPL"} <= headers and not headers & {"MQLs", "SQLs", "Customers", "Revenue"}


def test_the_kpi_block_and_the_certificate_are_the_plans(book, plan):
    rows = {r["KPI"].value: r for r in table(book["plan"], "KPI")}
    for kpi in ("spend", "leads", "cpl", "ctr", "roas"):
        row = rows[GLOSSARY[kpi].label]
        assert same(row["Current"], plan.current_kpis[kpi]) and same(row["Plan"], plan.kpis[kpi])
        assert same(row["Change"], plan.kpis[kpi] - plan.current_kpis[kpi])
        assert same(row["Change %"], plan.kpis[kpi] / plan.current_kpis[kpi] - 1)
    for pool, share in plan.sov.items():
        assert same(rows[f"SOV {pool}"]["Plan"], share) and same(rows[f"SOV {pool}"]["Current"], plan.current_sov[pool])
    labels = {row[0].value: row for row in book["plan"].iter_rows()}
    assert labels["Status"][1].value == "optimal" and labels["Status"][2].value == plan.message
    assert same(labels["Certificate gap"][1], plan.gap) and "%" in labels["Certificate gap"][1].number_format
    assert same(labels["Proven bound"][1], plan.bound)


def test_binding_constraints_say_what_relaxing_each_is_worth(book, plan):
    rows = {r["Binding constraint"].value: r for r in table(book["plan"], "Binding constraint")}
    assert set(rows) == {p.constraint for p in plan.shadow_prices}
    for price in plan.shadow_prices:
        row = rows[price.constraint]
        assert same(row["Bound"], price.bound) and same(row["Value"], price.value)
        per_dollar = "$1 " in price.unit
        assert same(row["Relaxing it is worth"], price.price * (1000 if per_dollar else 1))
        assert row["Per"].value == (price.unit.replace("$1 ", "$1,000 ") if per_dollar else price.unit)
    budget = next(p for p in plan.shadow_prices if p.kind == "budget")
    assert "$" in rows[budget.constraint]["Bound"].number_format
    share = next(p for p in plan.shadow_prices if p.kpi == "share")
    assert rows[share.constraint]["Bound"].number_format.endswith("%")


def test_warnings_are_listed_under_notes(book, plan):
    texts = [row[0].value for row in book["plan"].iter_rows()]
    notes = texts[texts.index("Notes") + 1:]
    assert plan.warnings and notes == list(plan.warnings)


def test_money_percent_and_count_cells_carry_their_formats(book):
    campaigns = table(book["plan"], "Campaign")
    row = campaigns[0]
    for header in ("Current spend", "Planned spend", "Change", "CPC", "CPL", "Revenue"):
        assert row[header].number_format.startswith("[$$]"), header
    assert row["CPL"].number_format.startswith("[$$]#,##0.00")
    for header in ("Impressions", "Clicks", "Leads"):
        assert row[header].number_format == "#,##0", header
    assert row["Change %"].number_format.endswith("%")
    assert isinstance(row["Planned spend"].value, float | int)


def test_money_is_in_the_scenarios_currency(plan, scenario, tmp_path):
    euro = load_scenario(B2B, overrides=["currency=EUR"])
    assert euro.currency == "EUR"
    book = openpyxl.load_workbook(write_workbook(tmp_path / "eur.xlsx", plan=dataclasses.replace(plan, currency="EUR"),
                                                 scenario=euro))
    spend = table(book["plan"], "Campaign")[0]["Planned spend"]
    assert spend.number_format.startswith("[$€]") and "$$" not in spend.number_format
    settings = {row[0].value: row[1] for row in book["assumptions"].iter_rows()}
    assert settings["Currency"].value == "EUR"
    assert settings["Budget"].number_format.startswith("[$€]") and same(settings["Budget"], euro.budget.total)


def test_a_code_not_in_the_symbol_table_is_its_own_tag(plan, tmp_path):
    book = openpyxl.load_workbook(write_workbook(tmp_path / "sek.xlsx", plan=dataclasses.replace(plan, currency="SEK")))
    assert table(book["plan"], "Campaign")[0]["Planned spend"].number_format.startswith("[$SEK] #,##0")


def test_the_frontier_sheet_has_one_row_per_point(book, frontier):
    rows = table(book["frontier"], frontier.secondary_label)
    assert len(rows) == len(frontier.points)
    for row, point in zip(rows, frontier.points, strict=True):
        assert same(row[frontier.secondary_label], point.traded) and same(row["Leads"], point.primary)
        for header, name in (("Spend", "spend"), ("CPL", "cpl"), ("Pool marginal CPC", "pool_marginal_cpc"),
                             ("Leads lost per SOV point", "primary_lost_per_point")):
            assert same(row[header], getattr(point, name)), header
        for stage, spend in point.spend_by_stage.items():
            assert same(row[f"Spend {stage}"], spend)
        assert same(row["SOV media"], point.kpis["sov.media"])
    assert rows[0]["Leads lost per SOV point since previous point"].value is None  # NaN: no previous point
    assert rows[0][frontier.secondary_label].number_format == "0.0%"
    assert rows[0]["Spend"].number_format.startswith("[$$]") and rows[0]["Clicks"].number_format == "#,##0"
    marks = {k: row["Marks"].value for k, row in enumerate(rows) if row["Marks"].value}
    expected = {}
    for mark, index in (("knee", frontier.knee), ("recommended", frontier.recommended)):
        expected[index] = f"{expected[index]}, {mark}" if index in expected else mark
    assert marks == expected
    assert rows[frontier.knee]["Spend"].fill.fgColor.rgb.endswith("FFF2CC")
    today = table(book["frontier"], frontier.secondary_label, nth=1)[0]  # the block under "Today's split"
    assert same(today[frontier.secondary_label], frontier.current.traded)
    assert same(today["Leads"], frontier.current.primary)
    assert same(today["Leads gained at the same Search SOV or more"], frontier.current.primary_gain)


def test_the_assumptions_sheet_holds_what_the_numbers_rest_on(book, scenario, plan):
    sheet = book["assumptions"]
    settings = {row[0].value: row[1] for row in sheet.iter_rows()}
    assert settings["Scenario"].value == scenario.name and settings["Period"].value == scenario.period
    assert same(settings["Budget"], scenario.budget.total) and same(settings["Max change per campaign"], 0.5)
    assert same(settings["Solver tolerance"], plan.info.tolerance) and same(settings["Certificate gap"], plan.gap)
    assert settings["Objective"].value == "maximize leads"
    pools = {r["Pool"].value: r for r in table(sheet, "Pool")}
    assert same(pools["search"]["Value"], scenario.pools["search"].competitor_impressions)
    assert same(pools["media"]["Share of market (SOM)"], scenario.pools["media"].som)
    spends = {r["Campaign"].value: r for r in table(sheet, "Campaign")}
    for campaign in scenario.campaigns:
        row = spends[campaign.name]
        assert same(row["Current"], campaign.spend.current) and same(row["Max"], campaign.spend.max)
        assert same(row["Min"], campaign.spend.min) and row["Max"].number_format.startswith("[$$]")
    curves = table(sheet, "Campaign", nth=1)
    youtube = {r["Outcome"].value: r for r in curves if r["Campaign"].value == "YouTube: awareness"}
    spec = scenario.campaign("YouTube: awareness").impressions
    impressions, clicks = youtube["impressions"], youtube["clicks"]
    assert impressions["Curve or rate"].value == "hill"
    assert same(impressions["Half"], spec.half) and same(impressions["Shape"], spec.shape)
    assert same(impressions["Max"], spec.max) and impressions["Scale"].value is None
    rate = scenario.campaign("YouTube: awareness").clicks
    assert clicks["Curve or rate"].value == "rate" and clicks["Of"].value == rate.of and same(clicks["Rate"], rate.rate)
    constraints = {r["Constraint"].value: r for r in table(sheet, "Constraint")}
    for constraint in scenario.constraints:
        row = constraints[constraint.name]
        assert same(row["Min"], constraint.min) and same(row["Max"], constraint.max)
    assert constraints["Search SOV floor"]["Min"].number_format.endswith("%")
    notes = [row[0].value for row in sheet.iter_rows()]
    assert all(warning in notes for warning in plan.warnings)


def test_headers_are_bold_and_frozen_and_columns_fitted(book):
    for sheet in book:
        assert all(cell.font.bold for cell in sheet[1] if cell.value is not None), sheet.title
        assert sheet.freeze_panes in ("A2", "B2"), sheet.title
        widths = [sheet.column_dimensions[letter].width for letter in ("A", "B", "C")]
        assert all(4 <= width <= 62 for width in widths), (sheet.title, widths)
    campaign_width = book["plan"].column_dimensions["A"].width
    assert campaign_width >= len("Remarketing: site visitors")


def test_text_that_looks_like_a_formula_stays_text(plan, tmp_path):
    row = dataclasses.replace(plan.allocation[0], campaign='=HYPERLINK("http://x.example","click")')
    tricked = dataclasses.replace(plan, allocation=(row, *plan.allocation[1:]))
    sheet = openpyxl.load_workbook(write_workbook(tmp_path / "f.xlsx", plan=tricked))["plan"]
    assert sheet["A2"].value == row.campaign and sheet["A2"].data_type == "s"


def test_an_existing_file_is_left_untouched_when_writing_fails(plan, tmp_path, monkeypatch):
    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"precious")

    def broken_save(self, stream):
        stream.write(b"half a workbook")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(OutputError, match=f"could not write {target}: No space left on device"):
        write_workbook(target, plan=plan)
    assert target.read_bytes() == b"precious"
    assert list(tmp_path.iterdir()) == [target]


# --- the command line ------------------------------------------------------------------


def test_solve_writes_the_plan_and_its_assumptions(tmp_path, capsys):
    target = tmp_path / "plan.xlsx"
    assert run(["solve", B2B, "--set", "currency=EUR", "--tolerance", "0.002", "-o", str(target)]) == EXIT_OK
    assert "wrote" in capsys.readouterr().err
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["plan", "assumptions"]
    assert table(book["plan"], "Campaign")[0]["Planned spend"].number_format.startswith("[$€]")
    settings = {row[0].value: row[1] for row in book["assumptions"].iter_rows()}
    assert settings["Solver tolerance"].value == 0.002 and settings["Currency"].value == "EUR"


def test_frontier_writes_one_sheet_per_budget_with_the_tolerance_used(tmp_path):
    target = tmp_path / "sweep.xlsx"
    assert run(["frontier", B2B, "--points", "3", "--budgets", "200000,250000", "--tolerance", "0.002",
                "-o", str(target)]) == EXIT_OK
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["frontier 200k", "frontier 250k", "assumptions"]
    settings = {row[0].value: row[1] for row in book["assumptions"].iter_rows()}
    assert settings["Solver tolerance"].value == 0.002
    rows = table(book["frontier 200k"], "Search SOV")
    kinds = [r["Point"].value for r in rows]
    assert len(rows) >= 3 and (kinds[0], kinds[-1]) == ("lead-max end", "sov.search-max end")
    assert any("recommended" in (r["Marks"].value or "") for r in rows)


def test_an_infeasible_plan_is_written_with_its_way_out(tmp_path):
    target = tmp_path / "plan.xlsx"
    code = run(["solve", B2B, "--set", 'constraints."Search SOV floor".min=0.4', "--format", "xlsx", "-o", str(target)])
    assert code == EXIT_INFEASIBLE
    texts = [row[0].value for row in openpyxl.load_workbook(target)["plan"].iter_rows()]
    assert any(text and text.startswith("to fix it: lower the Search SOV floor") for text in texts)


@pytest.mark.parametrize(("args", "words"), [
    (["solve", B2B, "--format", "xlsx"], "not printed to a terminal"),
    (["frontier", B2B, "--format", "xlsx"], "not printed to a terminal"),
    (["solve", B2B, "--format", "xlsx", "-o", "plan.json"], "name the workbook .xlsx"),
    (["kpis", "-o", "kpis.xlsx"], "not xlsx"),
])
def test_a_workbook_without_an_xlsx_file_is_a_usage_error(args, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("optimizer.solve", lambda *a, **k: pytest.fail("solved before checking the output"))
    monkeypatch.setattr("optimizer.cli_frontier.frontier", lambda *a, **k: pytest.fail("traced before checking"))
    code = run(args)
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and words in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
