"""Scale a compiled program so solvers see numbers near 1, and map results back.

Campaign spend ranges from tens of dollars to billions and outcomes from fractions to
billions; unscaled, per-dollar slopes can fall below a solver's tolerances and be ignored.
Each column is measured in units of its own range (a segment in units of its width), each
row is divided by its largest coefficient, and the objective by its largest cost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from optimizer.model.compile import CompiledModel


@dataclass(frozen=True)
class Scaling:
    """``x = columns * x_scaled``; scaled row r = ``rows[r]`` x row r; scaled objective = ``objective`` x objective."""

    columns: np.ndarray
    rows: np.ndarray
    objective: float

    def x(self, scaled_x: np.ndarray) -> np.ndarray:
        """Column values in the original units."""
        return scaled_x * self.columns

    def value(self, scaled_value: float) -> float:
        """An objective value (or bound) in the original units."""
        return scaled_value / self.objective

    def duals(self, scaled_duals: np.ndarray) -> np.ndarray:
        """Row duals, d(objective)/d(row bound), in the original units."""
        return scaled_duals * self.rows / self.objective


def scale(model: CompiledModel) -> tuple[CompiledModel, Scaling]:
    """The equivalent well-scaled program, and how to map its results back."""
    columns = _column_scales(model)
    matrix = sp.csr_array(model.matrix @ sp.diags_array(columns))
    rows = 1.0 / _row_magnitudes(matrix)
    matrix = sp.diags_array(rows) @ matrix
    cost = model.cost * columns
    objective = 1.0 / geometric_magnitude(cost)
    scaled = replace(
        model,
        cost=cost * objective,
        offset=model.offset * objective,
        col_lower=model.col_lower / columns,
        col_upper=model.col_upper / columns,
        matrix=sp.csc_array(matrix),
        row_lower=model.row_lower * rows,
        row_upper=model.row_upper * rows,
    )
    return scaled, Scaling(columns, rows, objective)


_SPREAD = 1e-12
"""Coefficients below this fraction of a row's (or the objective's) largest are left out of its magnitude."""


def geometric_magnitude(values: np.ndarray) -> float:
    """The geometric mean of the largest and smallest meaningful absolute values (1 when all are zero).

    Dividing by it puts both extremes equally far from 1, so that neither the largest values
    overflow a solver's sense of scale nor the smallest fall under its tolerances.
    """
    magnitudes = np.abs(values[np.nonzero(values)])
    if magnitudes.size == 0:
        return 1.0
    top = float(magnitudes.max())
    bottom = float(magnitudes[magnitudes >= _SPREAD * top].min())
    return float(np.sqrt(top) * np.sqrt(bottom))  # the product of the two would underflow near 1e-300


def _row_magnitudes(matrix: sp.csr_array) -> np.ndarray:
    """Each row's ``geometric_magnitude``, for all rows at once."""
    count = matrix.shape[0]
    row = np.repeat(np.arange(count), np.diff(matrix.indptr))
    magnitudes = np.abs(matrix.data)
    present = magnitudes != 0
    top = np.zeros(count)
    np.maximum.at(top, row[present], magnitudes[present])
    meaningful = present & (magnitudes >= _SPREAD * top[row])
    bottom = np.full(count, np.inf)
    np.minimum.at(bottom, row[meaningful], magnitudes[meaningful])
    with np.errstate(invalid="ignore"):
        return np.where(top > 0, np.sqrt(top) * np.sqrt(bottom), 1.0)


def _column_scales(model: CompiledModel) -> np.ndarray:
    """Each column's natural unit: a spend column's upper bound, a segment's width, 1 for binaries."""
    upper = np.where(np.isfinite(model.col_upper), np.abs(model.col_upper), 0.0)
    lower = np.where(np.isfinite(model.col_lower), np.abs(model.col_lower), 0.0)
    span = np.maximum(upper, lower)
    columns = np.where(span > 0, span, 1.0)
    columns[model.integer] = 1.0
    return columns
