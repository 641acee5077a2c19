"""kpi-tradeoff: certified budget splits across marketing campaigns, and the price of share of voice.

    >>> from optimizer import load_scenario, solve
    >>> plan = solve(load_scenario("scenarios/b2b_saas.toml"))   # doctest: +SKIP
    >>> plan.status, plan.gap                                     # doctest: +SKIP

Every name is imported when first asked for: ``import optimizer`` loads none of numpy, pandas, the
solver, matplotlib or openpyxl, so the ``tradeoff`` command handles Ctrl-C from its first instruction
and a planning tool pays only for what it uses.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names below are, for type checkers and editors
    from optimizer.charts import (
        allocation_chart,
        cost_chart,
        frontier_chart,
        response_curves_chart,
        save_figure,
        sweep_chart,
    )
    from optimizer.errors import Problem, ScenarioError, SolverError
    from optimizer.export import write_workbook
    from optimizer.glossary import GLOSSARY, KPI
    from optimizer.model import Expr, Formulation, RowSpec
    from optimizer.pareto import Frontier, FrontierPoint, frontier, frontier_sweep
    from optimizer.pareto.recommend import Recommendation, recommend
    from optimizer.plan import Plan
    from optimizer.report import Brand, report_content, write_html, write_pdf
    from optimizer.scenario import Scenario, load_scenario, scenario_from_frames
    from optimizer.scenario.loading import scenario_from_document, scenario_from_json
    from optimizer.solver import SolveOptions, Status, explain_infeasible, solve

logging.getLogger(__name__).addHandler(logging.NullHandler())  # the application decides where records go

_HOMES = {
    **dict.fromkeys(("allocation_chart", "cost_chart", "frontier_chart", "response_curves_chart", "save_figure",
                     "sweep_chart"), "optimizer.charts"),
    **dict.fromkeys(("Problem", "ScenarioError", "SolverError"), "optimizer.errors"),
    "write_workbook": "optimizer.export",
    **dict.fromkeys(("GLOSSARY", "KPI"), "optimizer.glossary"),
    **dict.fromkeys(("Expr", "Formulation", "RowSpec"), "optimizer.model"),
    **dict.fromkeys(("Frontier", "FrontierPoint", "frontier", "frontier_sweep"), "optimizer.pareto"),
    **dict.fromkeys(("Recommendation", "recommend"), "optimizer.pareto.recommend"),
    "Plan": "optimizer.plan",
    **dict.fromkeys(("Brand", "report_content", "write_html", "write_pdf"), "optimizer.report"),
    **dict.fromkeys(("Scenario", "load_scenario", "scenario_from_frames"), "optimizer.scenario"),
    **dict.fromkeys(("scenario_from_document", "scenario_from_json"), "optimizer.scenario.loading"),
    **dict.fromkeys(("SolveOptions", "Status", "explain_infeasible", "solve"), "optimizer.solver"),
}
"""Where each public name lives; it is imported from there when first asked for."""


def __getattr__(name: str) -> Any:
    """A public name, imported from its module when first asked for (and kept: the next lookup is direct)."""
    if name not in _HOMES:
        raise AttributeError(f"module 'optimizer' has no attribute '{name}'")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


__all__ = [
    "Brand",
    "Expr",
    "Formulation",
    "Frontier",
    "FrontierPoint",
    "GLOSSARY",
    "KPI",
    "Plan",
    "Problem",
    "Recommendation",
    "RowSpec",
    "Scenario",
    "ScenarioError",
    "SolveOptions",
    "SolverError",
    "Status",
    "allocation_chart",
    "cost_chart",
    "explain_infeasible",
    "frontier",
    "frontier_chart",
    "frontier_sweep",
    "load_scenario",
    "recommend",
    "report_content",
    "response_curves_chart",
    "save_figure",
    "scenario_from_document",
    "scenario_from_frames",
    "scenario_from_json",
    "solve",
    "sweep_chart",
    "write_html",
    "write_pdf",
    "write_workbook",
]

__version__ = "0.1.0"
