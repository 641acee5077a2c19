"""A bid simulator's export read as tabular curves and put in place of a fitted history's.

Expected points are the fixture's cells parsed here by hand (``$9,482.16`` is 9482.16); the round
trip solves the merged campaigns and checks the plan's leads against the simulator's points,
interpolated here, times the history's pooled lead rate, summed here from the history's rows.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from optimizer import Status, load_scenario, solve
from optimizer.errors import ScenarioError
from optimizer.fit.exports import read_history
from optimizer.fit.report import RateFit, TableFit, fit_curves
from optimizer.fit.simulator import read_simulator, with_simulator

FIXTURES = Path(__file__).parent / "fit_exports"
SIMULATOR = FIXTURES / "google_bid_simulator.csv"
HISTORY = Path(__file__).parent.parent / "scenarios" / "history_example.csv"
HEADER = "Campaign,Max. CPC,Est. cost,Est. clicks,Est. conversions\n"
TITLE = 'Campaign bid simulator\n"November 10, 2025 - November 16, 2025"\n'


def _by_hand(column: str) -> dict[str, list[tuple[float, float]]]:
    """The fixture's (Est. cost, ``column``) pairs per campaign, sorted by cost, parsed without the library."""
    with open(SIMULATOR, newline="") as handle:
        rows = list(csv.DictReader(handle.readlines()[2:]))
    points: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        cost, value = (float(row[key].replace("$", "").replace(",", "")) for key in ("Est. cost", column))
        points.setdefault(row["Campaign"], []).append((cost, value))
    return {name: sorted(pairs) for name, pairs in points.items()}


def _interpolate(points: list[tuple[float, float]], spend: float) -> float:
    """The table at ``spend``: a straight line between the points around it, from the origin."""
    for (x0, y0), (x1, y1) in zip([(0.0, 0.0), *points], points, strict=False):
        if x0 <= spend <= x1:
            return y0 + (y1 - y0) * (spend - x0) / (x1 - x0)
    raise AssertionError(f"{spend} is past the table's last point")


def _write(tmp_path: Path, rows: str, name: str = "sim.csv") -> Path:
    path = tmp_path / name
    path.write_text(TITLE + HEADER + rows)
    return path


@pytest.fixture(scope="module")
def history():
    return fit_curves(read_history(HISTORY).frame)


@pytest.fixture(scope="module")
def merged(history):
    return with_simulator(history, read_simulator(SIMULATOR))


def test_the_points_read_back_are_the_exports_numbers_sorted_by_spend():
    simulator = read_simulator(SIMULATOR)
    clicks, impressions = _by_hand("Est. clicks"), _by_hand("Est. impr.")
    assert list(simulator.tables) == ["Search: non-brand", "Search: competitors"]
    for name, tables in simulator.tables.items():
        assert list(tables) == ["impressions", "clicks"]  # Est. top impr. is not impressions
        assert list(tables["clicks"].points) == clicks[name]
        assert list(tables["impressions"].points) == impressions[name]
        assert simulator.notes[name] == ()
    assert simulator.tables["Search: competitors"]["clicks"].source == "google_bid_simulator.csv lines 11-16"


def test_the_simulators_outcomes_replace_the_historys_and_its_lead_rate_is_kept(history, merged):
    before = next(c for c in history.campaigns if c.name == "Search: non-brand")
    after = next(c for c in merged.campaigns if c.name == "Search: non-brand")
    assert list(after.outcomes) == ["impressions", "clicks", "leads"]
    assert isinstance(after.outcomes["impressions"], TableFit) and isinstance(after.outcomes["clicks"], TableFit)
    leads = after.outcomes["leads"]
    assert isinstance(leads, RateFit) and leads.of == "clicks" and leads is before.outcomes["leads"]
    assert (after.current_spend, after.observed) == (before.current_spend, before.observed)
    assert "leads: the history's rate of clicks, applied to the simulator's clicks" in after.notes
    untouched = [c for c in merged.campaigns if c.name in ("Meta: lead ads", "CTV: brand film")]
    assert untouched == [c for c in history.campaigns if c.name in ("Meta: lead ads", "CTV: brand film")]


@pytest.mark.parametrize("budget", [60_000, 20_000])
def test_the_merged_campaigns_solve_and_the_plans_leads_are_the_table_times_the_historys_rate(
        merged, tmp_path, budget):
    """At 20,000 the non-brand campaign takes the whole budget, between two of its points."""
    (tmp_path / "x.csv").write_text(merged.campaign_csv())
    (tmp_path / "s.toml").write_text(f'name = "simulated"\ncampaigns = "x.csv"\n\n[objective]\nmaximize = "leads"\n\n'
                                     f"[budget]\ntotal = {budget}\n")
    plan = solve(load_scenario(tmp_path / "s.toml"))
    assert plan.status is Status.OPTIMAL
    with open(HISTORY, newline="") as handle:
        weeks = [row for row in csv.DictReader(handle) if row["campaign"] == "Search: non-brand"]
    lead_rate = sum(float(w["leads"]) for w in weeks) / sum(float(w["clicks"]) for w in weeks)
    search = next(a for a in plan.allocation if a.campaign == "Search: non-brand")
    clicks = _by_hand("Est. clicks")["Search: non-brand"]
    assert search.spend > clicks[0][0]  # past the first point: the leads below are not 0 = 0
    assert search.clicks == pytest.approx(_interpolate(clicks, search.spend), rel=1e-5)
    assert search.leads == pytest.approx(_interpolate(clicks, search.spend) * lead_rate, rel=1e-5)
    if budget == 20_000:
        assert search.spend == pytest.approx(20_000) and all(abs(search.spend - x) > 100 for x, _ in clicks)


