"""The knee of a frontier, found on the frontier itself; and a recommendation today's split does not beat.

The knee is defined on axes normalised to the frontier's ranges: x is the traded KPI as read (a
share, or a volume), 0 at the lead-max end and 1 at the far end; y is the primary KPI, 1 at the
lead-max end and 0 at the far end. The knee is the point of the frontier that maximises x + y:
the farthest above the chord between the ends. Where the frontier is concave (any LP frontier),
that is where the normalised price of a step of the traded KPI (primary given up per step, in
those units) crosses 1; on the program's piecewise-linear frontier it is one of its breakpoints,
or, on a share axis (a share is concave in the volume the program is linear in), the point of a
linear stretch where that price reaches 1.

It is found by solves, not read off the points traced: from the traced point of largest x + y,
the bracket around the maximum is narrowed by a solve where the tangents at its two ends meet
(each tangent's slope is its point's dual price). When that solve lies on both tangents it is
the breakpoint between them and the search ends; otherwise it replaces the bracket end on its
side. On a piecewise-linear frontier this ends at the breakpoint exactly, in a few solves; where
the tangents do not meet inside the bracket (a MILP's frontier need not be concave), the
bracket is halved, down to ``_WIDTH`` of the traded range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_WIDTH = 1e-4
"""The search stops when the bracket is this narrow, as a fraction of the traded range."""
_MOST_SOLVES = 16
_MIN_BULGE = 1e-3
"""A frontier bulging less than this above its chord (in normalised units) is straight: it has no knee."""
_AT_END = 1e-6
"""Tangents meeting this close to a bracket end (as a share of its width) meet at that end."""
_ON_TANGENT = 1e-7
"""A solve within this share of the primary range of both tangents is their breakpoint."""


@dataclass(frozen=True)
class Probe:
    """A solved point of the frontier, in the program's units.

    ``volume``: the traded KPI as the program counts it (linear in spend); ``value``: as read (a
    share for a pool); ``slope``: d primary / d volume there (the traded floor's dual, <= 0).
    """

    volume: float
    value: float
    primary: float
    slope: float


@dataclass(frozen=True)
class _Scale:
    """The normalised axes: the far end's traded value and primary, and the two ranges."""

    value_low: float
    value_span: float
    primary_low: float
    primary_span: float

    def height(self, probe: Probe) -> float:
        """x + y: 1 on the chord between the ends, more above it."""
        return (probe.value - self.value_low) / self.value_span + (probe.primary - self.primary_low) / self.primary_span

    def rise(self, slope: float, value_per_volume: float) -> float:
        """d(x + y) / d volume for a frontier slope ``slope`` where the traded value grows ``value_per_volume``."""
        return value_per_volume / self.value_span + slope / self.primary_span


def find_knee(probes: Sequence[Probe], solve: Callable[[float], Probe | None],
              value: Callable[[float], float]) -> Probe | None:
    """The knee (see the module's docstring), from ``probes`` (both ends among them) and more solves.

    ``solve(volume)`` is the frontier's point with the traded volume at least ``volume`` (None
    when it cannot be solved); ``value(volume)`` reads a volume as the traded KPI. None when the
    frontier has no knee: it does not bulge above its chord, or its ends meet.
    """
    known = sorted(probes, key=lambda probe: probe.volume)
    scale = _scale(known[0], known[-1])
    if scale is None:
        return None
    for _ in range(_MOST_SOLVES):
        bracket = _bracket(known, scale, value)
        if bracket is None or _narrow(bracket, scale):
            break
        found = _narrowed(bracket, scale, value, solve)
        if found is None:
            break
        probe, final = found
        known = sorted({*known, probe}, key=lambda item: item.volume)
        if final:
            break
    best = max(known[1:-1], key=scale.height, default=None)
    return best if best is not None and scale.height(best) > 1 + _MIN_BULGE else None


def _scale(lead_max: Probe, far: Probe) -> _Scale | None:
    value_span, primary_span = far.value - lead_max.value, lead_max.primary - far.primary
    if not (value_span > 0 and primary_span > 0):
        return None
    return _Scale(lead_max.value, value_span, far.primary, primary_span)


def _bracket(known: list[Probe], scale: _Scale, value: Callable[[float], float]) -> tuple[Probe, Probe] | None:
    """The two neighbouring probes the maximum of x + y lies between: the highest and its neighbour
    on the side x + y rises to (None when it is an end and x + y falls away from it)."""
    best = max(range(len(known)), key=lambda k: scale.height(known[k]))
    rising = scale.rise(known[best].slope, _value_per_volume(value, known[best].volume)) > 0
    other = best + 1 if rising else best - 1
    if not 0 <= other < len(known):
        return None
    return (known[best], known[other]) if rising else (known[other], known[best])


def _narrow(bracket: tuple[Probe, Probe], scale: _Scale) -> bool:
    return bracket[1].value - bracket[0].value <= _WIDTH * scale.value_span


def _narrowed(bracket: tuple[Probe, Probe], scale: _Scale, value: Callable[[float], float],
              solve: Callable[[float], Probe | None]) -> tuple[Probe, bool] | None:
    """A solve inside the bracket, and whether it ends the search (it is the knee, or the knee's stretch's
    maximum was solved); None when nothing new can be solved."""
    left, right = bracket
    meeting = _tangents_meet(left, right)
    if meeting is not None and meeting in (left.volume, right.volume):
        # One end lies on the other's tangent: the frontier is straight between them, and that end is its breakpoint.
        return _vertex_found(left, left if meeting == left.volume else right, right, scale, value, solve)
    at = meeting if meeting is not None else (left.volume + right.volume) / 2
    probe = solve(at)
    if probe is None or probe.volume >= right.volume or probe.volume <= left.volume:
        return None
    if meeting is None or not _on_tangent(probe, left, scale):
        return probe, False
    return _vertex_found(left, probe, right, scale, value, solve)


def _vertex_found(left: Probe, vertex: Probe, right: Probe, scale: _Scale, value: Callable[[float], float],
                  solve: Callable[[float], Probe | None]) -> tuple[Probe, bool]:
    """The knee, once the breakpoint between the two bracket ends' stretches is known: the
    breakpoint itself, or the solve where x + y peaks on one of its two stretches."""
    best = _best_on_stretches(left, vertex, right, scale, value)
    if best is None:
        return vertex, True
    inside = solve(best)
    return (inside, True) if inside is not None else (vertex, True)


def _tangents_meet(left: Probe, right: Probe) -> float | None:
    """The volume where the tangents at ``left`` and ``right`` cross, when it lies between them (one of
    theirs when it is within round-off of it); None when they do not cross there."""
    if not left.slope > right.slope:
        return None
    meeting = (right.primary - left.primary + left.slope * left.volume - right.slope * right.volume) / (
        left.slope - right.slope)
    margin = _AT_END * (right.volume - left.volume)
    if abs(meeting - left.volume) <= margin:
        return left.volume
    if abs(meeting - right.volume) <= margin:
        return right.volume
    return meeting if left.volume < meeting < right.volume else None


def _on_tangent(probe: Probe, left: Probe, scale: _Scale) -> bool:
    predicted = left.primary + left.slope * (probe.volume - left.volume)
    return abs(probe.primary - predicted) <= _ON_TANGENT * scale.primary_span


def _best_on_stretches(left: Probe, vertex: Probe, right: Probe, scale: _Scale,
                       value: Callable[[float], float]) -> float | None:
    """Where x + y peaks on the two linear stretches either side of ``vertex``: None at the vertex itself
    (always, for a volume axis), else the volume inside a stretch where a share's slope reaches 1."""
    per_volume = _value_per_volume(value, vertex.volume)
    if scale.rise(left.slope, per_volume) < 0:
        return _peak_on_stretch(left.volume, vertex.volume, left.slope, scale, value)
    if scale.rise(right.slope, per_volume) > 0:
        return _peak_on_stretch(vertex.volume, right.volume, right.slope, scale, value)
    return None


def _peak_on_stretch(low: float, high: float, slope: float, scale: _Scale, value: Callable[[float], float]) -> float:
    """The volume in [low, high] where x + y, linear in the primary there, stops rising (by bisection:
    the traded value is concave in the volume, so the rise falls as the volume grows)."""
    for _ in range(60):
        middle = (low + high) / 2
        if scale.rise(slope, _value_per_volume(value, middle)) > 0:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _value_per_volume(value: Callable[[float], float], volume: float) -> float:
    step = 1e-6 * max(abs(volume), 1.0)
    return (value(volume + step) - value(volume - step)) / (2 * step)


@dataclass(frozen=True)
class Today:
    """Today's split: its primary KPI, its traded KPI as read, and its spend."""

    primary: float
    traded: float
    spend: float

    def beats(self, primary: float, traded: float, spend: float) -> bool:
        """Whether today has at least as much of both KPIs as a plan, at no more spend."""
        return (self.primary >= primary - 1e-9 * abs(primary) and self.traded >= traded - 1e-12 * abs(traded)
                and self.spend <= spend + 1e-9 * abs(spend))


def nearest_unbeaten(points: Sequence, chosen: int, today: Today, lowest: float | None = None) -> int | None:
    """The point nearest ``points[chosen]`` (on axes normalised to the frontier's ranges) that today's
    split does not beat, with the traded KPI at ``lowest`` or more; None when there is none.

    ``points`` are frontier points (``traded``, ``primary``, ``spend``), in traded order.
    """
    span_x = (points[-1].traded - points[0].traded) or 1.0
    span_y = (max(p.primary for p in points) - min(p.primary for p in points)) or 1.0
    origin = points[chosen]
    candidates = [k for k, p in enumerate(points) if not today.beats(p.primary, p.traded, p.spend)
                  and (lowest is None or p.traded >= lowest - 1e-9)]
    if not candidates:
        return None
    return min(candidates, key=lambda k: math.hypot((points[k].traded - origin.traded) / span_x,
                                                    (points[k].primary - origin.primary) / span_y))
