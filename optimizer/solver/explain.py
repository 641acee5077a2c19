"""Why no plan exists, in the client's units, and the smallest change that would make one possible.

1. A deletion filter over the soft constraints (budget, KPI floors and caps, ratio caps, SOV
   floors, group spend and shares) finds a conflicting set in which every member matters:
   dropping any one of them makes a plan possible.
2. For each member of that set, with every other constraint kept, the program finds the
   tightest value its bound could take: the largest SOV still reachable, the lowest CPL
   achievable (by Dinkelbach's method, since a ratio is not linear), the least budget needed.
   Applied alone, each makes the scenario feasible.

Feasibility questions are asked of the outer program when it can prove infeasibility, and
relaxations are computed on the inner (plan) program, so every suggested value is achievable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from optimizer.formatting import kpi_value, money
from optimizer.glossary import GLOSSARY
from optimizer.model.campaigns import campaign_grids
from optimizer.model.compile import Purpose, compile_model
from optimizer.model.evaluate import Evaluation, evaluate
from optimizer.model.expressions import Expr
from optimizer.model.formulation import Formulation, RowSpec
from optimizer.model.refine import refine_grids
from optimizer.model.rows import ratio_parts
from optimizer.plan import Explanation, Relaxation
from optimizer.solver.options import SolveOptions
from optimizer.solver.persistent import Program
from optimizer.solver.relaxed import checking, has_plan, with_bound, without
from optimizer.status import Status

Grids = tuple[np.ndarray, ...]
_DINKELBACH_STEPS = 40
_REACH_ROUNDS = 8
_MET = 1e-9
_CLOSE_ENOUGH = 1e-3
_ROUNDING = 5e-3
_PRECISION = 2e-3
"""A suggested value is shown to a step of at most 0.2% of itself (2,834 leads, not 0 or 2,800)."""
_NUDGES = (0.0, 2e-3, 4e-3)
"""When a suggested value does not verify, it is moved this much further (a share of the change) and
tried again: still short of the 1% more of the change than needed that the advice must stay within."""
_ACTIVE = 10.0
"""A row binds at a plan when its slack is within this many chord tolerances (relative)."""
_LIMITING = 1e-3
"""A row holds a relaxation back when, without it, the reach goes this share further (of the change, or of
the reach when that is smaller)."""
_MAX_CONFLICTS = 3
_WITHIN_LIMITS = " within the campaigns' spend limits"


def explain(form: Formulation, options: SolveOptions, keys: dict[int, str] | None = None,
            grids: Grids | None = None) -> Explanation:
    """The explanation of an infeasible formulation (``keys``: constraint position -> its --set prefix).

    Separate conflicts (a floor that cannot hold on its own, and elsewhere two targets that
    clash) are each found and explained, up to a few; each one's relaxations are worked out
    with the other conflicts set aside, since no single change can fix them all. ``grids``: the
    breakpoints on which the solve proved that no plan exists (refined at the edge), if known.
    """
    if checking():
        return Explanation((), (), "", False)  # a relaxation being checked: only whether it has a plan counts
    grids = grids if grids is not None else campaign_grids(form.campaigns, options.tolerance)
    conflicts = _conflicts(form, _FeasibilityTests(form, options, grids))
    if not conflicts:
        return Explanation((), (), _message(form, [], (), False), False)
    offers, messages = [], []
    for conflict, proven in conflicts:
        aside = {i for other, _ in conflicts if other is not conflict for i in other}
        found = tuple(o for o in (_relax(form, options, grids, index, keys or {}, aside) for index in conflict) if o)
        offers += found
        messages.append(_message(form, conflict, found, proven))
    names = tuple(form.rows[index].name for conflict, _ in conflicts for index in conflict)
    return Explanation(names, tuple(o.relaxation for o in offers), _joined(messages), all(p for _, p in conflicts))


def _conflicts(form: Formulation, tests: _FeasibilityTests) -> list[tuple[list[int], bool]]:
    """Up to a few separate conflicting sets, each with whether it is proven."""
    conflicts: list[tuple[list[int], bool]] = []
    while len(conflicts) < _MAX_CONFLICTS:
        conflict, proven = _conflict(form, tests, {i for found, _ in conflicts for i in found})
        if not conflict:
            break
        conflicts.append((conflict, proven))
    return conflicts


def _joined(messages: list[str]) -> str:
    if len(messages) == 1:
        return messages[0]
    counted = {2: "Two", 3: "Three"}.get(len(messages), str(len(messages)))
    return f"{counted} separate conflicts, each needing its own fix: " + " ".join(
        f"({k}) {message}" for k, message in enumerate(messages, start=1))


# --- 1. the conflicting set --------------------------------------------------------------------


class _FeasibilityTests:
    """The outer (proof) and inner (plan) programs with a zero goal, compiled once for every search."""

    def __init__(self, form: Formulation, options: SolveOptions, grids):
        self._form, self._options, self._grids = form, options, grids
        self._programs: dict[str, tuple[Program, np.ndarray, np.ndarray]] = {}

    def program(self, purpose: str, aside: set[int]) -> Program:
        """The program for ``purpose`` with every row at its own bounds except those ``aside``, which are free."""
        if purpose not in self._programs:
            program = Program(compile_model(self._form, purpose, self._grids), self._options)
            program.set_objective(np.zeros(program.model.cost.size), 0.0, program.model.sense)
            self._programs[purpose] = (program, program.model.row_lower.copy(), program.model.row_upper.copy())
        program, lower, upper = self._programs[purpose]
        free = np.isin(program.model.row_spec, list(aside))
        program.set_row_bounds(np.arange(lower.size), np.where(free, -np.inf, lower), np.where(free, np.inf, upper))
        return program


def _conflict(form: Formulation, tests: _FeasibilityTests, aside: set[int]) -> tuple[list[int], bool]:
    """A set of rows that cannot hold together, each needed (the rows ``aside`` left out); and whether
    that is proven. Empty when the rows left out were the only conflicts."""
    for purpose, proven in (("bound", True), ("plan", False)):
        program = tests.program(purpose, aside)
        if _feasible(program):
            continue
        kept = [index for index in range(len(form.rows)) if index not in aside]
        for index in list(kept):
            rows = np.flatnonzero(program.model.row_spec == index)
            lower, upper = program.model.row_lower[rows].copy(), program.model.row_upper[rows].copy()
            program.set_row_bounds(rows, np.full(rows.size, -np.inf), np.full(rows.size, np.inf))
            if _feasible(program):
                program.set_row_bounds(rows, lower, upper)
            else:
                kept.remove(index)
        return kept, proven
    return [], False


def _feasible(program: Program) -> bool:
    return program.solve().status is Status.OPTIMAL


# --- 2. the tightest bound for one row, the others kept ------------------------------------------


@dataclass(frozen=True)
class _Reach:
    """How far one row's own value can go with the other rows held: the value (in the row's units),
    the plan that reaches it, the breakpoints it was found on and the direction it was pushed."""

    value: float
    x: np.ndarray
    grids: Grids
    sense: str


@dataclass(frozen=True)
class _Offer:
    """A verified relaxation and the other rows that hold it where it is."""

    relaxation: Relaxation
    limiters: tuple[int, ...]


def _relax(form: Formulation, options: SolveOptions, grids: Grids, index: int, keys: dict[int, str],
           aside: set[int]) -> _Offer | None:
    """The least change to row ``index`` that lets a plan exist (the rows ``aside`` left out), verified."""
    spec = form.rows[index]
    others = tuple(k for k in range(len(form.rows)) if k != index and k not in aside)
    reach = _nearest_total(form, options, grids, spec, others) if spec.sense == "==" else \
        _reach(form, options, grids, spec, others, "maximize" if spec.sense == ">=" else "minimize")
    if reach is None or not math.isfinite(reach.value):
        return None
    limiters = _limiters(form, options, spec, reach, others)
    return _verified(without(form, aside), options, index - sum(k < index for k in aside),
                     _user_value(form, spec, reach.value), keys, tuple(k - sum(a < k for a in aside) for k in limiters))


def _user_value(form: Formulation, spec: RowSpec, value: float) -> float:
    """A reach in the row's bound units (an SOV row reaches a pooled volume: its share)."""
    if spec.family == "sov" and spec.pool is not None:
        return form.pools[spec.pool].share(value)
    return value


