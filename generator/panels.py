"""House style: small factories over grafanalib that every dashboard module uses.

Every panel gets a title, a description (what it shows and what healthy looks like),
a unit, thresholds passed in from the config and a readable legend, and queries
Prometheus through the `datasource` template variable. `dashboard()` lays rows out on
the 24-column grid, adds the link bar to the project's other dashboards and returns
a grafanalib Dashboard; `generator.render` turns it into clean, current JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Sequence

import attr
from grafanalib import core as g

from generator.config import Config
from generator.normalize import (
    GRID_COLUMNS,
    HEATMAP_COLOR,
    HEATMAP_EXEMPLARS,
    HEATMAP_HIDE_EMPTY,
    HIDE_NOTHING,
    PROMETHEUS_DS,
    TEXT_MODES,
    target_from_grafanalib,
)

GREEN, ORANGE, RED, BLUE = "green", "orange", "red", "blue"


# --- thresholds --------------------------------------------------------------------------


def bad_above(warn: float, crit: float | None = None) -> list[dict]:
    """Green below `warn`, orange from `warn`, red from `crit` (lower is better).

    Without `crit`, or when it is not above `warn` (a target equal to its alert), red from `warn`.
    """
    if crit is None or crit <= warn:
        return [{"color": GREEN, "value": None}, {"color": RED, "value": warn}]
    return [{"color": GREEN, "value": None}, {"color": ORANGE, "value": warn}, {"color": RED, "value": crit}]


def good_above(target: float, warn: float | None = None) -> list[dict]:
    """Red below `warn` (or the target), orange up to the target, green from it (higher is better)."""
    if warn is None:
        return [{"color": RED, "value": None}, {"color": GREEN, "value": target}]
    return [{"color": RED, "value": None}, {"color": ORANGE, "value": warn}, {"color": GREEN, "value": target}]


def up_down() -> list[dict]:
    """For 0/1 health gauges: red at 0, green at 1."""
    return [{"color": RED, "value": None}, {"color": GREEN, "value": 1}]


UP_DOWN_MAPPINGS = [
    {"type": "value", "options": {"0": {"text": "Down", "color": RED, "index": 0},
                                  "1": {"text": "Up", "color": GREEN, "index": 1}}},
]


def neutral() -> list[dict]:
    """No good or bad level: the value is informational."""
    return [{"color": BLUE, "value": None}]


# --- targets -----------------------------------------------------------------------------


@attr.s
class _Target(g.Target):
    """A target with more query keys than grafanalib knows (Grafana's query editor writes
    `editorMode` and `range`); `dashgen import` keeps them on otherwise house-style panels."""

    extra: dict = attr.ib(factory=dict)

    def to_json_data(self) -> dict:
        # Without grafanalib's legacy keys, so the renderer keeps every key this query sets.
        return {**target_from_grafanalib(super().to_json_data()), **json.loads(json.dumps(self.extra))}


def target(expr: str, legend: str = "", *, instant: bool = False, fmt: str = "time_series", **extra) -> g.Target:
    """A PromQL query of the house data source; `extra` keys (step, editorMode, another
    data source, ...) are written into the query as they are."""
    if extra:
        return _Target(expr=expr, legendFormat=legend, instant=instant, format=fmt, datasource=PROMETHEUS_DS,
                       extra=extra)
    return g.Target(expr=expr, legendFormat=legend, instant=instant, format=fmt, datasource=PROMETHEUS_DS)


@attr.s
class Query(g.Target):
    """A query for a data source other than Prometheus, as Grafana saves it (`loki`,
    `elasticsearch`, `influx`, `testdata`, `query` build one)."""

    data: dict = attr.ib(factory=dict)

    def to_json_data(self) -> dict:
        return json.loads(json.dumps(self.data))  # a copy: the panel's JSON is the caller's to change


def _query(datasource: dict | str | None, fields: dict, extra: dict) -> Query:
    """The query's JSON: fields given as None are left out (a query Grafana saved without
    them), `extra` keys are written as they are, `datasource` only when given (a query
    without one asks the panel's)."""
    data = {k: v for k, v in fields.items() if v is not None}
    if datasource is not None:
        data["datasource"] = datasource
    return Query(data={**data, **extra})


def query(datasource: dict | str | None = None, **fields) -> Query:
    """A query for any data source, its keys as Grafana saves them (a Jaeger search, a server
    expression, a plugin's query): what the typed helpers below do not cover."""
    return _query(datasource, {}, fields)


def loki(expr: str, legend: str = "", *, query_type: str | None = "range", datasource=None, **extra) -> Query:
    """A LogQL query (`query_type="instant"` for one value per series)."""
    return _query(datasource, {"expr": expr, "legendFormat": legend or None, "queryType": query_type}, extra)


#: What Grafana's Elasticsearch (and OpenSearch) query editor starts from: a count per time bucket.
ES_COUNT = ({"id": "1", "type": "count"},)
ES_BY_TIME = ({"id": "2", "type": "date_histogram", "field": "@timestamp", "settings": {"interval": "auto"}},)


def elasticsearch(query: str = "", *, metrics=ES_COUNT, bucket_aggs=ES_BY_TIME, time_field: str | None = "@timestamp",
                  alias: str | None = None, datasource=None, **extra) -> Query:
    """A Lucene query of Elasticsearch or OpenSearch with its metric and bucket aggregations
    (Grafana's names: `metrics`, `bucketAggs`); None leaves a field out."""
    return _query(datasource, {"query": query, "alias": alias, "timeField": time_field,
                               "metrics": None if metrics is None else list(metrics),
                               "bucketAggs": None if bucket_aggs is None else list(bucket_aggs)}, extra)


def influx(query: str, *, alias: str | None = None, raw_query: bool | None = True,
           result_format: str | None = "time_series", datasource=None, **extra) -> Query:
    """An InfluxQL query as written in the raw editor; a Flux query is `influx(q,
    raw_query=None, result_format=None)` (Grafana saves only the text)."""
    return _query(datasource, {"query": query, "alias": alias, "rawQuery": raw_query,
                               "resultFormat": result_format}, extra)


def testdata(scenario: str = "random_walk", *, alias: str | None = None, datasource=None, **extra) -> Query:
    """A query of Grafana's TestData data source: `scenario` is its scenarioId
    (random_walk, csv_content, no_data_points, ...), its settings as `extra` keys."""
    return _query(datasource, {"scenarioId": scenario, "alias": alias}, extra)


def _targets(targets) -> list[g.Target]:
    if isinstance(targets, (str, g.Target)):
        targets = [targets]
    return [t if isinstance(t, g.Target) else target(t) for t in targets]


# --- panels ------------------------------------------------------------------------------


def _size(w: int, h: int) -> g.GridPos:
    if not 1 <= w <= GRID_COLUMNS:
        raise ValueError(f"panel width {w} is outside 1..{GRID_COLUMNS}")
    return g.GridPos(h=h, w=w, x=0, y=0)


def timeseries(
    title: str,
    description: str,
    targets,
    unit: str,
    thresholds: list[dict],
    *,
    w: int = 12,
    h: int = 8,
    min: float | None = None,
    max: float | None = None,
    legend_calcs: Sequence[str] = ("mean", "max", "lastNotNull"),
    stacked: bool | str = False,
    threshold_style: str = "dashed",
    fill: int = 10,
    datasource: dict | None = None,
    legend: str = "table",
    legend_placement: str = "bottom",
    show_legend: bool | None = True,
    legend_width: int | None = None,
    legend_sort: Sequence | None = None,
    tooltip: str = "multi",
    tooltip_sort: str = "desc",
    line_width: int = 1,
    interpolation: str = "linear",
    gradient: str = "none",
    show_points: str = "auto",
    point_size: int = 5,
    span_nulls: bool | int = False,
    draw_style: str = "line",
    axis_label: str = "",
    axis_placement: str = "auto",
    log: int | None = None,
    decimals: int | None = None,
    color_mode: str = "palette-classic",
    mappings: list[dict] | None = None,
    overrides: Sequence[dict] = (),
    links: Sequence[dict] = (),
    **panel_keys,
) -> g.TimeSeries | RawPanel:
    """A time series with its thresholds drawn as lines and a table legend.

    The keywords after `fill` cover what Grafana's own time series (and a graph panel it
    migrated) set, so an imported panel is a call rather than JSON: `datasource` (default the
    `datasource` variable), the legend (`legend` "table" or "list", placement, width, sort as
    (field, descending)), the tooltip, the line and its points, a log axis (`log`: its base),
    `decimals`, per-series `overrides` and data `links`. `stacked` is True or a Grafana stacking
    mode ("normal", "percent")."""
    stacking = "normal" if stacked is True else stacked or "none"
    base = g.TimeSeries(
        title=title,
        description=description,
        dataSource=PROMETHEUS_DS,
        targets=_targets(targets),
        unit=unit,
        thresholds=thresholds,
        thresholdType="absolute",
        thresholdsStyleMode=threshold_style if len(thresholds) > 1 or threshold_style != "dashed" else "off",
        legendDisplayMode=legend,
        legendPlacement=legend_placement,
        legendCalcs=list(legend_calcs),
        fillOpacity=fill,
        valueMin=_int_or_none(min),
        valueMax=_int_or_none(max),
        stacking={"mode": stacking, "group": "A"},
        tooltipMode=tooltip,
        tooltipSort=tooltip_sort,
        lineWidth=line_width,
        lineInterpolation=interpolation,
        gradientMode=gradient,
        showPoints=show_points,
        pointSize=point_size,
        drawStyle=draw_style,
        axisLabel=axis_label,
        axisPlacement=axis_placement,
        scaleDistributionType="log" if log else "linear",
        scaleDistributionLog=log or 2,
        colorMode=color_mode,
        valueDecimals=decimals,
        mappings=list(mappings or []),
        overrides=list(overrides),
        gridPos=_size(w, h),
        extraJson={"options": {"legend": {"showLegend": True}}, **_float_limits(min, max)},
    )
    changes: dict = {}
    if span_nulls is not False:
        changes["fieldConfig"] = {"defaults": {"custom": {"spanNulls": span_nulls}}}
    legend_extra: dict = {}
    if show_legend is not True:  # None: the key is left out (a legend saved by an older Grafana)
        legend_extra["showLegend"] = show_legend
    if legend_width is not None:
        legend_extra["width"] = legend_width
    if legend_sort is not None:
        legend_extra.update(sortBy=legend_sort[0], sortDesc=legend_sort[1])
    if legend_extra:
        changes["options"] = {"legend": legend_extra}
    if links:
        changes["links"] = list(links)
    return _keyed(_changed(base, changes, datasource), panel_keys)


#: Panel settings every kind has, as factory keywords (repeat="instance", max_per_row=4, ...).
PANEL_KEYWORDS = {"repeat": "repeat", "repeat_direction": "repeatDirection", "max_per_row": "maxPerRow",
                  "max_data_points": "maxDataPoints", "interval": "interval", "time_from": "timeFrom",
                  "time_shift": "timeShift", "hide_time_override": "hideTimeOverride", "transparent": "transparent"}
_FIELD = ("fieldConfig", "defaults")
#: Every factory's keywords and where each value goes in the panel's JSON: PANEL_KEYWORDS at the
#: top, then Grafana's standard field options and the options several kinds share. A value
#: replaces what the factory wrote there; None removes it. A factory's own parameter of the same
#: name (a time series' `decimals`, a stat's `no_value`) comes first.
KEYWORD_PATHS = {
    **{k: (v,) for k, v in PANEL_KEYWORDS.items()},
    "transformations": ("transformations",),
    "overrides": ("fieldConfig", "overrides"),
    "decimals": (*_FIELD, "decimals"), "min": (*_FIELD, "min"), "max": (*_FIELD, "max"),
    "mappings": (*_FIELD, "mappings"), "no_value": (*_FIELD, "noValue"), "data_links": (*_FIELD, "links"),
    "display_name": (*_FIELD, "displayName"),
    "color": (*_FIELD, "color"),  # {"mode": "fixed", "fixedColor": "blue"}, {"mode": "continuous-GrYlRd"}, ...
    "threshold_mode": (*_FIELD, "thresholds", "mode"),  # "percentage": steps in % of min..max
    "filterable": (*_FIELD, "custom", "filterable"), "align": (*_FIELD, "custom", "align"),  # tables
    "show_values": (*_FIELD, "custom", "showValues"), "axis_soft_min": (*_FIELD, "custom", "axisSoftMin"),
    "axis_soft_max": (*_FIELD, "custom", "axisSoftMax"),
    "orientation": ("options", "orientation"), "justify_mode": ("options", "justifyMode"),
    "display_mode": ("options", "displayMode"),  # a bar gauge's "gradient", "lcd", "basic"
    "min_viz_width": ("options", "minVizWidth"), "min_viz_height": ("options", "minVizHeight"),
    "reduce_fields": ("options", "reduceOptions", "fields"), "reduce_values": ("options", "reduceOptions", "values"),
    "footer": ("options", "footer"), "show_header": ("options", "showHeader"),
    "field_unit": (*_FIELD, "unit"),  # where it differs from the unit a factory writes (None: no unit)
    # a heatmap's
    "calculation": ("options", "calculation"), "cell_gap": ("options", "cellGap"),
    "cell_values": ("options", "cellValues"), "color_scheme": ("options", "color", "scheme"),
    "color_steps": ("options", "color", "steps"), "color_fill": ("options", "color", "fill"),
    "rows_layout": ("options", "rowsFrame", "layout"), "show_value": ("options", "showValue"),
    "y_histogram": ("options", "tooltip", "yHistogram"), "legend_show": ("options", "legend", "show"),
}


def _panel_keys(given: dict) -> dict:
    """The keywords as {JSON path: value} (KEYWORD_PATHS); an unknown one is a TypeError."""
    unknown = sorted(set(given) - set(KEYWORD_PATHS))
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(unknown)}")
    return {KEYWORD_PATHS[k]: v for k, v in given.items()}


