"""``tradeoff report``: the client report as PDF and HTML, checked against the plan it presents."""

from __future__ import annotations

import base64
import functools
import io
import itertools
import json
import re
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import html5lib
import numpy as np
import openpyxl
import pypdf
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from optimizer import ScenarioError, load_scenario, solve
from optimizer.cli import EXIT_INFEASIBLE, EXIT_INPUT, EXIT_OK, run
from optimizer.pareto.recommend import at_level, parse_recommend, recommend
from optimizer.report import Brand, report_content, report_html, report_pages, write_pdf
from optimizer.report.pdf import report_style

ROOT = Path(__file__).resolve().parents[1]
B2B = ROOT / "scenarios" / "b2b_saas.toml"
EXAMPLES = sorted((ROOT / "scenarios").glob("*.toml"))


@functools.cache
def recommended(path: Path):
    """Each example's scenario and its recommendation, traced once for the module (results are frozen)."""
    scenario = load_scenario(path)
    return scenario, recommend(scenario, None, points=5)


@pytest.fixture(scope="module")
def b2b():
    scenario = load_scenario(B2B)
    return scenario, recommend(scenario, "knee", points=9)


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def headline_numbers(plan, kpi: str) -> list[str]:
    """The headline's figures, formatted here from the plan's own fields."""
    if kpi.startswith("sov."):
        pool = kpi.removeprefix("sov.")
        levels = [f"{plan.sov[pool] * 100:.1f}%", f"{plan.current_sov[pool] * 100:.1f}%"]
    else:
        levels = [f"{plan.kpis[kpi]:,.0f}", f"{plan.current_kpis[kpi]:,.0f}"]
    leads = [f"{plan.kpis['leads']:,.0f} leads", f"{plan.current_kpis['leads']:,.0f} leads"]
    return [*leads, *levels, f"${plan.kpis['cpl']:,.2f}"]


@pytest.mark.parametrize("path", [pytest.param(p, marks=() if p.stem == "b2b_saas" else pytest.mark.slow)
                                  for p in EXAMPLES], ids=lambda p: p.stem)
def test_the_pdf_renders_for_every_example_and_holds_the_plans_headline(path, tmp_path):  # b2b by default
    scenario, found = recommended(path)
    target = write_pdf(report_content(found, scenario), tmp_path / "plan.pdf")
    text = pdf_text(target)
    assert len(pypdf.PdfReader(target).pages) == 2
    for figure in headline_numbers(found.plan, found.frontier.secondary):
        assert figure in text, figure
    assert scenario.name in text and (scenario.period or "") in text
    for row in sorted(found.plan.allocation, key=lambda r: -abs(r.spend - r.current_spend))[:3]:
        assert f"${row.spend:,.0f}" in text  # the largest moves are listed, at their planned spend


def test_the_recommended_plan_is_the_frontier_at_that_level(b2b):
    scenario, found = b2b
    point, plan = found.point, found.plan
    assert found.frontier.recommended == found.frontier.knee
    assert plan.success and plan.sov["search"] >= point.traded - 1e-6
    assert plan.kpis["leads"] == pytest.approx(point.primary, rel=2e-3)


def test_a_level_asked_for_is_a_point_and_reads_as_a_share_or_percent():
    assert parse_recommend("sov=30%") == parse_recommend("sov=0.30") == pytest.approx(0.30)
    assert parse_recommend("knee") == "knee" and parse_recommend(None) is None
    scenario = load_scenario(B2B)
    found = recommend(scenario, 0.30, points=5)
    assert found.point.traded == pytest.approx(0.30, abs=1e-6)
    assert found.plan.sov["search"] == pytest.approx(0.30, abs=1e-4)


