"""How sure a plan or a frontier is: re-solved on curves drawn from their fitted uncertainty.

``plan_uncertainty`` draws the scenario's fitted curves and rates N times (``draws.py``) and
gives, for the objective, the traded KPI and each pool's SOV, the 10th/50th/90th percentiles
of two things: the plan's own split evaluated on each draw (what committing to it may
deliver), and each draw's own optimal plan (how far the best plan moves). ``frontier_uncertainty``
traces each draw's frontier and reads it at the nominal frontier's levels, which gives the band
the frontier chart draws, and the recommended point's split evaluated on each draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

import numpy as np

from optimizer.errors import Problem, ScenarioError
from optimizer.model.evaluate import evaluate
from optimizer.model.rows import formulate
from optimizer.pareto import Frontier, frontier
from optimizer.pareto.result import BandPoint
from optimizer.plan import Plan, Spread, Uncertainty
from optimizer.scenario.schema import Scenario
from optimizer.solver import SolveOptions, solve
from optimizer.solver.run import checked_options
from optimizer.uncertainty.draws import draw_scenarios, drawn_campaigns, each_draw

Progress = Callable[[int, int], None]
DRAW_TOLERANCE = 0.005
DRAW_MIP_GAP = 1e-3
"""Each draw is solved at least this loosely: fitted curves are uncertain by several percent, so a
chord error of 0.5% and a MILP gap of 0.1% move no percentile, and make an S-curve frontier five
times faster (2.8 s to 0.6 s for the fitted example's)."""

__all__ = ["check_drawable", "draw_scenarios", "frontier_uncertainty", "plan_uncertainty"]


def plan_uncertainty(scenario: Scenario, plan: Plan, draws: int, seed: int = 0, options: SolveOptions | None = None,
                     *, progress: Progress | None = None) -> Plan:
    """``plan`` with its ``uncertainty``: ``draws`` curve draws, each evaluated on the plan's split and
    solved for its own best plan (``options`` as for ``solve``)."""
    drawn = check_drawable(scenario, draws)
    options = _draw_options(scenario, options)
    figures = _figures(scenario)
    planned: dict[str, list[float]] = {kpi: [] for kpi in figures}
    best: dict[str, list[float]] = {kpi: [] for kpi in figures}
    unsolved = 0
    for done, each in enumerate(each_draw(scenario, draws, seed), start=1):
        form = formulate(each)
        as_planned = evaluate(form, _split(form, plan.spend))
        _record(planned, as_planned.kpis(), as_planned.sov)
        solved = solve(each, options)
        if solved.success:
            _record(best, solved.kpis, solved.sov)
        else:
            unsolved += 1
        if progress is not None:
            progress(done, draws)
    return replace(plan, uncertainty=Uncertainty(draws, seed, drawn, _spreads(planned), _spreads(best), unsolved))


def frontier_uncertainty(scenario: Scenario, traced: Frontier, draws: int, seed: int = 0,
                         options: SolveOptions | None = None, *, progress: Progress | None = None) -> Frontier:
    """``traced`` with its ``band`` (each draw's frontier read at the traced levels) and the
    recommended point's ``uncertainty`` (its split on each draw; its level's band as re-solved)."""
    drawn = check_drawable(scenario, draws)
    if not traced.points:
        return traced
    options = _draw_options(scenario, options)
    levels = np.array([point.traded for point in traced.points])
    recommended = traced.points[traced.recommended if traced.recommended is not None else 0]
    figures = _figures(scenario, traced.secondary)
    planned: dict[str, list[float]] = {kpi: [] for kpi in figures}
    rows, unsolved = [], 0
    for done, each in enumerate(each_draw(scenario, draws, seed), start=1):
        form = formulate(each)
        as_planned = evaluate(form, _split(form, recommended.allocation))
        _record(planned, as_planned.kpis(), as_planned.sov)
        own = frontier(each, traced.secondary, max(len(traced.points), 2), options, with_plan=False)
        if own.success and own.points:
            rows.append(_read_at(own, levels))
        else:  # no plan on this draw reaches any level: the worst outcome at every one
            rows.append(np.full(levels.size, math.nan))
            unsolved += 1
        if progress is not None:
            progress(done, draws)
    band = _band(levels, np.array(rows))
    at_recommended = band[traced.points.index(recommended)]
    re_solved = {traced.primary: Spread(at_recommended.p10, at_recommended.p50, at_recommended.p90)}
    uncertainty = Uncertainty(draws, seed, drawn, _spreads(planned), re_solved, unsolved)
    return replace(traced, band=band, uncertainty=uncertainty)


def check_drawable(scenario: Scenario, draws: int) -> tuple[str, ...]:
    """The campaigns ``draws`` curve draws would draw (``ScenarioError`` when there are none, or no draws)."""
    if draws < 1:
        raise ScenarioError([Problem("--uncertainty", f"needs at least 1 draw (got {draws})", "give 50 or more")])
    drawn = drawn_campaigns(scenario)
    if not drawn:
        raise ScenarioError([Problem(
            "campaigns", "no curve or rate carries a fitted uncertainty (a covariance or an se), so there is "
            "nothing to draw", "write the campaigns with tradeoff fit, which gives every fitted curve and rate one")],
            scenario.name)
    return drawn


def _draw_options(scenario: Scenario, options: SolveOptions | None) -> SolveOptions:
    given = checked_options(scenario, options)
    return replace(given, tolerance=max(given.tolerance, DRAW_TOLERANCE), mip_gap=max(given.mip_gap, DRAW_MIP_GAP),
                   write_lp=None)  # the LP file is the plan's program, not a draw's


def _figures(scenario: Scenario, traded: str | None = None) -> tuple[str, ...]:
    """The KPIs a spread is given for: the objective's, the traded KPI, and every pool's SOV."""
    kpis = [scenario.objective.kpi, traded or scenario.objective.secondary, *(f"sov.{p}" for p in scenario.pools)]
    return tuple(dict.fromkeys(k for k in kpis if k))


def _split(form, spend: Mapping[str, float]) -> np.ndarray:
    return np.array([spend.get(campaign.name, 0.0) for campaign in form.campaigns])


def _record(values: dict[str, list[float]], kpis: Mapping[str, float], sov: Mapping[str, float]) -> None:
    """Add one draw's figures (``kpis``, and each pool's ``sov`` as ``sov.<pool>``) to ``values``."""
    known = {**kpis, **{f"sov.{pool}": share for pool, share in sov.items()}}
    for kpi, collected in values.items():
        collected.append(known.get(kpi, math.nan))


def _spreads(values: Mapping[str, Iterable[float]]) -> dict[str, Spread]:
    out = {}
    for kpi, collected in values.items():
        finite = np.array([v for v in collected if math.isfinite(v)])
        if finite.size:
            out[kpi] = Spread(*map(float, np.percentile(finite, [10, 50, 90])))
    return out


def _read_at(own: Frontier, levels: np.ndarray) -> np.ndarray:
    """A draw's frontier read at ``levels``: below its lead-max end the floor does not bind (its
    best primary); past its far end no plan reaches the level (NaN)."""
    xs = np.array([point.traded for point in own.points])
    ys = np.array([point.primary for point in own.points])
    return np.interp(levels, xs, ys, left=ys[0], right=math.nan)


def _band(levels: np.ndarray, rows: np.ndarray) -> tuple[BandPoint, ...]:
    """Percentiles over every draw at each level, a draw that cannot reach the level counting as the
    worst outcome: a percentile that falls among those draws is NaN (no plan at that confidence)."""
    band = []
    for column, level in enumerate(levels):
        values = np.where(np.isfinite(rows[:, column]), rows[:, column], -np.inf)
        reached = int(np.count_nonzero(np.isfinite(values)))
        if values.size:
            spread = np.percentile(values, [10, 50, 90], method="inverted_cdf")
        else:
            spread = np.full(3, -np.inf)
        p10, p50, p90 = (float(v) if np.isfinite(v) else math.nan for v in spread)
        band.append(BandPoint(float(level), p10, p50, p90, reached))
    return tuple(band)