def _reach(form: Formulation, options: SolveOptions, grids: Grids, spec: RowSpec, others: tuple[int, ...],
           sense: str) -> _Reach | None:
    """The largest (or smallest) value of ``spec``'s own KPI with the ``others`` held, on the exact curves.

    The plan program's reach is achievable and the outer program's is beyond the exact one, so
    breakpoints are refined around both optima until they meet (``_met``); the plan program's is
    kept. None when no plan of the plan program holds the others.
    """
    reach = None
    current = spec.bound if spec.family in ("ratio", "share") else spec.rhs
    for _ in range(_REACH_ROUNDS):
        inner = _reach_once(form, options, grids, spec, others, sense)
        outer = _reach_once(form, options, grids, spec, others, sense, purpose="bound")
        if inner is not None:
            reach = _Reach(inner[0], inner[1], grids, sense)
        if outer is None or (inner is not None and _met(inner[0], outer[0], current)):
            return reach
        grids = refine_grids(grids, outer[1][: form.size], keep_ends=False)
        if inner is not None:
            grids = refine_grids(grids, inner[1][: form.size], keep_ends=False)
    return reach


def _met(inner: float, outer: float, current: float) -> bool:
    """Whether a reach is known closely enough: the two programs' within a relative ``_MET`` of each
    other, or within ``_CLOSE_ENOUGH`` of both the reach and the change the advice asks for (it
    shows a value to 0.2% of itself and 0.5% of the change)."""
    apart, size = abs(outer - inner), max(abs(inner), abs(outer))
    return apart <= _MET * size or apart <= _CLOSE_ENOUGH * min(size, abs(outer - current))


