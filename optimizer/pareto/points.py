"""A frontier point from a solve: exact KPIs, the price of the traded KPI in three views, spend by stage.

The three views of the price of a step of the traded KPI (an SOV point):
1. at a fixed budget, the primary KPI lost (the dual of the traded floor);
2. at fixed primary (the lead-max level), the extra budget (the dual of the traded floor when
   spend is minimised with the budget set aside);
3. inside the pool, the average and marginal CPC of the pool's campaigns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from optimizer.glossary import GLOSSARY
from optimizer.model.evaluate import Evaluation, evaluate, goal_reach
from optimizer.model.formulation import Formulation
from optimizer.pareto.axis import Axis
from optimizer.pareto.program import FrontierProgram, Solution, held, raised
from optimizer.pareto.result import CampaignCurve, FrontierPoint
from optimizer.plan import FiniteStep
from optimizer.scenario.schema import STAGES
from optimizer.solver.certificate import relative_gap
from optimizer.solver.sensitivity import ValueAt, one_sided

_CURVE_SAMPLES = 48
_FIRST_STEP = 1e-3
"""A price's first re-solve moves the traded floor by this share of a step (an SOV point)."""


@dataclass(frozen=True)
class Pricing:
    """What every point is priced against: the program, and the lead-max end's primary level."""

    form: Formulation
    axis: Axis
    program: FrontierProgram
    lead_max: Solution

    @cached_property
    def reach(self) -> float:
        """The primary KPI with every campaign at its max (the scale of its round-off)."""
        return goal_reach(self.form)

    @property
    def contributors(self) -> np.ndarray:
        """Campaigns that add to the traded KPI (a pool's members)."""
        if self.axis.pool is not None:
            return self.axis.pool.members
        return np.any([w != 0 for w in self.axis.expr.outcomes.values()], axis=0)


def make_point(pricing: Pricing, solution: Solution, kind: str, target: float, bounded: bool = True,
               measured: bool = False) -> FrontierPoint:
    """The frontier point of ``solution``, evaluated on the exact curves and priced.

    For a MILP the constant-leads view keeps the point's S-curve campaigns on or off as they
    are, and ``bounded=False`` skips the point's certified bound (a MILP of its own).
    ``measured``: the prices are measured by re-solving a step further (``sensitivity.one_sided``):
    where the point sits on a kink of the frontier (the far end, whose floor is at the most the
    program reaches; a level where a tie or a bound starts to bind) any number between the rates
    either side is a dual. Unmeasured (a large frontier's points short of its far end, each at a
    level of its own, on a kink only by chance), the dual is the price.
    """
    form, axis, program = pricing.form, pricing.axis, pricing.program
    evaluation = evaluate(form, solution.spend)
    primary = evaluation.value(form.goal.expr)
    traded = axis.value(evaluation.value(axis.expr))
    per_step = axis.volume_per_step(traded)
    floor = held(solution.traded)
    # The lead-max end's dollar price, like its price in the primary KPI, is that of the first step past it.
    spend_floor = raised(solution.traded) if solution is pricing.lead_max else floor
    kept_primary = held(pricing.lead_max.primary)
    fixed = program.min_spend(kept_primary, spend_floor, solution)
    if measured:
        lost_from = solution.floor if solution.on_floor else solution.traded
        lost_base = -solution.primary if solution.on_floor else None
        lost = _measured(lambda step: _minus(program.primary_at(lost_from + step, solution)), lost_base,
                         solution.traded_dual, per_step, pricing.reach, -1.0)
        extra_from = fixed.floor if fixed.on_floor else solution.traded
        extra = (_measured(lambda step: program.spend_at(kept_primary, extra_from + step, solution),
                           float(fixed.spend.sum()) if fixed.on_floor else None, fixed.traded_dual, per_step,
                           pricing.reach, 1.0) if fixed.ok else _Price(float("nan")))
    else:
        lost = _Price(_lost(solution.traded_dual, per_step))
        extra = _Price(_extra(fixed, per_step))
    bound = program.outer_bound(floor) if bounded else None
    totals = evaluation.totals
    pool_cpc, pool_marginal = pool_costs(evaluation, pricing.contributors)
    return FrontierPoint(
        traded=traded,
        primary=primary,
        target=target,
        kind=kind,
        spend=totals["spend"],
        impressions=totals["impressions"],
        clicks=totals["clicks"],
        leads=totals["leads"],
        cpl=GLOSSARY["cpl"].ratio(totals["spend"], totals["leads"]),
        cpc=GLOSSARY["cpc"].ratio(totals["spend"], totals["clicks"]),
        pool_cpc=pool_cpc,
        pool_marginal_cpc=pool_marginal,
        primary_lost_per_point=lost.per_step,
        budget_per_point=extra.per_step,
        lost_step=lost.step,
        budget_step=extra.step,
        extra_budget=float(fixed.spend.sum()) - (form.budget_total or totals["spend"]) if fixed.ok else float("nan"),
        gap=relative_gap(primary, bound, "maximize", pricing.reach),
        spend_by_stage=_by_stage(form, evaluation),
        allocation={c.name: float(s) for c, s in zip(form.campaigns, evaluation.spend, strict=True)},
        kpis={**evaluation.kpis(), **{f"sov.{name}": share for name, share in evaluation.sov.items()}},
    )


