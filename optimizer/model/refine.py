"""Finer breakpoints where they matter: around each campaign's planned spend.

A piecewise-linear plan sits on breakpoints (or inside one segment per coupling row), and
the true optimum lies within the segments on either side of it. Splitting just those
segments and solving again brings the plan, its shadow prices and its bound much closer to
the exact optimum for a small increase in size.
"""

from __future__ import annotations

import numpy as np

_SNAP = 1e-6
"""A spend this close to a breakpoint (as a share of the segment's width) is taken to be on it:
solvers return values to limited precision (CBC to about eight digits)."""


def refine_grids(grids: tuple[np.ndarray, ...], spend: np.ndarray, parts: int = 8,
                 keep_ends: bool = True) -> tuple[np.ndarray, ...]:
    """Each grid with the segments around ``spend[i]`` split into ``parts`` equal parts.

    A spend on a breakpoint refines the segments on both sides of it; a spend inside a
    segment refines that segment. With ``keep_ends``, campaigns held at either end of their
    range keep their grid: their spend is decided by the sign of the next dollar's value,
    not by where inside a segment they sit.
    """
    refined = []
    for grid, value in zip(grids, spend, strict=True):
        if grid.size < 2:
            refined.append(grid)
            continue
        nearest = int(np.argmin(np.abs(grid - value)))
        width = np.diff(grid)[min(nearest, grid.size - 2)]
        on_breakpoint = abs(grid[nearest] - value) <= _SNAP * width
        if keep_ends and on_breakpoint and nearest in (0, grid.size - 1):
            refined.append(grid)
            continue
        if on_breakpoint:
            left, right = max(nearest - 1, 0), min(nearest + 1, grid.size - 1)
        else:
            left = min(max(int(np.searchsorted(grid, value, side="right")) - 1, 0), grid.size - 2)
            right = left + 1
        edges = grid[left: right + 1]
        steps = np.linspace(0, 1, parts + 1)[1:-1]
        inner = (edges[:-1, None] + np.diff(edges)[:, None] * steps[None, :]).ravel()
        refined.append(np.union1d(grid, inner))
    return tuple(refined)


def refine_span(grids: tuple[np.ndarray, ...], start: np.ndarray, stop: np.ndarray,
                parts: int = 16, coarse_below: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Each grid with every segment between ``start[i]`` and ``stop[i]`` split into ``parts``.

    For a sweep whose plans move each campaign from one spend to another: the segments the
    sweep crosses, and the one on either side, get finer; the rest stay as they were. A
    campaign held at the same end of its range at both ends of the sweep is left alone.
    Segments ending at or below ``coarse_below[i]`` (an S-curve's convex stretch, whose
    segments each need a binary) are left whole.
    """
    refined = []
    floors = np.full(len(grids), -np.inf) if coarse_below is None else coarse_below
    for grid, a, b, floor in zip(grids, start, stop, floors, strict=True):
        if grid.size < 2:
            refined.append(grid)
            continue
        low, high = min(a, b), max(a, b)
        snap = _SNAP * float(np.diff(grid).min())
        if high - low <= snap and (low <= grid[0] + snap or high >= grid[-1] - snap):
            refined.append(grid)
            continue
        left = max(int(np.searchsorted(grid, low + snap, side="right")) - 2, 0)
        right = min(int(np.searchsorted(grid, high - snap, side="left")) + 1, grid.size - 1)
        edges = grid[left: right + 1]
        edges = edges[max(int(np.searchsorted(edges, floor, side="right")) - 1, 0):]
        steps = np.linspace(0, 1, parts + 1)[1:-1]
        inner = (edges[:-1, None] + np.diff(edges)[:, None] * steps[None, :]).ravel()
        refined.append(np.union1d(grid, inner))
    return tuple(refined)
