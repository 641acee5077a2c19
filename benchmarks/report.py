"""The benchmark's tables, as Markdown: one per plan size, a summary, and the machine they ran on."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Outcome:
    """What one measurement process gave: its result, or why there is none."""

    data: dict | None
    stopped_after: float | None = None
    """Set when the process was ended at its time limit: how long the measurement itself had run."""
    progress: str = ""
    """The last progress line it printed (how far a stopped frontier got)."""
    error: str = ""


@dataclass(frozen=True)
class SizeResult:
    """Every measurement of one plan size."""

    size: int
    points: int
    solve: Outcome
    frontier: Outcome
    references: Outcome
    slsqp_estimate: str = ""
    """For a size where SLSQP was skipped: its estimated cost, from the sizes where it ran."""


# --- numbers ------------------------------------------------------------------------------------


def seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def ratio(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}x" if value < 100 else f"{value:,.0f}x"


def percent(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    shown = round(100 * value, digits)
    return f"{shown + 0.0:.{digits}f}%"  # + 0.0 turns -0.0 into 0.0


def leads(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def broken(violations: dict[str, float]) -> str:
    """``all hold``, or each broken constraint with its relative excess."""
    if not violations:
        return "all hold"
    return ", ".join(f"{name} by {percent(excess, 4)}" for name, excess in violations.items())


def shortfall(ours: float | None, theirs: float | None) -> float | None:
    """How far ``theirs`` falls short of ``ours``, as a fraction of ours (negative: more than ours)."""
    if ours is None or theirs is None or ours == 0:
        return None
    return (ours - theirs) / ours


# --- what each size's table reads ------------------------------------------------------------------

Time = tuple[float, bool] | None
"""Seconds, and whether they are only a lower bound (the measurement was stopped); None if it failed."""


def compare(a: Time, b: Time) -> str:
    """``a / b`` as a ratio, "> x" or "< x" when one side is a lower bound, "n/a" when both are."""
    if a is None or b is None or b[0] <= 0 or (a[1] and b[1]):
        return "n/a"
    sign = "> " if a[1] else "< " if b[1] else ""
    return sign + ratio(a[0] / b[0])


def _time_of(outcome: Outcome) -> Time:
    if outcome.stopped_after is not None:
        return outcome.stopped_after, True
    return (outcome.data["seconds"], False) if outcome.data else None


def _lp_time(lp: dict | None) -> Time:
    return None if lp is None else (lp["seconds"], lp["notes"]["status"] != "Optimal")


def _ran_time(reference: dict | None) -> Time:
    return None if reference is None else (reference["seconds"], False)


def _shown_time(outcome: Outcome) -> str:
    if outcome.stopped_after is not None:
        return f"> {outcome.stopped_after:.0f} (stopped)"
    if outcome.data is None:
        return "failed"
    return seconds(outcome.data["seconds"])


def _reference(result: SizeResult, name: str) -> dict | None:
    data = result.references.data
    return data.get(name) if data else None


def our_rows(result: SizeResult) -> list[list[str]]:
    solve, curve = result.solve.data, result.frontier.data
    lp = _lp_time(_reference(result, "generic_lp"))
    if solve:
        note = (f"{solve['status']}, certified gap {percent(solve['gap'], 4)}, MILP campaigns: {solve['milp']}, "
                f"peak RSS {solve['peak_rss_mib']:,.0f} MiB "
                f"(+{solve['peak_rss_mib'] - solve['baseline_rss_mib']:,.0f} over the plan built)")
        rows = [["ours: solve", _shown_time(result.solve), "(reference)", leads(solve["leads"]), "0",
                 broken(solve["violations"]), note]]
    else:
        rows = [["ours: solve", _shown_time(result.solve), "", "", "", "", result.solve.error or "no plan"]]
    if curve:
        note = (f"{curve['points']} points, {curve['solves']} solver runs, a certified gap at "
                f"{curve['certified']} points (largest {percent(curve['max_gap'], 4)}), "
                f"peak RSS {curve['peak_rss_mib']:,.0f} MiB")
    elif result.frontier.error:
        note = result.frontier.error
    else:
        done = result.frontier.progress or "none reported (progress starts once both ends are solved)"
        note = f"stopped at the limit; points done: {done}"
    rows.append([f"ours: {result.points}-point frontier", _shown_time(result.frontier),
                 f"frontier / LP one solve: {compare(_time_of(result.frontier), lp)}", "", "", "", note])
    return rows


def reference_rows(result: SizeResult) -> list[list[str]]:
    ours = result.solve.data
    our_leads = ours["leads"] if ours else None
    our_time = _time_of(result.solve)
    rows = []
    lp = _reference(result, "generic_lp")
    if lp:
        optimal = lp["notes"]["status"] == "Optimal"
        note = (f"HiGHS: {lp['notes']['status']}; solve only {seconds(lp['solve_seconds'])} s "
                f"(ours / LP solve only: {compare(our_time, (lp['solve_seconds'], not optimal))}); "
                f"S-curves convexified: {result.references.data['s_shaped']}")
        shown = seconds(lp["seconds"]) if optimal else f"> {seconds(lp['seconds'])} (time limit)"
        found = [leads(lp["leads"]), percent(shortfall(our_leads, lp["leads"])), broken(lp["violations"])]
        rows.append(["generic LP: HiGHS, 50 uniform segments", shown,
                     f"ours / LP: {compare(our_time, _lp_time(lp))}", *(found if optimal else ["", "", ""]), note])
    for key, label in (("slsqp", "SLSQP: exact curves, scaled, from an equal split"),
                       ("slsqp_dollars", "SLSQP: the same in dollars (as peers run it)")):
        fit = _reference(result, key)
        if fit:
            rows.append(_slsqp_row(label, fit, our_time, our_leads))
        elif result.references.data is not None:
            why = result.slsqp_estimate if key == "slsqp" else "run up to 100 campaigns only (it hits its limits)"
            rows.append([label, "skipped (too slow)", "", "", "", "", why])
    walk = _reference(result, "greedy")
    if walk:
        rows.append(["greedy: 1% spend grid, best marginal leads/$", seconds(walk["seconds"]),
                     f"greedy / ours: {compare(_ran_time(walk), our_time)}", leads(walk["leads"]),
                     percent(shortfall(our_leads, walk["leads"])), broken(walk["violations"]),
                     f"{walk['notes']['steps']:,} steps; it sees only the budget and the bounds"])
    if result.references.data is None:
        rows.append(["references", _shown_time(result.references), "", "", "", "", result.references.error])
    return rows


def _slsqp_row(label: str, fit: dict, our_time: Time, our_leads: float | None) -> list[str]:
    notes = fit["notes"]
    state = ("converged" if notes["converged"] else
             "stopped at its time limit, not converged" if notes["stopped_at_limit"] else
             f"not converged: {notes['message']}")
    per_iteration = fit["seconds"] / max(notes["iterations"], 1)
    return [label, seconds(fit["seconds"]), f"SLSQP / ours: {compare(_ran_time(fit), our_time)}",
            leads(fit["leads"]), percent(shortfall(our_leads, fit["leads"])), broken(fit["violations"]),
            f"{notes['iterations']} iterations ({per_iteration:.2g} s each), {state}"]


HEADER = ["method", "time (s)", "ratio", "leads (true curves)", "short of ours", "constraints on true curves",
          "notes"]


def size_table(result: SizeResult) -> str:
    """The table of one plan size."""
    s_shaped = next((o.data["s_shaped"] for o in (result.solve, result.references) if o.data), None)
    title = f"### {result.size:,} campaigns" + (f" ({s_shaped} S-shaped)" if s_shaped is not None else "")
    return title + "\n\n" + markdown([HEADER, *our_rows(result), *reference_rows(result)])


def summary_table(results: list[SizeResult]) -> str:
    """One line per size: the figures the issue's targets are stated in."""
    header = ["campaigns", "our solve (s)", "gap", "frontier (s)", "peak RSS (MiB)", "generic LP (s)",
              "solve / LP", "frontier / LP", "SLSQP (s)", "SLSQP / ours", "SLSQP short", "SLSQP in $ / ours",
              "greedy (s)", "greedy / ours", "greedy short"]
    rows = [header]
    for r in results:
        solve = r.solve.data
        our_leads, ours = (solve["leads"] if solve else None), _time_of(r.solve)
        lp, fit, dollars, walk = (_reference(r, k) for k in ("generic_lp", "slsqp", "slsqp_dollars", "greedy"))
        lp_time = _lp_time(lp)
        rss = max((o.data["peak_rss_mib"] for o in (r.solve, r.frontier) if o.data), default=None)
        rows.append([
            f"{r.size:,}", _shown_time(r.solve), percent(solve["gap"], 4) if solve else "n/a",
            _shown_time(r.frontier), f"{rss:,.0f}" if rss else "n/a",
            "n/a" if lp_time is None else ("> " if lp_time[1] else "") + seconds(lp_time[0]),
            compare(ours, lp_time), compare(_time_of(r.frontier), lp_time),
            seconds(fit["seconds"]) if fit else "skipped", compare(_ran_time(fit), ours) if fit else "",
            percent(shortfall(our_leads, fit["leads"])) if fit else "",
            compare(_ran_time(dollars), ours) if dollars else "skipped",
            seconds(walk["seconds"]) if walk else "n/a", compare(_ran_time(walk), ours) if walk else "",
            percent(shortfall(our_leads, walk["leads"])) if walk else "",
        ])
    return markdown(rows)


def markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


# --- the machine -----------------------------------------------------------------------------------


def machine() -> str:
    """CPU, cores, memory, versions, date and commit, as a Markdown list."""
    versions = ", ".join(f"{name} {_version(name)}" for name in ("highspy", "numpy", "scipy"))
    return "\n".join([
        f"- CPU: {_cpu_model()}, {os.cpu_count()} cores; RAM {_memory_gib():.1f} GiB",
        f"- Python {platform.python_version()}, {versions}",
        f"- date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}; "
        f"load average at start {os.getloadavg()[0]:.2f}; commit {_commit()}",
    ])


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with local changes" if dirty else "")
