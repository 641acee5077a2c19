"""From a scenario to a ``Formulation``: one small function per constraint family."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from optimizer.formatting import kpi_value, money, percent
from optimizer.glossary import GLOSSARY, split_pool_kpi
from optimizer.model.campaigns import campaign_model
from optimizer.model.expressions import Expr
from optimizer.model.formulation import Formulation, Goal, PoolModel, RowSpec
from optimizer.scenario.schema import ConstraintSpec, Scenario, Where

_SENSES = (("min", ">="), ("max", "<="))


def formulate(scenario: Scenario, tolerance: float | None = None) -> Formulation:
    """The scenario's campaigns, pools, constraint rows and goal, ready to compile."""
    budget = scenario.budget
    campaigns = tuple(campaign_model(c, budget) for c in scenario.campaigns)
    skeleton = Formulation(
        name=scenario.name,
        currency=scenario.currency,
        campaigns=campaigns,
        pools={},
        rows=(),
        goal=Goal("spend", "minimize", Expr.zero(len(campaigns)), "spend"),
        tolerance=tolerance if tolerance is not None else scenario.solver.tolerance,
        budget_total=budget.total if budget is not None else None,
        spend_all=bool(budget is not None and budget.spend_all),
    )
    form = replace(skeleton, pools={name: pool_model(skeleton, name, scenario) for name in scenario.pools})
    rows = [*budget_rows(form), *(r for i, c in enumerate(scenario.constraints) for r in constraint_rows(form, c, i))]
    return replace(form, rows=tuple(rows), goal=goal(form, scenario))


def pool_model(form: Formulation, name: str, scenario: Scenario) -> PoolModel:
    """The pool ``name`` with its member campaigns."""
    pool = scenario.pools[name]
    members = np.array([name in c.pools for c in form.campaigns], dtype=bool)
    return PoolModel(name, pool.label or name, pool.volume, pool.against_competitors, pool.reference, pool.som,
                     members)


def goal(form: Formulation, scenario: Scenario) -> Goal:
    """The objective: a volume KPI or a pool's volume to maximise, or spend to minimise."""
    objective = scenario.objective
    if objective.sense == "minimize":
        return Goal("spend", "minimize", form.volume("spend"), form.currency)
    pooled = split_pool_kpi(objective.kpi)
    if pooled is not None:
        pool = form.pools[pooled[1]]
        return Goal(objective.kpi, "maximize", pool.expr(), f"{pool.volume} in pool {pool.name}", pool.name)
    return Goal(objective.kpi, "maximize", form.volume(objective.kpi), objective.kpi)


def budget_rows(form: Formulation) -> Iterator[RowSpec]:
    """Total spend <= budget, or = budget when the plan must spend it all."""
    if form.budget_total is None:
        return
    sense = "==" if form.spend_all else "<="
    yield RowSpec(
        name=f"budget {'=' if form.spend_all else '<='} {money(form.budget_total, form.currency)}",
        family="budget", kpi="spend", where="all campaigns", sense=sense, rhs=form.budget_total,
        bound=form.budget_total, expr=form.volume("spend"),
        step_label=f"per extra {money(1, form.currency, 0)} of budget",
    )


def constraint_rows(form: Formulation, constraint: ConstraintSpec, index: int) -> Iterator[RowSpec]:
    """The rows of one ``[[constraints]]`` entry (one per bound given)."""
    pooled = split_pool_kpi(constraint.kpi)
    if pooled is not None:
        family = sov_rows if pooled[0] == "sov" else esov_rows
        yield from family(form, constraint, index, form.pools[pooled[1]])
        return
    kind = GLOSSARY[constraint.kpi].kind
    if constraint.kpi == "share":
        yield from share_rows(form, constraint, index)
    elif kind == "ratio":
        yield from ratio_rows(form, constraint, index)
    else:
        yield from volume_rows(form, constraint, index)


def _mask(form: Formulation, where: Where | None) -> np.ndarray:
    if where is None:
        return np.ones(form.size, dtype=bool)
    return form.mask(where)


def _label(constraint: ConstraintSpec, side: str, shown: str) -> str:
    if constraint.name:
        return constraint.name if constraint.min is None or constraint.max is None else f"{constraint.name} ({side})"
    where = f"[{constraint.where.describe()}]" if constraint.where is not None else ""
    return f"{constraint.kpi}{where} {'>=' if side == 'min' else '<='} {shown}"


def _where(constraint: ConstraintSpec) -> str:
    return constraint.where.describe() if constraint.where is not None else "all campaigns"


