"""Scenario input (optimizer/scenario): TOML, JSON and CSV files, variants, --set overrides, DataFrames.

Scenario files are written into ``tmp_path`` by hand; expectations come from what the files say
(the values written, the line a mistake is on), never from the loader's own output. Error tests
check stable facts: how many problems, where each one is, that a fix is offered, "did you mean".
"""

from __future__ import annotations

import copy
import csv
import json
import math
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.errors import Problem, ScenarioError
from optimizer.scenario import Scenario, SpendSpec, scenario_from_frames
from optimizer.scenario.loading import load_scenario

# --- the scenario, written three ways ------------------------------------------------------

HEAD_TOML = """\
name = "Test plan"
currency = "EUR"
period = "2027-Q1"

[objective]
maximize = "leads"
secondary = "sov.search"

[budget]
total = 250_000
max_change = 0.3

[pools.search]
competitor_impressions = 900_000
[pools.media]
total_impressions = 80_000_000
"""

CAMPAIGNS_TOML = """\
[[campaigns]]
name = "Search: brand"
channel = "search"
stage = "conversion"
tags = ["brand", "always-on"]
pools = ["search"]
spend = { current = 10_000, min = 4_000, max = 18_000 }
impressions = { curve = "exponential", max = 60_000, scale = 8_000 }
clicks = { rate = 0.15, of = "impressions" }
leads = { rate = 0.12, of = "clicks" }
mqls = { rate = 0.45, of = "leads" }

[[campaigns]]
name = "Video"
channel = "video"
stage = "awareness"
pools = ["media"]
spend = { current = 30_000, max = 120_000 }
impressions = { curve = "hill", max = 25_000_000, half = 60_000, shape = 0.9 }
clicks = { rate = 0.004, of = "impressions" }
leads = { rate = 0.01, of = "clicks" }

[[campaigns]]
name = "Competitor terms"
channel = "search"
stage = "conversion"
pools = ["search"]
spend = { max = 6_000 }
impressions = { curve = "tabular", points = [[0, 0], [2_000, 14_000], [6_000, 33_000]] }
leads = { curve = "power", coef = 0.5, exponent = 0.7 }
"""

TAIL_TOML = """\
[[constraints]]
kpi = "share"
where = { stage = "awareness" }
min = 0.15

[[constraints]]
name = "CPL cap"
kpi = "cpl"
max = 120

[[constraints]]
kpi = "sov.search"
min = 0.2

[variants.stretch]
"budget.total" = 300_000
"""

SCENARIO_TOML = HEAD_TOML + "\n" + CAMPAIGNS_TOML + "\n" + TAIL_TOML
TABLE_TOML = f'campaigns = "campaigns.csv"\n{HEAD_TOML}\n{TAIL_TOML}'  # campaigns in a CSV

SETTINGS_DICT: dict[str, Any] = {
    "name": "Test plan",
    "currency": "EUR",
    "period": "2027-Q1",
    "objective": {"maximize": "leads", "secondary": "sov.search"},
    "budget": {"total": 250000, "max_change": 0.3},
    "pools": {"search": {"competitor_impressions": 900000}, "media": {"total_impressions": 80000000}},
    "variants": {"stretch": {"budget.total": 300000}},
}
CAMPAIGNS_LIST: list[dict[str, Any]] = [
    {
        "name": "Search: brand", "channel": "search", "stage": "conversion",
        "tags": ["brand", "always-on"], "pools": ["search"],
        "spend": {"current": 10000, "min": 4000, "max": 18000},
        "impressions": {"curve": "exponential", "max": 60000, "scale": 8000},
        "clicks": {"rate": 0.15, "of": "impressions"},
        "leads": {"rate": 0.12, "of": "clicks"},
        "mqls": {"rate": 0.45, "of": "leads"},
    },
    {
        "name": "Video", "channel": "video", "stage": "awareness", "pools": ["media"],
        "spend": {"current": 30000, "max": 120000},
        "impressions": {"curve": "hill", "max": 25000000, "half": 60000, "shape": 0.9},
        "clicks": {"rate": 0.004, "of": "impressions"},
        "leads": {"rate": 0.01, "of": "clicks"},
    },
    {
        "name": "Competitor terms", "channel": "search", "stage": "conversion", "pools": ["search"],
        "spend": {"max": 6000},
        "impressions": {"curve": "tabular", "points": [[0, 0], [2000, 14000], [6000, 33000]]},
        "leads": {"curve": "power", "coef": 0.5, "exponent": 0.7},
    },
]
CONSTRAINTS_LIST: list[dict[str, Any]] = [
    {"kpi": "share", "where": {"stage": "awareness"}, "min": 0.15},
    {"name": "CPL cap", "kpi": "cpl", "max": 120},
    {"kpi": "sov.search", "min": 0.2},
]
SCENARIO_DICT = {**SETTINGS_DICT, "campaigns": CAMPAIGNS_LIST, "constraints": CONSTRAINTS_LIST}

