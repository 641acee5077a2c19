"""``Plan``: the immutable result of a solve, and its parts.

A plan is returned for every solve that ran, feasible or not: ``status`` says which. The
allocation and KPIs are evaluated on the exact curves (not the linearised ones), and every
constraint has been re-checked on them (``checks``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from optimizer.plan_text import plan_summary
from optimizer.status import Status

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = "1"

ALLOCATION_COLUMNS = (
    "campaign", "stage", "channel", "current_spend", "spend", "change", "change_pct", "impressions", "clicks",
    "leads", "mqls", "sqls", "customers", "revenue", "cpc", "cpl", "marginal_cpl", "at_bound", "exact_milp",
)


@dataclass(frozen=True)
class CampaignResult:
    """One campaign's line in the plan: spend now and planned, what it buys, at what price."""

    campaign: str
    stage: str
    channel: str
    current_spend: float
    spend: float
    change: float
    change_pct: float
    impressions: float
    clicks: float
    leads: float
    mqls: float
    sqls: float
    customers: float
    revenue: float
    cpc: float
    cpl: float
    marginal_cpl: float
    """The cost of the next lead from this campaign (spend per lead at the margin)."""
    at_bound: str | None
    """Why the campaign cannot move further: ``max``, ``min``, ``locked``, ``max_change``, ``budget``."""
    exact_milp: bool
    """True when the campaign needed the exact MILP formulation (S-shaped or non-concave curve)."""


@dataclass(frozen=True)
class FiniteStep:
    """A finite move of a bound and what it changes: the true figure where a rate is steep or undefined.

    ``size`` counts the price's own steps (SOV points, dollars of budget); ``change`` is the
    objective gained by relaxing a constraint that far (a frontier's primary KPI lost, for its
    steps). ``direction`` is ``next`` (from this point on) or ``last`` (the step that ends here,
    at an end no plan goes past).
    """

    size: float
    change: float
    direction: str = "next"


@dataclass(frozen=True)
class ShadowPrice:
    """What relaxing one binding constraint is worth, in business units.

    ``price`` is the one-sided rate of the optimum as the bound is relaxed, per quoted step
    (``unit``), measured by re-solving where the dual alone could mislead (``solver.prices``).
    Where that rate is too steep to be a rate, ``price`` is None and ``steep`` gives a finite step
    and what it gains.
    """

    constraint: str
    kind: str
    kpi: str
    where: str
    bound: float
    value: float
    price: float | None
    unit: str
    """e.g. ``leads per extra $1 of budget``, ``leads per SOV point``."""
    steep: FiniteStep | None = None

    @property
    def worth(self) -> float:
        """The price to order prices by, dearest first: a steep one counts as the dearest."""
        return self.price if self.price is not None else math.inf


@dataclass(frozen=True)
class Check:
    """One constraint re-checked on the plan's exact outcomes."""

    constraint: str
    sense: str
    bound: float
    value: float
    ok: bool


@dataclass(frozen=True)
class Relaxation:
    """One change that, made alone, lets a plan exist."""

    constraint: str
    kpi: str
    side: str
    """``min`` (lower a floor), ``max`` (raise a cap) or ``total`` (change the budget)."""
    current: float
    value: float
    key: str | None
    """The ``--set`` key that makes the change (``budget.total``, ``constraints[2].max``)."""
    sentence: str


@dataclass(frozen=True)
class Explanation:
    """Why no plan exists: the conflicting constraints, and relaxations that each resolve the conflict.

    ``proven`` is False when the conflict sits at the very edge of what is reachable.
    """

    conflict: tuple[str, ...]
    relaxations: tuple[Relaxation, ...]
    message: str
    proven: bool


@dataclass(frozen=True)
class SolveInfo:
    """How the plan was found."""

    solver: str
    seconds: float
    solver_seconds: float
    tolerance: float
    segments: int
    milp_campaigns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spread:
    """A figure's 10th, 50th and 90th percentiles over curve draws."""

    p10: float
    p50: float
    p90: float


