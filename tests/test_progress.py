"""Progress: a solve reports its stages in order, and a terminal shows them on one line."""

from __future__ import annotations

import io
from pathlib import Path

from optimizer import load_scenario, solve
from optimizer.cli_support import stage_line
from optimizer.solver.run import STAGES

ROOT = Path(__file__).resolve().parent.parent


def _in_order(stages: list[str]) -> bool:
    positions = [STAGES.index(stage) for stage in stages]
    return positions == sorted(positions)


def test_a_solve_reports_each_stage_once_in_order_and_the_plan_is_unchanged():
    scenario = load_scenario(ROOT / "scenarios" / "b2b_saas.toml")
    stages: list[str] = []
    plan = solve(scenario, progress=stages.append)
    assert stages == ["formulating", "solving", "refining", "certifying", "checking"]
    assert plan.objective_value == solve(scenario).objective_value


def test_a_floor_out_of_reach_reports_checking_its_reach_and_explaining():
    scenario = load_scenario(ROOT / "scenarios" / "b2b_saas.toml")
    floors = tuple(c.model_copy(update={"min": 0.9}) if c.name == "Search SOV floor" else c
                   for c in scenario.constraints)  # 90% search SOV: past reach, but no single bound says so
    stages: list[str] = []
    plan = solve(scenario.replace(constraints=floors), progress=stages.append)
    assert plan.status.value == "infeasible"
    assert stages == ["formulating", "solving", "checking reach", "explaining"]
    assert _in_order(stages)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_each_stage_on_one_line_cleared_at_the_end():
    terminal = _Terminal()
    with stage_line("Solving 3 campaigns", terminal) as report:
        assert report is not None
        report("solving")
        report("certifying")
    text = terminal.getvalue()
    assert "\n" not in text
    shown = [part for part in text.split("\r") if part.strip()]
    assert [part.split(":")[1].split("...")[0].strip() for part in shown] == ["solving", "certifying"]
    assert text.endswith("\r") and not text.split("\r")[-2].strip()  # the line is blanked


def test_a_pipe_sees_nothing():
    pipe = io.StringIO()
    with stage_line("Solving", pipe) as report:
        assert report is None
    assert pipe.getvalue() == ""
