"""Every constraint family on a case small enough to solve by hand.

Curves are linear (a constant cost per lead, click or impression) unless said otherwise, so
the optimum is a vertex that the comments work out: fill the cheapest source first, then
trade along the binding rows. Each test checks the tool's plan against that answer, that the
tool's own re-checks pass, and the constraint again from ``plan.allocation``.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import (
    assert_optimal,
    build,
    exponential,
    exponential_campaign,
    grid_search,
    linear_campaign,
    price_of,
    scenario_dict,
    spend_of,
)

from optimizer import Status, solve

SPEND = dict(rel=1e-6, abs=1e-3)


def assert_spends(plan, expected: dict[str, float]) -> None:
    actual = spend_of(plan)
    assert actual.keys() == expected.keys()
    for name, spend in expected.items():
        assert actual[name] == pytest.approx(spend, **SPEND), name


def total(plan, field: str, names=None) -> float:
    return sum(getattr(row, field) for row in plan.allocation if names is None or row.campaign in names)


def with_rate(campaign: dict, outcome: str, rate: float, of: str = "leads") -> dict:
    return {**campaign, outcome: {"rate": rate, "of": of}}


# --- budget -------------------------------------------------------------------------------------

THREE_SOURCES = [
    linear_campaign("A", 50, max=10_000),
    linear_campaign("B", 100, max=50_000),
    linear_campaign("C", 200, max=50_000),
]


def test_budget_cap_fills_the_cheapest_sources_first():
    # $30k: A to its max ($10k, 200 leads), then B ($20k, 200 leads); C gets nothing.
    plan = solve(build(scenario_dict(THREE_SOURCES, budget={"total": 30_000})))
    assert_optimal(plan)
    assert_spends(plan, {"A": 10_000, "B": 20_000, "C": 0})
    assert plan.objective_value == pytest.approx(400)
    assert total(plan, "spend") <= 30_000 * (1 + 1e-9)
    assert total(plan, "leads") == pytest.approx(plan.kpis["leads"])
    assert plan.kpis["spend"] == pytest.approx(30_000)
    # The next dollar goes to B: 1/100 lead.
    assert price_of(plan, "budget") == pytest.approx(1 / 100, rel=1e-6)
    assert spend_of(plan)["A"] == pytest.approx(10_000) and plan.allocation[0].at_bound == "max"


def test_budget_cap_above_every_max_leaves_money_unspent():
    plan = solve(build(scenario_dict(THREE_SOURCES, budget={"total": 200_000})))
    assert_optimal(plan)
    assert_spends(plan, {"A": 10_000, "B": 50_000, "C": 50_000})
    assert plan.kpis["spend"] == pytest.approx(110_000)
    assert price_of(plan, "budget") == 0.0


def test_spend_all_spends_exactly_the_total():
    # Maximise MQLs: only A produces them (10k -> 200 leads -> 100 MQLs); B's leads are worthless to the
    # objective, so only spend_all makes the plan put the other $20k somewhere (B, the only place left).
    campaigns = [with_rate(linear_campaign("A", 50, max=10_000), "mqls", 0.5),
                 linear_campaign("B", 20, max=100_000)]

    def plan_for(budget: dict):
        plan = solve(build(scenario_dict(campaigns, budget=budget, objective={"maximize": "mqls"})))
        assert_optimal(plan)
        assert plan.objective_value == pytest.approx(100)
        assert spend_of(plan)["A"] == pytest.approx(10_000, **SPEND)
        return plan

    capped = plan_for({"total": 30_000})
    assert total(capped, "spend") <= 30_000 * (1 + 1e-9)
    everything = plan_for({"total": 30_000, "spend_all": True})
    assert total(everything, "spend") == pytest.approx(30_000, rel=1e-9)
    assert_spends(everything, {"A": 10_000, "B": 20_000})


def test_spend_all_with_minimised_spend_pins_spend_to_the_total():
    campaigns = [linear_campaign("A", 50, max=100_000)]
    base = scenario_dict(campaigns, objective={"minimize": "spend"},
                         constraints=[{"kpi": "leads", "min": 100}])
    free = solve(build({**base, "budget": {"total": 30_000}}))
    pinned = solve(build({**base, "budget": {"total": 30_000, "spend_all": True}}))
    assert_optimal(free)
    assert_optimal(pinned)
    assert free.objective_value == pytest.approx(5_000)  # 100 leads at $50
    assert pinned.objective_value == pytest.approx(30_000)
    assert total(pinned, "spend") == pytest.approx(30_000, rel=1e-9)


# --- per-campaign bounds ---------------------------------------------------------------------------


def test_campaign_min_max_and_locked():
    # $40k: C is locked at its current $5k, B must get its $8k minimum, A (CPL 50) fills to its $10k max
    # and D (CPL 60) takes the remaining $17k. Without the min and the lock, B and C would get nothing.
    campaigns = [
        linear_campaign("A", 50, max=10_000),
        linear_campaign("B", 100, min=8_000, max=50_000),
        linear_campaign("C", 80, current=5_000, max=50_000, locked=True),
        linear_campaign("D", 60, max=100_000),
    ]
    plan = solve(build(scenario_dict(campaigns, budget={"total": 40_000})))
    assert_optimal(plan)
    assert_spends(plan, {"A": 10_000, "B": 8_000, "C": 5_000, "D": 17_000})
    assert plan.objective_value == pytest.approx(10_000 / 50 + 8_000 / 100 + 5_000 / 80 + 17_000 / 60)
    assert {row.campaign: row.at_bound for row in plan.allocation} == {
        "A": "max", "B": "min", "C": "locked", "D": None,
    }
    # A dollar moved from D into A gains 1/50 - 1/60 leads; one moved from B into D gains 1/60 - 1/100.
    assert price_of(plan, "campaign", "A") == pytest.approx(1 / 50 - 1 / 60, rel=1e-6)
    assert price_of(plan, "campaign", "B") == pytest.approx(1 / 60 - 1 / 100, rel=1e-6)
    assert price_of(plan, "budget") == pytest.approx(1 / 60, rel=1e-6)


# --- max_change ---------------------------------------------------------------------------------------

MOVERS = [
    linear_campaign("A", 50, current=10_000, max=100_000),
    linear_campaign("B", 100, current=20_000, max=100_000),
    linear_campaign("New", 40, current=0, max=30_000),
]


def assert_within_max_change(plan, limits: dict[str, float]) -> None:
    for row in plan.allocation:
        if row.campaign in limits:
            assert abs(row.spend - row.current_spend) <= limits[row.campaign] * row.current_spend * (1 + 1e-9)


def test_budget_max_change_caps_how_far_each_campaign_moves():
    # +/-30%: A in [7k, 13k], B in [14k, 26k]; the new campaign (current 0) is not limited.
    # $60k: New to its $30k max (CPL 40), A to 13k (CPL 50), B gets the remaining 17k.
    plan = solve(build(scenario_dict(MOVERS, budget={"total": 60_000, "max_change": 0.3})))
    assert_optimal(plan)
    assert_spends(plan, {"A": 13_000, "B": 17_000, "New": 30_000})
    assert plan.objective_value == pytest.approx(13_000 / 50 + 17_000 / 100 + 30_000 / 40)
    assert_within_max_change(plan, {"A": 0.3, "B": 0.3})
    at_bound = {row.campaign: row.at_bound for row in plan.allocation}
    assert at_bound == {"A": "max_change", "B": None, "New": "max"}


def test_budget_max_change_also_holds_campaigns_up():
    # $52k: New 30k; A and B must keep 7k and 14k; the last $1k goes to A (8k). B stays at its floor.
    plan = solve(build(scenario_dict(MOVERS, budget={"total": 52_000, "max_change": 0.3})))
    assert_optimal(plan)
    assert_spends(plan, {"A": 8_000, "B": 14_000, "New": 30_000})
    assert_within_max_change(plan, {"A": 0.3, "B": 0.3})
    assert plan.allocation[1].at_bound == "max_change"


def test_campaign_max_change_wins_over_the_budget_one():
    # A may move only 10%: A in [9k, 11k]; New 30k, A 11k, B the remaining 19k (within B's 30%).
    campaigns = [{**MOVERS[0], "spend": {**MOVERS[0]["spend"], "max_change": 0.1}}, *MOVERS[1:]]
    plan = solve(build(scenario_dict(campaigns, budget={"total": 60_000, "max_change": 0.3})))
    assert_optimal(plan)
    assert_spends(plan, {"A": 11_000, "B": 19_000, "New": 30_000})
    assert_within_max_change(plan, {"A": 0.1, "B": 0.3})


def test_max_change_does_not_apply_to_campaigns_without_current_spend():
    # With 30% on everything, a campaign starting from 0 could not move at all; it must be free instead.
    plan = solve(build(scenario_dict(MOVERS, budget={"total": 60_000, "max_change": 0.3})))
    assert_optimal(plan)
    new = next(row for row in plan.allocation if row.campaign == "New")
    assert new.current_spend == 0
    assert new.spend == pytest.approx(30_000)
    assert np.isnan(new.change_pct)


# --- group spend bounds ----------------------------------------------------------------------------

FOUR_CHANNELS = [
    {**linear_campaign("Search brand", 40, channel="search", max=50_000), "tags": ["brand"]},
    linear_campaign("Search generic", 60, channel="search", max=50_000),
    {**linear_campaign("Video", 150, channel="video", stage="awareness", max=50_000), "tags": ["brand"]},
    linear_campaign("Display", 100, channel="display", stage="awareness", max=50_000),
]
BUDGET = {"total": 60_000}
# With no constraint: Search brand $50k (CPL 40) and Search generic $10k (CPL 60).


def campaigns_matching(where: dict) -> set[str]:
    """The campaigns a selection picks, worked out from FOUR_CHANNELS (every key must match)."""
    def matches(campaign: dict) -> bool:
        checks = {
            "stage": campaign["stage"], "channel": campaign["channel"], "name": campaign["name"],
        }
        for key, wanted in where.items():
            wanted = [wanted] if isinstance(wanted, str) else wanted
            if key == "tag":
                if not set(wanted) & set(campaign.get("tags", [])):
                    return False
            elif checks[key] not in wanted:
                return False
        return True

    return {c["name"] for c in FOUR_CHANNELS if matches(c)}


GROUP_CASES = {
    # awareness >= 15k: the cheaper awareness source (Display) gets 15k, Search brand the other 45k.
    "stage min": ({"stage": "awareness"}, {"min": 15_000},
                  {"Search brand": 45_000, "Search generic": 0, "Video": 0, "Display": 15_000}),
    # search <= 30k: all of it to Search brand; the next cheapest, Display, takes the other 30k.
    "channel max": ({"channel": "search"}, {"max": 30_000},
                    {"Search brand": 30_000, "Search generic": 0, "Video": 0, "Display": 30_000}),
    # brand >= 55k: Search brand is capped at 50k, so Video gets 5k; Search generic the last 5k.
    "tag min": ({"tag": "brand"}, {"min": 55_000},
                {"Search brand": 50_000, "Search generic": 5_000, "Video": 5_000, "Display": 0}),
    # names >= 20k: Search generic (CPL 60) is the cheaper of the two, Search brand keeps 40k.
    "names min": ({"name": ["Search generic", "Display"]}, {"min": 20_000},
                  {"Search brand": 40_000, "Search generic": 20_000, "Video": 0, "Display": 0}),
    # video or display in [10k, 20k]: Display 10k, Search brand 50k.
    "channel list range": ({"channel": ["video", "display"]}, {"min": 10_000, "max": 20_000},
                           {"Search brand": 50_000, "Search generic": 0, "Video": 0, "Display": 10_000}),
    # conversion AND brand is Search brand alone (Video is brand but awareness): capped at 20k.
    "two keys": ({"stage": "conversion", "tag": "brand"}, {"max": 20_000},
                 {"Search brand": 20_000, "Search generic": 40_000, "Video": 0, "Display": 0}),
}


@pytest.mark.parametrize("case", GROUP_CASES)
def test_group_spend_bounds(case):
    where, bounds, expected = GROUP_CASES[case]
    constraint = {"kpi": "spend", "where": where, **bounds}
    plan = solve(build(scenario_dict(FOUR_CHANNELS, budget=BUDGET, constraints=[constraint])))
    assert_optimal(plan)
    assert_spends(plan, expected)
    assert plan.objective_value == pytest.approx(sum(expected[c["name"]] / c["leads"]["unit_cost"]
                                                     for c in FOUR_CHANNELS))
    group = total(plan, "spend", campaigns_matching(where))
    assert group >= bounds.get("min", 0) * (1 - 1e-9)
    assert group <= bounds.get("max", np.inf) * (1 + 1e-9)


SHARE_CASES = {
    # awareness >= 25% of $60k: Display 15k, Search brand 45k.
    "stage share min": ({"stage": "awareness"}, {"min": 0.25},
                        {"Search brand": 45_000, "Search generic": 0, "Video": 0, "Display": 15_000}),
    # search <= 50%: Search brand 30k, Display 30k.
    "channel share max": ({"channel": "search"}, {"max": 0.5},
                          {"Search brand": 30_000, "Search generic": 0, "Video": 0, "Display": 30_000}),
    # brand >= 90%: with Search brand at 50k, generic g and video v obey g <= (50k + v) / 9 and
    # g + v <= 10k; leads rise with v along that edge, so v = 4k and g = 6k.
    "tag share min": ({"tag": "brand"}, {"min": 0.9},
                      {"Search brand": 50_000, "Search generic": 6_000, "Video": 4_000, "Display": 0}),
}


@pytest.mark.parametrize("case", SHARE_CASES)
def test_share_of_spend_bounds(case):
    where, bounds, expected = SHARE_CASES[case]
    constraint = {"kpi": "share", "where": where, **bounds}
    plan = solve(build(scenario_dict(FOUR_CHANNELS, budget=BUDGET, constraints=[constraint])))
    assert_optimal(plan)
    assert_spends(plan, expected)
    share = total(plan, "spend", campaigns_matching(where)) / total(plan, "spend")
    assert share >= bounds.get("min", 0) - 1e-9
    assert share <= bounds.get("max", 1) + 1e-9


# --- KPI floors with spend minimised ------------------------------------------------------------

FUNNEL = [
    with_rate(linear_campaign("A", 50, max=10_000), "mqls", 0.2),    # $250 per MQL
    with_rate(linear_campaign("B", 80, max=100_000), "mqls", 0.5),   # $160 per MQL
]

FLOOR_CASES = {
    # 300 leads: A's 10k buys 200, B buys the last 100 for 8k. The 301st lead costs B's CPL, $80.
    "leads": ([{"kpi": "leads", "min": 300}], {"A": 10_000, "B": 8_000}, {"leads": 80.0}),
    # 120 MQLs: B is the cheaper MQL source: 240 leads, 19.2k. The next MQL costs $160.
    "mqls": ([{"kpi": "mqls", "min": 120}], {"A": 0, "B": 19_200}, {"mqls": 160.0}),
    # Both: a/50 + b/80 = 300 and 0.004a + 0.00625b = 120 give a = 5k, b = 16k (spend 21k); the corners
    # a = 0 (24k) and a = 10k (22.8k) cost more. Relaxing either floor moves along the other one:
    # prices solve p_l / 50 + 0.004 p_m = 1 and p_l / 80 + 0.00625 p_m = 1: p_l = 30, p_m = 100.
    "leads and mqls": ([{"kpi": "leads", "min": 300}, {"kpi": "mqls", "min": 120}], {"A": 5_000, "B": 16_000},
                       {"leads": 30.0, "mqls": 100.0}),
}


@pytest.mark.parametrize("case", FLOOR_CASES)
def test_kpi_floors_with_spend_minimised(case):
    constraints, expected, prices = FLOOR_CASES[case]
    plan = solve(build(scenario_dict(FUNNEL, objective={"minimize": "spend"}, constraints=constraints)))
    assert_optimal(plan)
    assert_spends(plan, expected)
    assert plan.objective_value == pytest.approx(sum(expected.values()))
    for constraint in constraints:
        assert total(plan, constraint["kpi"]) >= constraint["min"] * (1 - 1e-9)
    by_kpi = {p.kpi: p.price for p in plan.shadow_prices if p.kind == "volume"}
    assert by_kpi == pytest.approx(prices, rel=1e-6)


# --- ratio caps and floors ------------------------------------------------------------------------


def clicks_campaign(name: str, cpc: float, cvr: float, **spend) -> dict:
    return {"name": name, "channel": "search", "stage": "conversion", "spend": spend,
            "clicks": {"curve": "linear", "unit_cost": cpc}, "leads": {"rate": cvr, "of": "clicks"}}


RATIO_CASES = {
    # CPL <= 80 with A (CPL 40, max 20k) and B (CPL 120): a + b <= 80 (a/40 + b/120) gives b <= 3a = 60k.
    "cpl": (
        [linear_campaign("A", 40, max=20_000), linear_campaign("B", 120, max=100_000)],
        {"kpi": "cpl", "max": 80}, {"A": 20_000, "B": 60_000},
    ),
    # CPC <= 3 with A (CPC 2, CVR 2%: CPL 100) and B (CPC 5, CVR 10%: CPL 50): b <= 1.25a, and the
    # $100k budget binds: a = 44,444.44, b = 55,555.56.
    "cpc": (
        [clicks_campaign("A", 2, 0.02, max=100_000), clicks_campaign("B", 5, 0.10, max=100_000)],
        {"kpi": "cpc", "max": 3}, {"A": 100_000 / 2.25, "B": 125_000 / 2.25},
    ),
    # CAC <= 700 with A (CPL 50, 10% close: CAC 500, max 30k) and B (CPL 20, 2%: CAC 1000): b <= 4a/3.
    "cac": (
        [with_rate(linear_campaign("A", 50, max=30_000), "customers", 0.10),
         with_rate(linear_campaign("B", 20, max=100_000), "customers", 0.02)],
        {"kpi": "cac", "max": 700}, {"A": 30_000, "B": 40_000},
    ),
    # ROAS >= 3 with A ($250 per lead at CPL 50: ROAS 5, max 30k) and B ($40 at CPL 20: ROAS 2): b <= 2a.
    "roas": (
        [with_rate(linear_campaign("A", 50, max=30_000), "revenue", 250.0),
         with_rate(linear_campaign("B", 20, max=100_000), "revenue", 40.0)],
        {"kpi": "roas", "min": 3}, {"A": 30_000, "B": 60_000},
    ),
}


RATIOS = {"cpl": ("spend", "leads"), "cpc": ("spend", "clicks"), "cac": ("spend", "customers"),
          "roas": ("revenue", "spend")}


def ratio_of(plan, kpi: str, names=None) -> float:
    numerator, denominator = RATIOS[kpi]
    return total(plan, numerator, names) / total(plan, denominator, names)


@pytest.mark.parametrize("case", RATIO_CASES)
def test_ratio_bounds(case):
    campaigns, constraint, expected = RATIO_CASES[case]
    plan = solve(build(scenario_dict(campaigns, budget={"total": 100_000}, constraints=[constraint])))
    assert_optimal(plan)
    assert_spends(plan, expected)
    bound = constraint.get("max", constraint.get("min"))
    assert ratio_of(plan, constraint["kpi"]) == pytest.approx(bound, rel=1e-6), "the bound binds"
    assert plan.kpis[constraint["kpi"]] == pytest.approx(ratio_of(plan, constraint["kpi"]), rel=1e-9)
    assert price_of(plan, "ratio") > 0


def test_cpl_cap_price_per_dollar_of_cpl():
    # B's spend at the cap X is b(X) = 20k (X/40 - 1) / (1 - X/120); at X = 80, b'(X) = 3,000 $ per $1 of
    # CPL, which buys 3,000 / 120 = 25 leads (the budget has room: 80k of 100k).
    campaigns, constraint, _ = RATIO_CASES["cpl"]
    plan = solve(build(scenario_dict(campaigns, budget={"total": 100_000}, constraints=[constraint])))
    assert price_of(plan, "ratio") == pytest.approx(25.0, rel=1e-6)


def test_group_cpl_cap_only_counts_the_group():
    # CPL <= 80 on search only: B (search) <= 3 x A = 60k, and Social (CPL 200, outside the group)
    # takes the remaining 20k even though it would break a plan-wide cap.
    campaigns = [
        linear_campaign("A", 40, max=20_000),
        linear_campaign("B", 120, max=100_000),
        linear_campaign("Social", 200, channel="social", max=100_000),
    ]
    constraint = {"kpi": "cpl", "where": {"channel": "search"}, "max": 80}
    plan = solve(build(scenario_dict(campaigns, budget={"total": 100_000}, constraints=[constraint])))
    assert_optimal(plan)
    assert_spends(plan, {"A": 20_000, "B": 60_000, "Social": 20_000})
    assert ratio_of(plan, "cpl", {"A", "B"}) == pytest.approx(80, rel=1e-6)
    assert ratio_of(plan, "cpl") > 80


# --- share of voice -----------------------------------------------------------------------------------

# Search buys impressions at a $10 CPM, 1 lead per 1,000 impressions (CPL $10); Social's leads cost $5.
SEARCH = {"name": "Search", "channel": "search", "stage": "conversion", "pools": ["search"],
          "spend": {"max": 100_000}, "impressions": {"curve": "linear", "unit_cost": 0.01},
          "leads": {"rate": 0.001, "of": "impressions"}}
SOCIAL = linear_campaign("Social", 5, channel="social", max=100_000)
COMPETITORS = 1_000_000
FIXED_TOTAL = 5_000_000

SOV_CASES = {
    # SOV >= 20% against 1M competitor impressions: X >= 0.2 / 0.8 x 1M = 250k impressions = $2,500.
    # Each extra impression costs 0.01/5 leads from Social and brings 0.001: 0.001 lead lost, and a point
    # of SOV is 0.01 x 1M / 0.8^2 = 15,625 impressions: 15.625 leads per point.
    "competitors": ({"competitor_impressions": COMPETITORS}, 0.2, 250_000, 15.625),
    # SOV >= 10% of a fixed 5M: X >= 500k impressions = $5,000; a point is 50k impressions: 50 leads.
    "fixed total": ({"total_impressions": FIXED_TOTAL}, 0.1, 500_000, 50.0),
}


def sov_of(plan, pool: dict) -> float:
    ours = total(plan, "impressions", {"Search"})
    if "competitor_impressions" in pool:
        return ours / (ours + pool["competitor_impressions"])
    return ours / pool["total_impressions"]


@pytest.mark.parametrize("case", SOV_CASES)
def test_sov_floor(case):
    pool, floor, impressions, leads_per_point = SOV_CASES[case]
    scenario = scenario_dict([SEARCH, SOCIAL], budget={"total": 50_000}, pools={"search": pool},
                             constraints=[{"kpi": "sov.search", "min": floor}])
    plan = solve(build(scenario))
    assert_optimal(plan)
    search_spend = impressions * 0.01
    assert_spends(plan, {"Search": search_spend, "Social": 50_000 - search_spend})
    assert plan.objective_value == pytest.approx(impressions * 0.001 + (50_000 - search_spend) / 5)
    assert sov_of(plan, pool) == pytest.approx(floor, rel=1e-9)
    assert plan.sov["search"] == pytest.approx(sov_of(plan, pool), rel=1e-9)
    assert price_of(plan, "sov") == pytest.approx(leads_per_point, rel=1e-6)


def test_sov_cap_limits_a_cheap_pool_campaign():
    # Search is now the cheaper lead source (3 leads per 1,000 impressions: CPL $3.33), so it takes all it
    # can: SOV <= 20% against 1M competitors caps it at 250k impressions ($2,500).
    search = {**SEARCH, "leads": {"rate": 0.003, "of": "impressions"}}
    pool = {"competitor_impressions": COMPETITORS}
    scenario = scenario_dict([search, SOCIAL], budget={"total": 50_000}, pools={"search": pool},
                             constraints=[{"kpi": "sov.search", "max": 0.2}])
    plan = solve(build(scenario))
    assert_optimal(plan)
    assert_spends(plan, {"Search": 2_500, "Social": 47_500})
    assert sov_of(plan, pool) == pytest.approx(0.2, rel=1e-9)


def test_sov_cap_on_a_saturating_curve_is_solved_exactly():
    # A cap on a concave impressions curve wants less of it, so in-order filling fails: the campaign needs
    # the exact MILP. SOV <= 50% against 1M competitors is X <= 1M impressions, i.e. Search spend
    # <= 40k ln 2; the best split under that cap comes from a grid search on the exact curves.
    search = {**SEARCH, "impressions": {"curve": "exponential", "max": 2_000_000, "scale": 40_000},
              "leads": {"rate": 0.002, "of": "impressions"}}
    social = exponential_campaign("Social", 5_000, 60_000, max=100_000)
    scenario = scenario_dict([search, social], budget={"total": 80_000},
                             pools={"search": {"competitor_impressions": COMPETITORS}},
                             constraints=[{"kpi": "sov.search", "max": 0.5}])
    plan = solve(build(scenario))
    assert_optimal(plan)
    cap = 40_000 * np.log(2)
    curves = [lambda s: 0.002 * exponential(s, 2_000_000, 40_000), lambda s: exponential(s, 5_000, 60_000)]
    best = grid_search(curves, [0, 0], [cap, 100_000], 80_000)
    assert plan.sov["search"] <= 0.5 * (1 + 1e-9)
    assert spend_of(plan)["Search"] <= cap * (1 + 1e-9)
    assert plan.objective_value >= best.value * (1 - 1e-3)
    assert best.value <= plan.bound * (1 + 1e-9)
    assert {row.campaign: row.exact_milp for row in plan.allocation} == {"Search": True, "Social": False}


@pytest.mark.parametrize("pool", [{"competitor_impressions": 2_000_000}, {"total_impressions": 4_000_000}],
                         ids=["competitors", "fixed total"])
def test_reported_sov_on_saturating_curves(pool):
    # Two pool campaigns on exponential impression curves, one outside the pool; the reported SOV must be
    # X / (X + C) or X / E with X the pool's impressions from the allocation, and the floor must hold.
    campaigns = [
        {**SEARCH, "impressions": {"curve": "exponential", "max": 1_500_000, "scale": 60_000}},
        {**SEARCH, "name": "Search 2", "spend": {"max": 80_000},
         "impressions": {"curve": "exponential", "max": 900_000, "scale": 30_000}},
        {**SOCIAL, "leads": {"curve": "exponential", "max": 12_000, "scale": 50_000}},
    ]
    scenario = scenario_dict(campaigns, budget={"total": 120_000}, pools={"search": pool},
                             constraints=[{"kpi": "sov.search", "min": 0.3}])
    plan = solve(build(scenario))
    assert_optimal(plan)
    ours = total(plan, "impressions", {"Search", "Search 2"})
    expected = ours / (ours + pool["competitor_impressions"]) if "competitor_impressions" in pool \
        else ours / pool["total_impressions"]
    assert plan.sov["search"] == pytest.approx(expected, rel=1e-9)
    assert expected >= 0.3 * (1 - 1e-9)
    assert price_of(plan, "sov") > 0, "the floor binds: the pool campaigns alone would stop short of 30%"


# --- infeasible scenarios -------------------------------------------------------------------------


def assert_infeasible(plan) -> None:
    assert plan.status is Status.INFEASIBLE
    assert plan.objective_value is None and plan.bound is None and plan.gap is None
    assert plan.allocation == () and plan.checks == ()
    assert not plan.success


INFEASIBLE_CASES = {
    "leads floor above what the budget buys": scenario_dict(
        THREE_SOURCES, budget={"total": 30_000}, constraints=[{"kpi": "leads", "min": 1_000}]),
    "spend_all above every max": scenario_dict(THREE_SOURCES, budget={"total": 200_000, "spend_all": True}),
    "minimums above the budget": scenario_dict(
        [linear_campaign("A", 50, min=20_000, max=50_000), linear_campaign("B", 60, min=20_000, max=50_000)],
        budget={"total": 30_000}),
    # 50% of 50M impressions is 25M, $250k of Search, whose max is $100k.
    "unreachable SOV floor": scenario_dict(
        [SEARCH, SOCIAL], budget={"total": 500_000}, pools={"search": {"total_impressions": 50_000_000}},
        constraints=[{"kpi": "sov.search", "min": 0.5}]),
    "group floors that add up past the budget": scenario_dict(
        FOUR_CHANNELS, budget=BUDGET,
        constraints=[{"kpi": "spend", "where": {"channel": "search"}, "min": 40_000},
                     {"kpi": "share", "where": {"stage": "awareness"}, "min": 0.5}]),
}


@pytest.mark.parametrize("case", INFEASIBLE_CASES)
def test_infeasible_scenarios_are_a_status(case):
    plan = solve(build(INFEASIBLE_CASES[case]))
    assert_infeasible(plan)
    assert plan.message


def test_campaign_min_above_the_max_change_ceiling_is_infeasible_and_named():
    # A runs at 10k today; +/-50% allows at most 15k, but its min is 20k.
    campaigns = [linear_campaign("Search: brand", 50, current=10_000, min=20_000, max=50_000),
                 linear_campaign("Social", 60, current=10_000, max=50_000)]
    plan = solve(build(scenario_dict(campaigns, budget={"total": 60_000, "max_change": 0.5})))
    assert_infeasible(plan)
    assert "Search: brand" in plan.message
    assert "Social" not in plan.message
    assert "max_change" in plan.message
