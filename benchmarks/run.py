"""The performance benchmark of issue 5: our solver against the generic LP, SLSQP and a greedy walk.

For each size it generates a seeded plan (``plans.py``), then measures, each in a fresh process
(``measure.py``): our solve, our frontier, and the three references (``references.py``). It
prints one table per size and a summary, then writes them with a description of the machine to
``benchmarks/results.md`` (atomically: a temporary file, then a rename).

    python benchmarks/run.py                          # 10, 100, 1,000 and 10,000 campaigns (make bench)
    python benchmarks/run.py --sizes 10,100,1000      # make bench-quick
    python benchmarks/run.py --limit 300 --frontier-limit 900   # let slow measurements finish

A measurement that runs past its limit is stopped and shown as "> N (stopped)", so the whole run
stays within minutes however slow one part is; the limits are far above the issue's targets.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

from benchmarks.measure import LAUNCHED, STARTED  # noqa: E402
from benchmarks.report import Outcome, SizeResult, machine, shortfall, size_table, summary_table  # noqa: E402
from optimizer.output import write_text  # noqa: E402

DEFAULT_SIZES = (10, 100, 1_000, 10_000)
SELF_CHECK_SIZES = (10, 100)
SINGLE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""Every method runs on one thread (our HiGHS adapter does): threaded BLAS fighting other jobs
for the two cores made SLSQP seven times slower while this harness was written."""


def measure(what: str, size: int, timeout: float, *options: str) -> Outcome:
    """Run ``benchmarks.measure`` in a fresh process; end it after ``timeout`` seconds."""
    command = [sys.executable, "-m", "benchmarks.measure", what, str(size), *options]
    environment = {**os.environ, **SINGLE_THREAD, "PYTHONPATH": str(ROOT), LAUNCHED: repr(time.time())}
    try:
        done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as stopped:
        stderr = _text(stopped.stderr)
        return Outcome(None, stopped_after=timeout - _startup(stderr), progress=_last_progress(stderr))
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return Outcome(None, error=f"failed: {tail[0]}")
    return Outcome(json.loads(lines[-1].removeprefix("RESULT ")))


def _text(stream: str | bytes | None) -> str:
    return stream.decode(errors="replace") if isinstance(stream, bytes) else stream or ""


def _startup(stderr: str) -> float:
    """Seconds the stopped process spent starting (imports, building the plan) before it measured."""
    lines = [line for line in stderr.splitlines() if line.startswith(STARTED)]
    return float(lines[-1].removeprefix(STARTED)) if lines else 0.0


def _last_progress(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if "frontier point" in line]
    return lines[-1].removeprefix("frontier point ").strip() if lines else ""


def run_size(size: int, args: argparse.Namespace, slsqp_estimate: str) -> SizeResult:
    """Every measurement of one size, printed as it finishes."""
    print(f"\n{size:,} campaigns", flush=True)
    solve = _timed(f"our solve (limit {args.limit:.0f} s)", lambda: measure(
        "solve", size, 2 * args.limit + 120, "--limit", str(args.limit)))
    curve = _timed(f"our {args.points}-point frontier (limit {args.frontier_limit:.0f} s)", lambda: measure(
        "frontier", size, args.frontier_limit, "--points", str(args.points)))
    references = _timed("generic LP, SLSQP and greedy", lambda: measure(
        "references", size, 2 * args.limit + args.slsqp_limit + 300, "--limit", str(args.limit),
        "--slsqp-limit", str(args.slsqp_limit), "--slsqp-max-size", str(args.slsqp_max_size),
        "--dollars-max-size", str(args.dollars_max_size)))
    skipped = size > args.slsqp_max_size
    return SizeResult(size, args.points, solve, curve, references, slsqp_estimate if skipped else "")


def _timed(label: str, action) -> Outcome:
    print(f"  {label} ...", end=" ", flush=True)
    started = time.perf_counter()
    outcome = action()
    state = "stopped" if outcome.stopped_after else ("failed" if outcome.data is None else "done")
    print(f"{state} after {time.perf_counter() - started:.1f} s", flush=True)
    return outcome


