"""Write files atomically: an existing file is only ever replaced by a complete new one.

A result is written to a temporary file beside its target, then renamed onto it. The temporary
file's name holds the writer's process id (``.plan.json.1234.k3j9.partial``), so that a later write
to the same target removes what a killed writer left, and never a file another live writer is
still filling.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

_PARTIAL = ".partial"


class OutputError(OSError):
    """A result could not be written to ``path`` (a full disk, a file that is not a file, ...): ``reason``
    says why. The file that was there, if any, is left as it was."""

    def __init__(self, path: str | Path, reason: str | OSError):
        reason = (reason.strerror or str(reason)) if isinstance(reason, OSError) else reason
        super().__init__(f"could not write {path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def output_target(path: str | Path) -> Path:
    """Where writing ``path`` puts the bytes: the file a symbolic link leads to (the link is kept), else
    ``path``. Raises ``OutputError`` when that is something other than a regular file or a new name
    (a folder, a device such as /dev/null, a FIFO, a socket), which a rename would destroy."""
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError as error:
        raise OutputError(path, error) from None
    if not stat.S_ISREG(mode):
        raise OutputError(path, f"it is {_kind_of(mode)}, not a file: name a file to write")
    return target


def _kind_of(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
             (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto ``path`` only if the block succeeds.

    On any error (or Ctrl-C) the temporary file is removed and ``path`` is left as it was; a failure
    of the file system (a full disk, say) is raised as ``OutputError``. Writing through a symbolic link
    replaces the file it leads to.
    """
    target = output_target(path)
    folder = target.parent if str(target.parent) else Path(".")
    remove_abandoned_partials(target)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=_PARTIAL, dir=folder)
    except OSError as error:
        raise OutputError(path, error) from None
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OutputError):
            raise
        raise OutputError(path, error) from error
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


ABANDONED_AFTER = 60.0
"""Seconds a temporary file must have gone unchanged before it counts as abandoned: a writer fills its
file right after creating it, and a writer on another machine sharing the folder has a process id
this machine cannot check."""


def remove_abandoned_partials(target: Path) -> None:
    """Remove the temporary files a writer of ``target`` left when it was killed: named for ``target``
    exactly, by a process that is gone, and untouched for ``ABANDONED_AFTER`` seconds."""
    folder = target.parent if str(target.parent) else Path(".")
    name = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[A-Za-z0-9_]+{re.escape(_PARTIAL)}")
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            found = name.fullmatch(entry.name)
            if found and not _is_running(int(found[1])) and _unchanged_for(entry, ABANDONED_AFTER):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _unchanged_for(entry: os.DirEntry, seconds: float) -> bool:
    return time.time() - entry.stat(follow_symlinks=False).st_mtime >= seconds


def _is_running(pid: int) -> bool:
    """Whether process ``pid`` exists (one we may not signal exists too)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _mode_for(target: Path) -> int:
    """The permissions ``target`` has, or those a plain new file would get (temporary files are private)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


@functools.cache
def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read the umask is to set it; put it back at once
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
