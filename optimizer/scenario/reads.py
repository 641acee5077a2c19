"""Which files a command has read, so that it never writes a result over one of them.

The readers of scenarios, campaign CSVs, points files and histories note each file they read;
a caller that wants to know wraps its loading in ``files_read()``. Outside such a block nothing
is kept.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

_READ: ContextVar[set[Path] | None] = ContextVar("optimizer_files_read", default=None)


@contextlib.contextmanager
def files_read() -> Iterator[set[Path]]:
    """The set of files read in the block (their real paths, symbolic links followed), filled as it runs."""
    read: set[Path] = set()
    token = _READ.set(read)
    try:
        yield read
    finally:
        _READ.reset(token)


def note_read(path: str | Path) -> None:
    """Note that ``path`` was read (nothing unless a ``files_read()`` block is open)."""
    read = _READ.get()
    if read is not None:
        read.add(Path(os.path.realpath(path)))
