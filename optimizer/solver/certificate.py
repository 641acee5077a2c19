"""Bounds on the true optimum that do not trust the solver's arithmetic.

For a linear program, any row duals give a bound by weak duality: the objective equals
``(c - A'y)'x + y'Ax``, and each term is bounded by the column and row bounds. Computing it
from the duals the solver returned keeps the certificate valid even when the solver stopped
at its tolerances.
"""

from __future__ import annotations

import numpy as np

from optimizer.model.compile import CompiledModel

NEGLIGIBLE = 1e-6
"""A plan worth less than this share of the objective's reach is measured against the reach."""


def relative_gap(value: float, bound: float | None, sense: str, reach: float) -> float | None:
    """``(bound - value) / |value|`` in the objective's own sense (None without a bound).

    A plan worth next to nothing (a zero budget) has its gap measured against ``reach`` (the
    objective with every campaign at its max) instead: the solvers' round-off on the bound,
    1e-4 leads say, must not read as an endless relative gap on a plan worth 0.
    """
    if bound is None:
        return None
    distance = max(bound - value if sense == "maximize" else value - bound, 0.0)
    if abs(value) < NEGLIGIBLE * reach:
        return distance / reach
    return distance / max(abs(value), 1e-300)


def within(value: float, bound: float, sense: str, share: float) -> bool:
    """Whether ``value`` falls short of ``bound`` (in the objective's own sense) by at most ``share`` of it."""
    short = bound - value if sense == "maximize" else value - bound
    return short <= share * max(abs(bound), 1e-9)


def dual_bound(model: CompiledModel, duals: np.ndarray) -> float:
    """An upper bound (maximisation) or lower bound (minimisation) on the program's optimum.

    Valid for any ``duals`` (d objective / d row bound, in the model's own sense); the closer
    they are to optimal, the tighter the bound.
    """
    sense = 1.0 if model.sense == "maximize" else -1.0
    row_side = np.where(sense * duals > 0, model.row_upper, model.row_lower)
    duals = np.where(np.isfinite(row_side), duals, 0.0)
    reduced = model.cost - model.matrix.T @ duals
    col_side = np.where(sense * reduced > 0, model.col_upper, model.col_lower)
    moving = reduced != 0
    if not np.all(np.isfinite(col_side[moving])):
        return sense * np.inf
    rows = duals != 0
    return float(model.offset + duals[rows] @ row_side[rows] + reduced[moving] @ col_side[moving])