# The campaigns as table rows (the CSV layout of DESIGN.md section 5): keys flattened by dots.
CSV_ROWS: list[dict[str, str]] = [
    {"name": "Search: brand", "channel": "search", "stage": "conversion", "tags": "brand;always-on",
     "pools": "search", "spend.current": "10000", "spend.min": "4000", "spend.max": "18000",
     "impressions.curve": "exponential", "impressions.max": "60000", "impressions.scale": "8000",
     "clicks.rate": "0.15", "clicks.of": "impressions", "leads.rate": "0.12", "leads.of": "clicks",
     "mqls.rate": "0.45", "mqls.of": "leads"},
    {"name": "Video", "channel": "video", "stage": "awareness", "pools": "media",
     "spend.current": "30_000", "spend.max": "120000",
     "impressions.curve": "hill", "impressions.max": "25000000", "impressions.half": "60000",
     "impressions.shape": "0.9", "clicks.rate": "0.004", "clicks.of": "impressions",
     "leads.rate": "0.01", "leads.of": "clicks"},
    {"name": "Competitor terms", "channel": "search", "stage": "conversion", "pools": " search ",
     "spend.max": "6000", "impressions.curve": "tabular",
     "impressions.points": "[[0, 0], [2000, 14000], [6000, 33000]]",
     "leads.curve": "power", "leads.coef": "0.5", "leads.exponent": "0.7"},
]
CSV_COLUMNS = [
    "name", "channel", "stage", "tags", "pools", "spend.current", "spend.min", "spend.max",
    "impressions.curve", "impressions.max", "impressions.scale", "impressions.half", "impressions.shape",
    "impressions.points", "clicks.rate", "clicks.of", "leads.curve", "leads.rate", "leads.of",
    "leads.coef", "leads.exponent", "mqls.rate", "mqls.of",
]


# --- helpers -------------------------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def write_csv(folder: Path, name: str, rows: list[dict[str, str]], columns: list[str] = CSV_COLUMNS) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def problems_from(load: Callable[[], Any]) -> tuple[Problem, ...]:
    with pytest.raises(ScenarioError) as caught:
        load()
    return caught.value.problems


def problems_loading(path: Path, **options: Any) -> tuple[Problem, ...]:
    return problems_from(lambda: load_scenario(path, **options))


