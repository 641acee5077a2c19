"""A scenario with one bound moved, and whether it then has a plan: how an explanation checks its advice.

``with_bound`` rebuilds one constraint row as ``--set key=value`` would (``model.rows.with_user_bound``:
a ratio cap multiplied out again, an SOV floor turned back into pooled volume; a budget also widens
the campaigns it caps); ``has_plan`` solves the result the way ``solve`` does, so
a relaxation that passes here works when the user applies it as printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace

from optimizer.model.formulation import Formulation
from optimizer.model.rows import with_user_bound
from optimizer.solver.options import SolveOptions
from optimizer.status import Status

_checking: ContextVar[bool] = ContextVar("checking a relaxation", default=False)


def checking() -> bool:
    """Whether a relaxation is being checked now (its solve needs no explanation of its own)."""
    return _checking.get()


@contextmanager
def _checking_relaxation() -> Iterator[None]:
    token = _checking.set(True)
    try:
        yield
    finally:
        _checking.reset(token)


def has_plan(form: Formulation, options: SolveOptions) -> bool:
    """Whether ``solve`` finds an optimal plan for ``form``, re-checked on the exact curves."""
    from optimizer.solver.run import solve_formulation  # run imports the explanation, which imports this

    with _checking_relaxation():
        return solve_formulation(form, replace(options, deadline=None)).status is Status.OPTIMAL


def with_bound(form: Formulation, index: int, value: float) -> Formulation:
    """``form`` with row ``index``'s bound set to ``value`` in the user's units (an ESOV bound
    without the share of market, a share as a fraction), as ``--set`` would set it."""
    spec = form.rows[index]
    rows = form.rows[:index] + (with_user_bound(form, spec, value),) + form.rows[index + 1:]
    moved = replace(form, rows=rows)
    return _with_budget(moved, value) if spec.family == "budget" else moved


def without(form: Formulation, aside: set[int]) -> Formulation:
    """``form`` without the rows ``aside`` (other conflicts, each needing its own fix)."""
    return replace(form, rows=tuple(row for k, row in enumerate(form.rows) if k not in aside))


def _with_budget(form: Formulation, total: float) -> Formulation:
    """The budget at ``total``: campaigns without a max of their own may take a hair more than it."""
    old = form.budget_total
    if old is None or old <= 0:
        return replace(form, budget_total=total)
    campaigns = tuple(replace(c, hi=c.hi * total / old) if c.hi_reason == "budget" else c for c in form.campaigns)
    return replace(form, campaigns=campaigns, budget_total=total)
