"""Which house-style factory call reproduces a panel, found by trying it.

For each panel the importer reads the arguments a factory would need off the JSON, writes
the call as code, evaluates that code and compares the panel it builds with the original
(both normalised). The first call that gives the same panel wins; when none does, the panel
is kept as raw JSON (`p.raw`) and the first differences are reported.
"""

from __future__ import annotations

import functools
import inspect
import io
import json
import re
import tokenize
from dataclasses import dataclass, field, fields

from generator import panels as P
from generator.catalog import Catalog, eq, ne, nre, re_
from generator.config import IMPORT_OVERRIDE_SHARE, Config
from generator.importer.guard import SHARED_DS, UnsafeCode, safe_eval
from generator.importer.promql import expr_code
from generator.importer.pysrc import Call, Code, Comment, Dict, List, flat, is_identifier, literal, name, string
from generator.normalize import PROMETHEUS_DS, normalize_dashboard, ref_id

TODO_CATALOG = "TODO: add to the catalog"


@dataclass
class Context:
    """What building one module needs and collects."""

    cfg: Config
    catalog: Catalog
    dashboard: dict
    house: bool  # our own frame: thresholds may be named after any config value
    known_series: frozenset = frozenset()
    unknown: dict[str, None] = field(default_factory=dict)  # ordered set
    helpers: set[str] = field(default_factory=set)
    uses_catalog: bool = False
    uses_thresholds: bool = False  # `t.` appears in the code of the current row
    shared_ds: dict | None = None  # the data source most queries name, written once as DATASOURCE
    uses_shared_ds: bool = False

    def namespace(self) -> dict:
        return {"p": P, "C": self.catalog, "cfg": self.cfg, "t": self.cfg.thresholds,
                "eq": eq, "ne": ne, "re_": re_, "nre": nre, SHARED_DS: self.shared_ds}

    def datasource(self, ds) -> object:
        """A query's data source as code: the module's DATASOURCE when it is that one."""
        if self.shared_ds is not None and ds == self.shared_ds:
            self.uses_shared_ds = True
            return name(SHARED_DS)
        return literal(ds)


def shared_datasource(dashboard: dict) -> dict | None:
    """The data source (other than the house one) that more than one query names, the most
    often named if several; ties go to the first in reading order."""
    seen: dict[str, list] = {}
    panels = [c for p in dashboard.get("panels") or [] for c in [p, *(p.get("panels") or [])]]
    named = [p.get("datasource") for p in panels if p.get("type") != "row"]
    named += [t.get("datasource") for p in panels for t in (p.get("targets") if isinstance(p.get("targets"), list)
                                                             else []) if isinstance(t, dict)]
    for ds in named:
        if isinstance(ds, dict) and ds != PROMETHEUS_DS:
            seen.setdefault(json.dumps(ds, sort_keys=True), [ds, 0])[1] += 1
    best = max(seen.values(), key=lambda x: x[1], default=None)  # max keeps the first of equals
    return best[0] if best is not None and best[1] > 1 else None


@dataclass
class Match:
    node: object  # the panel's code
    factory: str  # "p.timeseries", ..., or "p.raw"
    reason: str = ""  # why it is raw


def panel_key(panel: dict) -> dict:
    """A panel as compared: normalised, without id and position on the grid."""
    out = normalize_dashboard({"panels": [panel]})["panels"][0]
    out.pop("id", None)
    out["gridPos"] = {k: v for k, v in (out.get("gridPos") or {}).items() if k not in ("x", "y")}
    return out


