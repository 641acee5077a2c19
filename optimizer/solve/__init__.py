"""Solving: solver adapters, status, verification, shadow prices and the certified plan."""

from optimizer.solve.options import SolveOptions
from optimizer.solve.run import solve, solve_formulation
from optimizer.solve.status import SolverRun, Status

__all__ = ["SolveOptions", "SolverRun", "Status", "solve", "solve_formulation"]