def volume_rows(form: Formulation, constraint: ConstraintSpec, index: int) -> Iterator[RowSpec]:
    """Floors and caps on spend, impressions, clicks, leads, MQLs, ... of a selection."""
    expr = form.volume(constraint.kpi, _mask(form, constraint.where))
    unit = f"{money(1, form.currency, 0)} of" if constraint.kpi in ("spend", "revenue") else "one unit of"
    for side, sense in _SENSES:
        bound = getattr(constraint, side)
        if bound is None:
            continue
        yield RowSpec(
            name=_label(constraint, side, kpi_value(constraint.kpi, bound, form.currency)),
            family="spend" if constraint.kpi == "spend" else "volume", kpi=constraint.kpi,
            where=_where(constraint), sense=sense, rhs=bound, bound=bound, expr=expr,
            step_label=f"per {unit} {constraint.kpi} {'floor' if side == 'min' else 'cap'}", constraint=index,
        )


def share_rows(form: Formulation, constraint: ConstraintSpec, index: int) -> Iterator[RowSpec]:
    """Share of total spend: spend(selection) - share x spend(all) >= 0 (or <= 0)."""
    selection = form.volume("spend", _mask(form, constraint.where))
    total = form.volume("spend")
    for side, sense in _SENSES:
        bound = getattr(constraint, side)
        if bound is None:
            continue
        yield RowSpec(
            name=_label(constraint, side, percent(bound)), family="share", kpi="share", where=_where(constraint),
            sense=sense, rhs=0.0, bound=bound, expr=selection - total * bound, step=0.01, step_expr=total,
            step_label="per point of share", constraint=index,
        )


def ratio_rows(form: Formulation, constraint: ConstraintSpec, index: int) -> Iterator[RowSpec]:
    """Ratio caps and floors, multiplied out: CPL <= X becomes spend - X * leads <= 0."""
    kpi = GLOSSARY[constraint.kpi]
    mask = _mask(form, constraint.where)
    numerator = form.volume(kpi.numerator, mask) * kpi.scale
    denominator = form.volume(kpi.denominator, mask)
    step_text = {"currency": money(kpi.step, form.currency, 0), "percent": "point", "multiple": f"{kpi.step:g}x"}
    for side, sense in _SENSES:
        bound = getattr(constraint, side)
        if bound is None:
            continue
        yield RowSpec(
            name=_label(constraint, side, kpi_value(kpi.name, bound, form.currency)), family="ratio",
            kpi=kpi.name, where=_where(constraint), sense=sense, rhs=0.0, bound=bound,
            expr=numerator - denominator * (bound - kpi.offset), step=kpi.step, step_expr=denominator,
            step_label=f"per {step_text[kpi.unit]} of {kpi.name.upper()}", constraint=index,
        )


def sov_rows(form: Formulation, constraint: ConstraintSpec, index: int, pool: PoolModel) -> Iterator[RowSpec]:
    """SOV >= s becomes pooled volume >= s * total, or >= s / (1 - s) * competitors."""
    for side, sense in _SENSES:
        share = getattr(constraint, side)
        if share is None:
            continue
        yield _pool_row(constraint, index, pool, side, sense, share, percent(share))


def esov_rows(form: Formulation, constraint: ConstraintSpec, index: int, pool: PoolModel) -> Iterator[RowSpec]:
    """ESOV = SOV - SOM, so an ESOV bound is an SOV bound shifted by the share of market."""
    for side, sense in _SENSES:
        excess = getattr(constraint, side)
        if excess is None:
            continue
        share = excess + (pool.som or 0.0)
        yield _pool_row(constraint, index, pool, side, sense, share, f"{excess * 100:+.1f} pts", pool.som or 0.0)


def ratio_parts(spec: RowSpec) -> tuple[Expr, float]:
    """A ratio or share row's numerator and offset: the row is ``numerator - (bound - offset) x step_expr``
    (spend - CPL x leads; spend of a selection - share x spend of all)."""
    assert spec.step_expr is not None
    offset = GLOSSARY[spec.kpi].offset if spec.family == "ratio" else 0.0
    return spec.expr + spec.step_expr * (spec.bound - offset), offset


def with_user_bound(form: Formulation, spec: RowSpec, value: float) -> RowSpec:
    """``spec`` with the user's bound at ``value`` (an ESOV bound without the share of market, a share as a
    fraction), built as the builders above build it, as ``--set`` would set it."""
    if spec.family in ("ratio", "share"):
        numerator, offset = ratio_parts(spec)
        return replace(spec, bound=value, expr=numerator - spec.step_expr * (value - offset))  # type: ignore[operator]
    if spec.family == "sov":
        assert spec.pool is not None
        pool, share = form.pools[spec.pool], value + spec.offset
        return replace(spec, bound=share, rhs=pool.volume_for(share), step=pool.volume_per_point(share))
    return replace(spec, bound=value, rhs=value)


def _pool_row(constraint: ConstraintSpec, index: int, pool: PoolModel, side: str, sense: str, share: float,
              shown: str, offset: float = 0.0) -> RowSpec:
    return RowSpec(offset=offset,
        name=_label(constraint, side, shown), family="sov", kpi=constraint.kpi, where=f"pool {pool.name}",
        sense=sense, rhs=pool.volume_for(share), bound=share, expr=pool.expr(),  # type: ignore[arg-type]
        step=pool.volume_per_point(share), step_label="per SOV point", constraint=index, pool=pool.name,
    )
