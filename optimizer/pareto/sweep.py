"""Trace the frontier: ends found exactly, the knee solved (``knee.find_knee``), points refined where the slope turns.

The sweep works in two builds. A first program on the scenario's breakpoints finds the two
ends; the sweep program is then built once on breakpoints refined over the spend range the
frontier crosses (so each point's dual price is accurate), and only row bounds and the
objective change between its solves. On a large plan, the first program's duals price the
sweep program's far end over its segments in doubt (``FrontierProgram.max_primary``'s hint),
where a warm move there from the lead-max end took 8 s at 10,000 campaigns.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from optimizer.model.campaigns import campaign_grids
from optimizer.model.evaluate import evaluate
from optimizer.model.formulation import Formulation
from optimizer.model.observed import extrapolations, farthest, observed_anywhere
from optimizer.model.refine import refine_span
from optimizer.pareto.axis import Axis
from optimizer.pareto.knee import Probe, Today, find_knee, nearest_unbeaten
from optimizer.pareto.points import Pricing, make_point, sample_curves
from optimizer.pareto.program import FrontierProgram, Solution, held, raised
from optimizer.pareto.result import CurrentPosition, Frontier, FrontierPoint
from optimizer.plan import FiniteStep
from optimizer.solver.certificate import relative_gap
from optimizer.solver.explain import explain
from optimizer.solver.options import SolveOptions
from optimizer.solver.programs import REDUCED_FROM
from optimizer.solver.results import current_breaks
from optimizer.status import Status

_log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
_SPAN_PARTS = 16
_SPAN_PARTS_LARGE = 4
"""Each segment the sweep crosses is split in this many parts: fewer from ``REDUCED_FROM`` campaigns on,
where a point's price sums many campaigns' slopes (their errors average out) and the program's size
decides the sweep's time (16 parts made the 1,000-campaign program 92,000 columns, 4 parts 33,000)."""
_EDGE_REFINEMENT = 20


@dataclass
class _Sweep:
    """The state of one sweep: its program and the points solved so far, keyed by traded target."""

    form: Formulation
    axis: Axis
    program: FrontierProgram
    pricing: Pricing
    solved: dict[float, tuple[Solution, FrontierPoint]]
    knee: float | None = None
    """The knee's key in ``solved`` (None: the frontier has no knee)."""
    far: float | None = None
    """The far end's traded volume, once solved."""


def trace(form: Formulation, axis: Axis, options: SolveOptions, points: int = 21, period: str | None = None,
          progress: Progress | None = None, recommend_at: float | None = None,
          keys: dict[int, str] | None = None) -> Frontier:
    """The frontier of ``form``'s goal against ``axis``, with ``points`` points (``keys``: see ``constraint_keys``)."""
    started = time.perf_counter()
    for tolerance in (options.tolerance, options.tolerance / _EDGE_REFINEMENT):
        # Constraints that only just hold together can fail on the coarse grids: try finer ones once.
        grids = campaign_grids(form.campaigns, tolerance)
        scout = FrontierProgram(form, axis, options, grids)
        # Cold, the most traded was the scout's slowest solve (3.4 s of 8 at 10,000 campaigns); from
        # no duals at all, over its segments in doubt, 0.7 s. The far end is a warm move from the lead-max end.
        low, most, high = _ends(scout, hints=(scout.no_duals(), None))
        if low.ok and high.ok or Status.INFEASIBLE not in (low.run.status, high.run.status):
            break
    if not (low.ok and high.ok):
        return _logged(_empty(form, axis, options, period, scout, started, low if not low.ok else high, keys))
    scout_solves = scout.solves
    del scout  # its loaded programs (over 250 MiB at 10,000 campaigns) are done with before the next are built
    parts = _SPAN_PARTS if len(form.campaigns) < REDUCED_FROM else _SPAN_PARTS_LARGE
    spans = refine_span(grids, low.spend, high.spend, parts, _convex_stretch_end(form))
    program = FrontierProgram(form, axis, options, spans)
    low, _, high = _ends(program, priced=True, hints=(most.duals, high.duals))
    if not (low.ok and high.ok):
        return _logged(_empty(form, axis, options, period, program, started, low if not low.ok else high, keys))
    pricing = Pricing(form, axis, program, lead_max=low)
    sweep = _Sweep(form, axis, program, pricing, {})
    total = max(points, 2)
    _add(sweep, low, "lead-max end")
    sweep.far = high.traded
    _add(sweep, high, f"{axis.kpi}-max end")
    targets = _uniform_targets(axis, low, high, max(3, math.ceil(total / 2)))
    if recommend_at is not None and axis.value(low.traded) < recommend_at < axis.value(high.traded):
        targets.append(recommend_at)
    # Up from the lead-max end, each point warm from the last (a MILP's from its relaxation's basis):
    # a step down from the far end's vertex took 15 s at 10,000 campaigns.
    for target in sorted(targets):
        _solve_at(sweep, target)
        _report(progress, len(sweep.solved), total)
    sweep.knee = _solve_knee(sweep)
    _report(progress, len(sweep.solved), total)
    while len(sweep.solved) < total and _refine_once(sweep):
        _report(progress, len(sweep.solved), total)
    return _logged(_frontier(sweep, scout_solves, period, started, recommend_at))


