"""Whatever a name or a saved document holds, the output layers show it as text and never crash.

Each test runs the real command line (or the layer a command calls) on input a user can send:
a saved frontier of the wrong shape, budgets that are not numbers, names with dollar signs,
control characters or ten thousand characters, a logo too large to decode, CSV cells that read
as formulas.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import html5lib
import pandas as pd
import pypdf
import pytest
from matplotlib.text import Text

from optimizer import load_scenario
from optimizer.charts.fit import fit_chart
from optimizer.charts.style import clipped
from optimizer.cli import EXIT_INPUT, EXIT_OK, run
from optimizer.errors import ScenarioError
from optimizer.fit.report import fit_curves
from optimizer.fit.synthetic import EXAMPLE_FUNNELS, synthetic_funnel_history
from optimizer.formatting import csv_text, printable
from optimizer.pareto.recommend import recommend
from optimizer.report import Brand, Table, report_content, report_html, report_pages, write_pdf
from optimizer.report import pdf as report_pdf

ROOT = Path(__file__).resolve().parents[1]
B2B = ROOT / "scenarios" / "b2b_saas.toml"
DOLLARS = "Search $5 promo $10 off"
MATH = "Promo $_$ week"  # not even valid mathtext: read as mathematics, it cannot be drawn at all
CONTROL = "Display\x00\x1b[31m\x7f\x85\x0c retarget"
UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err, err
    return code, out, err


# --- 1. tradeoff chart on a saved frontier of the wrong shape ---------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A frontier and a budget sweep as tradeoff frontier writes them."""
    folder = tmp_path_factory.mktemp("saved")
    assert run(["frontier", str(B2B), "--points", "4", "-o", str(folder / "f.json")]) == EXIT_OK
    assert run(["frontier", str(B2B), "--points", "3", "--budgets", "200000,250000",
                "-o", str(folder / "s.json")]) == EXIT_OK
    return (json.loads((folder / "f.json").read_text(encoding="utf-8")),
            json.loads((folder / "s.json").read_text(encoding="utf-8")))


def _points_as_text(d):
    d["points"] = "four points"


def _knee_out_of_range(d):
    d["knee"] = 40


def _knee_as_text(d):
    d["knee"] = "2"


def _nan_value(d):
    d["points"][1]["leads"] = float("nan")


def _mismatched_campaign(d):
    d["campaigns"][0]["primary"] = d["campaigns"][0]["primary"][:-3]


def _allocation_missing_a_campaign(d):
    d["points"][2]["allocation"].pop(next(iter(d["points"][2]["allocation"])))


def _null_where_the_chart_needs_a_number(d):
    d["points"][0]["sov.search"] = None


@pytest.mark.parametrize(("change", "location"), [
    (_points_as_text, "points: "),
    (_knee_out_of_range, "knee: "),
    (_knee_as_text, "knee: "),
    (_nan_value, "points[1].leads: "),
    (_mismatched_campaign, "campaigns[0]"),
    (_allocation_missing_a_campaign, "points[2].allocation: "),
    (_null_where_the_chart_needs_a_number, "points[0].sov.search: "),
])
def test_chart_refuses_a_frontier_of_the_wrong_shape_with_the_place(saved, tmp_path, capsys, change, location):
    document = json.loads(json.dumps(saved[0]))
    change(document)
    path = tmp_path / "frontier.json"
    path.write_text(json.dumps(document), encoding="utf-8")  # NaN is written as Python's json writes it
    code, _, err = cli(capsys, "chart", str(path), "-o", str(tmp_path / "f.png"))
    assert code == EXIT_INPUT, err
    assert err.startswith(f"error: {path}: ") and f"  - {location}" in err, err
    assert "(fix: " in err
    assert not (tmp_path / "f.png").exists()


def test_every_problem_of_a_sweep_is_reported_at_once_each_located(saved, tmp_path, capsys):
    document = json.loads(json.dumps(saved[1]))
    document["frontiers"][1]["points"][2]["leads"] = "many"
    document["frontiers"][1]["recommended"] = -1
    document["frontiers"][0]["campaigns"][1]["spend"] = "cheap"
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    code, _, err = cli(capsys, "chart", str(path))
    assert code == EXIT_INPUT
    assert err.startswith(f"error: {path}: 3 problems found"), err
    for location in ("frontiers[1].points[2].leads: ", "frontiers[1].recommended: ",
                     "frontiers[0].campaigns[1].spend: "):
        assert f"  - {location}" in err, err