def _set_paths(data: dict, keys: dict) -> dict:
    """`data` with each {path: value} set (None: removed); objects on the way are copied."""
    out = dict(data)
    for path, value in keys.items():
        node = out
        for k in path[:-1]:
            node[k] = dict(node[k]) if isinstance(node.get(k), dict) else {}
            node = node[k]
        if value is None:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = json.loads(json.dumps(value))  # the caller's value stays the caller's
    return out


def _keyed(panel, panel_keys: dict):
    """`panel` with the factory keywords of KEYWORD_PATHS set (a RawPanel), or itself."""
    keys = _panel_keys(panel_keys)
    return RawPanel(_set_paths(panel_json(panel), keys), panel.gridPos) if keys else panel


def _changed(base, changes: dict, datasource: dict | None):
    """`base` with `changes` merged (a RawPanel), querying `datasource` instead of the house one:
    the panel and its queries that name the house data source. `base` itself when nothing changes."""
    if datasource is None or datasource == PROMETHEUS_DS:
        return RawPanel(merged(panel_json(base), changes), base.gridPos) if changes else base
    out = merged(panel_json(base), changes)
    out["datasource"] = datasource
    out["targets"] = [{**t, "datasource": datasource} if t.get("datasource") == PROMETHEUS_DS else t
                      for t in out.get("targets", [])]
    return RawPanel(out, base.gridPos)


