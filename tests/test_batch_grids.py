"""Grids built for many curves at once (optimizer/curves/batch.py) against each curve alone.

Stacking many curves must not change any one's grid, envelope or start: a mix is checked against
each curve asked for alone (one curve, one stack, no neighbours to get mixed up with) on random
mixes of every family (repeats, empty ranges, vertical starts included), and the guarantee
itself (every chord within the tolerance, every break included) is checked again
independently on a dense grid with the closed forms of ``test_curves``. Stacked curves
(``Curve.stack``) must evaluate like each of their curves.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_curves import (
    _dense,
    curve_pieces,
    exponential_forms,
    hill_forms,
    hill_inflection,
    linear_forms,
    log_forms,
    power_forms,
)

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
    many_breakpoints,
)
from optimizer.curves.batch import many_estimates, quartered_starts
from optimizer.curves.linearise import estimate, tighten_start
from optimizer.curves.stacks import CurveStack, interp_blocks
from optimizer.errors import ScenarioError
from optimizer.model.campaigns import CampaignModel, campaign_grids

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def curve_and_value(draw):
    """A curve of any family (tables, straight power curves and shape-1 Hill curves included) and its value."""
    kind = draw(st.sampled_from(["linear", "exponential", "log", "power", "hill", "tabular"]))
    scale = draw(st.floats(1e2, 1e6))
    top = draw(st.floats(1.0, 1e7))
    if kind == "linear":
        return Linear(scale / top), linear_forms(scale / top)[0]
    if kind == "exponential":
        return Exponential(top, scale), exponential_forms(top, scale)[0]
    if kind == "log":
        return Log(top, scale), log_forms(top, scale)[0]
    if kind == "power":
        p = draw(st.one_of(st.floats(0.2, 0.95), st.floats(1.05, 3.0), st.just(1.0)))
        return Power(top / scale**p, p), power_forms(top / scale**p, p)[0]
    if kind == "hill":
        shape = draw(st.one_of(st.floats(0.3, 5.0), st.just(1.0)))
        return Hill(top, scale, shape), hill_forms(top, scale, shape)[0]
    steps = draw(st.lists(st.floats(0.05, 2.0), min_size=1, max_size=6))
    rises = draw(st.lists(st.floats(0.0, 1.0), min_size=len(steps), max_size=len(steps)))
    xs = tuple(float(x) for x in np.cumsum([0.0, *steps]) * scale)
    ys = tuple(float(y) for y in np.cumsum([0.0, *rises]) * top)
    return Tabular(xs, ys), lambda s: np.interp(s, xs, ys)


@st.composite
def requests(draw):
    """Curves with spend ranges: often from zero, sometimes empty, sometimes repeating an earlier one."""
    found = []
    for _ in range(draw(st.integers(1, 10))):
        if found and draw(st.integers(0, 3)) == 0:
            found.append(draw(st.sampled_from(found)))
            continue
        curve, value = draw(curve_and_value())
        scale = _scale(curve)
        lo = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 2.0])) * scale
        hi = lo + draw(st.one_of(st.floats(0.05, 20.0), st.sampled_from([0.0, -0.5]))) * scale
        if isinstance(curve, Tabular):
            hi = min(hi, curve.domain_max)
        found.append((curve, value, lo, hi))
    return found


def _scale(curve: Curve) -> float:
    """A spend on the scale of the curve's own bend."""
    params = curve.params()
    for key in ("scale", "half"):
        if key in params:
            return float(params[key])
    if isinstance(curve, Tabular):
        return curve.domain_max / 4
    return 1e4


def _batched_and_alone(found, tolerance):
    curves, _, lo, hi = zip(*found, strict=True)
    batched = many_breakpoints(list(curves), lo, hi, tolerance)
    alone = [breakpoints(curve, a, b, tolerance) for curve, a, b in zip(curves, lo, hi, strict=True)]
    return batched, alone


@SETTINGS
@given(found=requests(), tolerance=st.sampled_from([1e-2, 1e-3, 1e-4]))
def test_many_breakpoints_are_the_grids_breakpoints_builds_one_curve_at_a_time(found, tolerance):
    batched, alone = _batched_and_alone(found, tolerance)
    assert len(batched) == len(found)
    for grid, expected in zip(batched, alone, strict=True):
        assert grid.shape == expected.shape
        # The same arithmetic element by element; allow for numpy vectorising it differently.
        np.testing.assert_allclose(grid, expected, rtol=1e-12, atol=0)