def only(problems: tuple[Problem, ...]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def quoted_after(words: str, message: str) -> str:
    """The first quoted text after ``words`` in ``message``."""
    return message.split(words, 1)[1].split('"')[1]


def one_campaign(**changes: Any) -> dict[str, Any]:
    """A minimal valid campaign as a dict, with some keys replaced."""
    campaign = {"name": "A", "channel": "search", "stage": "conversion", "spend": {"max": 1_000},
                "leads": {"curve": "linear", "unit_cost": 50}}
    return {**campaign, **changes}


def json_scenario(folder: Path, document: dict[str, Any], name: str = "scenario.json") -> Path:
    return write(folder, name, json.dumps(document, indent=2))


# --- valid files ---------------------------------------------------------------------------


def test_toml_and_json_versions_load_to_equal_scenarios(tmp_path):
    from_toml = load_scenario(write(tmp_path, "plan.toml", SCENARIO_TOML))
    from_json = load_scenario(json_scenario(tmp_path, SCENARIO_DICT))
    assert isinstance(from_toml, Scenario)
    assert from_toml == from_json


def test_loaded_scenario_holds_the_values_written(tmp_path):
    scenario = load_scenario(write(tmp_path, "plan.toml", SCENARIO_TOML))
    assert (scenario.name, scenario.currency, scenario.period) == ("Test plan", "EUR", "2027-Q1")
    assert scenario.budget.total == 250_000 and scenario.budget.max_change == 0.3
    assert [c.name for c in scenario.campaigns] == ["Search: brand", "Video", "Competitor terms"]
    brand = scenario.campaign("Search: brand")
    assert brand.spend == SpendSpec(current=10_000, min=4_000, max=18_000)
    assert brand.tags == ("brand", "always-on")
    assert (brand.clicks.rate, brand.clicks.of) == (0.15, "impressions")
    assert scenario.campaign("Video").impressions.shape == 0.9
    points = scenario.campaign("Competitor terms").impressions.points
    assert points == ((0, 0), (2_000, 14_000), (6_000, 33_000))
    assert scenario.pools["search"].against_competitors and scenario.pools["search"].reference == 900_000
    assert not scenario.pools["media"].against_competitors
    assert [c.kpi for c in scenario.constraints] == ["share", "cpl", "sov.search"]
    assert scenario.constraints[0].where.stage == ("awareness",)


def test_campaigns_from_a_csv_beside_the_file_equal_the_inline_ones(tmp_path):
    write_csv(tmp_path, "campaigns.csv", CSV_ROWS)
    inline = load_scenario(write(tmp_path, "inline.toml", SCENARIO_TOML))
    from_csv = load_scenario(write(tmp_path, "table.toml", TABLE_TOML))
    assert from_csv.campaigns == inline.campaigns
    assert from_csv == inline


def test_campaign_csv_may_sit_in_a_folder_below_the_scenario(tmp_path):
    write_csv(tmp_path / "data", "campaigns.csv", CSV_ROWS)
    scenario = load_scenario(write(tmp_path, "plan.toml", f'campaigns = "data/campaigns.csv"\n{HEAD_TOML}'))
    assert len(scenario.campaigns) == 3


@pytest.mark.parametrize("header", ["spend,impressions\n", ""], ids=["with-header", "without-header"])
def test_tabular_points_from_a_points_csv_equal_inline_points(tmp_path, header):
    write(tmp_path, "competitor_sim.csv", header + "0,0\n2000,14000\n\n6000,33000\n")
    inline = load_scenario(write(tmp_path, "inline.toml", SCENARIO_TOML))
    pointed = SCENARIO_TOML.replace("points = [[0, 0], [2_000, 14_000], [6_000, 33_000]]",
                                    'points = "competitor_sim.csv"')
    assert pointed != SCENARIO_TOML
    assert load_scenario(write(tmp_path, "pointed.toml", pointed)) == inline


def test_campaign_csv_rows_may_name_a_points_csv(tmp_path):
    write(tmp_path, "competitor_sim.csv", "0,0\n2000,14000\n6000,33000\n")
    rows = copy.deepcopy(CSV_ROWS)
    rows[2]["impressions.points"] = "competitor_sim.csv"
    write_csv(tmp_path, "campaigns.csv", rows)
    inline = load_scenario(write(tmp_path, "inline.toml", SCENARIO_TOML))
    from_csv = load_scenario(write(tmp_path, "table.toml", TABLE_TOML))
    assert from_csv.campaigns == inline.campaigns


def test_revenue_per_customer_may_be_far_above_one(tmp_path):
    campaign = one_campaign(customers={"rate": 0.02, "of": "leads"},
                            revenue={"rate": 24_000, "of": "customers"})
    scenario = load_scenario(json_scenario(tmp_path, {"name": "x", "campaigns": [campaign]}))
    assert scenario.campaigns[0].revenue.rate == 24_000


# --- every problem at once, with its place and a fix -----------------------------------------


def test_four_problems_in_one_file_are_reported_together(tmp_path):
    path = write(tmp_path, "plan.toml", """\
        name = "x"
        perod = "2027-Q1"
        [budget]
        total = 10_000

        [[campaigns]]
        name = "A"
        channel = "search"
        stage = "conversion"
        spend = { max = "1000" }
        leads = { curve = "linear", unit_cost = 50 }

        [[campaigns]]
        name = "B"
        channel = "search"
        stage = "conversion"
        leads = { rate = 0.1, of = "clicks" }

        [[campaigns]]
        name = "C"
        channel = "video"
        stage = "awareness"
        leads = { curve = "linear", unit_cost = 80 }

        [[campaigns]]
        name = "B"
        channel = "social"
        stage = "consideration"
        leads = { curve = "linear", unit_cost = 60 }
        """)
    error = pytest.raises(ScenarioError, load_scenario, path).value
    assert len(error.problems) == 4, [str(p) for p in error.problems]
    assert str(path) in str(error) and "4 problems" in str(error)
    by_place = {p.location: p for p in error.problems}
    assert set(by_place) == {
        "perod",
        'campaigns[0] "A": spend.max',
        'campaigns[1] "B": leads.of',
        'campaigns[3] "B"',
    }
    assert 'did you mean "period"' in by_place["perod"].message
    assert "number" in by_place['campaigns[0] "A": spend.max'].message
    assert "clicks" in by_place['campaigns[1] "B": leads.of'].message
    assert "2 campaigns" in by_place['campaigns[3] "B"'].message
    assert all(p.fix for p in error.problems)


def test_a_broken_campaign_does_not_hide_cross_checks_elsewhere(tmp_path):
    """Each problem in its own place: a bad cell in one campaign, a negative min in another, a typo on top."""
    document = {
        "name": "x", "budjet": {"total": 1},
        "campaigns": [one_campaign(spend={"max": "10"}),
                      one_campaign(name="B", spend={"min": -500, "max": 100})],
    }
    problems = problems_loading(json_scenario(tmp_path, document))
    places = {p.location for p in problems}
    assert places == {"budjet", 'campaigns[0] "A": spend.max', 'campaigns[1] "B": spend.min'}


@pytest.mark.parametrize(
    ("campaign", "location", "suggestion"),
    [
        (one_campaign(chanel="search"), 'campaigns[0] "A": chanel', "channel"),
        (one_campaign(spend={"max": 1_000, "curent": 5}), 'campaigns[0] "A": spend.curent', "current"),
        (one_campaign(leads={"curve": "exponential", "max": 9, "scael": 4, "scale": 4}),
         'campaigns[0] "A": leads.scael', "scale"),
        (one_campaign(leads={"curve": "hil", "max": 9, "half": 4, "shape": 1}),
         'campaigns[0] "A": leads.curve', "hill"),
        (one_campaign(stage="convertion"), 'campaigns[0] "A": stage', "conversion"),
    ],
    ids=["campaign-key", "spend-key", "curve-key", "curve-family", "stage"],
)
def test_misspelt_keys_and_names_get_a_did_you_mean(tmp_path, campaign, location, suggestion):
    problems = problems_loading(json_scenario(tmp_path, {"name": "x", "campaigns": [campaign]}))
    mine = [p for p in problems if p.location == location]
    assert len(mine) == 1, [str(p) for p in problems]
    assert f'did you mean "{suggestion}"' in mine[0].message
    assert mine[0].fix


@pytest.mark.parametrize(
    ("document", "allowed"),
    [
        ({"name": "x", "channel": "search", "campaigns": [one_campaign()]}, set(Scenario.model_fields)),
        ({"name": "x", "campaigns": [one_campaign(spend={"maximum": 10})]}, set(SpendSpec.model_fields)),
    ],
    ids=["top-level-channel", "spend-maximum"],
)
def test_did_you_mean_only_suggests_keys_valid_in_that_table(tmp_path, document, allowed):
    problems = problems_loading(json_scenario(tmp_path, document))
    unknown = [quoted_after("unknown key", p.message) for p in problems if "unknown key" in p.message]
    suggestions = [quoted_after("did you mean", p.message) for p in problems if "did you mean" in p.message]
    assert unknown, [str(p) for p in problems]
    assert all(s in allowed and s not in unknown for s in suggestions), suggestions


def test_malformed_toml_reports_line_and_column(tmp_path):
    path = write(tmp_path, "plan.toml", 'name = "x"\n[budget]\ntotal = = 5\n')
    problem = only(problems_loading(path))
    assert "line 3" in str(problem) and "column 9" in str(problem)
    assert problem.fix


def test_malformed_json_reports_line_and_column(tmp_path):
    path = write(tmp_path, "plan.json", '{"name": "x",\n "budget": {"total": 5,}\n}\n')
    problem = only(problems_loading(path))
    assert problem.location == "line 2, column 24"
    assert problem.fix


@pytest.mark.parametrize("constant", ["NaN", "Infinity"])
def test_json_nan_and_infinity_are_refused(tmp_path, constant):
    text = '{"name": "x", "budget": {"total": CONSTANT}}'.replace("CONSTANT", constant)
    path = write(tmp_path, "plan.json", text)
    assert constant in only(problems_loading(path)).message


def test_unknown_file_type_and_missing_file_are_reported(tmp_path):
    assert ".yaml" in only(problems_loading(write(tmp_path, "plan.yaml", "name: x"))).message
    assert "not found" in only(problems_loading(tmp_path / "absent.toml")).message


@pytest.mark.parametrize(
    ("outcomes", "location", "fraction"),
    [
        ({"impressions": {"curve": "linear", "unit_cost": 0.01}, "clicks": {"rate": 4.5, "of": "impressions"},
          "leads": {"rate": 0.05, "of": "clicks"}}, 'campaigns[0] "A": clicks.rate', "0.045"),
        ({"mqls": {"rate": 35, "of": "leads"}}, 'campaigns[0] "A": mqls.rate', "0.35"),
    ],
    ids=["ctr-as-percent", "lead-to-mql-as-percent"],
)
def test_funnel_rates_written_as_percentages_are_caught(tmp_path, outcomes, location, fraction):
    document = {"name": "x", "campaigns": [one_campaign(**outcomes)]}
    problem = only(problems_loading(json_scenario(tmp_path, document)))
    assert problem.location == location
    assert fraction in problem.fix


@pytest.mark.parametrize(
    ("constraint", "fraction"),
    [
        ({"kpi": "share", "where": {"stage": "conversion"}, "min": 35}, "0.35"),
        ({"kpi": "sov.search", "min": 20}, "0.2"),
        ({"kpi": "sov.search", "max": 150}, "1.5"),
        ({"kpi": "ctr", "min": 5}, "0.05"),
    ],
    ids=["share", "sov-min", "sov-max", "ctr"],
)
def test_share_and_sov_bounds_written_as_percentages_are_caught(tmp_path, constraint, fraction):
    document = {
        "name": "x", "pools": {"search": {"competitor_impressions": 1e6}},
        "campaigns": [one_campaign(pools=["search"], impressions={"curve": "linear", "unit_cost": 0.01},
                                   clicks={"rate": 0.05, "of": "impressions"},
                                   leads={"rate": 0.05, "of": "clicks"})],
        "constraints": [constraint],
    }
    problem = only(problems_loading(json_scenario(tmp_path, document)))
    assert problem.location.startswith("constraints[0]")
    assert fraction in problem.fix


def test_share_of_market_above_one_is_caught(tmp_path):
    campaign = one_campaign(pools=["search"], impressions={"curve": "linear", "unit_cost": 0.01})
    pools = {"search": {"competitor_impressions": 1e6, "som": 22}}
    document = {"name": "x", "pools": pools, "campaigns": [campaign]}
    assert only(problems_loading(json_scenario(tmp_path, document))).location == "pools.search.som"


def test_a_cycle_of_rates_is_caught(tmp_path):
    campaign = one_campaign(impressions={"curve": "linear", "unit_cost": 0.01},
                            clicks={"rate": 0.1, "of": "leads"}, leads={"rate": 0.1, "of": "clicks"})
    problem = only(problems_loading(json_scenario(tmp_path, {"name": "x", "campaigns": [campaign]})))
    assert problem.location == 'campaigns[0] "A"'
    assert "cycle" in problem.message and "clicks" in problem.message and "leads" in problem.message


def test_a_rate_of_itself_is_one_problem(tmp_path):
    campaign = one_campaign(impressions={"curve": "linear", "unit_cost": 0.01},
                            leads={"rate": 0.5, "of": "leads"})
    problem = only(problems_loading(json_scenario(tmp_path, {"name": "x", "campaigns": [campaign]})))
    assert problem.location.startswith('campaigns[0] "A"')


@pytest.mark.parametrize(
    ("points", "words"),
    [
        ([[0, 0], [100, 5], [50, 6]], ["point 3", "sort"]),
        ([[0, 0], [100, 5], [100, 6]], ["point 3", "sort"]),
        ([[0, 0], [100, 5], [200, 4]], ["falls", "points 2 and 3"]),
    ],
    ids=["unsorted", "repeated-spend", "decreasing"],
)
def test_bad_tabular_points_are_caught(tmp_path, points, words):
    campaign = one_campaign(spend={"max": 50}, impressions={"curve": "tabular", "points": points},
                            leads={"rate": 0.01, "of": "impressions"})
    problem = only(problems_loading(json_scenario(tmp_path, {"name": "x", "campaigns": [campaign]})))
    assert problem.location == 'campaigns[0] "A": impressions.points'
    assert all(word in problem.message for word in words)


def test_unsorted_points_from_a_points_csv_are_caught(tmp_path):
    write(tmp_path, "sim.csv", "spend,leads\n0,0\n2000,40\n1000,50\n")
    campaign = one_campaign(spend={"max": 900}, leads={"curve": "tabular", "points": "sim.csv"})
    problems = problems_loading(json_scenario(tmp_path, {"name": "x", "campaigns": [campaign]}))
    on_points = [p for p in problems if p.location == 'campaigns[0] "A": leads.points']
    assert len(on_points) == 1 and "point 3" in on_points[0].message


@pytest.mark.parametrize(
    "leads",
    [{"curve": "hil", "max": 9, "half": 4, "shape": 1},
     {"curve": "tabular", "points": [[0, 0], [9, 5], [5, 6]]}],
    ids=["misspelt-family", "unsorted-points"],
)
def test_a_broken_curve_is_reported_once(tmp_path, leads):
    campaign = one_campaign(leads=leads)
    problem = only(problems_loading(json_scenario(tmp_path, {"name": "x", "campaigns": [campaign]})))
    assert problem.location.startswith('campaigns[0] "A": leads')


def test_bad_lines_of_a_points_csv_are_reported_by_line(tmp_path):
    write(tmp_path, "sim.csv", "0,0\n1000,40\nabc,90\n\n3000,90,7\n")
    campaign = one_campaign(spend={"max": 900}, leads={"curve": "tabular", "points": "sim.csv"})
    problems = problems_loading(json_scenario(tmp_path, {"name": "x", "campaigns": [campaign]}))
    assert {p.location for p in problems} == {"sim.csv line 3", "sim.csv line 5"}


@pytest.mark.parametrize("reference", ["../outside.csv", "data/../../outside.csv", "ABSOLUTE"])
def test_a_campaign_csv_outside_the_scenario_folder_is_refused(tmp_path, reference):
    outside = write_csv(tmp_path, "outside.csv", CSV_ROWS)
    reference = str(outside) if reference == "ABSOLUTE" else reference
    scenario = write(tmp_path / "client", "plan.toml", f'campaigns = "{reference}"\n{HEAD_TOML}')
    problem = only(problems_loading(scenario))
    assert problem.location == "campaigns"
    assert "outside" in problem.message and problem.fix


def test_a_points_csv_outside_the_scenario_folder_is_refused(tmp_path):
    write(tmp_path, "sim.csv", "0,0\n1000,40\n")
    campaign = one_campaign(leads={"curve": "tabular", "points": "../sim.csv"})
    scenario = json_scenario(tmp_path / "client", {"name": "x", "campaigns": [campaign]})
    problem = only(problems_loading(scenario))
    assert problem.location == 'campaigns[0] "A": leads.points'
    assert "outside" in problem.message


def test_a_campaign_csv_given_by_the_user_is_read_wherever_it_is(tmp_path):
    write(tmp_path / "exports", "competitor_sim.csv", "0,0\n2000,14000\n6000,33000\n")
    rows = copy.deepcopy(CSV_ROWS)
    rows[2]["impressions.points"] = "competitor_sim.csv"
    given = write_csv(tmp_path / "exports", "campaigns.csv", rows)
    inline = load_scenario(write(tmp_path / "client", "inline.toml", SCENARIO_TOML))
    write_csv(tmp_path / "client", "campaigns.csv", [{**CSV_ROWS[0], "spend.max": "17000"}, *CSV_ROWS[1:]])
    own = write(tmp_path / "client", "table.toml", TABLE_TOML)
    assert load_scenario(own).campaigns != inline.campaigns
    assert load_scenario(own, campaigns=given) == inline


def test_a_campaign_csv_given_by_the_user_still_keeps_its_points_files_in_its_folder(tmp_path):
    write(tmp_path, "competitor_sim.csv", "0,0\n2000,14000\n6000,33000\n")
    rows = copy.deepcopy(CSV_ROWS)
    rows[2]["impressions.points"] = "../competitor_sim.csv"
    given = write_csv(tmp_path / "exports", "campaigns.csv", rows)
    scenario = write(tmp_path / "client", "inline.toml", SCENARIO_TOML)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario, campaigns=given)
    problem = only(caught.value.problems)
    assert problem.location.startswith("campaigns.csv line 4") and "outside" in problem.message