def _int_or_none(value):
    """grafanalib takes only an int for a time series' min/max: a float goes by `_float_limits`."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float_limits(min, max) -> dict:
    """The fieldConfig for a min or max that is not an int (an axis max of 1.01 is common)."""
    defaults = {k: v for k, v in (("min", min), ("max", max)) if v is not None and _int_or_none(v) is None}
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in defaults.values()):
        raise TypeError(f"min and max are numbers, not {defaults!r}")
    return {"fieldConfig": {"defaults": defaults}} if defaults else {}


def stat(
    title: str,
    description: str,
    targets,
    unit: str,
    thresholds: list[dict],
    *,
    w: int = 6,
    h: int = 4,
    reduce: str = "lastNotNull",
    decimals: int | None = None,
    graph: bool = True,
    min: float | None = None,
    max: float | None = None,
    mappings: list[dict] | None = None,
    datasource: dict | None = None,
    color_mode: str = "value",
    text_mode: str | None = None,
    orientation: str = "auto",
    field_color: str | None = None,
    no_value: str | None = None,
    overrides: Sequence[dict] = (),
    links: Sequence[dict] = (),
    **panel_keys,
) -> g.Stat | RawPanel:
    """A single number coloured by its thresholds, with a sparkline.

    `color_mode` colours the "value", the "background" or "none"; `text_mode` (default: the
    value, with names when there are several queries), `orientation`, `field_color` (a colour
    mode such as "fixed"), `no_value`, `overrides`, `links` and `datasource` are Grafana's own."""
    targets = _targets(targets)
    defaults: dict = {"unit": unit}
    if decimals is not None:
        defaults["decimals"] = decimals
    if min is not None:
        defaults["min"] = min
    if max is not None:
        defaults["max"] = max
    if mappings:
        defaults["mappings"] = mappings
    if field_color is not None:
        defaults["color"] = {"mode": field_color}
    if no_value is not None:
        defaults["noValue"] = no_value
    base = g.Stat(
        title=title,
        description=description,
        dataSource=PROMETHEUS_DS,
        targets=targets,
        format=unit,
        thresholds=thresholds,
        thresholdType="absolute",
        colorMode=color_mode,
        graphMode="area" if graph else "none",
        reduceCalc=reduce,
        orientation=orientation,
        textMode=text_mode or ("value_and_name" if len(targets) > 1 else "value"),
        gridPos=_size(w, h),
        extraJson={
            "fieldConfig": {"defaults": defaults, **({"overrides": list(overrides)} if overrides else {})},
            "options": {"wideLayout": True, "showPercentChange": False, "justifyMode": "auto"},
        },
    )
    return _keyed(_changed(base, {"links": list(links)} if links else {}, datasource), panel_keys)


