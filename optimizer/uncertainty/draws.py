"""Scenarios drawn from their fitted uncertainty: one set of curves and rates per draw.

A curve with a ``covariance`` (``tradeoff fit`` writes it) is drawn from the log-normal with
that covariance around its parameters (``draw_parameters``); a rate with an ``se`` from the
normal around the rate, truncated to the range the schema gives it (a click-through rate at
most 1, revenue per customer any positive amount). Draws past a family's upper limits (a
Hill shape past 10) are drawn again. Campaigns
fitted separately are drawn independently. Curves and rates without an uncertainty (tabular
points, hand-written curves) are held as given.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from pydantic import BaseModel
from scipy import special

from optimizer.glossary import OUTCOMES
from optimizer.scenario.schema import CURVE_SPECS, Campaign, FittedSpec, RateSpec, Scenario, rate_ceiling

_TRIES = 200


def _field_range(model: type[BaseModel], name: str) -> tuple[float, float]:
    """The range the schema gives field ``name`` of ``model`` (``(0, inf)`` where it states none)."""
    low, high = 0.0, np.inf
    for bound in model.model_fields[name].metadata:
        low = float(getattr(bound, "ge", getattr(bound, "gt", low)))
        high = float(getattr(bound, "le", getattr(bound, "lt", high)))
    return low, high


def _schema_limits() -> dict[str, tuple[float, float]]:
    """Each curve parameter's range as the scenario schema states it (a Hill shape up to 10, ...)."""
    return {name: _field_range(spec, name) for spec in CURVE_SPECS.values()
            for name in getattr(spec, "PARAMETERS", ())}


_LIMITS = _schema_limits()
"""Where each parameter may be drawn: the schema's own range, so no draw is a curve it refuses."""


_RATE_FLOOR = _field_range(RateSpec, "rate")[0]


def rate_limits(outcome: str, of: str) -> tuple[float, float]:
    """Where a rate giving ``outcome`` from ``of`` may be drawn: above the schema's floor for any rate,
    and at most its ceiling for that pair (1 for clicks of impressions, none for revenue per customer)."""
    return _RATE_FLOOR, rate_ceiling(outcome, of)


def drawn_campaigns(scenario: Scenario) -> tuple[str, ...]:
    """The campaigns with at least one curve or rate that carries a fitted uncertainty."""
    return tuple(c.name for c in scenario.campaigns if any(_uncertain(c.outcome(o)) for o in OUTCOMES))


def draw_scenarios(scenario: Scenario, draws: int, seed: int = 0) -> list[Scenario]:
    """``draws`` copies of ``scenario``, each with every uncertain curve and rate drawn afresh."""
    return list(each_draw(scenario, draws, seed))


def each_draw(scenario: Scenario, draws: int, seed: int = 0) -> Iterator[Scenario]:
    """The draws of ``draw_scenarios`` one at a time (a large scenario's N copies are not all held at once)."""
    rng = np.random.default_rng(seed)
    for _ in range(draws):
        yield _drawn(scenario, rng)


def _uncertain(spec: object) -> bool:
    return (isinstance(spec, FittedSpec) and spec.covariance is not None) or (
        isinstance(spec, RateSpec) and spec.se is not None and spec.se > 0)


def _drawn(scenario: Scenario, rng: np.random.Generator) -> Scenario:
    return scenario.model_copy(update={"campaigns": tuple(_drawn_campaign(c, rng) for c in scenario.campaigns)})


def _drawn_campaign(campaign: Campaign, rng: np.random.Generator) -> Campaign:
    update = {}
    for outcome in OUTCOMES:
        spec = campaign.outcome(outcome)
        if isinstance(spec, FittedSpec) and spec.covariance is not None:
            update[outcome] = spec.model_copy(update=_drawn_params(spec, rng))
        elif isinstance(spec, RateSpec) and spec.se:
            drawn = draw_rate(spec.rate, spec.se, rng, rate_limits(outcome, spec.of))
            update[outcome] = spec.model_copy(update={"rate": drawn})
    return campaign.model_copy(update=update) if update else campaign


def _drawn_params(spec: FittedSpec, rng: np.random.Generator) -> dict[str, float]:
    names = spec.PARAMETERS
    values = draw_parameters(np.array([getattr(spec, name) for name in names], dtype=float),
                             np.array(spec.covariance, dtype=float), names, rng)
    return dict(zip(names, map(float, values), strict=True))


def draw_parameters(mean: np.ndarray, covariance: np.ndarray, names: tuple[str, ...],
                    rng: np.random.Generator) -> np.ndarray:
    """One draw of a family's parameters ``names`` around their fitted values ``mean``.

    Every family's parameters are positive, so their logarithms are drawn from the normal whose
    covariance is ``covariance`` divided by the parameters' products (the delta method): a draw's
    median is the fitted value, none is negative, and a power curve's output (linear in its
    log-parameters) is drawn without the skew a normal coefficient gives it. Draws past a
    family's upper limits are drawn again (``mean`` itself when none in ``_TRIES`` fits).
    """
    scale = np.outer(mean, mean)
    factor = _root(np.divide(covariance, scale, out=np.zeros_like(covariance), where=scale > 0))
    low = np.array([_LIMITS.get(name, (0.0, np.inf))[0] for name in names])
    high = np.array([_LIMITS.get(name, (0.0, np.inf))[1] for name in names])
    for _ in range(_TRIES):
        values = mean * np.exp(factor @ rng.standard_normal(len(names)))
        if np.all(values > low) and np.all(values <= high):
            return values
    return mean


def _root(covariance: np.ndarray) -> np.ndarray:
    """A matrix L with L Lᵀ = covariance, negative eigenvalues (rounding in a written matrix) set to 0."""
    values, vectors = np.linalg.eigh((covariance + covariance.T) / 2)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def draw_rate(mean: float, error: float, rng: np.random.Generator,
              limits: tuple[float, float] = (0.0, np.inf)) -> float:
    """One draw of a rate from the normal around ``mean`` truncated to ``limits`` (above the first, at
    most the second: ``rate_limits`` gives a rate's), so that no draw is a rate the scenario refuses.

    Drawn by rejection, which keeps a seed's draws where the limits are far away; when the range
    holds too little of the normal for that, from the truncated normal's inverse distribution.
    """
    low, high = limits
    for _ in range(_TRIES):
        value = rng.normal(mean, error)
        if low < value <= high:
            return float(value)
    return _inverse_truncated(mean, error, low, high, rng)


def _inverse_truncated(mean: float, error: float, low: float, high: float, rng: np.random.Generator) -> float:
    below, above = special.ndtr((low - mean) / error), special.ndtr((high - mean) / error)
    value = mean + error * special.ndtri(rng.uniform(below, above))
    return float(min(max(value, np.nextafter(low, np.inf)), high))
