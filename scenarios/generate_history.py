"""Write the example campaign history: scenarios/history_example.csv, a year of weekly rows.

Three campaigns with known funnels (search with a saturating exponential impressions curve,
Meta lead ads with a log curve, a CTV brand film with an S-shaped Hill curve; flat click and
lead rates at benchmark levels, research/domain.md section 4.4), each week's spend drawn from
the campaign's usual range and every funnel step given about 8% log-normal noise. It is what
``tradeoff fit`` is shown on; history_example.toml is the scenario its fitted campaigns solve in.

Run from anywhere (paths are relative to this file); the output is deterministic:

    python scenarios/generate_history.py
    tradeoff fit scenarios/history_example.csv -o campaigns.csv
    tradeoff solve scenarios/history_example.toml --campaigns campaigns.csv
"""

from __future__ import annotations

from pathlib import Path

from optimizer.fit.synthetic import EXAMPLE_FUNNELS, synthetic_funnel_history


def main() -> None:
    history = synthetic_funnel_history(EXAMPLE_FUNNELS, weeks=52, noise=0.08, seed=2026)
    counts = ["impressions", "clicks", "leads"]
    history[counts] = history[counts].round().astype(int)  # whole impressions, clicks and leads, as exports show
    history.round({"spend": 2}).to_csv(Path(__file__).with_name("history_example.csv"), index=False)


if __name__ == "__main__":
    main()