def up_stat(title: str, description: str, selector: str, *, w: int = 4, h: int = 8) -> g.Stat:
    """Up or Down for a 0/1 health gauge; the worst target wins (`min`)."""
    return stat(title, description, f"min({selector})", "none", up_down(), w=w, h=h, graph=False,
                mappings=UP_DOWN_MAPPINGS)


def _dial(kind: str, base: g.Stat, options: dict) -> RawPanel:
    """A stat panel's data, unit, thresholds and reduction shown as a `kind` panel instead."""
    data = panel_json(base)
    defaults = {**data["fieldConfig"]["defaults"], "color": {"mode": "thresholds"}}
    return RawPanel({**data, "type": kind, "fieldConfig": {**data["fieldConfig"], "defaults": defaults},
                     "options": {"reduceOptions": data["options"]["reduceOptions"], **options}}, base.gridPos)


def gauge(title: str, description: str, targets, unit: str, thresholds: list[dict], *, w: int = 6, h: int = 6,
          reduce: str = "lastNotNull", min: float | None = None, max: float | None = None,
          decimals: int | None = None, mappings: list[dict] | None = None, datasource: dict | None = None,
          overrides: Sequence[dict] = (), **panel_keys) -> RawPanel:
    """One number on a dial from `min` to `max`, coloured by its thresholds, marked on the rim
    (any KEYWORD_PATHS keyword too: orientation, color, threshold_mode, ...)."""
    return _keyed(_dial("gauge", stat(title, description, targets, unit, thresholds, w=w, h=h, reduce=reduce,
                               min=min, max=max, decimals=decimals, mappings=mappings, datasource=datasource,
                               overrides=overrides),
                 {"orientation": "auto", "showThresholdLabels": False, "showThresholdMarkers": True,
                  "sizing": "auto", "minVizHeight": 75, "minVizWidth": 75}), panel_keys)


