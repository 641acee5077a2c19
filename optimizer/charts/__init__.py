"""Charts for client meetings: functions that take a result and return a matplotlib Figure."""

from optimizer.charts.allocation import allocation_chart
from optimizer.charts.curves import response_curves_chart
from optimizer.charts.frontier import cost_chart, frontier_chart, sweep_chart
from optimizer.charts.style import save_figure

CHARTS = {
    "frontier": frontier_chart,
    "costs": cost_chart,
    "allocation": allocation_chart,
    "curves": response_curves_chart,
}
"""The charts of one frontier, by the name ``tradeoff chart --kind`` and ``--charts DIR`` use."""

__all__ = [
    "CHARTS",
    "allocation_chart",
    "cost_chart",
    "frontier_chart",
    "response_curves_chart",
    "save_figure",
    "sweep_chart",
]
