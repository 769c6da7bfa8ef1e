"""One normaliser for every dashboard JSON dashgen touches: rendered, pulled, remote or anyone's.

`normalize_dashboard` is the canonical form that rendered files, `pull`, `upload` comparisons,
`diff` and `textconv` all share. It is lossless for meaning: every key Grafana may read is kept,
known or not (no whitelist). Only what never changes what Grafana shows goes:

- server-set and volatile fields: dashboard `id`, `version`, `iteration`, export bookkeeping
  (`__inputs`, `__requires`, `__elements`, `gnetId`, `revision`, `snapshot`), panel
  `pluginVersion`; panel ids are renumbered in reading order;
- nulls, and values equal to what Grafana fills in when a key is absent (`EMPTY_DEFAULTS`,
  `TARGET_DEFAULTS`, `PANEL_DEFAULTS`, an empty fieldConfig, empty mappings or data links,
  a missing refId, a query variable's refreshed options);
- key order (`dumps` sorts keys).

Old dashboards (schemaVersion < 16) keep panels in `rows`; they are migrated to the grid layout
the way Grafana's DashboardMigrator does on load (V16 `upgradeToGridLayout`: 24 columns,
w = floor(span * 2), h = ceil(height / 38 px), row panels when any row shows a title, is collapsed
or repeats). Data source names become references (`{"uid": name}`, as Grafana's V33 step does).
Everything is idempotent: normalize(normalize(x)) == normalize(x).

`load_dashboard` turns a file's bytes into a dashboard or raises `DashboardInputError` with one
line naming the JSON path (size and depth limits below); `from_grafanalib` strips the legacy
keys grafanalib writes for our own definitions before normalising.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from generator.errors import ConfigError

SCHEMA_VERSION = 42  # Grafana 12's latest dashboard schemaVersion
DATASOURCE_VAR = "${datasource}"
PROMETHEUS_DS = {"type": "prometheus", "uid": DATASOURCE_VAR}

#: Input limits (bad input gets one error line, never a traceback or a runaway).
MAX_DASHBOARD_BYTES = 64 * 1024 * 1024  # largest public dashboards are ~1 MB; generated ones a few MB
MAX_JSON_DEPTH = 100  # real dashboards nest about 12 levels; json/deepcopy recurse past ~900


class NotJSONValue(ValueError):
    """NaN, Infinity or -Infinity in a text that is otherwise JSON."""


def _no_constant(name: str):
    raise NotJSONValue(f"{name} is not a JSON value (Grafana's JSON has no NaN or Infinity)")


def loads(text: str | bytes) -> Any:
    """JSON as Grafana's own decoder reads it: Python's `json.loads` but NaN, Infinity and
    -Infinity are refused (ValueError) rather than read as floats that no other tool, and no
    later `json.dumps` for Grafana, would accept."""
    return json.loads(text, parse_constant=_no_constant)

#: Server-set, volatile or export bookkeeping: never part of what dashgen compares or writes.
VOLATILE_DASHBOARD_KEYS = {
    "id", "version", "iteration", "gnetId", "revision", "snapshot", "__inputs", "__requires", "__elements",
}
VOLATILE_PANEL_KEYS = {"pluginVersion"}
#: Optional panel keys whose "empty" value means the same as leaving them out.
EMPTY_DEFAULTS = {
    "links": [], "transformations": [], "description": "", "transparent": False,
    "hideTimeOverride": False, "repeat": "", "interval": "", "timeFrom": "", "timeShift": "", "title": "",
}
#: The heatmap's option defaults (its defaultPanelOptions) that dashgen writes too: the colour
#: scheme, the exemplar colour and the filter that hides empty buckets.
HEATMAP_COLOR = {"mode": "scheme", "scheme": "Oranges", "fill": "dark-orange", "scale": "exponential",
                 "exponent": 0.5, "steps": 64, "reverse": False}
HEATMAP_EXEMPLARS = {"color": "rgba(255,0,255,0.7)"}
HEATMAP_HIDE_EMPTY = {"le": 1e-9}
#: A field shown in the legend, the tooltip and the drawing: what `hideFrom` means when every flag is off.
HIDE_NOTHING = {"legend": False, "tooltip": False, "viz": False}
#: The text panel's modes (text panelcfg); an old panel's other mode ("text") reads as Markdown.
TEXT_MODES = ("markdown", "html", "code")
#: What a panel of each type assumes for a key that is absent (the UI writes them all on save),
#: as {type: {path: {key: default}}}, so the key can go. Read in Grafana's source: the axis
#: options editor (grafana-ui options/builder/axis.tsx) defaults axisColorMode to "text" and
#: axisBorderShow / axisCenteredZero to false; the time series graph field config
#: (plugins/panel/timeseries/config.ts) has barWidthFactor 0.6 and insertNulls false; the tooltip
#: editor (options/builder/tooltip.tsx) sorts "none" and hides no zeros; the stat panel's schema
#: (stat panelcfg) has textMode "auto" and percentChangeColorMode "standard"; the gauge's
#: (gauge panelcfg) shows threshold markers but not labels, orientation "auto", minimum size
#: 75 x 75. An empty `text` (no font sizes set) is no setting. Only values rendered/ never holds
#: are listed (the house factories write other spellings), so our own output stays the same.
PANEL_DEFAULTS = {
    "timeseries": {
        ("fieldConfig", "defaults", "custom"): {
            "axisColorMode": "text", "axisBorderShow": False, "axisCenteredZero": False,
            "barWidthFactor": 0.6, "insertNulls": False,
            # The graph field config's own defaults (timeseries config.ts defaultGraphConfig and
            # its editors), so a panel saved by an older Grafana that wrote fewer keys compares equal.
            "drawStyle": "line", "lineInterpolation": "linear", "lineWidth": 1, "fillOpacity": 0,
            "gradientMode": "none", "barAlignment": 0, "stacking": {"mode": "none", "group": "A"},
            "spanNulls": False, "showPoints": "auto", "pointSize": 5, "thresholdsStyle": {"mode": "off"},
            "axisPlacement": "auto", "axisLabel": "", "axisGridShow": True, "scaleDistribution": {"type": "linear"},
            "hideFrom": HIDE_NOTHING, "lineStyle": {"fill": "solid"},
            "showValues": False,  # Grafana 12.2's "show values" on the line, off unless set
        },
        ("fieldConfig", "defaults"): {"color": {"mode": "palette-classic"}},
        ("options", "tooltip"): {"sort": "none", "hideZeros": False, "mode": "single"},
        ("options", "legend"): {"displayMode": "list", "placement": "bottom", "calcs": []},
    },
    "stat": {("options",): {"textMode": "auto", "percentChangeColorMode": "standard", "text": {},
                            # stat panelcfg's defaults too
                            "colorMode": "value", "graphMode": "area", "justifyMode": "auto",
                            "orientation": "auto", "wideLayout": True, "showPercentChange": False},
             # the standard colour option's default where the panel sets none (thresholds)
             ("fieldConfig", "defaults"): {"color": {"mode": "thresholds"}}},
    # The text panel's option defaults (text panelcfg: markdown, a plain-text code block).
    "text": {("options",): {"mode": "markdown",
                            "code": {"language": "plaintext", "showLineNumbers": False, "showMiniMap": False}}},
    "gauge": {("options",): {"showThresholdLabels": False, "showThresholdMarkers": True, "orientation": "auto",
                             "minVizWidth": 75, "minVizHeight": 75, "text": {}, "sizing": "auto"},
              ("fieldConfig", "defaults"): {"color": {"mode": "thresholds"}}},
    # The heatmap's field config defaults (heatmap panelcfg): shown everywhere, a linear scale.
    "heatmap": {("fieldConfig", "defaults", "custom"): {
        "hideFrom": HIDE_NOTHING, "scaleDistribution": {"type": "linear"}}},
    # The pie chart's defaults (piechart panelcfg): a pie, no labels on the slices, a bottom list
    # legend without values, one series' tooltip; the palette colours.
    "piechart": {("options",): {"pieType": "pie", "displayLabels": []},
                 ("options", "legend"): {"displayMode": "list", "placement": "bottom", "values": []},
                 ("options", "tooltip"): {"mode": "single", "sort": "none"},
                 ("fieldConfig", "defaults", "custom"): {"hideFrom": HIDE_NOTHING},
                 ("fieldConfig", "defaults"): {"color": {"mode": "palette-classic"}}},
    # bargauge panelcfg's option defaults.
    "bargauge": {("options",): {"displayMode": "gradient", "valueMode": "color", "namePlacement": "auto",
                                "showUnfilled": True, "sizing": "auto", "minVizWidth": 8, "minVizHeight": 16,
                                "maxVizHeight": 300, "orientation": "auto", "text": {}},
                 ("fieldConfig", "defaults"): {"color": {"mode": "thresholds"}}},
    # table panelcfg: its options and field options (TableFieldOptions); `displayMode: auto` is
    # the old spelling of `cellOptions: {type: auto}` (the table migration), a footer that is
    # not shown counts nothing, and Grafana 12.2 writes an empty list of per-column reducers.
    "table": {("options",): {"frameIndex": 0, "showHeader": True, "showTypeIcons": False, "cellHeight": "sm",
                             "sortBy": []},
              ("options", "footer"): {"show": False, "countRows": False, "reducer": [], "fields": ""},
              ("fieldConfig", "defaults", "custom", "cellOptions"): {"wrapText": False},
              ("fieldConfig", "defaults", "custom"): {"align": "auto", "inspect": False, "filterable": False,
                                                      "cellOptions": {"type": "auto"}, "displayMode": "auto",
                                                      "wrapText": False, "footer": {"reducers": []}},
              ("fieldConfig", "defaults"): {"color": {"mode": "thresholds"}}},
}
TARGET_DEFAULTS = {
    "hide": False, "interval": "", "legendFormat": "", "instant": False, "exemplar": False,
    "format": "time_series", "intervalFactor": 1,
}

# Grafana's grid (DashboardMigrator / schemaversion V16).
GRID_COLUMNS = 24
DEFAULT_PANEL_SPAN = 4  # of 12 legacy columns
DEFAULT_ROW_HEIGHT = 250  # px
GRID_CELL_HEIGHT = 30  # px
GRID_CELL_VMARGIN = 8  # px
MIN_PANEL_HEIGHT = GRID_CELL_HEIGHT * 3

# What grafanalib writes that our definitions never mean (from_grafanalib strips the rest).
_GRAFANALIB_KEYS = {
    "dashboard": {
        "uid", "title", "description", "tags", "timezone", "editable", "graphTooltip", "time",
        "timepicker", "fiscalYearStartMonth", "liveNow", "weekStart", "refresh", "schemaVersion",
        "panels", "templating", "annotations", "links", "preload",
    },
    "panel": {
        "type", "id", "targets", "title", "description", "transparent", "datasource", "gridPos",
        "links", "repeat", "repeatDirection", "maxPerRow", "transformations", "interval", "timeFrom",
        "timeShift", "hideTimeOverride", "libraryPanel", "options", "fieldConfig",
    },
    "row": {"type", "collapsed", "title", "datasource", "gridPos", "id", "panels", "repeat"},
    "target": {
        "expr", "refId", "datasource", "legendFormat", "format", "instant", "range", "interval",
        "editorMode", "exemplar", "hide",
    },
    "variable": {
        "type", "name", "label", "hide", "skipUrlSync", "description", "query", "datasource", "current",
        "multi", "options", "refresh", "sort", "includeAll", "allValue", "regex", "definition",
    },
    "timepicker": {"hidden", "refresh_intervals", "quick_ranges", "nowDelay"},
}


class DashboardInputError(ConfigError):
    """A dashboard JSON dashgen cannot read: `path` is the JSON path of the problem."""

    def __init__(self, path: str, problem: str, file: str | None = None):
        self.path, self.problem, self.file = path, problem, file
        shown = path if len(path) <= 120 else path[:117] + "..."
        where = ": ".join(x for x in (file, shown or "(top level)") if x)
        super().__init__(f"{where}: {problem}")

    def in_file(self, file: str) -> DashboardInputError:
        return DashboardInputError(self.path, self.problem, file)


# --- reading --------------------------------------------------------------------------------


def _type_name(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(v), "number")


def check_depth(doc: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Raises DashboardInputError when `doc` nests deeper than `limit` (iterative: no recursion)."""
    level, depth = [doc] if isinstance(doc, (dict, list)) else [], 0
    while level:
        if depth > limit:
            raise DashboardInputError(_deep_path(doc, limit), f"nested more than {limit} levels deep")
        nxt: list = []
        for v in level:
            nxt.extend(x for x in (v.values() if isinstance(v, dict) else v) if isinstance(x, (dict, list)))
        level, depth = nxt, depth + 1


