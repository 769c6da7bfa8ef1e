"""Numbers read from DASHGEN_* environment variables, validated in one place.

    number(os.environ, "DASHGEN_HTTP_TIMEOUT", float, above=0, most=3600)   # None when unset

A value that is not a number of the expected kind, or is NaN, infinite or out of range,
raises ConfigError (exit 2) naming the variable, the value and what it must be.
"""

from __future__ import annotations

import math
from typing import Mapping

from generator.errors import ConfigError


def number(environ: Mapping[str, str], name: str, kind: type = float, *, above: float | None = None,
           least: float | None = None, most: float) -> float | int | None:
    """The value of `name` as `kind` (int or float), None when unset or empty. It must be
    > `above` (or >= `least`) and <= `most`."""
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return None
    low = f"greater than {above:g}" if above is not None else f"at least {least:g}"
    what = "a whole number" if kind is int else "a number of seconds"
    must = f"{name} must be {what} {low} and at most {most:g}"
    try:
        value = kind(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw[:40]!r} is not {what}: {must}") from None
    if not math.isfinite(value) or (above is not None and value <= above) or \
            (least is not None and value < least) or value > most:
        raise ConfigError(f"{name}={raw[:40]!r}: {must}")
    return value