def bargauge(title: str, description: str, targets, unit: str, thresholds: list[dict], *, w: int = 12,
             h: int = 8, reduce: str = "lastNotNull", min: float | None = None,
             max: float | None = None, decimals: int | None = None, datasource: dict | None = None,
             overrides: Sequence[dict] = (), **panel_keys) -> RawPanel:
    """One horizontal bar per series, from `min` to `max`, coloured by the thresholds (any
    KEYWORD_PATHS keyword too: display_mode, orientation, min_viz_height, ...)."""
    return _keyed(_dial("bargauge", stat(title, description, targets, unit, thresholds, w=w, h=h, reduce=reduce,
                                  min=min, max=max, decimals=decimals, datasource=datasource, overrides=overrides),
                 {"displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True,
                  "valueMode": "color", "namePlacement": "auto", "sizing": "auto",
                  "minVizHeight": 16, "minVizWidth": 8, "maxVizHeight": 300}), panel_keys)


def table(
    title: str,
    description: str,
    targets,
    unit: str,
    thresholds: list[dict],
    *,
    w: int = 24,
    h: int = 8,
    columns: dict[str, str] | None = None,
    sort_by: str | None = None,
    sort_desc: bool = True,
    hide: Sequence[str] = ("Time",),
    datasource: dict | None = None,
    **panel_keys,
) -> g.Table | RawPanel:
    """An instant-query table; `columns` renames fields (label or `Value #X`) for reading,
    `hide` leaves fields out, `sort_by` sorts by a column (descending unless `sort_desc=False`).

    The unit and thresholds apply to every number column, so keep one kind of number per table.
    Any KEYWORD_PATHS keyword too: `transformations` (instead of the merge and organize the
    table makes of `columns` and `hide`), `overrides`, `filterable`, `decimals`, `no_value`, ...
    """
    targets = _targets(targets)
    transformations = [{"id": "merge", "options": {}}] if len(targets) > 1 else []
    transformations.append({
        "id": "organize",
        "options": {
            "excludeByName": {name: True for name in hide},
            "renameByName": dict(columns or {}),
        },
    })
    return _keyed(_changed(g.Table(
        title=title,
        description=description,
        dataSource=PROMETHEUS_DS,
        targets=targets,
        unit=unit,
        thresholds=thresholds,
        thresholdType="absolute",
        transformations=transformations,
        sortBy=[g.TableSortByField(displayName=sort_by, desc=sort_desc)] if sort_by else [],
        gridPos=_size(w, h),
    ), {}, datasource), panel_keys)


