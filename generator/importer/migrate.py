"""Legacy panels as Grafana migrates them when it loads an old dashboard.

Grafana no longer draws the Angular `graph` and `singlestat` panels: on load it turns a graph
into a time series and a singlestat into a stat (or a gauge), and moves an old text panel's
content and mode into its options. `dashgen import` does the same
before it writes the module, so the module holds modern panels that house factories can
build (`p.timeseries`, `p.stat`, `p.gauge`), not pages of raw legacy JSON. The facts follow
Grafana's own migration (the time series panel's graph migration and the shared single-stat
migration): what maps where, and how values are scaled (fill 0-10 becomes opacity 0-100, a
point radius r becomes a point size 2 + 2r, ...). Whatever has no place in the new panel is
named, per panel, in the report (`Migration.lost`), never dropped silently.

Input and output are normalised dashboards (`normalize_dashboard`); the input is not changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: Panel keys every panel kind shares: carried over unchanged.
COMMON_KEYS = {
    "type", "id", "title", "description", "datasource", "targets", "gridPos", "links", "repeat",
    "repeatDirection", "maxPerRow", "interval", "timeFrom", "timeShift", "hideTimeOverride",
    "transparent", "transformations", "maxDataPoints", "libraryPanel", "cacheTimeout", "queryCachingTTL",
}
#: Legacy reducer names (legend values, singlestat valueName) -> field reducer ids.
REDUCERS = {"avg": "mean", "current": "lastNotNull", "total": "sum", "max": "max", "min": "min",
            "first": "firstNotNull", "delta": "delta", "diff": "diff", "range": "range", "count": "count",
            "last": "last", "mean": "mean", "sum": "sum", "lastNotNull": "lastNotNull"}


@dataclass
class Migration:
    """One panel migrated: where it sits, from which type to which, and what could not be kept."""

    row: str | None
    title: str
    old_type: str
    new_type: str
    lost: list[str] = field(default_factory=list)


def _number(value):
    """Grafana's validNumber: a number, or a string that reads as one; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and value.strip():
        try:
            n = float(value)
        except ValueError:
            return None
        if math.isfinite(n):
            return int(n) if n.is_integer() else n
    return None


def _axis(axis) -> dict:
    """A legacy y axis as field config (unit, decimals, min, max, custom axis settings)."""
    if not isinstance(axis, dict):
        return {}
    custom: dict = {"axisPlacement": "auto" if axis.get("show", True) else "hidden"}
    if axis.get("label"):
        custom["axisLabel"] = axis["label"]
    if axis.get("logBase") in (2, 10):
        custom["scaleDistribution"] = {"type": "log", "log": axis["logBase"]}
    out = {"unit": axis.get("format"), "decimals": _number(axis.get("decimals")),
           "min": _number(axis.get("min")), "max": _number(axis.get("max")), "custom": custom}
    return {k: v for k, v in out.items() if v is not None}


def _color(threshold: dict) -> str:
    mode = threshold.get("colorMode")
    if mode == "warning":
        return "orange"
    if mode == "custom":
        return threshold.get("fillColor") or threshold.get("lineColor") or "red"
    return "red"


def _graph_thresholds(items: list, lost: list[str]) -> tuple[list[dict], str] | None:
    """(steps, thresholdsStyle mode) from a graph's threshold lines and areas."""
    items = [t for t in items if isinstance(t, dict) and _number(t.get("value")) is not None]
    if not items:
        return None
    items = sorted(items, key=lambda t: _number(t["value"]))
    if any(t.get("yaxis") == "right" for t in items):
        lost.append("thresholds on the right y axis (drawn against the one axis now)")
    steps: list[dict] = []
    area = any(t.get("fill") for t in items)
    line = any(t.get("line") for t in items)
    for i, t in enumerate(items):
        value, nxt = _number(t["value"]), items[i + 1] if i + 1 < len(items) else None
        if t.get("op") == "gt":
            steps.append({"color": _color(t), "value": value})
        elif t.get("op") == "lt":
            if not steps:
                steps.append({"color": _color(t), "value": None})
            if nxt is not None and nxt.get("op") == "lt":
                steps.append({"color": _color(nxt), "value": value})
            else:
                steps.append({"color": "transparent", "value": value})
    if steps and steps[0]["value"] is not None:
        steps.insert(0, {"color": "transparent", "value": None})
    return steps, "line+area" if line and area else "area" if area else "line"