def differences(a, b, path: str = "", limit: int = 3) -> list[str]:
    """The first JSON paths where a and b differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if a.get(k, ...) != b.get(k, ...):
                out += differences(a.get(k), b.get(k), f"{path}.{k}" if path else k, limit)
            if len(out) >= limit:
                break
        return out[:limit]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                out += differences(x, y, f"{path}[{i}]", limit)
        return out[:limit]
    return [path or "(panel)"]


# --- values as code ------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    """Lower-case words (metric and field names split at `_`), plural `s` dropped: "fds" is "fd"."""
    return {w[:-1] if len(w) > 2 and w.endswith("s") else w for w in re.findall(r"[a-z0-9]+", text.lower())}


def number(value, title: str, ctx: Context, context: str = "") -> Code:
    """A threshold value, written as the config field holding it when there is a fitting one.

    Fields with the value are ranked by the words they share with the panel title, then (for
    our own dashboards) with its description and queries, where a panel names what a field's
    name abbreviates ("Open fds ..." for `fd_usage_warn`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return literal(value)
    t = ctx.cfg.thresholds
    names = [f.name for f in fields(t) if isinstance(getattr(t, f.name), (int, float))
             and not isinstance(getattr(t, f.name), bool) and getattr(t, f.name) == value]
    words, more = _words(title), (_words(context) if ctx.house else set())

    def shared(field_name: str) -> tuple[int, int]:
        own = _words(field_name.replace("_", " "))
        return len(words & own), len(more & own)

    scored = sorted(names, key=lambda n: tuple(-x for x in shared(n)))
    if scored and (any(shared(scored[0])) or (ctx.house and len(names) == 1)):
        ctx.uses_thresholds = True
        return name("t", scored[0])
    return literal(value)


def thresholds(steps: list | None, title: str, ctx: Context, context: str = ""):
    """The steps as one of the house helpers (bad_above, good_above, ...) or a literal list.
    `context` (description and queries) helps `number` find the config field of a value."""
    steps = steps or []
    colors = [s.get("color") for s in steps]
    values = [s.get("value") for s in steps]
    plain = all(set(s) <= {"color", "value"} for s in steps) and steps and values[0] is None
    num = [number(v, title, ctx, context) for v in values[1:]] if plain else []
    if plain and colors == [P.BLUE]:
        return Call("p.neutral")
    if plain and colors == [P.RED, P.GREEN] and values[1] == 1:
        return Call("p.up_down")
    if plain and colors == [P.GREEN, P.RED]:
        return Call("p.bad_above", [num[0]])
    if plain and colors == [P.GREEN, P.ORANGE, P.RED]:
        return Call("p.bad_above", num)
    if plain and colors == [P.RED, P.GREEN]:
        return Call("p.good_above", num)
    if plain and colors == [P.RED, P.ORANGE, P.GREEN]:
        return Call("p.good_above", [num[1], num[0]])
    return literal(steps)


@dataclass(frozen=True)
class Query(Code):
    """A query's expression as code; `min_of` is the selector (code) when it is `min(<selector>)`."""

    min_of: str | None = None


def expr(text: str, ctx: Context) -> tuple[Query, list[str]]:
    """An expression as code, and the unknown metrics to mark with a TODO."""
    e = expr_code(text, ctx.cfg, ctx.catalog, ctx.dashboard, ctx.known_series)
    ctx.helpers |= e.helpers
    ctx.uses_catalog |= "C.sel(" in e.code
    for metric in e.unknown:
        ctx.unknown[metric] = None
    return Query(e.code, e.min_of), e.unknown


_METRIC_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def _todo(unknown: list[str]) -> list[Comment]:
    """The TODO comment naming the metrics: a name that is not a plain metric name (a hostile
    `{__name__="..."}`) is written quoted, and `pysrc.comment` keeps the line one line."""
    shown = [m if _METRIC_NAME.fullmatch(m) else string(m) for m in unknown]
    return [Comment(f"{TODO_CATALOG}: {', '.join(shown)}")] if unknown else []


#: Query keys `p.target` writes from its own parameters (refId: only when not the usual letter).
TARGET_FACTORY_KEYS = {"expr", "legendFormat", "instant", "format", "refId"}
#: `p.target`'s own parameter names: a query key spelled like one cannot go through **extra.
TARGET_PARAMS = {"expr", "legend", "instant", "fmt", "extra"}


@dataclass(frozen=True)
class Typed:
    """A typed query helper: its fields as (parameter, JSON key, the helper's default); the
    first is written positionally. `blank_omits`: parameters whose empty value writes no key."""

    factory: str
    fields: tuple
    blank_omits: frozenset = frozenset()

    def params(self) -> set[str]:
        return {f[0] for f in self.fields} | {"datasource", "extra"}

    def writes(self, param: str, value):
        """The JSON value the helper writes for a parameter value (None: no key)."""
        return None if value is None or (param in self.blank_omits and value == "") else value


_LOKI = Typed("p.loki", (("expr", "expr", ...), ("legend", "legendFormat", ""), ("query_type", "queryType", "range")),
              frozenset({"legend"}))
_ES = Typed("p.elasticsearch", (("query", "query", ""), ("metrics", "metrics", list(P.ES_COUNT)),
                                ("bucket_aggs", "bucketAggs", list(P.ES_BY_TIME)), ("time_field", "timeField", "@timestamp"),
                                ("alias", "alias", None)))
_INFLUX = Typed("p.influx", (("query", "query", ...), ("alias", "alias", None), ("raw_query", "rawQuery", True),
                             ("result_format", "resultFormat", "time_series")))
_TESTDATA = Typed("p.testdata", (("scenario", "scenarioId", "random_walk"), ("alias", "alias", None)))
#: Data source types (plugin ids) with a typed helper.
TYPED_QUERIES = {"loki": _LOKI, "elasticsearch": _ES, "grafana-opensearch-datasource": _ES, "influxdb": _INFLUX,
                 "testdata": _TESTDATA, "grafana-testdata-datasource": _TESTDATA}
#: Any other query that is not PromQL: `p.query(datasource, **keys)`.
_ANY = Typed("p.query", ())


def _query_kind(t: dict, panel: dict) -> Typed | None:
    """The helper that writes a query: its data source's typed one, `p.query` for a query
    without PromQL, None for `p.target` (PromQL)."""
    ds = t.get("datasource") if isinstance(t.get("datasource"), dict) else panel.get("datasource")
    plugin = ds.get("type") if isinstance(ds, dict) else None
    kind = TYPED_QUERIES.get(plugin) if isinstance(plugin, str) else None
    if kind is _INFLUX and not isinstance(t.get("query"), str) or kind is _LOKI and not isinstance(t.get("expr"), str):
        kind = _ANY  # the query builder's form (select/tags), not the text: kept as written
    if kind is None and not isinstance(t.get("expr"), str):
        kind = _ANY
    return kind


def target_problem(panel: dict) -> str | None:
    """Why the query helpers cannot write one of the panel's queries, if they cannot."""
    for t in panel.get("targets") or []:
        if not isinstance(t, dict):
            return "a query is not an object"
        kind = _query_kind(t, panel)
        if kind is None:
            odd = sorted(k for k in set(t) - TARGET_FACTORY_KEYS if not is_identifier(k) or k in TARGET_PARAMS)
        else:
            keys = {f[1] for f in kind.fields} | {"datasource"}
            odd = sorted(k for k in set(t) - keys if not is_identifier(k) or k in kind.params())
        if odd:
            return f"query {t.get('refId', '?')} sets {', '.join(odd)}"
    return None


def _typed_query(t: dict, kind: Typed, usual: str, ctx: Context) -> Call:
    """A query as its typed helper's call: a field at the helper's default is left out, a
    field Grafana saved without is None, what no parameter writes goes through **extra."""
    args, kwargs, extra = [], [], []
    for i, (param, key, default) in enumerate(kind.fields):
        if key not in t:
            if default is not ... and kind.writes(param, default) is not None:
                kwargs.append((param, literal(None)))
            continue
        value = t[key]
        if default is not ... and kind.writes(param, default) == value:
            continue
        if kind.writes(param, value) != value:
            extra.append((key, literal(value)))
        elif i == 0:
            args.append(literal(value))
        else:
            kwargs.append((param, literal(value)))
    if "datasource" in t:
        ds = ctx.datasource(t["datasource"])
        (args if kind is _ANY else kwargs).append(ds if kind is _ANY else ("datasource", ds))
    keys = {f[1] for f in kind.fields} | {"datasource"}
    extra += [(k, literal(v)) for k, v in t.items() if k not in keys and not (k == "refId" and v == usual)]
    return Call(kind.factory, args, kwargs + extra)


def targets(panel: dict, ctx: Context) -> list:
    """The panel's targets as `p.target(...)` calls (PromQL, with TODO comments; see
    target_problem) or calls of the typed query helpers (`p.loki`, `p.elasticsearch`, ...).
    Query keys the house target does not set (step, queryType, another data source, ...)
    pass through as keywords."""
    out, used = [], set()
    for t in panel.get("targets") or []:
        # The normaliser names a query without refId A, B, ... (the first letters not taken yet).
        usual = next(ref_id(i) for i in range(len(used) + 1) if ref_id(i) not in used)
        used.add(t.get("refId") or usual)
        kind = _query_kind(t, panel)
        if kind is not None:
            out.append(_typed_query(t, kind, usual, ctx))
            continue
        code, unknown = expr(t["expr"], ctx)
        out += _todo(unknown)
        kwargs = []
        if t.get("instant"):
            kwargs.append(("instant", literal(t["instant"])))
        if t.get("format", "time_series") != "time_series":
            kwargs.append(("fmt", literal(t["format"])))
        # A query naming the panel's data source gets it from the factory's `datasource`.
        panel_ds = panel.get("datasource", PROMETHEUS_DS)
        kwargs += [(k, ctx.datasource(v) if k == "datasource" else literal(v)) for k, v in t.items()
                   if k not in TARGET_FACTORY_KEYS and not (k == "datasource" and v in (PROMETHEUS_DS, panel_ds))]
        if t.get("refId", usual) != usual:
            kwargs.append(("refId", literal(t["refId"])))
        legend = t.get("legendFormat", "")
        if not legend and not kwargs:
            out.append(code)
        else:
            out.append(Call("p.target", [code] + ([literal(legend)] if legend else []), kwargs))
    return out


def _targets_arg(items: list):
    real = [i for i in items if not isinstance(i, Comment)]
    return real[0] if len(real) == 1 and len(items) == 1 else List(items)


# --- candidates ----------------------------------------------------------------------------


def _kw(kwargs: list, name: str, value, default) -> None:
    if value is not None and value != default:
        kwargs.append((name, literal(value) if not isinstance(value, (Code, Call, List, Dict)) else value))


def _common(panel: dict, ctx: Context, tgt: list):
    d = (panel.get("fieldConfig") or {}).get("defaults") or {}
    title = panel.get("title", "")
    steps = (d.get("thresholds") or {}).get("steps")
    context = " ".join([str(panel.get("description") or "")]
                       + [str(t.get("expr") or "") for t in panel.get("targets") or [] if isinstance(t, dict)])
    return d, title, [literal(title), literal(panel.get("description", "")), _targets_arg(tgt),
                      literal(d.get("unit", "")), thresholds(steps, title, ctx, context)]


def _size(kwargs: list, panel: dict, w: int, h: int) -> None:
    grid = panel.get("gridPos") or {}
    _kw(kwargs, "w", grid.get("w"), w)
    _kw(kwargs, "h", grid.get("h"), h)


def _panel_keys(kwargs: list, panel: dict) -> None:
    """Settings every panel has (repeat, maxPerRow, ...) as the factory's keywords."""
    for kw, key in P.PANEL_KEYWORDS.items():
        if key in panel:
            kwargs.append((kw, literal(panel[key])))


def _panel_datasource(kwargs: list, panel: dict, ctx: Context) -> None:
    ds = panel.get("datasource")
    if ds is not None and ds != PROMETHEUS_DS:
        kwargs.append(("datasource", ctx.datasource(ds)))


def timeseries(panel: dict, ctx: Context, tgt: list) -> list[Call]:
    d, _title, args = _common(panel, ctx, tgt)
    custom = d.get("custom") or {}
    options = panel.get("options") or {}
    legend = options.get("legend") or {}
    tooltip = options.get("tooltip") or {}
    kwargs: list = []
    _size(kwargs, panel, 12, 8)
    _kw(kwargs, "min", d.get("min"), None)
    _kw(kwargs, "max", d.get("max"), None)
    calcs = legend.get("calcs", [])
    if isinstance(calcs, list) and calcs != ["mean", "max", "lastNotNull"]:
        kwargs.append(("legend_calcs", literal(calcs)))
    stacking = (custom.get("stacking") or {}).get("mode", "none")
    if stacking == "normal":
        kwargs.append(("stacked", literal(True)))
    elif stacking != "none":
        kwargs.append(("stacked", literal(stacking)))
    style = (custom.get("thresholdsStyle") or {}).get("mode", "off")
    steps = (d.get("thresholds") or {}).get("steps") or []
    if style != ("dashed" if len(steps) > 1 else "off"):
        kwargs.append(("threshold_style", literal(style)))
    # What normalize leaves out is Grafana's default (PANEL_DEFAULTS): the factory's may differ.
    _kw(kwargs, "fill", custom.get("fillOpacity", 0), 10)
    _panel_datasource(kwargs, panel, ctx)
    _kw(kwargs, "legend", legend.get("displayMode", "list"), "table")
    _kw(kwargs, "legend_placement", legend.get("placement", "bottom"), "bottom")
    if legend.get("showLegend") is not True:
        kwargs.append(("show_legend", literal(legend.get("showLegend"))))
    _kw(kwargs, "legend_width", legend.get("width"), None)
    if "sortBy" in legend:
        kwargs.append(("legend_sort", literal([legend["sortBy"], legend.get("sortDesc")])))
    _kw(kwargs, "tooltip", tooltip.get("mode", "single"), "multi")
    _kw(kwargs, "tooltip_sort", tooltip.get("sort", "none"), "desc")
    for key, kw, default in (("lineWidth", "line_width", 1), ("lineInterpolation", "interpolation", "linear"),
                             ("gradientMode", "gradient", "none"), ("showPoints", "show_points", "auto"),
                             ("pointSize", "point_size", 5), ("spanNulls", "span_nulls", False),
                             ("drawStyle", "draw_style", "line"), ("axisLabel", "axis_label", ""),
                             ("axisPlacement", "axis_placement", "auto")):
        _kw(kwargs, kw, custom.get(key, default), default)
    scale = custom.get("scaleDistribution") or {}
    if scale.get("type") == "log":
        kwargs.append(("log", literal(scale.get("log", 2))))
    _kw(kwargs, "decimals", d.get("decimals"), None)
    _kw(kwargs, "color_mode", (d.get("color") or {}).get("mode", "palette-classic"), "palette-classic")
    _kw(kwargs, "mappings", d.get("mappings") or None, None)
    _kw(kwargs, "overrides", (panel.get("fieldConfig") or {}).get("overrides") or None, None)
    _kw(kwargs, "links", panel.get("links") or None, None)
    _panel_keys(kwargs, panel)
    return [Call("p.timeseries", args, kwargs)]


def stat(panel: dict, ctx: Context, tgt: list) -> list[Call]:
    d, title, args = _common(panel, ctx, tgt)
    options = panel.get("options") or {}
    out = []
    real = [x for x in tgt if not isinstance(x, Comment)]
    if len(real) == 1 and isinstance(real[0], Query) and real[0].min_of is not None:
        kwargs: list = []
        _size(kwargs, panel, 4, 8)
        out.append(Call("p.up_stat", [args[0], args[1], *_todo_items(tgt), Code(real[0].min_of)], kwargs))
    kwargs = []
    _size(kwargs, panel, 6, 4)
    calcs = (options.get("reduceOptions") or {}).get("calcs") or ["lastNotNull"]
    _kw(kwargs, "reduce", calcs[0] if len(calcs) == 1 else None, "lastNotNull")
    _kw(kwargs, "decimals", d.get("decimals"), None)
    if options.get("graphMode") == "none":
        kwargs.append(("graph", literal(False)))
    _kw(kwargs, "min", d.get("min"), None)
    _kw(kwargs, "max", d.get("max"), None)
    if d.get("mappings"):
        kwargs.append(("mappings", name("p", "UP_DOWN_MAPPINGS") if d["mappings"] == P.UP_DOWN_MAPPINGS
                       else literal(d["mappings"])))
    _panel_datasource(kwargs, panel, ctx)
    _kw(kwargs, "color_mode", options.get("colorMode", "value"), "value")
    house_text = "value_and_name" if len(panel.get("targets") or []) > 1 else "value"
    if options.get("textMode", "auto") != house_text:
        kwargs.append(("text_mode", literal(options.get("textMode", "auto"))))
    _kw(kwargs, "orientation", options.get("orientation", "auto"), "auto")
    _kw(kwargs, "field_color", (d.get("color") or {}).get("mode"), None)
    _kw(kwargs, "no_value", d.get("noValue"), None)
    _kw(kwargs, "overrides", (panel.get("fieldConfig") or {}).get("overrides") or None, None)
    _kw(kwargs, "links", panel.get("links") or None, None)
    _panel_keys(kwargs, panel)
    out.append(Call("p.stat", args, kwargs))
    return out


def _todo_items(tgt: list) -> list:
    return [x for x in tgt if isinstance(x, Comment)]


def table(panel: dict, ctx: Context, tgt: list) -> list[Call]:
    _d, _title, args = _common(panel, ctx, tgt)
    kwargs: list = []
    _size(kwargs, panel, 24, 8)
    steps = [t for t in panel.get("transformations") or [] if isinstance(t, dict)]
    organize = steps[-1].get("options") if steps and steps[-1].get("id") == "organize" else None
    house = (isinstance(organize, dict) and set(organize) <= {"excludeByName", "renameByName"}
             and steps[:-1] == ([{"id": "merge", "options": {}}] if len(panel.get("targets") or []) > 1 else []))
    if house:  # the merge and organize the table makes of `columns` and `hide`
        _kw(kwargs, "columns", organize.get("renameByName") or None, None)
        hide = list((organize.get("excludeByName") or {}).keys())
        if hide != ["Time"]:
            kwargs.append(("hide", literal(hide)))
    else:
        kwargs.append(("transformations", literal(steps or None)))
    sort = (panel.get("options") or {}).get("sortBy") or []
    if sort and isinstance(sort[0], dict):
        _kw(kwargs, "sort_by", sort[0].get("displayName"), None)
        _kw(kwargs, "sort_desc", sort[0].get("desc", True), True)
    _panel_datasource(kwargs, panel, ctx)
    return [Call("p.table", args, kwargs)]


def heatmap(panel: dict, ctx: Context, tgt: list) -> list[Call]:
    _d, _title, args = _common(panel, ctx, tgt)
    unit = (((panel.get("options") or {}).get("yAxis") or {}).get("unit")) or ""
    kwargs: list = []
    _size(kwargs, panel, 12, 8)
    _panel_datasource(kwargs, panel, ctx)
    return [Call("p.heatmap", [args[0], args[1], args[2], literal(unit)], kwargs)]


def _dial(func: str, panel: dict, ctx: Context, tgt: list, w: int, h: int) -> list[Call]:
    d, _title, args = _common(panel, ctx, tgt)
    kwargs: list = []
    _size(kwargs, panel, w, h)
    calcs = ((panel.get("options") or {}).get("reduceOptions") or {}).get("calcs") or ["lastNotNull"]
    _kw(kwargs, "reduce", calcs[0] if len(calcs) == 1 else None, "lastNotNull")
    _kw(kwargs, "min", d.get("min"), None)
    _kw(kwargs, "max", d.get("max"), None)
    _kw(kwargs, "decimals", d.get("decimals"), None)
    if func == "p.gauge":
        _kw(kwargs, "mappings", d.get("mappings") or None, None)
    _panel_datasource(kwargs, panel, ctx)
    _kw(kwargs, "overrides", (panel.get("fieldConfig") or {}).get("overrides") or None, None)
    return [Call(func, args, kwargs)]


def gauge(panel: dict, ctx: Context, tgt: list) -> list[Call]:
    return _dial("p.gauge", panel, ctx, tgt, 6, 6)


def bargauge(panel: dict, ctx: Context, tgt: list) -> list[Call]:
    return _dial("p.bargauge", panel, ctx, tgt, 12, 8)


def piechart(panel: dict, ctx: Context, tgt: list) -> list[Call]:
    _d, _title, args = _common(panel, ctx, tgt)
    options = panel.get("options") or {}
    legend = options.get("legend") or {}
    tooltip = options.get("tooltip") or {}
    kwargs: list = []
    _size(kwargs, panel, 8, 8)
    calcs = (options.get("reduceOptions") or {}).get("calcs") or ["lastNotNull"]
    _kw(kwargs, "reduce", calcs[0] if isinstance(calcs, list) and len(calcs) == 1 else None, "lastNotNull")
    _kw(kwargs, "pie_type", options.get("pieType", "pie"), "pie")
    _kw(kwargs, "legend", legend.get("displayMode", "list"), "list")
    _kw(kwargs, "legend_placement", legend.get("placement", "bottom"), "bottom")
    _kw(kwargs, "legend_values", legend.get("values") or None, None)
    _kw(kwargs, "labels", options.get("displayLabels") or None, None)
    _kw(kwargs, "tooltip", tooltip.get("mode", "single"), "single")
    _kw(kwargs, "tooltip_sort", tooltip.get("sort", "none"), "none")
    _panel_datasource(kwargs, panel, ctx)
    _panel_keys(kwargs, panel)
    return [Call("p.piechart", args[:4], kwargs)]


def text(panel: dict, ctx: Context, tgt: list | None) -> list[Call]:
    """`p.text`: its queries (Grafana saves them on a text panel too) as `p.target` calls when
    they are PromQL (`tgt`), else as they are."""
    options = panel.get("options") or {}
    kwargs: list = []
    _kw(kwargs, "mode", options.get("mode", "markdown"), "markdown")
    _kw(kwargs, "description", panel.get("description", ""), "")
    _size(kwargs, panel, 24, 3)
    code = options.get("code")
    if isinstance(code, dict):
        _kw(kwargs, "language", code.get("language"), None)
    if panel.get("targets"):
        kwargs.append(("targets", List(tgt) if tgt is not None else literal(panel["targets"])))
    _panel_datasource(kwargs, panel, ctx)
    _panel_keys(kwargs, panel)
    return [Call("p.text", [literal(panel.get("title", "")), literal(options.get("content", ""))], kwargs)]


CANDIDATES = {"timeseries": timeseries, "stat": stat, "table": table, "heatmap": heatmap, "gauge": gauge,
              "bargauge": bargauge, "text": text, "piechart": piechart}
#: Kinds whose queries need not be PromQL (the panel does not run them): kept as written.
ANY_QUERIES = {"text"}


# --- raw -----------------------------------------------------------------------------------


def raw(panel: dict, ctx: Context, drop_position: bool = True) -> Dict:
    """The panel as a dict literal for `p.raw`, its queries through the catalog where they can be."""
    items = []
    for k, v in panel.items():
        if k == "id":
            continue
        if k == "gridPos" and drop_position and isinstance(v, dict):
            v = {gk: gv for gk, gv in v.items() if gk not in ("x", "y")}
        if k == "targets" and isinstance(v, list):
            tl = []
            panel_type = (panel.get("datasource") or {}).get("type") if isinstance(panel.get("datasource"), dict) else None
            for t in v:
                ds = t.get("datasource") if isinstance(t, dict) else None
                ds_type = ds.get("type") if isinstance(ds, dict) else panel_type
                if isinstance(t, dict) and isinstance(t.get("expr"), str) and ds_type in (None, "prometheus"):
                    code, unknown = expr(t["expr"], ctx)
                    tl += _todo(unknown)
                    tl.append(Dict([(Code(string(tk)), code if tk == "expr" else
                                     ctx.datasource(tv) if tk == "datasource" else literal(tv))
                                    for tk, tv in t.items()]))
                else:
                    tl.append(literal(t))
            items.append((Code(string(k)), List(tl)))
        elif k == "datasource":
            items.append((Code(string(k)), ctx.datasource(v)))
        else:
            items.append((Code(string(k)), literal(v)))
    return Dict(items)


#: Keys an override may not change: the panel's kind, its queries (written with p.target through
#: the catalog) and its place. (The title can only differ by being absent: the call writes the panel's own.)
NOT_OVERRIDDEN = ("type", "targets", "gridPos", "id")


def changes(got: dict, want: dict) -> dict:
    """What `p.merged` needs to turn `got` into `want`: changed keys, objects key by key,
    None for a key `want` does not have."""
    out: dict = {}
    for k in sorted(set(got) | set(want)):
        if k not in want:
            out[k] = None
        elif isinstance(got.get(k), dict) and isinstance(want[k], dict):
            sub = changes(got[k], want[k])
            if sub:
                out[k] = sub
        elif got.get(k, ...) != want[k]:
            out[k] = want[k]
    return out


def _size_of(value) -> int:
    return len(json.dumps(value, sort_keys=True))


def _at(data, path: tuple):
    for k in path:
        if not isinstance(data, dict) or k not in data:
            return None
        data = data[k]
    return data


def _prune(delta: dict) -> dict:
    """`delta` without the objects the keywords emptied."""
    out = {}
    for k, v in delta.items():
        if isinstance(v, dict):
            v = _prune(v)
            if not v:
                continue
        out[k] = v
    return out


@functools.cache
def _parameters(factory: str) -> tuple[frozenset, bool]:
    """(parameter names, whether it takes any keyword) of `p.<factory>`; nothing when no such factory."""
    func = getattr(P, factory, None)
    if not callable(func):
        return frozenset(), False
    params = inspect.signature(func).parameters
    return frozenset(params), any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def takes_keyword(factory: str, kw: str) -> bool:
    """Whether `p.<factory>` accepts the keyword `kw` (its own parameter, or KEYWORD_PATHS through **)."""
    names, any_keyword = _parameters(factory)
    return kw in names or (any_keyword and kw in P.KEYWORD_PATHS)


def _keywords(call: Call, delta: dict, want: dict) -> tuple[Call, dict]:
    """`call` with what `delta` changes at a keyword's path (P.KEYWORD_PATHS) given as that
    keyword where the factory takes it (the value `want` has there; None removes it), and
    what is left of `delta`. Deeper paths first: `threshold_mode` before a whole `color`."""
    factory = call.func.split(".", 1)[1]
    given = {k for k, _ in call.kwargs}
    rest = json.loads(json.dumps(delta))
    kwargs = list(call.kwargs)
    for kw, path in _KEYWORDS_DEEPEST_FIRST:
        if kw in given or not takes_keyword(factory, kw):
            continue
        parent = _at(rest, path[:-1])
        if isinstance(parent, dict) and path[-1] in parent:
            kwargs.append((kw, literal(_at(want, path))))
            del parent[path[-1]]
    if len(kwargs) == len(call.kwargs):
        return call, delta
    return Call(call.func, call.args, kwargs), _prune(rest)


_KEYWORDS_DEEPEST_FIRST = sorted(P.KEYWORD_PATHS.items(), key=lambda item: -len(item[1]))


def _near_misses(call: Call, got: dict, want: dict) -> list[tuple[int, Call]]:
    """What may build `want` from a call that comes close, best first, each with the size of
    its override (0: none): the call with keywords for what they cover (and an override for
    the rest), then `p.override(call, changes)`; an override only when the changes are few
    enough to read (IMPORT_OVERRIDE_SHARE) and leave what the call says alone."""
    delta = changes(got, want)
    if any(k in delta for k in NOT_OVERRIDDEN):
        return []
    out = []
    keyed, rest = _keywords(call, delta, want)
    limit = IMPORT_OVERRIDE_SHARE * _size_of(want)
    if keyed is not call and not rest:
        out.append((0, keyed))
    elif keyed is not call and _size_of(rest) <= limit:
        out.append((_size_of(rest), Call("p.override", [keyed, literal(rest)])))
    if _size_of(delta) <= limit:
        out.append((_size_of(delta), Call("p.override", [call, literal(delta)])))
    return out


def _build(call: Call, ctx: Context) -> dict:
    return panel_key(P.panel_json(safe_eval(flat(call), ctx.namespace(), cfg=ctx.cfg)))


def _builds_to(call: Call, want: dict, ctx: Context) -> bool:
    try:
        return _build(call, ctx) == want
    except UnsafeCode:
        raise
    except Exception:  # an override that does not build is just not a match
        return False


def _chosen(m: Match, ctx: Context, used_before: bool) -> Match:
    """`m`, with `ctx.uses_thresholds` saying whether the row's code so far names `t.`: the
    other candidates tried for the panel may have, the chosen one need not."""
    names = list(tokenize.generate_tokens(io.StringIO(flat(m.node)).readline))
    ctx.uses_thresholds = used_before or any(
        a.type == tokenize.NAME and a.string == "t" and b.string == "." for a, b in zip(names, names[1:]))
    return m


def match(panel: dict, ctx: Context) -> Match:
    """The factory call that reproduces `panel` (normalised), or failing that the smallest
    factory call with a few keys overridden, or its raw JSON."""
    want = panel_key(panel)
    kind = panel.get("type")
    builder = CANDIDATES.get(kind) if isinstance(kind, str) else None
    reason = f"no factory for {kind!r} panels"
    if builder is not None:
        saved = (dict(ctx.unknown), set(ctx.helpers), ctx.uses_catalog, ctx.uses_thresholds)
        problem = target_problem(panel)
        if problem and kind not in ANY_QUERIES:
            reason = problem
        else:
            try:
                tgt = targets(panel, ctx) if not problem else None
                calls = builder(panel, ctx, tgt)
            except (TypeError, AttributeError, ValueError, KeyError, IndexError, OverflowError) as exc:
                # A setting of a type Grafana never writes: kept as JSON, the reason reported.
                calls, reason = [], f"{kind} panel not read: {type(exc).__name__}: {str(exc)[:80]}"
            near: list[tuple[int, int, Call]] = []
            for i, call in enumerate(calls):
                try:
                    got = _build(call, ctx)
                except UnsafeCode:
                    raise
                except Exception as exc:  # a candidate that cannot even be built is just not a match
                    reason = f"{call.func} fails: {type(exc).__name__}: {str(exc)[:80]}"
                    continue
                if got == want:
                    return _chosen(Match(call, call.func), ctx, saved[3])
                reason = f"{call.func} differs at {', '.join(differences(got, want))}"
                for size, tuned in _near_misses(call, got, want):
                    if _builds_to(tuned, want, ctx):
                        near.append((size, i, tuned))
                        break
            if near:
                best = min(near, key=lambda n: n[:2])[2]
                label = f"{best.args[0].func} + override" if best.func == "p.override" else best.func
                return _chosen(Match(best, label), ctx, saved[3])
        ctx.unknown, ctx.helpers, ctx.uses_catalog, ctx.uses_thresholds = saved
    return Match(Call("p.raw", [raw(panel, ctx)]), "p.raw", reason)