def _reach_once(form: Formulation, options: SolveOptions, grids: Grids, spec: RowSpec, others: tuple[int, ...],
                sense: str, start: float | None = None, purpose: Purpose = "plan") -> tuple[float, np.ndarray] | None:
    """One solve (Dinkelbach's sequence for a ratio, from ``start`` if known) of the reach on ``grids``,
    in the plan program (achievable) or the outer one (``purpose="bound"``: a bound on the exact reach)."""
    kept = tuple(form.rows[k] for k in others)
    if spec.family in ("ratio", "share"):
        return _ratio_once(form, options, grids, spec, kept, sense, start, purpose)
    study = _Study(form, options, grids, kept, ((spec.expr, "<=" if sense == "minimize" else ">="),), purpose)
    return study.optimise(study.rows[0].coefficients, study.rows[0].constant, sense)


def _nearest_total(form: Formulation, options: SolveOptions, grids: Grids, spec: RowSpec,
                   others: tuple[int, ...]) -> _Reach | None:
    """For a budget that must be spent exactly: the nearest total a plan can spend."""
    low = _reach(form, options, grids, spec, others, "minimize")
    high = _reach(form, options, grids, spec, others, "maximize")
    if low is None or high is None:
        return None
    return low if spec.rhs < low.value else high


def _ratio_once(form: Formulation, options: SolveOptions, grids: Grids, spec: RowSpec, kept: tuple[RowSpec, ...],
                sense: str, start: float | None = None, purpose: Purpose = "plan") -> tuple[float, np.ndarray] | None:
    """The lowest (cap) or highest (floor) ratio reachable on ``grids``, by Dinkelbach's method.

    A ratio row is ``numerator - (bound - offset) * denominator {<=, >=} 0``; the ratio is
    ``numerator / denominator + offset``.
    """
    numerator, offset = ratio_parts(spec)
    # Minimising the ratio wants a small numerator and a large denominator (maximising, the reverse).
    pushed = "<=" if sense == "minimize" else ">="
    study = _Study(form, options, grids, kept, ((numerator, pushed), (spec.step_expr, _opposite(pushed))), purpose)
    return study.fractional(offset, sense, start)


# --- which other rows hold a relaxation where it is ------------------------------------------------