def _series_override(o: dict, y1: dict, yaxes: list, lost: list[str]) -> dict | None:
    alias = o.get("alias")
    if not isinstance(alias, str) or not alias:
        return None
    regex = len(alias) > 1 and alias.startswith("/") and alias.endswith("/")
    props: list[dict] = []
    dash = None
    for k, v in o.items():
        if k in ("alias", "$$hashKey"):
            continue
        if k == "yaxis":
            if v == 2:
                y2 = _axis(yaxes[1] if len(yaxes) > 1 else None)
                props += [{"id": key, "value": val} for key, val in y2.items()
                          if key != "custom" and val != y1.get(key)]
                props += [{"id": f"custom.{key}", "value": val} for key, val in y2.get("custom", {}).items()
                          if val != y1.get("custom", {}).get(key)]
        elif k == "fill":
            props.append({"id": "custom.fillOpacity", "value": v * 10})
        elif k == "fillBelowTo":
            props.append({"id": "custom.fillBelowTo", "value": v})
        elif k == "fillGradient":
            if v:
                props += [{"id": "custom.fillGradient", "value": "opacity"}, {"id": "custom.fillOpacity", "value": v * 10}]
        elif k == "points":
            props.append({"id": "custom.showPoints", "value": "always" if v else "never"})
        elif k == "bars":
            props += ([{"id": "custom.drawStyle", "value": "bars"}, {"id": "custom.fillOpacity", "value": 100}]
                      if v else [{"id": "custom.drawStyle", "value": "line"}])
        elif k == "lines":
            props.append({"id": "custom.lineWidth", "value": 0})
        elif k == "linewidth":
            props.append({"id": "custom.lineWidth", "value": v})
        elif k == "pointradius":
            props.append({"id": "custom.pointSize", "value": 2 + v * 2})
        elif k in ("dashLength", "spaceLength", "dashes"):
            dash = dash or {"fill": "solid", "dash": [10, 10]}
            if k == "dashes":
                dash["fill"] = "dash" if v else "solid"
            else:
                dash["dash"][0 if k == "dashLength" else 1] = v
        elif k == "stack":
            props.append({"id": "custom.stacking", "value": {"mode": "normal", "group": v}})
        elif k == "color":
            props.append({"id": "color", "value": {"fixedColor": v, "mode": "fixed"}})
        elif k == "transform":
            props.append({"id": "custom.transform", "value": "negative-Y" if v == "negative-Y" else "constant"})
        else:
            lost.append(f"series override {alias!r}: {k}")
    if dash is not None:
        props.append({"id": "custom.lineStyle", "value": dash})
    if not props:
        return None
    return {"matcher": {"id": "byRegexp" if regex else "byName", "options": alias}, "properties": props}


#: Graph keys the migration reads (others, when set to something, are reported as lost).
GRAPH_KEYS = {
    "yaxes", "yaxis", "aliasColors", "seriesOverrides", "bars", "lines", "points", "pointradius", "linewidth",
    "dashes", "dashLength", "spaceLength", "fill", "fillGradient", "nullPointMode", "steppedLine", "stack",
    "legend", "thresholds", "tooltip", "fieldConfig", "options", "renderer", "hiddenSeries", "percentage",
    "xaxis", "timeRegions", "decimals", "span", "height", "minSpan", "grid", "bars",
}