def slsqp_estimate(results: list[SizeResult], size: int) -> str:
    """SLSQP's cost at ``size``, extrapolated from its per-iteration time at the two largest sizes run."""
    runs = []
    for r in results:
        fit = r.references.data and r.references.data.get("slsqp")
        if fit and fit["notes"]["iterations"] > 0:
            runs.append((r.size, fit["seconds"] / fit["notes"]["iterations"], fit["notes"]))
    if len(runs) < 2:
        return "not measured at smaller sizes, so no estimate"
    (n0, t0, _), (n1, t1, _) = runs[-2], runs[-1]
    exponent = math.log(t1 / t0) / math.log(n1 / n0)
    per_iteration = t1 * (size / n1) ** exponent
    iterations = max(notes["iterations"] for _, _, notes in runs)
    return (f"est. {per_iteration:,.0f} s per iteration (the time per iteration grew as n^{exponent:.1f} from "
            f"{n0:,} to {n1:,} campaigns), so {iterations} iterations (the most it ran at a smaller size) would "
            f"take ~{per_iteration * iterations / 3600:,.1f} h; its dense n x n matrix alone is "
            f"{8 * size**2 / 2**30:.1f} GiB")


def self_check(result: SizeResult) -> str:
    """Our plan must have at least the generic LP's leads on the true curves, less our certified gap.

    The LP's plan, when it keeps every constraint on the true curves, is a feasible plan, so the
    true optimum (which our bound exceeds) has at least its leads.
    """
    ours, refs = result.solve.data, result.references.data
    lp = refs.get("generic_lp") if refs else None
    if not ours or not lp or lp["notes"]["status"] != "Optimal" or ours["gap"] is None:
        return f"WARNING: self-check at {result.size:,} campaigns could not run (a measurement is missing)"
    allowed = ours["leads"] * (1 + ours["gap"]) + 1e-9 * ours["leads"]
    short = shortfall(ours["leads"], lp["leads"])
    if lp["leads"] <= allowed:
        return (f"self-check at {result.size:,} campaigns: ok (ours {ours['leads']:,.1f} leads, generic LP "
                f"{lp['leads']:,.1f} on the true curves, {100 * short:.4f}% below ours; gap {100 * ours['gap']:.4f}%)")
    excuse = (f" (but the LP's plan breaks {', '.join(lp['violations'])} on the true curves, so it may have more)"
              if lp["violations"] else " and the LP's plan keeps every constraint: our certificate is contradicted")
    return (f"WARNING: self-check at {result.size:,} campaigns: the generic LP has {lp['leads']:,.1f} leads on the "
            f"true curves, more than ours {ours['leads']:,.1f} plus the certified gap {100 * ours['gap']:.4f}%"
            + excuse)


