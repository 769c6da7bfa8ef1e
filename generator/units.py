"""Numbers in a reviewer's words: a panel value formatted the way its Grafana unit shows it.

Shared by the semantic diff ("threshold 0.1 % -> 0.5 %") and the layout previews, so both
say the same thing about the same number.
"""

from __future__ import annotations

from typing import Any

_BINARY = ((1024**4, "TiB"), (1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB"))
_DURATIONS = ((86400, "d"), (3600, "h"), (60, "min"))
#: Units that need no suffix to be understood.
_PLAIN = {"", "none", "short", None}


def number(value: Any) -> str:
    """A number without float noise: 0.1, 1, 1e-09, 86400."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def format_value(value: Any, unit: str | None = None) -> str:
    """`value` as Grafana would label it for `unit` (None is a threshold's base step)."""
    if value is None:
        return "base"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if unit == "percentunit":
        return f"{number(round(value * 100, 10))} %"
    if unit == "percent":
        return f"{number(value)} %"
    if unit == "s":
        if value and abs(value) < 1:
            return f"{number(round(value * 1000, 9))} ms"
        for size, name in _DURATIONS:
            if value and abs(value) >= size and value % size == 0:
                return f"{number(value // size)} {name}"
        return f"{number(value)} s"
    if unit == "ms":
        return f"{number(value)} ms"
    if unit in ("bytes", "decbytes"):
        for size, name in _BINARY:
            if abs(value) >= size:
                return f"{number(round(value / size, 3))} {name}"
        return f"{number(value)} B"
    if unit in _PLAIN:
        return number(value)
    return f"{number(value)} {unit}"
