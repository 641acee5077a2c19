"""Scenarios: the schema, loading from TOML/JSON/CSV, variants and overrides, validation."""

from optimizer.scenario.checks import check_scenario, selects
from optimizer.scenario.frames import scenario_from_frames
from optimizer.scenario.loading import load_scenario
from optimizer.scenario.schema import (
    STAGES,
    BudgetSpec,
    Campaign,
    ConstraintSpec,
    ObjectiveSpec,
    Pool,
    RateSpec,
    Scenario,
    SolverSpec,
    SpendSpec,
    Where,
)

__all__ = [
    "STAGES",
    "BudgetSpec",
    "Campaign",
    "ConstraintSpec",
    "ObjectiveSpec",
    "Pool",
    "RateSpec",
    "Scenario",
    "SolverSpec",
    "SpendSpec",
    "Where",
    "check_scenario",
    "load_scenario",
    "scenario_from_frames",
    "selects",
]
