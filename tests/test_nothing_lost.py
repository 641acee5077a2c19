"""Nothing is lost: atomic outputs, Ctrl-C without partial files, a time limit that still returns a plan."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from optimizer import GLOSSARY, Scenario, Status, load_scenario, save_figure, solve
from optimizer.cli import EXIT_INPUT, EXIT_INTERRUPTED, EXIT_OK, run
from optimizer.cli_support import emit
from optimizer.output import ABANDONED_AFTER, OutputError, output_target, write_text

ROOT = Path(__file__).resolve().parents[1]
LARGE = ROOT / "scenarios" / "large_portfolio.toml"


def test_an_interrupted_write_leaves_the_old_file_and_no_partial_one(tmp_path, monkeypatch):
    import matplotlib.figure

    target = tmp_path / "chart.png"
    target.write_bytes(b"precious")

    def interrupted(self, path, **kwargs):
        Path(path).write_bytes(b"half a png")
        raise KeyboardInterrupt

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_figure(matplotlib.figure.Figure(), target)
    assert target.read_bytes() == b"precious"
    assert list(tmp_path.iterdir()) == [target]


def test_a_complete_write_replaces_the_old_file(tmp_path):
    target = tmp_path / "plan.json"
    target.write_text("old")
    write_text(target, '{"new": true}')
    assert json.loads(target.read_text()) == {"new": True}
    assert list(tmp_path.iterdir()) == [target]


def test_written_files_get_the_permissions_of_a_plain_write(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    new = tmp_path / "new.json"
    write_text(new, "{}")
    assert new.stat().st_mode == plain.stat().st_mode
    shared = tmp_path / "shared.json"
    shared.write_text("old")
    shared.chmod(0o664)
    write_text(shared, "{}")
    assert shared.stat().st_mode & 0o777 == 0o664


# Ctrl-C to the installed command (start-up included) and a full disk: tests/test_process_signals.py.


# --- a time limit ---------------------------------------------------------------------------------


def small_scenario() -> Scenario:
    campaigns = [{"name": f"c{i}", "channel": "search", "stage": "conversion", "spend": {"max": 50_000.0},
                  "leads": {"curve": "exponential", "max": 400.0 + 50 * i, "scale": 8_000.0 + 1_000 * i}}
                 for i in range(6)]
    return Scenario.model_validate({"name": "timed", "budget": {"total": 60_000.0}, "campaigns": campaigns})


def test_a_time_limit_returns_the_best_plan_found_with_its_gap():
    """With no time left after the first solve, refinement is skipped: the plan is still verified and bounded."""
    exact = solve(small_scenario())
    timed = solve(small_scenario(), time_limit=1e-9)
    assert timed.status is Status.TIME_LIMIT
    assert all(check.ok for check in timed.checks)
    assert timed.gap is not None and timed.bound >= exact.objective_value * (1 - 1e-9)
    assert timed.objective_value <= exact.bound * (1 + 1e-9)
    assert timed.objective_value == pytest.approx(exact.objective_value, rel=timed.gap + 1e-9)
    assert "Stopped at the time limit" in timed.message


def test_a_time_limited_plan_exits_0_and_says_so(tmp_path, capsys):
    path = tmp_path / "timed.json"
    path.write_text(json.dumps(small_scenario().model_dump(mode="json", exclude_none=True)))
    assert run(["solve", str(path), "--time-limit", "1e-9", "--format", "json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "time_limit" and data["gap"] is not None and data["allocation"]


def test_a_generous_time_limit_changes_nothing():
    plan = solve(load_scenario(ROOT / "scenarios" / "b2b_saas.toml"), time_limit=600)
    untimed = solve(load_scenario(ROOT / "scenarios" / "b2b_saas.toml"))
    assert plan.status is Status.OPTIMAL
    assert np.allclose([a.spend for a in plan.allocation], [a.spend for a in untimed.allocation])


def test_ctrl_c_during_a_solve_exits_130_and_keeps_the_old_output(tmp_path, monkeypatch, capsys):
    """Ctrl-C lands between solver runs as KeyboardInterrupt: here while the plan is being refined."""
    from optimizer.cli import run
    from optimizer.solver import run as solve_run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(solve_run, "refine", interrupted)
    output = tmp_path / "plan.json"
    output.write_text("precious")
    code = run(["solve", str(ROOT / "scenarios" / "b2b_saas.toml"), "--format", "json", "-o", str(output)])
    err = capsys.readouterr().err
    assert code == EXIT_INTERRUPTED and "Interrupted" in err and "Traceback" not in err
    assert output.read_text() == "precious"
    assert list(tmp_path.iterdir()) == [output]


# --- Ctrl-C while the result is written -------------------------------------------------------------


class InterruptedHalfway(io.StringIO):
    """stdout that receives SIGINT halfway through each write (as Ctrl-C would land)."""

    def write(self, text: str) -> int:
        half = len(text) // 2
        super().write(text[:half])
        os.kill(os.getpid(), signal.SIGINT)
        return half + super().write(text[half:])


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="os.kill(pid, SIGINT) is POSIX's")
def test_ctrl_c_while_the_result_is_printed_exits_130_after_the_whole_document(monkeypatch, capsys):
    stdout = InterruptedHalfway()
    monkeypatch.setattr(sys, "stdout", stdout)
    code = run(["kpis", "--format", "json"])
    assert code == EXIT_INTERRUPTED and "Interrupted" in capsys.readouterr().err
    assert [record["kpi"] for record in json.loads(stdout.getvalue())] == list(GLOSSARY)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_a_result_printed_outside_the_main_thread_is_printed_as_usual(monkeypatch):
    """Only the main thread may set signal handlers: elsewhere the text is written unguarded."""
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    worker = threading.Thread(target=emit, args=('{"whole": true}\n', None))
    worker.start()
    worker.join()
    assert json.loads(stdout.getvalue()) == {"whole": True}


CHILD = """
import sys
from optimizer.cli_support import emit
print("writing", file=sys.stderr, flush=True)
try:
    emit("[" + ", ".join(["1"] * 400_000) + "]", None)
