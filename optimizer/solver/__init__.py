"""Solving: solver adapters, status, verification, shadow prices and the certified plan."""

from optimizer.solver.options import SolveOptions
from optimizer.solver.run import explain_infeasible, solve, solve_formulation
from optimizer.solver.status import SolverRun, Status

__all__ = ["SolveOptions", "SolverRun", "Status", "explain_infeasible", "solve", "solve_formulation"]