def test_the_price_of_a_point_matches_a_finite_difference_of_two_solves(b2b):
    """View 1: leads lost per SOV point at the recommended level, against solves half a point either side."""
    scenario, found = b2b
    level = found.point.traded
    below, above = (solve(at_level(scenario, "sov.search", level + step)) for step in (-0.005, 0.005))
    slope = (below.kpis["leads"] - above.kpis["leads"]) / 1.0
    content = report_content(found, scenario)
    quoted = float(re.search(r"costs about ([\d,.]+) leads", content.prices[0])[1].replace(",", ""))
    assert quoted == pytest.approx(slope, rel=0.25)
    # View 3: the pool's average CPC at the point, from the plan's own campaigns in the search pool.
    in_pool = {c.name for c in scenario.campaigns if "search" in c.pools}
    rows = [r for r in found.plan.allocation if r.campaign in in_pool]
    average = sum(r.spend for r in rows) / sum(r.clicks for r in rows)
    quoted = float(re.search(r"average CPC from \$[\d.,]+ to \$([\d.,]+)\)", content.prices[2])[1])
    assert quoted == pytest.approx(average, rel=0.01)


def undrawn_tick_labels(figure) -> set[int]:
    """Tick labels outside their axis's view (matplotlib keeps them, but does not draw them)."""
    hidden = set()
    for axes in figure.axes:
        for axis, (low, high), at in ((axes.xaxis, axes.get_xlim(), 0), (axes.yaxis, axes.get_ylim(), 1)):
            span = abs(high - low) * 1e-6
            for label in axis.get_ticklabels():
                if not min(low, high) - span <= label.get_position()[at] <= max(low, high) + span:
                    hidden.add(id(label))
    return hidden


def text_boxes(figure):
    renderer = figure.canvas.get_renderer()
    boxes = []
    hidden = undrawn_tick_labels(figure)
    for artist in figure.findobj(Text):
        if artist.get_visible() and artist.get_text().strip() and id(artist) not in hidden:
            box = artist.get_window_extent(renderer)
            boxes.append((artist.get_text(), box))
    return boxes, renderer


@pytest.mark.parametrize("name", ["b2b_saas", "large_portfolio", "history_example"])
def test_nothing_on_a_page_overlaps_or_leaves_it(name, b2b):
    if name == "b2b_saas":
        scenario, found = b2b
    else:
        scenario, found = recommended(ROOT / "scenarios" / f"{name}.toml")
    with report_style():
        pages = report_pages(report_content(found, scenario))
        for page in pages:
            page.draw_without_rendering()
            boxes, _ = text_boxes(page)
            width, height = page.bbox.width, page.bbox.height
            for text, box in boxes:
                assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1, text
            for (a, first), (b, second) in itertools.combinations(boxes, 2):
                assert not first.overlaps(second.shrunk(0.98, 0.9)), (a, b)
        _legend_clear_of_marks(pages[0])


def _legend_clear_of_marks(page):
    """Every point the chart plots, and every mark (today, recommended, knee), lies below its legend."""
    axes = next(a for a in page.axes if a.get_legend() is not None)
    legend = axes.get_legend().get_window_extent()
    marks = [np.column_stack(line.get_data()) for line in axes.get_lines()]
    marks += [np.asarray(c.get_offsets()) for c in axes.collections if len(c.get_offsets()) == 1]
    assert len(marks) >= 3
    for xy in marks:
        xy = axes.transData.transform(xy)
        inside = (xy[:, 0] >= legend.x0) & (xy[:, 0] <= legend.x1) & (xy[:, 1] >= legend.y0)
        assert not inside.any()


def named_script(scenario):
    campaigns = list(scenario.campaigns)
    campaigns[0] = campaigns[0].model_copy(update={"name": "<script>alert(1)</script>"})
    return scenario.replace(campaigns=tuple(campaigns))


