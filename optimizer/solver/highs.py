"""The HiGHS adapter: the compiled arrays passed to highspy in one call."""

from __future__ import annotations

import time

import highspy
import numpy as np

from optimizer.model.compile import CompiledModel
from optimizer.solver.options import SolveOptions
from optimizer.solver.quiet import c_stdout_silenced
from optimizer.solver.status import SolverRun, Status

_STATUS = {
    highspy.HighsModelStatus.kOptimal: Status.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: Status.UNBOUNDED,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kTimeLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kIterationLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kSolutionLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kInterrupt: Status.INTERRUPTED,
    highspy.HighsModelStatus.kHighsInterrupt: Status.INTERRUPTED,
}


def highs_lp(model: CompiledModel) -> highspy.HighsLp:
    """The model as a ``HighsLp``."""
    lp = highspy.HighsLp()
    n_rows, n_cols = model.shape
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = model.cost
    lp.col_lower_, lp.col_upper_ = model.col_lower, model.col_upper
    lp.row_lower_, lp.row_upper_ = model.row_lower, model.row_upper
    lp.offset_ = model.offset
    lp.sense_ = highspy.ObjSense.kMaximize if model.sense == "maximize" else highspy.ObjSense.kMinimize
    matrix = model.matrix
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, n_rows
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    if model.is_mip:
        kinds = np.where(model.integer, highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous)
        lp.integrality_ = list(kinds)
    return lp


def new_highs() -> highspy.Highs:
    """An empty, silent HiGHS instance on one thread. Whatever the release prints as it is built (1.16
    prints a banner on descriptor 1) never reaches stdout, where a program may be reading our JSON."""
    with c_stdout_silenced():
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    return highs


def load_highs(model: CompiledModel, options: SolveOptions) -> highspy.Highs:
    """A HiGHS instance holding the model, ready to run (and to re-run after changes)."""
    highs = new_highs()
    limit = options.run_limit()
    if limit is not None:
        highs.setOptionValue("time_limit", float(limit))
    if model.is_mip:
        highs.setOptionValue("mip_rel_gap", float(options.mip_gap))
    highs.passModel(highs_lp(model))
    return highs


def solve_highs(model: CompiledModel, options: SolveOptions) -> SolverRun:
    """Solve with HiGHS; values are read only when a solution exists."""
    return run_highs(load_highs(model, options), model.is_mip)


def run_highs(highs: highspy.Highs, is_mip: bool) -> SolverRun:
    """Run a loaded HiGHS instance (from its last basis, if any) and read what it found."""
    started = time.perf_counter()
    highs.run()
    model_status = highs.getModelStatus()
    status = _STATUS.get(model_status, Status.ERROR)
    seconds = time.perf_counter() - started
    message = highs.modelStatusToString(model_status)
    info = highs.getInfo()
    has_primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status is Status.OPTIMAL and not has_primal:
        status = Status.NUMERICAL
    if not has_primal or status not in (Status.OPTIMAL, Status.TIME_LIMIT, Status.INTERRUPTED):
        # A MILP stopped early without a solution still knows a bound (the outer program's certifies a plan).
        bound = float(info.mip_dual_bound) if is_mip and status is Status.TIME_LIMIT else None
        return SolverRun(status, message, "highs", seconds, bound=bound)
    solution = highs.getSolution()
    x = np.asarray(solution.col_value, dtype=float)
    objective = float(info.objective_function_value)
    if is_mip:
        bound = float(info.mip_dual_bound)
        duals = None
    else:
        bound = objective if status is Status.OPTIMAL else None
        duals = np.asarray(solution.row_dual, dtype=float) if info.dual_solution_status == 2 else None
    return SolverRun(status, message, "highs", seconds, x, objective, bound, duals)
