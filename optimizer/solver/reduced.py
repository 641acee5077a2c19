"""Large programs solved over the segments whose place is in doubt; duals price all the rest.

A compiled program has few coupling rows (budget, floors, caps) over very many bounded segment
columns. Given duals for the coupling rows, each segment's reduced cost, with its campaign's
spend folded in, says whether it is worth filling: clearly positive, it is full; clearly
negative, it is empty. Only the segments near zero, and every segment of a campaign whose
segments need ordering binaries, are left to the solver, in a program a few percent of the
size. Its duals then price every fixed segment again; any on the wrong side is freed and the
small program solved again, until none is. The answer is then the whole program's optimum
(feasible, dual feasible and complementary), with duals for every row, not an approximation.

The same fold gives ``lagrangian_bound``: for any duals, a proven bound on the program's
optimum, each campaign's best fill found on its own in numpy, and exact for campaigns that
need binaries (their segments fill in order), so it bounds a MILP without solving one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from optimizer.model.compile import CompiledModel
from optimizer.solver.certificate import within
from optimizer.solver.status import SolverRun
from optimizer.status import Status

Solver = Callable[[CompiledModel], SolverRun]

DOUBT = 1e-3
"""A segment whose reduced cost is within this share of its terms' size is left to the solver."""
WIDE_DOUBT = 1e-2
"""The doubt under duals that minimise a Lagrangian bound (``dual.tightest_bound``): the bound
converges long before every dual does (one was 30% off), and at 1e-3 the second round freed half
of a 10,000-campaign program's segments."""
_PRICE_SLACK = 1e-7
"""A fixed segment priced this far (same measure) on the wrong side of zero is freed; HiGHS's own
optimality tolerance is of this order."""
_ROUNDS = 8
_WIDER = 10.0
"""When a MILP's small program cannot be met with whole binaries, its doubt widens by this factor."""
_MET = 1e-9
_VIOLATED = 1e-6
"""Phase one's least violation (a sum of row violations, each in units of its row's size): at most
``_MET`` is met; beyond ``_VIOLATED``, with every fixed segment priced, the program is infeasible."""
_MAX_COUPLING_SHARE = 0.25
"""With more coupling rows than this share of the campaigns, the whole program is solved instead."""


@dataclass(frozen=True)
class Fold:
    """A program seen campaign by campaign: each segment's cost and coupling-row terms with its
    campaign's spend folded in (``spend_i = lower_i + sum of its segments``)."""

    model: CompiledModel
    coupling: int
    """Rows ``0 .. coupling - 1`` couple campaigns; the linking and ordering rows follow."""
    owner: np.ndarray
    cost: np.ndarray
    terms: sp.csr_array
    """Coupling rows x segments."""
    constant: float
    row_lower: np.ndarray
    row_upper: np.ndarray
    whole: np.ndarray
    """Per campaign: its segments need ordering binaries, so it is never split."""

    @property
    def first_segment(self) -> int:
        return self.model.n_campaigns

    @property
    def segment_lower(self) -> np.ndarray:
        n = self.first_segment
        return self.model.col_lower[n: n + self.owner.size]

    @property
    def segment_upper(self) -> np.ndarray:
        n = self.first_segment
        return self.model.col_upper[n: n + self.owner.size]

    def reduced_costs(self, duals: np.ndarray) -> np.ndarray:
        """Each segment's d(objective)/d(fill) with the coupling rows priced at ``duals``."""
        return self.cost - self.terms.T @ duals[: self.coupling]

    def magnitudes(self, duals: np.ndarray) -> np.ndarray:
        """The size of the terms that make up each reduced cost (to judge it against zero)."""
        return np.abs(self.cost) + abs(self.terms).T @ np.abs(duals[: self.coupling]) + 1e-300