def test_the_html_parses_requests_nothing_and_escapes_names(b2b, tmp_path):
    scenario = named_script(b2b[0])
    found = recommend(scenario, "knee", points=5)
    assert any(r.campaign == "<script>alert(1)</script>" and abs(r.spend - r.current_spend) > 1
               for r in found.plan.allocation), "the campaign must be listed for the test to mean anything"
    text = report_html(report_content(found, scenario))
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)
    assert tree.find(".//script") is None and "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert any(element.tag.endswith("}svg") for element in tree.iter())  # the chart is inline
    assert not re.search(r"(https?:)?//[\w.-]+\.\w", text), "no URL of any kind"
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#|data:)""", text), "only in-page references and data URIs"
    assert "@import" not in text and not re.search(r"url\((?!#)", text), "no style sheet or image fetched"


@pytest.fixture(scope="module")
def logo(tmp_path_factory):
    from matplotlib.image import imsave

    folder = tmp_path_factory.mktemp("branded")
    imsave(folder / "logo.png", np.tile(np.linspace(0, 1, 40), (12, 1)), cmap="viridis")
    text = B2B.read_text() + '\n[report]\nlogo = "logo.png"\nprimary = "#0B5FFF"\naccent = "#FF7A00"\n' \
                             'prepared_by = "Jo Planner, Example Agency"\n'
    (folder / "branded.toml").write_text(text)
    return folder


def test_brand_colours_and_logo_come_from_the_scenario(logo, tmp_path):
    pdf, html = tmp_path / "plan.pdf", tmp_path / "plan.html"
    book = tmp_path / "plan.xlsx"
    args = ["report", str(logo / "branded.toml"), "-o", str(pdf), "--html", str(html), "--xlsx", str(book),
            "--points", "5"]
    assert run(args) == EXIT_OK
    assert openpyxl.load_workbook(book, read_only=True).sheetnames == ["plan", "frontier", "assumptions"]
    page = html.read_text()
    assert base64.b64encode((logo / "logo.png").read_bytes()).decode() in page
    assert "--primary: #0B5FFF" in page and "Jo Planner, Example Agency" in page
    assert "Jo Planner, Example Agency" in pdf_text(pdf)
    scenario = load_scenario(logo / "branded.toml")
    found = recommended(B2B)[1]  # the same plan: the report table changes the look only
    brand = Brand(scenario.report.primary, scenario.report.accent, logo / "logo.png")
    with report_style():
        first, _ = report_pages(report_content(found, scenario, brand))
    bands = [p for p in first.findobj(Rectangle) if p.get_facecolor()[:3] == pytest.approx((11 / 255, 95 / 255, 1))]
    assert bands, "the header band is in the brand's primary colour"
    assert any(a.images for a in first.axes), "the logo is drawn"


@pytest.mark.parametrize(("report", "expected"), [
    ('logo = "../b2b_saas.toml.png"', "outside the scenario's folder"),
    ('logo = "missing.png"', "missing.png"),
    ('logo = "logo.svg"', "not a PNG or JPEG"),
    ('logo = "fake.png"', "cannot read"),
    ('primary = "blue"', "primary"),
])
def test_a_bad_report_table_is_refused_before_solving(report, expected, logo, tmp_path, capsys):
    (logo / "fake.png").write_text("not an image")
    path = logo / "bad.toml"
    path.write_text(B2B.read_text() + f"\n[report]\n{report}\n")
    assert run(["report", str(path), "-o", str(tmp_path / "plan.pdf")]) == EXIT_INPUT
    error = capsys.readouterr().err
    assert expected in error and "report" in error and "Traceback" not in error
    assert not (tmp_path / "plan.pdf").exists()


