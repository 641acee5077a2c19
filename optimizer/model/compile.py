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

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import scipy.sparse as sp

from optimizer.curves.stacks import ranges, split_blocks
from optimizer.model.campaigns import campaign_grids
from optimizer.model.expressions import Expr
from optimizer.model.formulation import Formulation
from optimizer.model.segments import Purpose, Segments, campaign_segments, curve_uses


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

    def relaxed(self) -> CompiledModel:
        """The LP relaxation: binaries may take any value in [0, 1]."""
        return replace(self, integer=np.zeros_like(self.integer))

    def unsettled(self, x: np.ndarray) -> np.ndarray:
        """For each binary, whether ``x`` leaves it fractional."""
        binaries = x[self.integer]
        return np.abs(binaries - np.round(binaries)) > 1e-9

    def with_binaries_fixed(self, x: np.ndarray) -> CompiledModel:
        """The LP left when the binaries are fixed at their (rounded) values in ``x``."""
        pattern = np.round(x) * self.integer
        return replace(
            self,
            col_lower=np.where(self.integer, pattern, self.col_lower),
            col_upper=np.where(self.integer, pattern, self.col_upper),
            integer=np.zeros_like(self.integer),
        )

    def row_sizes(self) -> np.ndarray:
        """Each row's size: the most its terms can add up to over the column bounds, plus its bound.

        A row's value never strays further than its size from its bound, so a share of it is a
        measure of slack that means the same for a budget, a leads floor or a CPL cap."""
        reach = np.maximum(np.abs(np.where(np.isfinite(self.col_lower), self.col_lower, 0.0)),
                           np.abs(np.where(np.isfinite(self.col_upper), self.col_upper, 0.0)))
        bound = np.where(np.isfinite(self.row_lower), np.abs(self.row_lower), 0.0) + \
            np.where(np.isfinite(self.row_upper), np.abs(self.row_upper), 0.0)
        return abs(self.matrix) @ reach + bound + 1e-300

    def with_depth(self) -> CompiledModel:
        """The program of how deep inside its constraint rows a plan can sit.

        One more column, the depth ``t`` in [-1, 1], is the only thing maximised; every one-sided
        constraint row must hold with ``t`` times its size to spare (``a x - t size >= lower``,
        ``a x + t size <= upper``); the structural rows and equalities hold as they are. A depth
        of at least 0 is a plan of this program; below 0, the least share of its size by which
        some row must give. Taken at -1, every row holds whatever the plan (``row_sizes``).
        """
        lower, upper = np.isfinite(self.row_lower), np.isfinite(self.row_upper)
        soft = (self.row_spec >= 0) & (lower != upper)
        size = self.row_sizes()
        column = np.where(soft, np.where(lower, -size, size), 0.0)
        rows = np.flatnonzero(column)
        depth = sp.csc_array((column[rows], (rows, np.zeros(rows.size, dtype=np.int64))), shape=(self.shape[0], 1))
        bounded = bool(np.all(np.isfinite(self.col_lower) & np.isfinite(self.col_upper)))
        return replace(
            self, sense="maximize", cost=np.r_[np.zeros(self.shape[1]), 1.0], offset=0.0,
            col_lower=np.r_[self.col_lower, -1.0 if bounded else -np.inf], col_upper=np.r_[self.col_upper, 1.0],
            integer=np.r_[self.integer, False], matrix=sp.csc_array(sp.hstack([self.matrix, depth])),
        )


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
    goal_prefers = 1.0 if form.goal.sense == "maximize" else -1.0
    uses = curve_uses(form, [r.expr for r in rows] + [form.goal.expr], [r.sign for r in rows] + [goal_prefers],
                      goal=len(rows))
    segments = campaign_segments(form, grids, uses, purpose)

    triplets = _Triplets()
    for r, row in enumerate(rows):
        nz = np.flatnonzero(row.expr.spend)
        triplets.add(np.full(nz.size, r), nz, row.expr.spend[nz])
    count = np.diff(segments.coef_start)
    columns = n + ranges(segments.start[segments.campaign], count)  # each (use, campaign) pair's segments
    row_pair = segments.use != uses.goal
    in_row = np.repeat(row_pair, count)
    triplets.add(np.repeat(segments.use, count)[in_row], columns[in_row], segments.coef[in_row])
    rhs_shift = np.zeros(len(rows))
    np.subtract.at(rhs_shift, segments.use[row_pair], segments.constant[row_pair])
    cost = np.zeros(segments.width.size)
    cost[columns[~in_row] - n] = segments.coef[~in_row]
    offset = float(segments.constant[~row_pair].sum())
    milp = [(int(i), int(segments.ordered[i])) for i in np.flatnonzero(segments.ordered)]
    return _assemble(form, purpose, rows, rhs_shift, triplets, cost, segments, milp, offset)


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
              cost_segments: np.ndarray, segments: Segments, milp: list[tuple[int, int]],
              offset: float) -> CompiledModel:
    n = form.size
    start = segments.start
    counts = np.diff(start)
    widths = split_blocks(segments.width, start)
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
    cost = np.concatenate([form.goal.expr.spend, cost_segments, np.zeros(n_bin)])
    col_lower = np.concatenate([lo, np.zeros(n_seg + n_bin)])
    col_upper = np.concatenate([hi, segments.width, np.ones(n_bin)])
    integer = np.zeros(n_cols, dtype=bool)
    integer[n + n_seg:] = True
    row_spec = np.concatenate([[r.spec for r in rows], np.full(next_row - m, -1)]).astype(np.int64)
    return CompiledModel(
        sense=form.goal.sense, cost=cost, offset=offset, col_lower=col_lower, col_upper=col_upper,
        integer=integer, matrix=triplets.matrix((next_row, n_cols)), row_lower=row_lower, row_upper=row_upper,
        row_spec=row_spec, n_campaigns=n, segment_start=start, grids=segments.grids, milp=tuple(i for i, _ in milp),
        purpose=purpose,
    )
