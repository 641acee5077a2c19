"""Solver output kept off the process's standard output, C-level writes included.

highspy 1.16 prints a banner to file descriptor 1 when a ``Highs`` object is built, before any
option can silence it; a program reading our JSON from stdout would get the banner first. Python's
``sys.stdout`` cannot stop a C library's writes, so the descriptor itself is pointed at the null
device while a solver object is built.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import sys
import threading
from collections.abc import Iterator

_STDOUT = 1
_redirecting = threading.RLock()
"""One redirection at a time: two threads each saving and restoring descriptor 1 could leave it pointing
at the null device."""


@contextlib.contextmanager
def c_stdout_silenced() -> Iterator[None]:
    """Descriptor 1 points at the null device for the block (what C code prints there is dropped), then
    back where it was. Python's own buffered output is flushed first, so none of it is lost.

    Another thread's writes to stdout during the block are dropped too: keep the block to the one call
    that prints (building a solver object takes microseconds).
    """
    with _redirecting:
        _flush_all()
        saved = _duplicate(_STDOUT)
        if saved is None:  # no descriptor 1 (stdout closed): nothing to protect
            yield
            return
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, _STDOUT)
            os.close(null)
            yield
        finally:
            _flush_c_streams()
            os.dup2(saved, _STDOUT)
            os.close(saved)


def _duplicate(descriptor: int) -> int | None:
    """A new descriptor for what ``descriptor`` points at, or None when it is not open."""
    try:
        return os.dup(descriptor)
    except OSError:
        return None


def _flush_all() -> None:
    """Python's stdout buffer and the C library's, so that what was printed before goes where it was meant to."""
    stream = sys.stdout
    if stream is not None:
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    _flush_c_streams()


def _flush_c_streams() -> None:
    """``fflush(NULL)``: C's stdio may hold a solver's text in a buffer and write it after the descriptor is
    restored. Nothing where the C library cannot be reached (not on POSIX)."""
    libc = _libc()
    if libc is not None:
        libc.fflush(None)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library this process runs on, or None where it cannot be loaded by name (Windows)."""
    try:
        return ctypes.CDLL(None)
    except (OSError, TypeError):
        return None
