"""Scenarios drawn from their fitted uncertainty: one set of curves and rates per draw.

A curve with a ``covariance`` (``tradeoff fit`` writes it) is drawn from the multivariate
normal around its parameters; a rate with an ``se`` from the normal around the rate. Draws
that leave a family's valid range (a negative scale, a Hill shape past 10) are drawn again,
so each family's parameters follow the normal truncated to what the family allows. Campaigns
fitted separately are drawn independently. Curves and rates without an uncertainty (tabular
points, hand-written curves) are held as given.
"""

from __future__ import annotations

import numpy as np

from optimizer.glossary import OUTCOMES
from optimizer.scenario.schema import Campaign, FittedSpec, RateSpec, Scenario

_TRIES = 200
_LIMITS = {"shape": (0.0, 10.0), "exponent": (0.01, 10.0)}
"""Parameters with limits besides being positive (the schema's)."""


def drawn_campaigns(scenario: Scenario) -> tuple[str, ...]:
    """The campaigns with at least one curve or rate that carries a fitted uncertainty."""
    return tuple(c.name for c in scenario.campaigns if any(_uncertain(c.outcome(o)) for o in OUTCOMES))


def draw_scenarios(scenario: Scenario, draws: int, seed: int = 0) -> list[Scenario]:
    """``draws`` copies of ``scenario``, each with every uncertain curve and rate drawn afresh."""
    rng = np.random.default_rng(seed)
    return [_drawn(scenario, rng) for _ in range(draws)]


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
            update[outcome] = spec.model_copy(update={"rate": _positive_normal(spec.rate, spec.se, rng)})
    return campaign.model_copy(update=update) if update else campaign


def _drawn_params(spec: FittedSpec, rng: np.random.Generator) -> dict[str, float]:
    """The spec's parameters drawn from their normal, truncated to the family's range (its own values
    when no draw in ``_TRIES`` lands there: a covariance far wider than the parameters)."""
    names = spec.PARAMETERS
    mean = np.array([getattr(spec, name) for name in names], dtype=float)
    factor = _root(np.array(spec.covariance, dtype=float))
    low = np.array([_LIMITS.get(name, (0.0, np.inf))[0] for name in names])
    high = np.array([_LIMITS.get(name, (0.0, np.inf))[1] for name in names])
    for _ in range(_TRIES):
        values = mean + factor @ rng.standard_normal(len(names))
        if np.all(values > low) and np.all(values <= high):
            return dict(zip(names, map(float, values), strict=True))
    return dict(zip(names, map(float, mean), strict=True))


def _root(covariance: np.ndarray) -> np.ndarray:
    """A matrix L with L Lᵀ = covariance, negative eigenvalues (rounding in a written matrix) set to 0."""
    values, vectors = np.linalg.eigh((covariance + covariance.T) / 2)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def _positive_normal(mean: float, error: float, rng: np.random.Generator) -> float:
    for _ in range(_TRIES):
        value = rng.normal(mean, error)
        if value > 0:
            return float(value)
    return mean