except KeyboardInterrupt:
    sys.exit(130)
"""


def _wait_until_full(pipe: int) -> None:
    """Return once the pipe holds as much as it can (its writer is then blocked), polling what it holds."""
    import fcntl
    import struct
    import termios

    capacity = fcntl.fcntl(pipe, 1032)  # F_GETPIPE_SZ
    deadline = time.monotonic() + 60
    while struct.unpack("i", fcntl.ioctl(pipe, termios.FIONREAD, b"\0" * 4))[0] < capacity:
        assert time.monotonic() < deadline, "the child never filled the pipe"
        time.sleep(0.005)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pipe's fill level is read the Linux way")
def test_ctrl_c_while_stdout_is_a_full_pipe_still_gives_the_whole_document():
    """Unbuffered stdout (as in many containers) drops the rest of a write a signal cuts short: the whole
    document comes out all the same, then the exit code says interrupted."""
    process = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=ROOT)
    assert process.stderr.readline() == b"writing\n"
    _wait_until_full(process.stdout.fileno())  # the child (1.2 MB against 64 KB) now waits for a reader
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, err
    assert json.loads(out) == [1] * 400_000


# --- -o never destroys what it should not ------------------------------------------------------------


def _copy_of_local_services(folder: Path) -> Path:
    for source in (ROOT / "scenarios").glob("local_services*"):
        (folder / source.name).write_bytes(source.read_bytes())
    return folder / "local_services.toml"


@pytest.mark.parametrize("target", ["local_services.toml", "local_services_campaigns.csv", "link-to-campaigns.csv"])
def test_o_refuses_a_file_the_command_reads(target, tmp_path, capsys):
    scenario = _copy_of_local_services(tmp_path)
    (tmp_path / "link-to-campaigns.csv").symlink_to(tmp_path / "local_services_campaigns.csv")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.is_symlink()}
    code = run(["solve", str(scenario), "-o", str(tmp_path / target), "--format", "json"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and "is a file this command reads" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.is_symlink()} == before


def test_fit_o_refuses_its_own_history(tmp_path, capsys):
    history = tmp_path / "history.csv"
    history.write_bytes((ROOT / "scenarios" / "history_example.csv").read_bytes())
    code = run(["fit", str(history), "-o", str(history)])
    assert code == EXIT_INPUT and "is a file this command reads" in capsys.readouterr().err
    assert history.read_bytes() == (ROOT / "scenarios" / "history_example.csv").read_bytes()


def test_the_report_refuses_to_write_over_its_campaigns(tmp_path, capsys):
    """--xlsx and -o name outputs too; a campaign CSV renamed .html is still the scenario's input."""
    scenario = _copy_of_local_services(tmp_path)
    text = scenario.read_text().replace("local_services_campaigns.csv", "campaigns.html")
    scenario.write_text(text)
    (tmp_path / "local_services_campaigns.csv").rename(tmp_path / "campaigns.html")
    kept = (tmp_path / "campaigns.html").read_bytes()
    code = run(["report", str(scenario), "--html", str(tmp_path / "campaigns.html")])
    assert code == EXIT_INPUT and "--html" in capsys.readouterr().err
    assert (tmp_path / "campaigns.html").read_bytes() == kept


