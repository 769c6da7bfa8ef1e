"""A config with every number moved: build with it, and a number that stays put is a literal.

Used by rule/threshold-config and dashboard/thresholds-config. A number that is a bucket
bound of a catalogued histogram moves to another bound of every histogram that has it
(0.8 -> 0.9), since the definitions may only use bounds there (le="0.8"); any other float
moves to an odd value nobody writes by hand, ints move by 7 (they stay whole).
"""

from __future__ import annotations

from dataclasses import fields, replace

from generator.catalog import Catalog
from generator.config import Config


def number_fields(cfg: Config) -> list[str]:
    """The project's numeric Thresholds fields."""
    return [f.name for f in fields(cfg.thresholds) if f.type in (int, float, "int", "float")]


def _bound_move(catalog: Catalog, value: float) -> float | None:
    """Another bucket bound shared by every catalogued histogram that has `value`, or None."""
    sets = [set(m.buckets) for m in catalog.metrics.values() if m.buckets and value in m.buckets]
    if not sets:
        return None
    others = sorted(set.intersection(*sets) - {value}, key=lambda b: (abs(b - value), b))
    return others[0] if others else None


def moved_numbers(cfg: Config, catalog: Catalog) -> Config:
    """`cfg` with every numeric threshold and plan limit moved."""
    changes = {}
    for name in number_fields(cfg):
        v = getattr(cfg.thresholds, name)
        bound = _bound_move(catalog, float(v)) if isinstance(v, float) else None
        changes[name] = v + 7 if isinstance(v, int) else bound if bound is not None else v * 1.0371 + 0.0013
    moved = cfg.with_thresholds(**changes)
    plan = replace(cfg.plan, memory_limit_bytes=cfg.plan.memory_limit_bytes + 4096,
                   cpu_limit_cores=cfg.plan.cpu_limit_cores * 1.5)
    return replace(moved, plan=plan)
