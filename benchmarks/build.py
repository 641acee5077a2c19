"""How long building a program takes on seeded plans: the grids, then the plan and bound programs.

Everything before the solver runs, timed apart from it: breakpoints for every campaign at the
default tolerance and at a tenth of it, and ``compile_model`` for both purposes on them (the
best of a few runs each). ``--solve`` adds one ``solve()`` and the time its solver took.

    python benchmarks/build.py 1000 10000 [--repeats 3] [--solve]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

from benchmarks.measure import best_of  # noqa: E402
from benchmarks.plans import generate  # noqa: E402
from optimizer import solve  # noqa: E402
from optimizer.curves import DEFAULT_TOLERANCE  # noqa: E402
from optimizer.model.campaigns import campaign_grids  # noqa: E402
from optimizer.model.compile import compile_model  # noqa: E402
from optimizer.model.rows import formulate  # noqa: E402


def measure(size: int, repeats: int, with_solve: bool) -> list[str]:
    """One table row for a plan of ``size`` campaigns."""
    plan = generate(size)
    form = formulate(plan.scenario, DEFAULT_TOLERANCE)
    grids_s, grids = best_of(repeats, lambda: campaign_grids(form.campaigns, DEFAULT_TOLERANCE))
    finer_s, _ = best_of(repeats, lambda: campaign_grids(form.campaigns, DEFAULT_TOLERANCE / 10))
    plan_s, _ = best_of(repeats, lambda: compile_model(form, "plan", grids))
    bound_s, _ = best_of(repeats, lambda: compile_model(form, "bound", grids))
    row = [f"{size:,}", f"{sum(g.size for g in grids):,}", f"{grids_s:.3f}", f"{finer_s:.3f}", f"{plan_s:.3f}",
           f"{bound_s:.3f}"]
    if with_solve:
        seconds, result = best_of(1, lambda: solve(plan.scenario))
        row += [f"{seconds:.2f}", f"{result.info.solver_seconds:.2f}", result.status.value]
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--solve", action="store_true", help="also time one solve() of each plan")
    args = parser.parse_args(argv)
    header = ["campaigns", "breakpoints", "grids (s)", "grids at tol/10 (s)", "compile plan (s)", "compile bound (s)"]
    if args.solve:
        header += ["solve (s)", "of which solver (s)", "status"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for size in args.sizes:
        print("| " + " | ".join(measure(size, args.repeats, args.solve)) + " |", flush=True)


if __name__ == "__main__":
    main()
