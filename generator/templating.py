"""Grafana's variable and macro substitution for Prometheus queries, done as Grafana does it.

Used wherever a panel query leaves Grafana: the PromQL check parses the result, and the
reference stack sends it to a real Prometheus. Covered: `$var`, `${var}`, `${var:fmt}`,
`[[var]]`; the built-ins `$__interval`, `$__interval_ms`, `$__rate_interval`,
`$__range`, `$__range_s`, `$__range_ms`; multi-value and "All" variables (Grafana joins
regex-escaped values as `(a|b)` for Prometheus, and "All" becomes the variable's
`allValue` when it has one).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_VAR = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+)")
_PROM_REGEX_META = re.compile(r"([\\^$*+?.()|{}\[\]])")

#: Grafana's default time range for dashboards without one, and Prometheus' scrape interval.
DEFAULT_RANGE_SECONDS = 6 * 3600
DEFAULT_SCRAPE_SECONDS = 15
MAX_DATA_POINTS = 1000  # roughly a panel's pixel width


@dataclass(frozen=True)
class TimeContext:
    range_seconds: int = DEFAULT_RANGE_SECONDS
    scrape_interval_seconds: int = DEFAULT_SCRAPE_SECONDS
    max_data_points: int = MAX_DATA_POINTS

    @property
    def interval_seconds(self) -> int:
        """$__interval: range / data points, never below the scrape interval (Grafana's min step)."""
        return max(self.scrape_interval_seconds, math.ceil(self.range_seconds / self.max_data_points))

    @property
    def rate_interval_seconds(self) -> int:
        """$__rate_interval = max($__interval + scrape interval, 4 x scrape interval)."""
        return max(self.interval_seconds + self.scrape_interval_seconds, 4 * self.scrape_interval_seconds)

    def builtins(self) -> dict[str, str]:
        return {
            "__interval": f"{self.interval_seconds}s",
            "__interval_ms": str(self.interval_seconds * 1000),
            "__rate_interval": f"{self.rate_interval_seconds}s",
            "__rate_interval_ms": str(self.rate_interval_seconds * 1000),
            "__range": f"{self.range_seconds}s",
            "__range_s": str(self.range_seconds),
            "__range_ms": str(self.range_seconds * 1000),
        }


def _escape(value: str) -> str:
    return _PROM_REGEX_META.sub(r"\\\\\1", value)


def variable_values(dashboard: dict, overrides: dict[str, str | list[str]] | None = None) -> dict[str, str]:
    """Each template variable's value as it lands in a Prometheus query."""
    out: dict[str, str] = {}
    overrides = overrides or {}
    for var in dashboard.get("templating", {}).get("list", []):
        name = var.get("name")
        if not name:
            continue
        if var.get("type") == "datasource":
            out[name] = overrides.get(name, "prometheus")  # data sources never reach the query text
            continue
        value = overrides.get(name, (var.get("current") or {}).get("value", ""))
        values = value if isinstance(value, list) else [value]
        if values == ["$__all"] or "$__all" in values:
            if var.get("allValue"):
                out[name] = var["allValue"]
                continue
            values = [o.get("value") for o in var.get("options", []) if o.get("value") != "$__all"] or [".*"]
        if var.get("multi") or var.get("includeAll"):
            escaped = [_escape(str(v)) for v in values]
            out[name] = escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
        else:
            out[name] = str(values[0]) if values else ""
    return out


def expand(expr: str, dashboard: dict | None = None, *, time: TimeContext = TimeContext(),
           overrides: dict[str, str | list[str]] | None = None) -> str:
    """`expr` with every known variable and macro replaced; unknown ones are left as written."""
    values = {**variable_values(dashboard or {}, overrides), **time.builtins()}

    def sub(m: re.Match) -> str:
        name = m.group(1) or m.group(3) or m.group(4)
        return values.get(name, m.group(0))

    return _VAR.sub(sub, expr)


def used_variables(expr: str) -> set[str]:
    """Names of the variables an expression refers to (built-ins included)."""
    return {m.group(1) or m.group(3) or m.group(4) for m in _VAR.finditer(expr)}