def test_cli_report_paths_and_refusals(tmp_path, capsys):
    target = tmp_path / "plan.html"
    assert run(["report", str(B2B), "-o", str(target), "--recommend", "sov=30%", "--points", "5",
                "--variant", "stretch", "--set", "budget.max_change=0.4"]) == EXIT_OK
    out = capsys.readouterr().out
    page = target.read_text().replace("&#x27;", "'")
    assert out.startswith("Recommended: ") and out.strip() in page
    assert "as run with --variant stretch, --set budget.max_change=0.4." in page  # the page says what it shows
    assert run(["report", str(B2B)]) == EXIT_INPUT  # no file named
    assert run(["report", str(B2B), "-o", str(tmp_path / "p.pdf"), "--recommend", "sov=0.95"]) == EXIT_INPUT
    error = capsys.readouterr().err
    most = float(re.search(r"no plan reaches 95.00% Search SOV \(fix: ask for at most ([\d.]+)%\)", error)[1]) / 100
    scenario = load_scenario(B2B)
    assert solve(at_level(scenario, "sov.search", most)).success  # the most offered can be had...
    assert solve(at_level(scenario, "sov.search", most + 0.002)).status.value == "infeasible"  # ...and little more
    assert run(["report", str(B2B), "-o", str(tmp_path / "p.pdf"), "--against", "clicks",
                "--recommend", "sov=30%"]) == EXIT_INPUT
    assert "asks for a share, but the frontier trades clicks" in capsys.readouterr().err
    assert run(["report", str(B2B), "-o", str(tmp_path / "p.pdf"), "--recommend", "sov.media=0.3",
                "--against", "sov.search"]) == EXIT_INPUT
    assert run(["report", str(B2B), "-o", str(tmp_path / "p.docx")]) == EXIT_INPUT
    assert not (tmp_path / "p.pdf").exists()


def test_no_report_when_no_plan_exists(tmp_path, capsys):
    target = tmp_path / "plan.pdf"
    target.write_bytes(b"an earlier report")
    args = ["report", str(B2B), "-o", str(target), "--set", 'constraints."CPL cap".max=5', "--points", "5"]
    assert run(args) == EXIT_INFEASIBLE
    assert "No report" in capsys.readouterr().err
    assert target.read_bytes() == b"an earlier report"


def test_a_report_from_stdin_says_what_the_report_from_the_file_says(tmp_path, monkeypatch, capsys):
    args = ["-o", str(tmp_path / "plan.html"), "--points", "5", "--recommend", "knee"]
    assert run(["report", str(B2B), *args]) == EXIT_OK
    from_file = capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(tomllib.loads(B2B.read_text()))
                                                                  .encode()), encoding="utf-8"))
    assert run(["report", "-", *args]) == EXIT_OK
    assert capsys.readouterr().out == from_file and from_file.startswith("Recommended: ")


def test_validate_finds_a_missing_logo_with_every_other_problem(logo, capsys):
    path = logo / "two_problems.toml"
    path.write_text(B2B.read_text().replace("total = 250_000", "total = -1") + '\n[report]\nlogo = "gone.png"\n')
    assert run(["validate", str(path)]) == EXIT_INPUT
    error = capsys.readouterr().err
    assert "report.logo" in error and "gone.png" in error and "budget.total" in error


def test_the_frontier_charts_labels_do_not_overlap_where_today_sits_near_the_frontier():
    """history_example's today sits just below the frontier: its gains once ran into each other there."""
    from optimizer.charts import frontier_chart

    scenario, found = recommended(ROOT / "scenarios" / "history_example.toml")
    assert found.frontier.current.primary_gain > 0 and found.frontier.current.traded_gain > 0
    figure = frontier_chart(found.frontier)
    FigureCanvasAgg(figure)
    figure.draw_without_rendering()
    boxes, _ = text_boxes(figure)
    for (a, first), (b, second) in itertools.combinations(boxes, 2):
        assert not first.overlaps(second.shrunk(0.98, 0.9)), (a, b)
    _legend_clear_of_marks(figure)


def test_every_row_of_page_two_is_listed_or_counted(tmp_path):
    """600 campaigns and hundreds held at a bound: each row shown is in the PDF, the rest counted."""
    scenario, found = recommended(ROOT / "scenarios" / "large_portfolio.toml")
    content = report_content(found, scenario)
    text = pdf_text(write_pdf(content, tmp_path / "plan.pdf"))
    for table in (content.campaigns, content.constraints):
        for row in (*table.rows, *([table.total] if table.total else [])):
            assert row[-2] in text or row[0] in text, row
    assert "other campaigns" in text and "Assumptions" in text
    held = sum(1 for p in found.plan.shadow_prices if p.kind == "campaign")
    shown = sum(1 for p in found.plan.shadow_prices if p.constraint in text)
    assert held > 10 and re.search(rf"{len(found.plan.shadow_prices) - shown} more", text)