@SETTINGS
@given(found=requests(), tolerance=st.sampled_from([1e-2, 1e-3, 1e-4]))
def test_many_breakpoints_keep_every_chord_within_tolerance_on_a_dense_grid(found, tolerance):
    curves, _, lows, highs = zip(*found, strict=True)
    batched = many_breakpoints(list(curves), lows, highs, tolerance)  # the one-curve grids are not needed here
    for grid, (curve, value, lo, hi) in zip(batched, found, strict=True):
        if hi <= lo:
            assert grid.tolist() == [min(lo, hi)]
            continue
        assert grid[0] == lo and grid[-1] == hi
        assert np.all(np.diff(grid) > 0)
        for inner in curve.breaks():
            if lo < inner < hi:
                assert np.min(np.abs(grid - inner)) <= 1e-12 * inner, "every break is a breakpoint"
        xs = _dense(lo, hi, grid)
        worst = np.max(np.abs(value(xs) - np.interp(xs, grid, value(grid))))
        allowed = tolerance * abs(value(hi) - value(lo))
        assert worst <= allowed * (1 + 1e-6) + 1e-12 * abs(value(hi))


def test_an_s_shaped_hill_among_others_keeps_its_inflection():
    s_curve = Hill(5_000.0, 40_000.0, 2.5)
    curves = [Exponential(400_000.0, 90_000.0), s_curve, Hill(25e6, 60_000.0, 0.9)]
    grids = many_breakpoints(curves, [0.0, 0.0, 0.0], [200_000.0] * 3, 1e-3)
    assert np.min(np.abs(grids[1] - hill_inflection(40_000.0, 2.5))) <= 1e-12 * 40_000.0
    assert not np.any(np.isclose(grids[0], hill_inflection(40_000.0, 2.5), rtol=1e-9))


def test_repeated_requests_get_equal_grids_that_do_not_share_memory_through_campaigns():
    curve = Power(12.0, 0.6)
    grids = many_breakpoints([curve, Log(3_000.0, 20_000.0), curve], [0.0] * 3, [200_000.0] * 3)
    np.testing.assert_array_equal(grids[0], grids[2])
    np.testing.assert_array_equal(grids[0], breakpoints(curve, 0.0, 200_000.0))
    first, _, third = campaign_grids([_campaign("a", curve), _campaign("b", Linear(2.0)), _campaign("c", curve)],
                                     1e-3)
    first[1] = -1.0
    assert third[1] != -1.0


IMPOSSIBLE = 1e-10  # an exponential curve on [0, 10] would need about 10^5 segments


def test_the_first_curve_that_needs_too_many_segments_is_reported_with_its_index():
    curves = [Linear(2.0), Exponential(1.0, 1.0), Log(1.0, 1.0), Exponential(2.0, 1.0)]
    with pytest.raises(LinearisationError) as raised:
        many_breakpoints(curves, [0.0] * 4, [10.0] * 4, IMPOSSIBLE)
    assert raised.value.index == 1
    with pytest.raises(LinearisationError) as alone:
        breakpoints(curves[1], 0.0, 10.0, IMPOSSIBLE)
    assert str(raised.value) == str(alone.value)


def test_a_campaign_whose_curve_needs_too_many_segments_is_named():
    campaigns = [_campaign("fine", Linear(2.0)), _campaign("steep", Exponential(1.0, 1.0), hi=10.0)]
    with pytest.raises(ScenarioError, match='campaign "steep"'):
        campaign_grids(campaigns, IMPOSSIBLE)


def _campaign(name: str, *curves: Curve, lo: float = 0.0, hi: float = 200_000.0) -> CampaignModel:
    return CampaignModel(name=name, channel="search", stage="conversion", tags=(), pools=(), current=lo, lo=lo, hi=hi,
                         lo_reason="min", hi_reason="max", curves=curves, terms={})


def test_campaign_grids_join_the_grids_of_each_campaigns_curves():
    impressions, leads = Hill(5e6, 40_000.0, 2.5), Exponential(900.0, 30_000.0)
    campaigns = [_campaign("two curves", impressions, leads, lo=1_000.0, hi=150_000.0),
                 _campaign("locked", leads, lo=5_000.0, hi=5_000.0),
                 _campaign("table", Tabular((0.0, 10_000.0, 50_000.0), (0.0, 900.0, 1_500.0)), hi=50_000.0)]
    grids = campaign_grids(campaigns, 1e-3)
    joined = np.union1d(breakpoints(impressions, 1_000.0, 150_000.0), breakpoints(leads, 1_000.0, 150_000.0))
    np.testing.assert_allclose(grids[0], joined, rtol=1e-12)
    assert grids[1].tolist() == [5_000.0]
    assert grids[2].tolist() == [0.0, 10_000.0, 50_000.0]
    for campaign, grid in zip(campaigns, grids, strict=True):
        np.testing.assert_array_equal(campaign.grid(1e-3), grid)


# --- stacks ----------------------------------------------------------------------------------