def test_a_missing_campaign_csv_given_by_the_user_is_reported(tmp_path):
    scenario = write(tmp_path, "inline.toml", SCENARIO_TOML)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario, campaigns=tmp_path / "nope.csv")
    problem = only(caught.value.problems)
    assert problem.location == f"--campaigns {tmp_path / 'nope.csv'}" and problem.fix


def test_a_missing_campaign_csv_is_reported(tmp_path):
    problem = only(problems_loading(write(tmp_path, "plan.toml", f'campaigns = "nope.csv"\n{HEAD_TOML}')))
    assert problem.location == "campaigns" and "nope.csv" in problem.message


def test_csv_cell_problems_name_the_file_line_and_column(tmp_path):
    rows = copy.deepcopy(CSV_ROWS)
    rows[1]["spend.max"] = "lots"
    write_csv(tmp_path, "campaigns.csv", rows, [*CSV_COLUMNS, "spend.maxx"])
    problems = problems_loading(write(tmp_path, "plan.toml", f'campaigns = "campaigns.csv"\n{HEAD_TOML}'))
    by_place = {p.location: p for p in problems}
    assert set(by_place) == {"campaigns.csv column spend.maxx", 'campaigns.csv line 3 "Video": spend.max'}
    assert 'did you mean "spend.max"' in by_place["campaigns.csv column spend.maxx"].message


