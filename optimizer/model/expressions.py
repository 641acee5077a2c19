"""Linear expressions over a plan: weights on each campaign's spend and outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from optimizer.glossary import OUTCOMES


@dataclass(frozen=True)
class Expr:
    """``sum_i spend_w[i] * spend_i + sum_o sum_i outcome_w[o][i] * outcome_o,i``.

    Outcomes are evaluated on each campaign's curves, so an ``Expr`` is linear in the
    outcomes but not in spend; the model linearises it segment by segment.
    """

    spend: np.ndarray
    outcomes: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcomes", MappingProxyType(dict(self.outcomes)))

    @classmethod
    def zero(cls, n: int) -> Expr:
        """The expression 0 over ``n`` campaigns."""
        return cls(np.zeros(n))

    @classmethod
    def volume(cls, kpi: str, mask: np.ndarray) -> Expr:
        """The total of a volume KPI (``spend`` or an outcome) over the campaigns in ``mask``."""
        weights = mask.astype(float)
        if kpi == "spend":
            return cls(weights)
        if kpi not in OUTCOMES:
            raise ValueError(f"{kpi} is not a volume KPI")
        return cls(np.zeros(mask.size), {kpi: weights})

    def __add__(self, other: Expr) -> Expr:
        outcomes = dict(self.outcomes)
        for name, weights in other.outcomes.items():
            outcomes[name] = outcomes[name] + weights if name in outcomes else weights
        return Expr(self.spend + other.spend, outcomes)

    def __mul__(self, factor: float) -> Expr:
        return Expr(self.spend * factor, {k: v * factor for k, v in self.outcomes.items()})

    __rmul__ = __mul__

    def __sub__(self, other: Expr) -> Expr:
        return self + other * -1.0

    @property
    def has_outcomes(self) -> bool:
        """True when some outcome has a non-zero weight (the row is not linear in spend alone)."""
        return any(np.any(w != 0) for w in self.outcomes.values())

    def value(self, spend: np.ndarray, outcomes: Mapping[str, np.ndarray]) -> float:
        """The expression's value for per-campaign spend and outcome arrays."""
        total = float(self.spend @ spend)
        for name, weights in self.outcomes.items():
            total += float(weights @ outcomes[name])
        return total

    def terms_magnitude(self, spend: np.ndarray, outcomes: Mapping[str, np.ndarray]) -> float:
        """The sum of the absolute values of the terms: the scale a tolerance is relative to."""
        total = float(np.abs(self.spend) @ spend)
        for name, weights in self.outcomes.items():
            total += float(np.abs(weights) @ np.abs(outcomes[name]))
        return total