def test_a_knee_that_replaces_the_scenarios_floor_says_so():
    scenario = load_scenario(B2B, variant="sov_push")
    found = recommend(scenario, "knee", points=7)
    assert found.frontier.recommended == found.frontier.knee
    floors = [c.min for c in scenario.constraints if c.kpi == "sov.search" and c.min is not None]
    assert found.replaced_floor == max(floors) != pytest.approx(found.point.traded)
    note = report_content(found, scenario).notes[0]
    assert f"{max(floors):.1%}" in note and f"{found.point.traded:.1%}" in note


@pytest.mark.parametrize(("settings", "kpi", "unit"), [
    ({"variant": "mql_focus"}, "mqls", "CPMQL"),
    ({"overrides": ["objective.maximize=revenue"]}, "revenue", None),
])
def test_the_report_speaks_in_the_objectives_kpi(settings, kpi, unit):
    scenario = load_scenario(B2B, **settings)
    found = recommend(scenario, "knee", points=5)
    content = report_content(found, scenario)
    plan = found.plan
    if unit is None:  # revenue reads as money
        assert f"${plan.kpis['revenue']:,.0f} of revenue" in content.headline
        assert content.campaigns.headers[5:7] == ("Revenue", "ROAS")
    else:
        assert f"{plan.kpis[kpi]:,.0f} {kpi}" in content.headline
        assert f"{unit} ${plan.kpis['spend'] / plan.kpis[kpi]:,.2f}" in content.headline
        assert content.campaigns.headers[5:7] == ("MQLs", unit)
    assert "leads" not in content.headline + " ".join(content.prices)


def test_a_scenario_that_minimises_spend_has_no_frontier_to_report(tmp_path, capsys):
    from optimizer.scenario.schema import ConstraintSpec, ObjectiveSpec

    scenario = load_scenario(B2B)
    minimising = scenario.replace(objective=ObjectiveSpec(minimize="spend", secondary="sov.search"),
                                  constraints=(*scenario.constraints, ConstraintSpec(kpi="leads", min=4000)))
    with pytest.raises(ScenarioError, match="minimises spend"):
        recommend(minimising, "knee", points=5)


@pytest.mark.slow  # 2 s: three reports
def test_long_names_and_many_notes_fit_their_pages(tmp_path):
    """Every campaign extrapolated (a note each) under a long name: the notes give way to the assumptions,
    which are always shown, and nothing overlaps."""
    scenario = load_scenario(B2B)
    long = " — North America and EMEA, all audiences, always-on programme"
    campaigns = tuple(c.model_copy(update={"name": c.name + long, "spend": c.spend.model_copy(
        update={"observed_min": 1.0, "observed_max": 2.0})}) for c in scenario.campaigns)
    scenario = scenario.replace(campaigns=campaigns)
    found = recommend(scenario, "knee", points=5)
    content = report_content(found, scenario)
    assert len(content.notes) > 8
    text = pdf_text(write_pdf(content, tmp_path / "plan.pdf"))
    assert "Assumptions" in text and all(line.split(";")[0][:30] in text.replace("\n", " ")
                                         for line in content.assumptions)
    shown = sum(note[:25] in text.replace("\n", " ") for note in content.notes)
    assert shown == len(content.notes) or f"and {len(content.notes) - shown} more" in text
    with report_style():
        for page in report_pages(content):
            page.draw_without_rendering()
            boxes, _ = text_boxes(page)
            for (a, first), (b, second) in itertools.combinations(boxes, 2):
                assert not first.overlaps(second.shrunk(0.98, 0.9)), (a, b)