@SETTINGS
@given(pieces=st.lists(curve_pieces(), min_size=1, max_size=8))
def test_a_stack_evaluates_like_each_of_its_curves(pieces):
    by_family: dict[type, list] = {}
    for piece in pieces:
        by_family.setdefault(type(piece[0]), []).append(piece)
    for family, members in by_family.items():
        curves = [m[0] for m in members]
        lo, hi = np.array([m[2] for m in members]), np.array([m[3] for m in members])
        spend = np.concatenate([lo, (lo + hi) / 2, hi])
        stack = family.stack(curves).take(np.tile(np.arange(len(curves)), 3))
        for method in ("value", "marginal", "curvature"):
            alone = [getattr(c, method)(s) for c, s in zip(curves * 3, spend, strict=True)]
            np.testing.assert_allclose(getattr(stack, method)(spend), alone, rtol=1e-12, atol=0)
        slope = np.array([(c.value(b) - c.value(a)) / (b - a) for c, a, b in zip(curves, lo, hi, strict=True)])
        assume(np.all(slope > 0))
        together = family.stack(curves).tangent_point(slope, lo, hi)
        alone = [c.tangent_point(np.array([k]), np.array([a]), np.array([b]))[0]
                 for c, k, a, b in zip(curves, slope, lo, hi, strict=True)]
        np.testing.assert_allclose(together, alone, rtol=1e-12, atol=0)


def test_stacks_mix_s_shaped_and_concave_hill_curves_and_straight_power_curves():
    hills = [Hill(1_000.0, 10_000.0, 3.0), Hill(1_000.0, 10_000.0, 0.5), Hill(1_000.0, 10_000.0, 1.0)]
    spend = np.array([0.0, 2_000.0, 50_000.0])
    hill_stack = Hill.stack(hills)
    inflection = hill_inflection(10_000.0, 3.0)
    assert hill_stack.curvature(np.array([0.5, 2.0, 2.0]) * inflection).tolist() == [1.0, -1.0, -1.0]
    assert hill_stack.marginal(np.zeros(3)).tolist() == [0.0, np.inf, 1_000.0 / 10_000.0]
    np.testing.assert_allclose(hill_stack.value(spend), [h.value(s) for h, s in zip(hills, spend, strict=True)],
                               rtol=1e-12)
    powers = Power.stack([Power(2.0, 1.0), Power(12.0, 0.6), Power(0.002, 1.4)])
    assert powers.curvature(np.full(3, 10.0)).tolist() == [0.0, -1.0, 1.0]
    assert powers.marginal(np.zeros(3)).tolist() == [2.0, np.inf, 0.0]
    middle = powers.tangent_point(np.array([0.3, 1.0, 1.0]), np.array([10.0] * 3), np.array([20.0] * 3))
    assert middle[0] == 15.0


@SETTINGS
@given(tables=st.lists(st.lists(st.tuples(st.floats(1.0, 1e5), st.floats(0.0, 1e4)), min_size=1, max_size=7),
                       min_size=1, max_size=6), data=st.data())
def test_a_stack_of_tables_answers_as_each_table_does_at_its_points_between_them_and_beyond(tables, data):
    curves = []
    for points in tables:
        xs = np.cumsum([0.0] + [step for step, _ in points])
        curves.append(Tabular(tuple(xs), tuple(np.cumsum([0.0] + [rise for _, rise in points]))))
    index = np.array(data.draw(st.lists(st.integers(0, len(curves) - 1), min_size=1, max_size=30)))
    spend = np.array([data.draw(st.sampled_from(curves[k].spend)) if data.draw(st.booleans())
                      else data.draw(st.floats(-10.0, 1.2 * curves[k].domain_max + 10.0)) for k in index])
    stack = CurveStack.of(curves).take(index)
    for method in ("value", "marginal", "left_marginal"):
        alone = [getattr(curves[k], method)(s) for k, s in zip(index, spend, strict=True)]
        np.testing.assert_allclose(getattr(stack, method)(spend), alone, rtol=1e-12, atol=1e-9)


def test_no_curves_no_grids():
    assert many_breakpoints([], [], []) == []


# --- stacks of mixed families and block-wise interpolation -------------------------------------


@SETTINGS
@given(drawn=st.lists(curve_and_value(), min_size=1, max_size=12), data=st.data())
def test_a_mixed_stack_evaluates_like_each_of_its_curves(drawn, data):
    curves = [curve for curve, _ in drawn]
    index = np.array(data.draw(st.lists(st.integers(0, len(curves) - 1), min_size=1, max_size=30)))
    spend = np.array([data.draw(st.floats(0.0, 3.0)) * _scale(curves[k]) for k in index])
    for k in range(len(curves)):
        if isinstance(curves[k], Tabular):
            spend[index == k] = np.minimum(spend[index == k], curves[k].domain_max)
    stack = CurveStack.of(curves).take(index)
    for method in ("value", "marginal", "left_marginal", "curvature"):
        alone = [getattr(curves[k], method)(s) for k, s in zip(index, spend, strict=True)]
        np.testing.assert_allclose(getattr(stack, method)(spend), alone, rtol=1e-12, atol=0)


