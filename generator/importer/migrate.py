"""Legacy panels as Grafana migrates them when it loads an old dashboard.

Grafana no longer draws the Angular `graph`, `singlestat`, table and heatmap panels: on load it
turns a graph into a time series, a singlestat into a stat (or a gauge), an Angular table (its
styles) into a table with field overrides and an Angular heatmap into the heatmap's options; it moves an old text panel's content and mode into
its options, and a pre-7.0 stat's, gauge's or bar gauge's `fieldOptions` into its field
config. `dashgen import` does the same
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
import re
from dataclasses import dataclass, field

from generator.normalize import (
    HEATMAP_COLOR,
    HEATMAP_EXEMPLARS,
    HEATMAP_HIDE_EMPTY,
    TEXT_MODES,
    normalize_dashboard,
)

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
    """A singlestat's value and range maps (as its mappingType selects them) in Grafana 8's
    form, through `old_mappings`: the value maps first, then the ranges."""
    items: list = []
    if panel.get("mappingType") in (1, None):
        items += [{"type": 1, "value": m["value"], "text": m.get("text", "")} for m in panel.get("valueMaps") or []
                  if isinstance(m, dict) and m.get("op", "=") == "=" and "value" in m]
    if panel.get("mappingType") in (2, None):
        items += [{"type": 2, "from": m.get("from"), "to": m.get("to"), "text": m.get("text", "")}
                  for m in panel.get("rangeMaps") or [] if isinstance(m, dict)]
    return old_mappings(items)


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


def old_mappings(items: list) -> list[dict]:
    """Value mappings in the form Grafana used before 8.0 ({type: 1, value, text} and
    {type: 2, from, to, text}) as Grafana 8 converts them: the value ones in one value map
    first, "null" as a special match, then the ranges; indexes in the old order."""
    values: dict = {}
    out: list[dict] = []
    for i, m in enumerate(items):
        if not isinstance(m, dict):
            continue
        result = {"text": str(m.get("text", "")), "index": i}
        if m.get("type") in (1, "value") and m.get("value") == "null":
            out.append({"type": "special", "options": {"match": "null", "result": result}})
        elif m.get("type") in (1, "value") and "value" in m:
            values[str(m["value"])] = result
        elif m.get("type") in (2, "range"):
            out.append({"type": "range", "options": {"from": _number(m.get("from")), "to": _number(m.get("to")),
                                                     "result": result}})
        else:
            out.append(m)  # already the new form
    return ([{"type": "value", "options": values}] if values else []) + out


def single_stat_field_options(panel: dict, lost: list[str]) -> dict | None:
    """A stat, gauge or bar gauge saved before Grafana 7.0 (its field settings in
    `options.fieldOptions`) as the shared single-stat migration moves them: defaults and
    overrides into the field config, values/limit/calcs into `reduceOptions`, a threshold list
    into steps, a colour string into a fixed colour, `title` into `displayName`, a percent
    unit's missing min/max as 0..100 (0..1). Old value mappings take the new form. None when
    the panel is current."""
    options = panel.get("options")
    fo = options.get("fieldOptions") if isinstance(options, dict) else None
    if not isinstance(fo, dict):
        return None
    defaults = dict(fo.get("defaults") or {}) if isinstance(fo.get("defaults") or {}, dict) else {}
    steps = defaults.get("thresholds", fo.get("thresholds"))
    if isinstance(steps, list):
        defaults["thresholds"] = {"mode": "absolute", "steps": steps}
    if isinstance(defaults.get("color"), str):
        defaults["color"] = {"mode": "fixed", "fixedColor": defaults["color"]}
    if isinstance(defaults.get("mappings"), list):
        defaults["mappings"] = old_mappings(defaults["mappings"])
    if "title" in defaults:
        title = defaults.pop("title")
        if title is not None:
            defaults["displayName"] = title
    if "nullValueMode" in defaults:
        lost.append(f"nullValueMode {defaults.pop('nullValueMode')!r} (no field option since 7.0)")
    for unit, top in (("percent", 100), ("percentunit", 1)):
        if defaults.get("unit") == unit:
            defaults.setdefault("min", 0)
            defaults.setdefault("max", top)
    if fo.get("override"):
        lost.append("fieldOptions.override (Grafana 6.6 discarded it)")
    fc = panel.get("fieldConfig") if isinstance(panel.get("fieldConfig"), dict) else {}
    overrides = [o for o in fo.get("overrides") or [] if isinstance(o, dict)]
    out = {k: v for k, v in panel.items() if k not in ("options", "fieldConfig")}
    out["fieldConfig"] = {"defaults": {**(fc.get("defaults") or {}), **defaults},
                          "overrides": [*(fc.get("overrides") or []), *overrides]}
    out["options"] = {**{k: v for k, v in options.items() if k != "fieldOptions"},
                      "reduceOptions": {k: fo[k] for k in ("values", "limit", "calcs") if k in fo}}
    return out


#: The Angular table's keys: what the table panel has not read since Grafana 7.0.
TABLE_ANGULAR_KEYS = ("styles", "transform", "columns", "sort", "scroll", "fontSize", "pageSize", "showHeader")
#: The Angular table's `transform` -> a transformation (its aggregation columns: REDUCERS).
TABLE_TRANSFORMS = {"timeseries_to_rows": "seriesToRows", "timeseries_to_columns": "seriesToColumns",
                    "timeseries_aggregations": "reduce", "table": "merge"}
#: A style's colorMode -> the cell type that colours.
TABLE_CELL_COLORS = {"cell": "color-background", "row": "color-background", "value": "color-text"}
#: Style keys the migration reads; any other a style sets is reported.
_STYLE_READ = {"pattern", "alias", "unit", "decimals", "type", "dateFormat", "link", "linkUrl", "linkTooltip",
               "linkTargetBlank", "colorMode", "align", "thresholds", "colors"}


def _parse_int(value):
    """JavaScript's parseInt(value, 10): the leading integer of a string (None: not a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if math.isfinite(value) else None
    match = re.match(r"\s*([+-]?\d+)", value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def _style_steps(style: dict, where: str, lost: list[str]) -> list[dict]:
    colors = [c for c in style.get("colors") or [] if isinstance(c, str)] or ["green"]
    steps = [{"color": colors[0], "value": None}]
    for i, t in enumerate(style.get("thresholds") or [], 1):
        value = _parse_int(t)
        if value is None:
            lost.append(f"{where}: threshold {t!r} (not a number)")
            continue
        if _number(t) != value:
            lost.append(f"{where}: threshold {t!r} read as {value}, as Grafana reads it")
        steps.append({"color": colors[min(i, len(colors) - 1)], "value": value})
    return steps


def _style_properties(style: dict, where: str, lost: list[str]) -> list[dict]:
    props = []
    if style.get("alias"):
        props.append({"id": "displayName", "value": style["alias"]})
    if style.get("unit"):
        props.append({"id": "unit", "value": style["unit"]})
    if style.get("decimals"):
        props.append({"id": "decimals", "value": style["decimals"]})
    if style.get("type") == "date":
        props.append({"id": "unit", "value": f"time: {style.get('dateFormat', 'YYYY-MM-DD HH:mm:ss')}"})
    elif style.get("type") == "hidden":
        lost.append(f"{where}: type hidden (Grafana's migration shows the column)")
    if style.get("link"):
        props.append({"id": "links", "value": [{"title": style.get("linkTooltip") or "",
                                                 "url": style.get("linkUrl") or "",
                                                 "targetBlank": bool(style.get("linkTargetBlank", False))}]})
    if style.get("colorMode") in TABLE_CELL_COLORS:
        props.append({"id": "custom.cellOptions", "value": {"type": TABLE_CELL_COLORS[style["colorMode"]]}})
    if style.get("align") and style["align"] != "auto":
        props.append({"id": "custom.align", "value": style["align"]})
    if style.get("thresholds"):
        props.append({"id": "thresholds", "value": {"mode": "absolute", "steps": _style_steps(style, where, lost)}})
    for k in sorted(set(style) - _STYLE_READ):
        if style[k] not in (None, "", [], {}, False, 0):
            lost.append(f"{where}: {k}")
    return props


def table_old_to_table(panel: dict, lost: list[str]) -> dict | None:
    """An Angular table (`table-old`, or a `table` of a dashboard saved before Grafana 7.0,
    with `styles` and no field config) as the table panel's migration makes it: the transform
    as a transformation, the `/.*/` style as the field defaults, every other style as an
    override of the fields its pattern names. A table of Grafana 7 or later that still carries
    the Angular keys loses them (it never read them). None when the panel is current."""
    fc = panel.get("fieldConfig") if isinstance(panel.get("fieldConfig"), dict) else {}
    angular = panel.get("type") == "table-old" or (
        isinstance(panel.get("styles"), list) and not fc.get("defaults") and not fc.get("overrides"))
    if not angular:
        if not any(k in panel for k in TABLE_ANGULAR_KEYS):
            return None
        unread = [k for k in TABLE_ANGULAR_KEYS if panel.get(k) not in (None, "", [], {})]
        if unread:
            lost.append(f"{', '.join(unread)} (the Angular table's; the table has not read them since Grafana 7.0)")
        return {k: v for k, v in panel.items() if k not in TABLE_ANGULAR_KEYS}
    out = {k: v for k, v in panel.items() if k in COMMON_KEYS}
    out["type"] = "table"
    transformations = list(panel.get("transformations") or [])
    transform = panel.get("transform")
    if transform in TABLE_TRANSFORMS:
        options: dict = {"reducers": []}
        if transform == "timeseries_aggregations":
            columns = [c.get("value") for c in panel.get("columns") or [] if isinstance(c, dict)]
            options = {"reducers": [REDUCERS[c] for c in columns if c in REDUCERS], "includeTimeField": False}
            lost += [f"column {c!r} (no reducer for it)" for c in columns if c not in REDUCERS]
        transformations.append({"id": TABLE_TRANSFORMS[transform], "options": options})
    elif transform:
        lost.append(f"transform {transform!r} (no transformation for it)")
    if transformations:
        out["transformations"] = transformations
    styles = [s for s in panel.get("styles") or [] if isinstance(s, dict)]
    base = next((s for s in styles if s.get("pattern") == "/.*/"), None)
    defaults: dict = {}
    if base is not None:
        where = "style '/.*/'"
        defaults = {k: v for k, v in (("unit", base.get("unit")), ("decimals", base.get("decimals")),
                                      ("displayName", base.get("alias"))) if v not in (None, "")}
        custom = {}
        if base.get("align") and base["align"] != "auto":
            custom["align"] = base["align"]
        if base.get("colorMode") in TABLE_CELL_COLORS:
            custom["cellOptions"] = {"type": TABLE_CELL_COLORS[base["colorMode"]]}
        if custom:
            defaults["custom"] = custom
        if base.get("thresholds"):
            defaults["thresholds"] = {"mode": "absolute", "steps": _style_steps(base, where, lost)}
        if base.get("type") == "hidden":
            lost.append(f"{where}: type hidden (Grafana's migration shows the column)")
        lost += [f"{where}: {k}" for k in sorted(set(base) - _STYLE_READ)
                 if base[k] not in (None, "", [], {}, False, 0)]
    overrides = []
    for s in styles:
        if s is base:
            continue
        pattern = str(s.get("pattern", ""))
        matcher = "byRegexp" if re.fullmatch(r"/.*/", pattern, re.DOTALL) else "byName"
        overrides.append({"matcher": {"id": matcher, "options": pattern},
                          "properties": _style_properties(s, f"style {pattern!r}", lost)})
    out["fieldConfig"] = {"defaults": defaults, "overrides": overrides}
    if panel.get("sort") not in (None, {}) and (panel["sort"] or {}).get("col") is not None:
        lost.append("sort (the table sorts by a column's name: set sort_by)")
    for k in ("pageSize", "fontSize"):
        if panel.get(k) not in (None, "", "100%"):
            lost.append(f"{k} {panel[k]!r} (no table option)")
    if panel.get("showHeader") is False:
        lost.append("showHeader false (the header shows)")
    return out


#: The Angular heatmap's keys (on the panel itself; the heatmap since 9.0 keeps its settings in options).
HEATMAP_ANGULAR_KEYS = ("cards", "color", "dataFormat", "heatmap", "hideZeroBuckets", "highlightCards", "legend",
                        "reverseYBuckets", "tooltip", "tooltipDecimals", "xAxis", "yAxis", "yBucketBound",
                        "yBucketNumber", "yBucketSize", "xBucketNumber", "xBucketSize")


#: The colour schemes the heatmap offers (d3's, by name).
HEATMAP_SCHEMES = ("Blues", "Greens", "Greys", "Oranges", "Purples", "Reds", "BuGn", "BuPu", "GnBu", "OrRd",
                   "PuBuGn", "PuBu", "PuRd", "RdPu", "YlGnBu", "YlGn", "YlOrBr", "YlOrRd", "BrBG", "PiYG", "PRGn",
                   "PuOr", "RdBu", "RdGy", "RdYlBu", "RdYlGn", "Spectral", "Turbo", "Cividis", "Viridis", "Magma",
                   "Inferno", "Plasma", "Warm", "Cool", "CubehelixDefault", "Rainbow", "Sinebow")
HEATMAP_LAYOUTS = {"upper": "ge", "lower": "le", "middle": "unknown"}
#: Angular heatmap keys the migration reads (the rest it reports).
_HEATMAP_READ = {"cards", "color", "dataFormat", "legend", "reverseYBuckets", "tooltip", "tooltipDecimals", "yAxis",
                 "yBucketBound", "yBucketNumber", "yBucketSize", "xBucketNumber", "xBucketSize", "hideZeroBuckets"}


def _plus(value, default=None):
    """JavaScript's `+value` for the migration's numbers: null or "" is the default, NaN too."""
    if value is None or value == "" or isinstance(value, bool):
        return default
    n = _number(value)
    return default if n is None else n


def angular_heatmap(panel: dict, lost: list[str]) -> dict:
    """An Angular heatmap (settings on the panel, no options) as the heatmap panel's Angular
    migration makes it: pre-bucketed data (`tsbuckets`) shown as is, else buckets calculated
    from the old bucket sizes or counts (a log y axis: log buckets); the cards' padding as the
    cell gap; the y axis, tooltip, legend and zero-bucket filter as options; a spectrum colour
    as the scheme whose name its d3 interpolator carries, an opacity colour as opacity."""
    calculate = panel.get("dataFormat") != "tsbuckets"
    y_axis = {"logBase": 1, **(panel.get("yAxis") if isinstance(panel.get("yAxis"), dict) else {})}
    calculation: dict = {}
    if calculate:
        if panel.get("xBucketSize"):
            calculation["xBuckets"] = {"mode": "size", "value": str(panel["xBucketSize"])}
        elif panel.get("xBucketNumber"):
            calculation["xBuckets"] = {"mode": "count", "value": str(panel["xBucketNumber"])}
        if panel.get("yBucketSize"):
            calculation["yBuckets"] = {"mode": "size", "value": str(panel["yBucketSize"])}
        elif panel.get("xBucketNumber") and panel.get("yBucketNumber") is not None:  # Grafana tests x here
            calculation["yBuckets"] = {"mode": "count", "value": str(panel["yBucketNumber"])}
        log = _plus(y_axis.get("logBase"), 1)
        if log > 1:
            split = _plus(y_axis.get("splitFactor"))
            calculation["yBuckets"] = {"mode": "count", **({"value": str(split)} if split and split > 0 else {}),
                                       "scale": {"type": "log", "log": log}}
    cards = panel.get("cards") if isinstance(panel.get("cards"), dict) else {}
    gap = _plus(cards.get("cardPadding"), 2)
    color_in = panel.get("color") if isinstance(panel.get("color"), dict) else {}
    color = {**HEATMAP_COLOR, "steps": 128}
    if color_in.get("mode") == "spectrum":
        current = str(color_in.get("colorScheme") or "")
        # The longest scheme name the interpolator's carries: interpolateRdYlGn is RdYlGn, not YlGn.
        color["scheme"] = max((n for n in HEATMAP_SCHEMES if n in current), key=len, default=HEATMAP_COLOR["scheme"])
        if color_in.get("colorScale") not in (None, "sqrt"):
            lost.append(f"color.colorScale {color_in['colorScale']!r} (the scheme's scale is exponential)")
    elif color_in.get("mode") == "opacity":
        color["mode"] = "opacity"
        color.pop("scale")
        if "scale" in color_in:
            color["scale"] = color_in["scale"]
    color.pop("fill")
    if color_in.get("cardColor") is not None:
        color["fill"] = color_in["cardColor"]
    for k in ("min", "max"):
        if color_in.get(k) is not None:
            color[k] = color_in[k]
    if isinstance(color.get("min"), (int, float)) and isinstance(color.get("max"), (int, float)) \
            and color["min"] > color["max"]:
        color["min"], color["max"], color["reverse"] = color["max"], color["min"], True
    y_options = {"axisPlacement": "hidden" if y_axis.get("show") is False else "left",
                 "reverse": bool(panel.get("reverseYBuckets")), "axisWidth": _plus(y_axis.get("width")),
                 "min": y_axis.get("min"), "max": y_axis.get("max"), "unit": y_axis.get("format"),
                 "decimals": y_axis.get("decimals")}
    legend = panel.get("legend") if isinstance(panel.get("legend"), dict) else {}
    tooltip = panel.get("tooltip") if isinstance(panel.get("tooltip"), dict) else {}
    options = {"calculate": calculate, "calculation": calculation, "color": color, "cellGap": gap or 1,
               "yAxis": {k: v for k, v in y_options.items() if v is not None},
               "cellValues": {k: v for k, v in (("decimals", _plus(panel.get("tooltipDecimals"))),) if v is not None},
               "rowsFrame": {"layout": HEATMAP_LAYOUTS.get(panel.get("yBucketBound"), "auto")},
               "legend": {"show": bool(legend.get("show"))}, "showValue": "never",
               "tooltip": {"show": bool(tooltip.get("show")), "yHistogram": bool(tooltip.get("showHistogram"))},
               "exemplars": dict(HEATMAP_EXEMPLARS)}
    radius = _plus(cards.get("cardRound"))
    if radius is not None:
        options["cellRadius"] = radius
    if panel.get("hideZeroBuckets"):
        options["filterValues"] = dict(HEATMAP_HIDE_EMPTY)
    out = {k: v for k, v in panel.items() if k in COMMON_KEYS}
    out.update(type="heatmap", options=options, fieldConfig={"defaults": {}, "overrides": []})
    x_axis = panel.get("xAxis") if isinstance(panel.get("xAxis"), dict) else {}
    if x_axis.get("show") is False:
        lost.append("xAxis hidden (the heatmap always shows its time axis)")
    # highlightCards: the heatmap always highlights the cell under the pointer.
    unread = sorted(k for k in panel if k not in COMMON_KEYS and k not in _HEATMAP_READ
                    and k not in ("options", "fieldConfig", "xAxis", "highlightCards")
                    and panel[k] not in (None, "", [], {}, False))
    lost += [f"{k} (no heatmap option)" for k in unread]
    return out


def heatmap_leftovers(panel: dict, lost: list[str]) -> dict | None:
    """An Angular heatmap (settings on the panel, no options) migrated as Grafana migrates it
    (`angular_heatmap`); a heatmap Grafana has migrated (its settings in `options`) that still
    carries the Angular heatmap's keys, without them: Grafana reads only the options once
    there are any. None when there is nothing to do."""
    if not any(k in panel for k in HEATMAP_ANGULAR_KEYS):
        return None
    if not panel.get("options"):
        return angular_heatmap(panel, lost)
    unread = [k for k in HEATMAP_ANGULAR_KEYS if k in panel]
    lost.append(f"{', '.join(unread)} (the Angular heatmap's; the heatmap reads its options instead)")
    return {k: v for k, v in panel.items() if k not in HEATMAP_ANGULAR_KEYS}


MIGRATIONS = {"graph": graph_to_timeseries, "heatmap": heatmap_leftovers, "singlestat": singlestat_to_stat, "text": text_options,
              "table": table_old_to_table, "table-old": table_old_to_table, "gauge": single_stat_field_options,
              "bargauge": single_stat_field_options, "stat": single_stat_field_options}


def migrate_dashboard(norm: dict) -> tuple[dict, list[Migration]]:
    """The normalised dashboard with its legacy panels migrated (a new dict), and what each
    migration could not keep."""
    done: list[Migration] = []
    row_title = None

    def one(p: dict) -> dict:
        kind = p.get("type")
        if not isinstance(kind, str) or kind not in MIGRATIONS:
            return p
        lost: list[str] = []
        try:
            new = MIGRATIONS[kind](p, lost)
        except (TypeError, AttributeError, ValueError, KeyError, IndexError, OverflowError) as exc:
            # A legacy key of a type Grafana never wrote: the panel stays as it is (kept raw).
            done.append(Migration(row_title, str(p.get("title", "")), kind, kind,
                                  [f"not migrated, kept as it is: {type(exc).__name__}: {str(exc)[:80]}"]))
            return p
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
