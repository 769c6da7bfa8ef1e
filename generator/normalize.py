"""One normaliser for every dashboard JSON dashgen touches: rendered, pulled or remote.

grafanalib emits schemaVersion 12 JSON full of nulls and legacy keys (rows, span,
gnetId, hideControls, ...). `from_grafanalib` turns it into clean, current Grafana JSON;
`normalize_dashboard` is the canonical form that rendered files, `pull`, `upload`
comparisons and `diff` all share: server-set and volatile fields dropped (id, version,
iteration, pluginVersion), nulls and empty optional lists removed, panel ids and refIds
renumbered in reading order, data sources as {type, uid}. It is idempotent:
normalize(normalize(x)) == normalize(x).
"""

from __future__ import annotations

import copy
import json
from typing import Any

SCHEMA_VERSION = 42  # Grafana 12's LATEST_VERSION (grafana-api.md §1)
DATASOURCE_VAR = "${datasource}"
PROMETHEUS_DS = {"type": "prometheus", "uid": DATASOURCE_VAR}

DASHBOARD_KEYS = {
    "uid", "title", "description", "tags", "timezone", "editable", "graphTooltip", "time",
    "timepicker", "fiscalYearStartMonth", "liveNow", "weekStart", "refresh", "schemaVersion",
    "panels", "templating", "annotations", "links", "preload",
}
#: Server-set or volatile: never part of what dashgen compares or writes.
VOLATILE_DASHBOARD_KEYS = {"id", "version", "iteration", "gnetId", "revision", "snapshot"}
PANEL_KEYS = {
    "type", "id", "targets", "title", "description", "transparent", "datasource", "gridPos",
    "links", "repeat", "repeatDirection", "maxPerRow", "transformations", "interval", "timeFrom",
    "timeShift", "hideTimeOverride", "libraryPanel", "options", "fieldConfig",
}
ROW_KEYS = {"type", "collapsed", "title", "datasource", "gridPos", "id", "panels", "repeat"}
TARGET_KEYS = {
    "expr", "refId", "datasource", "legendFormat", "format", "instant", "range", "interval",
    "editorMode", "exemplar", "hide",
}
VARIABLE_KEYS = {
    "type", "name", "label", "hide", "skipUrlSync", "description", "query", "datasource", "current",
    "multi", "options", "refresh", "sort", "includeAll", "allValue", "regex", "definition",
}
TIMEPICKER_KEYS = {"hidden", "refresh_intervals", "quick_ranges", "nowDelay"}
#: Optional panel keys whose "empty" value means the same as leaving them out.
EMPTY_DEFAULTS = {
    "links": [], "transformations": [], "description": "", "transparent": False,
    "hideTimeOverride": False, "repeat": "", "interval": "", "timeFrom": "", "timeShift": "",
}
TARGET_DEFAULTS = {"hide": False, "interval": "", "legendFormat": "", "instant": False, "exemplar": False}


def drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def _threshold_steps(steps: list) -> list:
    # The base step carries value null in Grafana; keep it explicit.
    return [{"color": s["color"], "value": s.get("value")} for s in steps]


def _ref_id(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _normalize_target(t: dict, i: int, panel_ds: dict | None) -> dict:
    out = {k: v for k, v in t.items() if k in TARGET_KEYS}
    for k, default in TARGET_DEFAULTS.items():
        if out.get(k) == default:
            del out[k]
    if out.get("format") == "time_series":
        del out["format"]
    out["refId"] = _ref_id(i)
    ds = out.get("datasource") or panel_ds
    if isinstance(ds, str):
        ds = {"type": "prometheus", "uid": ds}
    if ds:
        out["datasource"] = ds
    return out


def _normalize_field_config(fc: dict | None) -> dict:
    fc = copy.deepcopy(fc or {})
    defaults = fc.get("defaults") or {}
    thresholds = defaults.get("thresholds")
    if thresholds is not None:
        if not thresholds.get("steps"):
            del defaults["thresholds"]
        else:
            thresholds["steps"] = _threshold_steps(thresholds["steps"])
    if defaults.get("mappings") == []:
        del defaults["mappings"]
    if defaults.get("custom") == {}:
        del defaults["custom"]
    return {"defaults": defaults, "overrides": fc.get("overrides") or []}


def _normalize_panel(p: dict) -> dict:
    if p.get("type") == "row":
        out = {k: v for k, v in p.items() if k in ROW_KEYS}
        out.setdefault("collapsed", False)
        out["panels"] = [_normalize_panel(c) for c in out.get("panels") or []]
        out.pop("datasource", None)
        if not out.get("repeat"):
            out.pop("repeat", None)
        return out
    out = {k: v for k, v in p.items() if k in PANEL_KEYS}
    for k, default in EMPTY_DEFAULTS.items():
        if k in out and out[k] == default:
            del out[k]
    ds = out.get("datasource")
    if isinstance(ds, str):
        ds = out["datasource"] = {"type": "prometheus", "uid": ds}
    if "targets" in out:
        out["targets"] = [_normalize_target(t, i, ds) for i, t in enumerate(out["targets"])]
        if not out["targets"]:
            del out["targets"]
    if p.get("type") != "text" or "fieldConfig" in p:
        out["fieldConfig"] = _normalize_field_config(out.get("fieldConfig"))
    if out.get("options") in ([], {}):
        del out["options"]
    return out


def _normalize_variable(v: dict) -> dict:
    out = {k: val for k, val in v.items() if k in VARIABLE_KEYS}
    current = out.get("current")
    if isinstance(current, dict):
        out["current"] = {k: current[k] for k in ("text", "value") if k in current}
    for k in ("regex", "description", "allValue", "definition"):
        if out.get(k) in ("", None):
            out.pop(k, None)
    if out.get("options") == [] and out.get("type") in ("query", "datasource"):
        del out["options"]
    return out


def normalize_dashboard(dashboard: dict) -> dict:
    """The canonical form of a dashboard, whatever produced it (see module docstring)."""
    d = drop_nulls(copy.deepcopy(dashboard))
    out = {k: v for k, v in d.items() if k in DASHBOARD_KEYS and k not in VOLATILE_DASHBOARD_KEYS}
    if "title" in out and isinstance(out["title"], str):
        out["title"] = out["title"].strip()  # the server trims it (grafana-api.md §4.2)
    out["schemaVersion"] = SCHEMA_VERSION
    panels = [_normalize_panel(p) for p in out.get("panels") or []]
    next_id = 1
    for p in panels:  # stable ids in reading order, rows' children included
        p["id"] = next_id
        next_id += 1
        for c in p.get("panels", []) if p.get("type") == "row" else []:
            c["id"] = next_id
            next_id += 1
    out["panels"] = panels
    templating = out.get("templating") or {}
    out["templating"] = {"list": [_normalize_variable(v) for v in templating.get("list") or []]}
    annotations = out.get("annotations") or {}
    out["annotations"] = {"list": annotations.get("list") or []}
    if "timepicker" in out:
        tp = {k: v for k, v in out["timepicker"].items() if k in TIMEPICKER_KEYS}
        if tp.get("hidden") is False:
            del tp["hidden"]
        if tp:
            out["timepicker"] = tp
        else:
            del out["timepicker"]
    if out.get("links") == []:
        del out["links"]
    if out.get("description") == "":
        del out["description"]
    return out


def dumps(dashboard: dict) -> str:
    """The byte-stable text of a dashboard (sorted keys, 2-space indent, final newline)."""
    return json.dumps(dashboard, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
