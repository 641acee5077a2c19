"""Explanations of scenarios with no plan.

The conflicting set and each suggested relaxation are checked against hand computations (the
Lagrangian closed form for exponential curves, exhaustive grids), and every relaxation is
applied alone through its ``--set`` key: with it a plan exists, with 1% less of it none does.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from reference import exponential_optimum

from optimizer import Status, explain_infeasible, frontier, solve
from optimizer.cli import EXIT_INFEASIBLE, run
from optimizer.scenario.loading import scenario_from_document
from optimizer.solver import conflicts_before_solving
from optimizer.solver.run import constraint_keys


def exponential(name: str, top: float, scale: float, max_spend: float, **extra) -> dict:
    return {"name": name, "channel": extra.pop("channel", "search"), "stage": "conversion",
            "spend": {"max": max_spend}, "leads": {"curve": "exponential", "max": top, "scale": scale}, **extra}


def scenario(document: dict, *overrides: str):
    return scenario_from_document(document, Path("."), "test.toml", overrides=overrides)


TOPS, SCALES = np.array([1000.0, 500.0]), np.array([5000.0, 2000.0])


def best_leads(budget: float) -> float:
    """The most leads two exponential campaigns give for ``budget`` (closed form)."""
    return exponential_optimum(TOPS, SCALES, np.zeros(2), np.full(2, 1e6), budget).value


def least_spend(leads: float) -> float:
    """The least budget that reaches ``leads``: at multiplier m each campaign spends
    scale ln(top / (scale m)) (or nothing), so bisection on log m meets ``leads`` exactly."""
    low, high = math.log((TOPS / SCALES).max()) - 60, math.log((TOPS / SCALES).max())
    for _ in range(100):
        middle = (low + high) / 2
        spend = np.maximum(SCALES * (np.log(TOPS / SCALES) - middle), 0.0)
        reached = float((TOPS * (1 - np.exp(-spend / SCALES))).sum())
        low, high = (middle, high) if reached > leads else (low, middle)
    return float(np.maximum(SCALES * (np.log(TOPS / SCALES) - low), 0.0).sum())


def two_campaigns(**extra) -> dict:
    campaigns = [exponential("a", TOPS[0], SCALES[0], 1e6), exponential("b", TOPS[1], SCALES[1], 1e6)]
    return {"name": "conflict", "budget": {"total": 10_000.0}, "campaigns": campaigns, **extra}


# --- hand computations ------------------------------------------------------------------------


def relaxation(explanation, kpi: str):
    (found,) = [r for r in explanation.relaxations if r.kpi == kpi]
    return found


def close(value: float, exact: float, current: float) -> bool:
    """Within half a percent of the change asked for (the rounding step is at most that)."""
    return abs(value - exact) <= 5e-3 * abs(exact - current)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_a_leads_floor_beyond_the_budget(solver):
    floor = best_leads(10_000) * 1.02
    document = two_campaigns(objective={"minimize": "spend"}, constraints=[{"kpi": "leads", "min": floor}])
    explanation = explain_infeasible(scenario(document), solver=solver)
    assert explanation.proven and len(explanation.conflict) == 2
    budget, leads = relaxation(explanation, "spend"), relaxation(explanation, "leads")
    assert budget.key == "budget.total" and leads.key == "constraints[0].min"
    assert close(budget.value, least_spend(floor), 10_000) and budget.value >= least_spend(floor)
    assert close(leads.value, best_leads(10_000), floor) and leads.value <= best_leads(10_000)
    assert "raise the budget to $" in explanation.message and "lower the leads floor to" in explanation.message


def test_a_cpl_cap_against_a_leads_floor():
    """With concave curves the cheapest way to L leads spends least_spend(L): CPL = least_spend(L) / L."""
    floor = 0.9 * best_leads(10_000)
    lowest_cpl = least_spend(floor) / floor
    cap = 0.9 * lowest_cpl
    document = two_campaigns(constraints=[{"kpi": "leads", "min": floor, "name": "Lead target"},
                                          {"kpi": "cpl", "max": cap, "name": "CPL cap"}])
    explanation = explain_infeasible(scenario(document))
    assert set(explanation.conflict) == {"Lead target", "CPL cap"}
    most_leads = _bisect(lambda leads: least_spend(leads) / leads <= cap, 1.0, floor)
    assert close(relaxation(explanation, "cpl").value, lowest_cpl, cap)
    assert close(relaxation(explanation, "leads").value, most_leads, floor)
    assert relaxation(explanation, "cpl").key == 'constraints."CPL cap".max'
    assert explanation.message.startswith("Lead target and CPL cap cannot both hold.")


def _bisect(holds, good: float, bad: float) -> float:
    for _ in range(100):
        middle = (good + bad) / 2
        good, bad = (middle, bad) if holds(middle) else (good, middle)
    return good


SEARCH_IMPRESSIONS, SEARCH_SCALE, COMPETITORS = 900_000.0, 150_000.0, 600_000.0
META_LEADS, META_SCALE, BUDGET = 6_000.0, 100_000.0, 250_000.0


def sov_against_cpl(sov_floor: float, cpl_cap: float) -> dict:
    search = {"name": "Search", "channel": "search", "stage": "conversion", "pools": ["search"],
              "spend": {"max": 400_000.0},
              "impressions": {"curve": "exponential", "max": SEARCH_IMPRESSIONS, "scale": SEARCH_SCALE},
              "clicks": {"rate": 0.05, "of": "impressions"}, "leads": {"rate": 0.08, "of": "clicks"}}
    meta = exponential("Meta", META_LEADS, META_SCALE, 200_000.0, channel="meta")
    return {"name": "sov vs cpl", "budget": {"total": BUDGET}, "campaigns": [search, meta],
            "pools": {"search": {"competitor_impressions": COMPETITORS}},
            "constraints": [{"kpi": "sov.search", "min": sov_floor}, {"kpi": "cpl", "max": cpl_cap}]}


def _grid():
    """Every split on a fine grid within the budget: search spend, SOV and blended CPL."""
    search = np.linspace(0, BUDGET, 2001)[:, None]
    meta = np.linspace(0, 200_000, 4001)[None, :]
    impressions = SEARCH_IMPRESSIONS * (1 - np.exp(-search / SEARCH_SCALE))
    leads = 0.004 * impressions + META_LEADS * (1 - np.exp(-meta / META_SCALE))
    within = search + meta <= BUDGET
    with np.errstate(divide="ignore", invalid="ignore"):
        cpl = np.where(within & (leads > 0), (search + meta) / leads, np.inf)
    sov = np.broadcast_to(impressions / (impressions + COMPETITORS), cpl.shape)
    return sov, cpl


def test_an_sov_floor_against_a_cpl_cap_matches_an_exhaustive_grid():
    sov, cpl = _grid()
    explanation = explain_infeasible(scenario(sov_against_cpl(0.5, 40.0)))
    assert set(explanation.conflict) == {"sov.search >= 50.0%", "cpl <= $40.00"}
    lowest_cpl = cpl[sov >= 0.5].min()
    highest_sov = sov[cpl <= 40.0].max()
    # The grid over-estimates the lowest CPL and under-estimates the highest SOV by its spacing.
    assert relaxation(explanation, "cpl").value == pytest.approx(lowest_cpl, rel=2e-4)
    assert relaxation(explanation, "sov.search").value == pytest.approx(highest_sov, rel=2e-4)
    # Each relaxation names what holds it back: the other member, and the budget (more Meta spend lowers the CPL).
    assert explanation.message.startswith("sov.search >= 50.0% and cpl <= $40.00 cannot both hold, and the "
                                          "$250,000 budget binds against them too.")
    assert "lower the sov.search floor to 47.61% (the most the CPL cap allows)" in explanation.message
    assert "(the least the budget and the sov.search floor allow)" in explanation.message


# --- every relaxation alone fixes the scenario, and 1% less of it does not --------------------------


def _cases() -> dict[str, dict]:
    floor = best_leads(10_000)
    cheapest = least_spend(0.9 * floor) / (0.9 * floor)
    return {
        "leads floor vs budget": two_campaigns(objective={"minimize": "spend"},
                                               constraints=[{"kpi": "leads", "min": floor * 1.05}]),
        "cpl cap vs leads floor": two_campaigns(constraints=[
            {"kpi": "leads", "min": 0.9 * floor}, {"kpi": "cpl", "max": 0.9 * cheapest}]),
        "sov floor vs cpl cap": sov_against_cpl(0.5, 40.0),
        "group share vs group cap": two_campaigns(budget={"total": 10_000.0, "spend_all": True}, constraints=[
            {"kpi": "share", "where": {"name": "b"}, "min": 0.6, "name": "b share"},
            {"kpi": "spend", "where": {"name": "b"}, "max": 4_000.0, "name": "b cap"}]),
        "leads cap vs spend floor": two_campaigns(constraints=[
            {"kpi": "leads", "max": 300.0}, {"kpi": "spend", "min": 8_000.0}]),
        "leads floor vs a campaign cap": two_campaigns(constraints=[
            {"kpi": "leads", "min": floor * 0.97, "name": "Lead target"},
            {"kpi": "spend", "where": {"name": "a"}, "max": 3_000.0, "name": "a cap"}]),
    }


def esov_against_spend_share(esov_floor: float) -> dict:
    """Display counts in an impressions pool with a share of market, and in a spend pool capped at 20%."""
    display = {"name": "Display", "channel": "display", "stage": "awareness", "pools": ["media", "spendy"],
               "spend": {"max": 90_000.0},
               "impressions": {"curve": "hill", "max": 2e6, "half": 40_000.0, "shape": 3.0},
               "leads": {"rate": 1e-4, "of": "impressions"}}
    return {"name": "esov", "budget": {"total": 100_000.0},
            "pools": {"media": {"total_impressions": 3e6, "som": 0.2}, "spendy": {"competitor_spend": 2e5}},
            "campaigns": [display, exponential("Search", 1000.0, 30_000.0, 80_000.0)],
            "constraints": [{"name": "ESOV", "kpi": "esov.media", "min": esov_floor},
                            {"name": "Spend share", "kpi": "sov.spendy", "max": 0.2}]}


def test_an_esov_floor_is_relaxed_in_esov_points():
    # A 20% spend share allows Display s / (s + 200,000) <= 0.2, so s <= 50,000; its impressions there
    # over the 3M market, less the 20% share of market, is the most ESOV the cap allows.
    impressions = 2e6 * 50_000.0**3 / (50_000.0**3 + 40_000.0**3)
    best_esov = impressions / 3e6 - 0.2
    explanation = explain_infeasible(scenario(esov_against_spend_share(0.25)))
    floor = relaxation(explanation, "esov.media")
    assert floor.current == 0.25 and floor.side == "min"
    assert close(floor.value, best_esov, 0.25) and floor.value <= best_esov
    assert f"{floor.value * 100:.3f}%" in floor.sentence


CASES = _cases() | {"esov floor vs spend share": esov_against_spend_share(0.25)}


@pytest.mark.parametrize("case", list(CASES))
def test_each_relaxation_alone_is_enough_and_the_least_enough(case):
    document = CASES[case]
    plan = solve(scenario(document))
    assert plan.status is Status.INFEASIBLE and plan.explanation is not None
    assert plan.explanation.relaxations, plan.message
    for relaxed in plan.explanation.relaxations:
        assert relaxed.key is not None, relaxed
        fixed = solve(scenario(document, f"{relaxed.key}={relaxed.value!r}"))
        assert fixed.status is Status.OPTIMAL, f"{relaxed.sentence}: {fixed.message}"
        assert all(check.ok for check in fixed.checks)
        nearly = relaxed.current + 0.99 * (relaxed.value - relaxed.current)
        short = solve(scenario(document, f"{relaxed.key}={nearly!r}"))
        assert short.status is Status.INFEASIBLE, f"{relaxed.sentence} is more than needed: {short.message}"


def test_a_scenario_with_a_plan_has_nothing_to_explain():
    explanation = explain_infeasible(scenario(two_campaigns()))
    assert explanation.conflict == () and explanation.relaxations == ()


def test_the_cli_prints_the_explanation_and_exits_1(tmp_path, capsys):
    path = tmp_path / "conflict.json"
    path.write_text(json.dumps(sov_against_cpl(0.5, 40.0)))
    assert run(["solve", str(path), "--format", "json"]) == EXIT_INFEASIBLE
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "infeasible"
    keys = {r["key"] for r in data["explanation"]["relaxations"]}
    assert keys == {"constraints[0].min", "constraints[1].max"}
    assert run(["solve", str(path)]) == EXIT_INFEASIBLE
    out = capsys.readouterr().out
    assert "cannot both hold" in out and "lower the sov.search floor to" in out


# --- bounds that clash on their own are caught before solving -------------------------------------


def test_locked_spend_over_the_budget_is_caught_before_solving_and_priced():
    locked = [exponential(f"L{i}", 100.0, 1_000.0, 1e6, spend={"current": s, "locked": True})
              for i, s in enumerate([4_000.0, 7_000.0])]
    free = exponential("F", 100.0, 1_000.0, 1e6, spend={"current": 1_000.0, "min": 500.0, "max": 9_000.0})
    document = {"name": "locked", "budget": {"total": 10_000.0}, "campaigns": [*locked, free]}
    plan = solve(scenario(document))
    assert plan.status is Status.INFEASIBLE and plan.info.solver_seconds == 0.0
    (raised,) = plan.explanation.relaxations
    assert raised.key == "budget.total" and raised.value == 11_500.0  # 4,000 + 7,000 locked, 500 minimum
    assert "L1 $7,000 (locked)" in plan.message and "raise the budget to $11,500" in plan.message
    assert solve(scenario(document, f"budget.total={raised.value}")).status is Status.OPTIMAL


def test_a_campaign_whose_range_is_empty_gets_a_fix_for_each_side():
    campaign = exponential("B", 100.0, 1_000.0, 20_000.0, spend={"current": 30_000.0, "max": 20_000.0,
                                                                  "max_change": 0.2})
    document = {"name": "range", "budget": {"total": 50_000.0}, "campaigns": [campaign]}
    plan = solve(scenario(document))
    assert plan.status is Status.INFEASIBLE
    # Today's $30,000 may fall 20%, to $24,000, but the max is $20,000: a max_change of 1/3 or a max of $24,000.
    assert "raise its max_change (now 0.2) to 0.334" in plan.message
    assert "raise its spend.max to $24,000" in plan.message
    for relaxed in plan.explanation.relaxations:
        key = relaxed.key or 'campaigns."B".spend.max_change'
        assert solve(scenario(document, f"{key}={relaxed.value}")).status is Status.OPTIMAL


def test_a_min_above_its_own_max_is_a_conflict_caught_before_solving(tmp_path, capsys):
    swapped = exponential("S", 100.0, 1_000.0, 2_000.0, spend={"min": 5_000.0, "max": 2_000.0})
    locked = exponential("L", 100.0, 1_000.0, 2_000.0, spend={"current": 3_000.0, "max": 2_000.0, "locked": True})
    document = two_campaigns(campaigns=[*two_campaigns()["campaigns"], swapped, locked], constraints=[
        {"kpi": "leads", "min": 900.0, "max": 400.0, "name": "Lead band"},
        {"kpi": "share", "where": {"name": "a"}, "min": 0.6, "max": 0.35}])
    document["budget"]["total"] = 1e5
    path = tmp_path / "swapped.json"
    path.write_text(json.dumps(document))
    for command in ("validate", "solve"):
        assert run([command, str(path)]) == EXIT_INFEASIBLE
        out = capsys.readouterr().out
        assert "Lead band (min) and Lead band (max) cannot both hold (the min, 900, is above the max, 400): " \
               "swap them (min 400, max 900)" in out, out
        assert "swap them (min 35.0%, max 60.0%)" in out and "raise its spend.max to $3,000, or unlock it" in out
    plan = solve(scenario(document))
    assert plan.status is Status.INFEASIBLE and plan.info.solver_seconds == 0.0
    exact = {'campaigns."S".spend.min': 2_000.0, 'campaigns."S".spend.max': 5_000.0,
             'campaigns."L".spend.max': 3_000.0}
    assert {r.key: r.value for r in plan.explanation.relaxations} == exact
    swaps = ('constraints."Lead band".min=400', 'constraints."Lead band".max=900',
             "constraints[1].min=0.35", "constraints[1].max=0.6")
    for key, value in exact.items():
        other = next(f"{k}={v!r}" for k, v in exact.items() if k.split(".")[1] != key.split(".")[1])
        assert conflicts_before_solving(scenario(document, *swaps, other, f"{key}={value!r}")) is None, key
        nudged = value * (1.01 if key.endswith("min") else 0.99)
        assert conflicts_before_solving(scenario(document, *swaps, other, f"{key}={nudged!r}")) is not None, key
    raised = (f"{k}={v!r}" for k, v in exact.items() if k.endswith("max"))
    assert solve(scenario(document, *swaps, *raised)).status is Status.OPTIMAL


def three_stages(*shares: dict) -> dict:
    campaigns = [exponential(stage.title(), 1_000.0, 5_000.0, 60_000.0, stage=stage, channel=channel)
                 for stage, channel in (("awareness", "video"), ("conversion", "search"), ("consideration", "social"))]
    return {"name": "shares", "budget": {"total": 100_000.0}, "campaigns": campaigns, "constraints": list(shares)}


@pytest.mark.parametrize(("floors", "exact"), [
    # Disjoint stages: a floor can fall to 100% less the others.
    ((0.6, 0.5, None), {"constraints[0].min": 0.5, "constraints[1].min": 0.4}),
    ((0.5, 0.3, 0.4), {"constraints[0].min": 0.3, "constraints[1].min": 0.1, "constraints[2].min": 0.2}),
])
def test_share_floors_that_ask_for_more_than_all_the_spend_are_a_conflict(floors, exact):
    stages = ("awareness", "conversion", "consideration")
    document = three_stages(*({"kpi": "share", "where": {"stage": stage}, "min": floor}
                              for stage, floor in zip(stages, floors, strict=True) if floor is not None))
    plan = solve(scenario(document))
    assert plan.status is Status.INFEASIBLE, plan.message  # it used to be an "optimal" plan spending $0
    assert "only a plan that spends nothing" in plan.message
    found = {r.key: r.value for r in plan.explanation.relaxations}
    assert found.keys() == exact.keys() and all(found[k] == pytest.approx(v, abs=1e-9) for k, v in exact.items())
    for key, value in exact.items():
        relaxed = solve(scenario(document, f"{key}={found[key]!r}"))
        assert relaxed.status is Status.OPTIMAL and relaxed.kpis["spend"] > 0, key
        assert solve(scenario(document, f"{key}={value * 1.01!r}")).status is Status.INFEASIBLE, key


def test_overlapping_share_floors_are_judged_on_the_mix_not_the_sum():
    # Search 60% and conversion 60% can both hold: the search campaign is the conversion one.
    document = three_stages({"kpi": "share", "where": {"channel": "search"}, "min": 0.6},
                            {"kpi": "share", "where": {"stage": "conversion"}, "min": 0.6},
                            {"kpi": "share", "where": {"stage": "awareness"}, "max": 0.2})
    plan = solve(scenario(document))
    assert plan.status is Status.OPTIMAL and plan.kpis["spend"] > 0


def test_relaxation_keys_fall_back_to_positions_when_a_name_cannot_be_typed():
    document = two_campaigns(constraints=[
        {"kpi": "leads", "min": 1e6, "name": 'Leads "floor" = target'},
        {"kpi": "spend", "max": 1e9, "name": "twice"}, {"kpi": "spend", "max": 2e9, "name": "twice"},
        {"kpi": "leads", "max": 1e9, "name": "Ünïcode 'cap' 💸"}])
    keys = constraint_keys(scenario(document))
    assert keys == {0: "constraints[0]", 1: "constraints[1]", 2: "constraints[2]",
                    3: "constraints.\"Ünïcode 'cap' 💸\""}
    for index, key in keys.items():
        bound = "min" if index == 0 else "max"
        assert scenario(document, f"{key}.{bound}=123").constraints[index].model_dump()[bound] == 123


def test_each_relaxation_of_a_frontier_without_points_gives_a_frontier():
    document = {**sov_against_cpl(0.1, 40.0), "constraints": [
        {"kpi": "leads", "min": 1_000.0, "name": "Lead target"}, {"kpi": "cpl", "max": 15.0, "name": "CPL cap"}]}
    empty = frontier(scenario(document), against="sov.search", points=5)
    assert empty.status is Status.INFEASIBLE and empty.explanation is not None
    assert empty.explanation.relaxations, empty.message
    for relaxed in empty.explanation.relaxations:
        moved = relaxed.value > relaxed.current if relaxed.side == "max" else relaxed.value < relaxed.current
        assert moved, relaxed.sentence
        traced = frontier(scenario(document, f"{relaxed.key}={relaxed.value!r}"), against="sov.search", points=5)
        assert traced.status is Status.OPTIMAL and traced.points, f"{relaxed.sentence}: {traced.message}"


def test_separate_conflicts_are_each_explained_with_their_own_fixes():
    document = two_campaigns(constraints=[
        {"kpi": "spend", "where": {"name": "a"}, "min": 4_000.0, "name": "a floor"},
        {"kpi": "spend", "where": {"name": "a"}, "max": 3_000.0, "name": "a cap"},
        {"kpi": "leads", "where": {"name": "b"}, "min": 600.0, "name": "b leads"}])  # b reaches 500 at most
    plan = solve(scenario(document))
    assert plan.status is Status.INFEASIBLE
    assert set(plan.explanation.conflict) == {"a floor", "a cap", "b leads"}
    assert plan.message.startswith("Two separate conflicts")
    by_name = {r.constraint: r for r in plan.explanation.relaxations}
    assert close(by_name["b leads"].value, TOPS[1] * (1 - math.exp(-10_000.0 / SCALES[1])), 600.0)  # all the budget
    assert close(by_name["a cap"].value, 4_000.0, 3_000.0) and close(by_name["a floor"].value, 3_000.0, 4_000.0)
    # Each fix settles its own conflict; the other one still stands until it is fixed (or dropped) too.
    fix_a, fix_b = (f"{r.key}={r.value!r}" for r in (by_name["a cap"], by_name["b leads"]))
    assert solve(scenario(document, fix_a)).status is Status.INFEASIBLE
    assert solve(scenario(document, fix_a, 'constraints."b leads".min=0')).status is Status.OPTIMAL
    assert solve(scenario(document, fix_b, 'constraints."a floor".min=0')).status is Status.OPTIMAL
