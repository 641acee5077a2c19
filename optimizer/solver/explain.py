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
from optimizer.model.compile import compile_model
from optimizer.model.expressions import Expr
from optimizer.model.formulation import Formulation, RowSpec
from optimizer.model.refine import refine_grids
from optimizer.plan import Explanation, Relaxation
from optimizer.solver.options import SolveOptions
from optimizer.solver.persistent import Program
from optimizer.status import Status

_DINKELBACH_STEPS = 40
_REFINE_ROUNDS = 2
_ROUNDING = 5e-3
_MAX_CONFLICTS = 3


def explain(form: Formulation, options: SolveOptions, keys: dict[int, str] | None = None) -> Explanation:
    """The explanation of an infeasible formulation (``keys``: constraint position -> its --set prefix).

    Separate conflicts (a floor that cannot hold on its own, and elsewhere two targets that
    clash) are each found and explained, up to a few; each one's relaxations are worked out
    with the other conflicts set aside, since no single change can fix them all.
    """
    grids = campaign_grids(form.campaigns, options.tolerance)
    tests = _FeasibilityTests(form, options, grids)
    conflicts: list[tuple[list[int], bool]] = []
    while len(conflicts) < _MAX_CONFLICTS:
        conflict, proven = _conflict(form, tests, {i for found, _ in conflicts for i in found})
        if not conflict:
            break
        conflicts.append((conflict, proven))
    if not conflicts:
        return Explanation((), (), _message(form, [], (), False), False)
    relaxations, messages = [], []
    for conflict, proven in conflicts:
        aside = {i for other, _ in conflicts if other is not conflict for i in other}
        found = tuple(r for r in (_relax(form, options, grids, index, keys or {}, aside) for index in conflict) if r)
        relaxations += found
        messages.append(_message(form, conflict, found, proven))
    names = tuple(form.rows[index].name for conflict, _ in conflicts for index in conflict)
    proven = all(p for _, p in conflicts)
    return Explanation(names, tuple(relaxations), _joined(messages), proven)


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


def _relax(form: Formulation, options: SolveOptions, grids, index: int, keys: dict[int, str],
           aside: set[int]) -> Relaxation | None:
    spec = form.rows[index]
    others = tuple(row for k, row in enumerate(form.rows) if k != index and k not in aside)
    if spec.family in ("ratio", "share"):
        value = _extreme_ratio(form, options, grids, spec, others)
    elif spec.sense == "==":
        value = _nearest_total(form, options, grids, spec, others)
    else:
        value = _extreme(form, options, grids, spec.expr, others, "maximize" if spec.sense == ">=" else "minimize")
        if value is not None and spec.family == "sov" and spec.pool is not None:
            value = form.pools[spec.pool].share(value)
    if value is None or not math.isfinite(value):
        return None
    return relaxation_to(form, spec, value, keys)


def relaxation_to(form: Formulation, spec: RowSpec, value: float, keys: dict[int, str]) -> Relaxation | None:
    """Moving ``spec``'s bound to ``value`` (in the row's units, before any offset), rounded so the
    bound stays achievable; None when that would tighten the bound."""
    side = "total" if spec.family == "budget" else ("min" if spec.sense == ">=" else "max")
    current, value = spec.bound - spec.offset, value - spec.offset
    if (side == "min" and value >= current) or (side == "max" and value <= current):
        return None  # at the edge of what is reachable the "least change" can point the wrong way: no advice
    shown, step = _conservative(value, current, "min" if value < current else "max")
    return Relaxation(spec.name, spec.kpi, side, current, shown, _key(spec, keys, side),
                      _sentence(form, spec, current, shown, step))


def _extreme(form: Formulation, options: SolveOptions, grids, expr: Expr, others: tuple[RowSpec, ...],
             sense: str) -> float | None:
    """The largest (or smallest) value of ``expr`` with the other rows held, refined around its optimum."""
    value = None
    for _ in range(_REFINE_ROUNDS):
        study = _Study(form, options, grids, others, ((expr, "<=" if sense == "minimize" else ">="),))
        found = study.optimise(study.rows[0].coefficients, study.rows[0].constant, sense)
        if found is None:
            return value
        value, x = found
        grids = refine_grids(grids, x[: form.size], keep_ends=False)
    return value


def _nearest_total(form, options, grids, spec: RowSpec, others) -> float | None:
    """For a budget that must be spent exactly: the nearest total a plan can spend."""
    low = _extreme(form, options, grids, spec.expr, others, "minimize")
    high = _extreme(form, options, grids, spec.expr, others, "maximize")
    if low is None or high is None:
        return None
    return low if spec.rhs < low else high


