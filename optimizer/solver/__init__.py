"""Solving: solver adapters, status, verification, shadow prices and the certified plan."""

from optimizer.solver.options import SolveOptions
from optimizer.solver.run import conflicts_before_solving, explain_infeasible, solve, solve_formulation
from optimizer.solver.status import SolverRun, Status

__all__ = ["SolveOptions", "SolverRun", "Status", "conflicts_before_solving", "explain_infeasible", "solve",
           "solve_formulation"]