def _limiters(form: Formulation, options: SolveOptions, spec: RowSpec, reach: _Reach,
              others: tuple[int, ...]) -> tuple[int, ...]:
    """The other rows that bind against ``spec``: each active at its reach, and without it the reach
    goes further (on the same breakpoints) by more than a thousandth of the change (or of the reach)."""
    evaluation = evaluate(form, _spend(form, reach.x))
    active = [k for k in others if _active(form.rows[k], evaluation, _ACTIVE * form.tolerance)]
    current = spec.bound if spec.family in ("ratio", "share") else spec.rhs
    needed = _LIMITING * max(min(abs(reach.value - current), abs(reach.value)), 1e-9 * abs(current))
    limiters = []
    for k in active:
        without = tuple(o for o in others if o != k)
        found = _reach_once(form, options, reach.grids, spec, without, reach.sense, reach.value)
        further = found is not None and (found[0] - reach.value) * (1 if reach.sense == "maximize" else -1)
        if further and further > needed:
            limiters.append(k)
    return tuple(limiters)


def _spend(form: Formulation, x: np.ndarray) -> np.ndarray:
    return np.clip(x[: form.size], [c.lo for c in form.campaigns], [c.hi for c in form.campaigns])


def _active(row: RowSpec, evaluation: Evaluation, tolerance: float) -> bool:
    """Whether ``row`` holds with (nearly) no slack at the evaluated plan."""
    slack = tolerance * max(1.0, abs(row.rhs), evaluation.magnitude(row.expr))
    return abs(evaluation.value(row.expr) - row.rhs) <= slack


# --- verified against a solve of the scenario with the change made ----------------------------------


def _verified(form: Formulation, options: SolveOptions, index: int, reach: float, keys: dict[int, str],
              limiters: tuple[int, ...]) -> _Offer | None:
    """The relaxation to ``reach`` (in the row's units), rounded away from the current bound and checked
    by solving the scenario with that one change; nudged a little further when the solve disagrees,
    dropped when it still does. None too when the reach would tighten the bound."""
    spec = form.rows[index]
    current, value = spec.bound - spec.offset, reach - spec.offset
    if _tightens(spec, current, value):
        return None
    direction, change = ("min" if value < current else "max"), abs(value - current)
    for nudge in _NUDGES:
        further = value - nudge * change if direction == "min" else value + nudge * change
        shown, step = _conservative(further, current, direction, change)
        if has_plan(with_bound(form, index, shown), options):
            offer = _relaxation(form, spec, current, shown, step, keys)
            return _Offer(replace(offer, sentence=offer.sentence + _held_by(form, limiters, shown - current)), limiters)
    return None


def _held_by(form: Formulation, limiters: tuple[int, ...], change: float) -> str:
    """`` (the most the CPL cap allows)``: what keeps the relaxation from going further."""
    if not limiters:
        return ""
    labels = [_target(form.rows[k]) for k in limiters]
    return f" (the {'most' if change < 0 else 'least'} {_listed(labels)} allow{'s' if len(labels) == 1 else ''})"


def relaxation_to(form: Formulation, spec: RowSpec, value: float, keys: dict[int, str]) -> Relaxation | None:
    """Moving ``spec``'s bound to ``value`` (in the row's units, before any offset), rounded so the
    bound stays achievable; None when that would tighten the bound."""
    current, value = spec.bound - spec.offset, value - spec.offset
    if _tightens(spec, current, value):
        return None
    shown, step = _conservative(value, current, "min" if value < current else "max")
    return _relaxation(form, spec, current, shown, step, keys)


def _tightens(spec: RowSpec, current: float, value: float) -> bool:
    """At the edge of what is reachable the "least change" can point the wrong way: no advice then."""
    side = _side(spec)
    return (side == "min" and value >= current) or (side == "max" and value <= current)


def _side(spec: RowSpec) -> str:
    return "total" if spec.family == "budget" else ("min" if spec.sense == ">=" else "max")


def _relaxation(form: Formulation, spec: RowSpec, current: float, shown: float, step: float,
                keys: dict[int, str]) -> Relaxation:
    side = _side(spec)
    return Relaxation(spec.name, spec.kpi, side, current, shown, _key(spec, keys, side),
                      _sentence(form, spec, current, shown, step))


