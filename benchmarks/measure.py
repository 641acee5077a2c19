"""One measurement per process: our solve, our frontier, or the references, on one seeded plan.

``run.py`` starts a fresh process for each, so that each reports its own peak memory (the
process's resident high-water mark, ``ru_maxrss``) and a stopped measurement can be ended
without losing the rest. The result is printed as one JSON line prefixed with ``RESULT``.

    python -m benchmarks.measure solve 1000 --limit 150
    python -m benchmarks.measure frontier 1000 --points 25
    python -m benchmarks.measure references 1000 --limit 150 --slsqp-limit 30 --dollars-max-size 100
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np

from benchmarks.plans import BenchPlan, generate
from benchmarks.references import Reference, generic_lp, greedy, slsqp
from optimizer import frontier, solve

RESULT = "RESULT "
LAUNCHED = "BENCH_LAUNCHED"
"""The parent's ``time.time()`` when it started this process, to tell start-up from measurement."""
STARTED = "STARTED AFTER "


def peak_rss_mib() -> float:
    """The process's peak resident memory so far, in MiB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def best_of(repeats: int, action):
    """``(fastest seconds, last result)`` over ``repeats`` runs (the least disturbed by other jobs)."""
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
    return best, result


def repeats_for(size: int) -> int:
    """Measurements on 100 campaigns or fewer are short, so noise weighs most: take the best of 3."""
    return 3 if size <= 100 else 1


def measure_solve(plan: BenchPlan, limit: float) -> dict:
    """Our ``solve``: time, status, certified gap, leads (re-evaluated on the benchmark's curves)."""
    baseline = peak_rss_mib()
    seconds, result = best_of(repeats_for(plan.size), lambda: solve(plan.scenario, time_limit=limit))
    spend = np.array([c.spend for c in result.allocation]) if result.allocation else plan.current
    return {
        "seconds": seconds, "status": result.status.value, "gap": result.gap,
        "objective": result.objective_value, "leads": float(plan.response.leads(spend).sum()),
        "violations": plan.violations(spend), "milp": len(result.info.milp_campaigns),
        "solver_seconds": result.info.solver_seconds, "segments": result.info.segments,
        "peak_rss_mib": peak_rss_mib(), "baseline_rss_mib": baseline,
    }


def measure_frontier(plan: BenchPlan, points: int) -> dict:
    """Our ``frontier`` of leads against search SOV, ``points`` points; progress goes to stderr.

    The progress lines tell ``run.py`` how far a frontier it had to stop had got.
    """
    baseline = peak_rss_mib()
    started = time.perf_counter()
    if LAUNCHED in os.environ:  # so that a stopped frontier's own time is known
        print(f"{STARTED}{time.time() - float(os.environ[LAUNCHED]):.3f}", file=sys.stderr, flush=True)

    def progress(done: int, total: int) -> None:
        print(f"    frontier point {done}/{total} at {time.perf_counter() - started:.0f} s", file=sys.stderr,
              flush=True)

    seconds, curve = best_of(repeats_for(plan.size), lambda: frontier(plan.scenario, points=points, progress=progress))
    gaps = [p.gap for p in curve.points if p.gap is not None]
    return {
        "seconds": seconds, "points": len(curve.points), "solves": curve.solves,
        "max_gap": max(gaps) if gaps else None, "certified": len(gaps),
        "peak_rss_mib": peak_rss_mib(), "baseline_rss_mib": baseline,
    }


def measure_references(plan: BenchPlan, limit: float, slsqp_limit: float, slsqp_max_size: int,
                       dollars_max_size: int) -> dict:
    """The generic LP, SLSQP scaled (up to ``slsqp_max_size`` campaigns) and in dollars (up to
    ``dollars_max_size``), and the greedy walk."""
    repeats = repeats_for(plan.size)
    lp_seconds, lp = best_of(repeats, lambda: generic_lp(plan, time_limit=limit))
    greedy_seconds, walk = best_of(repeats, lambda: greedy(plan))
    out = {"generic_lp": _as_dict(lp, lp_seconds), "greedy": _as_dict(walk, greedy_seconds),
           "slsqp": None, "slsqp_dollars": None}
    for key, scaled, largest in (("slsqp", True, slsqp_max_size), ("slsqp_dollars", False, dollars_max_size)):
        if plan.size <= largest:
            fit = slsqp(plan, scaled=scaled, time_limit=slsqp_limit)
            out[key] = _as_dict(fit, fit.seconds)
    return out


def _as_dict(reference: Reference, seconds: float) -> dict:
    return {
        "seconds": seconds, "solve_seconds": reference.solve_seconds, "leads": reference.leads,
        "violations": reference.violations, "notes": reference.notes,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("solve", "frontier", "references"))
    parser.add_argument("size", type=int)
    parser.add_argument("--limit", type=float, default=150.0, help="seconds for our solve and for the generic LP")
    parser.add_argument("--points", type=int, default=25)
    parser.add_argument("--slsqp-limit", type=float, default=30.0)
    parser.add_argument("--slsqp-max-size", type=int, default=1000)
    parser.add_argument("--dollars-max-size", type=int, default=100)
    args = parser.parse_args(argv)
    plan = generate(args.size)
    if args.what == "solve":
        result = measure_solve(plan, args.limit)
    elif args.what == "frontier":
        result = measure_frontier(plan, args.points)
    else:
        result = measure_references(plan, args.limit, args.slsqp_limit, args.slsqp_max_size, args.dollars_max_size)
    result["s_shaped"] = int(plan.s_shaped.sum())
    print(RESULT + json.dumps(result, default=float), flush=True)


if __name__ == "__main__":
    main()