def heatmap(title: str, description: str, targets, unit: str, *, w: int = 12, h: int = 8,
            datasource: dict | None = None, **panel_keys) -> g.Heatmap | RawPanel:
    """A heatmap of pre-bucketed histogram data (format=heatmap, le buckets on the y axis)."""
    return _keyed(_changed(g.Heatmap(
        title=title,
        description=description,
        dataSource=PROMETHEUS_DS,
        targets=_targets(targets),
        gridPos=_size(w, h),
        options={
            "calculate": False,
            "cellGap": 1,
            "color": dict(HEATMAP_COLOR),
            "yAxis": {"axisPlacement": "left", "unit": unit, "reverse": False},
            "rowsFrame": {"layout": "auto"},
            "tooltip": {"mode": "single", "yHistogram": True, "showColorScale": False},
            "legend": {"show": True},
            "filterValues": dict(HEATMAP_HIDE_EMPTY),
            "cellValues": {"unit": "short"},
            "exemplars": dict(HEATMAP_EXEMPLARS),
        },
        extraJson={"fieldConfig": {"defaults": {"unit": unit}}},
    ), {}, datasource), panel_keys)


def piechart(title: str, description: str, targets, unit: str, *, w: int = 8, h: int = 8, reduce: str = "lastNotNull",
             pie_type: str = "pie", legend: str = "list", legend_placement: str = "bottom", legend_values=(),
             labels=(), tooltip: str = "single", tooltip_sort: str = "none", datasource: dict | None = None,
             **panel_keys) -> RawPanel:
    """Shares of a whole: one slice per series, sized by its `reduce` value (mean, lastNotNull,
    ...); `pie_type="donut"`, `legend_values` ("percent", "value") beside the names in the legend,
    `labels` ("name", "percent", "value") on the slices. Any KEYWORD_PATHS keyword too."""
    options = {"reduceOptions": {"calcs": [reduce], "fields": "", "values": False}, "pieType": pie_type,
               "legend": {"displayMode": legend, "placement": legend_placement, "showLegend": True,
                          "values": list(legend_values)},
               "tooltip": {"mode": tooltip, "sort": tooltip_sort}, "displayLabels": list(labels)}
    defaults = {"unit": unit, "color": {"mode": "palette-classic"},
                "custom": {"hideFrom": dict(HIDE_NOTHING)}}
    data = {"type": "piechart", "title": title, "description": description, "datasource": PROMETHEUS_DS,
            "targets": [_target_json(t) for t in _targets(targets)],
            "fieldConfig": {"defaults": defaults, "overrides": []}, "options": options,
            "gridPos": {"h": h, "w": w, "x": 0, "y": 0}}
    return _keyed(_changed(RawPanel(data, _size(w, h)), {}, datasource), panel_keys)


def _target_json(t: g.Target) -> dict:
    """A query as a panel holds it (without grafanalib's legacy keys)."""
    return target_from_grafanalib(t.to_json_data())