def graph_to_timeseries(panel: dict, lost: list[str]) -> dict:
    """A legacy `graph` panel as the `timeseries` panel Grafana makes of it on load."""
    out = {k: v for k, v in panel.items() if k in COMMON_KEYS}
    out["type"] = "timeseries"
    yaxes = panel.get("yaxes") if isinstance(panel.get("yaxes"), list) else []
    old_fc = panel.get("fieldConfig") if isinstance(panel.get("fieldConfig"), dict) else {}
    y1 = _axis(yaxes[0] if yaxes else None)
    y1 = {**(old_fc.get("defaults") or {}), **y1}
    overrides = list(old_fc.get("overrides") or [])
    for alias, color in (panel.get("aliasColors") or {}).items() if isinstance(panel.get("aliasColors"), dict) else []:
        if color:
            overrides.append({"matcher": {"id": "byName", "options": alias},
                              "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": color}}]})
    fill_below = False
    for o in panel.get("seriesOverrides") or []:
        if isinstance(o, dict):
            fill_below |= "fillBelowTo" in o
            rule = _series_override(o, y1, yaxes, lost)
            if rule is not None:
                overrides.append(rule)
    custom = dict(y1.get("custom") or {})
    lines = panel.get("lines", True)
    custom["drawStyle"] = "bars" if panel.get("bars") else "line" if lines else "points"
    if panel.get("points"):
        custom["showPoints"] = "always"
        if _number(panel.get("pointradius")) is not None:
            custom["pointSize"] = 2 + panel["pointradius"] * 2
    elif custom["drawStyle"] != "points":
        custom["showPoints"] = "never"
    if isinstance(panel.get("linewidth"), int):
        custom["lineWidth"] = panel["linewidth"]
    if panel.get("dashes"):
        custom["lineStyle"] = {"fill": "dash", "dash": [panel.get("dashLength") or 10, panel.get("spaceLength") or 10]}
    if fill_below:
        custom["fillOpacity"] = 35  # flot drew bands at a fixed opacity
    elif _number(panel.get("fill")) is not None:
        custom["fillOpacity"] = _number(panel["fill"]) * 10
    gradient = _number(panel.get("fillGradient"))
    if gradient:
        custom["gradientMode"] = "opacity"
        custom["fillOpacity"] = gradient * 10
    custom["spanNulls"] = panel.get("nullPointMode") == "null"
    if panel.get("steppedLine"):
        custom["lineInterpolation"] = "stepAfter"
    if custom["drawStyle"] == "bars":
        custom["fillOpacity"] = 100
    if panel.get("stack"):
        custom["stacking"] = {"mode": "normal", "group": "A"}
        if panel.get("percentage"):
            custom["stacking"] = {"mode": "percent", "group": "A"}
    elif panel.get("percentage"):
        lost.append("percentage (only stacked series can show percentages now)")
    legend = panel.get("legend") if isinstance(panel.get("legend"), dict) else {}
    options: dict = {"legend": {"displayMode": "list", "placement": "bottom", "calcs": []},
                     "tooltip": {"mode": "single", "sort": "none"}}
    if legend:
        options["legend"]["displayMode"] = "table" if legend.get("alignAsTable") else "list"
        if legend.get("show") is False:  # Grafana's "hidden" mode, as it now writes it
            options["legend"]["showLegend"] = False
        if legend.get("rightSide"):
            options["legend"]["placement"] = "right"
        if legend.get("values"):
            options["legend"]["calcs"] = [REDUCERS[k] for k, v in legend.items() if v and k in REDUCERS]
        if legend.get("sort") and legend.get("sortDesc") is not None:
            options["legend"]["sortBy"] = {"avg": "Mean", "current": "Last *", "max": "Max", "min": "Min",
                                           "total": "Total"}.get(legend["sort"], legend["sort"])
            options["legend"]["sortDesc"] = bool(legend["sortDesc"])
        for k in ("hideEmpty", "hideZero"):
            if legend.get(k):
                lost.append(f"legend.{k} (the time series legend shows every series)")
    tooltip = panel.get("tooltip") if isinstance(panel.get("tooltip"), dict) else {}
    if tooltip.get("shared"):
        options["tooltip"]["mode"] = "multi"
    if tooltip.get("sort") in (1, 2):
        options["tooltip"]["sort"] = "asc" if tooltip["sort"] == 1 else "desc"
    found = _graph_thresholds(panel.get("thresholds") or [], lost) if isinstance(panel.get("thresholds"), list) else None
    if found:
        custom["thresholdsStyle"] = {"mode": found[1]}
        y1["thresholds"] = {"mode": "absolute", "steps": found[0]}
    y1["custom"] = custom
    out["fieldConfig"] = {"defaults": y1, "overrides": overrides}
    out["options"] = options
    xaxis = panel.get("xaxis") if isinstance(panel.get("xaxis"), dict) else {}
    if xaxis.get("mode") not in (None, "time"):
        lost.append(f"xaxis.mode {xaxis['mode']!r} (a time series has a time axis: use a bar chart or histogram)")
    if xaxis.get("show") is False:
        lost.append("xaxis.show false (the time axis is always drawn)")
    if panel.get("timeRegions"):
        lost.append("timeRegions (use annotations or time region queries)")
    if panel.get("decimals") is not None and "decimals" not in y1:
        lost.append("decimals of the legend values")
    if panel.get("alert"):
        lost.append("alert (legacy dashboard alerting: recreate it as an alert rule)")
    if isinstance(panel.get("yaxis"), dict) and panel["yaxis"].get("align"):
        lost.append("yaxis.align (aligned zero of both y axes)")
    for k, v in panel.items():
        if k not in COMMON_KEYS and k not in GRAPH_KEYS and k != "alert" and v not in (None, "", [], {}, False):
            lost.append(f"{k} (no time series option)")
    return out


