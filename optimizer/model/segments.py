"""Every campaign's segments at once: one grid per campaign, and each use's slope on each segment.

A *use* is a row of the compiled program, or the goal, that weighs some of a campaign's curves.
Each use sees one estimate of each curve (see ``compile``): in the plan program the one that
makes the row hardest to satisfy (the goal sees chords), in the bound program the most generous.
A campaign's grid is its breakpoints plus every corner of the envelopes its uses see; a use's
coefficient on a segment is its weighted sum of those estimates' slopes there.

Everything is computed for all campaigns together: grids are kept as one array of points
ordered by campaign, then spend, and the estimates of all curves are built with array
operations (``many_estimates``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from optimizer.curves.batch import many_estimates, quartered_starts
from optimizer.curves.stacks import CurveStack, block_starts, interp_blocks, ranges, split_blocks
from optimizer.model.expressions import Expr
from optimizer.model.formulation import Formulation

Purpose = Literal["plan", "bound"]
_MONOTONE_SLACK = 1e-9
_NEGLIGIBLE_LIFT = 1e-9
"""A lifted start below this share of the curve's range is within the re-check's tolerance."""
_KINDS = np.array(["chord", "upper", "lower"])
_CHORD, _UPPER, _LOWER = range(3)


@dataclass(frozen=True)
class Uses:
    """Which use weighs which curve of which campaign, and how much: one entry per (use, campaign, curve).

    Entries are ordered by campaign, then use, then the order in which the curve first appears
    in the use's expression (the order its slopes are summed in).
    """

    use: np.ndarray
    campaign: np.ndarray
    curve: np.ndarray
    """The curve's position among its campaign's curves."""
    weight: np.ndarray
    prefers: np.ndarray
    """Per use: +1 when more of the weighted sum makes the row easier to satisfy (or the goal better), else -1."""
    goal: int
    """The use that is the goal (-1 when no use is)."""


def curve_uses(form: Formulation, exprs: Sequence[Expr], prefers: Sequence[float], goal: int = -1) -> Uses:
    """The entries of ``exprs`` (use ``e`` is ``exprs[e]``): each outcome weight times the outcome's
    multiple of a campaign's curve, summed per (use, campaign, curve)."""
    curve_of, multiple = _outcome_terms(form)
    parts = [np.zeros((0, 4))]
    for e, expr in enumerate(exprs):
        for outcome, weights in expr.outcomes.items():
            if outcome not in curve_of:
                continue
            touched = np.flatnonzero(weights)
            touched = touched[curve_of[outcome][touched] >= 0]
            parts.append(np.column_stack([np.full(touched.size, e), touched, curve_of[outcome][touched],
                                          weights[touched] * multiple[outcome][touched]]))
    entries = np.concatenate(parts)
    use, campaign, curve = (entries[:, k].astype(np.int64) for k in range(3))
    key = (campaign * len(exprs) + use) * (int(curve.max(initial=0)) + 1) + curve
    keys, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    weight = np.zeros(keys.size)
    np.add.at(weight, inverse, entries[:, 3])  # in order of appearance, as a running sum would
    order = np.lexsort((first, use[first], campaign[first]))
    chosen = first[order]
    return Uses(use[chosen], campaign[chosen], curve[chosen], weight[order], np.asarray(prefers, dtype=float), goal)