def text(title: str, content: str, *, mode: str = "markdown", description: str = "", w: int = 24, h: int = 3,
         language: str | None = None, targets=(), datasource: dict | None = None, **panel_keys) -> RawPanel:
    """Words on the dashboard: `content` as Markdown, as HTML (`mode="html"`) or as code in
    `language` (`mode="code"`). A text panel runs no queries: `targets` only keeps the ones an
    imported panel carried (Grafana saves them)."""
    if mode not in TEXT_MODES:
        raise ValueError(f"text mode {mode!r} is not one of {', '.join(TEXT_MODES)}")
    options: dict = {"mode": mode, "content": content}
    if language is not None:
        options["code"] = {"language": language, "showLineNumbers": False, "showMiniMap": False}
    data = {"type": "text", "title": title, "description": description, "options": options,
            "gridPos": {"h": h, "w": w, "x": 0, "y": 0}}
    if targets:
        items = [targets] if isinstance(targets, (str, dict, g.Target)) else list(targets)
        # a dict is a query as Grafana JSON (another kind of data source), kept as it is
        data["targets"] = [t if isinstance(t, dict) else _target_json(_targets(t)[0]) for t in items]
    return _keyed(_changed(RawPanel(data, _size(w, h)), {}, datasource), panel_keys)


# --- variables ---------------------------------------------------------------------------


def datasource_variable() -> g.Template:
    """The `datasource` variable every query goes through, so one JSON fits any stack."""
    return g.Template(name="datasource", label="Data source", type="datasource", query="prometheus",
                      default="", hide=0, refresh=1)


def query_variable(name: str, label: str, query: str, default: str, *, multi: bool = False) -> g.Template:
    """A label-values variable whose default comes from the config.

    With `multi`, "All" is offered and means `.*`, so queries must match it with `=~`.
    """
    return g.Template(
        name=name,
        label=label,
        type="query",
        query=query,
        dataSource=PROMETHEUS_DS,
        default="$__all" if multi else default,
        multi=multi,
        includeAll=multi,
        allValue=".*" if multi else None,
        refresh=2,
        sort=1,
        hide=0,
    )


# --- layout ------------------------------------------------------------------------------


@dataclass
class Row:
    title: str | None
    panels: list = field(default_factory=list)
    collapsed: bool = False
    #: Other row-panel JSON keys (`repeat`, a fixed `gridPos`, ...): imported dashboards only.
    extra: dict = field(default_factory=dict)


def row(title: str | None, *panels, collapsed: bool = False, **extra) -> Row:
    """A row of panels. Imported dashboards may collapse it, set other row keys, or pass
    title None for the panels above their first row (no row panel is drawn)."""
    return Row(title, list(panels), collapsed, extra)


def _flow(panels, y: int) -> tuple[list[tuple[object, int, int]], int]:
    """(panel, x, y) flowed left to right from `y` on the 24-column grid, and the y below them.

    A panel placed with `at()` keeps its position; the flow goes on below the lowest panel.
    """
    out, x, line_h, low = [], 0, 0, y
    for p in panels:
        if isinstance(p, Placed):
            out.append((p.panel, p.x, p.y))
            low = max(low, p.y + p.panel.gridPos.h)
            continue
        w, h = p.gridPos.w, p.gridPos.h
        if x + w > GRID_COLUMNS:
            x, y, line_h = 0, y + line_h, 0
        out.append((p, x, y))
        x += w
        line_h = max(line_h, h)
    return out, max(y + line_h, low)


def layout(rows: Sequence[Row]) -> list:
    """Row panels followed by their panels, flowed left to right on the 24-column grid."""
    out, y = [], 0
    for r in rows:
        if r.title is None or r.collapsed or r.extra:
            raise ValueError(f"row {r.title!r}: untitled, collapsed or extra-keyed rows need p.imported_dashboard")
        out.append(g.RowPanel(title=r.title, gridPos=g.GridPos(h=1, w=GRID_COLUMNS, x=0, y=y)))
        placed, y = _flow(r.panels, y + 1)
        out.extend(attr.evolve(p, gridPos=g.GridPos(h=p.gridPos.h, w=p.gridPos.w, x=x, y=py)) for p, x, py in placed)
    return out


