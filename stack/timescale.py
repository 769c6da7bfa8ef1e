"""The reference stack's time scale for notifications: it runs the production routing with
every wait shortened, so an escalation that takes hours in production takes seconds."""

from __future__ import annotations

from dataclasses import fields, replace

from generator.config import Config
from generator.durations import duration, is_duration, seconds


def scaled(cfg: Config, factor: float) -> Config:
    """The config with every notification wait and interval divided by `factor` (the
    reference stack's time scale; whole seconds, at least 1 s where it was not 0)."""
    n = cfg.notifications

    def s(value: str) -> str:
        secs = seconds(value)
        return duration(max(1, round(secs / factor)) if secs else 0)

    waits = [f.name for f in fields(n) if isinstance(getattr(n, f.name), str) and is_duration(getattr(n, f.name))]
    return replace(cfg, notifications=replace(n, **{f: s(getattr(n, f)) for f in waits}))