def _logged(frontier: Frontier) -> Frontier:
    _log.info("frontier of %s against %s: %s, %d points, %d solves, %.2f s", frontier.primary, frontier.secondary,
              frontier.status.value, len(frontier.points), frontier.solves, frontier.seconds)
    return frontier


def _ends(program: FrontierProgram, priced: bool = False,
          hints: tuple[np.ndarray | None, np.ndarray | None] = (None, None)) -> tuple[Solution, Solution, Solution]:
    """The lead-max end (most primary, then most traded), the most traded, and the far end (most
    traded, then most primary; the program's price there).

    ``priced``: the lead-max end is re-solved with its floor a hair past its traded level, where
    the floor binds, so its price is that of the first step past it (the scout needs no prices).
    ``hints``: duals to start the most traded and the far end from (``FrontierProgram.max_primary``);
    the lead-max end is solved in the kept program, where the sweep's warm starts begin.
    """
    low = program.max_primary(None)
    if priced and low.ok:
        stepped = program.max_primary(raised(low.traded))
        low = stepped if stepped.ok else low
    most = program.max_traded(None, hint=hints[0])
    high = program.max_primary(held(most.traded), hint=hints[1]) if most.ok else most
    return low, most, high


def _uniform_targets(axis: Axis, low: Solution, high: Solution, count: int) -> list[float]:
    start, stop = axis.value(low.traded), axis.value(high.traded)
    return [float(t) for t in np.linspace(start, stop, count)[1:-1]]


def _solve_at(sweep: _Sweep, target: float) -> None:
    """Solve the point whose traded KPI is at least ``target``."""
    floor = sweep.axis.volume(target)
    solution = sweep.program.max_primary(floor)
    if not solution.ok:
        return
    _add(sweep, solution, "point", target)


def _add(sweep: _Sweep, solution: Solution, kind: str, target: float | None = None) -> float:
    """Price ``solution`` as a point of the frontier; its key in ``sweep.solved``.

    Its prices are measured by re-solves (``make_point``) on a frontier of fewer than ``REDUCED_FROM``
    campaigns, where each is a warm re-solve of a small program, and at the far end's level on any.
    """
    value = sweep.axis.value(solution.traded)
    bounded = not sweep.program.is_mip
    at_far_end = sweep.far is not None and solution.traded >= held(sweep.far)
    measured = at_far_end or len(sweep.form.campaigns) < REDUCED_FROM
    point = make_point(sweep.pricing, solution, kind, value if target is None else target, bounded, measured)
    key = round(point.traded, 12)
    sweep.solved[key] = (solution, point)
    return key