@pytest.mark.parametrize(("content", "words"), [
    (b"[" * 100_000, "line 1"),
    (b'{"kind": "frontier", "knee": ' + b"7" * 5000 + b"}", "line 1"),
    (b'{"kind": "frontier", "scenario": "caf\xe9"}', "UTF-8"),
    (b'{"schema_version": "1"}', "not a frontier"),
])
def test_chart_refuses_a_file_that_cannot_be_read_as_a_frontier(tmp_path, capsys, content, words):
    path = tmp_path / "frontier.json"
    path.write_bytes(content)
    code, _, err = cli(capsys, "chart", str(path))
    assert code == EXIT_INPUT and str(path) in err and words in err and "(fix: " in err, err


# --- 2. budgets that are not numbers ---------------------------------------------------------------


@pytest.mark.parametrize("budgets", ["nan", "inf", "-1e400", "1e999", "200000,nan"])
def test_budgets_must_be_finite(capsys, budgets):
    code, _, err = cli(capsys, "frontier", str(B2B), "--points", "3", "--budgets", budgets)
    assert code == EXIT_INPUT and "--budgets" in err, err


# --- 3, 5, 6. names with dollar signs, control characters and ten thousand characters --------------


def _hostile(scenario):
    campaigns = list(scenario.campaigns)
    for index, name in enumerate((DOLLARS, MATH, CONTROL)):
        campaigns[index] = campaigns[index].model_copy(update={"name": name})
    pools = {name: pool.model_copy(update={"label": f"{pool.label} $_$"}) for name, pool in scenario.pools.items()}
    return scenario.replace(campaigns=tuple(campaigns), pools=pools, name="Q1 $_$ plan\x07 for $5")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    scenario = _hostile(load_scenario(B2B))
    found = recommend(scenario, "knee", points=5)
    brand = Brand(prepared_by="Jo $x$ Planner\x1b")
    content = report_content(found, scenario, brand)
    folder = tmp_path_factory.mktemp("hostile")
    return content, found, write_pdf(content, folder / "plan.pdf")


def test_the_pdf_shows_names_as_they_are_written(hostile):
    content, found, pdf = hostile
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert {DOLLARS, MATH, CONTROL} <= {row.campaign for row in found.plan.allocation}
    for name in (DOLLARS, MATH, "Q1 $_$ plan", "Jo $x$ Planner"):
        assert name in text, name


def test_the_frontier_charts_draw_names_as_text(saved, tmp_path, capsys):
    document = json.loads(json.dumps(saved[0]))
    renamed = {"Search: brand": MATH, "Search: non-brand": DOLLARS}
    for point in document["points"]:
        point["allocation"] = {renamed.get(k, k): v for k, v in point["allocation"].items()}
    for curve in document["campaigns"]:
        curve["name"] = renamed.get(curve["name"], curve["name"])
    document["scenario"]["name"] = "Plan $_$ \x1b one"
    path = tmp_path / "frontier.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    for kind in ("frontier", "costs", "allocation-campaigns", "curves"):
        target = tmp_path / f"{kind}.svg"
        code, _, err = cli(capsys, "chart", str(path), "--kind", kind, "-o", str(target))
        assert code == EXIT_OK, err
        svg = target.read_text(encoding="utf-8")
        ET.fromstring(svg)
        if kind in ("allocation-campaigns", "curves"):
            assert f">{MATH}<" in svg and f">{DOLLARS}<" in svg, kind
        else:
            assert "Plan $_$ \ufffd one" in svg, kind


def test_the_fit_chart_draws_a_campaigns_name_as_text(tmp_path, capsys):
    history = synthetic_funnel_history(EXAMPLE_FUNNELS, weeks=20, noise=0.08, seed=4)
    first = history["campaign"].iloc[0]
    history["campaign"] = history["campaign"].replace(first, MATH)
    campaign = next(c for c in fit_curves(history).campaigns if c.name == MATH)
    figure = fit_chart(campaign, history, draws=5)
    figure.savefig(io.BytesIO(), format="png")
    assert any(t.get_text().startswith(MATH) and not t.get_parse_math() for t in figure.findobj(Text))
    path = tmp_path / "history.csv"
    history[history["campaign"] == MATH].to_csv(path, index=False)  # its chart alone, through the command
    code, _, err = cli(capsys, "fit", str(path), "-o", str(tmp_path / "c.csv"), "--charts", str(tmp_path / "charts"))
    assert code == EXIT_OK, err
    assert len(list((tmp_path / "charts").glob("*.png"))) == 1


