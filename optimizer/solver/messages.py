"""What a plan says to the strategist: its one-line message and its notes."""

from __future__ import annotations

from optimizer.formatting import counted, kpi_value, percent, within
from optimizer.model.evaluate import Evaluation
from optimizer.model.formulation import Formulation
from optimizer.model.observed import extrapolations
from optimizer.plan import Check
from optimizer.solver.options import SolveOptions
from optimizer.solver.verify import row_checks
from optimizer.status import Status


def no_plan_message(status: Status, proven: bool, options: SolveOptions) -> str:
    """Why there is no plan."""
    if status is Status.INFEASIBLE and not proven:
        edge = percent(options.tolerance, 2)
        return ("No plan was found that meets every constraint on the exact curves, and none could be ruled out: "
                f"a floor or cap sits at the very edge of what is reachable (within about {edge} of it), closer "
                "than the solver could decide. Loosen it slightly, or lower --tolerance.")
    return {
        Status.INFEASIBLE: "No plan satisfies every constraint at once; relax a floor, a cap or the budget.",
        Status.UNBOUNDED: "The objective has no limit: give every campaign a spend max or set a budget total.",
        Status.TIME_LIMIT: "The solver stopped at the time limit before finding a plan; allow more time.",
        Status.INTERRUPTED: "The solve was interrupted before a plan was found.",
    }.get(status, "The solver failed to return a plan.")


def plan_message(form: Formulation, status: Status, value: float, gap: float | None, failed: list[Check]) -> str:
    """The plan's headline: its objective and certificate, or why it cannot be trusted."""
    shown = f"{kpi_value(form.goal.kpi, value, form.currency)} {form.goal.kpi}"
    if status is Status.OPTIMAL:
        return f"Optimal plan: {shown}, {within(gap)}."
    if status is Status.NUMERICAL and failed:
        names = "; ".join(f"{c.constraint} (got {c.value:,.4g})" for c in failed[:5])
        return f"The solver's plan failed the re-check on the exact curves: {names}."
    if status is Status.NUMERICAL:
        return (f"The solver's bound contradicts its own plan ({shown}); its numbers cannot be trusted: "
                "try --solver cbc or another --tolerance.")
    if status is Status.TIME_LIMIT:
        return f"Stopped at the time limit: the best plan found gives {shown}, {within(gap)}."
    return f"Stopped early ({status.value}); best plan found: {shown}, {within(gap)}."


def plan_notes(form: Formulation, current: Evaluation, plan: Evaluation, options: SolveOptions,
               milp: tuple[str, ...]) -> tuple[str, ...]:
    """What the strategist should know beyond the numbers."""
    notes = [
        f"the current split breaks {spec.name} (it has {kpi_value(spec.kpi, check.value, form.currency)})"
        for spec, check in zip(form.rows, row_checks(form, current, options.feasibility), strict=True)
        if not check.ok
    ]
    if milp:
        verb = "was" if len(milp) == 1 else "were"
        notes.append(f"{counted(len(milp), 'campaign')} with S-shaped or non-concave curves {verb} solved exactly "
                     "as a MILP: " + ", ".join(milp[:5]) + ("..." if len(milp) > 5 else ""))
    if form.goal.sense == "maximize" and plan.totals["spend"] <= 0:
        notes.append(_spends_nothing(form))
    notes += [found.message(form.currency) for found in extrapolations(form, plan.spend)]
    for name, pool in form.pools.items():
        if not pool.against_competitors and plan.pooled[name] > pool.reference:
            notes.append(f"pool {name}: the plan's {pool.volume} ({plan.pooled[name]:,.0f}) exceed the pool's fixed "
                         f"total ({pool.reference:,.0f}), so its SOV is above 100%; check the total or the curves")
    return tuple(notes)


def _spends_nothing(form: Formulation) -> str:
    """Why a plan that maximises something buys nothing: the ratio bounds (a CPL cap, a ROAS floor),
    which hold at zero spend whatever their level; else no campaign adds to the goal within its limits."""
    ratios = [row.name for row in form.rows if row.family == "ratio"]
    if ratios:
        return (f"the plan spends nothing: no mix of campaigns meets {', '.join(ratios[:3])} (a CPL or CPC cap "
                "below every campaign's cost, say); loosen it to buy anything")
    return f"the plan spends nothing: no campaign adds to {form.goal.kpi} within its limits"
