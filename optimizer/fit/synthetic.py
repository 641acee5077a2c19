"""Seeded campaign histories drawn from known curves, for tests and the example history.

Weekly spend varies around a campaign's usual level, and each week's outcome is the curve's
value times log-normal noise (a multiplicative error, as weekly conversion counts show): the
fitter's answers can then be held against the curve that made the data.
"""

from __future__ import annotations

import numpy as np

from optimizer.curves.families import Curve


def synthetic_history(curve: Curve, weeks: int, low: float, high: float, noise: float,
                      seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``weeks`` of spend drawn evenly from ``[low, high]`` and the outcome ``curve`` gives at each,
    times log-normal noise of standard deviation ``noise`` (0.1: about 10% a week)."""
    rng = np.random.default_rng(seed)
    spend = rng.uniform(low, high, weeks)
    return spend, curve.value(spend) * rng.lognormal(0.0, noise, weeks)