def _deep_path(doc: Any, limit: int) -> str:
    """The JSON path of the first container below `limit` levels (only called on failure)."""
    stack = [(doc, 0, "")]
    while stack:
        v, depth, path = stack.pop()
        if depth > limit:
            return path
        items = v.items() if isinstance(v, dict) else enumerate(v)
        for k, x in items:
            if isinstance(x, (dict, list)):
                sub = (f"{path}.{k}" if path else str(k)) if isinstance(v, dict) else f"{path}[{k}]"
                stack.append((x, depth + 1, sub))
    return ""


def load_dashboard(data: bytes | str, file: str | None = None, check: bool = True,
                   losses: list | None = None) -> dict:
    """The dashboard in a file's bytes: strict UTF-8, JSON object, within the limits.

    A Grafana API envelope `{"dashboard": {...}, "meta": {...}}` is unwrapped, and a dashboard
    resource or a v2 dashboard (a Grafana 13 export) converted to the classic model (see
    `dashboard_of`). Anything else raises DashboardInputError naming `file` and the JSON path.
    """
    try:
        if isinstance(data, bytes):
            if len(data) > MAX_DASHBOARD_BYTES:
                raise DashboardInputError("", f"{len(data)} bytes is over the {MAX_DASHBOARD_BYTES}-byte limit")
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DashboardInputError("", f"not UTF-8 (byte {exc.start})") from None
        if not data.strip():
            raise DashboardInputError("", "empty file, not a dashboard")
        try:
            doc = loads(data)
        except RecursionError:
            raise DashboardInputError("", f"nested too deep to read (limit {MAX_JSON_DEPTH} levels)") from None
        except ValueError as exc:
            raise DashboardInputError("", f"not JSON: {exc}") from None
        return dashboard_of(doc, check=check, losses=losses)
    except DashboardInputError as exc:
        raise exc.in_file(file) if file else exc from None


