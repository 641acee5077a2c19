"""Hostile input in the reading layers: exit 2 with a located problem, never an internal error.

Numbers longer than Python reads (4,300 digits) or than a float holds (309 digits), CSV cells
longer than the csv module reads (131,072 characters), brackets nested far deeper than a
scenario needs, symbolic links that lead back to themselves, a history with no rows, and
workbooks or UTF-32 text given where CSV belongs: each goes through the real command line
(``optimizer.cli.run``), must exit 2, name the file and the place, and show no traceback.
"""

from __future__ import annotations

import codecs
import io
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from optimizer.cli import EXIT_INPUT, run
from optimizer.errors import ScenarioError
from optimizer.scenario.loading import scenario_from_document

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "scenarios" / "history_example.csv"
SIMULATOR = ROOT / "tests" / "fit_exports" / "google_bid_simulator.csv"

HUGE = "1" * 5_000  # beyond Python's int-string limit (4,300 digits)
LONG = "1" * 400  # an int, but beyond a float (1.8e308)
DEEP = "[" * 100_000 + "]" * 100_000
CELL_DEEP = "[" * 60_000 + "]" * 60_000  # under the csv field limit, far over Python's recursion limit
LONG_CELL = "x" * 140_000  # over csv's field_size_limit (131,072)

SCENARIO = """name = "Acme"

[budget]
total = {total}

[[campaigns]]
name = "Search: brand"
channel = "search"
stage = "conversion"
spend = {{ current = 20_000, max = 40_000 }}
leads = {{ curve = "exponential", max = 900, scale = 30_000 }}
"""
SCENARIO_JSON = ('{{"name": "Acme",\n"budget": {{"total": {total}}},\n"campaigns": [{{"name": "Search: brand", '
                 '"channel": "search", "stage": "conversion", "spend": {{"current": 20000, "max": 40000}}, '
                 '"leads": {{"curve": "linear", "unit_cost": 80}}}}]}}\n')
WITH_CSV = 'name = "Acme"\ncampaigns = "{csv}"\n\n[budget]\ntotal = 100_000\n'
CSV_HEADER = "name,channel,stage,spend.current,spend.max,leads.curve,leads.unit_cost,leads.points,leads.covariance\n"
CSV_ROW = "Search: brand,search,conversion,20000,40000,linear,80,,\n"


def refused(args: list[str], capsys, *where: str) -> str:
    """Run ``tradeoff ARGS``: it must exit 2, with no traceback, naming every one of ``where``."""
    code = run(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err, err[:2000]
    assert code == EXIT_INPUT, err[:2000]
    for place in where:
        assert place in err, f"{place!r} not in:\n{err[:2000]}"
    return err


def stdin(monkeypatch, data: str | bytes) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))


def campaign_csv(tmp_path: Path, *rows: str, name: str = "campaigns.csv") -> Path:
    """A scenario naming a campaign CSV of ``rows`` (after the header)."""
    (tmp_path / name).write_text(CSV_HEADER + "".join(rows), encoding="utf-8")
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(WITH_CSV.format(csv=name), encoding="utf-8")
    return scenario


# --- numbers with thousands of digits ---------------------------------------------------


def test_a_5000_digit_number_in_a_toml_scenario_is_refused_at_its_line(tmp_path, capsys):
    path = tmp_path / "scenario.toml"
    path.write_text(SCENARIO.format(total=HUGE), encoding="utf-8")
    err = refused(["validate", str(path)], capsys, str(path), "line 4, column 9", "5,000 digits")
    assert "set_int_max_str_digits" not in err and HUGE[:100] not in err


def test_a_5000_digit_number_in_a_json_scenario_is_refused_at_its_line(tmp_path, capsys):
    path = tmp_path / "scenario.json"
    path.write_text(SCENARIO_JSON.format(total=HUGE), encoding="utf-8")
    err = refused(["validate", str(path)], capsys, str(path), "line 2, column 21", "5,000 digits")
    assert "set_int_max_str_digits" not in err


