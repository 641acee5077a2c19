"""Many curves as one: evaluated element by element, family by family, with array operations.

A ``CurveStack`` holds curves of any families; ``stack.value(s)[k]`` is ``curves[k].value(s[k])``
(and likewise ``marginal``, ``curvature`` and ``tangent_point``). Curves of one family are
evaluated together through ``Curve.stack``, tables (whose parameters are lists) through
``TableStack``. ``take`` re-indexes a stack without touching the curves, so per-segment stacks are cheap.

Grids of many curves are kept as one array of points ordered by owner, then spend; the helpers
here find each owner's block in such an array.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from optimizer.curves.families import Curve, Tabular


@dataclass(frozen=True, eq=False)
class CurveStack:
    """Curves of any families, evaluated element by element: element ``k`` is ``curves[k]``.

    ``family[k]`` and ``local[k]`` say where element ``k`` sits in ``members``: a family's
    stack (``Curve.stack``, or ``TableStack`` for tables).
    """

    family: np.ndarray
    local: np.ndarray
    members: tuple[Curve | TableStack, ...]

    @classmethod
    def of(cls, curves: Sequence[Curve]) -> CurveStack:
        """The stack of ``curves``, in order."""
        families: dict[type, list[int]] = {}
        for k, curve in enumerate(curves):
            families.setdefault(type(curve), []).append(k)
        family = np.zeros(len(curves), dtype=np.int64)
        local = np.zeros(len(curves), dtype=np.int64)
        members: list[Curve | TableStack] = []
        for f, chosen in enumerate(families.values()):
            family[chosen], local[chosen] = f, np.arange(len(chosen))
            members.append(type(curves[chosen[0]]).stack([curves[k] for k in chosen]))
        return cls(family, local, tuple(members))

    def take(self, index: np.ndarray) -> CurveStack:
        """The stack's elements ``index`` (repeats allowed)."""
        return CurveStack(self.family[index], self.local[index], self.members)

    def __len__(self) -> int:
        return self.family.size

    def value(self, spend: np.ndarray) -> np.ndarray:
        """Each element's outcome at its own spend."""
        return self._each("value", spend)

    def marginal(self, spend: np.ndarray) -> np.ndarray:
        """Each element's marginal at its own spend."""
        return self._each("marginal", spend)

    def left_marginal(self, spend: np.ndarray) -> np.ndarray:
        """Each element's marginal of the last dollar before its own spend."""
        return self._each("left_marginal", spend)

    def curvature(self, spend: np.ndarray) -> np.ndarray:
        """Each element's curvature sign at its own spend."""
        return self._each("curvature", spend)

    def tangent_point(self, slope: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Each element's ``tangent_point`` on its own interval."""
        return self._each("tangent_point", slope, lo, hi)

    def _each(self, method: str, *args: np.ndarray) -> np.ndarray:
        args = tuple(np.asarray(a, dtype=float) for a in args)
        out = np.empty(self.family.size)
        for f in np.unique(self.family):
            chosen = np.flatnonzero(self.family == f)
            out[chosen] = getattr(self.members[f].take(self.local[chosen]), method)(*(a[chosen] for a in args))
        return out


@dataclass(frozen=True, eq=False)
class TableStack:
    """Tables as one: element ``k`` is table ``table[k]``, whose points are the block
    ``starts[table[k]]:starts[table[k] + 1]`` of ``xs`` and ``ys`` (``Tabular``'s methods, element by element)."""

    xs: np.ndarray
    ys: np.ndarray
    slopes: np.ndarray
    """``slopes[j]``: the slope of the piece from point ``j`` to the next (never read at a table's last point)."""
    starts: np.ndarray
    owner: np.ndarray
    """``owner[j]``: the table point ``j`` belongs to."""
    table: np.ndarray

    @classmethod
    def of(cls, tables: Sequence[Tabular]) -> TableStack:
        """The stack of ``tables``, in order."""
        xs = np.concatenate([np.asarray(t.spend, dtype=float) for t in tables])
        ys = np.concatenate([np.asarray(t.outcome, dtype=float) for t in tables])
        sizes = [len(t.spend) for t in tables]
        with np.errstate(all="ignore"):
            slopes = np.append(np.diff(ys) / np.diff(xs), 0.0)
        owner = np.repeat(np.arange(len(tables)), sizes)
        return cls(xs, ys, slopes, np.cumsum([0, *sizes]), owner, np.arange(len(tables)))

    def take(self, index: np.ndarray) -> TableStack:
        """The elements ``index`` (repeats allowed)."""
        return replace(self, table=self.table[index])

    def value(self, spend: np.ndarray) -> np.ndarray:
        first, last = self.starts[self.table], self.starts[self.table + 1] - 1
        at = np.clip(spend, self.xs[first], self.xs[last])  # np.interp holds the end values outside
        return interp_blocks(self.table, at, self.owner, self.xs, self.ys)

    def marginal(self, spend: np.ndarray) -> np.ndarray:
        return self.slopes[self._piece(spend, "right")]

    def left_marginal(self, spend: np.ndarray) -> np.ndarray:
        """The slope of the piece ending at each spend (the marginal of the last dollar)."""
        return self.slopes[self._piece(spend, "left")]

    def curvature(self, spend: np.ndarray) -> np.ndarray:
        return np.zeros_like(spend)

    def tangent_point(self, slope: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return (lo + hi) / 2

    def _piece(self, spend: np.ndarray, side: str) -> np.ndarray:
        """Each element's piece at its spend, as ``Tabular`` finds it (the first or last piece outside)."""
        first, end = self.starts[self.table], self.starts[self.table + 1]
        found = search_blocks(self.xs, first, end, spend, side) - 1
        return np.clip(found, first, end - 2)


def block_starts(owner: np.ndarray, count: int) -> np.ndarray:
    """Where each owner's block begins in an array ordered by owner (``count + 1`` entries, the last its end)."""
    return np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=count))])


