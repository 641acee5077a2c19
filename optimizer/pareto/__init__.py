"""The Pareto frontier of the primary KPI against share of voice (or another volume), and its price."""

from optimizer.pareto.api import frontier, frontier_sweep
from optimizer.pareto.result import CampaignCurve, CurrentPosition, Frontier, FrontierPoint

__all__ = ["CampaignCurve", "CurrentPosition", "Frontier", "FrontierPoint", "frontier", "frontier_sweep"]
