"""The scenario schema: one set of strict, immutable models for TOML, JSON, CSV and code.

Unknown keys are errors, numbers must be numbers (a quoted "35" is refused), and every
value is checked on its own here; checks that look across the scenario (pools that
exist, rates of outcomes that exist, bounds that fit together) live in ``checks.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    Tag,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from optimizer.glossary import OUTCOMES

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Positive = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)]
NonNegative = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
Fraction = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)]
Text = Annotated[str, Field(strict=True, min_length=1)]


class InputError(ValueError):
    """A value that fails a check of the schema: what is wrong, and how to fix it."""

    def __init__(self, message: str, fix: str = ""):
        super().__init__(message)
        self.fix = fix


STAGES = ("awareness", "consideration", "conversion", "retention")
Stage = Literal["awareness", "consideration", "conversion", "retention"]
Outcome = Literal["impressions", "clicks", "leads", "mqls", "sqls", "customers", "revenue"]


class Spec(BaseModel):
    """Base of every scenario model: strict, closed to unknown keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


TableCheck = Callable[[Mapping[str, Any]], tuple[tuple[str, ...], InputError] | None]


def validated_with(check: TableCheck, model: type[Spec], data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """``data`` validated by ``handler``, with ``check`` run on the table as written as well.

    An "after" validator runs only once every value is valid, so a bad value would hide a
    problem of the whole table (two measures for a pool beside a share of market of 2): this
    raises both at once. ``check`` returns the key to locate its problem at (``()`` for the
    table) and the problem, or None; it is not run on a table with an unknown key.
    """
    errors: list[Any] = []
    try:
        validated = handler(data)
    except ValidationError as error:
        errors = list(error.errors())
    # with an unknown key (a misspelt measure or bound, perhaps) the table's own check would guess
    misspelt = not isinstance(data, Mapping) or any(key not in model.model_fields for key in data)
    found = None if misspelt else check(data)
    if found is not None:
        loc, problem = found
        errors.append(InitErrorDetails(type="value_error", loc=loc, input=data, ctx={"error": problem}))
    if errors:
        raise ValidationError.from_exception_data(model.__name__, errors)
    return validated


Covariance = tuple[tuple[Number, ...], ...]


class FittedSpec(Spec):
    """A curve whose parameters may come from a fit, with their covariance (``tradeoff fit`` writes it).

    ``covariance`` is the parameters' covariance matrix, rows and columns in the order of
    ``PARAMETERS``; ``--uncertainty`` draws curves from it.
    """

    PARAMETERS: ClassVar[tuple[str, ...]] = ()
    covariance: Covariance | None = None

    @model_validator(mode="after")
    def _covariance_fits(self) -> FittedSpec:
        if self.covariance is not None:
            _check_covariance(self.covariance, self.PARAMETERS)
        return self


def _check_covariance(matrix: Covariance, names: tuple[str, ...]) -> None:
    """A covariance matrix the size of the family's parameters, symmetric, with variances >= 0."""
    order = ", ".join(names)
    if len(matrix) != len(names) or any(len(row) != len(names) for row in matrix):
        raise InputError(
            f"covariance must be a {len(names)}x{len(names)} matrix (one row and column per parameter: {order})",
            f"write it as a list of {len(names)} rows of {len(names)} numbers, in the order {order}")
    for i, row in enumerate(matrix):
        if row[i] < 0:
            raise InputError(f"covariance: the variance of {names[i]} is negative ({row[i]:g})",
                             "variances (the diagonal) are squared standard errors, never negative")
        for j in range(i):
            if not math.isclose(row[j], matrix[j][i], rel_tol=1e-6, abs_tol=1e-12):
                raise InputError(
                    f"covariance is not symmetric: the entry for {names[i]} and {names[j]} is {row[j]:g} one way "
                    f"and {matrix[j][i]:g} the other",
                    "a covariance matrix equals its transpose; copy one triangle onto the other")


# --- response curves -------------------------------------------------------------------


class LinearSpec(FittedSpec):
    """outcome = spend / unit_cost (a constant CPM, CPC or CPL)."""

    PARAMETERS: ClassVar[tuple[str, ...]] = ("unit_cost",)
    curve: Literal["linear"]
    unit_cost: Positive

    def ceiling(self, spend: float) -> float:
        """The most outcome ``spend`` can buy (``inf`` past float range)."""
        return _guarded(lambda: spend / self.unit_cost)


class ExponentialSpec(FittedSpec):
    """outcome = max * (1 - exp(-spend / scale))."""

    PARAMETERS: ClassVar[tuple[str, ...]] = ("max", "scale")
    curve: Literal["exponential"]
    max: Positive
    scale: Positive

    def ceiling(self, spend: float) -> float:
        """The most outcome any spend can buy."""
        return self.max


class HillSpec(FittedSpec):
    """outcome = max * spend^shape / (spend^shape + half^shape); shape > 1 is S-shaped."""

    PARAMETERS: ClassVar[tuple[str, ...]] = ("max", "half", "shape")
    curve: Literal["hill"]
    max: Positive
    half: Positive
    shape: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=10)]
    """Fitted Hill shapes lie between about 0.5 and 5; past 10 the curve is a step."""

    def ceiling(self, spend: float) -> float:
        """The most outcome any spend can buy."""
        return self.max