def test_a_campaign_only_the_simulator_has_is_added_with_notes_saying_so(merged):
    added = merged.campaigns[-1]
    assert (added.name, added.channel, added.stage, added.current_spend, added.observed) == (
        "Search: competitors", "search", "conversion", 0.0, None)
    assert added.notes[0] == ("not in the history: a campaign of its own from the simulator, channel search and "
                              "stage conversion assumed")
    assert added.notes[1].startswith("today's spend: 0, as the simulator gives none")
    rows = {row["name"]: row for row in merged.campaign_rows()}
    assert "spend.observed_min" not in rows["Search: competitors"] and "spend.observed_max" not in rows[
        "Search: competitors"]
    assert rows["Search: non-brand"]["spend.observed_max"] == 44591.52
    assert rows["Search: competitors"]["clicks.curve"] == "tabular"
    assert rows["Search: competitors"]["clicks.points"] == (
        "[[1204.88, 612.0], [1933.1, 842.0], [2741.56, 1041.0], [3598.02, 1208.0], [4560.75, 1350.0], "
        "[5602.31, 1461.0]]")


def test_a_falling_estimate_is_refused_naming_both_lines(tmp_path):
    path = _write(tmp_path, "Search: a,$1.00,$100.00,50,2\n"
                            "Search: a,$1.50,$180.00,48,3\n"  # line 5: fewer clicks for more spend
                            "Search: b,$1.00,$90.00,40,2\n"
                            "Search: b,$2.00,$70.00,45,3\n")  # line 7: sorted by spend, before line 6
    with pytest.raises(ScenarioError) as raised:
        read_simulator(path)
    problems = {(p.location, p.message) for p in raised.value.problems}
    assert ("sim.csv line 5, column 'Est. clicks'",
            "Search: a: the estimate 48 at $180.00 is below 50 at $100.00 (line 4), but an estimate never falls "
            "as spend rises") in problems
    assert [p.location for p in raised.value.problems] == [
        "sim.csv line 5, column 'Est. clicks'", "sim.csv line 6, column 'Est. clicks'",
        "sim.csv line 6, column 'Est. conversions'"]
    assert all(p.fix == "check the export; each point's estimate must be at least the previous one's"
               for p in raised.value.problems)


def test_levels_with_the_same_spend_are_one_point_their_mean_and_noted(tmp_path):
    path = _write(tmp_path, "Search: a,$1.00,$100.00,50,2\n"
                            "Search: a,$1.10,$150.00,60,3\n"
                            "Search: a,$1.20,$150.00,64,4\n"
                            "Search: a,$1.50,$200.00,70,5\n")
    simulator = read_simulator(path)
    assert simulator.tables["Search: a"]["clicks"].points == ((100.0, 50.0), (150.0, 62.0), (200.0, 70.0))
    assert simulator.tables["Search: a"]["leads"].points == ((100.0, 2.0), (150.0, 3.5), (200.0, 5.0))
    assert "clicks: lines 5 and 6 estimate the same spend ($150.00): their mean, 62, kept" in simulator.notes[
        "Search: a"]


def test_conversions_are_leads_and_an_outcome_with_one_estimate_is_left_out_with_a_note(tmp_path, history):
    path = _write(tmp_path, "Search: a,$1.00,$100.00,50,--\n"
                            "Search: a,$1.50,$180.00,70,4\n"
                            "Search: a,$2.00,$260.00,80,--\n")
    simulator = read_simulator(path)
    assert list(simulator.tables["Search: a"]) == ["clicks"]
    assert simulator.notes["Search: a"] == ("leads: 1 estimate (2 or more are needed): left out",)
    added = with_simulator(history, simulator).campaigns[-1]
    assert "leads: 1 estimate (2 or more are needed): left out" in added.notes


def test_a_name_close_to_a_history_campaigns_is_noted_not_matched(tmp_path, history):
    path = _write(tmp_path, "  Search: non brand ,$1.00,$9000.00,5000,400\n"
                            "Search: non brand,$2.00,$20000.00,8000,600\n")
    report = with_simulator(history, read_simulator(path))
    assert report.campaigns[:3] == history.campaigns
    added = report.campaigns[-1]
    assert added.name == "Search: non brand"
    assert ('the history has "Search: non-brand": if it is the same campaign, give it the same name in both files'
            in added.notes)


def test_the_export_saved_for_excel_as_utf16_with_tabs_reads_the_same(tmp_path):
    text = SIMULATOR.read_text()
    tabbed = "\n".join("\t".join(row) for row in csv.reader(text.splitlines()))
    (tmp_path / "sim.csv").write_bytes(tabbed.encode("utf-16"))
    def points(path: Path) -> dict:
        return {name: {o: t.points for o, t in tables.items()} for name, tables in read_simulator(path).tables.items()}

    assert points(tmp_path / "sim.csv") == points(SIMULATOR)
