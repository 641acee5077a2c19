"""Excel exports of a plan and a frontier, with the assumptions they rest on.

The export layer reads ``Plan``, ``Frontier`` and ``Scenario`` objects only; it never solves.
A workbook has a ``plan`` sheet when given a plan, a ``frontier`` sheet when given a frontier
(``frontier 250k``, ``frontier 300k``, ... for a budget sweep: one sheet per budget, each with
its own knee and recommended point) and always an ``assumptions`` sheet. Sheets that have
nothing to show are left out rather than written empty.
"""

from __future__ import annotations

import gc
import io
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook

from optimizer.export_assumptions import assumptions_sheet
from optimizer.export_sheet import Cell, Kind, Sheet, kpi_kind, kpi_label
from optimizer.formatting import short_count, within
from optimizer.output import OutputError, atomic_path
from optimizer.pareto.text import current_sentence, price_sentence, today_apart, traded_step, traded_text
from optimizer.plan_text import shown_price, steep_price

if TYPE_CHECKING:
    from optimizer.pareto.result import Frontier
    from optimizer.plan import Explanation, Plan
    from optimizer.scenario.schema import Scenario

FUNNEL = ("mqls", "sqls", "customers", "revenue")
KPI_ROWS = ("spend", "impressions", "clicks", "leads", "mqls", "sqls", "customers", "revenue", "cpm", "ctr", "cpc",
            "cvr", "cpl", "cpmql", "cpsql", "cac", "roas", "roi")
_ALLOCATION: tuple[tuple[str, str, Kind], ...] = (
    ("Campaign", "campaign", "text"), ("Stage", "stage", "text"), ("Channel", "channel", "text"),
    ("Current spend", "current_spend", "money"), ("Planned spend", "spend", "money"), ("Change", "change", "money"),
    ("Change %", "change_pct", "change"), ("Impressions", "impressions", "count"), ("Clicks", "clicks", "count"),
    ("Leads", "leads", "count"), ("MQLs", "mqls", "count"), ("SQLs", "sqls", "count"),
    ("Customers", "customers", "count"), ("Revenue", "revenue", "money"), ("CPC", "cpc", "price"),
    ("CPL", "cpl", "price"), ("Marginal CPL", "marginal_cpl", "price"), ("Held by", "at_bound", "text"),
)


def write_workbook(path: str | Path, *, plan: Plan | None = None,
                   frontier: Frontier | Sequence[Frontier] | None = None, scenario: Scenario | None = None) -> Path:
    """Write an .xlsx workbook at ``path`` (atomically: an existing file is replaced only by a complete one).

    Sheets: ``plan`` (with a plan), ``frontier`` (with a frontier; a sequence of frontiers, a
    budget sweep, gives one sheet per budget) and ``assumptions`` (what the numbers rest on:
    the scenario's settings, market, spend bounds, curves and constraints when ``scenario`` is
    given, and the solver's certificate and notes). Money is formatted in the currency of the
    results (else the scenario's). Returns ``path``.
    """
    frontiers = _as_sequence(frontier)
    if plan is None and not frontiers and scenario is None:
        raise ValueError("nothing to export: give a plan, a frontier or a scenario")
    currency = _currency(plan, frontiers, scenario)
    workbook = Workbook()
    workbook.remove(workbook.active)
    if plan is not None:
        plan_sheet(Sheet(workbook.create_sheet("plan"), currency), plan)
    for name, each in zip(frontier_sheet_names(frontiers), frontiers, strict=True):
        frontier_sheet(Sheet(workbook.create_sheet(name), currency), each)
    assumptions_sheet(Sheet(workbook.create_sheet("assumptions"), currency), scenario, plan, frontiers)
    target = Path(path)
    document = _workbook_bytes(workbook, target)
    with atomic_path(target) as temporary:
        temporary.write_bytes(document)
    return target


def _workbook_bytes(workbook: Workbook, target: Path) -> bytes:
    """The workbook as the bytes of an .xlsx file, made in memory (openpyxl still writes each sheet to a
    temporary file first). A failure of the file system there is an ``OutputError`` for ``target``, and the
    half-written parts openpyxl leaves are freed quietly (each would print a traceback as it is collected)."""
    document, failure = io.BytesIO(), None
    try:
        workbook.save(document)
    except OSError as error:
        failure = OutputError(target, error)  # its reason only: the error's frames hold the parts
    if failure is not None:  # outside the handler, once those frames are gone
        _collect_quietly()
        raise failure
    return document.getvalue()