def test_csv_rows_are_located_by_line_even_after_blank_lines(tmp_path):
    header = "name,channel,stage,spend.max,leads.curve,leads.unit_cost\n"
    body = ("A,search,conversion,100,linear,5\n"
            "\n"
            "B,search,convertion,100,linear,5\n"   # line 4: a misspelt stage
            "B,search,conversion,100,linear,-5\n"  # line 5: a repeated name and a negative cost
            "C,video,awareness,200,linear,0\n")    # line 6: a zero cost
    write(tmp_path, "campaigns.csv", header + body)
    problems = problems_loading(write(tmp_path, "plan.toml", 'name = "x"\ncampaigns = "campaigns.csv"\n'))
    places = sorted(p.location for p in problems)
    assert places == [
        'campaigns.csv line 4 "B": stage',
        'campaigns.csv line 5 "B"',
        'campaigns.csv line 5 "B": leads.unit_cost',
        'campaigns.csv line 6 "C": leads.unit_cost',
    ]


def test_csv_cell_problems_and_row_problems_are_reported_together(tmp_path):
    header = "name,channel,stage,spend.max,leads.curve,leads.unit_cost\n"
    rows = "A,search,conversion,lots,linear,5\nB,search,convertion,100,linear,5\n"
    write(tmp_path, "campaigns.csv", header + rows)
    problems = problems_loading(write(tmp_path, "plan.toml", 'name = "x"\ncampaigns = "campaigns.csv"\n'))
    assert {p.location for p in problems} == {'campaigns.csv line 2 "A": spend.max',
                                              'campaigns.csv line 3 "B": stage'}