@SETTINGS
@given(blocks=st.lists(st.tuples(st.lists(st.floats(0.0, 100.0), min_size=1, max_size=8),
                                 st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6)), min_size=1, max_size=5),
       data=st.data())
def test_interpolation_block_by_block_is_numpys(blocks, data):
    knot_owner, knots, values, query_owner, queries, expected = [], [], [], [], [], []
    for owner, (xs, shares) in enumerate(blocks):
        xs = np.sort(np.array(xs + [xs[0]] * data.draw(st.integers(0, 1))))  # sometimes a repeated knot
        ys = np.array([data.draw(st.floats(-1e3, 1e3)) for _ in xs])
        inside = np.sort(np.concatenate([xs[0] + np.array(shares) * (xs[-1] - xs[0]), xs]))
        knot_owner += [owner] * xs.size
        knots += xs.tolist()
        values += ys.tolist()
        query_owner += [owner] * inside.size
        queries += inside.tolist()
        expected += np.interp(inside, xs, ys).tolist()
    found = interp_blocks(np.array(query_owner), np.array(queries), np.array(knot_owner), np.array(knots),
                          np.array(values))
    np.testing.assert_array_equal(found, expected)


# --- estimates and tightened starts for many curves at once ---------------------------------------


@SETTINGS
@given(found=requests(), data=st.data())
def test_many_estimates_are_the_chords_and_envelopes_of_each_curve(found, data):
    found = [f for f in found if f[3] > f[2]]
    assume(found)
    curves = [curve for curve, *_ in found]
    grids = [breakpoints(curve, lo, hi, 1e-2) for curve, _, lo, hi in found]
    kinds = np.array([data.draw(st.sampled_from(["chord", "upper", "lower"])) for _ in found])
    owner = np.repeat(np.arange(len(found)), [g.size for g in grids])
    p_owner, xs, ys = many_estimates(CurveStack.of(curves), kinds, owner, np.concatenate(grids))
    for j, (curve, grid, kind) in enumerate(zip(curves, grids, kinds, strict=True)):
        alone = estimate(curve, grid, kind)
        assert xs[p_owner == j].shape == alone.xs.shape
        np.testing.assert_allclose(xs[p_owner == j], alone.xs, rtol=1e-12, atol=0)
        np.testing.assert_allclose(ys[p_owner == j], alone.ys, rtol=1e-12, atol=1e-300)


@SETTINGS
@given(drawn=st.lists(st.tuples(st.sampled_from(["power", "hill"]), st.floats(0.2, 0.95), st.floats(1e2, 1e6),
                                st.sampled_from([1e-3, 1e-6, 1e-9])), min_size=1, max_size=6))
def test_quartered_starts_insert_what_tighten_start_inserts(drawn):
    """Batched starts are the one-curve ones, and keep their promise, checked on the closed forms: the
    envelope's lift at the start, ``f(b) - f'(b) b``, is at most the target, or ``b`` is as narrow as allowed."""
    curves = [Power(3.0, p) if kind == "power" else Hill(1e6, scale, p) for kind, p, scale, _ in drawn]
    forms = [power_forms(3.0, p) if kind == "power" else hill_forms(1e6, scale, p) for kind, p, scale, _ in drawn]
    grids = [breakpoints(curve, 0.0, 10 * scale, 1e-2) for curve, (_, _, scale, _) in zip(curves, drawn, strict=True)]
    spans = np.array([abs(float(c.value(g[-1]) - c.value(g[0]))) for c, g in zip(curves, grids, strict=True)])
    targets = spans * np.array([share for *_, share in drawn])
    which, added = quartered_starts(CurveStack.of(curves), np.array([g[0] for g in grids]),
                                    np.array([g[1] for g in grids]), np.array([g[-1] for g in grids]), targets)
    for k, (curve, grid, target) in enumerate(zip(curves, grids, targets, strict=True)):
        expected = tighten_start(curve, grid, target)
        tightened = np.union1d(grid, added[which == k])
        np.testing.assert_allclose(tightened, expected, rtol=1e-12, atol=0)
        value, marginal = forms[k]
        b = tightened[1]
        lift = value(b) - marginal(b) * b - value(0.0)
        assert lift <= target * (1 + 1e-9) or b <= 1e-300 * grid[-1] * 4
