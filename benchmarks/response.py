"""Vectorised response curves for the benchmark references.

The references (the plain LP, SLSQP and the greedy walk) evaluate thousands of curves at once,
many times over, so they need the curves as numpy arrays rather than one object per campaign.
This module evaluates the families of the scenario schema from their formulas (the README's
curve table), independently of the optimizer's own curve code: the references and the check of
our plan rest on the same formulas, written once here.

Every campaign has one *base* curve of spend; its impressions and leads are multiples of it
(``clicks = CTR x impressions`` and ``leads = CVR x clicks`` make leads ``CTR x CVR`` times the
impressions curve). A campaign whose base curve is its leads has no impressions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FAMILIES = ("linear", "exponential", "hill", "power", "log", "tabular")
_TINY = 1e-9
"""Spend (as a fraction of a campaign's max) where vertical slopes at zero are evaluated instead."""


@dataclass(frozen=True)
class Curves:
    """N campaigns' base curves as parallel arrays, grouped by family.

    ``params[family]`` is ``(index, columns)``: the campaigns of that family and their
    parameters, one array per parameter (``tabular`` holds ``xs`` and ``ys``, each N_f x K).
    """

    size: int
    params: dict[str, tuple[np.ndarray, tuple[np.ndarray, ...]]]

    def value(self, spend: np.ndarray) -> np.ndarray:
        """The base curve of every campaign at its spend."""
        out = np.empty(self.size)
        for family, (index, columns) in self.params.items():
            out[index] = _VALUE[family](np.asarray(spend, dtype=float)[index], *columns)
        return out

    def marginal(self, spend: np.ndarray, top: np.ndarray) -> np.ndarray:
        """d value / d spend; where a slope is vertical (power or hill at 0) it is taken a hair above."""
        spend = np.maximum(np.asarray(spend, dtype=float), _TINY * top)
        out = np.empty(self.size)
        for family, (index, columns) in self.params.items():
            out[index] = _MARGINAL[family](spend[index], *columns)
        return out


@dataclass(frozen=True)
class Response:
    """What the references need of a plan's campaigns: bounds, curves and outcome multipliers."""

    lo: np.ndarray
    hi: np.ndarray
    curves: Curves
    lead_rate: np.ndarray
    """leads = lead_rate x base curve."""
    impression_rate: np.ndarray
    """impressions = impression_rate x base curve (0 where the base curve is leads)."""

    @property
    def size(self) -> int:
        return len(self.lo)

    def leads(self, spend: np.ndarray) -> np.ndarray:
        return self.lead_rate * self.curves.value(spend)

    def impressions(self, spend: np.ndarray) -> np.ndarray:
        return self.impression_rate * self.curves.value(spend)

    def marginal_leads(self, spend: np.ndarray) -> np.ndarray:
        return self.lead_rate * self.curves.marginal(spend, self.hi)

    def marginal_impressions(self, spend: np.ndarray) -> np.ndarray:
        return self.impression_rate * self.curves.marginal(spend, self.hi)


def curves_from_specs(specs: list[dict]) -> Curves:
    """``Curves`` from the scenario's curve tables (``{"curve": "hill", "max": ..., ...}``)."""
    names = {
        "linear": ("unit_cost",), "exponential": ("max", "scale"), "hill": ("max", "half", "shape"),
        "power": ("coef", "exponent"), "log": ("coef", "scale"),
    }
    params = {}
    for family in FAMILIES:
        index = np.array([i for i, spec in enumerate(specs) if spec["curve"] == family], dtype=np.intp)
        if index.size == 0:
            continue
        if family == "tabular":
            tables = [_with_origin(specs[i]["points"]) for i in index]
            if len({len(t) for t in tables}) != 1:
                raise ValueError("tabular curves must all have the same number of points")
            points = np.array(tables, dtype=float)
            columns = (points[:, :, 0], points[:, :, 1])
        else:
            columns = tuple(np.array([specs[i][key] for i in index], dtype=float) for key in names[family])
        params[family] = (index, columns)
    return Curves(len(specs), params)


def _with_origin(points: list[list[float]]) -> list[list[float]]:
    return points if points[0][0] == 0 else [[0.0, 0.0], *points]


# --- the formulas, one pair per family --------------------------------------------------------


def _tabular_value(s: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    piece = _piece(s, xs)
    rows = np.arange(len(s))
    x0, x1, y0, y1 = xs[rows, piece], xs[rows, piece + 1], ys[rows, piece], ys[rows, piece + 1]
    return y0 + (y1 - y0) * (np.clip(s, x0, x1) - x0) / (x1 - x0)


def _tabular_marginal(s: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    piece = _piece(s, xs)
    rows = np.arange(len(s))
    return (ys[rows, piece + 1] - ys[rows, piece]) / (xs[rows, piece + 1] - xs[rows, piece])


def _piece(s: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The index of the straight piece holding each spend (the last piece at or beyond the end)."""
    return np.clip((s[:, None] >= xs[:, 1:-1]).sum(axis=1), 0, xs.shape[1] - 2)


def _hill_marginal(s: np.ndarray, top: np.ndarray, half: np.ndarray, shape: np.ndarray) -> np.ndarray:
    x = s / half
    return top * shape / half * x ** (shape - 1) / (1 + x**shape) ** 2


_VALUE = {
    "linear": lambda s, cost: s / cost,
    "exponential": lambda s, top, scale: -top * np.expm1(-s / scale),
    "hill": lambda s, top, half, shape: top * (s / half) ** shape / (1 + (s / half) ** shape),
    "power": lambda s, coef, exponent: coef * s**exponent,
    "log": lambda s, coef, scale: coef * np.log1p(s / scale),
    "tabular": _tabular_value,
}

_MARGINAL = {
    "linear": lambda s, cost: 1 / cost,
    "exponential": lambda s, top, scale: top / scale * np.exp(-s / scale),
    "hill": _hill_marginal,
    "power": lambda s, coef, exponent: coef * exponent * s ** (exponent - 1),
    "log": lambda s, coef, scale: coef / (scale + s),
    "tabular": _tabular_marginal,
}