@dataclass(frozen=True)
class _Price:
    """A point's price per step of the traded KPI (NaN: none to quote), or the finite step that stands for it."""

    per_step: float
    step: FiniteStep | None = None


def _measured(value_at: ValueAt, base: float | None, dual: float | None, per_step: float, scale: float,
              sign: float) -> _Price:
    """The one-sided rate of ``value_at`` (a cost: primary lost, spend added) as the traded floor rises
    from the point, per step of the traded KPI; ``sign`` turns the dual (d objective / d floor, in
    its program's sense) into that cost's rate. ``base`` is the cost at the point as solved (None:
    the point was solved at a floor below its level, or not solved at all; it is solved at its level first)."""
    base = value_at(0.0) if base is None else base
    if base is None:
        return _Price(float("nan"))
    first = _FIRST_STEP * per_step
    rate = one_sided(value_at, base, first, per_step, sign * dual if dual is not None else None, scale)
    if rate.rate is not None:
        return _Price(max(rate.rate, 0.0) * per_step)
    if rate.step is None or rate.change is None:
        return _Price(float("nan"))  # no plan one step further: the frontier's end
    return _Price(float("nan"), FiniteStep(rate.step / per_step, max(rate.change, 0.0)))


def _lost(dual: float | None, per_step: float) -> float:
    """Primary lost per step: the traded floor's dual (d primary / d volume <= 0) times volume per step."""
    if dual is None:
        return float("nan")
    return max(-dual, 0.0) * per_step


def _extra(fixed: Solution, per_step: float) -> float:
    """Extra spend per step at constant primary: the dual of the traded floor when spend is minimised."""
    if not fixed.ok or fixed.traded_dual is None:
        return float("nan")
    return max(fixed.traded_dual, 0.0) * per_step


def _minus(value: float | None) -> float | None:
    return -value if value is not None else None


def pool_costs(evaluation: Evaluation, members: np.ndarray) -> tuple[float, float]:
    """The pool's average CPC, and its marginal CPC: the cost of the next click if every member's
    spend grew in proportion (for one campaign, simply 1 / clicks'(spend))."""
    spend = evaluation.spend[members]
    clicks = evaluation.outcomes["clicks"][members]
    slope = evaluation.marginals["clicks"][members]
    average = GLOSSARY["cpc"].ratio(float(spend.sum()), float(clicks.sum()))
    growth = float(spend @ slope)
    marginal = float(spend.sum()) / growth if growth > 0 else float("nan")
    return average, marginal


def _by_stage(form: Formulation, evaluation: Evaluation) -> dict[str, float]:
    stages = [c.stage for c in form.campaigns]
    return {stage: float(sum(s for s, st in zip(evaluation.spend, stages, strict=True) if st == stage))
            for stage in STAGES if stage in stages}


def sample_curves(form: Formulation, recommended: dict[str, float] | None) -> tuple[CampaignCurve, ...]:
    """Each campaign's primary-KPI response over its allowed spend, for the response-curve chart."""
    curves = []
    for i, campaign in enumerate(form.campaigns):
        top = campaign.hi if np.isfinite(campaign.hi) else max(campaign.current, campaign.lo) * 2 or 1.0
        spend = np.linspace(0.0, max(top, campaign.current), _CURVE_SAMPLES)
        primary = np.zeros_like(spend)
        for outcome, weights in form.goal.expr.outcomes.items():
            if weights[i]:
                primary += weights[i] * campaign.outcome(outcome, spend)
        planned = (recommended or {}).get(campaign.name, campaign.current)
        curves.append(CampaignCurve(campaign.name, campaign.stage, campaign.channel, campaign.current,
                                    float(planned), tuple(spend.tolist()), tuple(primary.tolist())))
    return tuple(curves)
