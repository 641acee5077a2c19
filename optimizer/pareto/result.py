"""``Frontier``: the immutable result of a frontier sweep, its points, and their JSON form.

A frontier's JSON holds everything its charts need (points, the current split, campaign
response curves), so ``tradeoff chart`` can redraw them without solving again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from optimizer.pareto.text import frontier_summary
from optimizer.plan import (
    SCHEMA_VERSION,
    Explanation,
    FiniteStep,
    Relaxation,
    ShadowPrice,
    Spread,
    Uncertainty,
    json_safe,
)
from optimizer.status import Status

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class FrontierPoint:
    """One point of the frontier: the best plan at one level of the traded KPI, and its prices.

    ``primary_lost_per_point`` is the price at the point: the primary KPI lost per extra step of the
    traded KPI (an SOV point, or one unit of a volume) with the budget fixed, the one-sided rate
    measured by re-solving a small step further (``solver.sensitivity``). ``budget_per_point`` is
    the extra spend per step with the primary KPI held at the lead-max level; ``extra_budget`` is
    that plan's spend above the budget (NaN where no budget can hold that level). Where a rate is
    NaN (the far end: no plan a step further) or too steep to quote, ``lost_step`` and
    ``budget_step`` give a finite step instead. The ``*_since_previous`` fields price the step
    from the previous point.
    """

    traded: float
    primary: float
    target: float
    kind: str
    spend: float
    impressions: float
    clicks: float
    leads: float
    cpl: float
    cpc: float
    pool_cpc: float
    pool_marginal_cpc: float
    primary_lost_per_point: float
    budget_per_point: float
    extra_budget: float
    gap: float | None
    spend_by_stage: Mapping[str, float]
    allocation: Mapping[str, float]
    kpis: Mapping[str, float] = field(default_factory=dict)
    lost_since_previous: float = float("nan")
    """Primary lost per step between the previous point and this one (a finite difference)."""
    budget_since_previous: float = float("nan")
    """Extra budget per step at constant primary between the previous point and this one."""
    cpl_change: float = float("nan")
    """CPL relative to the lead-max end (0.05 = 5% dearer)."""
    cpc_change: float = float("nan")
    """Blended CPC relative to the lead-max end."""
    lost_step: FiniteStep | None = None
    """Where ``primary_lost_per_point`` is NaN: a finite step of the traded KPI and the primary it costs
    (the last step into the far end, past which no plan goes; or the next, where the rate is too steep)."""
    budget_step: FiniteStep | None = None
    """The same for ``budget_per_point``."""

    def __post_init__(self) -> None:
        for name in ("spend_by_stage", "allocation", "kpis"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


@dataclass(frozen=True)
class CurrentPosition:
    """Where today's split sits, and how far the frontier is: same traded level, or same primary."""

    primary: float
    traded: float
    primary_gain: float | None
    """Primary KPI gained by moving to the frontier at the same traded level."""
    traded_gain: float | None
    """Traded KPI gained (SOV as a share) by moving to the frontier at the same primary level."""
    breaks: tuple[str, ...] = ()
    """The constraints every frontier point meets that today's split breaks (by name)."""


@dataclass(frozen=True)
class BandPoint:
    """The primary KPI's spread at one traded level over curve draws: each draw's own frontier there.

    A draw that cannot reach the level counts as the worst outcome, so a percentile that falls
    among such draws is NaN: at that confidence no plan reaches the level.
    """

    traded: float
    p10: float
    p50: float
    p90: float
    reached: int
    """How many draws reach this level at all (the percentiles are over those)."""


@dataclass(frozen=True)
class CampaignCurve:
    """A campaign's primary-KPI response curve, sampled for charts."""

    name: str
    stage: str
    channel: str
    current_spend: float
    recommended_spend: float
    spend: tuple[float, ...]
    primary: tuple[float, ...]


