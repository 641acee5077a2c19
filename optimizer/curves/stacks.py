"""Many curves as one: evaluated element by element, family by family, with array operations.

A ``CurveStack`` holds curves of any families; ``stack.value(s)[k]`` is ``curves[k].value(s[k])``
(and likewise ``marginal``, ``curvature`` and ``tangent_point``). Curves of one family are
evaluated together through ``Curve.stack``; tables, whose parameters are lists, one by one.
``take`` re-indexes a stack without touching the curves, so per-segment stacks are cheap.

Grids of many curves are kept as one array of points ordered by owner, then spend; the helpers
here find each owner's block in such an array.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.curves.families import Curve


@dataclass(frozen=True, eq=False)
class CurveStack:
    """Curves of any families, evaluated element by element: element ``k`` is ``curves[k]``.

    ``family[k]`` and ``local[k]`` say where element ``k`` sits in ``members``: a family's
    stack (``Curve.stack``), or a tuple of the family's curves when they cannot be stacked.
    """

    family: np.ndarray
    local: np.ndarray
    members: tuple[Curve | tuple[Curve, ...], ...]

    @classmethod
    def of(cls, curves: Sequence[Curve]) -> CurveStack:
        """The stack of ``curves``, in order."""
        families: dict[type, list[int]] = {}
        for k, curve in enumerate(curves):
            families.setdefault(type(curve), []).append(k)
        family = np.zeros(len(curves), dtype=np.int64)
        local = np.zeros(len(curves), dtype=np.int64)
        members: list[Curve | tuple[Curve, ...]] = []
        for f, chosen in enumerate(families.values()):
            family[chosen], local[chosen] = f, np.arange(len(chosen))
            group = tuple(curves[k] for k in chosen)
            stacked = type(group[0]).stack(group)
            members.append(group if stacked is None else stacked)
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
            members = self.members[f]
            if isinstance(members, tuple):
                _one_by_one(out, members, method, self.local[chosen], chosen, args)
            else:
                out[chosen] = getattr(members.take(self.local[chosen]), method)(*(a[chosen] for a in args))
        return out


def _one_by_one(out: np.ndarray, curves: tuple[Curve, ...], method: str, local: np.ndarray, chosen: np.ndarray,
                args: tuple[np.ndarray, ...]) -> None:
    """``out[chosen]`` from curves that cannot be stacked, each curve once for all its elements."""
    order = np.argsort(local, kind="stable")
    local, chosen = local[order], chosen[order]
    starts = np.flatnonzero(np.r_[True, local[1:] != local[:-1]])
    for part in np.split(np.arange(local.size), starts[1:]):
        rows = chosen[part]
        out[rows] = getattr(curves[local[part[0]]], method)(*(a[rows] for a in args))


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


def search_blocks(sorted_xs: np.ndarray, lo: np.ndarray, hi: np.ndarray, query: np.ndarray) -> np.ndarray:
    """For each query, the first index in ``[lo, hi)`` whose ``sorted_xs`` exceeds it (``hi`` if none):
    ``np.searchsorted(side="right")``, each query in its own sorted block."""
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    while True:
        open_ = np.flatnonzero(lo < hi)
        if open_.size == 0:
            return lo
        mid = (lo[open_] + hi[open_]) // 2
        right = sorted_xs[mid] <= query[open_]
        lo[open_[right]] = mid[right] + 1
        hi[open_[~right]] = mid[~right]
