"""The optimisation problem in business terms, before any linearisation.

A ``Formulation`` holds the campaigns (bounds and curves), the SOV pools, one ``RowSpec``
per constraint side and the goal. Rows are linear in spend and in outcomes; ``compile``
turns them into sparse arrays on piecewise-linear segments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from types import MappingProxyType
from typing import Literal

import numpy as np

from optimizer.model.campaigns import CampaignModel, OutcomeTable, outcome_table
from optimizer.model.expressions import Expr
from optimizer.scenario.schema import Where

Sense = Literal[">=", "<=", "=="]


@dataclass(frozen=True)
class RowSpec:
    """One linear constraint ``expr <sense> rhs``, with what is needed to explain it.

    ``step`` (times the value of ``step_expr`` at the plan, when given) is how much the
    right-hand side moves when the user's bound is relaxed by one quoted unit; a shadow
    price is the objective gained per such unit (``step_label``).
    """

    name: str
    family: str
    kpi: str
    where: str
    sense: Sense
    rhs: float
    bound: float
    expr: Expr
    step: float = 1.0
    step_expr: Expr | None = None
    step_label: str = ""
    constraint: int | None = None
    pool: str | None = None
    offset: float = 0.0
    """The user's bound is ``bound - offset`` (an ESOV bound is the SOV bound less the share of market)."""


@dataclass(frozen=True)
class PoolModel:
    """A share-of-voice pool: which campaigns count and how share is measured."""

    name: str
    label: str
    volume: Literal["impressions", "spend"]
    against_competitors: bool
    reference: float
    som: float | None
    members: np.ndarray

    def share(self, ours: float) -> float:
        """SOV for our pooled volume: ours / (ours + competitors) or ours / total."""
        if self.against_competitors:
            return ours / (ours + self.reference) if ours + self.reference > 0 else 0.0
        return ours / self.reference

    def volume_for(self, share: float) -> float:
        """Our pooled volume at which SOV equals ``share`` (the linear form of a floor)."""
        if self.against_competitors:
            return share / (1 - share) * self.reference
        return share * self.reference

    def volume_per_point(self, share: float) -> float:
        """Extra pooled volume for +1 SOV point at ``share``."""
        if self.against_competitors:
            return 0.01 * self.reference / (1 - share) ** 2
        return 0.01 * self.reference

    def expr(self) -> Expr:
        """Our pooled volume as an expression."""
        return Expr.volume(self.volume, self.members)


@dataclass(frozen=True)
class Goal:
    """What the plan optimises."""

    kpi: str
    sense: Literal["maximize", "minimize"]
    expr: Expr
    unit: str
    pool: str | None = None
    """For ``sov.<pool>``: the program maximises the pool's volume; results report the share."""


@dataclass(frozen=True)
class Formulation:
    """Campaigns, pools, constraint rows and the goal of one scenario."""

    name: str
    currency: str
    campaigns: tuple[CampaignModel, ...]
    pools: Mapping[str, PoolModel]
    rows: tuple[RowSpec, ...]
    goal: Goal
    tolerance: float
    budget_total: float | None = None
    spend_all: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "pools", MappingProxyType(dict(self.pools)))

    @property
    def size(self) -> int:
        return len(self.campaigns)

    @cached_property
    def terms(self) -> OutcomeTable:
        """Every campaign's outcome terms as arrays, built once (evaluations of a sweep share them)."""
        return outcome_table(self.campaigns)

    def mask(self, where: Where | None = None, **keys: str | list[str]) -> np.ndarray:
        """Campaigns in a selection, given as a ``Where`` or as its keys (``stage="awareness"``)."""
        if where is None:
            where = Where.model_validate(keys)
        return np.array([where.matches(c.stage, c.channel, c.tags, c.name) for c in self.campaigns], dtype=bool)

    def volume(self, kpi: str, mask: np.ndarray | None = None) -> Expr:
        """A volume KPI summed over ``mask`` (every campaign by default)."""
        return Expr.volume(kpi, np.ones(self.size, bool) if mask is None else mask)

    def with_rows(self, extra: Iterable[RowSpec]) -> Formulation:
        """A copy with more rows (the hook for constraints a planning tool adds)."""
        return replace(self, rows=self.rows + tuple(extra))

    def with_bounds(self, lo: np.ndarray, hi: np.ndarray) -> Formulation:
        """A copy with other spend bounds (same curves)."""
        campaigns = tuple(
            replace(c, lo=float(a), hi=float(b)) for c, a, b in zip(self.campaigns, lo, hi, strict=True)
        )
        return replace(self, campaigns=campaigns)


ExtraRows = Callable[[Formulation], Iterable[RowSpec]]
