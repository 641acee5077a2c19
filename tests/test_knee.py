"""The knee: a property of the frontier, not of how many points trace it.

The knee is the point of the frontier farthest above the chord between its ends, on axes
normalised to the frontier's ranges (``optimizer.pareto.knee``). Each check here re-runs the
tool (a frontier at each point count, a fresh solve at the knee's level, a frontier whose knee
is known in closed form), never numbers copied from its own output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer import Scenario, frontier, load_scenario, solve
from optimizer.pareto.knee import Probe, find_knee
from optimizer.pareto.recommend import at_level, recommend, without_floors

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
POINT_COUNTS = (7, 11, 21, 31, 51)
# The small example runs in the default suite; each of the others takes 10-40 s over five point counts.
EXAMPLES = [
    "b2b_saas.toml",
    pytest.param("history_example.toml", marks=pytest.mark.slow),
    pytest.param("local_services.toml", marks=pytest.mark.slow),
    pytest.param("large_portfolio.toml", marks=pytest.mark.slow),
]


def allowed_move(traced) -> float:
    """Half a point of a share, or 0.5% of the frontier's range of a volume."""
    if traced.is_share:
        return 0.005
    return 0.005 * (traced.points[-1].traded - traced.points[0].traded)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_knee_moves_less_than_half_a_point_across_point_counts(name):
    scenario = load_scenario(SCENARIOS / name)
    if scenario.objective.secondary is None:
        pytest.skip("no traded KPI")
    knees, allowed = {}, None
    for count in POINT_COUNTS:
        traced = frontier(scenario, points=count)
        assert traced.knee is not None, f"no knee at --points {count}"
        knees[count] = traced.points[traced.knee].traded
        allowed = allowed_move(traced) if allowed is None else min(allowed, allowed_move(traced))
    assert max(knees.values()) - min(knees.values()) < allowed, knees


def test_the_knee_is_a_point_of_the_frontier():
    """Its primary KPI is a fresh solve's at its traded level, to within the two certificates' gaps."""
    scenario = load_scenario(SCENARIOS / "b2b_saas.toml")
    traced = frontier(scenario, points=9)
    knee = traced.points[traced.knee]
    plan = solve(at_level(without_floors(scenario, traced.secondary), traced.secondary, knee.traded))
    assert plan.success, plan.message
    slack = ((plan.gap or 0.0) + (knee.gap or 0.0) + 1e-6) * abs(plan.objective_value)
    assert knee.primary == pytest.approx(plan.objective_value, abs=slack)
    assert knee.kind == "knee"


def three_campaigns() -> Scenario:
    """A budget of $100k over three linear campaigns, with impressions traded against leads.

    Moving spend from A to M trades 0.1 lead per impression, from A to C 0.8/3 of one; M stops at
    $50k and C at $50k. So the frontier runs (100k impressions, 100 leads) -> (200k, 90) -> (350k,
    50): one breakpoint, at 200k impressions and 90 leads. On axes scaled to the ranges (250k, 50),
    the chord from end to end is x + y = 1, and the breakpoint sits at x + y = 0.4 + 0.8: the knee.
    """
    def campaign(name, per_impression_cost, per_lead_cost, top, current):
        return {"name": name, "channel": "display", "stage": "conversion",
                "spend": {"current": current, "max": top},
                "impressions": {"curve": "linear", "unit_cost": per_impression_cost},
                "leads": {"curve": "linear", "unit_cost": per_lead_cost}}

    document = {
        "name": "three linear campaigns", "currency": "USD",
        "objective": {"maximize": "leads", "secondary": "impressions"},
        "budget": {"total": 100_000},
        "campaigns": [campaign("A", 1.0, 1_000.0, 100_000, 60_000), campaign("M", 1 / 3, 1_250.0, 50_000, 20_000),
                      campaign("C", 0.25, 5_000.0, 50_000, 20_000)],
    }
    return Scenario.model_validate(document)


@pytest.mark.parametrize("count", [5, 8, 21])
def test_a_frontier_with_one_breakpoint_has_its_knee_exactly_there(count):
    traced = frontier(three_campaigns(), points=count)
    knee = traced.points[traced.knee]
    assert knee.traded == pytest.approx(200_000, rel=1e-6)
    assert knee.primary == pytest.approx(90, rel=1e-6)


def test_a_piecewise_linear_curve_given_as_a_function_has_its_knee_found_by_few_probes():
    """``find_knee`` on a concave polyline of 40 pieces, two probes to start: the vertex where the
    normalised slope crosses 1, to round-off, in fewer probes than pieces."""
    xs = [float(k) for k in range(41)]
    slopes = [-0.05 * k for k in range(40)]  # steeper at each vertex; range 40 by 39 * 40 * 0.025 = 39
    ys = [0.0]
    for slope in slopes:
        ys.append(ys[-1] + slope)
    span_x, span_y = xs[-1] - xs[0], ys[0] - ys[-1]
    expected = next(k for k in range(1, 40) if slopes[k] * span_x / span_y < -1 <= slopes[k - 1] * span_x / span_y)
    calls = []

    def probe(volume: float) -> Probe:
        calls.append(volume)
        piece = min(int(volume), 39)
        value = ys[piece] + slopes[piece] * (volume - piece)
        return Probe(volume, volume, value, slopes[piece])

    ends = [Probe(0.0, 0.0, ys[0], slopes[0]), Probe(40.0, 40.0, ys[-1], slopes[-1])]
    knee = find_knee(ends, probe, lambda volume: volume)
    assert knee is not None and knee.volume == pytest.approx(expected, abs=1e-9)
    assert len(calls) < 12


def test_a_knee_that_todays_split_beats_is_not_recommended():
    """Today's split beats every plan the frontier can make near its knee (a $30k floor on a campaign
    that brings nothing takes that much from the others; today it gets nothing): the recommended
    point is the nearest one today's split does not beat, and the frontier says so."""
    waste = {"name": "W", "channel": "display", "stage": "awareness", "spend": {"current": 0, "min": 30_000},
             "impressions": {"curve": "linear", "unit_cost": 1e9}}
    base = three_campaigns()
    document = base.model_dump(mode="json", exclude_none=True)
    document["budget"] = {"total": 130_000}
    document["campaigns"] = [*document["campaigns"], waste]
    for campaign, current in zip(document["campaigns"], (50_000, 50_000, 30_000, 0), strict=True):
        campaign["spend"]["current"] = current
    scenario = Scenario.model_validate(document)
    traced = frontier(scenario, points=11)
    today = traced.current
    today_spend = sum(curve.current_spend for curve in traced.campaigns)
    knee = traced.points[traced.knee]
    assert today.primary >= knee.primary and today.traded >= knee.traded, "the test's premise: today beats the knee"
    chosen = traced.points[traced.recommended]
    assert not (today.primary >= chosen.primary and today.traded >= chosen.traded and today_spend <= chosen.spend)
    assert any("today's split" in warning for warning in traced.warnings), traced.warnings
    found = recommend(scenario, points=11)
    assert found.frontier.recommended == traced.recommended
    assert "today's split" in found.basis