@pytest.mark.slow  # 2 s
def test_a_wide_legend_shrinks_into_its_frame():
    """Revenue against impressions writes the legend's longest labels."""
    scenario = load_scenario(B2B, overrides=["objective.maximize=revenue"])
    found = recommend(scenario, None, "impressions", points=5)
    with report_style():
        first, _ = report_pages(report_content(found, scenario))
        first.draw_without_rendering()
    axes = next(a for a in first.axes if a.get_legend() is not None)
    legend, frame = axes.get_legend().get_window_extent(), axes.get_window_extent()
    assert frame.x0 <= legend.x0 and legend.x1 <= frame.x1
    boxes, _ = text_boxes(first)
    for (a, one), (b, other) in itertools.combinations(boxes, 2):
        assert not one.overlaps(other.shrunk(0.98, 0.9)), (a, b)


def test_a_floor_on_a_selection_holds_and_an_esov_floor_is_a_floor_on_sov():
    """The frontier moves floors on the whole plan's traded KPI only; an ESOV floor is SOV at SOM above it."""
    from optimizer.scenario.schema import ConstraintSpec

    scenario = load_scenario(B2B)
    scoped = scenario.replace(constraints=(*scenario.constraints, ConstraintSpec(
        kpi="clicks", where={"channel": "search"}, min=28_000)))
    found = recommend(scoped, None, "clicks", points=5)
    search = sum(r.clicks for r in found.plan.allocation if r.channel == "search")
    assert search >= 28_000 * (1 - 1e-6) and all(check.ok for check in found.plan.checks)
    assert found.replaced_floor is None
    som = scenario.pools["search"].som
    esov = scenario.replace(constraints=tuple(
        c.model_copy(update={"kpi": "esov.search", "min": 0.30 - som}) if c.kpi == "sov.search" else c
        for c in scenario.constraints))
    found = recommend(esov, None, points=5)
    assert found.point.traded == pytest.approx(0.30, abs=1e-6)
    assert found.plan.sov["search"] == pytest.approx(0.30, abs=1e-4)
    assert found.plan.kpis["leads"] == pytest.approx(found.point.primary, rel=2e-3)


def test_cost_per_thousand_is_per_thousand_in_every_place():
    scenario = load_scenario(B2B, overrides=["objective.maximize=impressions"])
    found = recommend(scenario, "knee", points=5)
    content = report_content(found, scenario)
    cpm = 1000 * found.plan.kpis["spend"] / found.plan.kpis["impressions"]
    assert f"CPM ${cpm:,.2f}" in content.headline and content.campaigns.total[6] == f"${cpm:,.2f}"


def test_a_table_cut_short_counts_its_hidden_rows_and_keeps_its_total():
    from optimizer.report.content import Table
    from optimizer.report.pdf import Page, _Column, _table

    rows = tuple((f"campaign {k}", f"{k}") for k in range(10))
    page = Page()
    _table(_Column(page, 0.5, 4.0, 1.0, 1.0 + 6 * page.line_height(9) * 1.12), Table(("Name", "N"), rows, "lr",
                                                                                       ("Total", "45")), 9)
    shown = [t.get_text() for t in page.figure.texts]
    listed = [text for text in shown if text.startswith("campaign ")]
    assert shown[-2:] == ["Total", "45"]
    assert f"… {10 - len(listed)} more rows (the HTML report and the workbook list them)" in shown


def test_a_long_subtitle_is_cut_to_the_chart_not_shorter():
    from optimizer.charts import frontier_chart

    _, found = recommended(B2B)
    long = replace(found.frontier, scenario="Acme Analytics, North America and EMEA: " * 6)
    figure = frontier_chart(long)
    FigureCanvasAgg(figure)
    figure.draw_without_rendering()
    axes = figure.axes[0]
    subtitle = next(t for t in axes.texts if "Acme" in t.get_text())
    frame, width = axes.get_window_extent().width, subtitle.get_window_extent().width
    assert "…" in subtitle.get_text() and 0.85 * frame <= width <= frame
