"""kpi-tradeoff: certified budget splits across marketing campaigns, and the price of share of voice.

    >>> from optimizer import load_scenario, solve
    >>> plan = solve(load_scenario("scenarios/b2b_saas.toml"))   # doctest: +SKIP
    >>> plan.status, plan.gap                                     # doctest: +SKIP
"""

import importlib
import logging
from typing import Any

from optimizer.errors import Problem, ScenarioError, SolverError
from optimizer.glossary import GLOSSARY, KPI
from optimizer.model import Expr, Formulation, RowSpec
from optimizer.pareto import Frontier, FrontierPoint, frontier, frontier_sweep
from optimizer.pareto.recommend import Recommendation, recommend
from optimizer.plan import Plan
from optimizer.scenario import Scenario, load_scenario, scenario_from_frames
from optimizer.scenario.loading import scenario_from_document, scenario_from_json
from optimizer.solver import SolveOptions, Status, explain_infeasible, solve

logging.getLogger(__name__).addHandler(logging.NullHandler())  # the application decides where records go

_LAZY = {
    **dict.fromkeys(("allocation_chart", "cost_chart", "frontier_chart", "response_curves_chart", "save_figure",
                     "sweep_chart"), "optimizer.charts"),
    **dict.fromkeys(("Brand", "report_content", "write_html", "write_pdf"), "optimizer.report"),
    "write_workbook": "optimizer.export",
}
"""Imported on first use, so that ``import optimizer`` imports neither matplotlib nor openpyxl."""


def __getattr__(name: str) -> Any:
    """The charts, the report and the workbook export, imported when first asked for."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'optimizer' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "GLOSSARY",
    "Brand",
    "Recommendation",
    "recommend",
    "report_content",
    "write_html",
    "write_pdf",
    "write_workbook",
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
    "scenario_from_document",
    "scenario_from_frames",
    "scenario_from_json",
    "solve",
]

__version__ = "0.1.0"
