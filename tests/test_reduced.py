"""The reduced solve (segments in doubt only) against the whole program, on plans never seen before.

Each plan is a seeded benchmark plan (every curve family, S-curves, budget, share floors, a CPL
cap, an SOV floor) drawn with a seed the tool was never tuned on. The references are HiGHS on
the whole program and weak duality computed here; the reduced answer must reach the whole
program's optimum (within the certified gap where S-curves make it a MILP), hold every row,
and its duals must certify it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from benchmarks.plans import generate
from optimizer import Status, load_scenario, solve
from optimizer.model.campaigns import campaign_grids
from optimizer.model.compile import CompiledModel, compile_model
from optimizer.model.rows import formulate
from optimizer.solver import programs
from optimizer.solver.certificate import dual_bound
from optimizer.solver.dual import tightest_bound
from optimizer.solver.options import SolveOptions
from optimizer.solver.programs import solve_program
from optimizer.solver.reduced import fold, from_relaxation, lagrangian_bound, refold, solve_reduced

SEEDS = (101, 202, 303)
SIZE = 300
ROW_SLACK = 1e-7


def _programs(seed: int):
    plan = generate(SIZE, seed)
    options = SolveOptions()
    form = formulate(plan.scenario, options.tolerance)
    grids = campaign_grids(form.campaigns, options.tolerance)
    coarse = compile_model(form, "plan", campaign_grids(form.campaigns, options.tolerance * 20)).relaxed()
    coarse_run = solve_program(coarse, options, form)
    assert coarse_run.status is Status.OPTIMAL
    solver = lambda model: solve_program(model, options, form)  # noqa: E731
    return form, compile_model(form, "plan", grids), compile_model(form, "bound", grids), coarse_run.row_dual, solver


@pytest.fixture(scope="module", params=SEEDS)
def seeded(request):
    return _programs(request.param)


def _assert_holds(model: CompiledModel, x: np.ndarray) -> None:
    """Every row and column bound of ``model`` holds at ``x`` (relative to the row's size)."""
    activity = model.matrix @ x
    size = abs(model.matrix) @ np.abs(x) + 1.0
    assert np.all(activity >= model.row_lower - ROW_SLACK * size)
    assert np.all(activity <= model.row_upper + ROW_SLACK * size)
    width = np.maximum(model.col_upper - model.col_lower, 1.0)
    assert np.all(x >= model.col_lower - ROW_SLACK * width)
    assert np.all(x <= model.col_upper + ROW_SLACK * width)
    fixed = model.integer
    assert np.all(np.abs(x[fixed] - np.round(x[fixed])) <= 1e-9)


def test_an_lp_reaches_the_whole_programs_optimum_and_its_duals_prove_it(seeded):
    form, plan, _, coarse_duals, solver = seeded
    lp = plan.relaxed()
    whole = solver(lp)
    reduced = solve_reduced(fold(lp), coarse_duals, solver)
    assert reduced is not None and reduced.status is Status.OPTIMAL
    assert reduced.objective == pytest.approx(whole.objective, rel=1e-7)
    _assert_holds(lp, reduced.x)
    assert dual_bound(lp, reduced.row_dual) == pytest.approx(reduced.objective, rel=1e-7)
    assert reduced.x.size == lp.shape[1] and reduced.row_dual.size == lp.shape[0]  # the whole program's answer


def test_a_milp_answer_is_feasible_and_within_its_certified_gap_of_the_whole_milp(seeded):
    form, plan, bound, coarse_duals, solver = seeded
    assert plan.is_mip  # the benchmark plans have S-curves
    whole = solver(plan)
    assert whole.status is Status.OPTIMAL
    reduced = solve_reduced(fold(plan), coarse_duals, solver)
    assert reduced is not None and reduced.status is Status.OPTIMAL
    _assert_holds(plan, reduced.x)
    assert float(plan.cost @ reduced.x + plan.offset) == pytest.approx(reduced.objective, rel=1e-9)
    certified = lagrangian_bound(fold(plan), reduced.row_dual)
    gap = certified - reduced.objective
    assert gap >= -1e-7 * abs(reduced.objective)
    assert abs(reduced.objective - whole.objective) <= gap + 1e-7 * abs(whole.objective)
    # Its duals are optimal for its own mix of S-curve campaigns (binaries fixed).
    fixed = plan.with_binaries_fixed(reduced.x)
    assert dual_bound(fixed, reduced.row_dual) == pytest.approx(reduced.objective, rel=1e-7)


def test_a_milp_answer_rounded_from_its_relaxation_is_taken_only_within_the_gap_asked():
    form, plan, _, _, solver = _programs(303)  # a plan whose relaxation leaves binaries fractional
    relaxed = solver(plan.relaxed())
    assert plan.unsettled(relaxed.x).any()
    whole = solver(plan)
    assert whole.status is Status.OPTIMAL and whole.bound is not None
    # Rounding loses at least what it loses with every segment free, here:
    loss = 1 - solver(plan.with_binaries_fixed(relaxed.x)).objective / relaxed.objective
    assert loss > 0
    for gap, branched in ((1e-3, False), (loss / 2, True)):
        milps = []

        def counting(model: CompiledModel, milps=milps) -> programs.SolverRun:
            milps.append(model.is_mip)
            return solver(model)

        run = from_relaxation(plan, relaxed, counting, gap=gap)
        assert run is not None and run.status is Status.OPTIMAL
        _assert_holds(plan, run.x)
        assert any(milps) is branched  # a generous gap takes the rounding; a tiny one branches
        if not branched:  # the whole MILP's own bound is above its optimum: the rounding is within the gap of it
            assert run.objective >= whole.bound * (1 - gap)


@pytest.mark.parametrize("purpose", ["plan", "bound"])
def test_the_lagrangian_bound_holds_for_any_duals_and_is_tight_at_the_optimal_ones(seeded, purpose):
    form, plan, bound, coarse_duals, solver = seeded
    model = plan if purpose == "plan" else bound
    milp_optimum = solver(model).objective
    folded = fold(model)
    rng = np.random.default_rng(7)
    coupling = folded.coupling
    for _ in range(20):
        duals = np.zeros(model.shape[0])
        duals[:coupling] = coarse_duals[:coupling] * rng.uniform(0, 3, coupling) + rng.normal(0, 1e-3, coupling)
        assert lagrangian_bound(folded, duals) >= milp_optimum - 1e-9 * abs(milp_optimum)
    relaxed = solver(model.relaxed())
    assert lagrangian_bound(folded, relaxed.row_dual) <= relaxed.objective * (1 + 1e-9)


def test_a_minimised_program_is_solved_over_its_segments_in_doubt_as_its_maximised_twin_is(seeded):
    """The same LP with its objective negated and minimised: the same optimum, reached over small
    programs (segments are fixed full or empty by their reduced costs in the program's own sense)."""
    form, plan, _, coarse_duals, solver = seeded
    lp = plan.relaxed()
    whole = solver(lp)
    twin = replace(lp, sense="minimize", cost=-lp.cost, offset=-lp.offset)
    sizes = []

    def measuring(model: CompiledModel) -> programs.SolverRun:
        sizes.append(model.shape[1])
        return solver(model)

    reduced = solve_reduced(fold(twin), -coarse_duals, measuring)
    assert reduced is not None and reduced.status is Status.OPTIMAL
    assert reduced.objective == pytest.approx(-whole.objective, rel=1e-7)
    _assert_holds(twin, reduced.x)
    assert max(sizes) < 0.5 * twin.shape[1]


def test_segments_fixed_on_the_wrong_side_are_found_by_pricing_and_freed(seeded):
    form, plan, _, coarse_duals, solver = seeded
    lp = plan.relaxed()
    whole = solver(lp)
    rng = np.random.default_rng(5)
    for _ in range(3):
        duals = coarse_duals * rng.uniform(0.97, 1.03, coarse_duals.size)
        reduced = solve_reduced(fold(lp), duals, solver)
        assert reduced is not None
        assert reduced.objective == pytest.approx(whole.objective, rel=1e-7)
        _assert_holds(lp, reduced.x)


def test_poor_duals_give_the_optimum_or_nothing_never_a_wrong_answer(seeded):
    form, plan, _, coarse_duals, solver = seeded
    lp = plan.relaxed()
    whole = solver(lp)
    for duals in (np.zeros(lp.shape[0]), 10 * coarse_duals):
        reduced = solve_reduced(fold(lp), duals, solver)
        if reduced is not None:
            assert reduced.objective == pytest.approx(whole.objective, rel=1e-7)
            _assert_holds(lp, reduced.x)


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_solve_on_the_reduced_path_matches_the_whole_path(monkeypatch, seed):
    scenario = generate(SIZE, seed).scenario
    monkeypatch.setattr(programs, "REDUCED_FROM", 10**9)
    whole = solve(scenario)
    monkeypatch.setattr(programs, "REDUCED_FROM", 0)
    fast = solve(scenario)
    for plan in (whole, fast):
        assert plan.status is Status.OPTIMAL
        assert all(check.ok for check in plan.checks)
        assert plan.gap is not None and plan.gap <= 1e-3
    allowed = max(whole.gap, fast.gap) * abs(whole.objective_value) + 1e-9 * abs(whole.objective_value)
    assert abs(fast.objective_value - whole.objective_value) <= allowed


def test_example_scenarios_solve_the_same_on_the_reduced_path(monkeypatch):
    for path in sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.toml")):
        scenario = load_scenario(path)
        monkeypatch.setattr(programs, "REDUCED_FROM", 10**9)
        whole = solve(scenario, time_limit=60)
        monkeypatch.setattr(programs, "REDUCED_FROM", 0)
        fast = solve(scenario, time_limit=60)
        assert fast.status is whole.status, path.name
        if whole.objective_value is None:
            continue
        assert all(check.ok for check in fast.checks), path.name
        allowed = (max(whole.gap or 0.0, fast.gap or 0.0) + 1e-9) * abs(whole.objective_value)
        assert abs(fast.objective_value - whole.objective_value) <= allowed, path.name


def test_a_changed_spend_bound_is_solved_whole(seeded):
    form, plan, _, coarse_duals, solver = seeded
    lower = plan.col_lower.copy()
    lower[0] += 0.5 * (plan.col_upper[0] - plan.col_lower[0])
    assert fold(replace(plan, col_lower=lower)) is None


def _row_of(form, model: CompiledModel, family: str) -> int:
    spec = next(i for i, row in enumerate(form.rows) if row.family == family)
    return int(np.flatnonzero(model.row_spec == spec)[0])


def test_a_floor_out_of_reach_is_proven_infeasible_by_pricing_every_segment(seeded):
    form, plan, _, coarse_duals, solver = seeded
    lp = plan.relaxed()
    row = _row_of(form, lp, "sov")
    # The most SOV the other rows allow, found on the whole program; 1% past it cannot be met.
    cost = lp.matrix.tocsr()[[row], :].toarray().ravel()
    most = solver(replace(lp, cost=cost, offset=0.0))
    assert most.status is Status.OPTIMAL
    lower = lp.row_lower.copy()
    lower[row] = most.objective + 0.01 * abs(most.objective)
    beyond = replace(lp, row_lower=lower)
    assert solver(beyond).status is Status.INFEASIBLE
    reduced = solve_reduced(fold(beyond), coarse_duals, solver)
    assert reduced is not None and reduced.status is Status.INFEASIBLE
    # Just inside the reach, the same duals lead to the optimum, not to a false proof.
    lower[row] = most.objective - 0.01 * abs(most.objective)
    within = replace(lp, row_lower=lower)
    reduced = solve_reduced(fold(within), coarse_duals, solver)
    assert reduced is not None and reduced.status is Status.OPTIMAL
    assert reduced.objective == pytest.approx(solver(within).objective, rel=1e-7)
    _assert_holds(within, reduced.x)


@pytest.mark.parametrize("purpose", ["plan", "bound"])
def test_the_lagrangian_dual_minimised_from_near_or_far_duals_is_the_relaxations_optimum(seeded, purpose):
    """Filling each S-curve campaign's segments in order spans the same hull as its relaxed ordering
    rows, so the least Lagrangian bound is the LP relaxation's optimum (HiGHS on the whole program),
    found from the coarse program's duals, from 20 times them, and from no duals at all."""
    form, plan, bound, coarse_duals, solver = seeded
    model = plan if purpose == "plan" else bound
    relaxed = solver(model.relaxed()).objective
    folded = fold(model)
    for start in (coarse_duals, 20 * coarse_duals, np.zeros_like(coarse_duals)):
        tightest = tightest_bound(folded, start)
        assert tightest.converged
        assert relaxed * (1 - 1e-9) <= tightest.value <= relaxed * (1 + 2e-6)
        assert lagrangian_bound(folded, tightest.duals) == tightest.value
    # Measured from a plan 1% below, it may stop once the gap is known to 1%, and no sooner.
    plan_value = relaxed * 0.99
    early = tightest_bound(folded, 20 * coarse_duals, against=plan_value)
    assert early.converged
    assert relaxed * (1 - 1e-9) <= early.value <= relaxed + 0.01 * (relaxed - plan_value) * (1 + 1e-6)


def test_a_minimised_programs_lagrangian_dual_is_maximised_to_its_optimum(seeded):
    form, plan, _, coarse_duals, solver = seeded
    lp = plan.relaxed()
    twin = replace(lp, sense="minimize", cost=-lp.cost, offset=-lp.offset)
    least = solver(twin).objective
    tightest = tightest_bound(fold(twin), -coarse_duals)
    assert tightest.converged
    assert least * (1 + 2e-6) <= tightest.value <= least * (1 - 1e-9)  # both negative: a lower bound, close


def test_a_small_milps_certificate_is_its_own_optimum_not_its_relaxations():
    """Below the size whose plans are solved over segments in doubt, a MILP's few S-curve campaigns
    can leave its optimum well below its relaxation: the outer program is solved whole, by the
    plan's certificate and by a frontier's (HiGHS on the whole MILP is the reference)."""
    from optimizer.pareto.axis import axis_for
    from optimizer.pareto.program import FrontierProgram, held

    options = SolveOptions()
    form = formulate(generate(60, 1).scenario, options.tolerance)
    grids = campaign_grids(form.campaigns, options.tolerance)
    outer = compile_model(form, "bound", grids)
    milp, relaxed = solve_program(outer, options, None), solve_program(outer.relaxed(), options, None)
    assert outer.is_mip and milp.bound < relaxed.objective * (1 - 1e-4)  # a relaxation well above
    assert programs.outer_bound(form, options, grids).value == pytest.approx(milp.bound, rel=1e-9)
    # A plan its relaxation already certifies closely takes that bound; one it does not, the MILP's.
    for plan_value, expected in ((relaxed.objective * (1 - 1e-5), relaxed.objective), (milp.bound, milp.bound)):
        run = programs.SolverRun(Status.OPTIMAL, "", "highs", 0.0, objective=plan_value)
        plan = programs.Attempt(outer, run, grids, 0.0)
        assert programs.outer_bound(form, options, grids, plan).value == pytest.approx(expected, rel=1e-7)
    program = FrontierProgram(form, axis_for(form, "sov.search"), options, grids)
    lead_max = program.max_primary(None)
    bound = program.outer_bound(held(lead_max.traded), lead_max)  # its duals at hand, but not minimised
    frontier_outer = program.bound.model  # the frontier's own rows, its floor now set
    frontier_milp = solve_program(frontier_outer, options, None)
    assert frontier_milp.bound < solve_program(frontier_outer.relaxed(), options, None).objective * (1 - 1e-4)
    assert bound == pytest.approx(frontier_milp.bound, rel=1e-9)


def test_a_fold_kept_across_new_row_bounds_and_objectives_is_the_fold_made_afresh(seeded):
    form, plan, _, _, _ = seeded
    rng = np.random.default_rng(11)
    previous = fold(plan)
    for _ in range(3):
        row_lower = plan.row_lower.copy()
        coupling = previous.coupling
        row_lower[:coupling] = np.where(np.isfinite(row_lower[:coupling]),
                                        row_lower[:coupling] * rng.uniform(0.9, 1.1, coupling), row_lower[:coupling])
        changed = replace(plan, row_lower=row_lower, cost=plan.cost * rng.uniform(0.5, 2.0, plan.cost.size),
                          offset=plan.offset + 1.0)
        kept, fresh = refold(previous, changed), fold(changed)
        assert kept.terms is previous.terms  # the coupling terms were not rebuilt
        for name in ("cost", "row_lower", "row_upper", "whole", "owner"):
            np.testing.assert_allclose(getattr(kept, name), getattr(fresh, name), rtol=1e-12)
        assert kept.constant == pytest.approx(fresh.constant, rel=1e-12)
        assert (kept.terms != fresh.terms).nnz == 0
        previous = kept
    moved = replace(plan, col_lower=plan.col_lower + 0.0)  # the same bounds in a new array: still kept
    assert refold(previous, moved).terms is previous.terms
    fixed = plan.with_binaries_fixed(np.ones(plan.shape[1]))  # other column bounds: folded afresh
    assert refold(previous, fixed).terms is not previous.terms
