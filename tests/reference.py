"""Independent reference solvers, scenario builders and plan helpers for the optimality and
constraint tests.

Nothing here imports the optimizer's curve, model or solver layers: the references are closed
forms and brute-force searches written from the curve formulas in DESIGN.md, so the tests
compare the tool against an answer it did not produce. Only the public API is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizer import Scenario, Status

# --- exact curves (the formulas of DESIGN.md section 5) ----------------------------------


def exponential(spend: np.ndarray, top: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """max * (1 - exp(-spend / scale)), elementwise."""
    return top * -np.expm1(-np.asarray(spend, dtype=float) / scale)


def hill(spend: np.ndarray, top: float, half: float, shape: float) -> np.ndarray:
    """max * s^shape / (s^shape + half^shape), elementwise."""
    ratio = (np.asarray(spend, dtype=float) / half) ** shape
    return top * ratio / (1.0 + ratio)


# --- exponential curves under a budget: the Lagrangian closed form -------------------------


@dataclass(frozen=True)
class LagrangeSolution:
    spend: np.ndarray
    value: float
    multiplier: float
    """d(optimum)/d(budget): zero when the budget does not bind."""


def exponential_optimum(top: np.ndarray, scale: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                        budget: float) -> LagrangeSolution:
    """Maximise sum top_i (1 - exp(-s_i / scale_i)) s.t. sum s_i <= budget, lo <= s <= hi.

    KKT: every campaign strictly inside its bounds has marginal top/scale exp(-s/scale) = lambda,
    so s_i(lambda) = clip(scale_i ln(top_i / (scale_i lambda)), lo_i, hi_i); bisection on
    log(lambda) finds the lambda at which the budget is spent exactly.
    """
    top, scale, lo, hi = (np.asarray(v, dtype=float) for v in (top, scale, lo, hi))
    if hi.sum() <= budget:
        return LagrangeSolution(hi, float(exponential(hi, top, scale).sum()), 0.0)
    if lo.sum() > budget:
        raise ValueError("infeasible: the minimum spends exceed the budget")

    log_slope = np.log(top / scale)  # log of the marginal at zero spend

    def spend_at(log_multiplier: float) -> np.ndarray:
        return np.clip(scale * (log_slope - log_multiplier), lo, hi)

    # Below the smallest marginal at hi every campaign is at hi; above the largest at lo, at lo.
    low, high = float((log_slope - hi / scale).min()) - 1, float((log_slope - lo / scale).max()) + 1
    for _ in range(200):
        mid = (low + high) / 2
        if spend_at(mid).sum() > budget:
            low = mid
        else:
            high = mid
    spend = spend_at((low + high) / 2)
    multiplier = float(np.exp((low + high) / 2))
    return LagrangeSolution(spend, float(exponential(spend, top, scale).sum()), multiplier)


# --- exhaustive search for small cases (any curves) ----------------------------------------


@dataclass(frozen=True)
class GridSolution:
    spend: np.ndarray
    value: float


def grid_search(curves: list, lo: list[float], hi: list[float], budget: float, points: int | None = None,
                refine: int = 2) -> GridSolution:
    """The best split of at most ``budget`` over 2 or 3 campaigns with increasing curves.

    Every campaign but the last runs over a grid of ``points`` spends; the last one takes
    what is left of the budget (clipped to its range), which is optimal because every curve
    is increasing. The search is then repeated ``refine`` times on a grid 20x finer around
    the best point. Every point evaluated is feasible, so the result is a lower bound on the
    true optimum that approaches it as the grid gets finer.
    """
    n = len(curves)
    if n not in (2, 3):
        raise ValueError("grid_search handles 2 or 3 campaigns")
    lo_a, hi_a = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    points = points or (4001 if n == 2 else 801)
    windows = [(lo_a[i], min(hi_a[i], budget)) for i in range(n - 1)]
    best: GridSolution | None = None
    for _ in range(refine + 1):
        axes = [np.linspace(a, b, points) for a, b in windows]
        mesh = np.meshgrid(*axes, indexing="ij")
        free = [m.ravel() for m in mesh]
        rest = budget - sum(free)
        last = np.minimum(rest, hi_a[-1])
        feasible = last >= lo_a[-1] - 1e-9
        spends = [*free, np.maximum(last, lo_a[-1])]
        total = sum(curve(s) for curve, s in zip(curves, spends, strict=True))
        total = np.where(feasible, total, -np.inf)
        k = int(np.argmax(total))
        candidate = GridSolution(np.array([s[k] for s in spends]), float(total[k]))
        if best is None or candidate.value > best.value:
            best = candidate
        steps = [(b - a) / (len(axis) - 1) for (a, b), axis in zip(windows, axes, strict=True)]
        windows = [
            (max(lo_a[i], best.spend[i] - 2 * steps[i]), min(hi_a[i], best.spend[i] + 2 * steps[i]))
            for i in range(n - 1)
        ]
    assert best is not None
    return best


def concave_envelope(curve, hi: float, points: int = 20_001) -> tuple[np.ndarray, np.ndarray]:
    """The least concave majorant of ``curve`` on [0, hi] (what a convexifying solver would use)."""
    xs = np.linspace(0.0, hi, points)
    ys = curve(xs)
    hull: list[int] = []
    for k in range(points):
        while len(hull) >= 2:
            i, j = hull[-2], hull[-1]
            # drop j when it lies on or below the segment i -> k (upper hull keeps right turns)
            if (ys[j] - ys[i]) * (xs[k] - xs[i]) <= (ys[k] - ys[i]) * (xs[j] - xs[i]):
                hull.pop()
            else:
                break
        hull.append(k)
    return xs[hull], ys[hull]


# --- scenario builders --------------------------------------------------------------------


def linear_campaign(name: str, cpl: float, *, channel: str = "search", stage: str = "conversion",
                    **spend: Any) -> dict[str, Any]:
    """A campaign whose leads cost a constant ``cpl``; ``spend`` keys go to the spend table."""
    return {
        "name": name, "channel": channel, "stage": stage,
        "spend": spend, "leads": {"curve": "linear", "unit_cost": cpl},
    }


def exponential_campaign(name: str, top: float, scale: float, **spend: Any) -> dict[str, Any]:
    return {
        "name": name, "channel": "search", "stage": "conversion",
        "spend": spend, "leads": {"curve": "exponential", "max": top, "scale": scale},
    }


def hill_campaign(name: str, top: float, half: float, shape: float, **spend: Any) -> dict[str, Any]:
    return {
        "name": name, "channel": "video", "stage": "awareness",
        "spend": spend, "leads": {"curve": "hill", "max": top, "half": half, "shape": shape},
    }


def scenario_dict(campaigns: list[dict[str, Any]], *, budget: dict[str, Any] | None = None,
                  constraints: list[dict[str, Any]] | None = None, objective: dict[str, Any] | None = None,
                  pools: dict[str, Any] | None = None, name: str = "test") -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "campaigns": campaigns}
    if budget is not None:
        data["budget"] = budget
    if constraints:
        data["constraints"] = constraints
    if objective is not None:
        data["objective"] = objective
    if pools:
        data["pools"] = pools
    return data


@dataclass(frozen=True)
class SmallCampaign:
    """A campaign of a hand-sized case: its leads curve as a formula and as a scenario entry."""

    name: str
    family: str
    params: tuple[float, ...]
    lo: float = 0.0
    hi: float = 1e6

    def leads(self, spend: np.ndarray) -> np.ndarray:
        if self.family == "exponential":
            return exponential(spend, *self.params)
        return hill(spend, *self.params)

    def entry(self) -> dict[str, Any]:
        build = exponential_campaign if self.family == "exponential" else hill_campaign
        return build(self.name, *self.params, min=self.lo, max=self.hi)

    @property
    def is_s_shaped(self) -> bool:
        """A Hill curve with shape > 1 whose range reaches below its inflection point."""
        if self.family != "hill" or self.params[2] <= 1:
            return False
        _, half, shape = self.params
        return self.lo < half * ((shape - 1) / (shape + 1)) ** (1 / shape)


# --- plan helpers (public API only) ----------------------------------------------------------


def build(data: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(data)


def spends(plan) -> np.ndarray:
    return np.array([row.spend for row in plan.allocation])


def spend_of(plan) -> dict[str, float]:
    return {row.campaign: row.spend for row in plan.allocation}


def price_of(plan, kind: str, where: str | None = None) -> float:
    """The shadow price of the one constraint of ``kind`` (and ``where``); 0 when none binds."""
    prices = [p.price for p in plan.shadow_prices if p.kind == kind and (where is None or p.where == where)]
    assert len(prices) <= 1, prices
    return prices[0] if prices else 0.0


def assert_optimal(plan) -> None:
    """Optimal, and every constraint the tool re-checked on the exact curves is satisfied."""
    assert plan.status is Status.OPTIMAL, plan.message
    assert plan.checks, "an optimal plan carries its checks"
    failed = [c for c in plan.checks if not c.ok]
    assert not failed, failed
