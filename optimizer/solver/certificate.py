"""Bounds on the true optimum that do not trust the solver's arithmetic.

For a linear program, any row duals give a bound by weak duality: the objective equals
``(c - A'y)'x + y'Ax``, and each term is bounded by the column and row bounds. Computing it
from the duals the solver returned keeps the certificate valid even when the solver stopped
at its tolerances.
"""

from __future__ import annotations

import numpy as np

from optimizer.model.compile import CompiledModel


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
