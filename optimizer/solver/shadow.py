"""Shadow prices in business units, from duals normalised to one convention.

Adapters report each row's dual as d(objective)/d(row bound) in the goal's own sense. A
binding constraint's shadow price is what relaxing it by one quoted unit gains: always
positive (more leads for a maximised goal, less spend for a minimised one), whatever sign
the solver used. Campaign bounds are priced from the marginal value of the next dollar
(its outcomes, net of what it costs in every priced row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.formatting import money
from optimizer.model.compile import CompiledModel
from optimizer.model.evaluate import Evaluation, constraint_value
from optimizer.model.expressions import Expr
from optimizer.model.formulation import Formulation, RowSpec
from optimizer.plan import ShadowPrice

_RELATIVE_FLOOR = 1e-9
_LEVERS = ("max", "max_change", "locked")
"""Campaign bounds a strategist can move; a max from the budget or the last simulator point is not one."""


@dataclass(frozen=True)
class GoalUnits:
    """How to quote the goal in a price: leads as they are, a pool's volume as SOV points."""

    factor: float
    unit: str


def goal_units(form: Formulation, evaluation: Evaluation) -> GoalUnits:
    """The units shadow prices are quoted in, for this plan."""
    if form.goal.pool is None:
        return GoalUnits(1.0, form.goal.unit)
    pool = form.pools[form.goal.pool]
    share = min(pool.share(evaluation.pooled[pool.name]), 0.999999)
    return GoalUnits(1.0 / pool.volume_per_point(share), f"SOV points of {pool.name}")


def quoted_step(spec: RowSpec) -> float:
    """The step a row's price is quoted per, in the user's units of its bound: an SOV or share point
    (0.01 of the share), $1 of budget or of a CPL cap, one unit of a volume."""
    return 0.01 if spec.family in ("sov", "share") else spec.step


def spec_duals(model: CompiledModel, row_dual: np.ndarray, n_specs: int) -> np.ndarray:
    """Each RowSpec's dual (the sum over the model rows it became)."""
    duals = np.zeros(n_specs)
    specs = model.row_spec >= 0
    np.add.at(duals, model.row_spec[specs], row_dual[specs])
    return duals


def constraint_prices(form: Formulation, duals: np.ndarray, evaluation: Evaluation,
                      objective: float) -> list[ShadowPrice]:
    """Shadow prices of the binding constraint rows."""
    goal = goal_units(form, evaluation)
    prices = []
    for spec, dual in zip(form.rows, duals, strict=True):
        if not _matters(abs(float(dual)) * evaluation.magnitude(spec.expr), objective):
            continue
        per_step = spec.step * (abs(evaluation.value(spec.step_expr)) if spec.step_expr is not None else 1.0)
        price = abs(float(dual)) * per_step * goal.factor
        prices.append(ShadowPrice(
            constraint=spec.name, kind=spec.family, kpi=spec.kpi, where=spec.where, bound=spec.bound,
            value=constraint_value(form, spec, evaluation), price=price, unit=f"{goal.unit} {spec.step_label}",
        ))
    return prices


def campaign_prices(form: Formulation, duals: np.ndarray, evaluation: Evaluation,
                    objective: float, every: bool = False) -> list[ShadowPrice]:
    """What moving each campaign past the bound it sits on would gain, per dollar (``every``: each campaign at a
    bound a strategist can move, its duals' price 0 or not, for measuring)."""
    sense = 1.0 if form.goal.sense == "maximize" else -1.0
    goal = goal_units(form, evaluation)
    prices = []
    for i, campaign in enumerate(form.campaigns):
        spend = evaluation.spend[i]
        if campaign.at_top(spend) and campaign.hi_reason in _LEVERS:
            gain = sense * _next_dollar(form, duals, i, spend, "right")
            if every or gain > 0 and np.isfinite(gain) and _matters(gain * max(spend, 1.0), objective):
                prices.append(_campaign_price(form, goal, campaign, "max", campaign.hi, spend,
                                              max(gain, 0.0) * goal.factor))
        if campaign.at_bottom(spend) and campaign.lo > 0:
            gain = -sense * _next_dollar(form, duals, i, spend, "left")
            if every or gain > 0 and np.isfinite(gain) and _matters(gain * max(spend, 1.0), objective):
                prices.append(_campaign_price(form, goal, campaign, "min", campaign.lo, spend,
                                              max(gain, 0.0) * goal.factor))
    return prices


def shown(price: ShadowPrice, objective: float, goal: GoalUnits) -> bool:
    """Whether a measured price is worth showing: steep, or one quoted step gains more than round-off."""
    return price.steep is not None or price.price is not None and _matters(price.price / goal.factor, objective)


def _matters(effect: float, objective: float) -> bool:
    """Whether relaxing a constraint by its own size would move the objective by more than round-off.

    ``effect`` is the dual times the size of what it prices (a row's terms at the plan, a
    campaign's spend); comparing it with the objective makes the test independent of units.
    """
    return effect > _RELATIVE_FLOOR * max(abs(objective), 1e-300)


def _next_dollar(form: Formulation, duals: np.ndarray, i: int, spend: float, side: str) -> float:
    """d(objective)/d(spend_i), with every row priced at its dual."""
    campaign = form.campaigns[i]

    def rate(expr: Expr) -> float:
        total = float(expr.spend[i])
        for outcome, weights in expr.outcomes.items():
            if weights[i]:
                total += float(weights[i] * campaign.marginal(outcome, spend, side))
        return total

    value = rate(form.goal.expr)
    for spec, dual in zip(form.rows, duals, strict=True):
        if dual:
            value -= float(dual) * rate(spec.expr)
    return value


def _campaign_price(form: Formulation, goal: GoalUnits, campaign, side: str, bound: float, spend: float,
                    gain: float) -> ShadowPrice:
    reason = campaign.hi_reason if side == "max" else campaign.lo_reason
    direction = "raising" if side == "max" else "lowering"
    return ShadowPrice(
        constraint=f"{campaign.name}: spend {side} ({reason})", kind="campaign", kpi="spend",
        where=campaign.name, bound=bound, value=float(spend), price=float(gain),
        unit=f"{goal.unit} per {money(1, form.currency, 0)} of {direction} its {side}",
    )