def fold(model: CompiledModel) -> Fold | None:
    """The program's fold, or None when it does not pay (many coupling rows) or does not apply."""
    n, coupling = model.n_campaigns, int(np.count_nonzero(model.row_spec >= 0))
    if coupling > _MAX_COUPLING_SHARE * n or not np.all(model.row_spec[:coupling] >= 0):
        return None
    counts = np.diff(model.segment_start)
    owner = np.repeat(np.arange(n), counts)
    segments = slice(n, n + owner.size)
    lower = model.col_lower[:n]
    if not np.all(np.isfinite(model.col_upper[segments] - model.col_lower[segments])):
        return None  # an unbounded segment: no campaign's best fill is finite
    if not (np.allclose(model.row_lower[coupling: coupling + n], lower)
            and np.allclose(model.row_upper[coupling: coupling + n], lower)
            and np.allclose(np.bincount(owner, model.col_upper[segments] - model.col_lower[segments], minlength=n),
                            model.col_upper[:n] - lower, rtol=1e-9, atol=1e-9 * np.abs(lower).max(initial=1.0))):
        return None  # spend bounds other than its segments' (a changed bound): solve as it is
    rows = sp.csr_array(model.matrix[:coupling, : n + owner.size])
    spend_terms = rows[:, :n]
    terms = sp.csr_array(rows[:, n:] + spend_terms[:, owner])
    shift = spend_terms @ lower
    whole = np.zeros(n, dtype=bool)
    whole[list(model.milp)] = True
    return Fold(
        model=model, coupling=coupling, owner=owner,
        cost=model.cost[segments] + model.cost[:n][owner], terms=terms,
        constant=float(model.offset + model.cost[:n] @ lower),
        row_lower=model.row_lower[:coupling] - shift, row_upper=model.row_upper[:coupling] - shift,
        whole=whole,
    )


def refold(previous: Fold | None, model: CompiledModel) -> Fold | None:
    """``model``'s fold, reusing ``previous``'s coupling terms when only the objective or the row
    bounds changed (a kept program between runs: folding anew took 7 ms a run at 1,000 campaigns)."""
    if previous is None or not _same_columns(previous.model, model):
        return fold(model)
    n, coupling = model.n_campaigns, previous.coupling
    segments = slice(n, n + previous.owner.size)
    lower = model.col_lower[:n]
    shift = model.matrix[:coupling, :n] @ lower
    return replace(
        previous, model=model,
        cost=model.cost[segments] + model.cost[:n][previous.owner],
        constant=float(model.offset + model.cost[:n] @ lower),
        row_lower=model.row_lower[:coupling] - shift, row_upper=model.row_upper[:coupling] - shift,
    )


def _same_columns(before: CompiledModel, after: CompiledModel) -> bool:
    """Whether two models share their matrix, column bounds and linking rows (so one fold's terms serve both)."""
    if before.matrix is not after.matrix:
        return False
    if before.col_lower is not after.col_lower and not np.array_equal(before.col_lower, after.col_lower):
        return False
    if before.col_upper is not after.col_upper and not np.array_equal(before.col_upper, after.col_upper):
        return False
    coupling = int(np.count_nonzero(before.row_spec >= 0))
    linking = slice(coupling, coupling + before.n_campaigns)
    return bool(np.array_equal(before.row_lower[linking], after.row_lower[linking])
                and np.array_equal(before.row_upper[linking], after.row_upper[linking]))


def lagrangian_bound(folded: Fold, duals: np.ndarray) -> float:
    """A proven bound on the program's optimum (upper when maximising, lower when minimising).

    Valid for any ``duals`` (d objective / d row bound, in the program's sense); the closer they
    are to optimal, the tighter. Each campaign's fill is chosen on its own: a segment whose
    reduced cost helps is filled; a campaign that needs ordering binaries fills its segments
    in order, so the bound holds for the MILP (not only its relaxation).
    """
    return lagrangian(folded, duals)[0]


def lagrangian(folded: Fold, duals: np.ndarray) -> tuple[float, np.ndarray]:
    """``lagrangian_bound`` at ``duals``, and its slope in the coupling rows' duals.

    The bound is convex in the duals when maximising (concave when minimising), and the slope
    is a subgradient: each row's bound on the side its dual prices, less the row's activity at
    the best fill (a row whose dual is 0 takes the side nearest that activity).
    """
    sense = 1.0 if folded.model.sense == "maximize" else -1.0
    y = np.asarray(duals[: folded.coupling], dtype=float)
    side = np.where(sense * y > 0, folded.row_upper, folded.row_lower)
    y = np.where(np.isfinite(side), y, 0.0)
    gain = sense * folded.reduced_costs(y)  # in the maximising sense
    fill = _best_fill(folded, gain)
    activity = folded.terms @ fill
    slope = np.where(y != 0, side, np.clip(activity, folded.row_lower, folded.row_upper)) - activity
    with np.errstate(invalid="ignore"):
        total = float(gain @ fill)
    if not np.isfinite(total):
        return sense * np.inf, slope
    used = y != 0
    return float(folded.constant + y[used] @ side[used] + sense * total), slope


