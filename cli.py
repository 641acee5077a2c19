"""Run the `tradeoff` command from a checkout: `python cli.py solve scenarios/b2b_saas.toml`."""
from optimizer.entry import main

main()