def dashboard_of(doc: Any, file: str | None = None, check: bool = True, losses: list | None = None) -> dict:
    """The dashboard in parsed JSON: depth-checked, a `{"dashboard": ..., "meta": ...}` API
    envelope unwrapped, a dashboard resource of /apis/dashboard.grafana.app (what Grafana 12+
    answers and Grafana 13 exports) unwrapped, and a v2 dashboard converted to the classic
    model offline (generator.dashv2; what the classic model cannot hold is appended to
    `losses` as Report entries); DashboardInputError when it is not a JSON object."""
    try:
        if check:
            check_depth(doc)
        if isinstance(doc, dict) and isinstance(doc.get("spec"), dict) or \
                isinstance(doc, dict) and "elements" in doc and "layout" in doc:
            from generator.dashv2 import is_v2, load_any  # dashv2 builds on this module
            if is_v2(doc) or str(doc.get("apiVersion", "")).startswith("dashboard.grafana.app/"):
                doc, report = load_any(doc)
                if losses is not None:
                    losses.extend(report.losses)
        if isinstance(doc, dict) and isinstance(doc.get("dashboard"), dict) and "panels" not in doc:
            doc = doc["dashboard"]  # GET /api/dashboards/uid/... envelope
        if not isinstance(doc, dict):
            raise DashboardInputError("", f"expected a dashboard (a JSON object), got {_type_name(doc)}")
        return doc
    except DashboardInputError as exc:
        raise exc.in_file(file) if file else exc from None


