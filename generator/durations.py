"""Prometheus durations: parse to seconds and format back the way Prometheus prints them."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
#: (unit, milliseconds, only-when-exact): Prometheus writes years and weeks only when they
#: divide the whole remainder ("90d", not "12w6d"); "14d" is "2w", "90s" is "1m30s".
_UNITS_MS = (("y", 31_536_000_000, True), ("w", 604_800_000, True), ("d", 86_400_000, False),
             ("h", 3_600_000, False), ("m", 60_000, False), ("s", 1000, False), ("ms", 1, False))
_MS = {u: ms for u, ms, _exact in _UNITS_MS}


def is_duration(text: str) -> bool:
    return bool(_DURATION.match(text))


def seconds(text: str) -> float:
    """A Prometheus duration in seconds ("1h30m" -> 5400)."""
    if not is_duration(text):
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(int(n) * _MS[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", text)) / 1000


def duration(seconds_: float) -> str:
    """Seconds as Prometheus prints them: 180 -> "3m", 150 -> "2m30s", 0.25 -> "250ms"."""
    total = round(seconds_ * 1000)
    if total < 0:
        raise ValueError(f"negative duration: {seconds_!r}")
    if total == 0:
        return "0s"
    out = ""
    for unit, size, exact in _UNITS_MS:
        if exact and total % size:
            continue
        n, total = divmod(total, size)
        if n:
            out += f"{n}{unit}"
    return out


def canonical(text: str) -> str:
    """A duration string in Prometheus' printed form; anything unparsable is left alone."""
    text = str(text)
    return duration(seconds(text)) if is_duration(text) else text


def last_checks_window(n: int, interval_seconds: int) -> str:
    """A range that holds exactly the newest `n` results of a check run every `interval_seconds`,
    at any rule evaluation: n intervals less one millisecond (Prometheus' timestamp resolution).

    Evaluations and checks keep a fixed phase apart (both periodic, neither aligned to the
    other). With the newest result `p` seconds old (0 <= p < interval), the nth-newest is
    p + (n-1) x interval old: inside; the one before it p + n x interval: outside, whether a
    range includes its left edge (Prometheus 2) or not (Prometheus 3; there only an evaluation
    in the last millisecond before the next result sees n-1). A shorter window (such
    as n - 1/2 intervals) holds only n-1 results whenever the evaluation runs late in the
    interval, and then pages after n-1 failures; a longer one waits for n+1 at some phases.
    """
    return duration((n * interval_seconds * _MS["s"] - _MS["ms"]) / _MS["s"])
