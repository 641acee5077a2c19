"""Response curves (optimizer/curves): values, marginals, curvature and piecewise-linear grids.

Every expectation is computed independently of the code under test: closed forms written from
DESIGN.md section 5 with the ``math`` module, central finite differences of ``value()``, dense
grids, and hand-computed tables. Nothing here compares against numbers the code produced.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from optimizer.curves import (
    Curve,
    Exponential,
    Hill,
    Linear,
    LinearisationError,
    Log,
    Power,
    Tabular,
    breakpoints,
    chord,
    envelope,
)

SETTINGS = settings(max_examples=40, deadline=None)

# --- closed forms (from the formulas in DESIGN.md section 5; numpy so they take arrays) ------


def linear_forms(unit_cost: float) -> tuple[Callable, Callable]:
    return (lambda s: np.asarray(s, dtype=float) / unit_cost,
            lambda s: np.full_like(np.asarray(s, dtype=float), 1 / unit_cost))


def exponential_forms(top: float, scale: float) -> tuple[Callable, Callable]:
    return (lambda s: -top * np.expm1(-np.asarray(s, dtype=float) / scale),
            lambda s: top / scale * np.exp(-np.asarray(s, dtype=float) / scale))


def hill_forms(top: float, half: float, shape: float) -> tuple[Callable, Callable]:
    def value(s):
        s = np.asarray(s, dtype=float)
        return top * s**shape / (s**shape + half**shape)

    def marginal(s):
        s = np.asarray(s, dtype=float)
        return top * shape * s ** (shape - 1) * half**shape / (s**shape + half**shape) ** 2

    return value, marginal


def power_forms(coef: float, exponent: float) -> tuple[Callable, Callable]:
    return (lambda s: coef * np.asarray(s, dtype=float) ** exponent,
            lambda s: coef * exponent * np.asarray(s, dtype=float) ** (exponent - 1))


def log_forms(coef: float, scale: float) -> tuple[Callable, Callable]:
    return (lambda s: coef * np.log1p(np.asarray(s, dtype=float) / scale),
            lambda s: coef / (scale + np.asarray(s, dtype=float)))


def hill_inflection(half: float, shape: float) -> float:
    return half * ((shape - 1) / (shape + 1)) ** (1 / shape)


@dataclass(frozen=True)
class Case:
    """A curve with its closed-form value and marginal, and the expected sign of curvature."""

    id: str
    curve: Curve
    forms: tuple[Callable, Callable]
    curvature: int  # -1 concave, 0 straight, +1 convex (away from the breaks)
    marginal_at_zero: float

    def value(self, spend):
        return self.forms[0](spend)

    def marginal(self, spend):
        return self.forms[1](spend)


CASES = [
    Case("linear", Linear(2.5), linear_forms(2.5), 0, 1 / 2.5),
    Case("exponential", Exponential(400_000, 90_000), exponential_forms(400_000, 90_000),
         -1, 400_000 / 90_000),
    Case("hill-concave", Hill(25e6, 60_000, 0.9), hill_forms(25e6, 60_000, 0.9), -1, math.inf),
    Case("hill-shape-1", Hill(8_000, 30_000, 1.0), hill_forms(8_000, 30_000, 1.0), -1, 8_000 / 30_000),
    # an S-curve: its curvature is checked around the inflection, separately
    Case("hill-s-shaped", Hill(5_000, 40_000, 2.5), hill_forms(5_000, 40_000, 2.5), 0, 0.0),
    Case("power-concave", Power(12.0, 0.6), power_forms(12.0, 0.6), -1, math.inf),
    Case("power-convex", Power(0.002, 1.4), power_forms(0.002, 1.4), 1, 0.0),
    Case("log", Log(3_000, 20_000), log_forms(3_000, 20_000), -1, 3_000 / 20_000),
]
CASE_IDS = [case.id for case in CASES]
SPENDS = [1.0, 500.0, 20_000.0, 60_000.0, 150_000.0, 1_000_000.0]


def central_difference(value: Callable, s: float, step: float) -> float:
    return float((value(s + step) - value(s - step)) / (2 * step))


def second_difference(value: Callable, s: np.ndarray, step: np.ndarray) -> np.ndarray:
    return value(s + step) - 2 * value(s) + value(s - step)


# --- values and marginals -------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_value_matches_closed_form_including_zero_spend(case: Case):
    spends = np.array([0.0, *SPENDS])
    np.testing.assert_allclose(case.curve.value(spends), case.value(spends), rtol=1e-12, atol=0)
    assert float(case.curve.value(0.0)) == 0.0


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_value_accepts_scalars_and_arrays(case: Case):
    scalar = case.curve.value(20_000.0)
    assert np.ndim(scalar) == 0
    assert float(scalar) == pytest.approx(float(case.value(20_000.0)), rel=1e-12)
    grid = np.array([[1_000.0, 2_000.0], [3_000.0, 4_000.0]])
    assert case.curve.value(grid).shape == (2, 2)
    assert case.curve.marginal(grid).shape == (2, 2)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_marginal_matches_closed_form(case: Case):
    spends = np.array(SPENDS)
    np.testing.assert_allclose(case.curve.marginal(spends), case.marginal(spends), rtol=1e-10, atol=0)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("spend", SPENDS)
def test_marginal_matches_central_difference_of_value(case: Case, spend: float):
    numeric = central_difference(case.curve.value, spend, 1e-4 * spend)
    assert float(case.curve.marginal(spend)) == pytest.approx(numeric, rel=1e-5)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_marginal_at_zero_spend_is_the_limit_of_secants(case: Case):
    # Warnings are errors under pytest here: a divide-by-zero warning would fail this test.
    at_zero = float(case.curve.marginal(np.array([0.0]))[0])
    steps = np.array([1e-1, 1e-3, 1e-5])
    secants = case.curve.value(steps) / steps  # value(0) == 0
    if math.isinf(case.marginal_at_zero):
        assert at_zero == math.inf
        assert secants[0] < secants[1] < secants[2], "a vertical tangent: secants grow without bound"
    else:
        assert at_zero == pytest.approx(case.marginal_at_zero, rel=1e-12, abs=1e-300)
        errors = np.abs(secants - case.marginal_at_zero)
        assert errors[2] <= max(0.05 * errors[0], 1e-9 * abs(case.marginal_at_zero))


# --- curvature, breaks, concavity ---------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in CASES if c.id != "hill-s-shaped"], ids=lambda c: c.id)
def test_curvature_sign_matches_second_difference(case: Case):
    spends = np.array(SPENDS)
    d2 = second_difference(case.curve.value, spends, 0.1 * spends)
    noise = 1e-12 * np.abs(case.curve.value(spends))
    measured = np.where(np.abs(d2) <= noise, 0, np.sign(d2))
    assert np.all(measured == case.curvature)
    assert np.all(case.curve.curvature(spends) == case.curvature)


@SETTINGS
@given(half=st.floats(1e2, 1e6), shape=st.floats(1.1, 6.0), top=st.floats(1.0, 1e7))
def test_hill_inflection_is_the_closed_form_and_the_second_derivative_changes_sign_there(half, shape, top):
    curve = Hill(top, half, shape)
    expected = hill_inflection(half, shape)
    assert curve.inflection == pytest.approx(expected, rel=1e-12)
    assert curve.breaks() == pytest.approx((expected,), rel=1e-12)

    grid = expected * np.linspace(0.5, 1.5, 2001)
    d2 = second_difference(curve.value, grid, np.full_like(grid, 1e-2 * expected))
    convex = d2 > 0
    assert convex[0] and not convex[-1], "convex before the inflection, concave after"
    changes = np.flatnonzero(convex[:-1] != convex[1:])
    assert changes.size == 1
    k = changes[0]
    assert grid[k] <= expected * (1 + 1e-9) and grid[k + 1] >= expected * (1 - 1e-9)
    assert curve.curvature(np.array([0.9 * expected, 1.1 * expected])).tolist() == [1, -1]


@pytest.mark.parametrize("shape", [0.3, 0.9, 1.0])
def test_hill_with_shape_at_most_one_has_no_inflection(shape):
    curve = Hill(100.0, 50.0, shape)
    assert curve.inflection is None
    assert curve.breaks() == ()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("interval", [(0.0, 1_000_000.0), (1_000.0, 5_000.0), (50_000.0, 400_000.0)])
def test_is_concave_on_agrees_with_a_dense_second_difference_scan(case: Case, interval):
    lo, hi = interval
    inner = np.linspace(lo, hi, 4002)[1:-1]
    step = np.minimum(inner - lo, hi - inner).clip(max=(hi - lo) * 1e-3)
    d2 = second_difference(case.value, inner, step)
    convex_somewhere = bool(np.any(d2 > 1e-9 * np.abs(case.value(inner))))
    assert case.curve.is_concave_on(lo, hi) == (not convex_somewhere)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_is_concave_on_an_empty_interval(case: Case):
    assert case.curve.is_concave_on(5_000.0, 5_000.0)
    assert case.curve.is_concave_on(6_000.0, 5_000.0)


@SETTINGS
@given(half=st.floats(1e2, 1e6), shape=st.floats(1.1, 6.0),
       lo_share=st.floats(0.0, 3.0), width_share=st.floats(1e-3, 5.0))
def test_s_shaped_hill_is_concave_exactly_from_its_inflection_on(half, shape, lo_share, width_share):
    assume(abs(lo_share - 1) > 1e-6)
    curve = Hill(1_000.0, half, shape)
    inflection = hill_inflection(half, shape)
    lo = lo_share * inflection
    hi = lo + width_share * inflection
    assert curve.is_concave_on(lo, hi) == (lo >= inflection)


def test_power_with_exponent_one_is_straight():
    curve = Power(3.0, 1.0)
    assert curve.is_concave_on(0.0, 1e6)
    assert float(curve.curvature(10.0)) == 0


# --- tangent points ------------------------------------------------------------------------


@st.composite
def curve_pieces(draw):
    """A curve, its closed forms, and an interval on which its curvature has one sign."""
    kind = draw(st.sampled_from(["exponential", "log", "power-concave", "power-convex",
                                 "hill-concave", "hill-convex-piece", "hill-concave-piece"]))
    scale = draw(st.floats(1e2, 1e6))
    top = draw(st.floats(1.0, 1e7))
    a = draw(st.floats(0.0, 5.0)) * scale
    b = a + draw(st.floats(0.05, 5.0)) * scale
    if kind == "exponential":
        return Exponential(top, scale), exponential_forms(top, scale), a, b
    if kind == "log":
        return Log(top, scale), log_forms(top, scale), a, b
    if kind.startswith("power"):
        p = draw(st.floats(0.2, 0.9) if kind == "power-concave" else st.floats(1.1, 3.0))
        coef = top / scale**p
        return Power(coef, p), power_forms(coef, p), a, b
    shape = draw(st.floats(0.3, 1.0) if kind == "hill-concave" else st.floats(1.2, 5.0))
    curve, forms = Hill(top, scale, shape), hill_forms(top, scale, shape)
    if kind == "hill-concave":
        return curve, forms, a, b
    inflection = hill_inflection(scale, shape)
    if kind == "hill-convex-piece":
        a = draw(st.floats(0.0, 0.8)) * inflection
        return curve, forms, a, a + draw(st.floats(0.1, 1.0)) * (inflection - a)
    a = (1 + draw(st.floats(0.0, 5.0))) * inflection
    return curve, forms, a, a + draw(st.floats(0.05, 5.0)) * inflection


@SETTINGS
@given(piece=curve_pieces())
def test_tangent_point_has_the_chord_slope_as_marginal(piece):
    curve, (value, marginal), a, b = piece
    slope = float((value(b) - value(a)) / (b - a))  # by the mean value theorem, reached inside (a, b)
    assume(slope > 0)
    point = float(curve.tangent_point(np.array([slope]), np.array([a]), np.array([b]))[0])
    assert a <= point <= b
    assert float(marginal(point)) == pytest.approx(slope, rel=1e-7)


def test_tangent_point_is_vectorised_over_pieces_of_opposite_curvature():
    curve = Hill(1_000.0, 10_000.0, 3.0)
    value, marginal = hill_forms(1_000.0, 10_000.0, 3.0)
    inflection = hill_inflection(10_000.0, 3.0)
    lo = np.array([0.0, 0.5, 1.0, 2.0]) * inflection  # two convex pieces, then two concave ones
    hi = np.array([0.5, 1.0, 2.0, 6.0]) * inflection
    slopes = (value(hi) - value(lo)) / (hi - lo)
    points = curve.tangent_point(slopes, lo, hi)
    assert np.all((lo <= points) & (points <= hi))
    np.testing.assert_allclose(marginal(points), slopes, rtol=1e-8)


def test_straight_curves_return_a_point_inside_the_interval():
    for curve in (Linear(4.0), Power(2.0, 1.0), Tabular((0.0, 10.0, 20.0), (0.0, 5.0, 7.0))):
        point = curve.tangent_point(np.array([0.3]), np.array([10.0]), np.array([20.0]))
        assert 10.0 <= float(point[0]) <= 20.0


# --- breakpoints ---------------------------------------------------------------------------


@st.composite
def curves_and_ranges(draw):
    """A curve of any smooth family, its closed-form value, and a spend range (often from 0)."""
    kind = draw(st.sampled_from(["linear", "exponential", "log", "power", "hill"]))
    scale = draw(st.floats(1e2, 1e6))
    top = draw(st.floats(1.0, 1e7))
    if kind == "linear":
        curve, forms = Linear(scale / top), linear_forms(scale / top)
    elif kind == "exponential":
        curve, forms = Exponential(top, scale), exponential_forms(top, scale)
    elif kind == "log":
        curve, forms = Log(top, scale), log_forms(top, scale)
    elif kind == "power":
        p = draw(st.one_of(st.floats(0.2, 0.95), st.floats(1.05, 3.0)))
        curve, forms = Power(top / scale**p, p), power_forms(top / scale**p, p)
    else:
        shape = draw(st.floats(0.3, 5.0))
        curve, forms = Hill(top, scale, shape), hill_forms(top, scale, shape)
    lo = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 2.0])) * scale
    hi = lo + draw(st.floats(0.05, 20.0)) * scale
    return curve, forms[0], lo, hi


def _dense(lo: float, hi: float, grid: np.ndarray, per_segment: int = 32) -> np.ndarray:
    """20k evenly spaced points, plus points inside every segment (even tiny ones near zero)."""
    fractions = np.linspace(0, 1, per_segment)[1:-1]
    inside = (grid[:-1, None] + fractions[None, :] * np.diff(grid)[:, None]).ravel()
    return np.unique(np.concatenate([np.linspace(lo, hi, 20_001), inside, grid]))


@settings(max_examples=60, deadline=None)
@given(case=curves_and_ranges(), tolerance=st.sampled_from([1e-2, 1e-3, 1e-4]))
def test_breakpoints_keep_the_chord_within_tolerance_on_a_dense_grid(case, tolerance):
    curve, value, lo, hi = case
    grid = breakpoints(curve, lo, hi, tolerance)

    assert grid[0] == lo and grid[-1] == hi
    assert np.all(np.diff(grid) > 0)
    if isinstance(curve, Hill) and curve.shape > 1:
        inflection = hill_inflection(curve.half, curve.shape)
        if lo < inflection < hi:
            assert np.min(np.abs(grid - inflection)) <= 1e-12 * inflection

    xs = _dense(lo, hi, grid)
    own_chord = np.interp(xs, grid, value(grid))
    worst = np.max(np.abs(value(xs) - own_chord))
    allowed = tolerance * abs(value(hi) - value(lo))
    assert worst <= allowed * (1 + 1e-6) + 1e-12 * abs(value(hi))


def test_breakpoints_are_exact_for_a_table_and_include_every_inner_point():
    table = Tabular((0.0, 10.0, 30.0, 60.0, 100.0), (0.0, 50.0, 90.0, 120.0, 130.0))
    grid = breakpoints(table, 5.0, 80.0, 1e-3)
    assert grid.tolist() == [5.0, 10.0, 30.0, 60.0, 80.0]


def test_breakpoints_of_an_empty_range_is_its_start():
    assert breakpoints(Exponential(10.0, 5.0), 3.0, 3.0).tolist() == [3.0]


def test_breakpoints_refuse_an_impossible_tolerance_instead_of_looping():
    with pytest.raises(LinearisationError, match="segments"):
        breakpoints(Exponential(1.0, 1.0), 0.0, 10.0, tolerance=1e-12)


def test_chord_passes_through_the_curve_at_grid_points():
    curve = Hill(5_000.0, 40_000.0, 2.5)
    value, _ = hill_forms(5_000.0, 40_000.0, 2.5)
    grid = breakpoints(curve, 0.0, 200_000.0, 1e-3)
    piecewise = chord(curve, grid)
    np.testing.assert_allclose(piecewise.at(grid), value(grid), rtol=1e-12)
    middles = (grid[:-1] + grid[1:]) / 2
    np.testing.assert_allclose(piecewise.at(middles), (value(grid[:-1]) + value(grid[1:])) / 2, rtol=1e-12)


# --- envelopes -----------------------------------------------------------------------------

ENVELOPE_CASES = [
    # (id, curve, closed-form value, lo, hi): several start at 0, where power and Hill curves
    # with an exponent or shape below 1 have a vertical tangent.
    ("power-concave-from-0", Power(12.0, 0.6), power_forms(12.0, 0.6)[0], 0.0, 200_000.0),
    ("power-steep-from-0", Power(3.0, 0.25), power_forms(3.0, 0.25)[0], 0.0, 50_000.0),
    ("power-convex-from-0", Power(0.002, 1.4), power_forms(0.002, 1.4)[0], 0.0, 200_000.0),
    ("hill-concave-from-0", Hill(25e6, 60_000, 0.9), hill_forms(25e6, 60_000, 0.9)[0], 0.0, 300_000.0),
    ("hill-steep-from-0", Hill(1_000.0, 5_000.0, 0.4), hill_forms(1_000.0, 5_000.0, 0.4)[0], 0.0, 100_000.0),
    ("hill-s-from-0", Hill(5_000, 40_000, 2.5), hill_forms(5_000, 40_000, 2.5)[0], 0.0, 200_000.0),
    ("hill-s-inside", Hill(5_000, 40_000, 4.0), hill_forms(5_000, 40_000, 4.0)[0], 10_000.0, 90_000.0),
    ("exponential", Exponential(400_000, 90_000), exponential_forms(400_000, 90_000)[0], 20_000.0, 150_000.0),
    ("log-from-0", Log(3_000, 20_000), log_forms(3_000, 20_000)[0], 0.0, 500_000.0),
    ("linear", Linear(2.5), linear_forms(2.5)[0], 0.0, 10_000.0),
]
ENVELOPE_IDS = [c[0] for c in ENVELOPE_CASES]


def _sample(lo: float, hi: float, grid: np.ndarray) -> np.ndarray:
    """Dense points, with extra ones packed geometrically toward the start of the range."""
    near_start = lo + np.geomspace(1e-9, 1.0, 2_000) * (grid[1] - lo)
    return np.unique(np.concatenate([_dense(lo, hi, grid), near_start]))


@pytest.mark.parametrize("tolerance", [5e-2, 1e-3])
@pytest.mark.parametrize(("name", "curve", "value", "lo", "hi"), ENVELOPE_CASES, ids=ENVELOPE_IDS)
def test_envelopes_sandwich_the_curve_on_a_dense_grid(name, curve, value, lo, hi, tolerance):
    grid = breakpoints(curve, lo, hi, tolerance)
    xs = _sample(lo, hi, grid)
    exact = value(xs)
    upper, lower = envelope(curve, grid, "upper"), envelope(curve, grid, "lower")
    straight = chord(curve, grid)
    slack = 1e-9 * abs(value(hi) - value(lo))

    assert np.all(np.diff(upper.xs) >= 0) and np.all(np.diff(lower.xs) >= 0)
    assert upper.xs[0] == lo and upper.xs[-1] == hi
    assert np.all(upper.at(xs) >= exact - slack), f"upper envelope dips below {name}"
    assert np.all(lower.at(xs) <= exact + slack), f"lower envelope rises above {name}"
    assert np.all(lower.at(xs) <= straight.at(xs) + slack)
    assert np.all(straight.at(xs) <= upper.at(xs) + slack)


@pytest.mark.parametrize(("name", "curve", "value", "lo", "hi"), ENVELOPE_CASES, ids=ENVELOPE_IDS)
def test_envelopes_touch_the_curve_at_grid_points(name, curve, value, lo, hi):
    grid = breakpoints(curve, lo, hi, 1e-2)
    vertical_start = float(curve.marginal(np.array([lo]))[0]) == math.inf
    for side in ("upper", "lower"):
        at_grid = envelope(curve, grid, side).at(grid)
        if side == "upper" and vertical_start:
            # the start is lifted onto the next point's tangent: above the curve, not on it
            assert at_grid[0] > value(grid[0])
            np.testing.assert_allclose(at_grid[1:], value(grid[1:]), rtol=1e-9)
        else:
            np.testing.assert_allclose(at_grid, value(grid), rtol=1e-9, atol=1e-12)


def test_upper_envelope_on_a_coarse_hand_grid_is_the_lower_of_the_end_tangents():
    curve, (value, marginal) = Power(10.0, 0.5), power_forms(10.0, 0.5)
    grid = np.array([0.0, 1_000.0, 10_000.0, 100_000.0])
    xs = _sample(0.0, 100_000.0, grid)
    upper = envelope(curve, grid, "upper")
    assert np.all(upper.at(xs) >= value(xs) - 1e-9)
    assert np.all(envelope(curve, grid, "lower").at(xs) <= value(xs) + 1e-9)
    for a, b in [(1_000.0, 10_000.0), (10_000.0, 100_000.0)]:
        inside = xs[(xs > a) & (xs < b)]
        from_a = value(a) + marginal(a) * (inside - a)
        from_b = value(b) + marginal(b) * (inside - b)
        np.testing.assert_allclose(upper.at(inside), np.minimum(from_a, from_b), rtol=1e-9)
    # on the first piece the tangent at 0 is vertical: the tangent at 1,000 is used alone
    first = xs[xs < 1_000.0]
    tangent = value(1_000.0) + marginal(1_000.0) * (first - 1_000.0)
    np.testing.assert_allclose(upper.at(first), tangent, rtol=1e-9)


# --- tabular curves ------------------------------------------------------------------------

TABLE = Tabular((0.0, 10.0, 30.0, 60.0), (0.0, 50.0, 90.0, 120.0))  # slopes 5, 2, 1


def test_tabular_interpolates_linearly_between_points():
    spends = np.array([0.0, 5.0, 10.0, 20.0, 45.0, 60.0])
    assert TABLE.value(spends).tolist() == [0.0, 25.0, 50.0, 70.0, 105.0, 120.0]
    assert TABLE.domain_max == 60.0


def test_tabular_marginal_is_the_slope_of_the_piece():
    assert TABLE.marginal(np.array([5.0, 20.0, 45.0])).tolist() == [5.0, 2.0, 1.0]
    assert TABLE.left_marginal(np.array([5.0, 20.0, 45.0])).tolist() == [5.0, 2.0, 1.0]


def test_a_plan_at_a_campaigns_top_is_priced_by_its_last_dollar_and_elsewhere_by_its_next():
    """At its spend ceiling a campaign can only give dollars back, so its marginal there is the
    slope left of the spend (a table's kink shows it); below the ceiling, the slope to the right."""
    from optimizer import Scenario
    from optimizer.model.evaluate import evaluate
    from optimizer.model.rows import formulate

    points = [[x, y] for x, y in zip(TABLE.spend, TABLE.outcome, strict=True)]
    campaigns = [{"name": name, "stage": "conversion", "channel": "search", "spend": {"max": top},
                  "leads": {"curve": "tabular", "points": points}} for name, top in (("topped", 30.0), ("room", 60.0))]
    form = formulate(Scenario.model_validate({"name": "t", "campaigns": campaigns, "budget": {"total": 100.0}}))
    spend = np.array([30.0, 30.0])
    step = 1e-6
    left = (TABLE.value(spend) - TABLE.value(spend - step)) / step
    right = (TABLE.value(spend + step) - TABLE.value(spend)) / step
    np.testing.assert_allclose(evaluate(form, spend).marginals["leads"], [left[0], right[1]], rtol=1e-6)


def test_tabular_marginal_at_a_kink_looks_right_and_left_marginal_looks_left():
    kinks = np.array([10.0, 30.0])
    assert TABLE.marginal(kinks).tolist() == [2.0, 1.0]
    assert TABLE.left_marginal(kinks).tolist() == [5.0, 2.0]
    # the same slopes as one-sided differences of value()
    step = 1e-6
    right = (TABLE.value(kinks + step) - TABLE.value(kinks)) / step
    left = (TABLE.value(kinks) - TABLE.value(kinks - step)) / step
    np.testing.assert_allclose(TABLE.marginal(kinks), right, rtol=1e-6)
    np.testing.assert_allclose(TABLE.left_marginal(kinks), left, rtol=1e-6)


def test_tabular_marginal_at_the_ends_uses_the_end_pieces():
    assert TABLE.marginal(np.array([0.0, 60.0])).tolist() == [5.0, 1.0]
    assert TABLE.left_marginal(np.array([0.0, 60.0])).tolist() == [5.0, 1.0]


def test_tabular_breaks_are_its_inner_points():
    assert TABLE.breaks() == (10.0, 30.0)


def test_tabular_concavity_detects_a_rising_slope_only_inside_the_interval():
    rising = Tabular((0.0, 10.0, 20.0, 30.0), (0.0, 10.0, 30.0, 40.0))  # slopes 1, 2, 1: rises at 10
    assert not rising.is_concave_on(0.0, 30.0)
    assert not rising.is_concave_on(5.0, 15.0)
    assert rising.is_concave_on(10.0, 30.0)  # the kink at 10 is the interval's edge
    assert rising.is_concave_on(0.0, 10.0)
    assert TABLE.is_concave_on(0.0, 60.0)


@SETTINGS
@given(
    xs=st.lists(st.floats(1.0, 1e6), min_size=2, max_size=12, unique=True),
    convex=st.booleans(),
)
def test_tabular_sampled_from_a_smooth_curve_inherits_its_concavity(xs, convex):
    xs = sorted({0.0, *(round(x, 3) for x in xs)})
    assume(len(xs) >= 3 and min(np.diff(xs)) > 1e-2)
    ys = [x**2 / 1e6 if convex else math.sqrt(x) for x in xs]
    table = Tabular(tuple(xs), tuple(ys))
    assert table.is_concave_on(xs[0], xs[-1]) == (not convex)
    # within any single piece there is no kink, so the table is concave there either way
    assert table.is_concave_on(xs[1], xs[2])


def test_tabular_equality_and_hash_follow_the_points():
    same = Tabular((0.0, 10.0, 30.0, 60.0), (0.0, 50.0, 90.0, 120.0))
    other = Tabular((0.0, 10.0, 30.0, 60.0), (0.0, 50.0, 90.0, 121.0))
    assert same == TABLE and hash(same) == hash(TABLE)
    assert other != TABLE
