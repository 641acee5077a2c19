"""The command's stdout carries only the document asked for.

A solver, a library or a subprocess may write to file descriptor 1 directly (C's ``printf``, a
child's inherited stdout), around Python's ``sys.stdout``. For the length of a command, descriptor
1 is pointed at stderr, and ``sys.stdout`` writes to a private copy of the real stdout: what the
command prints reaches the reader, and anything else lands on stderr, where a person still sees it.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator

_STDOUT, _STDERR = 1, 2


@contextlib.contextmanager
def stdout_for_documents_only() -> Iterator[None]:
    """For the block, writes to descriptor 1 go to stderr and ``sys.stdout`` to the real stdout.

    Nothing changes when ``sys.stdout`` is not descriptor 1 (a test capturing it, an embedding
    application's own stream) or when stdout or stderr is closed.
    """
    original = sys.stdout
    private = _private_stdout(original)
    if private is None:
        yield
        return
    sys.stdout = private
    try:
        yield
    finally:
        sys.stdout = original
        _restore(private)


def _restore(private: io.TextIOWrapper) -> None:
    """Descriptor 1 back to the real stdout, and the private copy flushed and closed (a reader that went
    away gets nothing more, and that is no error)."""
    with contextlib.suppress(OSError, ValueError):
        private.flush()
    with contextlib.suppress(OSError, ValueError):
        os.dup2(private.fileno(), _STDOUT)
    with contextlib.suppress(OSError, ValueError):
        private.close()


def _private_stdout(original: io.TextIOBase | None) -> io.TextIOWrapper | None:
    """A text stream like ``original`` on a copy of descriptor 1, with descriptor 1 then pointed at stderr;
    None when that cannot be done."""
    if not isinstance(original, io.TextIOWrapper) or not _is_descriptor(original, _STDOUT):
        return None
    try:
        original.flush()
        os.fstat(_STDERR)
        copy = os.dup(_STDOUT)
    except (OSError, ValueError):
        return None
    # Buffered even under PYTHONUNBUFFERED (write_through passes each write on at once): a text stream over
    # a raw file drops the rest of a write the pipe takes only part of, where a buffered one writes it all.
    binary = open(copy, "wb")  # noqa: SIM115 - closed on exit
    stream = io.TextIOWrapper(binary, encoding=original.encoding, errors=original.errors,
                              line_buffering=original.line_buffering, write_through=original.write_through)
    os.dup2(_STDERR, _STDOUT)
    return stream


def _is_descriptor(stream: io.TextIOBase, descriptor: int) -> bool:
    try:
        return stream.fileno() == descriptor
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