def _device_node(folder: Path) -> Path:
    """A character device of our own (a copy of /dev/null's kind, made with mknod), so that no test ever
    aims a write at the machine's /dev/null; skipped where devices cannot be made (not root)."""
    node = folder / "null.json"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError, OSError):
        pytest.skip("making a device node needs root")
    return node


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and device nodes are POSIX's")
@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_o_refuses_anything_but_a_file(kind, tmp_path, capsys):
    if kind == "fifo":
        target = tmp_path / "pipe.json"
        os.mkfifo(target)
    elif kind == "folder":
        target = tmp_path / "plan.json"
        target.mkdir()
    else:
        target = _device_node(tmp_path)
    code = run(["solve", str(ROOT / "scenarios" / "b2b_saas.toml"), "-o", str(target), "--format", "json"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT and ("not a file" in err or "is a directory" in err)
    assert target.exists() and not target.is_file()  # still what it was


@pytest.mark.skipif(not stat.S_ISCHR(os.stat(os.devnull).st_mode), reason="this machine's null device is not one")
def test_the_null_device_is_never_a_target():
    with pytest.raises(OutputError, match="a device, not a file"):
        output_target(Path(os.devnull))


def test_o_through_a_symbolic_link_writes_the_file_it_leads_to(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    (tmp_path / "link.json").symlink_to(real)
    write_text(tmp_path / "link.json", '{"new": true}')
    assert (tmp_path / "link.json").is_symlink()
    assert json.loads(real.read_text()) == {"new": True}


def test_a_write_removes_what_a_killed_writer_left_but_not_a_live_writers_file(tmp_path):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(ended.stdout)
    target = tmp_path / "plan.json"
    abandoned = tmp_path / f".plan.json.{dead}.x1y2.partial"
    in_progress = tmp_path / f".plan.json.{os.getppid()}.z3w4.partial"  # pytest's parent: alive
    unrelated = tmp_path / f".other.json.{dead}.a5b6.partial"
    longer_name = tmp_path / f".plan.json.{dead}.json.{dead}.c7d8.partial"  # a writer of "plan.json.{dead}.json"
    just_left = tmp_path / f".plan.json.{dead}.e9f0.partial"  # perhaps a writer on another machine: wait
    old = time.time() - 2 * ABANDONED_AFTER
    for path in (abandoned, in_progress, unrelated, longer_name, just_left):
        path.write_text("half")
        if path is not just_left:
            os.utime(path, (old, old))
    write_text(target, "{}")
    kept = [target, in_progress, unrelated, longer_name, just_left]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in kept)
