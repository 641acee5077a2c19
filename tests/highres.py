"""An independent reference for plan quality: random scenarios and a high-resolution solve.

Nothing here uses the optimizer's curves, linearisation or model. Curves are evaluated from
their formulas; the reference program puts every campaign on a fine uniform spend grid
(chords between grid points, binaries where a curve is S-shaped) and is solved with SciPy's
own HiGHS interface. Its optimum approaches the true optimum as the grid gets finer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_array, diags_array

STAGES = ("awareness", "consideration", "conversion", "retention")


def curve_value(spec: dict, spend: np.ndarray) -> np.ndarray:
    """The outcome of a curve spec (as written in a scenario) at ``spend``, from its formula."""
    s = np.asarray(spend, dtype=float)
    kind = spec["curve"]
    if kind == "linear":
        return s / spec["unit_cost"]
    if kind == "exponential":
        return spec["max"] * (1 - np.exp(-s / spec["scale"]))
    if kind == "hill":
        return spec["max"] * s ** spec["shape"] / (s ** spec["shape"] + spec["half"] ** spec["shape"])
    if kind == "power":
        return spec["coef"] * s ** spec["exponent"]
    if kind == "log":
        return spec["coef"] * np.log(1 + s / spec["scale"])
    if kind == "tabular":
        points = np.array(spec["points"], dtype=float)
        return np.interp(s, points[:, 0], points[:, 1])
    raise ValueError(kind)


def is_s_shaped(spec: dict) -> bool:
    return spec["curve"] == "hill" and spec["shape"] > 1


@dataclass
class Campaign:
    """A random campaign: impressions curve, CTR, CVR, bounds, pool membership."""

    name: str
    stage: str
    lo: float
    hi: float
    impressions: dict
    ctr: float
    cvr: float
    in_pool: bool

    def leads(self, spend: np.ndarray) -> np.ndarray:
        return curve_value(self.impressions, spend) * self.ctr * self.cvr

    def impressions_at(self, spend: np.ndarray) -> np.ndarray:
        return curve_value(self.impressions, spend)

    def as_toml_dict(self) -> dict:
        return {
            "name": self.name, "channel": "search" if self.in_pool else "media", "stage": self.stage,
            "pools": ["search"] if self.in_pool else [],
            "spend": {"current": (self.lo + self.hi) / 2, "min": self.lo, "max": self.hi},
            "impressions": self.impressions,
            "clicks": {"rate": self.ctr, "of": "impressions"},
            "leads": {"rate": self.cvr, "of": "clicks"},
        }


@dataclass
class RandomPlan:
    """A random scenario with budget, bounds, a stage share floor, a CPL cap and an SOV floor."""

    campaigns: list[Campaign]
    budget: float
    share_stage: str
    share_floor: float
    cpl_cap: float
    competitors: float
    sov_floor: float

    def scenario(self) -> dict:
        return {
            "name": "random plan",
            "budget": {"total": self.budget},
            "pools": {"search": {"competitor_impressions": self.competitors}},
            "campaigns": [c.as_toml_dict() for c in self.campaigns],
            "constraints": [
                {"kpi": "share", "where": {"stage": self.share_stage}, "min": self.share_floor},
                {"kpi": "cpl", "max": self.cpl_cap},
                {"kpi": "sov.search", "min": self.sov_floor},
            ],
        }

    def leads(self, spend: np.ndarray) -> float:
        return float(sum(c.leads(s) for c, s in zip(self.campaigns, spend, strict=True)))

    def sov(self, spend: np.ndarray) -> float:
        """Search SOV of a split on the exact curves."""
        pooled = sum(c.impressions_at(s) for c, s in zip(self.campaigns, spend, strict=True) if c.in_pool)
        return float(pooled / (pooled + self.competitors))

    def with_sov_floor(self, floor: float) -> RandomPlan:
        """The same plan with another SOV floor."""
        return RandomPlan(self.campaigns, self.budget, self.share_stage, self.share_floor, self.cpl_cap,
                          self.competitors, floor)

    def violations(self, spend: np.ndarray, rel: float = 1e-6) -> list[str]:
        """Constraints the split breaks on the exact curves (an independent check)."""
        spend = np.asarray(spend, dtype=float)
        total = spend.sum()
        leads = self.leads(spend)
        pooled = sum(c.impressions_at(s) for c, s in zip(self.campaigns, spend, strict=True) if c.in_pool)
        staged = sum(s for c, s in zip(self.campaigns, spend, strict=True) if c.stage == self.share_stage)
        found = []
        if total > self.budget * (1 + rel):
            found.append(f"budget {total} > {self.budget}")
        for c, s in zip(self.campaigns, spend, strict=True):
            if s < c.lo - rel * c.hi or s > c.hi * (1 + rel):
                found.append(f"{c.name} spend {s} outside [{c.lo}, {c.hi}]")
        if staged < self.share_floor * total - rel * total:
            found.append(f"share {staged / total} < {self.share_floor}")
        if total > self.cpl_cap * leads + rel * total:
            found.append(f"cpl {total / leads} > {self.cpl_cap}")
        if pooled / (pooled + self.competitors) < self.sov_floor - rel:
            found.append(f"sov {pooled / (pooled + self.competitors)} < {self.sov_floor}")
        return found


def _random_curve(rng: np.random.Generator, family: str, hi: float) -> dict:
    reach = float(rng.uniform(2e4, 4e5)) * hi / 5e4
    if family == "exponential":
        return {"curve": "exponential", "max": reach, "scale": float(hi * rng.uniform(0.3, 1.5))}
    if family == "hill":
        return {"curve": "hill", "max": reach, "half": float(hi * rng.uniform(0.3, 1.2)),
                "shape": float(rng.uniform(0.6, 1.0))}
    if family == "s_hill":
        return {"curve": "hill", "max": reach, "half": float(hi * rng.uniform(0.3, 0.7)),
                "shape": float(rng.uniform(1.5, 3.0))}
    if family == "power":
        exponent = float(rng.uniform(0.5, 0.95))
        return {"curve": "power", "coef": reach / hi**exponent * float(rng.uniform(0.3, 0.8)), "exponent": exponent}
    if family == "log":
        scale = float(hi * rng.uniform(0.1, 1.0))
        return {"curve": "log", "coef": reach / np.log(1 + hi / scale) * 0.7, "scale": scale}
    if family == "linear":
        return {"curve": "linear", "unit_cost": float(hi / reach * rng.uniform(1.5, 3.0))}
    if family == "tabular":
        xs = np.linspace(0, hi, 7)
        gains = np.sort(rng.uniform(0.2, 1.0, 6))[::-1] * reach / 4
        ys = np.concatenate([[0], np.cumsum(gains)])
        return {"curve": "tabular", "points": [[float(x), float(y)] for x, y in zip(xs, ys, strict=True)]}
    raise ValueError(family)


FAMILIES = ("exponential", "hill", "power", "log", "linear", "tabular")


def random_plan(n: int, seed: int, s_share: float = 0.05) -> RandomPlan:
    """A feasible random plan: constraints are set around a random feasible split, so some bind."""
    rng = np.random.default_rng(seed)
    campaigns = []
    for i in range(n):
        hi = float(rng.uniform(5e3, 1e5))
        family = "s_hill" if rng.random() < s_share else FAMILIES[i % len(FAMILIES)]
        campaigns.append(Campaign(
            name=f"c{i:04d}", stage=STAGES[int(rng.integers(0, 4))], lo=float(hi * rng.uniform(0, 0.2)), hi=hi,
            impressions=_random_curve(rng, family, hi), ctr=float(rng.uniform(0.005, 0.06)),
            cvr=float(rng.uniform(0.01, 0.1)), in_pool=bool(rng.random() < 0.3),
        ))
    campaigns[0].in_pool = True
    if not any(c.stage == STAGES[0] for c in campaigns):
        campaigns[-1].stage = STAGES[0]
    lo = np.array([c.lo for c in campaigns])
    hi = np.array([c.hi for c in campaigns])
    anchor = lo + (hi - lo) * rng.uniform(0.2, 0.8, n)
    budget = float(anchor.sum() / 0.9)
    stage = STAGES[0]
    staged = anchor[[c.stage == stage for c in campaigns]].sum()
    leads = sum(c.leads(s) for c, s in zip(campaigns, anchor, strict=True))
    pooled = sum(c.impressions_at(s) for c, s in zip(campaigns, anchor, strict=True) if c.in_pool)
    competitors = float(pooled * rng.uniform(1.5, 4.0))
    return RandomPlan(
        campaigns=campaigns, budget=budget, share_stage=stage, share_floor=0.95 * staged / anchor.sum(),
        cpl_cap=1.02 * anchor.sum() / leads, competitors=competitors,
        sov_floor=0.98 * pooled / (pooled + competitors),
    )


def s_curve_binaries(c: Campaign, grid: np.ndarray) -> int:
    """How many segments of an S-curve campaign need an ordering binary: its convex ones."""
    spec = c.impressions
    inflection = spec["half"] * ((spec["shape"] - 1) / (spec["shape"] + 1)) ** (1 / spec["shape"])
    return int(np.searchsorted(grid, inflection, side="right"))


def add_s_curve_order(c: Campaign, grid, seg, width, add_col, add_row) -> None:
    """Segments fill in order: each convex segment only after the one before is full, and the
    concave part (whose falling slopes fill in order anyway) only after the convex part is full."""
    convex = min(s_curve_binaries(c, grid), len(seg) - 1)
    z = [add_col(0.0, 0.0, 1.0, True) for _ in range(convex)]
    for j in range(convex):
        add_row([(seg[j], 1.0), (z[j], -width[j])], 0.0, np.inf)
        add_row([(seg[j + 1], 1.0), (z[j], -width[j + 1])], -np.inf, 0.0)
    if convex:
        for j in range(convex + 1, len(seg)):
            add_row([(seg[j], 1.0), (z[-1], -width[j])], -np.inf, 0.0)


def reference_optimum(plan: RandomPlan, segments: int = 400, s_segments: int = 200,
                      time_limit: float = 120.0) -> tuple[float, np.ndarray]:
    """Max leads on a fine uniform grid per campaign (chords; in-order binaries for S-curves).

    Returns the reference's leads on the exact curves and its spend split.
    """
    rows, cols, vals, lower, upper = [], [], [], [], []
    cost, col_lo, col_hi, integrality = [], [], [], []

    def add_cols(c: np.ndarray, lo: float, hi: np.ndarray, integer: bool = False) -> np.ndarray:
        first = len(cost)
        cost.extend(np.asarray(c, dtype=float).tolist())
        col_hi.extend(np.asarray(hi, dtype=float).tolist())
        col_lo.extend([lo] * (len(cost) - first))
        integrality.extend([1 if integer else 0] * (len(cost) - first))
        return np.arange(first, len(cost))

    def add_col(c: float, lo: float, hi: float, integer: bool = False) -> int:
        return int(add_cols(np.array([c]), lo, np.array([hi]), integer)[0])

    def add_row(entries: list[tuple[int, float]], lo: float, hi: float) -> None:
        add_row_arrays(np.array([j for j, _ in entries]), np.array([v for _, v in entries]), lo, hi)

    def add_row_arrays(columns: np.ndarray, values: np.ndarray, lo: float, hi: float) -> None:
        rows.append(np.full(len(columns), len(lower)))
        cols.append(np.asarray(columns, dtype=int))
        vals.append(np.asarray(values, dtype=float))
        lower.append(lo)
        upper.append(hi)

    budget_cols, share_vals, cpl_vals, sov_cols, sov_vals = [], [], [], [], []
    need = plan.sov_floor / (1 - plan.sov_floor) * plan.competitors
    constant_leads = constant_spend = constant_staged = constant_pool = 0.0
    for c in plan.campaigns:
        k = s_segments if is_s_shaped(c.impressions) else segments
        grid = np.linspace(c.lo, c.hi, k + 1)
        width = np.diff(grid)
        lead_slope = np.diff(c.leads(grid)) / width
        impr_slope = np.diff(c.impressions_at(grid)) / width
        constant_leads += float(c.leads(c.lo))
        constant_spend += c.lo
        constant_staged += c.lo if c.stage == plan.share_stage else 0.0
        constant_pool += float(c.impressions_at(c.lo)) if c.in_pool else 0.0
        seg = add_cols(-lead_slope, 0.0, width)
        if is_s_shaped(c.impressions):
            add_s_curve_order(c, grid, seg, width, add_col, add_row)
        budget_cols.append(seg)
        share_vals.append(np.full(k, (1.0 if c.stage == plan.share_stage else 0.0) - plan.share_floor))
        cpl_vals.append(1.0 - plan.cpl_cap * lead_slope)
        if c.in_pool:
            sov_cols.append(seg)
            sov_vals.append(impr_slope)
    every = np.concatenate(budget_cols)
    add_row_arrays(every, np.ones(len(every)), -np.inf, plan.budget - constant_spend)
    add_row_arrays(every, np.concatenate(share_vals), plan.share_floor * constant_spend - constant_staged, np.inf)
    add_row_arrays(every, np.concatenate(cpl_vals), -np.inf, plan.cpl_cap * constant_leads - constant_spend)
    add_row_arrays(np.concatenate(sov_cols), np.concatenate(sov_vals), need - constant_pool, np.inf)
    matrix = coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(len(lower), len(cost))).tocsr()
    result = _solve(np.array(cost), matrix, np.array(lower), np.array(upper), np.array(integrality),
                    Bounds(np.array(col_lo), np.array(col_hi)), time_limit)
    if result.x is None:
        raise RuntimeError(f"reference solve failed: {result.message}")
    spend, position = [], 0
    for c in plan.campaigns:
        k = s_segments if is_s_shaped(c.impressions) else segments
        spend.append(c.lo + result.x[position:position + k].sum())
        binaries = min(s_curve_binaries(c, np.linspace(c.lo, c.hi, k + 1)), k - 1) if is_s_shaped(c.impressions) else 0
        position += k + binaries
    spend_array = np.array(spend)
    return plan.leads(spend_array), spend_array


def _solve(cost, matrix, lower, upper, integrality, bounds: Bounds, time_limit: float):
    """SciPy's HiGHS on the reference program.

    Neither choice below changes the optimum, only how long HiGHS takes to prove it: its MIP
    presolve spends seconds (over a minute at 150 campaigns) on the in-order binaries that the
    search then settles in milliseconds, and its dual simplex spends seconds on the LP's wide
    four rows that the interior point method (with crossover: a vertex, as the simplex gives)
    solves in a fraction of that.
    """
    if integrality.any():
        return milp(c=cost, constraints=LinearConstraint(matrix, lower, upper), integrality=integrality,
                    bounds=bounds, options={"time_limit": time_limit, "mip_rel_gap": 1e-5, "presolve": False})
    upper_side = np.isfinite(upper)
    assert np.all(upper_side ^ np.isfinite(lower)), "each row of the reference is one-sided"
    sign = np.where(upper_side, 1.0, -1.0)
    return linprog(cost, A_ub=diags_array(sign) @ matrix, b_ub=np.where(upper_side, upper, -lower),
                   bounds=np.column_stack([bounds.lb, bounds.ub]), method="highs-ipm",
                   options={"time_limit": time_limit})