# --- variants and --set overrides ------------------------------------------------------------


@pytest.fixture
def variant_file(tmp_path) -> Path:
    return write(tmp_path, "plan.toml", SCENARIO_TOML + textwrap.dedent("""\
        "campaigns.Video.spend.max" = 100_000

        [variants.defensive]
        "budget.total" = 200_000
        "objective.maximize" = "mqls"
        """))


def test_precedence_is_set_over_variant_over_file(variant_file):
    assert load_scenario(variant_file).budget.total == 250_000
    assert load_scenario(variant_file, variant="stretch").budget.total == 300_000
    assert load_scenario(variant_file, overrides=["budget.total=280000"]).budget.total == 280_000
    both = load_scenario(variant_file, variant="stretch", overrides=["budget.total=280000"])
    assert both.budget.total == 280_000
    assert both.campaign("Video").spend.max == 100_000  # the variant's other key still applies


def test_a_variant_changes_only_the_keys_it_sets(variant_file):
    base, stretch = load_scenario(variant_file), load_scenario(variant_file, variant="stretch")
    assert stretch.campaign("Video").spend.max == 100_000
    assert base.campaign("Video").spend.max == 120_000
    assert stretch.budget.max_change == base.budget.max_change == 0.3
    assert stretch.campaign("Search: brand") == base.campaign("Search: brand")
    assert stretch.constraints == base.constraints


def test_a_variant_can_change_the_objective(variant_file):
    assert load_scenario(variant_file, variant="defensive").objective.maximize == "mqls"


def test_an_unquoted_dotted_key_in_a_variant_changes_only_that_key(tmp_path):
    path = write(tmp_path, "plan.toml", SCENARIO_TOML + "\n[variants.plain]\nbudget.total = 300_000\n")
    scenario = load_scenario(path, variant="plain")
    assert scenario.budget.total == 300_000
    assert scenario.budget.max_change == 0.3


@pytest.mark.parametrize(
    "overrides",
    [["budget.total=1", "budget.total=2"], ["budget.total=1", "budget={ total = 2 }"]],
    ids=["same-key", "key-and-parent"],
)
def test_a_key_set_twice_in_the_set_layer_is_an_error(variant_file, overrides):
    problem = only(problems_loading(variant_file, overrides=overrides))
    assert "budget" in problem.location and "already set" in problem.message


def test_a_key_set_twice_in_one_variant_is_an_error(tmp_path):
    path = write(tmp_path, "plan.toml", SCENARIO_TOML.replace(
        '"budget.total" = 300_000', '"budget.total" = 300_000\n"budget" = { total = 5 }'))
    problem = only(problems_loading(path, variant="stretch"))
    assert "stretch" in problem.location and "already set" in problem.message


def test_the_same_key_in_the_variant_and_in_set_is_not_a_conflict(variant_file):
    scenario = load_scenario(variant_file, variant="stretch", overrides=["campaigns.Video.spend.max=90000"])
    assert scenario.campaign("Video").spend.max == 90_000


def test_an_unknown_variant_suggests_the_right_name(variant_file):
    problem = only(problems_loading(variant_file, variant="strech"))
    assert problem.location == "--variant strech"
    assert 'did you mean "stretch"' in problem.message
    assert "stretch" in problem.fix and "defensive" in problem.fix


@pytest.mark.parametrize(
    ("assignment", "suggestion"),
    [
        ("budget.totl=5", "total"),
        ("budjet.total=5", "budget"),
        ("campaigns.Video.spend.maxx=5", "max"),
        ("pools.search.competitor_impresions=5", "competitor_impressions"),
    ],
)
def test_an_unknown_set_key_suggests_the_right_name(variant_file, assignment, suggestion):
    problem = only(problems_loading(variant_file, overrides=[assignment]))
    assert problem.location.startswith("--set")
    assert f'did you mean "{suggestion}"' in problem.message


def test_campaigns_are_addressed_by_quoted_name(variant_file):
    scenario = load_scenario(variant_file, overrides=['campaigns."Search: brand".spend.max=15000'])
    assert scenario.campaign("Search: brand").spend.max == 15_000
    assert scenario.campaign("Video").spend.max == 120_000


