"""Compile a ``Formulation`` into sparse arrays on piecewise-linear segments.

Columns: each campaign's spend ``s_i``, then its segments ``x_ik`` (``0 <= x_ik <= width``),
then, for campaigns that need them, binaries that force segments to fill in order.
Rows: the formulation's rows (spend terms on ``s_i``, outcome terms on segment slopes),
then one linking row per campaign (``s_i - sum_k x_ik = lo_i``), then ordering rows.

``purpose="plan"`` builds an inner approximation: each row sees the envelope that makes it
hardest to satisfy, so a plan feasible here is feasible on the exact curves; the objective
uses chords. ``purpose="bound"`` builds an outer approximation (the opposite envelopes), whose
optimum bounds the true optimum: the two together are the optimality certificate.

Segments fill in order by themselves when every row and the objective value earlier
segments at least as much as later ones (concave curves in rows that want more of them);
campaigns where that fails get ordering binaries (an exact MILP), never a convexified curve.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from optimizer.curves import Piecewise, estimate
from optimizer.curves.linearise import Estimate, tighten_start
from optimizer.model.campaigns import CampaignModel, campaign_grids
from optimizer.model.expressions import Expr
from optimizer.model.formulation import Formulation

Purpose = Literal["plan", "bound"]
_MONOTONE_SLACK = 1e-9
_NEGLIGIBLE_LIFT = 1e-9
"""A lifted start below this share of the curve's range is within the re-check's tolerance."""


@dataclass(frozen=True)
class CompiledModel:
    """A linear (or mixed-integer) program as arrays, in the goal's own sense."""

    sense: Literal["maximize", "minimize"]
    cost: np.ndarray
    offset: float
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    matrix: sp.csc_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    row_spec: np.ndarray
    """For each row, the index of its ``RowSpec`` in the formulation; -1 for structural rows."""
    n_campaigns: int
    segment_start: np.ndarray
    """Campaign i's segments are columns ``n + segment_start[i]`` to ``n + segment_start[i + 1]``."""
    grids: tuple[np.ndarray, ...]
    milp: tuple[int, ...]
    purpose: Purpose

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self.matrix.shape

    @property
    def is_mip(self) -> bool:
        """True when some campaigns needed ordering binaries."""
        return bool(self.integer.any())


@dataclass(frozen=True)
class _Row:
    spec: int
    sign: float  # +1 for >= rows, -1 for <= rows, 0 for equalities (no outcome terms)
    lower: float
    upper: float
    expr: Expr


def compile_model(form: Formulation, purpose: Purpose, grids: tuple[np.ndarray, ...] | None = None) -> CompiledModel:
    """The formulation's program for ``purpose``; ``grids`` reuses breakpoints from another compile."""
    n = form.size
    if grids is None:
        grids = campaign_grids(form.campaigns, form.tolerance)
    rows = _model_rows(form)
    row_weights = _curve_weights(form, [r.expr for r in rows])
    goal_weights = _curve_weights(form, [form.goal.expr])
    goal_prefers = 1.0 if form.goal.sense == "maximize" else -1.0

    triplets = _Triplets()
    for r, row in enumerate(rows):
        nz = np.flatnonzero(row.expr.spend)
        triplets.add(np.full(nz.size, r), nz, row.expr.spend[nz])
    rhs_shift = np.zeros(len(rows))
    costs, widths, final_grids, milp = [], [], [], []
    offset, first_column = 0.0, n
    for i, campaign in enumerate(form.campaigns):
        uses = [_Use(r, rows[r].sign, w) for r, w in row_weights[i] if w]
        uses += [_Use(None, goal_prefers, w) for _, w in goal_weights[i] if w]
        segments = _campaign_segments(campaign, grids[i], uses, purpose)
        cols = first_column + np.arange(segments.width.size)
        first_column += segments.width.size
        cost = np.zeros(segments.width.size)
        for use, coefs, constant in zip(uses, segments.coefs, segments.constants, strict=True):
            if use.row is None:
                cost, offset = coefs, offset + constant
            else:
                triplets.add(np.full(cols.size, use.row), cols, coefs)
                rhs_shift[use.row] -= constant
        if segments.ordered:
            milp.append((i, segments.ordered))
        costs.append(cost)
        widths.append(segments.width)
        final_grids.append(segments.grid)
    return _assemble(form, purpose, rows, rhs_shift, triplets, costs, widths, final_grids, milp, offset)


def _model_rows(form: Formulation) -> list[_Row]:
    """Each RowSpec as one or two single-sided rows (equalities on outcomes are split)."""
    rows = []
    for index, spec in enumerate(form.rows):
        if spec.sense == "==" and not spec.expr.has_outcomes:
            rows.append(_Row(index, 0.0, spec.rhs, spec.rhs, spec.expr))
            continue
        if spec.sense in (">=", "=="):
            rows.append(_Row(index, 1.0, spec.rhs, np.inf, spec.expr))
        if spec.sense in ("<=", "=="):
            rows.append(_Row(index, -1.0, -np.inf, spec.rhs, spec.expr))
    return rows


