"""Campaign history read from platform exports: the fixtures' values as written in them, read back.

Each fixture under ``fit_exports/`` is a small export in a platform's own spellings (title lines,
currency symbols, thousands separators, ``< 10%`` shares, ``--``, total rows); the expected values
are the numbers those cells state, written out here by hand.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pytest

from optimizer.errors import ScenarioError
from optimizer.fit.exports import parse_number, read_history

FIXTURES = Path(__file__).parent / "fit_exports"


def test_a_google_ads_export_is_read_past_its_title_lines_with_its_totals_set_aside():
    history = read_history(FIXTURES / "google_ads.csv")
    frame = history.frame
    assert history.platform == "Google Ads"
    assert history.sources["spend"] == "Cost" and history.sources["impressions"] == "Impr."
    assert list(frame["line"]) == [4, 5, 6, 7]
    assert list(frame["campaign"]) == ["Search: non-brand"] * 2 + ["Search: brand"] * 2
    assert list(frame["period"]) == ["Nov 3, 2025", "Nov 10, 2025"] * 2
    np.testing.assert_allclose(frame["spend"], [12345.67, 13001.20, 980.00, 1002.5])
    np.testing.assert_allclose(frame["impressions"], [1204000, 1250311, 45001, 44120])
    np.testing.assert_allclose(frame["clicks"], [8432, 8910, 6120, 5980])
    np.testing.assert_allclose(frame["leads"], [213.5, 220, 301, np.nan])
    np.testing.assert_allclose(frame["impression_share"], [0.10, 0.1234, 0.90, 0.881])
    assert [p.location for p in history.set_aside] == ["google_ads.csv line 8", "google_ads.csv line 9"]


def test_the_same_export_saved_for_excel_as_utf16_with_tabs_reads_the_same(tmp_path):
    text = (FIXTURES / "google_ads.csv").read_text(encoding="utf-8")
    source = list(csv.reader(io.StringIO(text)))  # rewritten cell by cell, so quoted commas stay in their cells
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\r\n").writerows(source)
    path = tmp_path / "google_ads.csv"
    path.write_bytes(out.getvalue().encode("utf-16"))
    utf8, utf16 = read_history(FIXTURES / "google_ads.csv").frame, read_history(path).frame
    assert utf16.equals(utf8)


def test_a_meta_ads_manager_export_takes_its_leads_column_over_its_results():
    history = read_history(FIXTURES / "meta_ads.csv")
    frame = history.frame
    assert history.platform == "Meta Ads Manager"
    assert history.sources == {"period": "Reporting starts", "campaign": "Campaign name",
                               "spend": "Amount spent (USD)", "impressions": "Impressions",
                               "clicks": "Link clicks", "leads": "Leads", "channel": "(Meta Ads Manager)"}
    assert set(frame["channel"]) == {"social"}  # the platform's channel, with no column of its own
    assert len(frame) == 8
    np.testing.assert_allclose(frame["spend"].iloc[:3], [4210.55, 4502.10, 3890.20])
    np.testing.assert_allclose(frame["clicks"].iloc[:2], [3120, 3342])
    assert frame["leads"].iloc[0] == 88 and math.isnan(frame["leads"].iloc[1])  # empty, not 0


def test_a_linkedin_campaign_manager_export_is_read_below_its_report_lines():
    history = read_history(FIXTURES / "linkedin.csv")
    frame = history.frame
    assert history.platform == "LinkedIn Campaign Manager"
    assert list(frame["line"]) == [6, 7]
    assert list(frame["period"]) == ["11/3/2025", "11/10/2025"]
    np.testing.assert_allclose(frame["spend"], [2250.00, 2310.40])
    np.testing.assert_allclose(frame["leads"], [19, 21])


def test_the_long_format_reads_every_funnel_column():
    history = read_history(FIXTURES / "long.csv")
    assert history.platform == "long format"
    row = history.frame.iloc[0]
    assert (row["channel"], row["stage"]) == ("search", "leads")
    assert [row[c] for c in ("spend", "mqls", "sqls", "customers", "revenue")] == [12000, 60, 20, 5, 50000]
    assert math.isnan(history.frame.iloc[1]["mqls"])


def test_every_unreadable_row_is_reported_at_once_with_its_line():
    with pytest.raises(ScenarioError) as raised:
        read_history(FIXTURES / "malformed.csv")
    problems = raised.value.problems
    assert [p.location for p in problems] == [
        "malformed.csv line 2, column 'spend'",
        "malformed.csv line 4, column 'campaign'",
        "malformed.csv line 5, column 'clicks'",
        "malformed.csv line 6, column 'spend'",
    ]
    assert "'abc' is not a number" in problems[0].message and problems[0].fix
    assert "negative" in problems[2].message


def test_columns_named_with_map_are_read_over_the_usual_spellings_and_a_wrong_map_is_named(tmp_path):
    path = tmp_path / "custom.csv"
    path.write_text("When,Line item,Cost (converted),Clicks (all),Cost\n2025-11-03,Display: retargeting,1.200,300,9\n")
    history = read_history(path, {"campaign": "Line item", "spend": "Cost (converted)", "clicks": "Clicks (all)"})
    assert history.frame["spend"].iloc[0] == 1.2 and history.frame["clicks"].iloc[0] == 300
    assert "period" not in history.frame  # 'When' is no usual spelling, and was not named
    with pytest.raises(ScenarioError) as raised:
        read_history(path, {"campaign": "Line item", "spend": "Costs", "clickz": "Clicks (all)"})
    messages = [str(p) for p in raised.value.problems]
    assert any("'clickz' is not a history column" in m for m in messages)
    assert any("no column 'Costs'" in m and "Cost (converted)" in m for m in messages)


def test_a_file_without_a_campaign_and_a_spend_header_says_how_to_name_them(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ScenarioError, match="no header row") as raised:
        read_history(path)
    assert "--map" in raised.value.problems[0].fix


@pytest.mark.parametrize(("text", "share", "expected"), [
    ("$1,234.56", False, 1234.56),
    ("1.234,56 €", False, 1234.56),
    ("1,234", False, 1234.0),
    ("1,234,567", False, 1234567.0),
    ("1.234.567,89", False, 1234567.89),
    ("0.125", False, 0.125),
    ("1,5", False, 1.5),
    ("USD 2,000", False, 2000.0),
    ("1\u00a0234,50", False, 1234.5),
    ("12.5%", False, 0.125),
    ("< 10%", True, 0.10),
    ("> 90%", True, 0.90),
    ("(12.00)", False, -12.0),
    ("--", False, None),
    ("", False, None),
])
def test_a_number_as_exports_write_it(text, share, expected):
    assert parse_number(text, share) == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize("text", ["abc", "12a", "< 10%", "1..2", "inf", "nan"])
def test_what_is_not_a_number_is_refused(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_a_cut_off_utf16_export_is_refused_with_its_line(tmp_path):
    """A UTF-16 export whose last character is cut in half: a clear problem, not a decoding crash."""
    from optimizer.errors import ScenarioError
    from optimizer.scenario.sources import read_text

    path = tmp_path / "export.csv"
    path.write_bytes(("Campaign\tCost\nA\t12\n".encode("utf-16")) + b"\x41")
    with pytest.raises(ScenarioError, match=r"export.csv line 3.*not UTF-16 text"):
        read_text(path, "export.csv", utf16=True)


def test_an_export_with_its_header_and_totals_but_no_rows_says_so_at_the_header(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Campaign report\nCampaign,Cost,Clicks\nTotal: Account,\"$1,234.00\",56\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as raised:
        read_history(path)
    [problem] = raised.value.problems
    assert problem.location == "export.csv line 2"
    assert "no rows of data" in problem.message and "1 summary rows set aside" in problem.message


def test_an_export_cell_over_the_csv_field_limit_is_a_problem_at_its_line(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Campaign,Cost\nA,12\n\"B" + "x" * (csv.field_size_limit() + 1) + "\",13\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as raised:
        read_history(path)
    [problem] = raised.value.problems
    assert problem.location == "export.csv line 3" and "characters" in problem.message


@pytest.mark.parametrize("digits", [400, 5_000])
def test_a_cost_of_hundreds_of_digits_is_named_by_its_digits_not_echoed(tmp_path, digits):
    path = tmp_path / "export.csv"
    path.write_text(f"Campaign,Cost\nA,{'9' * digits}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as raised:
        read_history(path)
    [problem] = raised.value.problems
    assert problem.location == "export.csv line 2, column 'Cost'"
    assert f"{digits:,} digits" in problem.message and "9" * 100 not in problem.message
