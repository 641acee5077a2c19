"""Where a plan leaves the spend its curves were fitted on: extrapolation warnings.

A fitted curve is only known over the spend its history saw (``spend.observed_min`` to
``spend.observed_max``, written by ``tradeoff fit``). Beyond that it is the family's guess:
a log curve keeps rising where the truth may have flattened. A plan that puts a campaign
more than ``MARGIN`` past the highest period it was seen at, or below the lowest by the same
factor (when it still spends), says so. Pausing a campaign is not an extrapolation: every
fitted family gives nothing at zero spend.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from optimizer.formatting import money
from optimizer.model.formulation import Formulation

MARGIN = 0.25
"""A plan may go 25% past the spend seen before its curve is called an extrapolation."""


@dataclass(frozen=True)
class Extrapolation:
    """A campaign planned outside the spend its curves were fitted on."""

    campaign: str
    spend: float
    observed: float
    """The observed spend it is measured against: the highest seen when above, the lowest when below."""
    at: str = ""
    """Where on a frontier, e.g. "at 32.0% search SOV" (empty for a plan)."""

    @property
    def multiple(self) -> float:
        return self.spend / self.observed

    def message(self, currency: str) -> str:
        """The warning, e.g. "extrapolating Search: non-brand to $150,000, 1.9x the highest spend observed in a
        period ($78,947)"."""
        side = "highest" if self.spend > self.observed else "lowest"
        where = f" {self.at}" if self.at else ""
        return (f"extrapolating {self.campaign} to {money(self.spend, currency)}{where}, {self.multiple:.1f}x the "
                f"{side} spend observed in a period ({money(self.observed, currency)})")


def observed_anywhere(form: Formulation) -> bool:
    """Whether any campaign knows the spend its history saw."""
    return any(campaign.observed != (None, None) for campaign in form.campaigns)


def extrapolations(form: Formulation, spend: np.ndarray, at: str = "") -> tuple[Extrapolation, ...]:
    """The campaigns ``spend`` puts more than ``MARGIN`` outside their observed spend."""
    found = []
    for campaign, amount in zip(form.campaigns, np.asarray(spend, dtype=float), strict=True):
        low, high = campaign.observed
        if high is not None and high > 0 and amount > high * (1 + MARGIN):
            found.append(Extrapolation(campaign.name, float(amount), high, at))
        elif low is not None and 1e-6 * low < amount < low / (1 + MARGIN):
            found.append(Extrapolation(campaign.name, float(amount), low, at))
    return tuple(found)


def farthest(found: Iterable[Extrapolation]) -> tuple[Extrapolation, ...]:
    """One extrapolation per campaign, the farthest from its observed spend (for a frontier's points)."""
    worst: dict[str, Extrapolation] = {}
    for item in found:
        known = worst.get(item.campaign)
        if known is None or abs(math.log(item.multiple)) > abs(math.log(known.multiple)):
            worst[item.campaign] = item
    return tuple(worst.values())
