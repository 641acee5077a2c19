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
from optimizer.model.campaigns import CampaignModel
from optimizer.model.expressions import Expr
from optimizer.model.formulation import Formulation

Purpose = Literal["plan", "bound"]
_MONOTONE_SLACK = 1e-9


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
        return self.matrix.shape

    @property
    def is_mip(self) -> bool:
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
        grids = tuple(c.grid(form.tolerance) for c in form.campaigns)
    rows = _model_rows(form)
    row_weights = _curve_weights(form, [r.expr for r in rows])
    goal_sign = 1.0 if form.goal.sense == "maximize" else -1.0
    goal_weights = _curve_weights(form, [form.goal.expr])

    triplets = _Triplets()
    for r, row in enumerate(rows):
        nz = np.flatnonzero(row.expr.spend)
        triplets.add(np.full(nz.size, r), nz, row.expr.spend[nz])
    rhs_shift = np.zeros(len(rows))
    cost_segments, milp, widths, final_grids = [], [], [], []
    offset = 0.0
    seg_count = 0
    for i, campaign in enumerate(form.campaigns):
        touching = [(r, w) for r, w in row_weights[i] if w]
        objective = goal_weights[i][0][1] if goal_weights[i] else {}
        kinds = _estimate_kinds(purpose, touching, rows, objective, goal_sign)
        grid, values = _campaign_estimates(campaign, grids[i], kinds)
        width = np.diff(grid)
        slopes = {key: np.diff(v) / width for key, v in values.items()} if width.size else {}
        cols = n + seg_count + np.arange(width.size)
        monotone = True
        for r, weights in touching:
            coefs = np.zeros(width.size)
            for curve, w in weights.items():
                kind = kinds[("row", r, curve)]
                rhs_shift[r] -= w * values[(curve, kind)][0]
                if width.size:
                    coefs += w * slopes[(curve, kind)]
            triplets.add(np.full(width.size, r), cols, coefs)
            monotone &= _non_increasing(rows[r].sign * coefs)
        seg_cost = np.zeros(width.size)
        for curve, w in objective.items():
            kind = kinds[("goal", curve)]
            offset += w * values[(curve, kind)][0]
            if width.size:
                seg_cost += w * slopes[(curve, kind)]
        monotone &= _non_increasing(goal_sign * seg_cost)
        if not monotone and width.size > 1:
            milp.append(i)
        cost_segments.append(seg_cost)
        widths.append(width)
        final_grids.append(grid)
        seg_count += width.size
    return _assemble(form, purpose, rows, rhs_shift, triplets, cost_segments, widths, final_grids, milp, offset)


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


def _estimate_kinds(purpose: Purpose, touching, rows: list[_Row], objective: dict[int, float],
                    goal_sign: float) -> dict[tuple, str]:
    """Which estimate (chord, upper or lower envelope) each row and the goal use per curve."""
    kinds: dict[tuple, str] = {}
    for r, weights in touching:
        for curve, w in weights.items():
            wants_more = rows[r].sign * w > 0
            if purpose == "plan":
                kinds[("row", r, curve)] = "lower" if wants_more else "upper"
            else:
                kinds[("row", r, curve)] = "upper" if wants_more else "lower"
    for curve, w in objective.items():
        if purpose == "plan":
            kinds[("goal", curve)] = "chord"
        else:
            kinds[("goal", curve)] = "upper" if goal_sign * w > 0 else "lower"
    return kinds


def _campaign_estimates(campaign: CampaignModel, base: np.ndarray,
                        kinds: dict[tuple, str]) -> tuple[np.ndarray, dict[tuple[int, str], np.ndarray]]:
    """The campaign's final grid and each needed estimate's values on it."""
    needed = {(key[-1], kind) for key, kind in kinds.items()}
    if not needed:
        return base[[0, -1]] if base.size > 1 else base, {}
    pieces: dict[tuple[int, str], Piecewise] = {
        (curve, kind): estimate(campaign.curves[curve], base, kind) for curve, kind in needed  # type: ignore[arg-type]
    }
    # Every corner is kept, however close to another: scaling makes tiny segments harmless,
    # and dropping a corner could push an envelope across the curve.
    grid = np.unique(np.concatenate([base, *(p.xs for p in pieces.values())]))
    return grid, {key: piece.at(grid) for key, piece in pieces.items()}


def _non_increasing(coefs: np.ndarray) -> bool:
    if coefs.size < 2:
        return True
    scale = float(np.abs(coefs).max())
    return bool(np.all(np.diff(coefs) <= _MONOTONE_SLACK * max(scale, 1e-300)))


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
              milp: list[int], offset: float) -> CompiledModel:
    n = form.size
    counts = np.array([w.size for w in widths], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(counts)])
    n_seg = int(start[-1])
    n_bin = int(sum(max(counts[i] - 1, 0) for i in milp))
    n_cols = n + n_seg + n_bin
    m = len(rows)

    # Linking rows: s_i - sum_k x_ik = lo_i.
    link = m + np.arange(n)
    triplets.add(link, np.arange(n), np.ones(n))
    seg_owner = np.repeat(np.arange(n), counts)
    triplets.add(m + seg_owner, n + np.arange(n_seg), -np.ones(n_seg))

    # Ordering rows for MILP campaigns: x_k >= w_k z_k and x_{k+1} <= w_{k+1} z_k.
    order_lower, order_upper = [], []
    next_row, next_bin = m + n, n + n_seg
    for i in milp:
        k = counts[i] - 1
        seg = n + start[i] + np.arange(counts[i])
        z = next_bin + np.arange(k)
        fill, gate = next_row + np.arange(k), next_row + k + np.arange(k)
        triplets.add(fill, seg[:-1], np.ones(k))
        triplets.add(fill, z, -widths[i][:-1])
        triplets.add(gate, seg[1:], np.ones(k))
        triplets.add(gate, z, -widths[i][1:])
        order_lower += [np.zeros(k), np.full(k, -np.inf)]
        order_upper += [np.full(k, np.inf), np.zeros(k)]
        next_row += 2 * k
        next_bin += k

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
        row_spec=row_spec, n_campaigns=n, segment_start=start, grids=tuple(grids), milp=tuple(milp),
        purpose=purpose,
    )
