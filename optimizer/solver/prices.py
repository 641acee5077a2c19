"""A solve's shadow prices: the one place they are computed.

Each binding constraint's price starts from the plan's duals (``shadow``) and is then measured
as the one-sided rate of the plan program's optimum as that one bound is relaxed
(``sensitivity.one_sided``): the program on the plan's own breakpoints (a MILP's with its S-curve
campaigns held on or off as they are), solved again with the row rebuilt at the relaxed bound, or
a campaign's spend column and its end segment widened. So a dual the solver picked at a degenerate
vertex never reaches the page, and a rate too steep to quote becomes a finite step.

Campaign bounds keep the price the duals give (their marginal net of the rows' duals) where every
row's dual proved to be its rate; where one did not, the vertex is degenerate and each campaign
bound is measured too. From ``REDUCED_FROM`` campaigns on, where a re-solve takes seconds (a
fifth of a 10,000-campaign plan's time each), a row is measured only when its dual prices one step
above the whole plan (the mark of a floor at the most it reaches), and campaign bounds keep their
duals' prices.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from optimizer.model.compile import CompiledModel, compile_model
from optimizer.model.evaluate import Evaluation
from optimizer.model.formulation import Formulation
from optimizer.model.rows import with_user_bound
from optimizer.plan import FiniteStep, ShadowPrice
from optimizer.solver.options import SolveOptions
from optimizer.solver.programs import REDUCED_FROM, Attempt, solve_model, solve_program
from optimizer.solver.sensitivity import NOISE, Rate, ValueAt, agree, one_sided
from optimizer.solver.shadow import (
    GoalUnits,
    campaign_prices,
    constraint_prices,
    goal_units,
    quoted_step,
    shown,
    spec_duals,
)
from optimizer.status import Status

_FIRST_STEP = 1e-3
"""The first re-solve moves a bound by this much of its own size (or of its quoted step, if larger)."""
_EVERY_CAMPAIGN_FROM = 60
"""Below this many campaigns, every campaign at a bound is measured: a vertex can be degenerate in ways the
rows' rates either side do not show (a campaign's price zero by its duals and a cent a dollar by a re-solve)."""
_TIGHT = 1e-7
"""A row this close (relative) to its bound is met exactly."""
_BOTH_WAYS = 2e-2
"""A rate this close (relative) either side of a bound is one rate: a dual confirmed ahead may sit 1% above it."""


def shadow_prices(form: Formulation, options: SolveOptions, plan: Attempt, evaluation: Evaluation,
                  objective: float) -> tuple[ShadowPrice, ...]:
    """Every binding constraint's price, measured; campaign bounds after the rows, dearest first."""
    duals = plan.run.row_dual
    if duals is None or plan.run.x is None or plan.run.objective is None:
        return ()
    per_spec = spec_duals(plan.model, duals, len(form.rows))
    program = _PlanProgram(form, options, plan)
    goal = goal_units(form, evaluation)
    quoted = constraint_prices(form, per_spec, evaluation, objective)
    if not options.allows_more():  # the time limit is spent: the duals' prices, unmeasured (the plan says so)
        return _ordered(quoted + campaign_prices(form, per_spec, evaluation, objective))
    large = len(form.campaigns) >= REDUCED_FROM
    measured = [program.row_price(price, goal) if not large or _suspect(price, objective, goal) else (price, True)
                for price in quoted]
    rows = [price for price, _ in measured]
    priced = {price.constraint for price in quoted}
    if len(form.campaigns) < _EVERY_CAMPAIGN_FROM or not large and (
            not all(both_ways for _, both_ways in measured)
            or any(program.costs_to_tighten(k) for k in _tight_rows(form, evaluation, priced))):
        # A row's rate differs either side of its bound: the plan sits on a degenerate vertex, where the duals are
        # one choice among many, and so are the campaigns' prices (each its marginal net of the rows' duals).
        every = campaign_prices(form, per_spec, evaluation, objective, every=True)
        campaigns = [program.campaign_price(price, goal) for price in every]
    else:
        campaigns = campaign_prices(form, per_spec, evaluation, objective)
    return _ordered([price for price in rows + campaigns if shown(price, objective, goal)])


