"""Response-curve families: spend per planning period -> outcome.

Every family is a frozen dataclass with vectorised ``value`` and ``marginal`` (the first
derivative), and reports where its curvature changes sign, so that a piecewise-linear
approximation can put a breakpoint there and treat every segment as purely concave,
purely convex or straight.

``stack`` turns many curves of one family into one curve whose parameters are arrays; its
methods then work element by element, which lets grids be built for thousands of
campaigns with array operations (see ``optimizer.curves.batch``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from optimizer.curves.stacks import TableStack

CONCAVE, STRAIGHT, CONVEX = -1, 0, 1
_BISECTION_STEPS = 60


def _array(spend: ArrayLike) -> np.ndarray:
    return np.asarray(spend, dtype=float)


class Curve(ABC):
    """A spend -> outcome response curve (outcome per planning period)."""

    family: ClassVar[str]

    @abstractmethod
    def value(self, spend: ArrayLike) -> np.ndarray:
        """The outcome at each spend level."""

    @abstractmethod
    def marginal(self, spend: ArrayLike) -> np.ndarray:
        """The outcome per extra unit of spend at each spend level (``inf`` where vertical)."""

    def left_marginal(self, spend: ArrayLike) -> np.ndarray:
        """The marginal of the last dollar before each spend: ``marginal`` where the slope does not jump."""
        return self.marginal(spend)

    @abstractmethod
    def curvature(self, spend: ArrayLike) -> np.ndarray:
        """-1 where the curve is concave, +1 where convex, 0 where straight.

        Only meaningful strictly between the points returned by :meth:`breaks`.
        """

    @abstractmethod
    def params(self) -> dict[str, object]:
        """The family's parameters, as written in a scenario file."""

    def breaks(self) -> tuple[float, ...]:
        """Spend levels where the curvature changes sign or the slope jumps."""
        return ()

    @property
    def domain_max(self) -> float:
        """The largest spend the curve is defined for."""
        return float("inf")

    def is_concave_on(self, lo: float, hi: float) -> bool:
        """True when the curve has no convex stretch in ``[lo, hi]``."""
        if hi <= lo:
            return True
        inner = [b for b in self.breaks() if lo < b < hi]
        edges = np.array([lo, *inner, hi])
        return bool(np.all(self.curvature((edges[:-1] + edges[1:]) / 2) <= 0))

    def convex_stretch_end(self, lo: float, hi: float) -> float | None:
        """Where the curve's convex stretch in ``[lo, hi]`` ends (None when it has none): the spend
        up to which a linearisation needs ordering binaries. For a smooth curve, its last break
        that closes a convex stretch (a Hill curve's inflection)."""
        bends = [b for b in self.breaks() if lo < b < hi and not self.is_concave_on(lo, b)]
        return max(bends) if bends else None

    def tangent_point(self, slope: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The spend in each ``[lo, hi]`` where the marginal equals ``slope``.

        Each interval must lie between two breaks, so the marginal is monotone on it.
        Families with a closed form override this bisection.
        """
        lo, hi = _array(lo).copy(), _array(hi).copy()
        concave = self.curvature((lo + hi) / 2) < 0
        for _ in range(_BISECTION_STEPS):
            mid = (lo + hi) / 2
            above = self.marginal(mid) > slope
            move_lo = np.where(concave, above, ~above)
            lo = np.where(move_lo, mid, lo)
            hi = np.where(move_lo, hi, mid)
        return (lo + hi) / 2

    @classmethod
    def stack(cls, curves: Sequence[Curve]) -> Curve | TableStack:
        """One curve of this family whose parameters are arrays, element ``k`` from ``curves[k]``.

        Its methods work element by element on spends of the same shape:
        ``stack.value(s)[k] == curves[k].value(s[k])``. Tables, whose parameters are lists,
        stack as a ``stacks.TableStack`` instead.
        """
        return cls(*(np.array([getattr(c, f.name) for c in curves], dtype=float) for f in fields(cls)))

    def take(self, index: np.ndarray) -> Curve:
        """The elements ``index`` of a stack made by :meth:`stack` (repeats allowed)."""
        return replace(self, **{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def describe(self) -> str:
        """A short human-readable form, e.g. ``exponential(max=400,000, scale=90,000)``."""
        args = ", ".join(f"{k}={_short(v)}" for k, v in self.params().items() if k != "curve")
        return f"{self.family}({args})"


def _short(value: object) -> str:
    if isinstance(value, float | int):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, list):
        return f"{len(value)} points"
    return str(value)


def _slope_at_zero(exponent: ArrayLike, unit_slope: ArrayLike) -> ArrayLike:
    """The slope at zero spend of a curve that starts like ``s^exponent``: vertical below 1."""
    if isinstance(exponent, np.ndarray):  # a stack of curves
        return np.where(exponent < 1, np.inf, np.where(exponent == 1, unit_slope, 0.0))
    return np.inf if exponent < 1 else (unit_slope if exponent == 1 else 0.0)


def _clip_to(points: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(points, lo), hi)


@dataclass(frozen=True)
class Linear(Curve):
    """Constant cost per unit: outcome = spend / unit_cost (a CPM, CPC or CPL)."""

    unit_cost: float
    family: ClassVar[str] = "linear"

    def value(self, spend: ArrayLike) -> np.ndarray:
        return _array(spend) / self.unit_cost

    def marginal(self, spend: ArrayLike) -> np.ndarray:
        return np.full_like(_array(spend), 1 / self.unit_cost)

    def curvature(self, spend: ArrayLike) -> np.ndarray:
        return np.zeros_like(_array(spend))

    def tangent_point(self, slope, lo, hi):
        return (_array(lo) + _array(hi)) / 2

    def params(self) -> dict[str, object]:
        return {"curve": self.family, "unit_cost": self.unit_cost}


@dataclass(frozen=True)
class Exponential(Curve):
    """Saturating: outcome = max * (1 - exp(-spend / scale))."""

    max: float
    scale: float
    family: ClassVar[str] = "exponential"

    def value(self, spend: ArrayLike) -> np.ndarray:
        return -self.max * np.expm1(-_array(spend) / self.scale)

    def marginal(self, spend: ArrayLike) -> np.ndarray:
        return self.max / self.scale * np.exp(-_array(spend) / self.scale)

    def curvature(self, spend: ArrayLike) -> np.ndarray:
        return np.full_like(_array(spend), CONCAVE)

    def tangent_point(self, slope, lo, hi):
        with np.errstate(divide="ignore"):
            point = self.scale * np.log(self.max / (self.scale * _array(slope)))
        return _clip_to(point, _array(lo), _array(hi))

    def params(self) -> dict[str, object]:
        return {"curve": self.family, "max": self.max, "scale": self.scale}


@dataclass(frozen=True)
class Hill(Curve):
    """outcome = max * s^shape / (s^shape + half^shape); shape <= 1 concave, > 1 S-shaped."""

    max: float
    half: float
    shape: float
    family: ClassVar[str] = "hill"

    def value(self, spend: ArrayLike) -> np.ndarray:
        ratio = (_array(spend) / self.half) ** self.shape
        return self.max * ratio / (1 + ratio)

    def marginal(self, spend: ArrayLike) -> np.ndarray:
        x = _array(spend) / self.half
        positive = x > 0
        safe = np.where(positive, x, 1.0)
        slope = (self.max * self.shape / self.half) * safe ** (self.shape - 1) / (1 + safe**self.shape) ** 2
        return np.where(positive, slope, _slope_at_zero(self.shape, self.max / self.half))

    @property
    def inflection(self) -> float | None:
        """The spend where an S-shaped Hill curve turns from convex to concave."""
        if self.shape <= 1:
            return None
        return _hill_inflection(self.half, self.shape)

    def breaks(self) -> tuple[float, ...]:
        return () if self.inflection is None else (self.inflection,)

    def curvature(self, spend: ArrayLike) -> np.ndarray:
        return np.where(_array(spend) < self._turn(), CONVEX, CONCAVE).astype(float)

    def _turn(self) -> ArrayLike:
        """The inflection, or -inf where the curve is concave throughout (shape <= 1); works on stacks."""
        if not isinstance(self.shape, np.ndarray):
            return -np.inf if self.inflection is None else self.inflection
        s_shaped = self.shape > 1
        return np.where(s_shaped, _hill_inflection(self.half, np.where(s_shaped, self.shape, 2.0)), -np.inf)

    def params(self) -> dict[str, object]:
        return {"curve": self.family, "max": self.max, "half": self.half, "shape": self.shape}


def _hill_inflection(half: ArrayLike, shape: ArrayLike) -> ArrayLike:
    """Where a Hill curve with ``shape > 1`` turns from convex to concave."""
    return half * ((shape - 1) / (shape + 1)) ** (1 / shape)


@dataclass(frozen=True)
class Power(Curve):
    """outcome = coef * spend^exponent (concave below 1, convex above)."""

    coef: float
    exponent: float
    family: ClassVar[str] = "power"

    def value(self, spend: ArrayLike) -> np.ndarray:
        return self.coef * _array(spend) ** self.exponent

    def marginal(self, spend: ArrayLike) -> np.ndarray:
        s = _array(spend)
        positive = s > 0
        slope = self.coef * self.exponent * np.where(positive, s, 1.0) ** (self.exponent - 1)
        return np.where(positive, slope, _slope_at_zero(self.exponent, self.coef))

    def curvature(self, spend: ArrayLike) -> np.ndarray:
        return np.full_like(_array(spend), np.sign(self.exponent - 1))

    def tangent_point(self, slope, lo, hi):
        lo, hi = _array(lo), _array(hi)
        straight = np.equal(self.exponent, 1)
        exponent = np.where(straight, 2.0, self.exponent)
        point = (_array(slope) / (self.coef * exponent)) ** (1 / (exponent - 1))
        return np.where(straight, (lo + hi) / 2, _clip_to(point, lo, hi))

    def params(self) -> dict[str, object]:
        return {"curve": self.family, "coef": self.coef, "exponent": self.exponent}


@dataclass(frozen=True)
class Log(Curve):
    """outcome = coef * ln(1 + spend / scale)."""

    coef: float
    scale: float
    family: ClassVar[str] = "log"

    def value(self, spend: ArrayLike) -> np.ndarray:
        return self.coef * np.log1p(_array(spend) / self.scale)

    def marginal(self, spend: ArrayLike) -> np.ndarray:
        return self.coef / (self.scale + _array(spend))

    def curvature(self, spend: ArrayLike) -> np.ndarray:
        return np.full_like(_array(spend), CONCAVE)

    def tangent_point(self, slope, lo, hi):
        point = self.coef / _array(slope) - self.scale
        return _clip_to(point, _array(lo), _array(hi))

    def params(self) -> dict[str, object]:
        return {"curve": self.family, "coef": self.coef, "scale": self.scale}


@dataclass(frozen=True, eq=False)
class Tabular(Curve):
    """Points from a bid or budget simulator, interpolated linearly between them.

    The first point is at spend 0 (the loader adds the origin when a table starts later);
    the curve is not defined beyond the last point.
    """

    spend: tuple[float, ...]
    outcome: tuple[float, ...]
    family: ClassVar[str] = "tabular"

    def __post_init__(self) -> None:
        object.__setattr__(self, "_xs", np.asarray(self.spend, dtype=float))
        object.__setattr__(self, "_ys", np.asarray(self.outcome, dtype=float))
        object.__setattr__(self, "_slopes", np.diff(self._ys) / np.diff(self._xs))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tabular) and (self.spend, self.outcome) == (other.spend, other.outcome)

    def __hash__(self) -> int:
        return hash((self.spend, self.outcome))

    def value(self, spend: ArrayLike) -> np.ndarray:
        return np.interp(_array(spend), self._xs, self._ys)

    def marginal(self, spend: ArrayLike) -> np.ndarray:
        piece = np.searchsorted(self._xs, _array(spend), side="right") - 1
        return self._slopes[np.clip(piece, 0, len(self._slopes) - 1)]

    def left_marginal(self, spend: ArrayLike) -> np.ndarray:
        """The slope of the piece ending at ``spend`` (the marginal of the last dollar)."""
        piece = np.searchsorted(self._xs, _array(spend), side="left") - 1
        return self._slopes[np.clip(piece, 0, len(self._slopes) - 1)]

    def curvature(self, spend: ArrayLike) -> np.ndarray:
        return np.zeros_like(_array(spend))

    def breaks(self) -> tuple[float, ...]:
        return tuple(self.spend[1:-1])

    def convex_stretch_end(self, lo: float, hi: float) -> float | None:
        """The right end of the last edge of the table's concave hull on ``[lo, hi]`` that passes
        above a point (between two points joined by such an edge the pieces need ordering)."""
        inside = (self._xs > lo) & (self._xs < hi)
        xs = np.concatenate(([lo], self._xs[inside], [hi]))
        ys = self.value(xs)
        end, start = None, 0
        while start < len(xs) - 1:
            slopes = (ys[start + 1:] - ys[start]) / np.maximum(xs[start + 1:] - xs[start], 1e-300)
            vertex = start + 1 + int(np.flatnonzero(slopes >= slopes.max() - 1e-12 * abs(slopes.max()))[-1])
            if vertex > start + 1:  # the hull skips points below it: a convex stretch
                end = float(xs[vertex])
            start = vertex
        return end

    def is_concave_on(self, lo: float, hi: float) -> bool:
        inside = (self._xs[1:-1] > lo) & (self._xs[1:-1] < hi)
        rises = np.diff(self._slopes) > 1e-12 * np.abs(self._slopes[1:]).max(initial=1.0)
        return not bool(np.any(rises & inside))

    @property
    def domain_max(self) -> float:
        return float(self._xs[-1])

    def tangent_point(self, slope, lo, hi):
        return (_array(lo) + _array(hi)) / 2

    @classmethod
    def stack(cls, curves: Sequence[Curve]) -> TableStack:
        from optimizer.curves.stacks import TableStack  # stacks builds on this module

        return TableStack.of(curves)

    def params(self) -> dict[str, object]:
        return {"curve": self.family, "points": [[x, y] for x, y in zip(self.spend, self.outcome, strict=True)]}


FAMILIES: dict[str, type[Curve]] = {
    cls.family: cls for cls in (Linear, Exponential, Hill, Power, Log, Tabular)
}
