"""kpi-tradeoff: certified budget splits across marketing campaigns, and the price of share of voice.

    >>> from optimizer import load_scenario, solve
    >>> plan = solve(load_scenario("scenarios/b2b_saas.toml"))   # doctest: +SKIP
    >>> plan.status, plan.gap                                     # doctest: +SKIP
"""

from optimizer.errors import Problem, ScenarioError, SolverError
from optimizer.glossary import GLOSSARY, KPI
from optimizer.model import Expr, Formulation, RowSpec
from optimizer.plan import Plan
from optimizer.scenario import Scenario, load_scenario, scenario_from_frames
from optimizer.solver import SolveOptions, Status, solve

__all__ = [
    "GLOSSARY",
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