def _collect_quietly() -> None:
    """Free what a failed save left, with the tracebacks its parts raise as they are freed kept quiet."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _unraisable: None
    try:
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _as_sequence(frontier: Frontier | Sequence[Frontier] | None) -> tuple[Frontier, ...]:
    if frontier is None:
        return ()
    if isinstance(frontier, Sequence):
        return tuple(frontier)
    return (frontier,)


def _currency(plan: Plan | None, frontiers: Sequence[Frontier], scenario: Scenario | None) -> str:
    if plan is not None:
        return plan.currency
    if frontiers:
        return frontiers[0].currency
    assert scenario is not None
    return scenario.currency


def frontier_sheet_names(frontiers: Sequence[Frontier]) -> list[str]:
    """``frontier`` for one frontier; ``frontier 250k``, ``frontier 1.5m`` for a budget sweep (unique)."""
    if len(frontiers) == 1:
        return ["frontier"]
    names: list[str] = []
    for index, each in enumerate(frontiers, start=1):
        name = f"frontier {short_count(each.budget, money=True)}" if each.budget is not None else f"frontier {index}"
        names.append(name if name not in names else f"{name} ({index})")
    return names


# --- plan ------------------------------------------------------------------------------


def plan_sheet(sheet: Sheet, plan: Plan) -> None:
    """The allocation with a total row, the KPIs, the certificate, binding constraints and notes."""
    columns = _allocation_columns(plan)
    sheet.header(header for header, _, _ in columns)
    for row in plan.allocation:
        sheet.write([Cell(getattr(row, name), kind) for _, name, kind in columns])
    if plan.allocation:
        totals = _totals(plan)
        sheet.write([Cell(totals.get(name), kind) for _, name, kind in columns], bold=True)
        _kpi_block(sheet, plan)
    _status_block(sheet, plan)
    _prices_block(sheet, plan)
    _uncertainty_block(sheet, plan)
    _notes(sheet, [*plan.warnings, *_explanation_lines(plan.explanation, plan.message)])
    sheet.finish("B2")


def _allocation_columns(plan: Plan) -> list[tuple[str, str, Kind]]:
    """Every allocation column, the funnel outcomes only when some campaign has them."""
    return [(header, name, kind) for header, name, kind in _ALLOCATION
            if name not in FUNNEL or any(getattr(row, name) for row in plan.allocation)]


def _totals(plan: Plan) -> dict[str, Any]:
    kpis, current = plan.kpis, plan.current_kpis
    spend, before = kpis.get("spend", math.nan), current.get("spend", math.nan)
    totals: dict[str, Any] = {name: kpis.get(name) for name in ("impressions", "clicks", "leads", *FUNNEL)}
    totals |= {"cpc": kpis.get("cpc"), "cpl": kpis.get("cpl")}
    return {**totals, "campaign": "Total", "current_spend": before, "spend": spend, "change": spend - before,
            "change_pct": _relative(spend, before)}


def _relative(new: float | None, old: float | None) -> float:
    """``new / old - 1``; NaN when it is undefined."""
    if new is None or old is None or not math.isfinite(old) or old == 0:
        return math.nan
    return new / old - 1


def _kpi_block(sheet: Sheet, plan: Plan) -> None:
    sheet.blank()
    sheet.header(["KPI", "Current", "Plan", "Change", "Change %"])
    for name in KPI_ROWS:
        now, new = plan.current_kpis.get(name, math.nan), plan.kpis.get(name, math.nan)
        if name not in ("spend", "impressions", "clicks", "leads", "cpm", "ctr", "cpc", "cvr", "cpl") and not (
                math.isfinite(new) and new):
            continue
        kind = kpi_kind(name)
        change_kind: Kind = "change" if kind == "percent" else kind
        sheet.write([Cell(kpi_label(name)), Cell(now, kind), Cell(new, kind), Cell(new - now, change_kind),
                     Cell(_relative(new, now), "change")])
    for pool, share in plan.sov.items():
        now = plan.current_sov.get(pool, math.nan)
        sheet.write([Cell(f"SOV {pool}"), Cell(now, "percent"), Cell(share, "percent"), Cell(share - now, "change"),
                     Cell(_relative(share, now), "change")])


def _status_block(sheet: Sheet, plan: Plan) -> None:
    sheet.blank()
    sheet.write([Cell("Status"), Cell(plan.status.value), Cell(plan.message)], fit=False)
    kind = kpi_kind(plan.objective_kpi)
    if plan.objective_value is not None:
        sheet.write([Cell(f"{plan.objective_sense} {plan.objective_kpi}"), Cell(plan.objective_value, kind),
                     Cell("on the exact curves")], fit=False)
    if plan.bound is not None:
        sheet.write([Cell("Proven bound"), Cell(plan.bound, kind), Cell("no plan can do better than this")], fit=False)
    sheet.write([Cell("Certificate gap"), Cell(plan.gap, "gap"), Cell(within(plan.gap))], fit=False)


def _prices_block(sheet: Sheet, plan: Plan) -> None:
    """Every binding constraint, its bound and value, and what relaxing it is worth (a number and a sentence)."""
    if not plan.shadow_prices:
        return
    sheet.blank()
    sheet.header(["Binding constraint", "Bound", "Value", "Relaxing it is worth", "Per"])
    for price in plan.shadow_prices:
        kind = "money" if price.kind == "campaign" else kpi_kind(price.kpi)
        worth, unit = shown_price(price, plan.currency)
        if worth is None:  # too steep for a rate: its finite step, in words
            sheet.write([Cell(price.constraint), Cell(price.bound, kind), Cell(price.value, kind),
                         Cell(steep_price(price, plan.currency))])
            continue
        shown: Kind = "decimal" if abs(worth) >= 0.01 else "number"  # General: a small price is not 0.00
        sheet.write([Cell(price.constraint), Cell(price.bound, kind), Cell(price.value, kind), Cell(worth, shown)])
        sheet.put(5, Cell(unit), fit=False)


def _uncertainty_block(sheet: Sheet, plan: Plan) -> None:
    uncertainty = plan.uncertainty
    if uncertainty is None:
        return
    sheet.blank()
    sheet.header([f"How sure ({uncertainty.draws} draws)", "This plan P10", "P50", "P90", "Best plan P10", "P50",
                  "P90"])
    for kpi in dict.fromkeys([*uncertainty.as_planned, *uncertainty.re_solved]):
        cells = [Cell(kpi_label(kpi))]
        for side in (uncertainty.as_planned, uncertainty.re_solved):
            spread = side.get(kpi)
            values = (spread.p10, spread.p50, spread.p90) if spread is not None else (None, None, None)
            cells += [Cell(value, kpi_kind(kpi)) for value in values]
        sheet.write(cells)


def _explanation_lines(explanation: Explanation | None, message: str) -> list[str]:
    """Why no plan exists (unless the status line says it already), and each way out."""
    if explanation is None:
        return []
    why = [explanation.message] if explanation.message not in message else []
    ways = [f"to fix it: {r.sentence}" + (f" (--set '{r.key}={r.value:.10g}')" if r.key else "")
            for r in explanation.relaxations]
    return [*why, *ways]


def _notes(sheet: Sheet, lines: Sequence[str]) -> None:
    if lines:
        sheet.title("Notes")
        for line in lines:
            sheet.note(line)


# --- frontier --------------------------------------------------------------------------


def frontier_sheet(sheet: Sheet, frontier: Frontier) -> None:
    """One row per point (knee and recommended marked and highlighted), today's split, and the notes."""
    frame = frontier.to_frame()
    columns = _frontier_columns(frontier, list(frame.columns))
    sheet.header([header for _, header, _ in columns] + ["Marks"])
    for index, record in enumerate(frame.to_dict("records")):
        values = {**record, **_per_shown_step(frontier, record), **_other_pools(frontier, record.get("kpis") or {}),
                  **_band(frontier, index)}
        marks = [mark for mark, at in (("knee", frontier.knee), ("recommended", frontier.recommended)) if at == index]
        sheet.write([Cell(values.get(name), kind) for name, _, kind in columns] + [Cell(", ".join(marks) or None)],
                    highlight=bool(marks))
    _current_block(sheet, frontier)
    notes = [f"{frontier.primary} against {frontier.secondary_label}: {frontier.message}"]
    if frontier.knee is not None and frontier.points:
        knee = frontier.points[frontier.knee]
        notes.append(f"knee at {traded_text(frontier, knee.traded)}: {price_sentence(frontier, knee)}")
    if frontier.dropped:
        notes.append(f"the frontier moves: {', '.join(frontier.dropped)}")
    _notes(sheet, [*notes, *frontier.warnings, *_explanation_lines(frontier.explanation, frontier.message)])
    sheet.finish("B2")