def _best_fill(folded: Fold, gain: np.ndarray) -> np.ndarray:
    """Each segment's fill at its gain: full where it helps; a campaign needing ordering binaries
    fills the best prefix of its segments (the empty prefix included)."""
    lower, upper = folded.segment_lower, folded.segment_upper
    fill = np.where(gain > 0, upper, lower)
    ordered = folded.whole[folded.owner]
    if ordered.any():
        owner = folded.owner[ordered]
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        counts = np.diff(np.r_[starts, owner.size])
        running = np.cumsum((gain * (upper - lower))[ordered])
        prefix = running - np.repeat(np.r_[0.0, running][starts], counts)  # each campaign's own running gain
        best = np.maximum.reduceat(prefix, starts)
        position = np.arange(owner.size) - np.repeat(starts, counts)
        ends_best = np.minimum.reduceat(np.where(prefix >= np.repeat(best, counts), position, owner.size), starts)
        length = np.where(best > 0, ends_best + 1, 0)  # no segment when no prefix gains
        fill[ordered] = np.where(position < np.repeat(length, counts), upper[ordered], lower[ordered])
    return fill


def solve_reduced(folded: Fold, duals: np.ndarray, solve: Solver, gap: float = 0.0,
                  doubt: float = DOUBT) -> SolverRun | None:
    """The whole program's optimum, found by solving only the segments in doubt under ``duals``.

    ``solve`` runs a (small) compiled program; ``doubt`` is the share of a reduced cost's size within
    which its segment is left free at first. A MILP's answer comes with the duals of its
    binaries fixed (``_solved``, within the relative ``gap`` of its relaxation when its rounding
    is taken), which price the rest: the best plan for that mix of S-curve campaigns. An
    infeasible answer is returned only when proven for the whole program. None when the rounds
    run out or a small program fails; the caller then solves the whole program.
    """
    model = folded.model
    sense = 1.0 if model.sense == "maximize" else -1.0
    free = folded.whole[folded.owner].copy()
    duals = np.asarray(duals, dtype=float)
    seconds = 0.0
    for _ in range(_ROUNDS):
        gain = sense * folded.reduced_costs(duals)  # in the maximising sense
        free |= np.abs(gain) <= doubt * folded.magnitudes(duals)
        full = ~free & (gain > 0)
        small, kept = _restricted(folded, free, full)
        run = _solved(small, solve, gap)
        seconds += run.seconds
        if run.status is Status.INFEASIBLE:
            repair = _phase_one(folded, free, full, solve)
            seconds += repair.seconds
            if repair.proven:
                return replace(run, message="infeasible (priced over every segment)", seconds=seconds)
            if repair.free is None:
                return None
            if not (repair.free & ~free).any():
                # The relaxation can be met but not with whole binaries: widen the doubt instead.
                if not model.is_mip or doubt >= 1.0:
                    return None
                doubt = min(doubt * _WIDER, 1.0)
            free = repair.free
            continue
        if run.status is not Status.OPTIMAL or run.x is None or run.row_dual is None:
            return None
        x, duals = _expanded(folded, kept, free, full, run)
        priced = sense * folded.reduced_costs(duals)
        slack = _PRICE_SLACK * folded.magnitudes(duals)
        wrong = ~free & np.where(full, priced < -slack, priced > slack)
        if not wrong.any():
            bound = run.objective if not model.is_mip else run.bound
            return replace(run, x=x, row_dual=duals, bound=bound, seconds=seconds)
        free |= wrong
    return None