def dashboard(
    cfg: Config,
    uid: str,
    title: str,
    description: str,
    rows: Sequence[Row],
    *,
    variables: Sequence[g.Template] = (),
    tags: Sequence[str] = (),
) -> g.Dashboard:
    """A dashboard of the project: its tag (`cfg.tag`) first, datasource variable first, a
    link bar to its siblings (the dashboards with that tag), time range and refresh from the config."""
    return g.Dashboard(
        title=title,
        uid=uid,
        description=description,
        tags=[cfg.tag, *tags],
        timezone="browser",
        graphTooltip=1,  # shared crosshair
        refresh=cfg.refresh,
        time=g.Time(cfg.time_from, "now"),
        templating=g.Templating([datasource_variable(), *variables]),
        links=[
            g.DashboardLink(
                title=cfg.name,
                type="dashboards",
                tags=[cfg.tag],
                asDropdown=False,
                includeVars=False,
                keepTime=True,
                icon="external link",
                tooltip=f"Other {cfg.name} dashboards",
            )
        ],
        panels=layout(rows),
        annotations=g.Annotations(
            list=[
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        ),
    )


# --- imported dashboards (`dashgen import`) -------------------------------------------------


@attr.s
class RawPanel:
    """A panel kept as Grafana JSON, for what the factories above cannot express."""

    json: dict = attr.ib()
    gridPos: g.GridPos = attr.ib()

    def to_json_data(self) -> dict:
        if "gridPos" not in self.json:  # Grafana places it; so do we not
            return dict(self.json)
        return {**self.json, "gridPos": {**self.json["gridPos"], **self.gridPos.to_json_data()}}


def merged(base: dict, changes: dict) -> dict:
    """`base` with `changes` merged in: objects merge key by key, any other value (a list too)
    replaces the old one, and None removes the key (dashboard JSON keeps no nulls)."""
    out = dict(base)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merged(out[k], v)
        else:
            out[k] = v
    return out


def override(panel, changes: dict) -> RawPanel:
    """A factory panel with a few JSON keys changed (`merged`): how `dashgen import` writes a
    panel that is house style but for a detail or two, instead of keeping all of it raw."""
    return RawPanel(merged(panel_json(panel), changes), panel.gridPos)


def raw(panel: dict):
    """A panel as Grafana JSON, unchanged. Its gridPos gives w and h; with x and y too, the
    panel stays there (`at`) instead of joining the left-to-right flow."""
    grid = panel.get("gridPos") or {}
    made = RawPanel(dict(panel), g.GridPos(h=grid.get("h", 8), w=grid.get("w", 12), x=0, y=0))
    return at(grid["x"], grid["y"], made) if "x" in grid and "y" in grid else made


@dataclass
class Placed:
    """A panel at a fixed grid position instead of the left-to-right flow."""

    x: int
    y: int
    panel: object


def at(x: int, y: int, panel) -> Placed:
    return Placed(x, y, panel)


def panel_json(panel) -> dict:
    """A factory panel (or `raw()` panel) as the JSON a dashboard holds."""
    if isinstance(panel, RawPanel):
        return panel.to_json_data()
    from generator.render import grafanalib_panel_json  # render imports the definitions' world

    return grafanalib_panel_json(panel)


def imported_dashboard(settings: dict, rows: Sequence[Row]) -> dict:
    """A dashboard adopted by `dashgen import`: its own settings (everything but the panels)
    kept as they were, and its rows laid out as in the original."""
    panels, y = [], 0
    for r in rows:
        row_panel = None
        if r.title is not None:
            row_panel = {"type": "row", "title": r.title, "collapsed": r.collapsed,
                         "gridPos": {"h": 1, "w": GRID_COLUMNS, "x": 0, "y": y}, "panels": [], **r.extra}
            panels.append(row_panel)
            y = row_panel["gridPos"]["y"] + 1
        placed, bottom = _flow(r.panels, y)
        children = []
        for p, x, py in placed:
            data = panel_json(p)
            if "gridPos" in data:
                data = {**data, "gridPos": {**data["gridPos"], "x": x, "y": py}}
            children.append(data)
        if row_panel is not None and r.collapsed:
            row_panel["panels"] = children
        else:
            panels.extend(children)
            y = bottom
    return {**settings, "panels": panels}