@dataclass(frozen=True)
class _Row:
    coefficients: np.ndarray
    constant: float


def _opposite(sense: str) -> str:
    return ">=" if sense == "<=" else "<="


class _Study:
    """The plan program without one row, with expressions of interest compiled as free rows.

    Each probe is compiled with the sense the study pushes it in (``<=``: made small), so the
    plan program sees the envelope that keeps its answers achievable, and segments that must
    fill in order get their binaries (minimising leads on a concave curve, say). With
    ``purpose="bound"`` it is the outer program instead: its answers bound the exact ones.
    """

    def __init__(self, form: Formulation, options: SolveOptions, grids, others,
                 probes: tuple[tuple[Expr, str], ...], purpose: Purpose = "plan"):
        rows = tuple(RowSpec(f"probe {k}", "probe", "", "", sense, 0.0, 0.0, expr)
                     for k, (expr, sense) in enumerate(probes))
        goal = replace(form.goal, expr=Expr.zero(form.size), pool=None)
        study = replace(form, rows=tuple(others) + rows, goal=goal)
        model = compile_model(study, purpose, grids)
        matrix = model.matrix.tocsr()
        indices = [int(np.flatnonzero(model.row_spec == len(others) + k)[0]) for k in range(len(probes))]
        # Each probe was compiled with a right-hand side of 0, so its finite bound is minus its constant.
        self.rows = [_Row(matrix[[i], :].toarray().ravel(),
                          float(-(model.row_lower[i] if sense == ">=" else model.row_upper[i])))
                     for i, (_, sense) in zip(indices, probes, strict=True)]
        self.program = Program(model, options)
        free = np.array(indices)
        self.program.set_row_bounds(free, np.full(free.size, -np.inf), np.full(free.size, np.inf))

    def optimise(self, cost: np.ndarray, offset: float, sense: str) -> tuple[float, np.ndarray] | None:
        self.program.set_objective(cost, offset, sense)  # type: ignore[arg-type]
        run = self.program.solve()
        if run.status is not Status.OPTIMAL or run.objective is None or run.x is None:
            return None
        return run.objective, run.x

    def fractional(self, offset: float, sense: str, start: float | None = None) -> tuple[float, np.ndarray] | None:
        """Optimise numerator / denominator + offset over the program (Dinkelbach), from the ratio
        ``start`` of a plan known to be feasible (from 0 when none is known)."""
        numerator, denominator = self.rows
        ratio, x = start, None
        for _ in range(_DINKELBACH_STEPS):
            level = 0.0 if ratio is None else ratio - offset
            cost = numerator.coefficients - level * denominator.coefficients
            found = self.optimise(cost, numerator.constant - level * denominator.constant, sense)
            if found is None:
                return None if ratio is None else (ratio, x)
            value, x = found
            bottom = denominator.coefficients @ x + denominator.constant
            if bottom <= 0:  # nothing spent: no ratio better than the plan already known
                return (ratio, x) if start is not None else None
            new = (numerator.coefficients @ x + numerator.constant) / bottom + offset
            if ratio is not None and abs(new - ratio) <= 1e-10 * max(1.0, abs(ratio)):
                return new, x
            ratio = new
        return ratio, x


# --- 3. words -------------------------------------------------------------------------------------


def _conservative(value: float, current: float, direction: str, change: float | None = None) -> tuple[float, float]:
    """``value`` rounded away from ``current`` (so the rounded bound stays achievable), to a step of
    at most half a percent of the change (``change``, by default from ``value`` to ``current``) and
    at most 0.2% of ``value`` itself (a reach of 2,834 leads is not shown as 0); and that step."""
    change = abs(value - current) if change is None else change
    finest = min(change * _ROUNDING, abs(value) * _PRECISION) if value else change * _ROUNDING
    step = 10.0 ** math.floor(math.log10(max(finest, abs(value) * 1e-12, 1e-300)))
    steps = round(value / step, 6)  # 0.1 / 1e-4 is 999.9999999: a thousand steps, not 999
    rounded = math.floor(steps) * step if direction == "min" else math.ceil(steps) * step
    return float(f"{rounded:.12g}"), step