def _solve_knee(sweep: _Sweep) -> float | None:
    """Find the frontier's knee from the points solved so far and add it as a point; its key (None: no knee).

    The search's own solves are not points of the frontier: only the knee is kept, so ``--points``
    still counts the points.
    """
    found: dict[Probe, Solution] = {_probe(sweep.axis, solution): solution for solution, _ in sweep.solved.values()}

    def solve(volume: float) -> Probe | None:
        solution = sweep.program.max_primary(volume)
        if not solution.ok:
            return None
        probe = _probe(sweep.axis, solution)
        found[probe] = solution
        return probe

    knee = find_knee(list(found), solve, sweep.axis.value)
    if knee is None:
        return None
    solution = found[knee]
    known = [key for key, (kept, _) in sweep.solved.items() if kept is solution]
    if known:
        kept, point = sweep.solved[known[0]]
        sweep.solved[known[0]] = (kept, replace(point, kind="knee"))
        return known[0]
    return _add(sweep, solution, "knee")


def _probe(axis: Axis, solution: Solution) -> Probe:
    slope = solution.traded_dual if solution.traded_dual is not None else 0.0
    return Probe(solution.traded, axis.value(solution.traded), solution.primary, slope)


def _refine_once(sweep: _Sweep) -> bool:
    """Add a point in the interval where the frontier turns most (its chord strays furthest)."""
    ordered = [point for _, point in sorted(sweep.solved.values(), key=lambda item: item[1].traded)]
    slopes = _slopes(ordered)
    best, where = 0.0, None
    for k in range(len(ordered) - 1):
        left, right = ordered[k], ordered[k + 1]
        width = right.traded - left.traded
        turn = abs(slopes[k + 1] - slopes[k])
        if width > 1e-9 * max(1.0, abs(right.traded)) and turn * width > best:
            best, where = turn * width, (left.traded + right.traded) / 2
    if where is None:
        return False
    before = len(sweep.solved)
    _solve_at(sweep, where)
    return len(sweep.solved) > before


def _convex_stretch_end(form: Formulation) -> np.ndarray:
    """Per campaign, where its S-shaped stretch ends (-inf for concave campaigns): the span is not
    split below it, since each segment there needs an ordering binary, and 16 times as many made a
    3-campaign frontier's MILPs take seconds each (the certificate still bounds what it costs)."""
    ends = np.full(form.size, -np.inf)
    for i, campaign in enumerate(form.campaigns):
        found = [end for curve in campaign.curves
                 if (end := curve.convex_stretch_end(campaign.lo, campaign.hi)) is not None]
        if found:
            ends[i] = max(found)
    return ends


def _slopes(points: list[FrontierPoint]) -> list[float]:
    """The frontier's slope at each point (primary per traded step), from its price; where a point has none
    (the far end, past which no plan goes), the slope of the point before it."""
    slopes: list[float] = []
    for point in points:
        price = point.primary_lost_per_point
        slopes.append(-price if math.isfinite(price) else slopes[-1] if slopes else 0.0)
    return slopes


def _frontier(sweep: _Sweep, scout_solves: int, period: str | None, started: float,
              recommend_at: float | None) -> Frontier:
    ordered = _with_steps(sorted(sweep.solved.values(), key=lambda item: item[1].traded), sweep.axis)
    points = tuple(point for _, point in ordered)
    knee = next((i for i, point in enumerate(points) if round(point.traded, 12) == sweep.knee), None)
    recommended, beaten = _unbeaten(sweep, points, _recommended(points, knee, recommend_at), recommend_at)
    if sweep.program.is_mip:
        points = _certify(sweep, ordered, {0, len(points) - 1, knee, recommended})
    current = _current(sweep)
    form, axis = sweep.form, sweep.axis
    return Frontier(
        status=Status.OPTIMAL,
        message=f"{len(points)} points from {axis.label} {_shown(axis, points[0].traded)} to "
                f"{_shown(axis, points[-1].traded)}",
        scenario=form.name, currency=form.currency, period=period, primary=form.goal.kpi, secondary=axis.kpi,
        secondary_label=axis.label, is_share=axis.is_share, budget=form.budget_total, points=points, knee=knee,
        recommended=recommended, current=current,
        campaigns=sample_curves(form, points[recommended].allocation if recommended is not None else None),
        stages=tuple(dict.fromkeys(c.stage for c in form.campaigns)), dropped=sweep.program.dropped,
        solves=scout_solves + sweep.program.solves, seconds=time.perf_counter() - started,
        warnings=_floor_out_of_reach(axis, points, recommend_at) + beaten + _extrapolated(form, axis, points),
    )


