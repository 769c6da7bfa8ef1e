"""What `dashgen query` prints: a panel's queries as Prometheus receives them from Grafana.

    panel_queries(dashboards, "acme-system-health", "CPU", {"job": "acme-worker"})

The dashboard is found by uid, title or definition module (`system_health`); the panel by
title or id. Variables take their dashboard defaults unless overridden; `$__rate_interval`
and the other macros are computed for the dashboard's time range (or `range_seconds`) and
the scrape interval, as Grafana does (see generator.templating). An unknown dashboard, panel
or variable raises ConfigError listing what exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.durations import duration, seconds
from generator.errors import ConfigError
from generator.normalize import prometheus_targets
from generator.templating import (
    DEFAULT_SCRAPE_SECONDS,
    TimeContext,
    expand,
    used_variables,
    variable_values,
)


@dataclass(frozen=True)
class PanelQuery:
    ref_id: str
    legend: str
    expr: str  # expanded, ready for Prometheus


def find_dashboard(dashboards: list[tuple[str, dict]], name: str) -> dict:
    """`dashboards` as (definition file, JSON) pairs; `name` a uid, a title or a module name."""
    for rel, d in dashboards:
        if name in (d.get("uid"), d.get("title"), Path(rel).stem) or name.lower() == str(d.get("title", "")).lower():
            return d
    known = ", ".join(f"{d.get('uid')} ({Path(rel).stem})" for rel, d in dashboards)
    raise ConfigError(f"no dashboard {name!r}: use a uid, title or module name ({known})")


def find_panel(dashboard: dict, name: str) -> dict:
    panels = []
    for p in dashboard.get("panels", []):
        panels.append(p)
        panels.extend(p.get("panels") or [])
    panels = [p for p in panels if p.get("type") != "row"]
    for match in (lambda p: p.get("title") == name, lambda p: str(p.get("title", "")).lower() == name.lower(),
                  lambda p: str(p.get("id")) == name):
        hits = [p for p in panels if match(p)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise ConfigError(f"panel {name!r} is ambiguous in {dashboard.get('uid')}: use its id "
                              f"({', '.join(str(p.get('id')) for p in hits)})")
    titles = ", ".join(repr(p.get("title")) for p in panels)
    raise ConfigError(f"no panel {name!r} in dashboard {dashboard.get('uid')}: {titles}")


def time_context(dashboard: dict, range_: str | None = None, scrape: str | None = None) -> TimeContext:
    """The dashboard's default range (`now-6h` -> 6 h) unless `range_` is given."""
    try:
        if range_ is None:
            start = str((dashboard.get("time") or {}).get("from", "now-6h"))
            range_ = start.removeprefix("now-") if start.startswith("now-") else "6h"
        scrape_s = seconds(scrape) if scrape else DEFAULT_SCRAPE_SECONDS
        return TimeContext(range_seconds=int(seconds(range_)), scrape_interval_seconds=int(scrape_s))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def parse_vars(pairs: list[str] | tuple[str, ...], dashboard: dict) -> dict[str, str | list[str]]:
    """`["job=a", "job=b", "handler=/x"]` -> {"job": ["a", "b"], "handler": "/x"}; names must exist."""
    names = [v.get("name") for v in dashboard.get("templating", {}).get("list", [])]
    out: dict[str, str | list[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--var {pair!r}: write NAME=VALUE")
        if name not in names:
            raise ConfigError(f"--var {pair!r}: dashboard {dashboard.get('uid')} has no variable {name!r} "
                              f"(it has: {', '.join(n for n in names if n)})")
        if name in out:
            prev = out[name]
            out[name] = [*(prev if isinstance(prev, list) else [prev]), value]
        else:
            out[name] = value
    return out


def panel_queries(dashboard: dict, panel: dict, overrides: dict | None = None,
                  time: TimeContext = TimeContext()) -> list[PanelQuery]:
    return [PanelQuery(t.get("refId", ""), t.get("legendFormat", ""), expand(t["expr"], dashboard, time=time,
                                                                               overrides=overrides))
            for t in prometheus_targets(panel) if t.get("expr") and isinstance(t["expr"], str)]


def header(dashboard: dict, panel: dict, overrides: dict | None, time: TimeContext) -> list[str]:
    """PromQL comment lines saying which values were used (a paste keeps them harmlessly)."""
    values = variable_values(dashboard, overrides)
    names = set().union(*(used_variables(t.get("expr", "")) for t in panel.get("targets", [])))
    used = {k: v for k, v in values.items() if k in names}
    lines = [f"# {dashboard.get('title')} / {panel.get('title')}",
             f"# range {duration(time.range_seconds)}, scrape {duration(time.scrape_interval_seconds)}: "
             f"$__rate_interval={time.builtins()['__rate_interval']}, $__interval={time.builtins()['__interval']}, "
             f"$__range={time.builtins()['__range']}"]
    if used:
        lines.append("# " + ", ".join(f"${k}={v}" for k, v in used.items()))
    return lines
