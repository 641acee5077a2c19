"""kpi-tradeoff: certified budget splits across marketing campaigns, and the price of share of voice.

    >>> from optimizer import load_scenario, solve
    >>> plan = solve(load_scenario("scenarios/b2b_saas.toml"))   # doctest: +SKIP
    >>> plan.status, plan.gap                                     # doctest: +SKIP
"""

from optimizer.charts import (
    allocation_chart,
    cost_chart,
    frontier_chart,
    response_curves_chart,
    save_figure,
    sweep_chart,
)
from optimizer.errors import Problem, ScenarioError, SolverError
from optimizer.glossary import GLOSSARY, KPI
from optimizer.model import Expr, Formulation, RowSpec
from optimizer.pareto import Frontier, FrontierPoint, frontier, frontier_sweep
from optimizer.plan import Plan
from optimizer.scenario import Scenario, load_scenario, scenario_from_frames
from optimizer.solver import SolveOptions, Status, explain_infeasible, solve

__all__ = [
    "GLOSSARY",
    "Frontier",
    "FrontierPoint",
    "allocation_chart",
    "cost_chart",
    "explain_infeasible",
    "frontier",
    "frontier_chart",
    "frontier_sweep",
    "response_curves_chart",
    "save_figure",
    "sweep_chart",
    "KPI",
    "Expr",
    "Formulation",
    "Plan",
    "Problem",
    "RowSpec",
    "Scenario",
    "ScenarioError",
    "SolveOptions",
    "SolverError",
    "Status",
    "load_scenario",
    "scenario_from_frames",
    "solve",
]

__version__ = "0.1.0"
