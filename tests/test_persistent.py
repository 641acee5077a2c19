"""Programs kept loaded across solves (the frontier's), against fresh whole-program solves.

A frontier moves one row's bound between solves. Each answer of a kept program must be the
one HiGHS gives on the same program loaded afresh: for a MILP (solved from its LP relaxation,
then over the segments in doubt) within its certified gap, and for an LP whose
warm start is abandoned for a cold solve, the same optimum.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from benchmarks.plans import generate
from optimizer import Status
from optimizer.model.campaigns import campaign_grids
from optimizer.model.compile import compile_model
from optimizer.model.rows import formulate
from optimizer.solver import persistent
from optimizer.solver.options import SolveOptions
from optimizer.solver.persistent import Program
from optimizer.solver.programs import solve_program
from optimizer.solver.reduced import fold, lagrangian_bound

PLANS = ((300, 404), pytest.param((100, 606), marks=pytest.mark.slow))
"""Sizes and seeds: a plan of the size ``solve`` takes over its segments in doubt, and a smaller
one; in both some floors leave S-curve campaigns fractional in the relaxation."""


@pytest.fixture(scope="module", params=PLANS, ids=["300-campaigns", "100-campaigns"])
def plan_and_sov_row(request):
    options = SolveOptions()
    size, seed = request.param
    form = formulate(generate(size, seed).scenario, options.tolerance)
    model = compile_model(form, "plan", campaign_grids(form.campaigns, options.tolerance))
    spec = next(i for i, row in enumerate(form.rows) if row.family == "sov")
    row = int(np.flatnonzero(model.row_spec == spec)[0])
    sov = model.matrix.tocsr()[[row], :].toarray().ravel()
    most = solve_program(replace(model.relaxed(), cost=sov, offset=0.0), options, None)
    assert most.status is Status.OPTIMAL
    return model, row, most.objective


def _floors(model, row, most):
    """SOV floors from the plan's own up to 2% short of the most reachable."""
    start = max(model.row_lower[row], 0.0)
    return np.linspace(start, 0.98 * most, 21)


def _with_floor(model, row, floor):
    lower = model.row_lower.copy()
    lower[row] = floor
    return replace(model, row_lower=lower)


def test_a_milp_kept_loaded_matches_a_fresh_solve_within_its_certified_gap(plan_and_sov_row):
    model, row, most = plan_and_sov_row
    assert model.is_mip
    options = SolveOptions()
    floors = _floors(model, row, most)
    relaxations = [solve_program(_with_floor(model, row, f).relaxed(), options, None) for f in floors]
    fractional = [f for f, r in zip(floors, relaxations, strict=True) if model.unsettled(r.x).any()]
    assert fractional  # floors where the relaxation alone does not settle the S-curve campaigns
    program = Program(model, options)
    fresh_at = {}  # a floor visited again is a new warm start for the kept program, the same fresh program
    for floor in fractional + list(floors[::5]):
        program.set_row_bounds(np.array([row]), np.array([floor]), np.array([np.inf]))
        kept = program.solve()
        if floor not in fresh_at:
            fresh_at[floor] = solve_program(program.model, options, None)
        fresh = fresh_at[floor]
        assert kept.status is Status.OPTIMAL and fresh.status is Status.OPTIMAL
        assert kept.row_dual is not None  # answered from the relaxation or over the segments in doubt
        x = kept.x
        activity = program.model.matrix @ x
        size = abs(program.model.matrix) @ np.abs(x) + 1.0
        assert np.all(activity >= program.model.row_lower - 1e-7 * size)
        assert np.all(activity <= program.model.row_upper + 1e-7 * size)
        assert np.all(np.abs(x[model.integer] - np.round(x[model.integer])) <= 1e-9)
        value = float(model.cost @ x + model.offset)
        assert value == pytest.approx(kept.objective, rel=1e-9)
        certified = lagrangian_bound(fold(program.model), kept.row_dual)
        gap = certified - value
        assert gap >= -1e-7 * abs(value)
        assert abs(value - fresh.objective) <= gap + options.mip_gap * abs(fresh.objective) + 1e-7 * abs(value)


def test_an_lp_whose_warm_start_is_abandoned_is_solved_cold_to_the_same_optimum(plan_and_sov_row, monkeypatch):
    model, row, most = plan_and_sov_row
    lp = model.relaxed()
    options = SolveOptions()
    monkeypatch.setattr(persistent, "_WARM_SHARE", 0.0)
    monkeypatch.setattr(persistent, "_SPARE_PIVOTS", 1)  # every warm run is cut short, then solved cold
    loads = []
    load = persistent.load_highs
    monkeypatch.setattr(persistent, "load_highs", lambda *args: loads.append(1) or load(*args))
    program = Program(lp, options)
    for floor in _floors(lp, row, most)[::-5]:
        program.set_row_bounds(np.array([row]), np.array([floor]), np.array([np.inf]))
        kept = program.solve()
        fresh = solve_program(program.model, options, None)
        assert kept.status is Status.OPTIMAL
        assert kept.objective == pytest.approx(fresh.objective, rel=1e-8)
    assert len(loads) > 1  # the program itself, then a fresh instance for each cold solve