@dataclass(frozen=True)
class Uncertainty:
    """How a plan's figures move when its fitted curves are drawn from their uncertainty.

    ``as_planned`` is the plan's own split evaluated on each draw (what committing to it may
    deliver); ``re_solved`` is each draw's own optimal plan (how far the best plan itself moves).
    Figures are keyed by KPI: the objective's, the traded KPI and every pool's ``sov.<pool>``.
    """

    draws: int
    seed: int
    drawn: tuple[str, ...]
    """The campaigns whose curves or rates carry a fitted uncertainty (the others are held fixed)."""
    as_planned: Mapping[str, Spread]
    re_solved: Mapping[str, Spread]
    unsolved: int = 0
    """Draws whose own plan could not be solved to optimality (left out of ``re_solved``)."""

    def __post_init__(self) -> None:
        for name in ("as_planned", "re_solved"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"draws", "seed", "drawn", "as_planned": {kpi: {p10, p50, p90}}, "re_solved", "unsolved"}``."""
        return {"draws": self.draws, "seed": self.seed, "drawn": list(self.drawn),
                "as_planned": {kpi: asdict(spread) for kpi, spread in self.as_planned.items()},
                "re_solved": {kpi: asdict(spread) for kpi, spread in self.re_solved.items()},
                "unsolved": self.unsolved}


@dataclass(frozen=True)
class Plan:
    """The optimal budget split for a scenario, with its KPIs and optimality certificate.

    ``gap`` is the relative distance between the plan's objective (on the exact curves)
    and a proven bound on the true optimum: 0.0003 means "within 0.03% of the best plan
    that exists". It is None when no bound could be proven (no plan, or a solver stopped).
    """

    status: Status
    message: str
    scenario: str
    currency: str
    period: str | None
    objective_kpi: str
    objective_sense: str
    objective_value: float | None
    bound: float | None
    gap: float | None
    allocation: tuple[CampaignResult, ...]
    kpis: Mapping[str, float]
    sov: Mapping[str, float]
    current_kpis: Mapping[str, float]
    current_sov: Mapping[str, float]
    shadow_prices: tuple[ShadowPrice, ...]
    checks: tuple[Check, ...]
    info: SolveInfo
    warnings: tuple[str, ...] = ()
    esov: Mapping[str, float] = field(default_factory=dict)
    explanation: Explanation | None = None
    """Set when no plan exists: why, and what would make one possible."""
    uncertainty: Uncertainty | None = None
    """Set by ``plan_uncertainty``: the plan's figures over draws of its fitted curves."""
    current_breaks: tuple[str, ...] = ()
    """The constraints today's split breaks (the budget it overspends, a floor it misses): where there are
    any, today's figures are no plan this one is compared with."""

    def __post_init__(self) -> None:
        for name in ("kpis", "sov", "current_kpis", "current_sov", "esov"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def __repr__(self) -> str:
        value = "–" if self.objective_value is None else f"{self.objective_value:,.1f}"
        gap = "–" if self.gap is None else f"{self.gap:.3%}"
        return (f"Plan(status={self.status.value}, {self.objective_sense} {self.objective_kpi}={value}, "
                f"gap={gap}, campaigns={len(self.allocation)}, solver={self.info.solver})")

    @property
    def success(self) -> bool:
        """True when the plan is optimal and passed every check."""
        return self.status is Status.OPTIMAL

    @property
    def spend(self) -> dict[str, float]:
        """Planned spend by campaign."""
        return {row.campaign: row.spend for row in self.allocation}

    def to_frame(self) -> pd.DataFrame:
        """The allocation table, one row per campaign (empty when there is no plan)."""
        import pandas as pd

        return pd.DataFrame([asdict(row) for row in self.allocation], columns=list(ALLOCATION_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-safe data (NaN and infinity become null), as documented in the README."""
        data = {
            "schema_version": SCHEMA_VERSION,
            "scenario": {"name": self.scenario, "currency": self.currency, "period": self.period},
            "status": self.status.value,
            "message": self.message,
            "objective": {"kpi": self.objective_kpi, "sense": self.objective_sense, "value": self.objective_value},
            "gap": self.gap,
            "bound": self.bound,
            "kpis": self._kpi_record(),
            "current": {**self.current_kpis, "sov": dict(self.current_sov)},
            "current_breaks": list(self.current_breaks),
            "allocation": [asdict(row) for row in self.allocation],
            "shadow_prices": [asdict(price) for price in self.shadow_prices],
            "checks": [asdict(check) for check in self.checks],
            "solver": {**asdict(self.info), "milp_campaigns": list(self.info.milp_campaigns)},
            "warnings": list(self.warnings),
            "explanation": asdict(self.explanation) if self.explanation is not None else None,
            "uncertainty": self.uncertainty.to_dict() if self.uncertainty is not None else None,
        }
        return json_safe(data)

    def _kpi_record(self) -> dict[str, Any]:
        """``kpis`` as written: every KPI today's split has (null without a plan), ``sov`` for every pool
        (null without a plan), and ``esov`` for the pools with a share of market (empty without a plan,
        which does not say which pools have one)."""
        totals = {name: self.kpis.get(name) for name in self.current_kpis} | dict(self.kpis)
        shares = {pool: self.sov.get(pool) for pool in self.current_sov} | dict(self.sov)
        return {**totals, "sov": shares, "esov": dict(self.esov)}

    def summary(self) -> str:
        """A few lines a strategist can read: status, objective, gap, KPIs and the binding constraints."""
        return plan_summary(self)


def json_safe(value: Any) -> Any:
    """``value`` with NaN/inf replaced by None, tuples by lists and enums by their values."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, Status):
        return value.value
    if hasattr(value, "item") and not isinstance(value, str):
        return json_safe(value.item())
    return value
