"""Plan quality against an independent high-resolution optimum on random scenarios.

The scenarios mix every curve family with a budget, spend bounds, a stage share floor, a
CPL cap and an SOV floor (see ``highres.py``). With S-shaped campaigns the reference is a
MILP, whose cost grows fast with its grid, so those cases stay small.
"""

import numpy as np
import pytest
from highres import random_plan, reference_optimum

from optimizer import Scenario, Status, solve


def check_against_reference(n: int, seed: int, s_share: float, segments: int, s_segments: int = 40) -> None:
    spec = random_plan(n, seed, s_share=s_share)
    plan = solve(Scenario.model_validate(spec.scenario()))
    assert plan.status is Status.OPTIMAL, plan.message
    spend = np.array([row.spend for row in plan.allocation])
    assert spec.violations(spend) == []
    assert all(check.ok for check in plan.checks)
    ours = spec.leads(spend)
    assert ours == pytest.approx(plan.objective_value, rel=1e-9)
    reference, _ = reference_optimum(spec, segments=segments, s_segments=s_segments)
    assert ours >= reference * (1 - 1e-3), "more than 0.1% short of the high-resolution optimum"
    assert reference <= plan.bound * (1 + 1e-4), "the certified bound is not an upper bound"
    assert plan.gap is not None and plan.gap <= 1e-3


def test_mixed_plan_with_s_curves_reaches_the_high_resolution_optimum() -> None:
    check_against_reference(40, seed=1, s_share=0.1, segments=100)


def test_concave_plan_of_hundreds_reaches_the_high_resolution_optimum() -> None:
    check_against_reference(300, seed=2, s_share=0.0, segments=400)


@pytest.mark.slow
@pytest.mark.parametrize(("n", "seed"), [(1000, 3), (2500, 4)])
def test_thousands_of_campaigns_reach_the_high_resolution_optimum(n: int, seed: int) -> None:
    check_against_reference(n, seed, s_share=0.0, segments=200)


def test_hundreds_of_campaigns_with_s_curves_reach_the_high_resolution_optimum() -> None:
    # 0.3 s since the reference MILP skips HiGHS's presolve (77 s with it): no longer a slow check.
    check_against_reference(150, seed=5, s_share=0.05, segments=100)