def document(results: list[SizeResult], checks: list[str], description: str, args: argparse.Namespace,
             seconds: float) -> str:
    """The whole of results.md."""
    parts = [
        "# Benchmark results (issue 5)",
        "Written by `make bench` (`benchmarks/run.py`); do not edit by hand.",
        description,
        "## Summary\n\n" + summary_table(results),
        *(size_table(r) for r in results),
        "## Self-check\n\n" + "\n".join(f"- {line}" for line in checks) if checks else "",
        "## How to read this\n\n" + HOW_TO_READ.format(
            points=args.points, limit=args.limit, frontier_limit=args.frontier_limit, slsqp_limit=args.slsqp_limit,
            slsqp_max_size=args.slsqp_max_size, dollars_max_size=args.dollars_max_size, seconds=seconds),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


HOW_TO_READ = """\
- Plans are generated by `benchmarks/plans.py` (numpy `default_rng`, fixed seed): channels search,
  social, display, video, remarketing and CPL partners; exponential, concave Hill, S-shaped Hill
  (about 3%), power, log, tabular and linear curves; clicks and leads as rates; spend maxima
  $1k-$200k; a budget, awareness and consideration share floors, a CPL cap and a search SOV floor.
- Every time is wall-clock on one thread. Each measurement runs in its own process; at 100
  campaigns or fewer every time but SLSQP's is the best of 3 runs. Other jobs share this
  2-core machine, so times are noisy (see the load average above).
- **Peak RSS** is the measuring process's resident high-water mark (`ru_maxrss`): Python, numpy,
  highspy, the plan and the solve together; the solve row gives the increase over the process
  once the plan is built.
- **Leads (true curves)** are every method's spends evaluated on the exact curves by
  `benchmarks/response.py`; **short of ours** is (ours - theirs) / ours, so a negative value
  means more leads than ours, which only a plan that breaks a constraint can have.
  **Constraints on true curves** lists what a plan breaks, by how much (relative, beyond 1e-6).
- **Generic LP**: each campaign's spend range in 50 equal segments, one column per segment, the
  coupling rows (budget, share floors, CPL cap as spend - cap x leads <= 0, SOV floor as pooled
  impressions >= s / (1 - s) x competitors) over the segment columns, built with numpy and
  scipy.sparse and passed to HiGHS with `passModel`. Its time is build + solve; "LP one solve"
  in the ratios is that time. For S-shaped curves it is a convexified relaxation, which is why
  its plan can break the CPL cap on the true curves.
- **SLSQP**: `scipy.optimize.minimize(method="SLSQP")` on the exact curves from an equal split of
  the budget, spend in fractions of each campaign's max (better conditioned than dollars),
  analytic gradients, SciPy's default tolerance (ftol 1e-6); stopped after {slsqp_limit:.0f} s, and
  skipped above {slsqp_max_size:,} campaigns. "SLSQP in dollars" is the same in raw dollars and
  leads, as the peers' optimizers run it (SLSQP's ftol is absolute, so on raw leads it rarely
  stops before its 2,000 iterations); it runs up to {dollars_max_size:,} campaigns.
- **Greedy**: steps of 1% of each campaign's max, each to the campaign with the best marginal
  leads per dollar (a heap), within the budget and the bounds only.
- Limits: our solve and the generic LP {limit:.0f} s each (a solve at its limit returns its best
  plan with status `time_limit`), our {points}-point frontier {frontier_limit:.0f} s including its
  process's start-up (then stopped; "> N" is how long the frontier itself had run).
- This run took {seconds:.0f} s."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="plan sizes, comma-separated (default %(default)s)")
    parser.add_argument("--points", type=int, default=25, help="points on our frontier (default %(default)s)")
    parser.add_argument("--limit", type=float, default=150.0,
                        help="seconds for our solve and for the generic LP, each (default %(default)s)")
    parser.add_argument("--frontier-limit", type=float, default=120.0,
                        help="seconds before our frontier is stopped (default %(default)s)")
    parser.add_argument("--slsqp-limit", type=float, default=30.0,
                        help="seconds before SLSQP is stopped (default %(default)s)")
    parser.add_argument("--slsqp-max-size", type=int, default=1000,
                        help="largest plan SLSQP runs on (default %(default)s)")
    parser.add_argument("--dollars-max-size", type=int, default=100,
                        help="largest plan SLSQP in dollar units runs on (default %(default)s)")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "benchmarks" / "results.md")
    args = parser.parse_args(argv)
    args.sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    description = "## Machine\n\n" + machine()
    print(description)
    results, checks = [], []
    for size in args.sizes:
        result = run_size(size, args, slsqp_estimate(results, size))
        results.append(result)
        print("\n" + size_table(result), flush=True)
        if size in SELF_CHECK_SIZES:
            checks.append(self_check(result))
            print("\n" + checks[-1], flush=True)
    print("\n## Summary\n\n" + summary_table(results))
    seconds = time.perf_counter() - started
    write_text(args.output, document(results, checks, description, args, seconds))
    print(f"\nwrote {args.output} ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