SINGLESTAT_KEYS = {
    "colorBackground", "colorValue", "colors", "format", "gauge", "mappingType", "mappingTypes", "nullPointMode",
    "nullText", "postfix", "postfixFontSize", "prefix", "prefixFontSize", "rangeMaps", "sparkline", "tableColumn",
    "thresholds", "valueFontSize", "valueMaps", "valueName", "decimals", "span", "minSpan", "height",
    "fieldConfig", "options",
}


def _singlestat_mappings(panel: dict) -> list[dict]:
    out: list[dict] = []
    if panel.get("mappingType") in (1, None):
        values = {}
        for m in panel.get("valueMaps") or []:
            if isinstance(m, dict) and m.get("op", "=") == "=" and "value" in m:
                key = "null" if m["value"] == "null" else str(m["value"])
                values[key] = {"text": str(m.get("text", "")), "index": len(values)}
        if values:
            out.append({"type": "value", "options": values})
    if panel.get("mappingType") in (2, None):
        for m in panel.get("rangeMaps") or []:
            if isinstance(m, dict):
                out.append({"type": "range", "options": {"from": _number(m.get("from")), "to": _number(m.get("to")),
                                                         "result": {"text": str(m.get("text", "")), "index": len(out)}}})
    return out


def singlestat_to_stat(panel: dict, lost: list[str]) -> dict:
    """A legacy `singlestat` as the `stat` (or, with its gauge shown, `gauge`) Grafana makes of it."""
    out = {k: v for k, v in panel.items() if k in COMMON_KEYS}
    gauge = panel.get("gauge") if isinstance(panel.get("gauge"), dict) else {}
    out["type"] = "gauge" if gauge.get("show") else "stat"
    old_fc = panel.get("fieldConfig") if isinstance(panel.get("fieldConfig"), dict) else {}
    defaults = dict(old_fc.get("defaults") or {})
    if panel.get("format"):
        defaults["unit"] = panel["format"]
    if _number(panel.get("decimals")) is not None:
        defaults["decimals"] = _number(panel["decimals"])
    colors = [c for c in panel.get("colors") or [] if isinstance(c, str)]
    levels = [_number(x) for x in str(panel.get("thresholds") or "").split(",") if x.strip()]
    if colors and None not in levels:
        steps = [{"color": colors[0], "value": None}]
        steps += [{"color": colors[min(i + 1, len(colors) - 1)], "value": v} for i, v in enumerate(levels)]
        defaults["thresholds"] = {"mode": "absolute", "steps": steps}
    mappings = _singlestat_mappings(panel)
    if mappings:
        defaults["mappings"] = mappings
    if gauge.get("show"):
        for k, key in (("minValue", "min"), ("maxValue", "max")):
            if _number(gauge.get(k)) is not None:
                defaults[key] = _number(gauge[k])
    if panel.get("nullText"):
        defaults["noValue"] = panel["nullText"]
    calc = REDUCERS.get(panel.get("valueName") or "avg")
    if calc is None:
        lost.append(f"valueName {panel.get('valueName')!r} (no such reducer)")
        calc = "mean"
    options: dict = {"reduceOptions": {"calcs": [calc], "fields": "", "values": False}}
    if panel.get("tableColumn"):
        options["reduceOptions"]["fields"] = f"/^{panel['tableColumn']}$/"
    if out["type"] == "stat":
        sparkline = panel.get("sparkline") if isinstance(panel.get("sparkline"), dict) else {}
        options["graphMode"] = "area" if sparkline.get("show") else "none"
        options["colorMode"] = "background" if panel.get("colorBackground") else \
            "value" if panel.get("colorValue") else "none"
        options["justifyMode"] = "auto"
        options["orientation"] = "horizontal"
        options["textMode"] = "auto"
        if sparkline.get("show") and (sparkline.get("lineColor") or sparkline.get("fillColor")):
            lost.append("sparkline colours (the sparkline takes the value's colour)")
    else:
        options.update(showThresholdLabels=bool(gauge.get("thresholdLabels")),
                       showThresholdMarkers=gauge.get("thresholdMarkers", True) is not False)
    for k in ("prefix", "postfix"):
        if panel.get(k):
            unit = "prefix" if k == "prefix" else "suffix"
            lost.append(f"{k} {panel[k]!r} (use a unit, or a custom unit such as '{unit}:{panel[k]}')")
    for k, v in panel.items():
        if k not in COMMON_KEYS and k not in SINGLESTAT_KEYS and v not in (None, "", [], {}, False):
            lost.append(f"{k} (no stat option)")
    out["fieldConfig"] = {"defaults": defaults, "overrides": list(old_fc.get("overrides") or [])}
    out["options"] = options
    return out