def _extrapolated(form: Formulation, axis: Axis, points: tuple[FrontierPoint, ...]) -> tuple[str, ...]:
    """Each campaign some point moves past its observed spend, at the point that moves it farthest."""
    if not observed_anywhere(form):
        return ()
    found = [item for point in points
             for item in extrapolations(form, np.array([point.allocation.get(c.name, 0.0) for c in form.campaigns]),
                                        f"at {_shown(axis, point.traded)} {axis.label}")]
    return tuple(item.message(form.currency) for item in farthest(found))


def _floor_out_of_reach(axis: Axis, points: tuple[FrontierPoint, ...], recommend_at: float | None) -> tuple[str, ...]:
    if recommend_at is None or points[-1].traded >= recommend_at - 1e-9:
        return ()
    return (f"the scenario's floor of {_shown(axis, recommend_at)} {axis.label} is out of reach (no plan gets past "
            f"{_shown(axis, points[-1].traded)}), so the recommended point is the frontier's far end",)


def _with_steps(ordered: list[tuple[Solution, FrontierPoint]], axis: Axis) -> list[tuple[Solution, FrontierPoint]]:
    """Each point priced against the previous one, and its CPL and CPC against the lead-max end."""
    first = ordered[0][1]
    steps = 100.0 if axis.is_share else 1.0
    out = []
    for index, (solution, point) in enumerate(ordered):
        changes: dict[str, object] = {"cpl_change": point.cpl / first.cpl - 1, "cpc_change": point.cpc / first.cpc - 1}
        if index:
            before = ordered[index - 1][1]
            width = (point.traded - before.traded) * steps
            if width > 0:
                changes["lost_since_previous"] = (before.primary - point.primary) / width
                changes["budget_since_previous"] = (point.extra_budget - before.extra_budget) / width
            if math.isnan(point.primary_lost_per_point) and point.lost_step is None:
                changes["lost_step"] = _last_step([p for _, p in ordered[:index]], point, axis, steps)
        out.append((solution, replace(point, **changes)))
    return out


def _last_step(before: list[FrontierPoint], end: FrontierPoint, axis: Axis, steps: float) -> FiniteStep | None:
    """Where no plan goes a step further, what the last stretch into this end cost: from the point farthest
    back within one SOV point (a hundredth of the frontier's span for a volume), or else the one before."""
    if not before:
        return None
    window = 1.0 if axis.is_share else 0.01 * (end.traded - before[0].traded) * steps
    near = [p for p in before if (end.traded - p.traded) * steps <= window and p.traded < end.traded]
    start = near[0] if near else before[-1]
    if start.traded >= end.traded:
        return None
    return FiniteStep((end.traded - start.traded) * steps, max(start.primary - end.primary, 0.0), "last")


def _certify(sweep: _Sweep, ordered: list[tuple[Solution, FrontierPoint]], indices: set[int | None]) -> tuple:
    """Certified bounds at the named points (for a MILP each bound is a MILP of its own)."""
    points = []
    for index, (solution, point) in enumerate(ordered):
        if index in indices:
            bound = sweep.program.outer_bound(held(solution.traded), solution)
            point = replace(point, gap=relative_gap(point.primary, bound, "maximize", sweep.pricing.reach))
        points.append(point)
    return tuple(points)


def _shown(axis: Axis, value: float) -> str:
    return f"{value:.1%}" if axis.is_share else f"{value:,.0f}"


def _recommended(points: tuple[FrontierPoint, ...], knee: int | None, recommend_at: float | None) -> int | None:
    """The point at the scenario's own floor on the traded KPI, or the knee when it has none."""
    if recommend_at is None:
        return knee
    above = [i for i, p in enumerate(points) if p.traded >= recommend_at - 1e-9]
    return above[0] if above else len(points) - 1


def _today(sweep: _Sweep) -> Today:
    """Today's split: its primary KPI, its traded KPI as read and its spend."""
    spend = np.array([c.current for c in sweep.form.campaigns])
    today = evaluate(sweep.form, spend)
    return Today(today.value(sweep.form.goal.expr), sweep.axis.value(today.value(sweep.axis.expr)), float(spend.sum()))