def test_an_unknown_campaign_name_suggests_the_right_one(variant_file):
    problem = only(problems_loading(variant_file, overrides=['campaigns."Search: brnad".spend.max=1']))
    assert 'did you mean "Search: brand"' in problem.message


def test_constraints_are_addressed_by_name(variant_file):
    scenario = load_scenario(variant_file, overrides=['constraints."CPL cap".max=90'])
    assert scenario.constraints[1].max == 90


def test_campaigns_are_addressed_by_position(variant_file):
    scenario = load_scenario(variant_file, overrides=["campaigns[1].spend.max=110000"])
    assert scenario.campaign("Video").spend.max == 110_000
    assert scenario.campaign("Search: brand").spend.max == 18_000


def test_a_campaign_position_out_of_range_says_how_many_there_are(variant_file):
    problem = only(problems_loading(variant_file, overrides=["campaigns[7].spend.max=1"]))
    assert "campaigns[7]" in problem.message and "3" in problem.message


@pytest.mark.parametrize(
    ("assignment", "read", "expected"),
    [
        ("budget.total=1_500", lambda s: s.budget.total, 1_500),
        ("budget.total=2.5e5", lambda s: s.budget.total, 250_000),
        ("budget.spend_all=true", lambda s: s.budget.spend_all, True),
        ('name="Q2: stretch"', lambda s: s.name, "Q2: stretch"),
        ("name=Q2 plan, stretch", lambda s: s.name, "Q2 plan, stretch"),
        ("objective.maximize=mqls", lambda s: s.objective.maximize, "mqls"),
        ('campaigns.Video.tags=["new", "test"]', lambda s: s.campaign("Video").tags, ("new", "test")),
    ],
    ids=["underscores", "exponent", "boolean", "quoted-text", "bare-words", "bare-word", "list"],
)
def test_set_values_are_read_as_toml_and_bare_words_as_text(variant_file, assignment, read, expected):
    scenario = load_scenario(variant_file, overrides=[assignment])
    assert read(scenario) == expected


def test_a_quoted_boolean_stays_text_and_is_refused(variant_file):
    problem = only(problems_loading(variant_file, overrides=['budget.spend_all="true"']))
    assert problem.location == "budget.spend_all"
    assert "true or false" in problem.message


def test_a_set_without_equals_sign_is_refused(variant_file):
    problem = only(problems_loading(variant_file, overrides=["budget.total"]))
    assert "KEY=VALUE" in problem.message


def test_set_reaches_campaigns_that_came_from_a_csv(tmp_path):
    write_csv(tmp_path, "campaigns.csv", CSV_ROWS)
    path = write(tmp_path, "plan.toml", f'campaigns = "campaigns.csv"\n{HEAD_TOML}')
    scenario = load_scenario(path, overrides=['campaigns."Competitor terms".spend.max=5000'])
    assert scenario.campaign("Competitor terms").spend.max == 5_000


@pytest.fixture(scope="module")
def plain_file(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("plain"), "plan.toml", SCENARIO_TOML)


@settings(max_examples=25, deadline=None)
@given(total=st.floats(0, 1e12, allow_nan=False))
def test_any_number_given_to_set_arrives_exactly(plain_file, total):
    scenario = load_scenario(plain_file, overrides=[f"budget.total={total!r}"])
    assert scenario.budget.total == total


# --- DataFrames ----------------------------------------------------------------------------

def test_scenario_from_frames_equals_the_csv_scenario(tmp_path):
    csv_path = write_csv(tmp_path, "campaigns.csv", CSV_ROWS)
    from_file = load_scenario(write(tmp_path, "plan.toml", TABLE_TOML))
    constraints = pd.DataFrame([
        {"kpi": "share", "where.stage": "awareness", "min": 0.15},
        {"kpi": "cpl", "name": "CPL cap", "max": 120},
        {"kpi": "sov.search", "min": 0.2},
    ])
    from_frames = scenario_from_frames(pd.read_csv(csv_path), constraints, **SETTINGS_DICT)
    assert from_frames == from_file


def test_scenario_from_a_hand_built_frame_with_numpy_types(tmp_path):
    frame = pd.DataFrame({
        "name": ["Search: brand", "Video"],
        "channel": ["search", "video"],
        "stage": ["conversion", "awareness"],
        "spend.current": [10_000, 30_000],                     # int64
        "spend.max": [18_000.0, math.nan],                     # float64 with a blank
        "spend.locked": [False, True],                         # bool
        "leads.curve": ["linear", "log"],
        "leads.unit_cost": [50.0, math.nan],
        "leads.coef": [math.nan, 400.0],
        "leads.scale": [math.nan, 20_000.0],
    })
    scenario = scenario_from_frames(frame, name="x", budget={"total": 100_000})
    brand, video = scenario.campaigns
    assert brand.spend == SpendSpec(current=10_000, max=18_000)
    assert video.spend == SpendSpec(current=30_000, locked=True)
    assert (brand.leads.curve, brand.leads.unit_cost) == ("linear", 50)
    assert (video.leads.curve, video.leads.coef, video.leads.scale) == ("log", 400, 20_000)


def test_bad_cells_in_a_frame_are_located_by_row_and_column():
    frame = pd.DataFrame({"name": ["A", "B"], "channel": ["search", "search"], "stage": ["conversion"] * 2,
                          "spend.max": ["100", "lots"], "leads.curve": ["linear"] * 2,
                          "leads.unit_cost": [5, 5], "spend.maxx": [1, 2]})
    problems = problems_from(lambda: scenario_from_frames(frame, name="x"))
    places = {p.location for p in problems}
    assert places == {"campaigns column spend.maxx", 'campaigns row 1 "B": spend.max'}