def test_a_5000_digit_number_on_stdin_is_refused_at_its_line(monkeypatch, capsys):
    stdin(monkeypatch, SCENARIO_JSON.format(total=HUGE))
    refused(["validate", "-"], capsys, "<stdin>", "line 2, column 21", "5,000 digits")


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_a_400_digit_number_beyond_any_float_in_a_scenario_is_refused_at_its_line(tmp_path, capsys, suffix):
    path = tmp_path / f"scenario{suffix}"
    path.write_text((SCENARIO if suffix == ".toml" else SCENARIO_JSON).format(total=LONG), encoding="utf-8")
    refused(["validate", str(path)], capsys, str(path), "line 4, column 9" if suffix == ".toml" else
            "line 2, column 21", "400 digits")


def test_a_400_digit_number_in_a_document_from_the_api_is_named_by_its_key(tmp_path):
    document = tomllib.loads(SCENARIO.format(total="1"))
    document["budget"]["total"] = 10**399
    with pytest.raises(ScenarioError) as raised:
        scenario_from_document(document)
    assert [(p.location, "400 digits" in p.message) for p in raised.value.problems] == [("budget.total", True)]


@pytest.mark.parametrize("number", [HUGE, LONG])
def test_a_number_with_hundreds_of_digits_in_a_campaign_csv_is_refused_at_its_cell(tmp_path, capsys, number):
    scenario = campaign_csv(tmp_path, f"Search: brand,search,conversion,{number},40000,linear,80,,\n")
    err = refused(["validate", str(scenario)], capsys, "campaigns.csv line 2", "spend.current",
                  f"{len(number):,} digits")
    assert number[:100] not in err


@pytest.mark.parametrize("number", [HUGE, LONG])
def test_a_number_with_hundreds_of_digits_in_set_is_refused_naming_the_key(tmp_path, capsys, number):
    path = tmp_path / "scenario.toml"
    path.write_text(SCENARIO.format(total="100_000"), encoding="utf-8")
    err = refused(["validate", str(path), "--set", f"budget.total={number}"], capsys, "budget.total",
                  f"{len(number):,} digits")
    assert number[:100] not in err


def test_a_5000_digit_number_in_a_points_cell_is_refused_at_its_cell(tmp_path, capsys):
    row = f'Search: brand,search,conversion,20000,40000,tabular,,"[[0, 0], [{HUGE}, 5]]",\n'
    scenario = campaign_csv(tmp_path, row)
    refused(["validate", str(scenario)], capsys, "campaigns.csv line 2", "leads.points", "5,000 digits")


@pytest.mark.parametrize(("where", "literal"), [("toml", "1e999"), ("json", "1e999"), ("csv", "1e999"),
                                                ("set", "1e999")])
def test_a_number_beyond_a_float_written_with_an_exponent_is_refused_as_not_finite(tmp_path, capsys, where, literal):
    path = tmp_path / "scenario.toml"
    path.write_text(SCENARIO.format(total="100_000"), encoding="utf-8")
    args = ["validate", str(path)]
    if where == "toml":
        path.write_text(SCENARIO.format(total=literal), encoding="utf-8")
    elif where == "json":
        path = tmp_path / "scenario.json"
        path.write_text(SCENARIO_JSON.format(total=literal), encoding="utf-8")
        args = ["validate", str(path)]
    elif where == "csv":
        path = campaign_csv(tmp_path, f"Search: brand,search,conversion,{literal},40000,linear,80,,\n")
        args = ["validate", str(path)]
    else:
        args += ["--set", f"budget.total={literal}"]
    refused(args, capsys, "finite")


# --- CSV cells longer than the csv module reads -------------------------------------------


