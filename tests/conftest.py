"""Shared test set-up: the tests folder is importable (reference solvers live beside the tests)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