# --- problems that depend on the rest of the file ------------------------------------------


def test_an_exact_share_of_voice_target_is_refused(tmp_path):
    pools = {"search": {"total_impressions": 200_000}}
    campaign = one_campaign(pools=["search"], impressions={"curve": "exponential", "max": 1e5, "scale": 5000},
                            leads={"rate": 0.01, "of": "impressions"})
    path = json_scenario(tmp_path, {"name": "x", "pools": pools, "campaigns": [campaign],
                                    "constraints": [{"kpi": "sov.search", "min": 0.3, "max": 0.3}]})
    assert "exact" in only(problems_loading(path)).message


@pytest.mark.parametrize("bound", [{"max": -0.3}, {"min": 0.9}])
def test_an_excess_share_of_voice_out_of_reach_is_refused(tmp_path, bound):
    """ESOV = SOV - SOM lies between -SOM and 1 - SOM: with SOM 0.2, -0.3 and +0.9 cannot be met."""
    pools = {"search": {"competitor_impressions": 100_000, "som": 0.2}}
    campaign = one_campaign(pools=["search"], impressions={"curve": "exponential", "max": 1e5, "scale": 5000},
                            leads={"rate": 0.01, "of": "impressions"})
    path = json_scenario(tmp_path, {"name": "x", "pools": pools, "campaigns": [campaign],
                                    "constraints": [{"kpi": "esov.search", **bound}]})
    problem = only(problems_loading(path))
    assert "ESOV" in problem.message and problem.location.endswith(next(iter(bound)))


def test_a_locked_spend_beyond_the_simulator_points_is_refused(tmp_path):
    campaign = one_campaign(spend={"current": 50_000, "locked": True},
                            leads={"curve": "tabular", "points": [[0, 0], [20_000, 150]]})
    problem = only(problems_loading(json_scenario(tmp_path, {"name": "x", "campaigns": [campaign]})))
    assert problem.location.endswith("spend.current") and "last point" in problem.message


def test_set_aside_parts_do_not_hide_unrelated_problems(tmp_path):
    """A bad pool value, a bad spend value and a bad curve each hide only what depends on them."""
    path = write(tmp_path, "plan.toml", """\
        name = "x"
        [budget]
        total = 100_000
        [pools.search]
        competitor_impressions = "9M"
        [[campaigns]]
        name = "Paid search"
        channel = "search"
        stage = "conversion"
        spend = { min = -5000, max = 1000 }
        leads = { curve = "linear", unit_cost = 50 }
        [[campaigns]]
        name = "Video"
        channel = "video"
        stage = "awareness"
        spend = { max = "40000" }
        leads = { curve = "linera", unit_cost = 80 }
        [[constraints]]
        kpi = "share"
        where = { stage = "awareness" }
        max = 40
        [[constraints]]
        kpi = "leadz"
        min = 10
        """)
    places = sorted(p.location for p in problems_loading(path))
    assert places == [
        'campaigns[0] "Paid search": spend.min',
        'campaigns[1] "Video": leads.curve',
        'campaigns[1] "Video": spend.max',
        "constraints[0]: max",
        "constraints[1]: kpi",
        "pools.search.competitor_impressions",
    ]


def test_a_points_file_named_by_set_is_read(tmp_path):
    write(tmp_path, "sim.csv", "spend,leads\n0,0\n1000,40\n2000,60\n")
    path = json_scenario(tmp_path, {"name": "x", "campaigns": [one_campaign()]})
    scenario = load_scenario(path, overrides=['campaigns.A.leads={curve="tabular", points="sim.csv"}'])
    assert scenario.campaigns[0].leads.points == ((0, 0), (1000, 40), (2000, 60))


def test_a_campaign_set_by_name_and_by_position_in_one_layer_is_an_error(variant_file):
    problems = problems_loading(variant_file, overrides=['campaigns."Search: brand".spend.max=5000',
                                                         "campaigns[0].spend.max=9000"])
    assert "already set" in only(problems).message


# --- the wrong kind of file, the objective's default ------------------------------------------


@pytest.mark.parametrize(("name", "says"), [("plan.toml", "a TOML file"), ("plan.json", "a JSON file"),
                                           ("plan.xlsx", "an Excel workbook")])
def test_a_campaign_table_of_another_format_is_named_as_such(tmp_path, name, says):
    scenario = json_scenario(tmp_path, {"name": "x", "campaigns": [one_campaign()]})
    other = write(tmp_path, name, 'name = "x"\n')
    problem = only(problems_loading(scenario, campaigns=other))
    assert problem.location == name and says in problem.message and ".csv" in problem.message


def test_an_objective_with_only_a_secondary_kpi_maximises_leads(tmp_path):
    document = {"name": "x", "campaigns": [one_campaign(pools=["search"],
                                                        impressions={"curve": "linear", "unit_cost": 0.01})],
                "pools": {"search": {"competitor_impressions": 1e6}}, "objective": {"secondary": "sov.search"}}
    objective = load_scenario(json_scenario(tmp_path, document)).objective
    assert (objective.sense, objective.kpi, objective.secondary) == ("maximize", "leads", "sov.search")


def test_replacing_a_whole_constraint_suggests_one_of_its_own_keys(tmp_path):
    document = {"name": "x", "campaigns": [one_campaign()], "constraints": [{"kpi": "leads", "min": 1, "name": "F"}]}
    problem = only(problems_loading(json_scenario(tmp_path, document), overrides=['constraints."F"=5']))
    assert problem.fix.endswith("constraints.F.max") and "spend" not in problem.fix