def test_the_html_holds_no_control_character_and_parses_strictly(hostile):
    content, _, _ = hostile
    rows = (("x\ud800y\ufffe",) + content.campaigns.rows[0][1:], *content.campaigns.rows[1:])
    page = report_html(dataclasses.replace(content, campaigns=dataclasses.replace(content.campaigns, rows=rows)))
    page.encode("utf-8")  # a lone surrogate could not be written
    assert not UNPRINTABLE.search(page.replace("\t", " ").replace("\n", " "))
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)
    svg = page[page.index("<svg"):page.index("</svg>") + len("</svg>")]
    namespaces = ' xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    ET.fromstring(svg.replace("<svg", "<svg" + namespaces, 1))  # the page leaves them implied
    assert "Display\ufffd\ufffd[31m\ufffd\ufffd\ufffd retarget" in page


def _measured(content, monkeypatch) -> list[str]:
    texts: list[str] = []
    measure = report_pdf.Page.measure

    def counting(self, text, size, bold=False):
        texts.append(text)
        return measure(self, text, size, bold)

    monkeypatch.setattr(report_pdf.Page, "measure", counting)
    report_pages(content)
    monkeypatch.undo()
    return texts


def test_a_long_name_costs_the_report_no_more_than_a_short_one(hostile, monkeypatch):
    content, _, _ = hostile

    def named(length: int):
        name = ("Search non-brand " * 700)[:length]
        rows = ((name,) + content.campaigns.rows[0][1:], *content.campaigns.rows[1:])
        return dataclasses.replace(content, title=name, campaigns=Table(content.campaigns.headers, rows,
                                                                         content.campaigns.align,
                                                                         content.campaigns.total))

    short, long = _measured(named(100), monkeypatch), _measured(named(10_000), monkeypatch)
    assert len(long) <= len(short) + 40
    assert max(map(len, long)) <= 1000


def test_clipping_measures_a_bounded_number_of_bounded_texts():
    for length in (100, 10_000, 100_000):
        seen: list[str] = []

        def fits(shown: str, seen=seen) -> bool:
            seen.append(shown)
            return len(shown) <= 60

        shown = clipped("Search non-brand | Phoenix | " + "x" * length, fits)
        assert len(shown) <= 60 and len(seen) <= 20 and max(map(len, seen)) <= 1000


def test_printable_keeps_tabs_and_newlines_and_replaces_the_rest():
    assert printable("a\tb\nc\x00d\x7fe\x9ff\ud800g") == "a\tb\nc\ufffdd\ufffde\ufffdf\ufffdg"


# --- 4. a logo too large to decode -----------------------------------------------------------------


def _png_header(width: int, height: int) -> bytes:
    """The start of a PNG that says it is ``width`` x ``height`` (the pixels are never there)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + zlib.compress(b"\x00" * 4096)


def test_a_huge_logo_is_refused_before_anything_decodes_it(tmp_path, capsys, hostile):
    (tmp_path / "huge.png").write_bytes(_png_header(20_000, 20_000))
    scenario = tmp_path / "branded.toml"
    scenario.write_text(B2B.read_text(encoding="utf-8") + '\n[report]\nlogo = "huge.png"\n', encoding="utf-8")
    code, _, err = cli(capsys, "report", str(scenario), "-o", str(tmp_path / "plan.pdf"), "--points", "3")
    assert code == EXIT_INPUT and "huge.png" in err and "20,000 x 20,000" in err and "(fix: " in err, err
    assert not (tmp_path / "plan.pdf").exists()
    content = dataclasses.replace(hostile[0], brand=Brand(logo=tmp_path / "huge.png"))
    for write in (lambda: report_html(content), lambda: write_pdf(content, tmp_path / "plan.pdf")):
        with pytest.raises(ScenarioError, match="20,000 x 20,000"):
            write()


# --- 7. CSV cells that read as formulas ------------------------------------------------------------


def test_csv_text_quotes_formulas_and_keeps_numbers():
    frame = pd.DataFrame({"name": ['=HYPERLINK("http://x","y")', "+1", "-x", "@SUM(A1)", "\tx", "\rx", "plain"],
                          "value": [-1.5, 2, -3, 4, 5, 6, 7]})
    lines = csv_text(frame).splitlines()
    assert lines[1] == '"\'=HYPERLINK(""http://x"",""y"")",-1.5'
    assert [line.split(",")[0] for line in lines[2:5]] == ["'+1", "'-x", "'@SUM(A1)"]
    assert lines[-1] == "plain,7.0"
    numbers = frame[~frame["name"].str.contains("\r")]  # a bare carriage return ends a row for any reader
    assert pd.read_csv(io.StringIO(csv_text(numbers)))["value"].tolist() == numbers["value"].tolist()
