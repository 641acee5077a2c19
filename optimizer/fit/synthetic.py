"""Seeded campaign histories drawn from known curves, for tests and the example history.

Weekly spend varies around a campaign's usual level, and each week's outcome is the curve's
value times log-normal noise (a multiplicative error, as weekly conversion counts show): the
fitter's answers can then be held against the curve that made the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.curves.families import Curve, Exponential, Hill, Log


def synthetic_history(curve: Curve, weeks: int, low: float, high: float, noise: float,
                      seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``weeks`` of spend drawn evenly from ``[low, high]`` and the outcome ``curve`` gives at each,
    times log-normal noise of standard deviation ``noise`` (0.1: about 10% a week)."""
    rng = np.random.default_rng(seed)
    spend = rng.uniform(low, high, weeks)
    return spend, curve.value(spend) * rng.lognormal(0.0, noise, weeks)


@dataclass(frozen=True)
class TrueFunnel:
    """A campaign's true funnel: impressions from a curve, then clicks and leads at flat rates."""

    name: str
    channel: str
    stage: str
    impressions: Curve
    ctr: float
    cvr: float
    low: float
    high: float
    """The range weekly spend was drawn from."""

    def leads(self, spend: np.ndarray) -> np.ndarray:
        return self.impressions.value(spend) * self.ctr * self.cvr


def synthetic_funnel_history(funnels: Sequence[TrueFunnel], weeks: int, noise: float, seed: int) -> pd.DataFrame:
    """A weekly long-format history (``period, campaign, channel, stage, spend, impressions, clicks,
    leads``) of ``funnels``, each step with log-normal noise of standard deviation ``noise``."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2025-01-06", periods=weeks, freq="W-MON").strftime("%Y-%m-%d")
    frames = []
    for funnel in funnels:
        spend, impressions = synthetic_history(funnel.impressions, weeks, funnel.low, funnel.high, noise,
                                               int(rng.integers(1 << 31)))
        clicks = impressions * funnel.ctr * rng.lognormal(0.0, noise, weeks)
        leads = clicks * funnel.cvr * rng.lognormal(0.0, noise, weeks)
        frames.append(pd.DataFrame({"period": periods, "campaign": funnel.name, "channel": funnel.channel,
                                    "stage": funnel.stage, "spend": spend, "impressions": impressions,
                                    "clicks": clicks, "leads": leads}))
    return pd.concat(frames, ignore_index=True)


EXAMPLE_FUNNELS = (
    TrueFunnel("Search: non-brand", "search", "conversion", Exponential(max=400_000.0, scale=30_000.0), 0.05, 0.08,
               8_000.0, 45_000.0),
    TrueFunnel("Meta: lead ads", "social", "consideration", Log(coef=300_000.0, scale=12_000.0), 0.012, 0.06,
               4_000.0, 30_000.0),
    TrueFunnel("CTV: brand film", "video", "awareness", Hill(max=900_000.0, half=18_000.0, shape=2.2), 0.004, 0.03,
               3_000.0, 40_000.0),
)
"""Three funnels at benchmark levels (research/domain.md section 4.4): search with saturating
impressions, Meta lead ads with a log curve, a CTV brand film with an S-shaped Hill curve; the
example history (scenarios/generate_history.py) and the round-trip tests are drawn from them."""