class PowerSpec(FittedSpec):
    """outcome = coef * spend^exponent."""

    PARAMETERS: ClassVar[tuple[str, ...]] = ("coef", "exponent")
    curve: Literal["power"]
    coef: Positive
    exponent: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0.01, le=10)]
    """Fitted exponents lie between about 0.2 and 1; below 0.01 the curve is a step at zero spend."""

    def ceiling(self, spend: float) -> float:
        """The outcome at ``spend`` (``inf`` past float range)."""
        return _guarded(lambda: self.coef * spend**self.exponent)


class LogSpec(FittedSpec):
    """outcome = coef * ln(1 + spend / scale)."""

    PARAMETERS: ClassVar[tuple[str, ...]] = ("coef", "scale")
    curve: Literal["log"]
    coef: Positive
    scale: Positive

    def ceiling(self, spend: float) -> float:
        """The outcome at ``spend`` (``inf`` past float range)."""
        return _guarded(lambda: self.coef * math.log1p(spend / self.scale))


class TabularSpec(Spec):
    """Points ``[spend, outcome]`` from a simulator, interpolated linearly."""

    curve: Literal["tabular"]
    points: Annotated[tuple[tuple[NonNegative, NonNegative], ...], Field(min_length=2)]

    @field_validator("points")
    @classmethod
    def _sorted_and_rising(cls, points: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
        for k in range(1, len(points)):
            (spend_before, before), (spend, value) = points[k - 1], points[k]
            if spend == spend_before:
                raise InputError(
                    f"point {k + 1} repeats the spend of point {k} ({spend:g}): the points must be sorted by "
                    "spend, one point per spend value",
                    "keep one point for each spend value",
                )
            if spend < spend_before:
                raise InputError(
                    f"spend values must rise from point to point, but point {k + 1} ({spend:g}) is below "
                    f"point {k} ({spend_before:g}): the points are not sorted by spend",
                    "sort the points by spend, from the lowest",
                )
            if value < before:
                raise InputError(
                    f"the outcome falls from {before:g} to {value:g} between points {k} and {k + 1}: a response "
                    "curve never falls as spend rises",
                    "check the simulator export: each point's outcome must be at least the previous one's",
                )
        if points[-1][1] == points[0][1]:
            raise InputError(
                f"the outcome never rises: every point gives {points[0][1]:g}, so spend would buy nothing",
                "check the simulator export, or leave the outcome out if the campaign does not produce it",
            )
        return points

    def ceiling(self, spend: float) -> float:
        """The most outcome the table holds."""
        return self.points[-1][1]


def _guarded(value: Callable[[], float]) -> float:
    try:
        return value()
    except (OverflowError, ZeroDivisionError):
        return math.inf


CurveSpec = Annotated[
    Union[LinearSpec, ExponentialSpec, HillSpec, PowerSpec, LogSpec, TabularSpec],  # noqa: UP007
    Field(discriminator="curve"),
]


class RateSpec(Spec):
    """outcome = rate * another outcome of the same campaign (CTR, CVR, lead-to-MQL, value per lead)."""

    rate: Positive
    of: Outcome
    se: NonNegative | None = None
    """The rate's standard error (``tradeoff fit`` writes it); ``--uncertainty`` draws rates from it."""


def rate_ceiling(outcome: str, of: str) -> float:
    """The most a rate giving ``outcome`` from ``of`` may be: 1 for a count taken from a count before it in
    the funnel (clicks of impressions, leads of clicks, ...), none for revenue or a count drawn upward."""
    counted = outcome in OUTCOMES and of in OUTCOMES and outcome != "revenue"
    return 1.0 if counted and OUTCOMES.index(outcome) > OUTCOMES.index(of) else math.inf


def _outcome_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return "curve" if "curve" in value else "rate"
    if isinstance(value, BaseModel):
        return "rate" if isinstance(value, RateSpec) else "curve"
    return None


OutcomeSpec = Annotated[
    Union[Annotated[CurveSpec, Tag("curve")], Annotated[RateSpec, Tag("rate")]],  # noqa: UP007
    Discriminator(_outcome_kind),
]


# --- campaigns -------------------------------------------------------------------------


class SpendSpec(Spec):
    """A campaign's spend per planning period: today's level and the allowed range."""

    current: NonNegative = 0.0
    min: NonNegative = 0.0
    max: NonNegative | None = None
    locked: StrictBool = False
    max_change: NonNegative | None = None
    observed_min: NonNegative | None = None
    """The lowest spend of a period in the campaign's history (``tradeoff fit`` writes it)."""
    observed_max: NonNegative | None = None
    """The highest spend of a period in the campaign's history: plans well past it are extrapolations."""


class Campaign(Spec):
    """One line item: a campaign (or campaign x geo x audience) with its response curves."""

    name: Text
    channel: Text
    stage: Stage
    tags: tuple[Text, ...] = ()
    pools: tuple[Text, ...] = ()
    spend: SpendSpec = SpendSpec()
    impressions: OutcomeSpec | None = None
    clicks: OutcomeSpec | None = None
    leads: OutcomeSpec | None = None
    mqls: OutcomeSpec | None = None
    sqls: OutcomeSpec | None = None
    customers: OutcomeSpec | None = None
    revenue: OutcomeSpec | None = None
    notes: str | None = None

    def outcome(self, name: str) -> CurveSpec | RateSpec | None:
        """The curve or rate given for ``name`` (one of the glossary outcomes), if any."""
        return getattr(self, name)

    def defined_outcomes(self) -> tuple[str, ...]:
        return tuple(o for o in OUTCOMES if self.outcome(o) is not None)


# --- market, constraints, objective ----------------------------------------------------


class Pool(Spec):
    """A share-of-voice market. Give exactly one way to measure it."""

    label: str | None = None
    competitor_impressions: Positive | None = None
    total_impressions: Positive | None = None
    competitor_spend: Positive | None = None
    total_spend: Positive | None = None
    som: Fraction | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _one_measure(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Pool:
        return validated_with(_measure_check, cls, data, handler)

    @property
    def measure(self) -> str:
        """Which of the four measures the pool uses."""
        return next(k for k in MEASURES if getattr(self, k) is not None)

    @property
    def volume(self) -> Literal["impressions", "spend"]:
        """What our campaigns contribute to the pool."""
        return "spend" if self.measure.endswith("spend") else "impressions"

    @property
    def against_competitors(self) -> bool:
        """True for SOV = ours / (ours + competitors); False for ours / fixed total."""
        return self.measure.startswith("competitor")

    @property
    def reference(self) -> float:
        """The competitor volume or the fixed total."""
        return float(getattr(self, self.measure))


MEASURES = ("competitor_impressions", "total_impressions", "competitor_spend", "total_spend")


def given_measures(pool: Mapping[str, Any]) -> list[str]:
    """The measures a pool table gives, in the order they are written."""
    return [key for key in pool if key in MEASURES and pool[key] is not None]


def measure_problem(pool: Mapping[str, Any]) -> InputError | None:
    """The problem with a pool table that does not give exactly one measure, or None."""
    given = given_measures(pool)
    if len(given) == 1:
        return None
    found = ", ".join(sorted(given, key=MEASURES.index)) if given else "none"
    fix = "keep one of them" if given else "add competitor_impressions = ... (or another measure)"
    return InputError(f"give exactly one of {', '.join(MEASURES)} (found: {found})", fix)


def _measure_check(pool: Mapping[str, Any]) -> tuple[tuple[str, ...], InputError] | None:
    problem = measure_problem(pool)
    return None if problem is None else ((), problem)


def _as_tuple(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


class Where(Spec):
    """A selection of campaigns: every key given must match (a list matches any of its values)."""

    stage: tuple[Stage, ...] | None = None
    channel: tuple[Text, ...] | None = None
    tag: tuple[Text, ...] | None = None
    name: tuple[Text, ...] | None = None

    _listify = field_validator("stage", "channel", "tag", "name", mode="before")(_as_tuple)

    def matches(self, stage: str, channel: str, tags: tuple[str, ...], name: str) -> bool:
        """Whether a campaign with these attributes is in the selection."""
        return (
            (self.stage is None or stage in self.stage)
            and (self.channel is None or channel in self.channel)
            and (self.tag is None or any(t in self.tag for t in tags))
            and (self.name is None or name in self.name)
        )

    def describe(self) -> str:
        """``stage=awareness, channel=search|video``."""
        parts = [f"{k}={'|'.join(v)}" for k, v in self.model_dump(exclude_none=True).items()]
        return ", ".join(parts) if parts else "all campaigns"


class ConstraintSpec(Spec):
    """``{kpi, where?, min?, max?}``: a bound on a KPI over the whole plan or a selection."""

    kpi: Text
    where: Where | None = None
    min: Number | None = None
    max: Number | None = None
    name: Text | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _has_bound(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> ConstraintSpec:
        return validated_with(_bound_problem, cls, data, handler)


def _bound_problem(constraint: Mapping[str, Any]) -> tuple[tuple[str, ...], InputError] | None:
    if constraint.get("min") is None and constraint.get("max") is None:
        return (), InputError("the constraint has no bound", "give min, max or both")
    return None


class ObjectiveSpec(Spec):
    """What the plan optimises: maximise a volume KPI, or minimise spend under KPI floors."""

    maximize: Text | None = None
    minimize: Text | None = None
    secondary: Text | None = None

    @model_validator(mode="after")
    def _one_sense(self) -> ObjectiveSpec:
        if self.maximize is not None and self.minimize is not None:
            raise InputError(
                f'both maximize ("{self.maximize}") and minimize ("{self.minimize}") are given; the plan has one goal',
                f'remove minimize to maximise {self.maximize}, or remove maximize to minimise {self.minimize}',
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _leads_by_default(cls, data: Any) -> Any:
        """With neither maximize nor minimize (only ``secondary``, say) the goal is leads, as with no [objective]."""
        if isinstance(data, dict) and data.get("maximize") is None and data.get("minimize") is None:
            return {**data, "maximize": "leads"}
        return data

    @property
    def kpi(self) -> str:
        return self.maximize or self.minimize or ""

    @property
    def sense(self) -> Literal["maximize", "minimize"]:
        return "maximize" if self.maximize is not None else "minimize"


class BudgetSpec(Spec):
    """The total budget for the period and how far campaigns may move."""

    total: NonNegative | None = None
    spend_all: StrictBool = False
    max_change: NonNegative | None = None


DEFAULT_TOLERANCE = 1e-3
DEFAULT_MIP_GAP = 1e-5
"""A hundredth of the default tolerance: the certified gap stays the linearisation's."""


class SolverSpec(Spec):
    """Solver settings a scenario may pin (the command line and ``solve()`` options win)."""

    name: Literal["highs", "cbc"] = "highs"
    tolerance: Annotated[float, Field(strict=True, gt=0, le=0.1)] = DEFAULT_TOLERANCE
    time_limit: Positive | None = None
    mip_gap: Annotated[float, Field(strict=True, ge=0, le=0.5)] = DEFAULT_MIP_GAP


Color = Annotated[str, Field(strict=True, pattern=r"^#[0-9A-Fa-f]{6}$")]


class ReportSpec(Spec):
    """``[report]``: how the client report looks (every key optional).

    ``logo`` is a PNG or JPEG file beside the scenario; ``primary`` colours the report's header
    band and ``accent`` the recommended point, as ``#RRGGBB``.
    """

    logo: Text | None = None
    primary: Color | None = None
    accent: Color | None = None
    prepared_by: Text | None = None

    @field_validator("logo")
    @classmethod
    def _logo_kind(cls, logo: str | None) -> str | None:
        if logo is not None and Path(logo).suffix.lower() not in LOGO_SUFFIXES:
            raise InputError(f'the logo "{logo}" is not a PNG or JPEG image',
                             "export the logo as .png (or .jpg) and name that file")
        return logo


LOGO_SUFFIXES = (".png", ".jpg", ".jpeg")


class Scenario(Spec):
    """A planning scenario: campaigns, their curves, the market, the constraints and the goal."""

    name: Text
    currency: Annotated[str, Field(strict=True, pattern=r"^[A-Z]{3}$")] = "USD"
    period: str | None = None
    description: str | None = None
    objective: ObjectiveSpec = ObjectiveSpec(maximize="leads")
    budget: BudgetSpec | None = None
    pools: dict[Text, Pool] = {}
    campaigns: Annotated[tuple[Campaign, ...], Field(min_length=1)]
    constraints: tuple[ConstraintSpec, ...] = ()
    solver: SolverSpec = SolverSpec()
    variants: dict[Text, dict[Text, Any]] = {}
    report: ReportSpec = ReportSpec()

    def campaign(self, name: str) -> Campaign:
        """The campaign called ``name`` (KeyError if there is none)."""
        for campaign in self.campaigns:
            if campaign.name == name:
                return campaign
        raise KeyError(name)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some top-level fields replaced (validated like the original)."""
        return Scenario.model_validate({**dict(self), **changes})


CURVE_SPECS: dict[str, type[Spec]] = {
    spec.model_fields["curve"].annotation.__args__[0]: spec  # type: ignore[union-attr]
    for spec in (LinearSpec, ExponentialSpec, HillSpec, PowerSpec, LogSpec, TabularSpec)
}

_NESTING: dict[tuple[type[Spec], str], tuple[str, type[Spec]]] = {
    (Scenario, "objective"): ("model", ObjectiveSpec),
    (Scenario, "budget"): ("model", BudgetSpec),
    (Scenario, "solver"): ("model", SolverSpec),
    (Scenario, "report"): ("model", ReportSpec),
    (Scenario, "pools"): ("map", Pool),
    (Scenario, "campaigns"): ("list", Campaign),
    (Scenario, "constraints"): ("list", ConstraintSpec),
    (Campaign, "spend"): ("model", SpendSpec),
    (ConstraintSpec, "where"): ("model", Where),
}


def nesting(model: type[Spec], field: str) -> tuple[str, type[Spec] | None]:
    """How ``model.field`` nests: ``("model", M)``, ``("map", M)`` (keyed by name),
    ``("list", M)``, ``("outcome", None)`` (a curve or a rate) or ``("value", None)``."""
    if (model, field) in _NESTING:
        return _NESTING[(model, field)]
    if model is Campaign and field in OUTCOMES:
        return "outcome", None
    return "value", None
