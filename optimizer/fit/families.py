"""One outcome's response to spend, fitted in every curve family and the best chosen.

Each family of ``optimizer.curves.families`` (linear, exponential, Hill, power, log) is fitted
by least squares (SciPy's ``curve_fit``, bounded, from starting values read off the data), and
compared by the small-sample Akaike criterion (AICc): the fit's residuals against its number of
parameters, so an S-curve's third parameter must earn its place. The chosen fit keeps what a
strategist needs to judge it: R², each parameter's standard error, and the spend range seen.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from optimizer.curves.families import Curve, Exponential, Hill, Linear, Log, Power

Model = Callable[..., np.ndarray]
Matrix = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Family:
    """A family as fitted: its model in spend, parameter names, starting values and bounds from the
    data, and the scenario curve its fitted parameters make."""

    name: str
    model: Model
    names: tuple[str, ...]
    start: Callable[[np.ndarray, np.ndarray], tuple[float, ...]]
    bounds: Callable[[np.ndarray, np.ndarray], tuple[tuple[float, ...], tuple[float, ...]]]
    curve: Callable[..., Curve]


@dataclass(frozen=True)
class CurveFit:
    """One family fitted to one outcome: the curve, its parameters and their standard errors,
    how well it fits (R², AICc) and the data it saw (points, spend range)."""

    family: str
    curve: Curve
    params: dict[str, float]
    errors: dict[str, float]
    """Each parameter's standard error (inf where the data do not pin it down)."""
    r_squared: float
    aicc: float
    points: int
    spend_range: tuple[float, float]
    covariance: Matrix | None = None
    """The covariance of the curve's parameters as the scenario writes them (``curve.params()``'s
    order), or None where the data do not pin them down."""


def _exponential(spend: np.ndarray, top: float, scale: float) -> np.ndarray:
    return -top * np.expm1(-spend / scale)


def _hill(spend: np.ndarray, top: float, half: float, shape: float) -> np.ndarray:
    ratio = (np.maximum(spend, 0.0) / half) ** shape
    return top * ratio / (1 + ratio)


def _power(spend: np.ndarray, coef: float, exponent: float) -> np.ndarray:
    return coef * np.maximum(spend, 0.0) ** exponent


def _log(spend: np.ndarray, coef: float, scale: float) -> np.ndarray:
    return coef * np.log1p(spend / scale)


def _linear(spend: np.ndarray, per_dollar: float) -> np.ndarray:
    return per_dollar * spend


def _typical(spend: np.ndarray) -> float:
    positive = spend[spend > 0]
    return float(np.median(positive)) if positive.size else 1.0


def _top(outcome: np.ndarray) -> float:
    return float(max(np.max(outcome), 1e-12))


def _power_start(spend: np.ndarray, outcome: np.ndarray) -> tuple[float, float]:
    """A log-log line through the positive points."""
    both = (spend > 0) & (outcome > 0)
    if np.count_nonzero(both) < 2:
        return _top(outcome) / _typical(spend), 1.0
    exponent, intercept = np.polyfit(np.log(spend[both]), np.log(outcome[both]), 1)
    exponent = float(np.clip(exponent, 0.05, 3.0))
    return float(np.exp(intercept)), exponent


