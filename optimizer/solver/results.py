"""Assemble a ``Plan`` from an evaluated spend split (the plan's and the current one)."""

from __future__ import annotations

import math

from optimizer.glossary import GLOSSARY
from optimizer.model.evaluate import Evaluation
from optimizer.model.formulation import Formulation
from optimizer.plan import CampaignResult
from optimizer.solver.verify import row_checks


def allocation(form: Formulation, plan: Evaluation, current: Evaluation,
               milp: tuple[int, ...]) -> tuple[CampaignResult, ...]:
    """One ``CampaignResult`` per campaign."""
    rows = []
    for i, campaign in enumerate(form.campaigns):
        spend = float(plan.spend[i])
        outcome = {name: float(values[i]) for name, values in plan.outcomes.items()}
        marginal_leads = float(plan.marginals["leads"][i])
        rows.append(CampaignResult(
            campaign=campaign.name,
            stage=campaign.stage,
            channel=campaign.channel,
            current_spend=float(current.spend[i]),
            spend=spend,
            change=spend - float(current.spend[i]),
            change_pct=(spend / current.spend[i] - 1) if current.spend[i] > 0 else math.nan,
            **outcome,
            cpc=GLOSSARY["cpc"].ratio(spend, outcome["clicks"]),
            cpl=GLOSSARY["cpl"].ratio(spend, outcome["leads"]),
            marginal_cpl=1 / marginal_leads if 0 < marginal_leads < math.inf else math.nan,
            at_bound=_at_bound(campaign, spend),
            exact_milp=i in milp,
        ))
    return tuple(rows)


def _at_bound(campaign, spend: float) -> str | None:
    if campaign.at_top(spend):
        return campaign.hi_reason or "max"
    if campaign.at_bottom(spend):
        return campaign.lo_reason
    return None


def current_breaks(form: Formulation, current: Evaluation, feasibility: float) -> tuple[str, ...]:
    """The constraints today's split breaks, by name."""
    return tuple(check.constraint for check in row_checks(form, current, feasibility) if not check.ok)


def excess_sov(form: Formulation, evaluation: Evaluation) -> dict[str, float]:
    """ESOV (SOV minus share of market) for pools with a share of market."""
    return {name: evaluation.sov[name] - pool.som for name, pool in form.pools.items() if pool.som is not None}
