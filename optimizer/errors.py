"""The exceptions the library raises: bad input, and a solver that is missing or failed.

An infeasible or unbounded scenario is not an error: it is a result with a status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in the input: where it is, what is wrong, and how to fix it."""

    location: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text} (fix: {self.fix})" if self.fix else text


def shortened(text: str, width: int = 60) -> str:
    """``text`` cut to ``width`` characters for a message, ``...`` marking the cut (a cell or a value may be
    megabytes long)."""
    return text if len(text) <= width else text[: width - 3] + "..."


class ScenarioError(ValueError):
    """A scenario (file, overrides or code-built object) is invalid.

    ``problems`` lists every problem found, each with its location; the message shows
    them all, one per line.
    """

    def __init__(self, problems: Iterable[Problem], source: str = ""):
        self.problems = tuple(problems)
        self.source = source
        count = len(self.problems)
        head = f"{source}: " if source else ""
        noun = "problem" if count == 1 else "problems"
        lines = [f"{head}{count} {noun} found"] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class SolverError(RuntimeError):
    """The solver is not installed, crashed, or returned something unusable."""