def _frontier_columns(frontier: Frontier, names: Sequence[str]) -> list[tuple[str, str, Kind]]:
    """``(column, header, kind)`` for the frame's columns (mappings and the knee/recommended flags left out),
    other pools' SOV, and the band when there is one."""
    known = _frontier_headers(frontier)
    skipped = {"spend_by_stage", "kpis", "knee", "recommended"}
    columns = [(name, *known.get(name, _unknown(name))) for name in names if name not in skipped]
    pools = [kpi for kpi in (frontier.points[0].kpis if frontier.points else {}) if kpi.startswith("sov.")]
    columns += [(kpi, f"SOV {kpi.removeprefix('sov.')}", "percent") for kpi in pools if kpi != frontier.secondary]
    if frontier.banded:
        primary, kind = kpi_label(frontier.primary), kpi_kind(frontier.primary)
        columns += [(f"band_{p}", f"{primary} {p.upper()}", kind) for p in ("p10", "p50", "p90")]
        columns.append(("band_reached", "Draws reaching", "count"))
    return columns


def _frontier_headers(frontier: Frontier) -> dict[str, tuple[str, Kind]]:
    label, primary, step = frontier.secondary_label, kpi_label(frontier.primary), traded_step(frontier).words
    traded: Kind = "percent" if frontier.is_share else kpi_kind(frontier.secondary)
    lost: Kind = "price" if kpi_kind(frontier.primary) in ("money", "price") else "decimal"
    headers: dict[str, tuple[str, Kind]] = {
        "target": (f"Target {label}", traded), "kind": ("Point", "text"), "spend": ("Spend", "money"),
        "impressions": ("Impressions", "count"), "clicks": ("Clicks", "count"), "leads": ("Leads", "count"),
        "cpl": ("CPL", "price"), "cpc": ("CPC", "price"), "pool_cpc": ("Pool CPC", "price"),
        "pool_marginal_cpc": ("Pool marginal CPC", "price"),
        "primary_lost_per_point": (f"{primary} lost per {step}", lost),
        "budget_per_point": (f"Budget per {step} at constant {frontier.primary}", "price"),
        "extra_budget": ("Extra budget", "money"), "gap": ("Gap", "gap"),
        "lost_since_previous": (f"{primary} lost per {step} since previous point", lost),
        "budget_since_previous": (f"Budget per {step} since previous point", "price"),
        "cpl_change": ("CPL change", "change"), "cpc_change": ("CPC change", "change"),
        **{f"spend_{stage}": (f"Spend {stage}", "money") for stage in frontier.stages},
    }
    headers[frontier.primary] = (primary, kpi_kind(frontier.primary))
    headers[frontier.secondary] = (label, traded)
    return headers


