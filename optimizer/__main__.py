"""``python -m optimizer ...`` runs the ``tradeoff`` command."""

from optimizer.entry import main

main()