@dataclass(frozen=True)
class Frontier:
    """The frontier of the primary KPI against a traded one (usually a pool's share of voice).

    ``points`` run from the primary KPI's maximum (the lead-max end) to the traded KPI's
    maximum; ``knee`` and ``recommended`` index into them.
    """

    status: Status
    message: str
    scenario: str
    currency: str
    period: str | None
    primary: str
    secondary: str
    secondary_label: str
    is_share: bool
    budget: float | None
    points: tuple[FrontierPoint, ...]
    knee: int | None
    recommended: int | None
    current: CurrentPosition | None
    campaigns: tuple[CampaignCurve, ...] = ()
    stages: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    solves: int = 0
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()
    explanation: Explanation | None = None
    """Why no frontier exists, when its constraints conflict (see ``explain_infeasible``)."""
    band: tuple[BandPoint, ...] = ()
    """Set by ``frontier_uncertainty``: the primary KPI's P10-P90 at each point's level over curve draws."""
    uncertainty: Uncertainty | None = None
    """Set by ``frontier_uncertainty``: the recommended point's figures over the same draws."""
    recommended_constraints: tuple[ShadowPrice, ...] = ()
    """The binding constraints of the plan at the recommended point and what relaxing each is worth: the
    plan ``tradeoff report`` presents there (the scenario's own, as ``solve`` gives it, when it reaches
    that level; else the scenario with its floor on the traded KPI at that level)."""

    def __repr__(self) -> str:
        return (f"Frontier(status={self.status.value}, {self.primary} vs {self.secondary}, "
                f"points={len(self.points)}, knee={self.knee})")

    @property
    def success(self) -> bool:
        return self.status is Status.OPTIMAL

    @property
    def banded(self) -> bool:
        """True when the frontier carries a P10-P90 band, one entry per point."""
        return bool(self.band) and len(self.band) == len(self.points)

    def to_frame(self) -> pd.DataFrame:
        """One row per point: the traded and primary values, KPIs, prices and spend by stage (``spend_<stage>``);
        ``kpis`` holds each point's KPIs as a mapping."""
        import pandas as pd

        rows = []
        for index, point in enumerate(self.points):
            record = _point_record(self, point)
            del record["allocation"], record["spend_by_stage"]
            record.update({f"spend_{stage}": value for stage, value in point.spend_by_stage.items()})
            record["knee"] = index == self.knee
            record["recommended"] = index == self.recommended
            rows.append(record)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """The frontier as JSON-safe data (the documented contract)."""
        data = {
            "schema_version": SCHEMA_VERSION,
            "kind": "frontier",
            "scenario": {"name": self.scenario, "currency": self.currency, "period": self.period},
            "status": self.status.value,
            "message": self.message,
            "primary": self.primary,
            "secondary": self.secondary,
            "secondary_label": self.secondary_label,
            "is_share": self.is_share,
            "budget": self.budget,
            "points": [_point_record(self, p) for p in self.points],
            "knee": self.knee,
            "recommended": self.recommended,
            "current": asdict(self.current) if self.current is not None else None,
            "campaigns": [asdict(c) for c in self.campaigns],
            "stages": list(self.stages),
            "dropped": list(self.dropped),
            "solves": self.solves,
            "seconds": self.seconds,
            "warnings": list(self.warnings),
            "explanation": asdict(self.explanation) if self.explanation is not None else None,
            "band": [asdict(b) for b in self.band],
            "uncertainty": self.uncertainty.to_dict() if self.uncertainty is not None else None,
            "recommended_constraints": [asdict(price) for price in self.recommended_constraints],
        }
        return json_safe(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Frontier:
        """A frontier read back from its JSON (to redraw charts without solving)."""
        primary, secondary = data["primary"], data["secondary"]
        points = []
        for index, record in enumerate(data["points"]):
            try:
                points.append(_point_from_record(record, primary, secondary))
            except (KeyError, TypeError, ValueError) as error:
                raise ValueError(f"points[{index}]: {str(error).strip(chr(39))}") from None
        current = data.get("current")
        return cls(
            status=Status(data["status"]), message=data["message"], scenario=data["scenario"]["name"],
            currency=data["scenario"]["currency"], period=data["scenario"].get("period"), primary=primary,
            secondary=secondary, secondary_label=data.get("secondary_label", secondary),
            is_share=bool(data.get("is_share", secondary.startswith("sov."))), budget=data.get("budget"),
            points=tuple(points), knee=data.get("knee"), recommended=data.get("recommended"),
            current=CurrentPosition(**{**current, "breaks": tuple(current.get("breaks", ()))}) if current else None,
            campaigns=tuple(CampaignCurve(**{**c, "spend": tuple(c["spend"]), "primary": tuple(c["primary"])})
                            for c in data.get("campaigns", [])),
            stages=tuple(data.get("stages", ())), dropped=tuple(data.get("dropped", ())),
            solves=int(data.get("solves", 0)), seconds=float(data.get("seconds", 0.0)),
            warnings=tuple(data.get("warnings", ())), explanation=_explanation(data.get("explanation")),
            band=tuple(BandPoint(**{k: int(v) if k == "reached" else _number(v) for k, v in b.items()})
                       for b in data.get("band") or ()),
            uncertainty=_uncertainty(data.get("uncertainty")),
            recommended_constraints=tuple(_shadow_price(p) for p in data.get("recommended_constraints") or ()),
        )

    def summary(self) -> str:
        """A few lines: the frontier's ends, the knee and the price of the traded KPI there."""
        return frontier_summary(self)


def _explanation(record: Mapping[str, Any] | None) -> Explanation | None:
    if record is None:
        return None
    relaxations = tuple(Relaxation(**r) for r in record["relaxations"])
    return Explanation(tuple(record["conflict"]), relaxations, record["message"], bool(record["proven"]))


def _shadow_price(record: Mapping[str, Any]) -> ShadowPrice:
    steep = record.get("steep")
    return ShadowPrice(**{**record, "steep": FiniteStep(**steep) if steep is not None else None})


def _number(value: Any) -> float:
    """A saved number (null is NaN: a level no draw reached)."""
    if value is None:
        return float("nan")
    if not _is_number(value):
        raise ValueError(f"{json.dumps(value)} is not a number")
    return float(value)


def _uncertainty(record: Mapping[str, Any] | None) -> Uncertainty | None:
    if record is None:
        return None
    spreads = {side: {kpi: Spread(**{k: _number(v) for k, v in spread.items()})
                      for kpi, spread in record[side].items()} for side in ("as_planned", "re_solved")}
    return Uncertainty(int(record["draws"]), int(record["seed"]), tuple(record["drawn"]), spreads["as_planned"],
                       spreads["re_solved"], int(record.get("unsolved", 0)))


_RENAMED = {"traded": None, "primary": None}


def _point_record(frontier: Frontier, point: FrontierPoint) -> dict[str, Any]:
    """A point as a JSON record: the traded and primary values under their KPI names."""
    record = {frontier.secondary: point.traded, frontier.primary: point.primary}
    for item in fields(point):
        if item.name in _RENAMED:
            continue
        value = getattr(point, item.name)
        if isinstance(value, Mapping):
            value = dict(value)
        record[item.name] = asdict(value) if is_dataclass(value) and not isinstance(value, type) else value
    return record


def _point_from_record(record: Mapping[str, Any], primary: str, secondary: str) -> FrontierPoint:
    known = {item.name: item.type for item in fields(FrontierPoint)}
    values = {k: v for k, v in record.items() if k in known and k not in _RENAMED}
    values = {k: (float("nan") if v is None and k not in _NULLABLE else v) for k, v in values.items()}
    values |= {"traded": record[secondary], "primary": record[primary]}
    for key in _STEPS:
        values[key] = _step(key, values.get(key))
    for key, value in values.items():
        if key not in _STEPS:
            _check_numbers(key, value, known[key])
    return FrontierPoint(**values)


_STEPS = ("lost_step", "budget_step")
_NULLABLE = ("gap", *_STEPS)


def _step(key: str, value: Any) -> FiniteStep | None:
    """A saved finite step (null: none)."""
    if value is None:
        return None
    if (not isinstance(value, Mapping) or not all(_is_number(value.get(k)) for k in ("size", "change"))
            or value.get("direction", "next") not in ("next", "last")):
        raise ValueError(f'{key} is not a step ({{"size": number, "change": number, "direction": "next" or "last"}})')
    return FiniteStep(float(value["size"]), float(value["change"]), value.get("direction", "next"))


def _check_numbers(key: str, value: Any, annotation: Any) -> None:
    """Refuse a saved value that is not the number (or table of numbers) the field holds."""
    text = str(annotation)
    if text.startswith("Mapping"):
        items = value.values() if isinstance(value, Mapping) else [value]
        if not isinstance(value, Mapping) or not all(v is None or _is_number(v) for v in items):
            raise ValueError(f"{key} is not a table of numbers")
    elif text.startswith("float") and not (_is_number(value) or (value is None and "None" in text)):
        raise ValueError(f"{key} is {json.dumps(value)}, not a number")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
