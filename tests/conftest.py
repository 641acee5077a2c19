"""Shared test set-up.

The tests folder is importable (reference solvers live beside the tests). Hypothesis runs
derandomised by default, so CI sees the same examples every time; set HYPOTHESIS_PROFILE=explore
to search new ones.
"""

import os
import signal
import sys
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config) -> None:  # noqa: ANN001 - pytest's hook
    """Ctrl-C as at a terminal. A suite started in the background by a non-interactive shell (``make test &``)
    inherits SIGINT ignored, and passes that on to every command it starts: the tests of Ctrl-C would then
    see nothing happen. Python's own handler is put back in this process, and so (a caught signal is reset
    at exec) the commands the tests start get the default, as from a terminal."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