def _extreme_ratio(form, options, grids, spec: RowSpec, others) -> float | None:
    """The lowest (cap) or highest (floor) ratio reachable, by Dinkelbach's method.

    A ratio row is ``numerator - (bound - offset) * denominator {<=, >=} 0``; the ratio is
    ``numerator / denominator + offset``.
    """
    offset = GLOSSARY[spec.kpi].offset if spec.family == "ratio" else 0.0
    assert spec.step_expr is not None
    numerator = spec.expr + spec.step_expr * (spec.bound - offset)
    best = None
    for _ in range(_REFINE_ROUNDS):
        # Minimising the ratio wants a small numerator and a large denominator (maximising, the reverse).
        study = _Study(form, options, grids, others, ((numerator, spec.sense), (spec.step_expr, _opposite(spec.sense))))
        found = study.fractional(offset, "minimize" if spec.sense == "<=" else "maximize")
        if found is None:
            return best
        best, x = found
        grids = refine_grids(grids, x[: form.size], keep_ends=False)
    return best


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
    fill in order get their binaries (minimising leads on a concave curve, say).
    """

    def __init__(self, form: Formulation, options: SolveOptions, grids, others,
                 probes: tuple[tuple[Expr, str], ...]):
        rows = tuple(RowSpec(f"probe {k}", "probe", "", "", sense, 0.0, 0.0, expr)
                     for k, (expr, sense) in enumerate(probes))
        goal = replace(form.goal, expr=Expr.zero(form.size), pool=None)
        study = replace(form, rows=tuple(others) + rows, goal=goal)
        model = compile_model(study, "plan", grids)
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

    def fractional(self, offset: float, sense: str) -> tuple[float, np.ndarray] | None:
        """Optimise numerator / denominator + offset over the program (Dinkelbach)."""
        numerator, denominator = self.rows
        ratio, x = None, None
        for _ in range(_DINKELBACH_STEPS):
            level = 0.0 if ratio is None else ratio - offset
            cost = numerator.coefficients - level * denominator.coefficients
            found = self.optimise(cost, numerator.constant - level * denominator.constant, sense)
            if found is None:
                return None if ratio is None else (ratio, x)
            value, x = found
            bottom = denominator.coefficients @ x + denominator.constant
            if bottom <= 0:
                return None
            new = (numerator.coefficients @ x + numerator.constant) / bottom + offset
            if ratio is not None and abs(new - ratio) <= 1e-10 * max(1.0, abs(ratio)):
                return new, x
            ratio = new
        return ratio, x


# --- 3. words -------------------------------------------------------------------------------------


def _conservative(value: float, current: float, direction: str) -> tuple[float, float]:
    """``value`` rounded away from ``current`` (so the rounded bound stays achievable), to a step of
    at most half a percent of the change; and that step."""
    change = abs(value - current)
    step = 10.0 ** math.floor(math.log10(max(change * _ROUNDING, abs(value) * 1e-12, 1e-300)))
    rounded = math.floor(value / step) * step if direction == "min" else math.ceil(value / step) * step
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


def _sentence(form: Formulation, spec: RowSpec, current: float, value: float, step: float) -> str:
    verb = "raise" if value > current else "lower"
    target = "the budget" if spec.family == "budget" else _label(spec)
    return f"{verb} {target} to {shown_bound(form, spec, value, step)}"


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


def _message(form: Formulation, conflict: list[int], relaxations: tuple[Relaxation, ...], proven: bool) -> str:
    if not conflict:
        return ("No plan was found, but no conflict between the constraints could be pinned down: "
                "a floor or cap sits at the very edge of what the campaigns can reach.")
    budget = [i for i in conflict if form.rows[i].family == "budget"]
    named = [form.rows[i].name for i in conflict if i not in budget]
    with_budget = f" with {money(form.budget_total, form.currency)}" if budget else ""
    if not named:
        head = f"The campaigns' limits cannot be met{with_budget}."
    elif len(named) == 1:
        within = with_budget or " within the campaigns' spend limits"
        head = f"{named[0]} cannot hold{within}."
    else:
        head = f"{', '.join(named[:-1])} and {named[-1]} cannot all hold{with_budget}." if len(named) > 2 else \
            f"{named[0]} and {named[1]} cannot both hold{with_budget}."
    if not proven:
        head = head[:-1] + " (at the edge of what is reachable)."
    if not relaxations:
        return head
    options = [r.sentence for r in relaxations]
    tail = options[0] if len(options) == 1 else ", or ".join(options)
    return f"{head} {'Either ' if len(options) > 1 else 'To fix it, '}{tail}."