FAMILIES: tuple[Family, ...] = (
    Family("linear", _linear, ("per_dollar",),
           lambda s, y: (float(s @ y / max(s @ s, 1e-300)),),
           lambda s, y: ((0.0,), (np.inf,)),
           lambda per_dollar: Linear(unit_cost=1.0 / per_dollar)),
    Family("exponential", _exponential, ("max", "scale"),
           lambda s, y: (2.0 * _top(y), 2.0 * _typical(s)),
           lambda s, y: ((1e-12, 1e-9 * _typical(s)), (np.inf, np.inf)),
           lambda top, scale: Exponential(max=top, scale=scale)),
    Family("hill", _hill, ("max", "half", "shape"),
           lambda s, y: (2.0 * _top(y), _typical(s), 1.5),
           lambda s, y: ((1e-12, 1e-6 * _typical(s), 0.2), (np.inf, np.inf, 8.0)),
           lambda top, half, shape: Hill(max=top, half=half, shape=shape)),
    Family("power", _power, ("coef", "exponent"),
           _power_start,
           lambda s, y: ((0.0, 0.01), (np.inf, 3.0)),
           lambda coef, exponent: Power(coef=coef, exponent=exponent)),
    Family("log", _log, ("coef", "scale"),
           lambda s, y: (_top(y), _typical(s)),
           lambda s, y: ((0.0, 1e-9 * _typical(s)), (np.inf, np.inf)),
           lambda coef, scale: Log(coef=coef, scale=scale)),
)


def fit_family(family: Family, spend: np.ndarray, outcome: np.ndarray) -> CurveFit | None:
    """``family`` fitted to the points, or None when the fit does not converge or fits nothing."""
    spend, outcome = np.asarray(spend, dtype=float), np.asarray(outcome, dtype=float)
    lower, upper = family.bounds(spend, outcome)
    start = np.clip(family.start(spend, outcome), np.add(lower, 1e-12), upper)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            with np.errstate(all="ignore"):
                params, covariance = curve_fit(family.model, spend, outcome, p0=start, bounds=(lower, upper),
                                               maxfev=20_000)
    except (RuntimeError, ValueError):
        return None
    with np.errstate(all="ignore"):
        fitted = family.model(spend, *params)
    residual = float(np.sum((outcome - fitted) ** 2))
    if not np.all(np.isfinite(fitted)) or not math.isfinite(residual):
        return None
    if family.name == "linear" and params[0] <= 0:
        return None  # nothing bought: no cost per unit to write
    errors = np.sqrt(np.abs(np.diag(covariance))) if np.all(np.isfinite(covariance)) else np.full(params.size, np.inf)
    return CurveFit(
        family=family.name,
        curve=family.curve(*params),
        params=dict(zip(family.names, map(float, params), strict=True)),
        errors=dict(zip(family.names, map(float, errors), strict=True)),
        r_squared=_r_squared(outcome, residual),
        aicc=_aicc(residual, outcome.size, params.size),
        points=int(outcome.size),
        spend_range=(float(spend.min()), float(spend.max())),
        covariance=_scenario_covariance(family, params, covariance),
    )


def _scenario_covariance(family: Family, params: np.ndarray, covariance: np.ndarray) -> Matrix | None:
    """The fit's covariance in the scenario's parameters: a linear curve is fitted as outcome per dollar
    and written as a unit cost (1 / per_dollar), whose variance is var / per_dollar^4 to first order."""
    if not np.all(np.isfinite(covariance)):
        return None
    if family.name == "linear":
        covariance = covariance / params[0] ** 4
    return tuple(tuple(float(v) for v in row) for row in covariance)


def best_fit(spend: np.ndarray, outcome: np.ndarray, families: tuple[Family, ...] = FAMILIES) -> tuple[CurveFit, ...]:
    """Every family that fits the points, best (least AICc) first."""
    fits = [fit for family in families if (fit := fit_family(family, spend, outcome)) is not None]
    return tuple(sorted(fits, key=lambda fit: (fit.aicc, len(fit.params))))


def _r_squared(outcome: np.ndarray, residual: float) -> float:
    spread = float(np.sum((outcome - outcome.mean()) ** 2))
    return 1.0 - residual / spread if spread > 0 else (1.0 if residual == 0 else 0.0)


def _aicc(residual: float, points: int, params: int) -> float:
    """The small-sample Akaike criterion of a least-squares fit (Gaussian errors): lower is better."""
    if points <= params + 1:
        return math.inf
    fit = points * math.log(max(residual, 1e-300) / points)
    return fit + 2 * params + 2 * params * (params + 1) / (points - params - 1)