def test_a_campaign_csv_cell_over_the_csv_field_limit_is_refused_at_its_line(tmp_path, capsys):
    scenario = campaign_csv(tmp_path, CSV_ROW, f"Meta,social,awareness,1,2,linear,{LONG_CELL},,\n")
    err = refused(["validate", str(scenario)], capsys, "campaigns.csv line 3", "131,072 characters")
    assert LONG_CELL[:100] not in err


def test_a_history_cell_over_the_csv_field_limit_is_refused_at_its_line(tmp_path, capsys):
    lines = HISTORY.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "history.csv"
    path.write_text("".join([*lines[:4], f"2025-01-06,{LONG_CELL},search,conversion,1,1,1,1\n", *lines[4:]]),
                    encoding="utf-8")
    refused(["fit", str(path)], capsys, "history.csv line 5", "131,072 characters")


def test_a_simulator_cell_over_the_csv_field_limit_is_refused_at_its_line(tmp_path, capsys):
    lines = SIMULATOR.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "simulator.csv"
    path.write_text("".join([*lines, f'"{LONG_CELL}",1,1,1,1\n']), encoding="utf-8")
    refused(["fit", str(HISTORY), "--simulator", str(path)], capsys, f"simulator.csv line {len(lines) + 1}",
            "131,072 characters")


def test_an_unclosed_quote_that_swallows_the_file_is_refused_at_the_line_it_opens(tmp_path, capsys):
    scenario = campaign_csv(tmp_path, CSV_ROW, '"Meta,social,awareness,1,2,linear,80,,\n' + "x,\n" * 70_000)
    refused(["validate", str(scenario)], capsys, "campaigns.csv line 3", "quote")


# --- brackets nested far deeper than a scenario needs ----------------------------------


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_a_deeply_nested_scenario_file_is_refused_at_its_line(tmp_path, capsys, suffix):
    path = tmp_path / f"scenario{suffix}"
    text = SCENARIO_JSON if suffix == ".json" else SCENARIO
    path.write_text(text.format(total=DEEP), encoding="utf-8")
    refused(["validate", str(path)], capsys, str(path), "line", "nested more than")


def test_a_deeply_nested_scenario_on_stdin_is_refused_at_its_line(monkeypatch, capsys):
    stdin(monkeypatch, SCENARIO_JSON.format(total=DEEP))
    refused(["validate", "-"], capsys, "<stdin>", "line 2, column", "nested more than")


@pytest.mark.parametrize("column", ["points", "covariance"])
def test_a_deeply_nested_json_cell_of_a_campaign_csv_is_refused_at_its_cell(tmp_path, capsys, column):
    cells = f'tabular,,"{CELL_DEEP}",' if column == "points" else f'linear,80,,"{CELL_DEEP}"'
    scenario = campaign_csv(tmp_path, f"Search: brand,search,conversion,20000,40000,{cells}\n")
    refused(["validate", str(scenario)], capsys, "campaigns.csv line 2", f"leads.{column}", "nested more than")


def test_a_deeply_nested_set_value_is_refused_naming_the_key(tmp_path, capsys):
    path = tmp_path / "scenario.toml"
    path.write_text(SCENARIO.format(total="100_000"), encoding="utf-8")
    err = refused(["validate", str(path), "--set", f"budget.total={DEEP}"], capsys, "--set budget.total",
                  "nested more than")
    assert "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" not in err


# --- symbolic links that lead back to themselves --------------------------------------------


def loop(folder: Path, name: str) -> None:
    try:
        (folder / name).symlink_to(name)
    except OSError:
        pytest.skip("symbolic links are not available here")


def test_a_campaign_csv_that_is_a_link_to_itself_is_refused_naming_it(tmp_path, capsys):
    loop(tmp_path, "loop.csv")
    path = tmp_path / "scenario.toml"
    path.write_text(WITH_CSV.format(csv="loop.csv"), encoding="utf-8")
    refused(["validate", str(path)], capsys, str(path), "campaigns", '"loop.csv"', "leads back to itself")


