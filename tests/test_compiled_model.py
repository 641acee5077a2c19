"""The compiled programs against the exact curves: what ``compile_model`` promises, checked from outside.

The plan program is an inner approximation: wherever its segments are filled in order, each row
sees a value on the hard side of the exact one (a plan it accepts holds on the exact curves), and
its objective is the chord through the exact values at the breakpoints. The bound program is the
outer approximation: every row and the objective on the generous side. Campaigns without ordering
binaries must have coefficients that every use values less as spend rises (so the LP fills their
segments in order by itself). Each expectation is the exact expression evaluated on the curves
(``Expr.value``), never numbers from the compiler.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import Scenario
from optimizer.glossary import OUTCOMES
from optimizer.model.campaigns import campaign_grids
from optimizer.model.compile import CompiledModel, compile_model
from optimizer.model.formulation import Formulation
from optimizer.model.rows import formulate
from optimizer.model.scaling import geometric_magnitude, scale

SETTINGS = settings(max_examples=30, deadline=None)


@st.composite
def impressions_curves(draw, top_spend: float):
    """A curve for impressions, scaled to a campaign whose spend goes up to ``top_spend``."""
    kind = draw(st.sampled_from(["exponential", "hill", "s-curve", "power", "log", "tabular"]))
    reach = draw(st.floats(1e3, 1e7))
    scale = top_spend * draw(st.floats(0.1, 2.0))
    if kind == "exponential":
        return {"curve": "exponential", "max": reach, "scale": scale}
    if kind in ("hill", "s-curve"):
        shape = draw(st.floats(0.4, 1.0) if kind == "hill" else st.floats(1.5, 3.0))
        return {"curve": "hill", "max": reach, "half": scale, "shape": shape}
    if kind == "power":
        exponent = draw(st.floats(0.3, 0.95))
        return {"curve": "power", "coef": reach / top_spend**exponent, "exponent": exponent}
    if kind == "log":
        return {"curve": "log", "coef": reach, "scale": scale}
    spends = top_spend * np.linspace(0.2, 1.0, 5)
    values = reach * (1 - np.exp(-spends / scale))
    return {"curve": "tabular", "points": [[float(s), float(v)] for s, v in zip(spends, values, strict=True)]}


@st.composite
def campaigns(draw, index: int):
    top = draw(st.floats(1e3, 1e5))
    low = draw(st.sampled_from([0.0, 0.0, 0.1, 0.4])) * top
    campaign = {"name": f"c{index}", "channel": "search" if index % 2 else "social",
                "stage": draw(st.sampled_from(["awareness", "consideration", "conversion"])),
                "pools": ["search"] if index % 2 else [],
                "spend": {"current": (low + top) / 2, "min": low, "max": top}}
    if draw(st.integers(0, 5)) == 0:
        campaign["leads"] = {"curve": "linear", "unit_cost": draw(st.floats(20.0, 200.0))}
        return campaign
    campaign["impressions"] = draw(impressions_curves(top))
    campaign["clicks"] = {"rate": draw(st.floats(0.005, 0.1)), "of": "impressions"}
    if draw(st.booleans()):  # leads on a curve of their own: a campaign with two curves
        campaign["leads"] = {"curve": "exponential", "max": draw(st.floats(10.0, 1e4)), "scale": top / 2}
    else:
        campaign["leads"] = {"rate": draw(st.floats(0.01, 0.2)), "of": "clicks"}
    return campaign


@st.composite
def formulations(draw) -> Formulation:
    """A small scenario: caps, floors and ratios that weigh outcomes with either sign."""
    chosen = [draw(campaigns(i)) for i in range(draw(st.integers(1, 5)))]
    constraints = draw(st.lists(st.sampled_from([
        {"kpi": "cpl", "max": 80.0},
        {"kpi": "ctr", "min": 0.03},
        {"kpi": "ctr", "max": 0.05},
        {"kpi": "impressions", "min": 1e5},
        {"kpi": "sov.search", "min": 0.2},
        {"kpi": "cpm", "max": 10.0},
        {"kpi": "share", "where": {"stage": "awareness"}, "min": 0.1},
    ]), max_size=4, unique_by=lambda c: (c["kpi"], tuple(c)))) if chosen else []
    objective = draw(st.sampled_from([{"maximize": "leads"}, {"maximize": "impressions"},
                                      {"minimize": "spend"}, {"maximize": "clicks"}]))
    total = sum(c["spend"]["max"] for c in chosen) * draw(st.floats(0.3, 1.2))
    scenario = Scenario.model_validate({
        "name": "random", "objective": objective, "budget": {"total": total},
        "pools": {"search": {"competitor_impressions": 1e6}}, "campaigns": chosen, "constraints": constraints,
    })
    return formulate(scenario, draw(st.sampled_from([1e-2, 1e-3])))


def _spends(form: Formulation, model: CompiledModel, rng: np.random.Generator) -> list[np.ndarray]:
    """Spend splits to test at: the ends of every range, random points, and random breakpoints."""
    lo = np.array([c.lo for c in form.campaigns])
    hi = np.array([c.hi for c in form.campaigns])
    splits = [lo, hi, *(lo + rng.random(lo.size) * (hi - lo) for _ in range(6))]
    splits += [np.array([rng.choice(grid) for grid in model.grids]) for _ in range(6)]
    return splits


def _columns(form: Formulation, model: CompiledModel, spend: np.ndarray) -> np.ndarray:
    """The program's columns for ``spend`` with every campaign's segments filled in order (binaries 0)."""
    x = np.zeros(model.shape[1])
    x[: form.size] = spend
    for i, grid in enumerate(model.grids):
        columns = form.size + np.arange(model.segment_start[i], model.segment_start[i + 1])
        x[columns] = np.clip(spend[i] - grid[:-1], 0.0, np.diff(grid))
    return x


def _exact(form: Formulation, expr, spend: np.ndarray) -> float:
    outcomes = {name: np.array([float(c.outcome(name, s)) for c, s in zip(form.campaigns, spend, strict=True)])
                for name in OUTCOMES}
    return expr.value(spend, outcomes)


def _slack(form: Formulation, expr) -> float:
    hi = np.array([c.hi for c in form.campaigns])
    outcomes = {name: np.array([float(c.outcome(name, h)) for c, h in zip(form.campaigns, hi, strict=True)])
                for name in OUTCOMES}
    return 1e-8 * expr.terms_magnitude(hi, outcomes) + 1e-9


def _rows_seen(form: Formulation, model: CompiledModel, spend: np.ndarray):
    """For each of the formulation's rows in the program: its sense there, the program's estimate of
    its expression at ``spend`` and the exact value."""
    activity = model.matrix @ _columns(form, model, spend)
    for r in np.flatnonzero(model.row_spec >= 0):
        spec = form.rows[model.row_spec[r]]
        if np.isfinite(model.row_lower[r]) and np.isfinite(model.row_upper[r]):
            yield 0.0, activity[r] - (model.row_lower[r] - spec.rhs), _exact(form, spec.expr, spend), spec.expr
        elif np.isfinite(model.row_lower[r]):
            yield 1.0, activity[r] - (model.row_lower[r] - spec.rhs), _exact(form, spec.expr, spend), spec.expr
        else:
            yield -1.0, activity[r] - (model.row_upper[r] - spec.rhs), _exact(form, spec.expr, spend), spec.expr


@SETTINGS
@given(form=formulations(), seed=st.integers(0, 2**32 - 1))
def test_the_plan_program_sees_every_row_on_its_hard_side_and_the_goal_on_chords(form, seed):
    model = compile_model(form, "plan")
    rng = np.random.default_rng(seed)
    for spend in _spends(form, model, rng):
        for sense, seen, exact, expr in _rows_seen(form, model, spend):
            slack = _slack(form, expr)
            if sense >= 0:
                assert seen <= exact + slack, "a >= row must not see more than the curves give"
            if sense <= 0:
                assert seen >= exact - slack, "a <= row must not see less than the curves give"
    base = campaign_grids(form.campaigns, form.tolerance)
    for _ in range(6):  # on breakpoints the chords are exact (corners of envelopes lie between them)
        spend = np.array([rng.choice(grid) for grid in base])
        objective = model.cost @ _columns(form, model, spend) + model.offset
        assert objective == pytest.approx(_exact(form, form.goal.expr, spend), abs=_slack(form, form.goal.expr))


@SETTINGS
@given(form=formulations(), seed=st.integers(0, 2**32 - 1))
def test_the_bound_program_sees_every_row_and_the_goal_on_the_generous_side(form, seed):
    model = compile_model(form, "bound")
    better = 1.0 if form.goal.sense == "maximize" else -1.0
    for spend in _spends(form, model, np.random.default_rng(seed)):
        for sense, seen, exact, expr in _rows_seen(form, model, spend):
            slack = _slack(form, expr)
            if sense >= 0:
                assert seen >= exact - slack, "a >= row must see at least what the curves give"
            if sense <= 0:
                assert seen <= exact + slack, "a <= row must see at most what the curves give"
        objective = model.cost @ _columns(form, model, spend) + model.offset
        assert better * (objective - _exact(form, form.goal.expr, spend)) >= -_slack(form, form.goal.expr)


@SETTINGS
@given(form=formulations(), purpose=st.sampled_from(["plan", "bound"]))
def test_campaigns_without_binaries_are_valued_less_as_spend_rises_and_keep_their_breakpoints(form, purpose):
    base = campaign_grids(form.campaigns, form.tolerance)
    model = compile_model(form, purpose, base)
    prefers = {r: (1.0 if np.isfinite(model.row_lower[r]) else -1.0) for r in np.flatnonzero(model.row_spec >= 0)}
    goal = 1.0 if form.goal.sense == "maximize" else -1.0
    for i, grid in enumerate(model.grids):
        columns = form.size + np.arange(model.segment_start[i], model.segment_start[i + 1])
        assert grid[0] == form.campaigns[i].lo and grid[-1] == form.campaigns[i].hi
        assert np.all(np.diff(grid) > 0)
        assert np.all(np.isin(base[i], grid)) or grid.size == 2, "breakpoints are kept (or the campaign is unseen)"
        np.testing.assert_allclose(model.col_upper[columns], np.diff(grid), rtol=0, atol=0)
        if i in model.milp:
            continue
        matrix = model.matrix.tocsr()
        seen = [goal * model.cost[columns]]
        seen += [prefers[r] * matrix[[r]][:, columns].toarray().ravel() for r in prefers
                 if np.isfinite(model.row_lower[r]) != np.isfinite(model.row_upper[r])]
        for values in seen:
            scale = max(float(np.abs(values).max(initial=0.0)), 1e-300)
            assert np.all(np.diff(values) <= 1e-9 * scale), "the LP would not fill these segments in order"



@SETTINGS
@given(form=formulations(), seed=st.integers(0, 2**32 - 1))
def test_scaling_divides_each_row_by_its_geometric_magnitude(form, seed):
    model = compile_model(form, "plan")
    rng = np.random.default_rng(seed)
    rows, columns = model.shape
    # Coefficients from 1e-300 to 1e300, and some empty rows, in place of the program's own.
    dense = np.where(rng.random((rows, columns)) < 0.3,
                     rng.choice([-1.0, 1.0], (rows, columns)) * 10.0 ** rng.uniform(-300, 300, (rows, columns)), 0.0)
    dense[rng.random(rows) < 0.2] = 0.0
    scaled, scaling = scale(replace(model, matrix=sp.csc_array(dense)))
    in_units = dense * scaling.columns
    expected = [1.0 / geometric_magnitude(in_units[r][in_units[r] != 0]) for r in range(rows)]
    np.testing.assert_array_equal(scaling.rows, expected)
