"""How long a frontier takes, in solve-times of a single plan, on the example scenarios.

The frontier builds its programs once and changes only row bounds and the objective between
solves, so a 21-point frontier should cost a small multiple of one solve, not 21 of them.

    python benchmarks/frontier_vs_solve.py [POINTS] [REPEATS]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

from benchmarks.measure import best_of  # noqa: E402
from optimizer import frontier, load_scenario, solve  # noqa: E402

SCENARIOS = ("b2b_saas", "local_services", "large_portfolio")


def main(points: int = 21, repeats: int = 3) -> None:
    print(f"| scenario | campaigns | one solve (s) | {points}-point frontier (s) | ratio | solver runs |")
    print("|---|---|---|---|---|---|")
    for name in SCENARIOS:
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.toml")
        single, _ = best_of(repeats, lambda s=scenario: solve(s))
        sweep, curve = best_of(max(1, repeats - 1), lambda s=scenario: frontier(s, points=points))
        print(f"| {name} | {len(scenario.campaigns)} | {single:.2f} | {sweep:.2f} | {sweep / single:.1f} | "
              f"{curve.solves} |")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
