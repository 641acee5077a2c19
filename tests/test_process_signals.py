"""Ctrl-C and a failing disk, met as a person meets them: the installed ``tradeoff`` in a real subprocess.

Ctrl-C ends the command with exit 130 and "Interrupted." at any moment, start-up included, and leaves
no partial file; each signal is sent on a signal from the process (a line on its stderr), never after
a fixed sleep. A write the file system refuses (a full disk) is one line on stderr naming the file,
exit 3, and the file that was there is left as it was.
"""

from __future__ import annotations

import os
import pty
import resource
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.cli import EXIT_INTERRUPTED, EXIT_SOLVER

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
B2B = SCENARIOS / "b2b_saas.toml"
LARGE = SCENARIOS / "large_portfolio.toml"
TRADEOFF = Path(sys.executable).with_name("tradeoff")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals, ptys and file size limits are POSIX's")


# --- Ctrl-C ----------------------------------------------------------------------------------------


def interrupt_when(args: list[str | Path], stderr_says: bytes, env: dict[str, str],
                   ) -> tuple[subprocess.Popen, str]:
    """Start ``tradeoff args`` with stderr on a terminal (so that it shows its progress), send SIGINT as
    soon as its stderr shows ``stderr_says``, and return the process (ended) and all it wrote on stderr."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([str(TRADEOFF), *map(str, args)], stdout=subprocess.DEVNULL, stderr=follower,
                               env=env, cwd=ROOT)
    os.close(follower)
    seen, sent = b"", False
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        assert ready, f"no output for 2 minutes; stderr so far: {seen[-2000:]!r}"
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        seen += chunk
        if not sent and stderr_says in seen:
            process.send_signal(signal.SIGINT)
            sent = True
    os.close(leader)
    process.wait(timeout=120)
    assert sent, f"{stderr_says!r} never appeared: {seen[-2000:]!r}"
    return process, seen.decode("utf-8", "replace")


STARTING = {  # each module's line appears once it is imported: the signal lands in the imports after it
    "as the command starts": "optimizer.cli_streams",  # the first module main() imports
    "while numpy loads": "numpy._core._multiarray_umath",
    "after numpy": "numpy",
    "after click": "click",
    "after the command's modules": "optimizer.cli",
    "after the solver": "highspy",
}


@pytest.mark.parametrize("module", STARTING.values(), ids=STARTING.keys())
def test_ctrl_c_during_start_up_exits_130_without_a_traceback(module, tmp_path):
    """``PYTHONPROFILEIMPORTTIME`` makes Python say on stderr as each module is imported."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    output = tmp_path / "frontier.json"
    process, err = interrupt_when(["frontier", LARGE, "--points", "200", "-o", output], f" {module}\r\n".encode(),
                                  env)
    said = [line for line in err.splitlines() if not line.startswith("import time:")]
    assert process.returncode == EXIT_INTERRUPTED, err[-3000:]
    assert "Interrupted." in said and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_a_frontier_exits_130_and_leaves_no_files(tmp_path):
    """A real SIGINT while a 200-point frontier of 600 campaigns is traced, sent once its progress shows."""
    output = tmp_path / "frontier.json"
    output.write_text("precious")
    process, err = interrupt_when(["frontier", LARGE, "--points", "200", "-o", output, "--charts",
                                   tmp_path / "charts"], b"Tracing the frontier", dict(os.environ))
    assert process.returncode == EXIT_INTERRUPTED, err
    assert "Traceback" not in err and "Interrupted" in err
    assert output.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frontier.json"]


# --- a full disk -------------------------------------------------------------------------------------


def _small_files(limit: int):  # noqa: ANN202 - a preexec function
    """The child may write files of at most ``limit`` bytes: a write past it fails as on a full disk (Python
    ignores SIGXFSZ, so the write returns EFBIG instead of ending the process)."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.parametrize("name", ["plan.json", "plan.xlsx"])
def test_a_write_that_fails_keeps_the_old_file_and_says_so_in_one_line(name, tmp_path):
    output = tmp_path / name
    output.write_bytes(b"precious")
    done = subprocess.run([str(TRADEOFF), "solve", str(B2B), "-o", str(output)], capture_output=True, cwd=ROOT,
                          timeout=300, preexec_fn=_small_files(2000))
    err = done.stderr.decode()
    assert done.returncode == EXIT_SOLVER, err
    assert "Traceback" not in err and "internal error" not in err
    (line,) = err.splitlines()
    assert str(output) in line and "File too large" in line
    assert output.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == [name]
