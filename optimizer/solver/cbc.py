"""The PuLP adapter: the same compiled arrays solved by CBC, or written as a readable LP file.

PuLP builds the program row by row in Python, which is slow for large plans; it is here
for CBC and for LP files a person can read, not for the hot path.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pulp

from optimizer.errors import SolverError
from optimizer.model.compile import CompiledModel
from optimizer.model.formulation import Formulation
from optimizer.output import atomic_path
from optimizer.solver.options import SolveOptions
from optimizer.solver.status import SolverRun, Status


@dataclass(frozen=True)
class Names:
    """Column and row names for an LP file."""

    columns: tuple[str, ...]
    rows: tuple[str, ...]


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")[:40]


def lp_names(form: Formulation, model: CompiledModel) -> Names:
    """Readable, unique names: ``spend_3_Search_brand``, ``seg_3_2``, ``c1_cpl_120``, ``link_3``."""
    n = model.n_campaigns
    columns = [f"spend_{i}_{_safe(c.name)}" for i, c in enumerate(form.campaigns)]
    for i in range(n):
        count = model.segment_start[i + 1] - model.segment_start[i]
        columns += [f"seg_{i}_{k}" for k in range(count)]
    columns += [f"fill_{k}" for k in range(model.shape[1] - len(columns))]
    specs = int((model.row_spec >= 0).sum())
    rows = [f"c{r}_{_safe(form.rows[model.row_spec[r]].name)}" for r in range(specs)]
    rows += [f"link_{i}" for i in range(n)]
    rows += [f"order_{r}" for r in range(model.shape[0] - len(rows))]
    return Names(tuple(columns), tuple(rows))


def pulp_problem(model: CompiledModel, names: Names | None = None) -> tuple[pulp.LpProblem, list[pulp.LpVariable],
                                                                           list[str]]:
    """The model as a PuLP problem, its variables in column order, and its row names."""
    n_rows, n_cols = model.shape
    col_names = names.columns if names else tuple(f"x{j}" for j in range(n_cols))
    row_names = names.rows if names else tuple(f"r{r}" for r in range(n_rows))
    sense = pulp.LpMaximize if model.sense == "maximize" else pulp.LpMinimize
    problem = pulp.LpProblem("plan", sense)
    variables = [
        problem.add_variable(
            col_names[j],
            lowBound=_finite(model.col_lower[j]),
            upBound=_finite(model.col_upper[j]),
            cat=pulp.LpBinary if model.integer[j] else pulp.LpContinuous,
        )
        for j in range(n_cols)
    ]
    nz = np.flatnonzero(model.cost)
    problem.setObjective(pulp.LpAffineExpression([(variables[j], float(model.cost[j])) for j in nz])
                         + float(model.offset))
    rows = model.matrix.tocsr()
    for r in range(n_rows):
        start, end = rows.indptr[r], rows.indptr[r + 1]
        expr = pulp.LpAffineExpression(
            [(variables[j], float(v)) for j, v in zip(rows.indices[start:end], rows.data[start:end], strict=True)]
        )
        lower, upper = float(model.row_lower[r]), float(model.row_upper[r])
        if lower == upper:
            problem.addConstraint(expr == lower, row_names[r])
            continue
        # A ranged row becomes two (the second named with _UPPER); a free row is left out (its dual is 0).
        if np.isfinite(lower):
            problem.addConstraint(expr >= lower, row_names[r])
        if np.isfinite(upper):
            problem.addConstraint(expr <= upper, row_names[r] + _UPPER if np.isfinite(lower) else row_names[r])
    return problem, variables, list(row_names)


_UPPER = "_upper"


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def write_lp(model: CompiledModel, path: Path, names: Names | None = None) -> None:
    """Write the model as an LP file at ``path`` (atomically)."""
    problem, _, _ = pulp_problem(model, names)
    with atomic_path(path) as temporary:
        problem.writeLP(str(temporary))


def cbc_path() -> str | None:
    """The CBC binary: PuLP's bundled CBC 2.10, else cbcbox's build, else one on ``PATH``.

    Found by path rather than through ``PATH``, so it works from a virtualenv that is not
    activated (``.venv/bin/tradeoff``). The bundled 2.10 comes first: the cbcbox build reports
    some infeasible programs as "status unknown".
    """
    candidates = [getattr(pulp.apis.coin_api, "pulp_cbc_path", None), _cbcbox_path(), shutil.which("cbc")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate):
            if not os.access(candidate, os.X_OK):
                try:
                    os.chmod(candidate, os.stat(candidate).st_mode | stat.S_IXUSR)
                except OSError:
                    continue
            return candidate
    return None


def _cbcbox_path() -> str | None:
    try:
        import cbcbox
    except ImportError:
        return None
    return cbcbox.cbc_bin_path()


def solve_cbc(model: CompiledModel, options: SolveOptions, names: Names | None = None) -> SolverRun:
    """Solve with CBC through PuLP; values are read only when a solution exists."""
    started = time.perf_counter()
    path = cbc_path()
    if path is None:
        raise SolverError("CBC is not installed: reinstall kpi-tradeoff (it depends on pulp[cbc]), "
                          "or use --solver highs")
    # CBC 2.10's MIP preprocessing has wrongly declared feasible programs infeasible; it is off.
    solver = pulp.COIN_CMD(path=path, msg=False, timeLimit=options.run_limit(),
                           gapRel=options.mip_gap if model.is_mip else None,
                           options=["preprocess off"] if model.is_mip else [])
    problem, variables, row_names = pulp_problem(model, names)
    try:
        problem.solve(solver)
    except pulp.PulpSolverError as error:
        raise SolverError(f"CBC failed: {error}") from None
    seconds = time.perf_counter() - started
    status = _status(problem)
    message = pulp.LpStatus.get(problem.status, "unknown")
    if status not in (Status.OPTIMAL, Status.TIME_LIMIT) or problem.sol_status not in (1, 2):
        return SolverRun(status, message, "cbc", seconds)
    x = np.array([v.varValue if v.varValue is not None else np.nan for v in variables], dtype=float)
    if np.isnan(x).any():
        return SolverRun(Status.NUMERICAL, "CBC returned no value for some variables", "cbc", seconds)
    value = pulp.value(problem.objective)
    objective = float(value) if value is not None else float(model.offset)  # no variable terms: the constant
    duals = None
    if not model.is_mip and status is Status.OPTIMAL:
        by_name = {c.name: c.pi for c in problem.constraints()}
        duals = np.array([(by_name.get(name) or 0.0) + (by_name.get(name + _UPPER) or 0.0) for name in row_names],
                         dtype=float)
    bound = objective if status is Status.OPTIMAL else None
    if model.is_mip and bound is not None:
        bound = _mip_bound(objective, options.mip_gap, model.sense)
    return SolverRun(status, message, "cbc", seconds, x, objective, bound, duals)


def _mip_bound(objective: float, gap: float, sense: str) -> float:
    """The best bound CBC's stopping rule allows: it stops once |bound - incumbent| <= gap x the larger of the two.

    PuLP does not read CBC's own bound, so the certificate uses the loosest one consistent with that rule.
    """
    slack = gap * abs(objective) / (1 - gap)
    return objective + slack if sense == "maximize" else objective - slack


def _status(problem: pulp.LpProblem) -> Status:
    if problem.sol_status == 2:
        return Status.TIME_LIMIT
    return {
        1: Status.OPTIMAL,
        -1: Status.INFEASIBLE,
        -2: Status.UNBOUNDED,
        0: Status.TIME_LIMIT,
    }.get(problem.status, Status.ERROR)