def _curve_weights(form: Formulation, exprs: list[Expr]) -> list[list[tuple[int, dict[int, float]]]]:
    """Per campaign: for each expression touching it, the weight on each of its curves."""
    per_campaign: list[dict[int, dict[int, float]]] = [
        defaultdict(lambda: defaultdict(float)) for _ in range(form.size)
    ]
    for e, expr in enumerate(exprs):
        for outcome, weights in expr.outcomes.items():
            for i in np.flatnonzero(weights):
                term = form.campaigns[i].terms.get(outcome)
                if term is not None:
                    per_campaign[i][e][term.curve] += float(weights[i]) * term.multiplier
    return [[(e, dict(w)) for e, w in sorted(d.items())] for d in per_campaign]


@dataclass(frozen=True)
class _Use:
    """A row (or the goal, ``row=None``) that sees some of one campaign's curves."""

    row: int | None
    prefers: float
    """+1 when the row (or goal) is easier to satisfy (or better) with more of the weighted sum."""
    weights: dict[int, float]

    def estimate(self, purpose: Purpose, curve: int) -> Estimate:
        """The estimate of ``curve`` this use sees: the plan's side is the safe one, the bound's the generous one."""
        if self.row is None and purpose == "plan":
            return "chord"
        wants_more = self.prefers * self.weights[curve] > 0
        if purpose == "plan":
            return "lower" if wants_more else "upper"
        return "upper" if wants_more else "lower"


@dataclass(frozen=True)
class _CampaignSegments:
    """One campaign's segments and, per use, its coefficient on each segment and its constant."""

    grid: np.ndarray
    width: np.ndarray
    coefs: list[np.ndarray]
    constants: list[float]
    ordered: int
    """How many leading segments need ordering binaries (0: the LP fills them in order by itself)."""


def _campaign_segments(campaign: CampaignModel, base: np.ndarray, uses: list[_Use],
                       purpose: Purpose) -> _CampaignSegments:
    """Segments of one campaign; ordering binaries are needed when a use values a later segment more."""
    needed = {(curve, use.estimate(purpose, curve)) for use in uses for curve in use.weights}
    if purpose == "plan":
        base = _exact_start(campaign, base, needed)
    grid, values = _estimates_on_grid(campaign, base, needed)
    if purpose == "plan":
        _drop_negligible_lifts(campaign, grid, values)
    width = np.diff(grid)
    coefs, constants = [], []
    for use in uses:
        coef, constant = np.zeros(width.size), 0.0
        for curve, weight in use.weights.items():
            curve_values = values[(curve, use.estimate(purpose, curve))]
            constant += weight * curve_values[0]
            if width.size:
                coef += weight * np.diff(curve_values) / width
        coefs.append(coef)
        constants.append(constant)
    return _CampaignSegments(grid, width, coefs, constants, _ordered(uses, coefs))


def _ordered(uses: list[_Use], coefs: list[np.ndarray]) -> int:
    """Segments up to the last place where some use values the next segment more: only those
    need binaries; beyond it every use prefers earlier segments, so the LP fills them in order."""
    rises = np.zeros(max(coefs[0].size - 1, 0) if coefs else 0, dtype=bool)
    for use, coef in zip(uses, coefs, strict=True):
        if coef.size > 1:
            weighted = use.prefers * coef
            scale = float(np.abs(weighted).max())
            rises |= np.diff(weighted) > _MONOTONE_SLACK * max(scale, 1e-300)
    return int(np.flatnonzero(rises)[-1]) + 1 if rises.any() else 0


def _exact_start(campaign: CampaignModel, base: np.ndarray, needed: set[tuple[int, Estimate]]) -> np.ndarray:
    """Breakpoints closing in on a vertical start wherever the plan program uses an upper envelope.

    The envelope is lifted at the start (see ``tighten_start``); in the plan program that lift
    would make the campaign's lowest spend look worse than it is (a CTR floor, say, could not
    be met at zero spend), so the first segment is shrunk until the lift is negligible.
    """
    for curve, kind in needed:
        function = campaign.curves[curve]
        if kind == "upper" and base.size > 1 and np.isinf(function.marginal(base[0])):
            span = abs(float(function.value(base[-1]) - function.value(base[0])))
            base = tighten_start(function, base, _NEGLIGIBLE_LIFT * span)
    return base


def _drop_negligible_lifts(campaign: CampaignModel, grid: np.ndarray,
                           values: dict[tuple[int, Estimate], np.ndarray]) -> None:
    """Start upper envelopes at the curve's own value where their lift is negligible.

    No continuous line stays above a curve that starts vertically, so a lift is the price of
    a safe envelope; once ``_exact_start`` has made it negligible, the campaign's lowest spend
    is better shown exactly (spending nothing must meet a CTR floor that spending nothing meets).
    """
    if grid.size < 2:
        return
    for (curve, kind), estimate_values in values.items():
        function = campaign.curves[curve]
        if kind == "upper" and np.isinf(function.marginal(grid[0])):
            exact = float(function.value(grid[0]))
            span = abs(float(function.value(grid[-1])) - exact)
            if estimate_values[0] - exact <= _NEGLIGIBLE_LIFT * span:
                estimate_values[0] = exact