def test_a_points_file_that_is_a_link_to_itself_is_refused_naming_it(tmp_path, capsys):
    loop(tmp_path, "loop.points.csv")
    scenario = campaign_csv(tmp_path, "Search: brand,search,conversion,20000,40000,tabular,,loop.points.csv,\n")
    refused(["validate", str(scenario)], capsys, "leads.points", '"loop.points.csv"', "leads back to itself")


def test_an_inline_points_file_that_is_a_link_to_itself_is_refused_naming_it(tmp_path, capsys):
    loop(tmp_path, "loop.points.csv")
    path = tmp_path / "scenario.toml"
    path.write_text(SCENARIO.format(total="100_000").replace(
        'leads = { curve = "exponential", max = 900, scale = 30_000 }',
        'leads = { curve = "tabular", points = "loop.points.csv" }'), encoding="utf-8")
    refused(["validate", str(path)], capsys, "leads.points", '"loop.points.csv"', "leads back to itself")


def test_a_scenario_that_is_a_link_to_itself_is_refused_naming_it(tmp_path, capsys):
    loop(tmp_path, "loop.toml")
    refused(["validate", str(tmp_path / "loop.toml")], capsys, "loop.toml", "leads back to itself")


# --- histories with no rows, workbooks and UTF-32 ----------------------------------------


def test_a_history_with_a_header_and_no_rows_says_there_are_none(tmp_path, capsys):
    path = tmp_path / "history.csv"
    path.write_text(HISTORY.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    err = refused(["fit", str(path)], capsys, "history.csv", "no rows of data", "export")
    assert "0 problems" not in err


def test_a_simulator_with_a_header_and_no_rows_says_there_are_none(tmp_path, capsys):
    path = tmp_path / "simulator.csv"
    lines = SIMULATOR.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(k for k, line in enumerate(lines) if "Est." in line)
    path.write_text("".join(lines[: header + 1]), encoding="utf-8")
    refused(["fit", str(HISTORY), "--simulator", str(path)], capsys, "simulator.csv", "no rows of data")


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")
        workbook.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


XLS = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504)
TEXT = HISTORY.read_text(encoding="utf-8")
FOREIGN = {
    "xlsx": (xlsx_bytes, "Excel workbook", "CSV"),
    "xls": (lambda: XLS, "Excel workbook", "CSV"),
    "utf-32 le": (lambda: codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "UTF-32", "UTF-8"),
    "utf-32 be": (lambda: codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be"), "UTF-32", "UTF-8"),
    "utf-32 without a mark": (lambda: TEXT.encode("utf-32-le"), "UTF-32", "UTF-8"),
}


@pytest.mark.parametrize("kind", FOREIGN)
def test_a_history_that_is_a_workbook_or_utf32_is_named_for_what_it_is(tmp_path, capsys, kind):
    make, named, fix = FOREIGN[kind]
    path = tmp_path / "history.csv"
    path.write_bytes(make())
    err = refused(["fit", str(path)], capsys, "history.csv", named, fix)
    assert "UTF-16" not in err


@pytest.mark.parametrize("kind", FOREIGN)
def test_a_campaign_csv_that_is_a_workbook_or_utf32_is_named_for_what_it_is(tmp_path, capsys, kind):
    make, named, fix = FOREIGN[kind]
    scenario = campaign_csv(tmp_path, CSV_ROW)
    (tmp_path / "campaigns.csv").write_bytes(make())
    err = refused(["validate", str(scenario)], capsys, "campaigns.csv", named, fix)
    assert "UTF-16" not in err


def test_utf16_with_its_mark_is_still_read_as_a_history(tmp_path, capsys):
    path = tmp_path / "history.csv"
    path.write_bytes(codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"))
    assert run(["fit", str(path), "-o", str(tmp_path / "campaigns.csv")]) == 0, capsys.readouterr().err
