"""The KPI a frontier trades against the primary one: a pool's share of voice, or a volume."""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.glossary import OUTCOMES, split_pool_kpi
from optimizer.model.expressions import Expr
from optimizer.model.formulation import Formulation, PoolModel


@dataclass(frozen=True)
class Axis:
    """The traded KPI: its program expression (a volume) and how that volume reads to a client."""

    kpi: str
    label: str
    expr: Expr
    pool: PoolModel | None = None

    @property
    def is_share(self) -> bool:
        return self.pool is not None

    @property
    def step_name(self) -> str:
        """What one step of the axis is called in prices: ``SOV point`` or ``click``."""
        return "SOV point" if self.pool is not None else self.kpi.rstrip("s")

    def value(self, volume: float) -> float:
        """The KPI a client reads for a volume: the share for a pool, the volume otherwise."""
        return self.pool.share(volume) if self.pool is not None else volume

    def volume(self, value: float) -> float:
        """The volume at which the KPI reads ``value``."""
        return self.pool.volume_for(value) if self.pool is not None else value

    def volume_per_step(self, value: float) -> float:
        """Extra volume for one more step (one SOV point, or one unit) at ``value``."""
        return self.pool.volume_per_point(min(value, 0.999999)) if self.pool is not None else 1.0


def axis_for(form: Formulation, kpi: str) -> Axis:
    """The axis for ``kpi``: ``sov.<pool>`` or a volume KPI other than the primary one."""
    pooled = split_pool_kpi(kpi)
    if pooled is not None and pooled[0] == "sov":
        if pooled[1] not in form.pools:
            if not form.pools:
                raise ValueError(f'unknown pool in "{kpi}": the scenario defines no pools (add a [pools.NAME] table)')
            known = ", ".join(f"sov.{p}" for p in form.pools)
            raise ValueError(f'unknown pool in "{kpi}": use one of {known}')
        pool = form.pools[pooled[1]]
        label = pool.label if pool.label != pool.name else f"SOV {pool.name}"
        return Axis(kpi, label, pool.expr(), pool)
    if kpi not in OUTCOMES:
        raise ValueError(f'cannot trade against "{kpi}": use sov.<pool> or a volume ({", ".join(OUTCOMES)})')
    if kpi == form.goal.kpi:
        raise ValueError(f'"{kpi}" is the primary KPI; trade it against another one')
    return Axis(kpi, kpi, form.volume(kpi))
