"""Re-check a plan on the exact curves: campaign bounds and every constraint row."""

from __future__ import annotations

import numpy as np

from optimizer.model.evaluate import Evaluation, constraint_value
from optimizer.model.formulation import Formulation
from optimizer.plan import Check


def verify(form: Formulation, evaluation: Evaluation, feasibility: float) -> tuple[Check, ...]:
    """One ``Check`` per campaign bound and per row; ``ok`` within a relative ``feasibility``."""
    return bound_checks(form, evaluation.spend, feasibility) + row_checks(form, evaluation, feasibility)


def bound_checks(form: Formulation, spend: np.ndarray, feasibility: float) -> tuple[Check, ...]:
    """Two ``Check`` s per campaign: spend within its allowed range."""
    checks = []
    for campaign, value in zip(form.campaigns, spend, strict=True):
        slack = feasibility * max(1.0, abs(campaign.hi) if np.isfinite(campaign.hi) else abs(value))
        checks.append(Check(f"{campaign.name}: spend >= {campaign.lo:,.2f}", ">=", campaign.lo, float(value),
                            bool(value >= campaign.lo - slack)))
        checks.append(Check(f"{campaign.name}: spend <= {campaign.hi:,.2f}", "<=", campaign.hi, float(value),
                            bool(value <= campaign.hi + slack)))
    return tuple(checks)


def row_checks(form: Formulation, evaluation: Evaluation, feasibility: float) -> tuple[Check, ...]:
    """One ``Check`` per constraint row, with the KPI's value and bound in the user's units."""
    checks = []
    for row in form.rows:
        value = evaluation.value(row.expr)
        slack = feasibility * max(1.0, abs(row.rhs), evaluation.magnitude(row.expr))
        ok = {
            ">=": value >= row.rhs - slack,
            "<=": value <= row.rhs + slack,
            "==": abs(value - row.rhs) <= slack,
        }[row.sense]
        checks.append(Check(row.name, row.sense, row.bound, constraint_value(form, row, evaluation), bool(ok)))
    return tuple(checks)