# --- checks ---------------------------------------------------------------------------------


def _want(value: Any, kinds: tuple, path: str, what: str) -> Any:
    """`value` if it is one of `kinds` (a boolean is not a number), else DashboardInputError."""
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(dict.fromkeys(_type_name(k()) for k in kinds))
        raise DashboardInputError(path, f"{what} must be {names}, not {_type_name(value)}")
    return value


def _objects(value: Any, path: str, what: str) -> list:
    """A list of JSON objects (nulls dropped), or DashboardInputError."""
    _want(value, (list,), path, what)
    for i, x in enumerate(value):
        _want(x, (dict,), f"{path}[{i}]", f"each of {what}")
    return value


# --- values ---------------------------------------------------------------------------------


class _TooDeep(Exception):
    pass


def drop_nulls(value: Any, depth: int = 0) -> Any:
    """Copy without null object members; DashboardInputError past MAX_JSON_DEPTH levels."""
    if depth > MAX_JSON_DEPTH and isinstance(value, (dict, list)):
        raise _TooDeep
    if isinstance(value, dict):
        return {k: drop_nulls(v, depth + 1) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v, depth + 1) for v in value]
    return value


def ref_id(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _set_ds_ref(out: dict, path: str) -> dict | None:
    """Replace `out`'s data source by its reference, or drop an empty one; returns the reference."""
    ds = _ds_ref(out.get("datasource"), f"{path}.datasource")
    if ds:
        out["datasource"] = ds
    else:
        out.pop("datasource", None)
    return ds


def _ds_ref(ds: Any, path: str) -> dict | None:
    """A data source as a reference: names become {"uid": name} (Grafana's V33 migration)."""
    if ds is None or ds == "":
        return None
    if isinstance(ds, str):
        if ds in ("-- Grafana --", "grafana"):
            return {"type": "grafana", "uid": "grafana"}
        if ds in ("-- Mixed --", "-- Dashboard --"):
            return {"type": "datasource", "uid": ds}
        return {"uid": ds}
    return _want(ds, (dict,), path, "datasource")


def _threshold_steps(steps: list, path: str) -> list:
    out = []
    for i, s in enumerate(_objects(steps, path, "threshold steps")):
        if "color" not in s:
            raise DashboardInputError(f"{path}[{i}]", "threshold step has no color")
        out.append({**s, "value": s.get("value")})  # the base step's value is null in Grafana
    return out


# --- rows layout (schemaVersion < 16) -------------------------------------------------------


def _grid_height(height: Any) -> int:
    if isinstance(height, str):
        digits = height.strip().removesuffix("px").strip()
        height = float(digits) if digits.replace(".", "", 1).isdigit() else DEFAULT_ROW_HEIGHT
    if not isinstance(height, (int, float)) or isinstance(height, bool):
        height = DEFAULT_ROW_HEIGHT
    return math.ceil(max(height, MIN_PANEL_HEIGHT) / (GRID_CELL_HEIGHT + GRID_CELL_VMARGIN))


class _RowArea:
    """Where the next panel of a legacy row goes (Grafana's RowArea, right-to-left free run)."""

    def __init__(self, height: int, y: int):
        self.area = [0] * GRID_COLUMNS
        self.y, self.height = y, height

    def place(self, w: int) -> tuple[int, int]:
        for _ in range(1000):  # a panel wider than the grid wraps forever in Grafana; we stop
            start = end = None
            for i in range(GRID_COLUMNS - 1, -1, -1):
                if self.height - self.area[i] <= 0:
                    break
                if end is None:
                    end = start = i
                elif self.area[i] <= self.area[i + 1]:
                    start = i
                else:
                    break
            if end is not None and end - start >= w - 1:
                return start, max(self.area[start:end + 1])
            self.y += self.height
            self.area = [0] * GRID_COLUMNS
        return 0, 0

    def add(self, x: int, y: int, w: int, h: int) -> None:
        for i in range(x, min(x + w, GRID_COLUMNS)):
            self.area[i] = max(self.area[i], y + h - self.y)


def migrate_rows(d: dict) -> dict:
    """`rows` (schemaVersion < 16) as grid panels, as Grafana's DashboardMigrator lays them out."""
    rows = _objects(d.pop("rows"), "rows", "rows")
    panels = list(_objects(d.get("panels") or [], "panels", "panels"))
    show_rows = any(r.get("collapse") or r.get("showTitle") or r.get("repeat") for r in rows)
    y = 0
    for ri, row in enumerate(rows):
        if row.get("repeatIteration"):
            continue
        h_row = _grid_height(row.get("height", DEFAULT_ROW_HEIGHT))
        collapsed = bool(row.get("collapse"))
        row_panel = None
        if show_rows:
            row_panel = {"type": "row", "title": row.get("title") or "", "collapsed": collapsed,
                         "gridPos": {"x": 0, "y": y, "w": GRID_COLUMNS, "h": h_row}, "panels": []}
            if row.get("repeat"):
                row_panel["repeat"] = row["repeat"]
            y += 1
        area = _RowArea(h_row, y)
        for pi, p in enumerate(_objects(row.get("panels") or [], f"rows[{ri}].panels", "panels")):
            p = dict(p)
            span = p.pop("span", DEFAULT_PANEL_SPAN)
            if not isinstance(span, (int, float)) or isinstance(span, bool) or not math.isfinite(span * GRID_COLUMNS):
                raise DashboardInputError(f"rows[{ri}].panels[{pi}].span", "span must be a finite number")
            w = math.floor(span * GRID_COLUMNS / 12)
            h = _grid_height(p.pop("height")) if "height" in p else h_row
            x, py = area.place(w)
            y = area.y
            p["gridPos"] = {"x": x, "y": y + py, "w": w, "h": h}
            area.add(x, y + py, w, h)
            (row_panel["panels"] if row_panel is not None and collapsed else panels).append(p)
        if row_panel is not None:
            panels.append(row_panel)
        if not (row_panel is not None and collapsed):
            y += h_row
    # Grafana sorts panels by position on load: the row panel comes before its panels.
    def position(p: dict) -> tuple:  # a position of another type is reported by _normalize_panel
        grid = p.get("gridPos") if isinstance(p.get("gridPos"), dict) else {}
        return tuple(v if isinstance(v, (int, float)) and not isinstance(v, bool) else 0
                     for v in (grid.get("y", 0), grid.get("x", 0)))

    panels.sort(key=position)
    d["panels"] = panels
    version = d.get("schemaVersion") or 0
    d["schemaVersion"] = max(_want(version, (int, float), "schemaVersion", "schemaVersion"), 16)
    return d


# --- normalising ----------------------------------------------------------------------------


def _normalize_target(t: dict, path: str, panel_ds: dict | None, used: set) -> dict:
    out = dict(t)
    for k, default in TARGET_DEFAULTS.items():
        if k in out and out[k] == default and type(out[k]) is type(default):
            del out[k]
    ref = out.get("refId")
    if not isinstance(ref, str) or not ref:
        ref = next(ref_id(i) for i in range(len(used) + 1) if ref_id(i) not in used)
    out["refId"] = ref
    used.add(ref)
    ds = _ds_ref(out.get("datasource"), f"{path}.datasource") or panel_ds
    if ds:
        out["datasource"] = ds
    else:
        out.pop("datasource", None)
    return out


def _normalize_field_config(fc: Any, path: str) -> dict:
    fc = dict(_want(fc or {}, (dict,), path, "fieldConfig"))
    defaults = dict(_want(fc.get("defaults") or {}, (dict,), f"{path}.defaults", "fieldConfig.defaults"))
    thresholds = defaults.get("thresholds")
    if thresholds is not None:
        _want(thresholds, (dict,), f"{path}.defaults.thresholds", "thresholds")
        if not thresholds.get("steps"):
            del defaults["thresholds"]
        else:
            defaults["thresholds"] = {**thresholds, "steps": _threshold_steps(
                thresholds["steps"], f"{path}.defaults.thresholds.steps")}
    for k in ("mappings", "links"):  # no value mappings, no data links
        if defaults.get(k) == []:
            del defaults[k]
    if defaults.get("unit") == "":  # no unit
        del defaults["unit"]
    if defaults.get("fieldMinMax") is False:  # min and max from all fields, as without the option
        del defaults["fieldMinMax"]
    if defaults.get("unitScale") is True:
        # Grafana saved this standard option on every field for a few releases in early 2024 (10.3),
        # then removed it; scaling units (1000 ms as 1 s) is what every version does anyway.
        del defaults["unitScale"]
    if defaults.get("custom") == {}:
        del defaults["custom"]
    overrides = _objects(fc.get("overrides") or [], f"{path}.overrides", "overrides")
    return {**fc, "defaults": defaults, "overrides": overrides}


def _title(p: dict, path: str) -> None:
    if "title" in p:
        _want(p["title"], (str,), f"{path}.title", "title")


def _normalize_panel(p: dict, path: str) -> dict:
    _title(p, path)
    if "gridPos" in p:
        _want(p["gridPos"], (dict,), f"{path}.gridPos", "gridPos")
        for k in ("x", "y", "w", "h"):
            if k in p["gridPos"]:
                _want(p["gridPos"][k], (int, float), f"{path}.gridPos.{k}", f"gridPos.{k}")
        if not ("x" in p["gridPos"] and "y" in p["gridPos"]):  # Grafana reads a missing x or y as 0
            p = {**p, "gridPos": {"x": 0, "y": 0, **p["gridPos"]}}
    if p.get("type") == "row":
        out = {k: v for k, v in p.items() if k not in VOLATILE_PANEL_KEYS}
        out.setdefault("collapsed", False)
        children = _objects(out.get("panels") or [], f"{path}.panels", "panels")
        out["panels"] = [_normalize_panel(c, f"{path}.panels[{i}]") for i, c in enumerate(children)]
        out.pop("datasource", None)  # a row queries nothing
        if not out.get("repeat"):
            out.pop("repeat", None)
        return out
    out = {k: v for k, v in p.items() if k not in VOLATILE_PANEL_KEYS}
    for k, default in EMPTY_DEFAULTS.items():
        if k in out and out[k] == default:
            del out[k]
    ds = _set_ds_ref(out, path)
    if "targets" in out:
        used = {t["refId"] for t in _objects(out["targets"], f"{path}.targets", "targets")
                if isinstance(t.get("refId"), str) and t["refId"]}
        out["targets"] = [_normalize_target(t, f"{path}.targets[{i}]", ds, used) for i, t in enumerate(out["targets"])]
        if not out["targets"]:
            del out["targets"]
    if p.get("type") != "text" or "fieldConfig" in p:
        out["fieldConfig"] = _normalize_field_config(out.get("fieldConfig"), f"{path}.fieldConfig")
        if p.get("type") == "text" and out["fieldConfig"] == {"defaults": {}, "overrides": []}:
            del out["fieldConfig"]  # a text panel has no fields: an empty field config is none
    _drop_defaults(out, PANEL_DEFAULTS.get(out["type"], {}) if isinstance(out.get("type"), str) else {})
    if out.get("options") in ([], {}):
        del out["options"]
    return out


def _drop_defaults(panel: dict, table: dict) -> None:
    """Drop the values `table` lists ({path: {key: default}}) where the panel has exactly them
    (same type too: 0 is not False); a custom field config left empty goes as well. Objects on
    the way are copied, never changed in place."""
    for path, defaults in table.items():
        parent = panel
        for k in path[:-1]:
            if not isinstance(parent.get(k), dict):
                break
            parent[k] = dict(parent[k])
            parent = parent[k]
        else:
            node = parent.get(path[-1])
            if not isinstance(node, dict):
                continue
            if path[-1] == "custom" and isinstance(node.get("scaleDistribution"), dict) \
                    and node["scaleDistribution"].get("type") == "linear":
                node = {**node, "scaleDistribution": {"type": "linear"}}  # a log base means nothing on a linear axis
            kept = {k: v for k, v in node.items()
                    if not (k in defaults and v == defaults[k] and type(v) is type(defaults[k]))}
            if kept or path[-1] not in ("custom", "legend", "tooltip", "footer"):
                parent[path[-1]] = kept
            else:
                del parent[path[-1]]


def _normalize_variable(v: dict, path: str) -> dict:
    out = dict(v)
    current = out.get("current")
    if isinstance(current, dict):
        out["current"] = {k: current[k] for k in ("text", "value") if k in current}
        if not out["current"]:
            del out["current"]
    for k in ("regex", "description", "allValue", "definition"):
        if out.get(k) == "":
            out.pop(k, None)
    # A query or data source variable's options are refreshed by Grafana; saved ones are a cache.
    if out.get("type") == "datasource" or (out.get("type") == "query" and out.get("refresh") in (1, 2)) \
            or (out.get("type") == "query" and out.get("options") == []):
        out.pop("options", None)
    _set_ds_ref(out, path)
    return out


def _drop_nulls_consuming(dashboard: dict) -> dict:
    """`drop_nulls(dashboard)`, setting each top-level panel to None in `dashboard["panels"]`
    once copied, so the copy and the original are not both held whole."""
    out = {}
    for k, v in dashboard.items():
        if k == "panels" and isinstance(v, list):
            copied = []
            for i in range(len(v)):
                copied.append(drop_nulls(v[i], 2))  # dashboard, its panel list, then the panels
                v[i] = None
            out[k] = copied
        elif v is not None:
            out[k] = drop_nulls(v, 1)
    return out


def normalize_dashboard(dashboard: dict, *, consume: bool = False) -> dict:
    """The canonical form of a dashboard, whatever produced it (see module docstring).

    Raises DashboardInputError (with the JSON path) for a shape Grafana could not load either.
    `consume`: the caller hands `dashboard` over (freshly built, nobody else reads it): its
    top-level panel list is emptied while copied, so a big dashboard is not held twice.
    """
    _want(dashboard, (dict,), "", "a dashboard")
    try:
        d = _drop_nulls_consuming(dashboard) if consume else drop_nulls(dashboard)
    except _TooDeep:
        raise DashboardInputError(_deep_path(dashboard, MAX_JSON_DEPTH),
                                  f"nested more than {MAX_JSON_DEPTH} levels deep") from None
    out = {k: v for k, v in d.items() if k not in VOLATILE_DASHBOARD_KEYS}
    _title(out, "")
    if "title" in out:
        out["title"] = out["title"].strip()  # the server trims it on save
    if "rows" in out:
        if not isinstance(out.get("schemaVersion"), int) or out["schemaVersion"] < 16:
            out = migrate_rows(out)
        else:
            del out["rows"]  # Grafana reads `rows` only below schemaVersion 16
    out.setdefault("schemaVersion", SCHEMA_VERSION)
    panels = [_normalize_panel(p, f"panels[{i}]")
              for i, p in enumerate(_objects(out.get("panels") or [], "panels", "panels"))]
    next_id = 1
    for p in panels:  # stable ids in reading order, rows' children included
        p["id"] = next_id
        next_id += 1
        for c in p.get("panels", []) if p.get("type") == "row" else []:
            c["id"] = next_id
            next_id += 1
    out["panels"] = panels
    templating = _want(out.get("templating") or {}, (dict,), "templating", "templating")
    out["templating"] = {**templating, "list": [
        _normalize_variable(v, f"templating.list[{i}]")
        for i, v in enumerate(_objects(templating.get("list") or [], "templating.list", "variables"))]}
    annotations = _want(out.get("annotations") or {}, (dict,), "annotations", "annotations")
    out["annotations"] = {**annotations, "list": _objects(annotations.get("list") or [], "annotations.list",
                                                          "annotations")}
    if "timepicker" in out:
        tp = dict(_want(out["timepicker"], (dict,), "timepicker", "timepicker"))
        if tp.get("hidden") is False:
            del tp["hidden"]
        if tp:
            out["timepicker"] = tp
        else:
            del out["timepicker"]
    for k in ("links", "tags"):
        if out.get(k) == []:
            del out[k]
    if out.get("description") == "":
        del out["description"]
    return out


def prometheus_targets(panel: dict) -> Iterator[dict]:
    """The panel's queries that go to Prometheus: their own data source's type, else the
    panel's, is prometheus; with no type to go by, those that have an `expr`. A Loki query has
    an `expr` too, in LogQL: it is not PromQL to check."""
    panel_ds = panel.get("datasource")
    for t in panel.get("targets") or []:
        if not isinstance(t, dict):
            continue
        ds = t.get("datasource") if isinstance(t.get("datasource"), dict) else panel_ds
        kind = ds.get("type") if isinstance(ds, dict) else None
        if kind == "prometheus" or (kind is None and "expr" in t):
            yield t


#: Keys grafanalib's Target writes on every query and Grafana no longer reads: a query that has
#: them all is grafanalib's; any other (`p.target` with extra keys, `p.loki`, ...) is kept whole.
_GRAFANALIB_TARGET_LEGACY = frozenset({"query", "target", "metric", "step", "intervalFactor"})


def target_from_grafanalib(t: dict) -> dict:
    """A grafanalib target's JSON without the legacy keys it writes on every query (step,
    intervalFactor, metric, ...); a query written by anything else, unchanged."""
    if not _GRAFANALIB_TARGET_LEGACY <= t.keys():
        return t
    return {k: v for k, v in t.items() if k in _GRAFANALIB_KEYS["target"]}


def from_grafanalib(raw: dict) -> dict:
    """grafanalib's JSON for our definitions, without the legacy keys it writes (rows, span,
    gnetId, hideControls, ...) and with the current schemaVersion; `normalize_dashboard` of it
    is what rendered/ holds. Only for our own definitions: other dashboards keep every key."""
    keep = _GRAFANALIB_KEYS
    d = {k: v for k, v in raw.items() if k in keep["dashboard"]}

    def panel(p: dict) -> dict:
        if p.get("type") == "row":
            out = {k: v for k, v in p.items() if k in keep["row"]}
            out["panels"] = [panel(c) for c in out.get("panels") or []]
            return out
        out = {k: v for k, v in p.items() if k in keep["panel"]}
        if "targets" in out:
            out["targets"] = [target_from_grafanalib(t) for t in out["targets"]]
        return out

    d["panels"] = [panel(p) for p in d.get("panels") or []]
    if isinstance(d.get("templating"), dict):
        # grafanalib writes `sort` on every variable; Grafana's data source variable has none
        # (neither its classic model nor the v2 DatasourceVariable), so it is dropped there.
        d["templating"] = {"list": [{k: v for k, v in x.items() if k in keep["variable"]
                                     and not (k == "sort" and x.get("type") == "datasource")}
                                    for x in d["templating"].get("list") or []]}
    if isinstance(d.get("timepicker"), dict):
        d["timepicker"] = {k: v for k, v in d["timepicker"].items() if k in keep["timepicker"]}
    d["schemaVersion"] = SCHEMA_VERSION
    return d


def dumps(dashboard: dict) -> str:
    """The byte-stable text of a dashboard (sorted keys, 2-space indent, final newline):
    exactly `json.dumps(dashboard, sort_keys=True, indent=2, ensure_ascii=False)`, written by
    `_indented` (the json module's indenting encoder is its slow pure-Python path: a third of
    a render of many dashboards), or by json itself for what `_indented` does not take."""
    out: list[str] = []
    try:
        _indented(dashboard, "\n", out)
    except _NotPlain:
        return json.dumps(dashboard, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    out.append("\n")
    return "".join(out)


class _NotPlain(Exception):
    """A value `_indented` leaves to the json module (a key that is not a string, an object)."""


_string = json.encoder.encode_basestring  # the C one where available: what json.dumps uses


def _float(o: float) -> str:
    if o != o:
        return "NaN"
    if o == math.inf:
        return "Infinity"
    if o == -math.inf:
        return "-Infinity"
    return float.__repr__(o)


def _indented(o: Any, newline: str, out: list[str]) -> None:
    """Append o's JSON as `json.dumps(o, sort_keys=True, indent=2, ensure_ascii=False)`
    writes it; `newline` is the line break plus the current indentation."""
    if isinstance(o, str):
        out.append(_string(o))
    elif o is None:
        out.append("null")
    elif o is True:
        out.append("true")
    elif o is False:
        out.append("false")
    elif isinstance(o, int):
        out.append(int.__repr__(o))
    elif isinstance(o, float):
        out.append(_float(o))
    elif isinstance(o, (list, tuple)):
        if not o:
            out.append("[]")
            return
        inner = newline + "  "
        out.append("[" + inner)
        first = True
        for v in o:
            if not first:
                out.append("," + inner)
            first = False
            _indented(v, inner, out)
        out.append(newline + "]")
    elif isinstance(o, dict):
        if not o:
            out.append("{}")
            return
        if not all(type(k) is str for k in o):
            raise _NotPlain
        inner = newline + "  "
        out.append("{" + inner)
        first = True
        for k, v in sorted(o.items(), key=lambda kv: kv[0]):
            if not first:
                out.append("," + inner)
            first = False
            out.append(_string(k) + ": ")
            _indented(v, inner, out)
        out.append(newline + "}")
    else:
        raise _NotPlain


__all__ = [
    "DATASOURCE_VAR", "PROMETHEUS_DS", "SCHEMA_VERSION", "DashboardInputError", "check_depth", "dashboard_of",
    "drop_nulls", "dumps", "from_grafanalib", "load_dashboard", "migrate_rows", "normalize_dashboard",
]