def _ordered(prices: list[ShadowPrice]) -> tuple[ShadowPrice, ...]:
    """The rows' prices, then the campaigns' bounds, dearest first."""
    return tuple(sorted(prices, key=lambda p: (p.kind == "campaign", -p.worth)))


def _tight_rows(form: Formulation, evaluation: Evaluation, priced: set[str]) -> list[int]:
    """The rows the plan meets exactly that have no price (a zero dual), by index."""
    tight = []
    for k, spec in enumerate(form.rows):
        if spec.name in priced or spec.sense == "==":
            continue
        slack = _TIGHT * max(1.0, abs(spec.rhs), evaluation.magnitude(spec.expr))
        if abs(evaluation.value(spec.expr) - spec.rhs) <= slack:
            tight.append(k)
    return tight


def _suspect(price: ShadowPrice, objective: float, goal: GoalUnits) -> bool:
    """Whether a dual prices one quoted step of its constraint above the whole plan: the mark of a degenerate
    vertex on a large plan (a floor at the most it reaches), where each re-solve costs seconds."""
    return price.price is not None and price.price > abs(objective) * goal.factor


class _PlanProgram:
    """The plan's program, re-solved with one bound relaxed at a time."""

    def __init__(self, form: Formulation, options: SolveOptions, plan: Attempt):
        self.form, self.options, self.plan = form, replace(options, deadline=None), plan
        self.model = plan.model.with_binaries_fixed(plan.run.x) if plan.model.is_mip else plan.model
        self.base = float(plan.run.objective)
        self.sense = 1.0 if form.goal.sense == "maximize" else -1.0

    def row_price(self, price: ShadowPrice, goal: GoalUnits) -> tuple[ShadowPrice, bool]:
        """``price`` (from a row's dual) as the rate a re-solve with that row relaxed measures, and whether the
        rate is the same with the row tightened (where it is for every row, the duals are the only ones)."""
        index = next(k for k, spec in enumerate(self.form.rows) if spec.name == price.constraint)
        value_at, first, quoted = self._row_moves(index)
        measured = self._measured(price, value_at, first, quoted, goal)
        return measured, self._same_behind(measured, value_at(-first), first, quoted, goal)

    def costs_to_tighten(self, index: int) -> bool:
        """Whether tightening row ``index`` (met exactly, with a zero dual) costs anything: its rate then differs
        either side of its bound, a degenerate vertex."""
        value_at, first, _ = self._row_moves(index)
        behind = value_at(-first)
        return behind is None or self.sense * (self.base - behind) > NOISE * max(abs(self.base), 1.0)

    def _row_moves(self, index: int) -> tuple[ValueAt, float, float]:
        """The optimum with row ``index``'s bound relaxed by a step (tightened, for a negative step), the first
        step to measure it with, and the step its price is quoted per (both in the user's units)."""
        spec = self.form.rows[index]
        user = spec.bound - spec.offset if spec.family == "sov" else spec.bound
        ahead = -1.0 if spec.sense == ">=" else 1.0
        quoted = quoted_step(spec)

        def value_at(step: float) -> float | None:
            moved = with_user_bound(self.form, spec, user + ahead * step)
            form = replace(self.form, rows=self.form.rows[:index] + (moved,) + self.form.rows[index + 1:])
            return self._solved(compile_model(form, "plan", self.plan.grids), form)

        return value_at, max(_FIRST_STEP * abs(user), _FIRST_STEP * quoted), quoted

    def _same_behind(self, price: ShadowPrice, behind: float | None, step: float, quoted: float,
                     goal: GoalUnits) -> bool:
        """Whether tightening the bound by ``step`` (the optimum then ``behind``) costs the rate relaxing it gains."""
        if price.price is None or behind is None:
            return False
        rate = price.price / quoted / goal.factor
        cost = self.sense * (self.base - behind) / step
        return agree(cost, rate, NOISE * max(abs(self.base), 1e-300) / step, _BOTH_WAYS)

    def campaign_price(self, price: ShadowPrice, goal: GoalUnits) -> ShadowPrice:
        """A campaign bound's price as the rate a re-solve with its spend range widened by a step measures.

        The program is rebuilt with the campaign's end breakpoint moved a step out (a locked campaign, which
        has none, given a segment a step long), so its end segment reaches the curve's own value there,
        and its S-curve campaigns held on or off as in the plan.
        """
        i = next(k for k, c in enumerate(self.form.campaigns) if c.name == price.where)
        campaign = self.form.campaigns[i]
        raise_max = price.constraint == f"{campaign.name}: spend max ({campaign.hi_reason})"
        grid = self.plan.grids[i]

        def value_at(step: float) -> float | None:
            if step == 0:
                return self.base
            lo, hi = (campaign.lo, campaign.hi + step) if raise_max else (campaign.lo - step, campaign.hi)
            moved = np.array([lo, hi]) if grid.size < 2 else np.concatenate(([lo], grid[1:-1], [hi]))
            form = replace(self.form, campaigns=tuple(replace(c, lo=lo, hi=hi) if k == i else c
                                                      for k, c in enumerate(self.form.campaigns)))
            grids = self.plan.grids[:i] + (moved,) + self.plan.grids[i + 1:]
            model = self._with_pattern(compile_model(form, "plan", grids))
            return self._solved(model, form) if model is not None else None

        return self._measured(price, value_at, _FIRST_STEP * max(abs(price.bound), 1.0), 1.0, goal)

    def _with_pattern(self, model: CompiledModel) -> CompiledModel | None:
        """``model`` (the plan's, rebuilt) with its S-curve campaigns on or off as in the plan (None: they differ)."""
        if not model.is_mip:
            return model
        if int(model.integer.sum()) != int(self.plan.model.integer.sum()):
            return None
        pattern = np.zeros(model.shape[1])
        pattern[model.integer] = self.plan.run.x[self.plan.model.integer]
        return model.with_binaries_fixed(pattern)

    def _measured(self, price: ShadowPrice, value_at: ValueAt, first: float, quoted: float,
                  goal: GoalUnits, base: float | None = None) -> ShadowPrice:
        base = self.base if base is None else base
        dual = price.price / quoted / goal.factor if price.price is not None else None
        signed_dual = self.sense * dual if dual is not None else None
        rate = one_sided(lambda step: _gain(value_at(step), self.sense), self.sense * base, first, quoted, signed_dual,
                         abs(base))
        return _priced(price, rate, quoted, goal, self.sense)

    def _solved(self, model: CompiledModel, form: Formulation) -> float | None:
        if model.n_campaigns < REDUCED_FROM:
            run = solve_program(model, self.options, form)
        else:  # over the segments in doubt, priced by the plan's duals (the rows are the plan's own)
            duals = self.plan.run.row_dual
            run = solve_model(model, self.options, form, duals if duals is not None and duals.size == model.shape[0]
                              else None)
        return run.objective if run.status is Status.OPTIMAL and run.objective is not None else None


def _gain(value: float | None, sense: float) -> float | None:
    return sense * value if value is not None else None


def _priced(price: ShadowPrice, rate: Rate, quoted: float, goal: GoalUnits, sense: float) -> ShadowPrice:
    """``price`` with the measured rate (per quoted step, in the goal's quoted units), or its finite step."""
    if rate.confirmed:
        return price
    if rate.rate is not None:
        return replace(price, price=max(rate.rate, 0.0) * quoted * goal.factor, steep=None)
    if rate.step is None or rate.change is None:
        return price  # no re-solve ahead had a plan (a relaxation keeps the plan itself): the solver failed
    return replace(price, price=None, steep=FiniteStep(rate.step / quoted, max(rate.change, 0.0) * goal.factor))