def _outcome_terms(form: Formulation) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per outcome: each campaign's curve for it (-1 where undefined) and the outcome's multiple of that curve."""
    curve_of: dict[str, np.ndarray] = {}
    multiple: dict[str, np.ndarray] = {}
    for i, campaign in enumerate(form.campaigns):
        for name, term in campaign.terms.items():
            if name not in curve_of:
                curve_of[name], multiple[name] = np.full(form.size, -1), np.zeros(form.size)
            curve_of[name][i], multiple[name][i] = term.curve, term.multiplier
    return curve_of, multiple


@dataclass(frozen=True)
class Segments:
    """All campaigns' segments and, per (use, campaign) pair, a coefficient on each of the campaign's segments.

    Campaign ``i``'s segments are ``width[start[i]:start[i + 1]]``; pair ``p`` is use ``use[p]`` on
    campaign ``campaign[p]``, with coefficients ``coef[coef_start[p]:coef_start[p + 1]]`` (one per
    segment of the campaign) and constant ``constant[p]`` (its estimates' sum at the lowest spend).
    """

    grids: tuple[np.ndarray, ...]
    width: np.ndarray
    start: np.ndarray
    use: np.ndarray
    campaign: np.ndarray
    coef: np.ndarray
    coef_start: np.ndarray
    constant: np.ndarray
    ordered: np.ndarray
    """Per campaign: how many leading segments need ordering binaries (0: the LP fills them in order by itself)."""


def campaign_segments(form: Formulation, base: Sequence[np.ndarray], uses: Uses, purpose: Purpose) -> Segments:
    """Every campaign's segments on breakpoints ``base``, as the uses of ``purpose`` see them."""
    n = form.size
    curve_start = np.concatenate([[0], np.cumsum([len(c.curves) for c in form.campaigns])]).astype(np.int64)
    stack = CurveStack.of([curve for c in form.campaigns for curve in c.curves])
    kind = _estimate_kinds(uses, purpose)
    needed, first, estimate_of = np.unique((curve_start[uses.campaign] + uses.curve) * _KINDS.size + kind,
                                           return_index=True, return_inverse=True)
    est = _Estimates(uses.campaign[first], needed // _KINDS.size, _KINDS[needed % _KINDS.size])
    owner = np.repeat(np.arange(n), [g.size for g in base])
    xs = np.concatenate(base)
    if purpose == "plan":
        owner, xs = _exact_starts(stack, est, owner, xs, n)
    grid_owner, grid, values = _estimates_on_grids(stack, est, owner, xs, n)
    starts = block_starts(grid_owner, n)
    if purpose == "plan":
        _drop_negligible_lifts(stack, est, grid, starts, values)
    return _coefficients(uses, estimate_of, est, grid, starts, values, n)


def _estimate_kinds(uses: Uses, purpose: Purpose) -> np.ndarray:
    """The estimate each entry's use sees (a position in ``_KINDS``): the plan's side is the safe
    one, the bound's the generous one."""
    wants_more = uses.prefers[uses.use] * uses.weight > 0
    if purpose == "bound":
        return np.where(wants_more, _UPPER, _LOWER)
    return np.where(uses.use == uses.goal, _CHORD, np.where(wants_more, _LOWER, _UPPER))


@dataclass(frozen=True)
class _Estimates:
    """The distinct estimates the uses need, ordered by campaign, curve, kind."""

    campaign: np.ndarray
    curve: np.ndarray
    """Position in the stack of every campaign's curves."""
    kind: np.ndarray


def _exact_starts(stack: CurveStack, est: _Estimates, owner: np.ndarray, xs: np.ndarray,
                  n: int) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints closing in on a vertical start wherever the plan program uses an upper envelope.

    The envelope is lifted at the start (see ``tighten_start``); in the plan program that lift
    would make the campaign's lowest spend look worse than it is (a CTR floor, say, could not
    be met at zero spend), so the first segment is shrunk until the lift is negligible, for
    each such curve of a campaign in turn.
    """
    starts = block_starts(owner, n)
    upper = np.flatnonzero((est.kind == "upper") & (np.diff(starts)[est.campaign] > 1))
    upper = upper[np.isinf(stack.take(est.curve[upper]).marginal(xs[starts[est.campaign[upper]]]))]
    campaign = est.campaign[upper]
    lo, last = xs[starts[:-1]], xs[np.maximum(starts[1:] - 1, 0)]
    first = xs[np.minimum(starts[:-1] + 1, xs.size - 1)]  # single-point campaigns are never quartered
    turn = np.arange(upper.size) - np.searchsorted(campaign, campaign)
    added_owner, added = [owner], [xs]
    for rank in range(int(turn.max(initial=-1)) + 1):
        now = upper[turn == rank]
        i = est.campaign[now]
        curve = stack.take(est.curve[now])
        target = _NEGLIGIBLE_LIFT * np.abs(curve.value(last[i]) - curve.value(lo[i]))
        which, points = quartered_starts(curve, lo[i], first[i], last[i], target)
        added_owner.append(i[which])
        added.append(points)
        np.minimum.at(first, i[which], points)  # the next curve's quartering starts from the narrowest
    owner, xs = np.concatenate(added_owner), np.concatenate(added)
    order = np.lexsort((xs, owner))
    return owner[order], xs[order]


def _estimates_on_grids(stack: CurveStack, est: _Estimates, owner: np.ndarray, xs: np.ndarray,
                        n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each campaign's final grid (its breakpoints and every corner of its estimates), and each
    estimate's values on its campaign's grid, estimate by estimate.

    A campaign no use looks at keeps only the ends of its range: one segment.
    """
    starts = block_starts(owner, n)
    sizes = np.diff(starts)
    on_base = ranges(starts[est.campaign], sizes[est.campaign])
    piece = np.repeat(np.arange(est.campaign.size), sizes[est.campaign])
    p_owner, p_xs, p_ys = many_estimates(stack.take(est.curve), est.kind, piece, xs[on_base])
    unseen = np.setdiff1d(np.arange(n), est.campaign)
    ends = np.concatenate([starts[unseen], np.maximum(starts[unseen + 1] - 1, starts[unseen])])
    # Every corner is kept, however close to another: scaling makes tiny segments harmless,
    # and dropping a corner could push an envelope across the curve.
    grid_owner = np.concatenate([est.campaign[p_owner], owner[ends]])
    grid = np.concatenate([p_xs, xs[ends]])
    order = np.lexsort((grid, grid_owner))
    grid_owner, grid = grid_owner[order], grid[order]
    distinct = np.r_[True, (grid_owner[1:] != grid_owner[:-1]) | (grid[1:] != grid[:-1])]
    grid_owner, grid = grid_owner[distinct], grid[distinct]
    grid_starts = block_starts(grid_owner, n)
    sizes = np.diff(grid_starts)[est.campaign]
    query = ranges(grid_starts[est.campaign], sizes)
    values = interp_blocks(np.repeat(np.arange(est.campaign.size), sizes), grid[query], p_owner, p_xs, p_ys)
    return grid_owner, grid, values


def _drop_negligible_lifts(stack: CurveStack, est: _Estimates, grid: np.ndarray, starts: np.ndarray,
                           values: np.ndarray) -> None:
    """Start upper envelopes at the curve's own value where their lift is negligible.

    No continuous line stays above a curve that starts vertically, so a lift is the price of
    a safe envelope; once ``_exact_starts`` has made it negligible, the campaign's lowest spend
    is better shown exactly (spending nothing must meet a CTR floor that spending nothing meets).
    """
    sizes = np.diff(starts)[est.campaign]
    first_value = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    upper = np.flatnonzero((est.kind == "upper") & (sizes >= 2))
    lo = grid[starts[est.campaign[upper]]]
    hi = grid[starts[est.campaign[upper] + 1] - 1]
    curve = stack.take(est.curve[upper])
    vertical = np.isinf(curve.marginal(lo))
    upper, lo, hi, curve = upper[vertical], lo[vertical], hi[vertical], curve.take(np.flatnonzero(vertical))
    exact = curve.value(lo)
    span = np.abs(curve.value(hi) - exact)
    at = first_value[upper]
    negligible = values[at] - exact <= _NEGLIGIBLE_LIFT * span
    values[at[negligible]] = exact[negligible]


def _coefficients(uses: Uses, estimate_of: np.ndarray, est: _Estimates, grid: np.ndarray, starts: np.ndarray,
                  values: np.ndarray, n: int) -> Segments:
    """Each (use, campaign) pair's weighted sum of its estimates' slopes on each segment of the campaign."""
    sizes = np.diff(starts)
    segments = np.maximum(sizes - 1, 0)
    seg_start = np.concatenate([[0], np.cumsum(segments)]).astype(np.int64)
    inner = ranges(starts[:-1], segments)
    width = grid[inner + 1] - grid[inner]
    value_start = np.concatenate([[0], np.cumsum(sizes[est.campaign])]).astype(np.int64)
    pair_of, pair_first = _pairs(uses)
    pair_campaign, pair_use = uses.campaign[pair_first], uses.use[pair_first]
    coef_start = np.concatenate([[0], np.cumsum(segments[pair_campaign])]).astype(np.int64)

    count = segments[uses.campaign]
    at_value = ranges(value_start[estimate_of], count)
    term = np.repeat(uses.weight, count) * (values[at_value + 1] - values[at_value]) \
        / width[ranges(seg_start[uses.campaign], count)]
    coef = np.zeros(int(coef_start[-1]))
    np.add.at(coef, ranges(coef_start[pair_of], count), term)  # in entry order, as a running sum would
    constant = np.zeros(pair_first.size)
    np.add.at(constant, pair_of, uses.weight * values[value_start[estimate_of]])
    ordered = _ordered(uses.prefers[pair_use], pair_campaign, coef, coef_start, n)
    return Segments(tuple(split_blocks(grid, starts)), width, seg_start, pair_use, pair_campaign, coef, coef_start,
                    constant, ordered)


def _pairs(uses: Uses) -> tuple[np.ndarray, np.ndarray]:
    """Each entry's (use, campaign) pair, and each pair's first entry (entries come pair by pair)."""
    change = np.r_[True, (uses.use[1:] != uses.use[:-1]) | (uses.campaign[1:] != uses.campaign[:-1])]
    first = np.flatnonzero(change[: uses.use.size])
    return np.repeat(np.arange(first.size), np.diff(np.r_[first, uses.use.size])), first


def _ordered(prefers: np.ndarray, campaign: np.ndarray, coef: np.ndarray, coef_start: np.ndarray,
             n: int) -> np.ndarray:
    """Per campaign, segments up to the last place where some use values the next segment more: only
    those need binaries; beyond it every use prefers earlier segments, so the LP fills them in order."""
    count = np.diff(coef_start)
    several = np.flatnonzero(count > 1)
    weighted = np.repeat(prefers, count) * coef
    scale = np.zeros(count.size)
    filled = np.flatnonzero(count > 0)
    if filled.size:
        scale[filled] = np.maximum.reduceat(np.abs(weighted), coef_start[filled])
    step = ranges(coef_start[several], count[several] - 1)
    pair = np.repeat(several, count[several] - 1)
    rises = weighted[step + 1] - weighted[step] > _MONOTONE_SLACK * np.maximum(scale[pair], 1e-300)
    ordered = np.zeros(n, dtype=np.int64)
    np.maximum.at(ordered, campaign[pair[rises]], (step - coef_start[pair])[rises] + 1)
    return ordered