def _estimates_on_grid(campaign: CampaignModel, base: np.ndarray,
                       needed: set[tuple[int, Estimate]]) -> tuple[np.ndarray, dict[tuple[int, Estimate], np.ndarray]]:
    """The campaign's final grid and each needed estimate's values on it."""
    if not needed:
        return base[[0, -1]] if base.size > 1 else base, {}
    pieces: dict[tuple[int, Estimate], Piecewise] = {
        (curve, kind): estimate(campaign.curves[curve], base, kind) for curve, kind in needed
    }
    # Every corner is kept, however close to another: scaling makes tiny segments harmless,
    # and dropping a corner could push an envelope across the curve.
    grid = np.unique(np.concatenate([base, *(p.xs for p in pieces.values())]))
    return grid, {key: piece.at(grid) for key, piece in pieces.items()}


class _Triplets:
    """Sparse matrix entries collected as arrays."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []

    def add(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        self.rows.append(np.asarray(rows, dtype=np.int64))
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.asarray(vals, dtype=float))

    def matrix(self, shape: tuple[int, int]) -> sp.csc_array:
        rows = np.concatenate(self.rows) if self.rows else np.zeros(0, np.int64)
        cols = np.concatenate(self.cols) if self.cols else np.zeros(0, np.int64)
        vals = np.concatenate(self.vals) if self.vals else np.zeros(0)
        keep = vals != 0
        return sp.coo_array((vals[keep], (rows[keep], cols[keep])), shape=shape).tocsc()


def _assemble(form: Formulation, purpose: Purpose, rows: list[_Row], rhs_shift: np.ndarray, triplets: _Triplets,
              cost_segments: list[np.ndarray], widths: list[np.ndarray], grids: list[np.ndarray],
              milp: list[tuple[int, int]], offset: float) -> CompiledModel:
    n = form.size
    counts = np.array([w.size for w in widths], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(counts)])
    n_seg = int(start[-1])
    n_bin = int(sum(ordered for _, ordered in milp))
    n_cols = n + n_seg + n_bin
    m = len(rows)

    # Linking rows: s_i - sum_k x_ik = lo_i.
    link = m + np.arange(n)
    triplets.add(link, np.arange(n), np.ones(n))
    seg_owner = np.repeat(np.arange(n), counts)
    triplets.add(m + seg_owner, n + np.arange(n_seg), -np.ones(n_seg))

    # Ordering rows for MILP campaigns, binaries z_k for the first `ordered` segments:
    # x_k >= w_k z_k (z_k = 1: segment k is full), and every later segment j only when the one
    # before is full: x_j <= w_j z_{j-1} for the ordered part, x_j <= w_j z_last for the rest.
    order_lower, order_upper = [], []
    next_row, next_bin = m + n, n + n_seg
    for i, ordered in milp:
        seg = n + start[i] + np.arange(counts[i])
        z = next_bin + np.arange(ordered)
        gated = counts[i] - 1
        fill, gate = next_row + np.arange(ordered), next_row + ordered + np.arange(gated)
        gate_by = z[np.minimum(np.arange(gated), ordered - 1)]
        triplets.add(fill, seg[:ordered], np.ones(ordered))
        triplets.add(fill, z, -widths[i][:ordered])
        triplets.add(gate, seg[1:], np.ones(gated))
        triplets.add(gate, gate_by, -widths[i][1:])
        order_lower += [np.zeros(ordered), np.full(gated, -np.inf)]
        order_upper += [np.full(ordered, np.inf), np.zeros(gated)]
        next_row += ordered + gated
        next_bin += ordered

    lo = np.array([c.lo for c in form.campaigns])
    hi = np.array([c.hi for c in form.campaigns])
    row_lower = np.concatenate([[r.lower for r in rows] + rhs_shift, lo, *order_lower])
    row_upper = np.concatenate([[r.upper for r in rows] + rhs_shift, lo, *order_upper])
    cost = np.concatenate([form.goal.expr.spend, *cost_segments, np.zeros(n_bin)])
    col_lower = np.concatenate([lo, np.zeros(n_seg + n_bin)])
    col_upper = np.concatenate([hi, *widths, np.ones(n_bin)])
    integer = np.zeros(n_cols, dtype=bool)
    integer[n + n_seg:] = True
    row_spec = np.concatenate([[r.spec for r in rows], np.full(next_row - m, -1)]).astype(np.int64)
    return CompiledModel(
        sense=form.goal.sense, cost=cost, offset=offset, col_lower=col_lower, col_upper=col_upper,
        integer=integer, matrix=triplets.matrix((next_row, n_cols)), row_lower=row_lower, row_upper=row_upper,
        row_spec=row_spec, n_campaigns=n, segment_start=start, grids=tuple(grids), milp=tuple(i for i, _ in milp),
        purpose=purpose,
    )