def from_relaxation(model: CompiledModel, relaxed: SolverRun, solve: Solver, folded: Fold | None = None,
                    gap: float = 0.0) -> SolverRun | None:
    """A MILP's optimum from its LP relaxation's run: the relaxation itself when it is infeasible or
    its binaries come out whole, else over the segments its duals leave in doubt (``solve_reduced``,
    with its ``gap``), with the relaxation's optimum kept as a proven bound (the duals of the
    binaries fixed often bound less well). None when neither settles it; ``folded`` is
    ``model``'s fold, if already made."""
    if relaxed.status is Status.INFEASIBLE:
        return relaxed
    if relaxed.status is not Status.OPTIMAL or relaxed.x is None or relaxed.row_dual is None:
        return None
    if not model.unsettled(relaxed.x).any():
        return relaxed
    folded = folded if folded is not None else fold(model)
    run = solve_reduced(folded, relaxed.row_dual, solve, gap) if folded is not None else None
    if run is None:
        return None
    return replace(run, seconds=run.seconds + relaxed.seconds, bound=relaxed.objective)


def _solved(small: CompiledModel, solve: Solver, gap: float) -> SolverRun:
    """The small program's optimum, with duals: a MILP's for its binaries fixed at its answer.

    A MILP's LP relaxation is solved first: when its binaries come out whole, it is the answer.
    Otherwise its binaries rounded are tried: within ``gap`` (relative) of the relaxation, that
    is a MILP optimum within the gap. Failing that, the binaries it settled are kept, and only
    the ones it left fractional (a few S-curve campaigns, at most about one per coupling row) are
    branched on; the certificate says how close that comes.
    """
    if not small.is_mip:
        return solve(small)
    relaxed = solve(small.relaxed())
    if relaxed.status is not Status.OPTIMAL or relaxed.x is None or relaxed.row_dual is None:
        return relaxed
    settled = ~small.unsettled(relaxed.x)
    if settled.all():
        return relaxed
    rounded = solve(small.with_binaries_fixed(relaxed.x))
    if rounded.status is Status.OPTIMAL and within(rounded.objective, relaxed.objective, small.sense, gap):
        return replace(rounded, bound=None, seconds=relaxed.seconds + rounded.seconds)
    columns = np.flatnonzero(small.integer)[settled]
    lower, upper = small.col_lower.copy(), small.col_upper.copy()
    lower[columns] = upper[columns] = np.round(relaxed.x[columns])
    run = solve(replace(small, col_lower=lower, col_upper=upper))
    seconds = relaxed.seconds + rounded.seconds + run.seconds
    if run.status is not Status.OPTIMAL or run.x is None:
        run = solve(small)
        seconds += run.seconds
    if run.status is not Status.OPTIMAL or run.x is None:
        return replace(run, seconds=seconds)
    fixed = solve(small.with_binaries_fixed(run.x))
    return replace(fixed, bound=None, seconds=seconds + fixed.seconds)


@dataclass(frozen=True)
class _Repair:
    """Phase one's answer: the segments to leave free for the relaxation to be met (None: none
    found), or a proof that nothing can meet it."""

    free: np.ndarray | None
    proven: bool
    seconds: float


def _phase_one(folded: Fold, free: np.ndarray, full: np.ndarray, solve: Solver) -> _Repair:
    """The fixed segments to free so that the small program's relaxation becomes feasible.

    The coupling rows are made elastic and their total violation (each row in units of its
    size) minimised over the free segments; that program's duals price every fixed segment,
    and any that would reduce the violation is freed, until none would. A violation left then
    is the whole relaxation's least: the program is proven infeasible.
    """
    seconds = 0.0
    for _ in range(_ROUNDS):
        small, _ = _restricted(folded, free, full)
        run = solve(_elastic(folded, small))
        seconds += run.seconds
        if run.status is not Status.OPTIMAL or run.row_dual is None or run.objective is None:
            return _Repair(None, False, seconds)
        if run.objective >= -_MET:
            return _Repair(free, False, seconds)
        y = run.row_dual[: folded.coupling]
        priced = -(folded.terms.T @ y)
        slack = _PRICE_SLACK * (abs(folded.terms).T @ np.abs(y) + 1e-300)
        helping = ~free & np.where(full, priced < -slack, priced > slack)
        if not helping.any():
            return _Repair(None, run.objective < -_VIOLATED, seconds)
        free = free | helping
    return _Repair(None, False, seconds)