#: The text panel's modes; any other (the old "text") reads as Markdown.
TEXT_MODES = ("markdown", "html", "code")
#: Keys of the Angular text panel that mean nothing on the grid or are never saved.
TEXT_GONE = {"height": "height (the grid sets the size)", "span": "span (the grid sets the size)",
             "scopedVars": "scopedVars (Grafana does not save them)"}


def text_options(panel: dict, lost: list[str]) -> dict | None:
    """A text panel whose content and mode sit on the panel itself (the Angular text panel) with
    them in its options, as the text panel's migration handler does; a mode Grafana dropped
    (`text`) becomes Markdown. None when the panel is already current.

    Grafana moves the old keys only for panels saved before 7.1 (pluginVersion, which the
    normaliser drops); a panel that has both kinds was saved later, so its options stay and
    the old keys go, as they do in Grafana."""
    legacy = "content" in panel and "mode" in panel
    options = panel.get("options") if isinstance(panel.get("options"), dict) else {}
    if not legacy and options.get("mode", "markdown") in TEXT_MODES:
        return None
    out = {k: v for k, v in panel.items() if k not in ("content", "mode") and k not in TEXT_GONE}
    if legacy and "content" not in options:
        options = {"content": panel["content"], "mode": panel["mode"]}
    if options.get("mode", "markdown") not in TEXT_MODES:
        options = {**options, "mode": "markdown"}
    out["options"] = options
    for k, why in TEXT_GONE.items():
        if panel.get(k) not in (None, "", [], {}):
            lost.append(why)
    return out


MIGRATIONS = {"graph": graph_to_timeseries, "singlestat": singlestat_to_stat, "text": text_options}


def migrate_dashboard(norm: dict) -> tuple[dict, list[Migration]]:
    """The normalised dashboard with its legacy panels migrated (a new dict), and what each
    migration could not keep."""
    from generator.normalize import normalize_dashboard

    done: list[Migration] = []
    row_title = None

    def one(p: dict) -> dict:
        kind = p.get("type")
        if kind not in MIGRATIONS:
            return p
        lost: list[str] = []
        new = MIGRATIONS[kind](p, lost)
        if new is None:  # nothing to migrate
            return p
        done.append(Migration(row_title, str(p.get("title", "")), kind, new["type"], lost))
        return new

    panels = []
    for p in norm.get("panels") or []:
        if p.get("type") == "row":
            row_title = p.get("title") or ""
            panels.append({**p, "panels": [one(c) for c in p.get("panels") or []]})
        else:
            panels.append(one(p))
    if not done:
        return norm, []
    return normalize_dashboard({**norm, "panels": panels}), done