def _unbeaten(sweep: _Sweep, points: tuple[FrontierPoint, ...], recommended: int | None,
              recommend_at: float | None) -> tuple[int | None, tuple[str, ...]]:
    """The recommended point, moved to the nearest one today's split does not beat when it beats it
    (at least as much of both KPIs at no more spend: recommending it would be a step back), with a
    warning that says so (no point moves below the scenario's floor on the traded KPI)."""
    if recommended is None:
        return None, ()
    chosen, today = points[recommended], _today(sweep)
    if not today.beats(chosen.primary, chosen.traded, chosen.spend):
        return recommended, ()
    kpi, axis = sweep.form.goal.kpi, sweep.axis
    what = "knee" if recommend_at is None else "point at the scenario's floor"
    beaten = (f"today's split beats the {what} ({_shown(axis, chosen.traded)} {axis.label}): at least its {kpi} "
              f"and its {axis.label}, at no more spend")
    moved = nearest_unbeaten(points, recommended, today, recommend_at)
    if moved is None:
        return recommended, (f"{beaten}; it beats every other point the frontier offers too",)
    return moved, (f"{beaten}, so the recommended point is the nearest one today's split does not beat, at "
                   f"{_shown(axis, points[moved].traded)} {axis.label}",)


def _current(sweep: _Sweep) -> CurrentPosition | None:
    """Today's split against the frontier: more primary at its traded level, or more traded at its primary.

    A traded floor the lead-max end already meets is answered by that end (the most primary of
    all), and a primary floor the far end meets by the far end (the most traded of all), each to
    within the hair its floor is moved by: no solve where today's split lies outside the span.
    """
    form, axis, program = sweep.form, sweep.axis, sweep.program
    today = evaluate(form, np.array([c.current for c in form.campaigns]))
    primary, traded = today.value(form.goal.expr), today.value(axis.expr)
    ends = sorted((solution for solution, _ in sweep.solved.values()), key=lambda solution: solution.traded)
    lead_max, far = ends[0], ends[-1]
    same_traded = lead_max if traded <= lead_max.traded else program.max_primary(traded)
    same_primary = far if primary <= far.primary else program.max_traded(primary, hint=_traded_hint(sweep, primary))
    gain = evaluate(form, same_traded.spend).value(form.goal.expr) - primary if same_traded.ok else None
    more = (axis.value(evaluate(form, same_primary.spend).value(axis.expr)) - axis.value(traded)
            if same_primary.ok else None)
    kept = replace(form, rows=tuple(row for row in program.form.rows if row.family != "frontier"))
    breaks = current_breaks(kept, today, program.plan.options.feasibility)
    return CurrentPosition(primary, axis.value(traded), gain, more, breaks)


def _traded_hint(sweep: _Sweep, primary: float) -> np.ndarray | None:
    """Duals for the most traded plan at ``primary``: the frontier point with the least primary KPI
    at or above it is on the same stretch of the frontier (or next to it)."""
    above = [solution for solution, _ in sweep.solved.values() if solution.primary >= primary]
    return sweep.program.traded_duals(min(above, key=lambda solution: solution.primary)) if above else None


def _empty(form: Formulation, axis: Axis, options: SolveOptions, period: str | None, program: FrontierProgram,
           started: float, failed: Solution, keys: dict[int, str] | None) -> Frontier:
    status = failed.run.status if failed.run.status is not Status.OPTIMAL else Status.ERROR
    message = f"No frontier: the end point could not be solved ({failed.run.message})."
    explanation = None
    if status is Status.INFEASIBLE:
        # The frontier moves the traded KPI's floors itself; the conflict lies among the rest.
        kept = replace(form, rows=tuple(row for row in program.form.rows if row.family != "frontier"))
        explanation = explain(kept, options, keys)
        message = f"No frontier: {explanation.message}"
    return Frontier(
        status=status, message=message, explanation=explanation,
        scenario=form.name, currency=form.currency, period=period, primary=form.goal.kpi, secondary=axis.kpi,
        secondary_label=axis.label, is_share=axis.is_share, budget=form.budget_total, points=(), knee=None,
        recommended=None, current=None, solves=program.solves, seconds=time.perf_counter() - started,
    )


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(min(done, total), total)