def _key(spec: RowSpec, keys: dict[int, str], side: str) -> str | None:
    if spec.family == "budget":
        return "budget.total"
    if spec.constraint is None or spec.constraint not in keys:
        return None
    return f"{keys[spec.constraint]}.{side}"


def _label(spec: RowSpec) -> str:
    """``Search SOV floor`` (the user's name), else ``the sov.search floor``."""
    if spec.constraint is not None and not spec.name.startswith(spec.kpi):
        return f"the {spec.name}"
    where = f" of {spec.where}" if spec.where not in ("all campaigns", "") and spec.family != "sov" else ""
    kind = "floor" if spec.sense == ">=" else "cap"
    return f"the {spec.kpi.upper() if spec.family == 'ratio' else spec.kpi} {kind}{where}"


def _target(spec: RowSpec) -> str:
    """``the budget``, ``the CPL cap``, ``the Search SOV floor``."""
    return "the budget" if spec.family == "budget" else _label(spec)


def _sentence(form: Formulation, spec: RowSpec, current: float, value: float, step: float) -> str:
    verb = "raise" if value > current else "lower"
    return f"{verb} {_target(spec)} to {shown_bound(form, spec, value, step)}"


def shown_bound(form: Formulation, spec: RowSpec, value: float, step: float) -> str:
    """The value with as many decimals as its rounding step needs (and no fewer than usual)."""
    digits = max(0, -math.floor(math.log10(step)))
    unit = "percent" if spec.family in ("share", "sov") else GLOSSARY[spec.kpi].unit if spec.kpi in GLOSSARY else ""
    if unit == "percent":
        return f"{value * 100:.{max(1, digits - 2)}f}%"
    if unit == "currency":
        return money(value, form.currency, max(2, digits) if digits or abs(value) < 1000 else 0)
    if unit == "multiple":
        return f"{value:.{max(2, digits)}f}x"
    return f"{value:,.{digits}f}" if digits else kpi_value(spec.kpi, value, form.currency)


def _message(form: Formulation, conflict: list[int], offers: tuple[_Offer, ...], proven: bool) -> str:
    if not conflict:
        return ("No plan was found, but no conflict between the constraints could be pinned down: "
                "a floor or cap sits at the very edge of what the campaigns can reach.")
    head = _head(form, conflict)
    others = [k for k in dict.fromkeys(k for offer in offers for k in offer.limiters) if k not in conflict]
    if others:
        verb = "binds" if len(others) == 1 else "bind"
        head = head[:-1] + f", and {_listed([_limiter_name(form, k) for k in others])} {verb} against " \
                           f"{'it' if len(conflict) == 1 else 'them'} too."
    if not proven:
        head = head[:-1] + " (at the edge of what is reachable)."
    if not offers:
        return head
    options = [offer.relaxation.sentence for offer in offers]
    tail = options[0] if len(options) == 1 else ", or ".join(options)
    return f"{head} {'Either ' if len(options) > 1 else 'To fix it, '}{tail}."


def _head(form: Formulation, conflict: list[int]) -> str:
    """``Lead target and CPL cap cannot both hold.``: the conflict, the budget given as an amount."""
    budget = [i for i in conflict if form.rows[i].family == "budget"]
    named = [form.rows[i].name for i in conflict if i not in budget]
    with_budget = f" with {money(form.budget_total, form.currency)}" if budget else ""
    if not named:
        return f"The campaigns' limits cannot be met{with_budget}."
    if len(named) == 1:
        return f"{named[0]} cannot hold{with_budget or _WITHIN_LIMITS}."
    return f"{_listed(named)} cannot {'both' if len(named) == 2 else 'all'} hold{with_budget}."


def _limiter_name(form: Formulation, index: int) -> str:
    """A row's own name (``CPL cap``), or ``the $250,000 budget``."""
    row = form.rows[index]
    return f"the {money(form.budget_total, form.currency)} budget" if row.family == "budget" else row.name


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
