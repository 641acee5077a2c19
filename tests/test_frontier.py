"""The frontier: feasible, non-dominated points; exact ends; prices that match finite differences.

Random scenarios and their independent references come from ``highres.py``: curves evaluated
from their formulas, constraints re-checked by hand, optima from a fine uniform grid solved by
SciPy's own HiGHS interface.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from highres import random_plan, reference_optimum
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import Scenario, Status, frontier, load_scenario, solve
from optimizer.pareto import Frontier


def traced(seed: int, n: int, points: int = 7, s_share: float = 0.0):
    spec = random_plan(n, seed, s_share=s_share)
    curve = frontier(Scenario.model_validate(spec.scenario()), "sov.search", points=points)
    assert curve.status is Status.OPTIMAL, curve.message
    return spec, curve


def spends(point) -> np.ndarray:
    return np.array(list(point.allocation.values()))


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(4, 12))
def test_points_are_feasible_non_dominated_and_priced_consistently(seed, n):
    spec, curve = traced(seed, n)
    unconstrained = spec.with_sov_floor(0.0)
    traded = [p.traded for p in curve.points]
    primary = [p.primary for p in curve.points]
    assert traded == sorted(traded), "points run from the lead-max end to the SOV-max end"
    for point in curve.points:
        split = spends(point)
        assert unconstrained.violations(split) == [], "every point meets every other constraint"
        assert spec.leads(split) == pytest.approx(point.primary, rel=1e-9)
        assert spec.sov(split) == pytest.approx(point.traded, rel=1e-9)
        assert point.traded >= point.target - 1e-9
    for left, right in zip(curve.points, curve.points[1:], strict=False):
        assert right.primary <= left.primary * (1 + 1e-7), "the primary KPI never rises as SOV rises"
        assert right.traded >= left.traded
    for i, a in enumerate(curve.points):
        for b in curve.points[i + 1:]:
            assert not (b.traded >= a.traded and b.primary > a.primary * (1 + 1e-7)), "no point dominates another"
    assert max(primary) == pytest.approx(primary[0], rel=1e-9)


# Both plans check smooth points and a kink; the larger one (3 s) only runs with the slow checks.
@pytest.mark.parametrize(("seed", "n"), [(11, 8), pytest.param(23, 14, marks=pytest.mark.slow)])
def test_each_point_is_the_best_plan_at_its_level_and_its_price_is_a_finite_difference(seed, n):
    """Primary within 0.1% of an independent optimum at the same floor; price within 2% of d(primary)/d(SOV).

    Where the frontier has a kink (a campaign reaching a bound), the price is a subgradient: it
    must lie between the one-sided finite differences.
    """
    spec, curve = traced(seed, n, points=9)
    interior = [p for p in curve.points[1:-1] if p.primary_lost_per_point > 1e-3 * p.primary]
    assert interior, "the floor binds somewhere"
    step = 0.0002
    for point in interior[:: max(1, len(interior) // 3)]:
        at, below, above = (reference_optimum(spec.with_sov_floor(point.target + offset), segments=2000)[0]
                            for offset in (0.0, -step, step))
        assert point.primary == pytest.approx(at, rel=1e-3)
        left, right = (below - at) / (step * 100), (at - above) / (step * 100)
        if abs(right - left) <= 0.02 * (left + right) / 2:
            assert point.primary_lost_per_point == pytest.approx((left + right) / 2, rel=0.02)
        else:
            assert left * 0.98 <= point.primary_lost_per_point <= right * 1.02


def test_frontier_with_s_curves_matches_the_reference_at_its_points():
    spec, curve = traced(5, 10, points=5, s_share=0.3)
    for point in curve.points:
        reference, _ = reference_optimum(spec.with_sov_floor(point.target), segments=100, s_segments=40)
        assert point.primary == pytest.approx(reference, rel=1e-3)


def test_the_ends_match_separate_solves():
    scenario = load_scenario("scenarios/b2b_saas.toml")
    curve = frontier(scenario, points=5)
    without_floor = scenario.replace(constraints=tuple(c for c in scenario.constraints if c.kpi != "sov.search"))
    lead_max = solve(without_floor)
    assert curve.points[0].primary == pytest.approx(lead_max.objective_value, rel=1e-4)
    sov_max = solve(without_floor.replace(objective={"maximize": "sov.search"}))
    assert curve.points[-1].traded == pytest.approx(sov_max.objective_value, rel=1e-4)
    assert curve.points[-1].traded == pytest.approx(max(p.traded for p in curve.points), rel=1e-12)


@pytest.mark.parametrize("seed", [5, 7])
def test_the_lead_max_end_has_the_most_leads_and_is_priced_by_the_first_step_of_sov_past_it(seed):
    """Checked on a fine grid: no plan has more leads; its price is the one-sided finite difference to its right."""
    spec, curve = traced(seed, 10)
    low = curve.points[0]
    most, _ = reference_optimum(spec.with_sov_floor(0.0), segments=2000)
    assert low.primary == pytest.approx(most, rel=1e-4)
    step = 0.0005
    at, beyond = (reference_optimum(spec.with_sov_floor(low.traded + offset), segments=2000)[0] for offset in (0, step))
    assert low.primary_lost_per_point == pytest.approx((at - beyond) / (step * 100), rel=0.05)


def test_the_recommended_point_sits_at_the_scenarios_own_floor_and_the_current_split_is_placed():
    scenario = load_scenario("scenarios/b2b_saas.toml")
    curve = frontier(scenario, points=7)
    floor = next(c.min for c in scenario.constraints if c.kpi == "sov.search")
    recommended = curve.points[curve.recommended]
    assert recommended.traded >= floor - 1e-9
    assert recommended.primary == pytest.approx(solve(scenario).objective_value, rel=1e-4)
    today = solve(scenario.replace(constraints=()), refine=0)
    assert curve.current.primary == pytest.approx(today.current_kpis["leads"], rel=1e-12)
    assert curve.current.traded == pytest.approx(today.current_sov["search"], rel=1e-12)
    assert curve.current.primary_gain > 0 and curve.current.traded_gain > 0


def test_todays_split_outside_the_frontiers_span_is_placed_by_the_ends_that_already_beat_it():
    spec, curve = traced(11, 8, points=7)
    today, lead_max, far = curve.current, curve.points[0], curve.points[-1]
    assert today.traded < lead_max.traded and today.primary < far.primary  # below both ends' levels
    most_at_today, _ = reference_optimum(spec.with_sov_floor(today.traded), segments=2000)
    most, _ = reference_optimum(spec.with_sov_floor(0.0), segments=2000)
    assert most_at_today == pytest.approx(most, rel=1e-9)  # today's SOV floor does not bind
    assert today.primary + today.primary_gain == pytest.approx(most, rel=1e-4)
    assert today.traded + today.traded_gain == pytest.approx(far.traded, rel=1e-9)


def test_fixed_leads_view_is_the_least_spend_for_the_lead_max_level():
    """Extra budget to keep the lead-max leads at more SOV: zero at the lead-max end, then growing.

    Where no budget can keep those leads (the campaigns' maxima), the view is undefined (NaN).
    """
    spec, curve = traced(11, 8, points=7)
    extra = [p.extra_budget for p in curve.points if np.isfinite(p.extra_budget)]
    assert len(extra) >= 3
    assert extra[0] == pytest.approx(0.0, abs=1e-6 * spec.budget)
    assert all(b >= a - 1e-6 * spec.budget for a, b in zip(extra, extra[1:], strict=False))
    for point in curve.points:
        if not np.isfinite(point.extra_budget):
            assert not np.isfinite(point.budget_per_point)


def test_the_lead_max_ends_price_in_dollars_is_its_price_in_leads_over_the_budgets():
    """At the lead-max end, with the budget binding, the extra budget per SOV point at constant leads
    is the leads lost per point (checked against finite differences elsewhere) over the leads a
    dollar more buys there (a finite difference of a 2,000-segment reference)."""
    spec, curve = traced(11, 8, points=7)
    low = curve.points[0]
    assert low.spend == pytest.approx(spec.budget, rel=1e-9)  # the budget binds there
    assert low.primary_lost_per_point > 0  # its price is that of the first step past it
    extra = 1e-3 * spec.budget
    at, _ = reference_optimum(spec.with_sov_floor(low.traded), segments=2000)
    richer, _ = reference_optimum(replace(spec.with_sov_floor(low.traded), budget=spec.budget + extra), segments=2000)
    leads_per_dollar = (richer - at) / extra
    assert low.budget_per_point == pytest.approx(low.primary_lost_per_point / leads_per_dollar, rel=0.01)


def test_the_fixed_leads_view_is_undefined_exactly_where_no_budget_keeps_the_lead_max_level(monkeypatch):
    """A point without a least spend is one where even an unlimited budget cannot reach the lead-max
    leads at its SOV (checked on a fine grid); the shortcut that answers those without a solve gives
    the same view as solving each one."""
    from optimizer.model.campaigns import campaign_grids
    from optimizer.model.rows import formulate
    from optimizer.pareto.axis import axis_for
    from optimizer.pareto.program import FrontierProgram, held
    from optimizer.solver.options import SolveOptions

    spec, curve = traced(11, 8, points=7)
    lead_max = curve.points[0].primary
    undefined = [not np.isfinite(p.extra_budget) for p in curve.points]
    assert any(undefined) and not all(undefined)
    for point, missing in zip(curve.points, undefined, strict=True):
        unlimited = replace(spec.with_sov_floor(point.traded), budget=spec.budget * 1e3)
        reachable, _ = reference_optimum(unlimited, segments=400)
        if missing:
            assert reachable < lead_max * (1 + 1e-6)
        else:
            assert reachable >= lead_max * (1 - 1e-3)
    # The reach is where solving starts to fail: a hair inside it a least spend is found, a hair past it none.
    scenario = Scenario.model_validate(spec.scenario())
    options = SolveOptions()
    form = formulate(scenario, options.tolerance)
    program = FrontierProgram(form, axis_for(form, "sov.search"), options, campaign_grids(form.campaigns,
                                                                                           options.tolerance))
    best = program.max_primary(None)
    reach = program._spend_reach(held(best.primary))
    monkeypatch.setattr(FrontierProgram, "_spend_reach", lambda self, primary_floor, hint=None: np.inf)
    assert program.min_spend(held(best.primary), reach * (1 - 1e-6), best).ok
    assert not program.min_spend(held(best.primary), reach * (1 + 1e-4), best).ok
    _, solved_each = traced(11, 8, points=7)
    np.testing.assert_allclose([p.extra_budget for p in solved_each.points], [p.extra_budget for p in curve.points],
                               rtol=1e-6, atol=1e-6 * spec.budget)


def test_the_knee_is_where_the_price_per_point_accelerates():
    _, curve = traced(11, 8, points=11)
    prices = [p.primary_lost_per_point for p in curve.points]
    assert curve.knee is not None and 0 < curve.knee < len(prices) - 1
    assert prices[curve.knee + 1] >= prices[curve.knee - 1]


def test_json_round_trip_keeps_every_point():
    _, curve = traced(11, 8, points=5)
    again = Frontier.from_dict(curve.to_dict())
    assert again.to_dict() == curve.to_dict()
    record = curve.to_dict()["points"][0]
    for key in ("sov.search", "leads", "spend", "clicks", "cpl", "cpc", "pool_cpc", "pool_marginal_cpc",
                "primary_lost_per_point", "budget_per_point", "allocation"):
        assert key in record
    assert curve.to_dict()["knee"] == curve.knee


def test_a_budget_sweep_buys_more_share_of_voice_without_losing_leads():
    scenario = load_scenario("scenarios/b2b_saas.toml")
    from optimizer import frontier_sweep

    small, large = frontier_sweep(scenario, [230_000, 270_000], points=5)
    assert large.points[0].primary > small.points[0].primary
    assert large.points[-1].traded >= small.points[-1].traded - 1e-9


@pytest.mark.slow  # 7 s
def test_a_points_certificate_priced_by_its_own_duals_bounds_the_outer_program_without_solving_it():
    """On a large MILP plan, a point's duals price the outer program campaign by campaign: that bound
    is never below the outer program's own optimum (solved whole here), and when it is taken no
    outer solve is run."""
    from benchmarks.plans import generate
    from optimizer.model.campaigns import campaign_grids
    from optimizer.model.rows import formulate
    from optimizer.pareto.axis import axis_for
    from optimizer.pareto.program import FrontierProgram, held
    from optimizer.solver.options import SolveOptions
    from optimizer.solver.programs import REDUCED_FROM, solve_program

    options = SolveOptions()
    form = formulate(generate(REDUCED_FROM + 100, 404).scenario, options.tolerance)
    # Breakpoints as fine as the sweep's own refined ones, where plan and outer programs are close.
    program = FrontierProgram(form, axis_for(form, "sov.search"), options,
                              campaign_grids(form.campaigns, options.tolerance / 50))
    low, high = program.max_primary(None), program.max_traded(None)
    assert program.is_mip and low.ok and high.ok
    taken = 0
    for share in (0.0, 0.3, 0.6, 0.9):
        solution = program.max_primary(low.traded + share * (high.traded - low.traded))
        floor = held(solution.traded)
        runs = program.bound.runs
        bound = program.outer_bound(floor, solution)
        outer = program.bound.model  # its floor now set
        whole = solve_program(outer, options, None)
        assert whole.status is Status.OPTIMAL
        assert bound >= whole.objective * (1 - 1e-9)
        if program.bound.runs == runs:
            taken += 1
            assert bound <= solution.primary * (1 + 1e-4)
    assert taken


def test_a_large_plans_ends_solved_from_duals_alone_are_the_whole_programs_optima_and_hold_every_row():
    """The most traded plan, the far end and a least spend, each solved over the segments in doubt
    under duals minimised from none at all, off the kept programs (none of them runs), against
    HiGHS on the same whole program; and the most traded plan at a point's leads, whose duals
    that point's own give (its Lagrangian bound under them is within a hair of the optimum)."""
    from benchmarks.plans import generate
    from optimizer.model.campaigns import campaign_grids
    from optimizer.model.rows import formulate
    from optimizer.pareto.axis import axis_for
    from optimizer.pareto.program import FrontierProgram, held
    from optimizer.solver.options import SolveOptions
    from optimizer.solver.programs import REDUCED_FROM, solve_program
    from optimizer.solver.reduced import fold, lagrangian_bound

    options = SolveOptions()
    form = formulate(generate(REDUCED_FROM + 100, 505).scenario, options.tolerance)
    program = FrontierProgram(form, axis_for(form, "sov.search"), options,
                              campaign_grids(form.campaigns, options.tolerance))
    most = program.max_traded(None, hint=program.no_duals())
    most_model = program._traded_program().model
    far = program.max_primary(held(most.traded), hint=program.no_duals())
    far_model = program.plan.model
    lead = program.max_primary(None)  # in the kept program, as the point below, for its duals
    point = program.max_primary(0.5 * (lead.traded + most.traded))
    least = program.min_spend(point.primary * 0.99, point.traded, point)
    least_model = program.spend.model  # its floors and the point's S-curve mix now set
    assert program._most_traded.runs == 0 and program.spend.runs == 0 and program.plan.runs == 2
    for fast, model in ((most, most_model), (far, far_model), (least, least_model)):
        whole = solve_program(model, options, None)
        assert fast.ok and whole.status is Status.OPTIMAL
        assert fast.run.objective == pytest.approx(whole.objective, rel=options.mip_gap + 1e-7)
        activity = model.matrix @ fast.run.x
        size = abs(model.matrix) @ np.abs(fast.run.x) + 1.0
        assert np.all(activity >= model.row_lower - 1e-7 * size) and np.all(activity <= model.row_upper + 1e-7 * size)
    at_its_leads = program.max_traded(point.primary)
    traded_program = program._traded_program().model  # its primary floor now at the point's leads
    bound = lagrangian_bound(fold(traded_program), program.traded_duals(point))
    assert at_its_leads.run.objective * (1 - 1e-9) <= bound <= at_its_leads.run.objective * (1 + 1e-4)


def test_a_span_is_not_split_below_an_s_curves_convex_stretch():
    """Each segment of a convex stretch needs an ordering binary: splitting them made MILPs slow."""
    from optimizer.model.refine import refine_span

    grid = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    split, kept = refine_span((grid, grid), np.zeros(2), np.full(2, 4.0), parts=2,
                              coarse_below=np.array([2.0, -np.inf]))
    np.testing.assert_allclose(split, [0, 1, 2, 2.5, 3, 3.5, 4])
    np.testing.assert_allclose(kept, [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4])


def test_an_s_curves_convex_stretch_ends_at_its_inflection():
    from optimizer.model.rows import formulate
    from optimizer.pareto.sweep import _convex_stretch_end
    from optimizer.scenario.schema import Scenario

    half, shape = 20_000.0, 2.5
    scenario = Scenario.model_validate({"name": "s", "budget": {"total": 90_000}, "objective": {"maximize": "leads"},
                                        "campaigns": [
        {"name": "S", "channel": "video", "stage": "awareness", "spend": {"max": 80_000},
         "leads": {"curve": "hill", "max": 900, "half": half, "shape": shape}},
        {"name": "C", "channel": "search", "stage": "conversion", "spend": {"max": 80_000},
         "leads": {"curve": "exponential", "max": 900, "scale": 20_000}}]})
    ends = _convex_stretch_end(formulate(scenario))
    assert ends[0] == pytest.approx(half * ((shape - 1) / (shape + 1)) ** (1 / shape), rel=1e-9)
    assert ends[1] == -np.inf


def test_a_tables_convex_stretch_ends_where_its_hull_meets_it_again():
    """Against a brute force: a point is on the concave hull when no chord over it passes above it; the
    stretch ends at the hull point that follows the last point under the hull."""
    from optimizer.curves.families import Tabular

    rng = np.random.default_rng(7)
    for _ in range(200):
        xs = np.concatenate(([0.0], np.cumsum(rng.uniform(1, 10, 6))))
        ys = np.concatenate(([0.0], np.cumsum(rng.uniform(0, 10, 6))))
        under = [k for k in range(1, len(xs) - 1) if any(
            ys[i] + (ys[j] - ys[i]) * (xs[k] - xs[i]) / (xs[j] - xs[i]) > ys[k] + 1e-9
            for i in range(k) for j in range(k + 1, len(xs)))]
        on_hull = [k for k in range(len(xs)) if k not in under]
        expected = float(xs[next(k for k in on_hull if k > under[-1])]) if under else None
        end = Tabular(tuple(xs), tuple(ys)).convex_stretch_end(0.0, float(xs[-1]))
        assert end == (pytest.approx(expected) if expected is not None else None)
