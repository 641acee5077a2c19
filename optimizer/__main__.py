"""``python -m optimizer ...`` runs the ``tradeoff`` command."""

from optimizer.cli import main

main()