def _elastic(folded: Fold, small: CompiledModel) -> CompiledModel:
    """The small program's relaxation with every coupling row elastic, its violation maximised away."""
    m = folded.coupling
    size = abs(folded.terms) @ (folded.segment_upper - folded.segment_lower)
    size = np.maximum(size + np.abs(np.where(np.isfinite(folded.row_lower), folded.row_lower, 0.0)), 1e-300)
    rows = np.arange(m)
    slack = sp.csc_array((np.r_[np.ones(m), -np.ones(m)], (np.r_[rows, rows], np.arange(2 * m))),
                         shape=(small.shape[0], 2 * m))
    return replace(
        small.relaxed(), sense="maximize", offset=0.0,
        cost=np.r_[np.zeros(small.shape[1]), -1.0 / size, -1.0 / size],
        col_lower=np.r_[small.col_lower, np.zeros(2 * m)], col_upper=np.r_[small.col_upper, np.full(2 * m, np.inf)],
        integer=np.zeros(small.shape[1] + 2 * m, dtype=bool), matrix=sp.csc_array(sp.hstack([small.matrix, slack])),
    )


@dataclass(frozen=True)
class _Kept:
    """Where the small program's columns and rows sit in the whole program."""

    columns: np.ndarray
    rows: np.ndarray
    campaigns: np.ndarray


def _restricted(folded: Fold, free: np.ndarray, full: np.ndarray) -> tuple[CompiledModel, _Kept]:
    """The program over the free segments, the fixed ones moved into the row bounds."""
    model, n, coupling = folded.model, folded.first_segment, folded.coupling
    campaigns = np.zeros(n, dtype=bool)
    campaigns[folded.owner[free]] = True
    campaigns |= folded.whole
    segment_values = np.where(full, folded.segment_upper, folded.segment_lower)
    fixed = np.zeros(model.shape[1])
    fixed[n: n + folded.owner.size] = np.where(free, 0.0, segment_values)
    fixed[:n] = np.where(campaigns, 0.0,
                         model.col_lower[:n] + np.bincount(folded.owner, segment_values - folded.segment_lower,
                                                           minlength=n))
    binaries = np.arange(n + folded.owner.size, model.shape[1])
    columns = np.concatenate([np.flatnonzero(campaigns), n + np.flatnonzero(free), binaries])
    ordering = np.arange(coupling + n, model.shape[0])
    rows = np.concatenate([np.arange(coupling), coupling + np.flatnonzero(campaigns), ordering])
    shift = model.matrix @ fixed
    matrix = sp.csc_array(sp.csr_array(model.matrix[:, columns])[rows, :])
    small = replace(
        model,
        cost=model.cost[columns], offset=float(model.offset + model.cost @ fixed),
        col_lower=model.col_lower[columns], col_upper=model.col_upper[columns], integer=model.integer[columns],
        matrix=matrix, row_lower=model.row_lower[rows] - shift[rows], row_upper=model.row_upper[rows] - shift[rows],
        row_spec=model.row_spec[rows],
    )
    return small, _Kept(columns, rows, np.flatnonzero(campaigns))


def _expanded(folded: Fold, kept: _Kept, free: np.ndarray, full: np.ndarray,
              run: SolverRun) -> tuple[np.ndarray, np.ndarray]:
    """The small program's solution and duals as the whole program's."""
    model, n = folded.model, folded.first_segment
    segments = slice(n, n + folded.owner.size)
    x = np.zeros(model.shape[1])
    x[segments] = np.where(full, folded.segment_upper, folded.segment_lower)
    x[kept.columns] = run.x
    x[:n] = model.col_lower[:n] + np.bincount(folded.owner, x[segments] - folded.segment_lower, minlength=n)
    duals = np.zeros(model.shape[0])
    duals[kept.rows] = run.row_dual
    # A campaign left out of the small program is priced so that its spend column's reduced cost is 0.
    coupling = duals[: folded.coupling]
    spend_value = model.cost[:n] - model.matrix[: folded.coupling, :n].T @ coupling if folded.coupling \
        else model.cost[:n].copy()
    left_out = np.ones(n, dtype=bool)
    left_out[kept.campaigns] = False
    duals[folded.coupling: folded.coupling + n] = np.where(left_out, spend_value,
                                                          duals[folded.coupling: folded.coupling + n])
    return x, duals
