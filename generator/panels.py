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
from generator.normalize import GRID_COLUMNS, PROMETHEUS_DS, target_from_grafanalib

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
        return {**super().to_json_data(), **self.extra}


def target(expr: str, legend: str = "", *, instant: bool = False, fmt: str = "time_series", **extra) -> g.Target:
    if extra:
        return _Target(expr=expr, legendFormat=legend, instant=instant, format=fmt, datasource=PROMETHEUS_DS,
                       extra=extra)
    return g.Target(expr=expr, legendFormat=legend, instant=instant, format=fmt, datasource=PROMETHEUS_DS)


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
    changes.update(_panel_keys(panel_keys))
    return _changed(base, changes, datasource)


#: Panel settings every kind has, as factory keywords (repeat="instance", max_per_row=4, ...).
PANEL_KEYWORDS = {"repeat": "repeat", "repeat_direction": "repeatDirection", "max_per_row": "maxPerRow",
                  "max_data_points": "maxDataPoints", "interval": "interval", "time_from": "timeFrom",
                  "time_shift": "timeShift", "hide_time_override": "hideTimeOverride", "transparent": "transparent"}


def _panel_keys(given: dict) -> dict:
    unknown = sorted(set(given) - set(PANEL_KEYWORDS))
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(unknown)}")
    return {PANEL_KEYWORDS[k]: v for k, v in given.items()}


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
    return _changed(base, {**({"links": list(links)} if links else {}), **_panel_keys(panel_keys)}, datasource)


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
          overrides: Sequence[dict] = ()) -> RawPanel:
    """One number on a dial from `min` to `max`, coloured by its thresholds, marked on the rim."""
    return _dial("gauge", stat(title, description, targets, unit, thresholds, w=w, h=h, reduce=reduce,
                               min=min, max=max, decimals=decimals, mappings=mappings, datasource=datasource,
                               overrides=overrides),
                 {"orientation": "auto", "showThresholdLabels": False, "showThresholdMarkers": True,
                  "sizing": "auto", "minVizHeight": 75, "minVizWidth": 75})


def bargauge(title: str, description: str, targets, unit: str, thresholds: list[dict], *, w: int = 12,
             h: int = 8, reduce: str = "lastNotNull", min: float | None = None,
             max: float | None = None, decimals: int | None = None, datasource: dict | None = None,
             overrides: Sequence[dict] = ()) -> RawPanel:
    """One horizontal bar per series, from `min` to `max`, coloured by the thresholds."""
    return _dial("bargauge", stat(title, description, targets, unit, thresholds, w=w, h=h, reduce=reduce,
                                  min=min, max=max, decimals=decimals, datasource=datasource, overrides=overrides),
                 {"displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True,
                  "valueMode": "color", "namePlacement": "auto", "sizing": "auto",
                  "minVizHeight": 16, "minVizWidth": 8, "maxVizHeight": 300})


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
    hide: Sequence[str] = ("Time",),
    datasource: dict | None = None,
) -> g.Table | RawPanel:
    """An instant-query table; `columns` renames fields (label or `Value #X`) for reading.

    The unit and thresholds apply to every number column, so keep one kind of number per table.
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
    return _changed(g.Table(
        title=title,
        description=description,
        dataSource=PROMETHEUS_DS,
        targets=targets,
        unit=unit,
        thresholds=thresholds,
        thresholdType="absolute",
        transformations=transformations,
        sortBy=[g.TableSortByField(displayName=sort_by, desc=True)] if sort_by else [],
        gridPos=_size(w, h),
        extraJson={"options": {"cellHeight": "sm", "footer": {"show": False, "reducer": ["sum"]}}},
    ), {}, datasource)


def heatmap(title: str, description: str, targets, unit: str, *, w: int = 12, h: int = 8,
            datasource: dict | None = None) -> g.Heatmap | RawPanel:
    """A heatmap of pre-bucketed histogram data (format=heatmap, le buckets on the y axis)."""
    return _changed(g.Heatmap(
        title=title,
        description=description,
        dataSource=PROMETHEUS_DS,
        targets=_targets(targets),
        gridPos=_size(w, h),
        options={
            "calculate": False,
            "cellGap": 1,
            "color": {"mode": "scheme", "scheme": "Oranges", "scale": "exponential", "exponent": 0.5,
                      "steps": 64, "fill": "dark-orange", "reverse": False},
            "yAxis": {"axisPlacement": "left", "unit": unit, "reverse": False},
            "rowsFrame": {"layout": "auto"},
            "tooltip": {"mode": "single", "yHistogram": True, "showColorScale": False},
            "legend": {"show": True},
            "filterValues": {"le": 1e-9},
            "cellValues": {"unit": "short"},
            "exemplars": {"color": "rgba(255,0,255,0.7)"},
        },
        extraJson={"fieldConfig": {"defaults": {"unit": unit}}},
    ), {}, datasource)


TEXT_MODES = ("markdown", "html", "code")


def _target_json(t: g.Target) -> dict:
    """A target as a panel holds it: grafanalib's legacy query keys left out, `p.target`'s extra ones kept."""
    return {**target_from_grafanalib(g.Target.to_json_data(t)), **json.loads(json.dumps(getattr(t, "extra", {})))}


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
            "gridPos": {"h": h, "w": w, "x": 0, "y": 0}, **_panel_keys(panel_keys)}
    if targets:
        items = [targets] if isinstance(targets, (str, dict, g.Target)) else list(targets)
        # a dict is a query as Grafana JSON (another kind of data source), kept as it is
        data["targets"] = [t if isinstance(t, dict) else _target_json(_targets(t)[0]) for t in items]
    return _changed(RawPanel(data, _size(w, h)), {}, datasource)


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