@pytest.mark.slow
def test_a_held_optimum_that_whole_binaries_cannot_meet_under_the_relaxations_duals_widens_the_doubt(monkeypatch):
    """On the 1,000-campaign benchmark plan, the most SOV with the leads held at their most: the
    relaxation's duals leave a small MILP that cannot be met, so more segments are freed."""
    from optimizer.model.campaigns import campaign_grids as grids_for
    from optimizer.pareto.axis import axis_for
    from optimizer.pareto.program import FrontierProgram, held
    from optimizer.solver import reduced

    widened = []
    phase_one = reduced._phase_one

    def spy(folded, free, full, solve):
        repair = phase_one(folded, free, full, solve)
        widened.append(repair.free is not None and not (repair.free & ~free).any())
        return repair

    monkeypatch.setattr(reduced, "_phase_one", spy)
    options = SolveOptions()
    scenario = generate(1000).scenario
    form = formulate(scenario, options.tolerance)
    program = FrontierProgram(form, axis_for(form, scenario.objective.secondary), options,
                              grids_for(form.campaigns, options.tolerance))
    best = program.max_primary(None)
    cleaned = program.max_traded(held(best.primary), None)
    assert any(widened) and cleaned.ok and cleaned.run.row_dual is not None
    held_model = program._traded_program().model  # the most-SOV objective has its own program
    fresh = solve_program(held_model, options, None)
    assert fresh.status is Status.OPTIMAL
    certified = lagrangian_bound(fold(held_model), cleaned.run.row_dual)
    assert cleaned.run.objective <= fresh.objective * (1 + 1e-7) + 1e-9
    assert fresh.objective <= certified * (1 + 1e-7)
    # The whole MILP (15 s here) reaches the same value within its own stopping gap.
    assert abs(fresh.objective - cleaned.run.objective) <= options.mip_gap * abs(fresh.objective)


def test_a_kept_programs_time_limit_counts_each_run_from_its_own_start(plan_and_sov_row):
    """HiGHS's clock runs on across an instance's runs: each run's limit is counted from where that
    clock stands, so a limit shorter than the time already used still lets a warm re-solve finish. The
    clock is faked (an hour already used), so nothing here depends on how fast the machine is."""
    model, row, most = plan_and_sov_row
    program = Program(model.relaxed(), SolveOptions())
    assert program.solve().status is Status.OPTIMAL
    hour, limit = 3600.0, 60.0
    highs, given = program._highs, {}
    highs.getRunTime = lambda: hour
    set_option = highs.setOptionValue
    highs.setOptionValue = lambda name, value: (given.__setitem__(name, value), set_option(name, value))[1]
    program.options = SolveOptions(time_limit=limit)
    floor = _floors(model, row, most)[3]
    program.set_row_bounds(np.array([row]), np.array([floor]), np.array([np.inf]))
    again = program.solve()
    assert given["time_limit"] == pytest.approx(hour + limit)
    assert again.status is Status.OPTIMAL
    fresh = solve_program(program.model, SolveOptions(), None)
    assert again.objective == pytest.approx(fresh.objective, rel=1e-9)


def test_a_basis_taken_at_one_floor_and_restored_there_later_needs_no_pivot(plan_and_sov_row):
    """A frontier starts each point from the basis of the point solved nearest it: restored at its own
    floor, that basis is optimal at once, and the answer is the one a fresh solve gives."""
    model, row, most = plan_and_sov_row
    program = Program(model.relaxed(), SolveOptions())
    low, high = _floors(model, row, most)[[2, 18]]
    program.set_row_bounds(np.array([row]), np.array([low]), np.array([np.inf]))
    first = program.solve()
    at_low = program.basis()
    program.set_row_bounds(np.array([row]), np.array([high]), np.array([np.inf]))
    assert program.solve().status is Status.OPTIMAL
    program.set_row_bounds(np.array([row]), np.array([low]), np.array([np.inf]))
    program.restore(at_low)
    again = program.solve()
    assert again.status is Status.OPTIMAL
    assert program._highs.getInfo().simplex_iteration_count == 0
    assert again.objective == pytest.approx(first.objective, rel=1e-12)
    assert again.objective == pytest.approx(solve_program(program.model, SolveOptions(), None).objective, rel=1e-9)