PER_STEP = ("primary_lost_per_point", "budget_per_point", "lost_since_previous", "budget_since_previous")
"""The frontier's columns priced per step of the traded KPI (an SOV point, one unit of a volume)."""


def _per_shown_step(frontier: Frontier, record: dict[str, Any]) -> dict[str, Any]:
    """The per-step prices of a point per the step its header names (per 1,000 impressions, say)."""
    per = traded_step(frontier).per
    return {name: record[name] * per for name in PER_STEP if record.get(name) is not None}


def _unknown(name: str) -> tuple[str, Kind]:
    """A column this sheet does not know yet: shown under its own name."""
    return name.replace("_", " ").capitalize(), "number"


def _other_pools(frontier: Frontier, kpis: Any) -> dict[str, Any]:
    return {kpi: value for kpi, value in dict(kpis).items() if kpi.startswith("sov.") and kpi != frontier.secondary}


def _band(frontier: Frontier, index: int) -> dict[str, Any]:
    if not frontier.banded:
        return {}
    band = frontier.band[index]
    return {"band_p10": band.p10, "band_p50": band.p50, "band_p90": band.p90, "band_reached": band.reached}


def _current_block(sheet: Sheet, frontier: Frontier) -> None:
    """Today's split beside the frontier, in numbers, and the sentence saying what the frontier offers."""
    current = frontier.current
    if current is None:
        return
    label, primary = frontier.secondary_label, kpi_label(frontier.primary)
    traded: Kind = "percent" if frontier.is_share else kpi_kind(frontier.secondary)
    gain: Kind = "change" if frontier.is_share else traded
    sheet.title("Today's split")
    sheet.header([label, primary, f"{primary} gained at the same {label} or more",
                  f"{label} gained at the same {frontier.primary} or more"])
    apart = today_apart(frontier) is not None  # no gains are shown for a split the frontier cannot be compared with
    sheet.write([Cell(current.traded, traded), Cell(current.primary, kpi_kind(frontier.primary)),
                 Cell(None if apart else current.primary_gain, kpi_kind(frontier.primary)),
                 Cell(None if apart else current.traded_gain, gain)])
    sheet.note(current_sentence(frontier))
