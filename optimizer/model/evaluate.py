"""Evaluate a spend split on the exact curves: every outcome, marginal, total and KPI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from optimizer.glossary import OUTCOMES, ratio_kpis
from optimizer.model.campaigns import at_top
from optimizer.model.expressions import Expr
from optimizer.model.formulation import Formulation, RowSpec


@dataclass(frozen=True)
class Evaluation:
    """A spend split and what it buys, campaign by campaign, on the exact curves."""

    spend: np.ndarray
    outcomes: Mapping[str, np.ndarray]
    marginals: Mapping[str, np.ndarray]
    totals: Mapping[str, float]
    sov: Mapping[str, float]
    pooled: Mapping[str, float]

    def value(self, expr: Expr) -> float:
        """An expression's value for this split."""
        return expr.value(self.spend, self.outcomes)

    def magnitude(self, expr: Expr) -> float:
        """The size of an expression's terms, for relative tolerances."""
        return expr.terms_magnitude(self.spend, self.outcomes)

    def kpis(self) -> dict[str, float]:
        """Every volume and ratio KPI of the glossary for the whole split."""
        return {**self.totals, **ratio_kpis(self.totals)}


def evaluate(form: Formulation, spend: np.ndarray) -> Evaluation:
    """Outcomes and marginals of each campaign at ``spend``; totals; SOV per pool.

    Marginals are taken on the side the plan could still move: the last dollar's value at
    a campaign's upper bound, the next dollar's elsewhere. Every curve of every campaign is
    evaluated at once, family by family (``CurveStack``).
    """
    spend = np.asarray(spend, dtype=float)
    terms = form.terms
    at = spend[terms.campaign]
    values = terms.multiplier * terms.stack.value(at)
    slopes = terms.multiplier * terms.stack.marginal(at)
    # At the top the plan can only give dollars back: the last dollar's worth (a table's differs from its next).
    top = np.flatnonzero(at_top(terms.upper, spend)[terms.campaign])
    if top.size:
        slopes[top] = terms.multiplier[top] * terms.stack.take(top).left_marginal(at[top])
    outcomes = {name: np.zeros(form.size) for name in OUTCOMES}
    marginals = {name: np.zeros(form.size) for name in OUTCOMES}
    for name, chosen in terms.by_outcome().items():
        outcomes[name][terms.campaign[chosen]] = values[chosen]
        marginals[name][terms.campaign[chosen]] = slopes[chosen]
    totals = {"spend": float(spend.sum()), **{name: float(outcomes[name].sum()) for name in OUTCOMES}}
    pooled = {name: float(pool.expr().value(spend, outcomes)) for name, pool in form.pools.items()}
    sov = {name: pool.share(pooled[name]) for name, pool in form.pools.items()}
    return Evaluation(spend, outcomes, marginals, totals, sov, pooled)


def constraint_value(form: Formulation, spec: RowSpec, evaluation: Evaluation) -> float:
    """The constrained KPI's value in the user's units: a share, a ratio, or a volume."""
    if spec.family == "sov" and spec.pool is not None:
        return form.pools[spec.pool].share(evaluation.pooled[spec.pool])
    if spec.family in ("share", "ratio") and spec.step_expr is not None:
        denominator = evaluation.value(spec.step_expr)
        return evaluation.value(spec.expr) / denominator + spec.bound if denominator else float("nan")
    return evaluation.value(spec.expr)


def goal_reach(form: Formulation) -> float:
    """The goal's size with every campaign at its highest spend: the scale its round-off is judged on."""
    return abs(evaluate(form, np.array([c.hi for c in form.campaigns])).value(form.goal.expr))
