"""Campaign colours: one hue family per funnel stage, every two campaigns told apart at a glance.

Colours are placed in CIELAB, where distance is roughly what the eye sees. A stage's campaigns
take its colour first, then the in-gamut variant (lightness within 30-82, hue within 25° of the
stage's) farthest from every colour its stage already has. Any two of up to twelve campaigns,
whatever their stages, lie at least ``DISTINCT`` apart (CIE76); so does the grey of "other
campaigns".
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
from matplotlib.colors import to_hex, to_rgb

from optimizer.charts.style import MUTED, stage_color

DISTINCT = 12.0
"""The least CIE76 distance between two campaign colours (2.3 is a just-noticeable difference)."""
OTHERS = "#D0D0D0"
"""The colour of the campaigns a chart groups together."""

_LIGHTNESS = tuple(range(30, 83, 4))
_HUE_TURNS = tuple(range(-25, 26, 5))
_CHROMA = 45.0
_WHITE = np.array([0.95047, 1.0, 1.08883])
_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                    [0.2126729, 0.7151522, 0.0721750],
                    [0.0193339, 0.1191920, 0.9503041]])
_EDGE = 6 / 29


def campaign_colors(stages: Sequence[str]) -> list[str]:
    """One colour per campaign, given each campaign's stage in order: the k-th campaign of a stage
    takes the k-th colour of the stage's family."""
    taken: dict[str, int] = {}
    colors = []
    for stage in stages:
        family = stage_family(stage)
        index = taken.get(stage, 0)
        taken[stage] = index + 1
        colors.append(family[index % len(family)])
    return colors


@cache
def stage_family(stage: str) -> tuple[str, ...]:
    """The stage's colours, the stage's own first, each next one the farthest from those before it."""
    base = stage_color(stage, MUTED)
    candidates = _variants(base)
    chosen = [to_lab(base)]
    family = [to_hex(base)]
    nearest = np.linalg.norm(candidates - chosen[0], axis=1)
    while nearest.max() > 1e-6:
        index = int(np.argmax(nearest))
        chosen.append(candidates[index])
        family.append(to_hex(np.clip(from_lab(candidates[index]), 0, 1)))
        nearest = np.minimum(nearest, np.linalg.norm(candidates - candidates[index], axis=1))
    return tuple(family)


def color_distance(first: str, second: str) -> float:
    """CIE76: the Euclidean distance of two colours in CIELAB."""
    return float(np.linalg.norm(to_lab(first) - to_lab(second)))


def to_lab(color) -> np.ndarray:  # noqa: ANN001 - any colour matplotlib reads
    """CIELAB (D65) of an sRGB colour."""
    rgb = np.array(to_rgb(color))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = _TO_XYZ @ linear / _WHITE
    f = np.where(xyz > _EDGE ** 3, np.cbrt(xyz), xyz / (3 * _EDGE ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def from_lab(lab: np.ndarray) -> np.ndarray:
    """sRGB of CIELAB colours (the last axis: L, a, b), unclipped: outside [0, 1] is out of gamut."""
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f > _EDGE, f ** 3, 3 * _EDGE ** 2 * (f - 4 / 29)) * _WHITE
    linear = xyz @ np.linalg.inv(_TO_XYZ).T
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.abs(linear) ** (1 / 2.4) - 0.055)


def _variants(base: str) -> np.ndarray:
    """CIELAB of the base colour's variants: each lightness and hue turn, at the most chroma (up to
    ``_CHROMA``) that stays in gamut; a grey base has no hue, and so only varies in lightness."""
    _, a, b = to_lab(base)
    grey = np.hypot(a, b) < 1
    hue = np.degrees(np.arctan2(b, a))
    turns = (0,) if grey else _HUE_TURNS
    return np.array([_in_gamut(lightness, 0.0 if grey else _CHROMA, hue + turn)
                     for lightness in _LIGHTNESS for turn in turns])


def _in_gamut(lightness: float, chroma: float, hue: float) -> np.ndarray:
    """CIELAB at this lightness and hue with the most chroma, up to ``chroma``, that sRGB can show."""
    chromas = np.linspace(chroma, 0.0, int(chroma) + 1)
    angle = np.radians(hue)
    labs = np.column_stack([np.full_like(chromas, lightness), chromas * np.cos(angle), chromas * np.sin(angle)])
    rgb = from_lab(labs)
    shown = np.all((rgb >= -1e-9) & (rgb <= 1 + 1e-9), axis=1)
    return labs[int(np.argmax(shown))] if shown.any() else labs[-1]
