"""Prometheus durations: parse to seconds and format back, shortest form first."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def seconds(duration: str) -> float:
    """A Prometheus duration in seconds ("1h30m" -> 5400)."""
    if not _DURATION.match(duration):
        raise ValueError(f"not a Prometheus duration: {duration!r}")
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(int(n) * units[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", duration))


def duration(seconds_: float) -> str:
    """Seconds as the shortest Prometheus duration: 180 -> "3m", 150 -> "2m30s", 0.25 -> "250ms"."""
    total = round(seconds_ * 1000)
    if total < 0:
        raise ValueError(f"negative duration: {seconds_!r}")
    if total == 0:
        return "0s"
    out = ""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        n, total = divmod(total, size)
        if n:
            out += f"{n}{unit}"
    return out