def split_blocks(values: np.ndarray, starts: np.ndarray) -> list[np.ndarray]:
    """``values`` cut at ``starts`` (as ``block_starts`` gives them): one view per block."""
    bounds = starts.tolist()
    return [values[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, sizes)])`` without the loop."""
    sizes = np.asarray(sizes, dtype=np.int64)
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(sizes)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - sizes), sizes)
    return np.arange(total, dtype=np.int64) + shift


def interp_blocks(query_owner: np.ndarray, query: np.ndarray, knot_owner: np.ndarray, knots: np.ndarray,
                  values: np.ndarray) -> np.ndarray:
    """``np.interp`` block by block: each query within its owner's knots, with numpy's arithmetic.

    Knots are ordered by owner, then spend; every query lies within its owner's knots. At
    repeated knots the last one counts, as in ``np.interp``.
    """
    starts = block_starts(knot_owner, int(max(knot_owner.max(initial=-1), query_owner.max(initial=-1))) + 1)
    at = search_blocks(knots, starts[query_owner], starts[query_owner + 1], query) - 1
    last = at == starts[query_owner + 1] - 1
    nxt = np.minimum(at + 1, knots.size - 1)
    with np.errstate(all="ignore"):
        slope = (values[nxt] - values[at]) / (knots[nxt] - knots[at])
        inside = slope * (query - knots[at]) + values[at]
        # np.interp's way out of an infinite slope: from the other end, or the common value.
        from_next = slope * (query - knots[nxt]) + values[nxt]
    inside = np.where(np.isnan(inside), from_next, inside)
    inside = np.where(np.isnan(inside) & (values[at] == values[nxt]), values[at], inside)
    return np.where(last | (knots[at] == query), values[at], inside)


def search_blocks(sorted_xs: np.ndarray, lo: np.ndarray, hi: np.ndarray, query: np.ndarray,
                  side: str = "right") -> np.ndarray:
    """For each query, the first index in ``[lo, hi)`` whose ``sorted_xs`` exceeds it (``hi`` if none):
    ``np.searchsorted(side="right")``, each query in its own sorted block; with ``side="left"``,
    the first that reaches it."""
    below = np.less_equal if side == "right" else np.less
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    while True:
        open_ = np.flatnonzero(lo < hi)
        if open_.size == 0:
            return lo
        mid = (lo[open_] + hi[open_]) // 2
        right = below(sorted_xs[mid], query[open_])
        lo[open_[right]] = mid[right] + 1
        hi[open_[~right]] = mid[~right]
