"""The three references our solver is measured against, on the same plan and the same curves.

- ``generic_lp``: what a modeller would write by hand: every campaign's spend range cut into
  50 equal segments, one column per segment with its chord slope, the coupling rows (budget,
  share floors, CPL cap, SOV floor) written over the segment columns, passed to HiGHS through
  highspy in one call. For S-shaped curves this LP is a convexified relaxation (nothing makes
  segments fill in order), so its spends are re-checked on the true curves.
- ``slsqp``: SciPy's SLSQP on the exact curves from an equal split of the budget, the approach
  of Robyn, PyMC-Marketing and LightweightMMM, with the same constraints and analytic gradients;
  well scaled (its best chance) or in raw dollars (as those tools run it).
- ``greedy``: a marginal-return walk on a spend grid (Meridian's approach): steps of 1% of each
  campaign's max go, one at a time, to the campaign whose next step buys the most leads per
  dollar, until the budget or every bound is exhausted. It sees only the budget and the bounds.

Each returns a ``Reference``: its time, the spends it chose, and its leads on the true curves.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.optimize
import scipy.sparse

from benchmarks.plans import BenchPlan

SEGMENTS = 50
GREEDY_STEP = 0.01


@dataclass(frozen=True)
class Reference:
    """One reference method's answer on one plan."""

    method: str
    seconds: float
    spend: np.ndarray
    leads: float
    """Leads of ``spend`` on the true curves."""
    violations: dict[str, float]
    """Constraints ``spend`` breaks on the true curves, with their relative excess (beyond 1e-6)."""
    solve_seconds: float | None = None
    notes: dict = field(default_factory=dict)


def _reference(method: str, plan: BenchPlan, started: float, spend: np.ndarray, **extra) -> Reference:
    seconds = time.perf_counter() - started
    leads = float(plan.response.leads(spend).sum())
    return Reference(method, seconds, spend, leads, plan.violations(spend), **extra)


# --- (a) the generic LP: 50 uniform segments, coupling rows over segment columns ----------------


def generic_lp(plan: BenchPlan, segments: int = SEGMENTS, time_limit: float | None = None) -> Reference:
    """HiGHS on the plain uniform-segment LP of ``plan``; the time covers building and solving.

    HiGHS runs single-threaded, as our solver's adapter does; ``time_limit`` stops it (status
    "Time limit reached", no plan).
    """
    started = time.perf_counter()
    lp, lo, width = _uniform_lp(plan, segments)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    highs.passModel(lp)
    solve_started = time.perf_counter()
    highs.run()
    solve_seconds = time.perf_counter() - solve_started
    status = highs.modelStatusToString(highs.getModelStatus())
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return _reference("generic LP", plan, started, lo.copy(), solve_seconds=solve_seconds,
                          notes={"status": status, "chord_leads": float("nan")})
    x = np.asarray(highs.getSolution().col_value).reshape(plan.size, segments)
    spend = lo + np.clip(x, 0.0, width[:, None]).sum(axis=1)
    chord_leads = float(highs.getInfo().objective_function_value)
    return _reference("generic LP", plan, started, spend, solve_seconds=solve_seconds,
                      notes={"status": status, "chord_leads": chord_leads, "columns": lp.num_col_,
                             "nonzeros": len(lp.a_matrix_.value_)})


def _uniform_lp(plan: BenchPlan, segments: int) -> tuple[highspy.HighsLp, np.ndarray, np.ndarray]:
    """The LP as highspy arrays; column ``i * segments + k`` is segment k of campaign i."""
    r = plan.response
    lo, width = r.lo, (r.hi - r.lo) / segments
    grid = [lo + width * k for k in range(segments + 1)]
    leads = np.column_stack([r.leads(s) for s in grid])
    impressions = np.column_stack([r.impressions(s) for s in grid])
    safe = np.where(width > 0, width, 1.0)[:, None]
    lead_slope = (np.diff(leads, axis=1) / safe).ravel()
    impression_slope = (np.diff(impressions, axis=1) / safe).ravel()
    per_column = np.repeat(np.arange(plan.size), segments)
    ones = np.ones(plan.size * segments)
    spend_lo, leads_lo = lo.sum(), leads[:, 0].sum()

    rows = [(ones, -np.inf, plan.budget - spend_lo)]                              # budget
    for stage, floor in plan.share_floors.items():                                # share of spend >= floor
        member = (plan.stage == stage).astype(float)
        rows.append((member[per_column] - floor, floor * spend_lo - member @ lo, np.inf))
    rows.append((ones - plan.cpl_cap * lead_slope, -np.inf, plan.cpl_cap * leads_lo - spend_lo))  # CPL cap
    pooled = plan.in_pool[per_column] * impression_slope                          # SOV floor
    rows.append((pooled, plan.pool_floor - impressions[plan.in_pool, 0].sum(), np.inf))
    matrix = scipy.sparse.csc_matrix(np.vstack([coef for coef, _, _ in rows]))

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = plan.size * segments, len(rows)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = lead_slope
    lp.offset_ = leads_lo
    lp.col_lower_ = np.zeros(lp.num_col_)
    lp.col_upper_ = np.repeat(width, segments)
    lp.row_lower_ = np.array([low for _, low, _ in rows])
    lp.row_upper_ = np.array([high for _, _, high in rows])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    return lp, lo, width


