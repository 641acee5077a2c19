"""Shared test set-up.

The tests folder is importable (reference solvers live beside the tests). Hypothesis runs
derandomised by default, so CI sees the same examples every time; set HYPOTHESIS_PROFILE=explore
to search new ones.
"""

import os
import sys
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
