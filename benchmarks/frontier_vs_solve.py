"""How long a frontier takes, in solve-times of a single plan, on the example scenarios.

The frontier builds its programs once and changes only row bounds and the objective between
solves, so a 21-point frontier should cost a small multiple of one solve, not 21 of them.

    python benchmarks/frontier_vs_solve.py [POINTS] [REPEATS]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from optimizer import frontier, load_scenario, solve

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("b2b_saas", "local_services", "large_portfolio")


def best_time(action, repeats: int) -> tuple[float, object]:
    """The fastest of ``repeats`` runs (the least disturbed by the machine), and its result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
    return best, result


def main(points: int = 21, repeats: int = 3) -> None:
    print(f"| scenario | campaigns | one solve (s) | {points}-point frontier (s) | ratio | solver runs |")
    print("|---|---|---|---|---|---|")
    for name in SCENARIOS:
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.toml")
        single, _ = best_time(lambda s=scenario: solve(s), repeats)
        sweep, curve = best_time(lambda s=scenario: frontier(s, points=points), max(1, repeats - 1))
        print(f"| {name} | {len(scenario.campaigns)} | {single:.2f} | {sweep:.2f} | {sweep / single:.1f} | "
              f"{curve.solves} |")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