# --- (b) SLSQP on the exact curves, from an equal split --------------------------------------------


def slsqp(plan: BenchPlan, scaled: bool = True, maxiter: int = 2000, time_limit: float | None = None) -> Reference:
    """SciPy SLSQP from an equal split of the budget, with SciPy's default tolerance (ftol 1e-6).

    ``scaled``: spend is measured as a fraction of each campaign's max, the objective in units
    of the starting split's leads and each constraint in units of its own scale (the budget, the
    SOV floor): well conditioned, SLSQP's best chance. Unscaled, it works in dollars and raw
    leads, as the peers' optimizers do; SLSQP's ftol is absolute, so on raw leads it asks for far
    more precision and usually runs to its iteration limit. After ``time_limit`` seconds the run
    is stopped at its current iterate (not converged).
    """
    r = plan.response
    top = r.hi if scaled else np.ones(plan.size)
    start = np.clip(plan.budget / plan.size, r.lo, r.hi) / top
    scale = max(float(r.leads(start * top).sum()), 1.0) if scaled else 1.0
    started = time.perf_counter()

    def stop_at_limit(_: np.ndarray) -> None:
        if time_limit is not None and time.perf_counter() - started > time_limit:
            raise StopIteration

    constraints = _Constraints(plan, top, scaled)
    result = scipy.optimize.minimize(
        lambda u: -r.leads(u * top).sum() / scale,
        start,
        jac=lambda u: -r.marginal_leads(u * top) * top / scale,
        bounds=scipy.optimize.Bounds(r.lo / top, r.hi / top),
        constraints=[{"type": "ineq", "fun": constraints.values, "jac": constraints.jacobian}],
        method="SLSQP",
        options={"maxiter": maxiter, "ftol": 1e-6},
        callback=stop_at_limit,
    )
    spend = np.clip(result.x * top, r.lo, r.hi)
    stopped = "StopIteration" in str(result.message)
    return _reference("SLSQP" if scaled else "SLSQP in dollars", plan, started, spend,
                      notes={"iterations": int(result.nit), "converged": bool(result.success),
                             "stopped_at_limit": stopped, "message": str(result.message)})


class _Constraints:
    """Every constraint as ``g(u) >= 0`` with its Jacobian; spend is ``u * top``.

    Scaled, money rows are divided by the budget and the SOV row by its floor; else raw units.
    """

    def __init__(self, plan: BenchPlan, top: np.ndarray, scaled: bool):
        self.plan, self.top = plan, top
        self.money = plan.budget if scaled else 1.0
        self.volume = plan.pool_floor if scaled else 1.0
        self.members = [(plan.stage == stage, floor) for stage, floor in plan.share_floors.items()]

    def values(self, u: np.ndarray) -> np.ndarray:
        plan, r = self.plan, self.plan.response
        spend = u * self.top
        total = spend.sum()
        out = [plan.budget - total]
        out += [spend[member].sum() - floor * total for member, floor in self.members]
        out.append(plan.cpl_cap * r.leads(spend).sum() - total)
        money = np.array(out) / self.money
        sov = (r.impressions(spend)[plan.in_pool].sum() - plan.pool_floor) / self.volume
        return np.append(money, sov)

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        plan, r, top = self.plan, self.plan.response, self.top
        spend = u * top
        rows = [-top]
        rows += [(member - floor) * top for member, floor in self.members]
        rows.append((plan.cpl_cap * r.marginal_leads(spend) - 1) * top)
        money = np.vstack(rows) / self.money
        sov = np.where(plan.in_pool, r.marginal_impressions(spend), 0.0) * top / self.volume
        return np.vstack([money, sov])


# --- (c) the greedy walk on a spend grid ----------------------------------------------------------


def greedy(plan: BenchPlan, step: float = GREEDY_STEP) -> Reference:
    """Give steps of ``step`` x max, one at a time, to the best marginal leads per dollar (a heap)."""
    started = time.perf_counter()
    r = plan.response
    count = int(round(1 / step))
    grid = np.minimum(r.lo[:, None] + step * r.hi[:, None] * np.arange(count + 1), r.hi[:, None])
    leads = np.column_stack([r.leads(grid[:, j]) for j in range(count + 1)])
    cost = np.diff(grid, axis=1)
    gain = np.divide(np.diff(leads, axis=1), cost, out=np.zeros_like(cost), where=cost > 0).tolist()
    cost = cost.tolist()
    taken = [0] * plan.size
    left = plan.budget - r.lo.sum()
    heap = [(-gain[i][0], i) for i in range(plan.size) if cost[i][0] > 0]
    heapq.heapify(heap)
    while heap:
        _, i = heapq.heappop(heap)
        k = taken[i]
        if cost[i][k] > left:
            continue  # the next step does not fit in what is left: this campaign stops here
        left -= cost[i][k]
        taken[i] = k + 1
        if k + 1 < count and cost[i][k + 1] > 0:
            heapq.heappush(heap, (-gain[i][k + 1], i))
    spend = grid[np.arange(plan.size), taken]
    return _reference("greedy", plan, started, spend, notes={"steps": int(sum(taken))})
