"""Campaigns as the model sees them: spend bounds, curves, and each outcome as a scaled curve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.curves import (
    Curve,
    Exponential,
    Hill,
    Linear,
    LinearisationError,
    Log,
    Power,
    Tabular,
    many_breakpoints,
)
from optimizer.curves.stacks import CurveStack
from optimizer.errors import Problem, ScenarioError
from optimizer.glossary import OUTCOMES
from optimizer.scenario.schema import (
    BudgetSpec,
    Campaign,
    ExponentialSpec,
    HillSpec,
    LinearSpec,
    LogSpec,
    PowerSpec,
    RateSpec,
    TabularSpec,
)

_BEYOND_BUDGET = 1e-3
_AT_BOUND = 1e-7
"""A spend this close to a bound (relative to the campaign's range) is at the bound."""


def at_top(hi: np.ndarray | float, spend: np.ndarray | float) -> np.ndarray:
    """Whether each ``spend`` is at its highest allowed spend ``hi`` (numbers or arrays)."""
    return np.asarray(hi - spend <= _AT_BOUND * np.maximum(1.0, np.abs(hi)))


@dataclass(frozen=True)
class Term:
    """An outcome of a campaign: ``multiplier`` x the campaign's curve number ``curve``."""

    curve: int
    multiplier: float


@dataclass(frozen=True)
class CampaignModel:
    """A campaign reduced to numbers: where its spend may go and what each dollar buys."""

    name: str
    channel: str
    stage: str
    tags: tuple[str, ...]
    pools: tuple[str, ...]
    current: float
    lo: float
    hi: float
    lo_reason: str
    hi_reason: str
    curves: tuple[Curve, ...]
    terms: Mapping[str, Term]
    observed: tuple[float | None, float | None] = (None, None)
    """The lowest and highest spend of a period in the campaign's history, where known."""

    def at_top(self, spend: float) -> bool:
        """Whether ``spend`` is at the campaign's highest allowed spend."""
        return bool(at_top(self.hi, spend))

    def at_bottom(self, spend: float) -> bool:
        """Whether ``spend`` is at the campaign's lowest allowed spend."""
        return bool(spend - self.lo <= _AT_BOUND * max(1.0, abs(self.hi)))

    def outcome(self, name: str, spend: np.ndarray | float) -> np.ndarray:
        """The outcome ``name`` at ``spend`` (zero when the campaign does not define it)."""
        term = self.terms.get(name)
        if term is None:
            return np.zeros_like(np.asarray(spend, dtype=float))
        return term.multiplier * self.curves[term.curve].value(spend)

    def marginal(self, name: str, spend: np.ndarray | float, side: str = "right") -> np.ndarray:
        """d outcome / d spend at ``spend``; ``side="left"`` for the last dollar before ``spend``."""
        term = self.terms.get(name)
        if term is None:
            return np.zeros_like(np.asarray(spend, dtype=float))
        curve = self.curves[term.curve]
        return term.multiplier * (curve.left_marginal(spend) if side == "left" else curve.marginal(spend))

    def grid(self, tolerance: float) -> np.ndarray:
        """Breakpoints on ``[lo, hi]`` within ``tolerance`` for every curve of the campaign."""
        return campaign_grids((self,), tolerance)[0]


@dataclass(frozen=True, eq=False)
class OutcomeTable:
    """Every (campaign, outcome) term of a plan as arrays: ``stack[k]`` x ``multiplier[k]`` is
    outcome ``outcome[k]`` of campaign ``campaign[k]``."""

    campaign: np.ndarray
    outcome: np.ndarray
    multiplier: np.ndarray
    stack: CurveStack
    upper: np.ndarray
    """Each campaign's spend ceiling (by campaign, not by term)."""

    def by_outcome(self) -> dict[str, np.ndarray]:
        """The terms of each outcome name."""
        return {name: np.flatnonzero(self.outcome == name) for name in dict.fromkeys(self.outcome.tolist())}


def outcome_table(campaigns: Sequence[CampaignModel]) -> OutcomeTable:
    """The terms of every campaign, ready to evaluate all at once."""
    rows = [(i, name, term.multiplier, campaign.curves[term.curve])
            for i, campaign in enumerate(campaigns) for name, term in campaign.terms.items()]
    return OutcomeTable(
        campaign=np.array([row[0] for row in rows], dtype=np.int64),
        outcome=np.array([row[1] for row in rows], dtype=object),
        multiplier=np.array([row[2] for row in rows], dtype=float),
        stack=CurveStack.of([row[3] for row in rows]),
        upper=np.array([c.hi for c in campaigns]),
    )


def campaign_grids(campaigns: Sequence[CampaignModel], tolerance: float) -> tuple[np.ndarray, ...]:
    """Each campaign's ``grid(tolerance)``, built for all of them at once (``many_breakpoints``)."""
    owners = [i for i, c in enumerate(campaigns) if c.hi > c.lo for _ in c.curves]
    curves = [curve for c in campaigns if c.hi > c.lo for curve in c.curves]
    try:
        grids = many_breakpoints(curves, [campaigns[i].lo for i in owners], [campaigns[i].hi for i in owners],
                                 tolerance)
    except LinearisationError as error:
        name = campaigns[owners[error.index]].name
        raise ScenarioError([Problem(f'campaign "{name}"', str(error), "")]) from None
    per_campaign: list[list[np.ndarray]] = [[] for _ in campaigns]
    for i, grid in zip(owners, grids, strict=True):
        per_campaign[i].append(grid)
    return tuple(_union(found, campaign) for found, campaign in zip(per_campaign, campaigns, strict=True))


def _union(grids: list[np.ndarray], campaign: CampaignModel) -> np.ndarray:
    if campaign.hi <= campaign.lo:
        return np.array([campaign.lo])
    return grids[0].copy() if len(grids) == 1 else np.unique(np.concatenate(grids))


def curve_from_spec(spec: object) -> Curve:
    """The ``Curve`` a scenario's curve spec describes."""
    match spec:
        case LinearSpec():
            return Linear(spec.unit_cost)
        case ExponentialSpec():
            return Exponential(spec.max, spec.scale)
        case HillSpec():
            return Hill(spec.max, spec.half, spec.shape)
        case PowerSpec():
            return Power(spec.coef, spec.exponent)
        case LogSpec():
            return Log(spec.coef, spec.scale)
        case TabularSpec():
            points = list(spec.points)
            if points[0][0] > 0:
                points.insert(0, (0.0, 0.0))
            return Tabular(tuple(p[0] for p in points), tuple(p[1] for p in points))
    raise TypeError(f"not a curve spec: {spec!r}")


def outcome_terms(campaign: Campaign) -> tuple[tuple[Curve, ...], dict[str, Term]]:
    """The campaign's curves, and each defined outcome as a multiple of one of them.

    Rates are followed down to the curve they rest on: with ``clicks = 4.5% of impressions``
    and ``leads = 7.5% of clicks``, leads are 0.3375% of the impressions curve.
    """
    curves: list[Curve] = []
    curve_of: dict[str, int] = {}
    for name in OUTCOMES:
        spec = campaign.outcome(name)
        if spec is not None and not isinstance(spec, RateSpec):
            curve_of[name] = len(curves)
            curves.append(curve_from_spec(spec))
    terms: dict[str, Term] = {}
    for name in campaign.defined_outcomes():
        multiplier, current = 1.0, name
        spec = campaign.outcome(current)
        while isinstance(spec, RateSpec):
            multiplier *= spec.rate
            current = spec.of
            spec = campaign.outcome(current)
        terms[name] = Term(curve_of[current], multiplier)
    return tuple(curves), terms


def spend_bounds(campaign: Campaign, budget: BudgetSpec | None,
                 curves: tuple[Curve, ...]) -> tuple[float, float, str, str]:
    """``(lo, hi, lo_reason, hi_reason)``: the spend range the plan may use.

    ``max_change`` applies to campaigns with a current spend (a new campaign cannot move
    a percentage of zero); the campaign's own ``spend.max_change`` wins over the budget's.
    """
    spend = campaign.spend
    if spend.locked:
        # A lock outside [min, max] leaves an empty range, which the precheck explains.
        lo, lo_reason = (spend.min, "min") if spend.min > spend.current else (spend.current, "locked")
        hi, hi_reason = (spend.max, "max") if spend.max is not None and spend.max < spend.current \
            else (spend.current, "locked")
        return float(lo), float(hi), lo_reason, hi_reason
    lo, lo_reason = spend.min, "min"
    hi, hi_reason = (spend.max, "max") if spend.max is not None else (np.inf, "")
    total = budget.total if budget is not None else None
    if spend.max is None and total is not None:
        # Without a max of its own a campaign can take the whole budget, and the curve is
        # linearised a hair beyond it: at the budget the budget row then binds on its own (its
        # shadow price is the budget's), not the campaign's bound. A max above the budget is
        # kept for the same reason.
        hi, hi_reason = total * (1 + _BEYOND_BUDGET), "budget"
    domain = min(curve.domain_max for curve in curves)
    if domain < hi:
        hi, hi_reason = domain, "curve data"
    max_change = spend.max_change if spend.max_change is not None else (budget.max_change if budget else None)
    if max_change is not None and spend.current > 0:
        floor, ceiling = spend.current * (1 - max_change), spend.current * (1 + max_change)
        if floor > lo:
            lo, lo_reason = floor, "max_change"
        if ceiling < hi:
            hi, hi_reason = ceiling, "max_change"
    return float(lo), float(hi), lo_reason, hi_reason


def campaign_model(campaign: Campaign, budget: BudgetSpec | None) -> CampaignModel:
    """The model's view of one scenario campaign."""
    curves, terms = outcome_terms(campaign)
    lo, hi, lo_reason, hi_reason = spend_bounds(campaign, budget, curves)
    return CampaignModel(
        name=campaign.name,
        channel=campaign.channel,
        stage=campaign.stage,
        tags=campaign.tags,
        pools=campaign.pools,
        current=campaign.spend.current,
        lo=lo,
        hi=hi,
        lo_reason=lo_reason,
        hi_reason=hi_reason,
        curves=curves,
        terms=terms,
        observed=(campaign.spend.observed_min, campaign.spend.observed_max),
    )
