"""Classic dashboard JSON -> v2 dashboard spec, with a report of what does not survive.

The input is normalised first (generator.normalize), so old row-based dashboards are migrated
to the grid and data source names become references; every path in the report points into
`normalize_dashboard(classic)`. See docs/v2-dashboards.md for what maps to what.
"""

from __future__ import annotations

import json
from typing import Any

from generator.dashv2 import fields as F
from generator.dashv2.layout import GRID_COLUMNS, ROW_HEIGHT, Placed, Row, flatten
from generator.dashv2.report import Report, join
from generator.dashv2.schema import NoFit, definitions, fit, fit_property
from generator.normalize import SCHEMA_VERSION, normalize_dashboard

VARIABLE_ENUMS = {"hide": F.VARIABLE_HIDE, "refresh": F.VARIABLE_REFRESH, "sort": F.VARIABLE_SORT}
DASHBOARD_KEYS = {"title", "uid", "graphTooltip", "time", "timepicker", "links", "panels", "templating",
                  "annotations", "schemaVersion"} | {f.classic for f in (*F.DASHBOARD_FIELDS, *F.TIME_FIELDS)}
ROW_KEYS = {"type", "id", "title", "collapsed", "gridPos", "panels", "repeat"}
LIBRARY_PANEL_KEYS = {"id", "title", "gridPos", "libraryPanel", "repeat", "repeatDirection", "maxPerRow"}
ANNOTATION_KEYS = {"datasource", "target", "builtIn", "filter", "mappings"} | {f.classic for f in F.ANNOTATION_FIELDS}


def to_v2(classic: dict) -> tuple[dict, Report]:
    """The v2 spec of a classic dashboard, and the report of what it could not carry.

    Raises generator.normalize.DashboardInputError for a dashboard Grafana could not load
    either. The uid is not part of a v2 spec (it is the resource's metadata.name)."""
    board = normalize_dashboard(classic)
    conv = _ToV2(Report("classic -> v2"))
    return conv.dashboard(board), conv.report


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class _ToV2:
    def __init__(self, report: Report):
        self.report = report

    def dropper(self, subject: str):
        return lambda path, reason: self.report.lost(path, subject, reason)

    # --- plain fields ----------------------------------------------------------------------

    def fields(self, src: dict, dst: dict, table, path: str, definition: str, subject: str,
               enums: dict | None = None) -> None:
        """Copy `table`'s fields from classic `src` into v2 `dst`, naming every one whose
        spelling will not survive; required v2 fields missing from `src` get Grafana's default,
        optional ones spelled as the default (weekStart "") are left out."""
        enums = enums or {}
        required = definitions()[definition].get("required", ())
        for f in table:
            where = join(path, f.classic)
            value = src.get(f.classic)
            if f.classic not in src or (f.rule == F.UNLESS_DEFAULT and F.is_default(value, f.default)):
                if f.classic in src:
                    self.report.changed(where, subject, "Grafana's default spelled out; left out on the way back")
                elif f.rule == F.ALWAYS:
                    self.report.changed(where, subject, f"absent; comes back spelled out as {_dumps(f.default)}")
                if f.v2 in required:
                    dst[f.v2] = self.v2_value(f, f.default, enums)
                continue
            try:
                dst[f.v2] = fit_property(self.v2_value(f, value, enums), definition, f.v2, where,
                                         self.dropper(subject))
            except NoFit as exc:
                self.report.lost(where, subject, f"{_dumps(value)} does not fit the v2 model ({exc})")
                if f.v2 in required:
                    dst[f.v2] = self.v2_value(f, f.default, enums)

    @staticmethod
    def v2_value(f: F.Emit, value: Any, enums: dict) -> Any:
        table = enums.get(f.v2)
        if table is None:
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value not in table:
            raise NoFit(f"not one of {sorted(table)}")
        return table[value]

    def as_list(self, src: dict, key: str, path: str, subject: str) -> list:
        """`src[key]` when it is a list (empty when absent); anything else is reported as lost."""
        value = src.get(key)
        if value is None or isinstance(value, list):
            return value or []
        self.report.lost(join(path, key), subject, "must be a list")
        return []

    def extra_keys(self, src: dict, known, path: str, subject: str, reason: str = "the v2 model has no such field"):
        for k in src:
            if k not in known:
                self.report.lost(join(path, k), subject, reason)

    # --- dashboard -------------------------------------------------------------------------

    def dashboard(self, d: dict) -> dict:
        spec: dict = {"title": d.get("title", "")}
        if "title" not in d:
            self.report.changed("title", "dashboard", 'absent; comes back as ""')
        self.fields(d, spec, F.DASHBOARD_FIELDS, "", "Dashboard", "dashboard")
        tooltip = d.get("graphTooltip")
        if isinstance(tooltip, int) and not isinstance(tooltip, bool) and tooltip in F.CURSOR_SYNC:
            spec["cursorSync"] = F.CURSOR_SYNC[tooltip]
        else:
            spec["cursorSync"] = "Off"
            self.report.changed("graphTooltip", "dashboard", f"{_dumps(tooltip) if 'graphTooltip' in d else 'absent'}"
                                "; comes back as 0 (no shared crosshair)")
        spec["timeSettings"] = self.time_settings(d)
        spec["links"] = self.links(self.as_list(d, "links", "", "dashboard"))
        spec["elements"], spec["layout"] = self.panels(d.get("panels") or [])
        templating = d.get("templating") or {}
        self.extra_keys(templating, {"list"}, "templating", "dashboard")
        spec["variables"] = self.variables(templating.get("list") or [])
        annotations = d.get("annotations") or {}
        self.extra_keys(annotations, {"list"}, "annotations", "dashboard")
        spec["annotations"] = self.annotations(annotations.get("list") or [])
        if d.get("schemaVersion") != SCHEMA_VERSION:
            self.report.changed("schemaVersion", "dashboard", f"{d.get('schemaVersion')} comes back as "
                                f"{SCHEMA_VERSION}: a v2 dashboard is always of the latest schema")
        self.extra_keys(d, DASHBOARD_KEYS, "", "dashboard")
        return spec

    def time_settings(self, d: dict) -> dict:
        ts: dict = {}
        time = d.get("time")
        if isinstance(time, dict):
            for k in ("from", "to"):
                if isinstance(time.get(k), str):
                    ts[k] = time[k]
                else:
                    self.report.changed(join("time", k), "dashboard", f"comes back as {F.DEFAULT_TIME[k]!r}")
            self.extra_keys(time, {"from", "to"}, "time", "dashboard")
        else:
            self.report.changed("time", "dashboard", "comes back as now-6h to now")
        for k, v in F.DEFAULT_TIME.items():
            ts.setdefault(k, v)
        self.fields(d, ts, F.TIME_FIELDS, "", "TimeSettingsSpec", "dashboard")
        picker = d.get("timepicker")
        if picker is not None and not isinstance(picker, dict):
            self.report.lost("timepicker", "dashboard", "not an object")
            picker = None
        if picker is None:
            self.report.changed("timepicker", "dashboard", "absent; comes back with Grafana's default "
                                                           "refresh_intervals")
            picker = {"refresh_intervals": F.DEFAULT_REFRESH_INTERVALS}
        self.fields(picker, ts, F.TIMEPICKER_FIELDS, "timepicker", "TimeSettingsSpec", "dashboard")
        self.extra_keys(picker, {f.classic for f in F.TIMEPICKER_FIELDS}, "timepicker", "dashboard")
        return ts

    def links(self, links: list) -> list:
        out = []
        for i, link in enumerate(links):
            path = join("links", i)
            if not isinstance(link, dict):
                self.report.lost(path, "dashboard", "a link must be an object")
                continue
            subject = f"link {link.get('title', '')!r}"
            v2: dict = {}
            self.fields(link, v2, F.LINK_FIELDS, path, "DashboardLink", subject)
            self.extra_keys(link, {f.classic for f in F.LINK_FIELDS}, path, subject)
            out.append(v2)
        return out

    # --- panels and layout -----------------------------------------------------------------

    def panels(self, panels: list) -> tuple[dict, dict]:
        elements: dict = {}
        if not any(p.get("type") == "row" for p in panels):
            items = [self.item(p, join("panels", i), 0, elements) for i, p in enumerate(panels)]
            layout = {"kind": "GridLayout", "spec": {"items": items}}
        else:
            rows: list = []
            current, base = None, 0
            for i, p in enumerate(panels):
                path = join("panels", i)
                if p.get("type") == "row":
                    current, base = self.row(p, path, elements), _row_y(p) + ROW_HEIGHT
                    rows.append(current)
                    continue
                if current is None:  # panels above the first row: a row without header
                    current = {"kind": "RowsLayoutRow", "spec": {
                        "title": "", "collapse": False, "hideHeader": True,
                        "layout": {"kind": "GridLayout", "spec": {"items": []}}}}
                    rows.append(current)
                current["spec"]["layout"]["spec"]["items"].append(self.item(p, path, base, elements))
            layout = {"kind": "RowsLayout", "spec": {"rows": rows}}
        self.check_positions(panels, layout)
        return elements, layout

    def row(self, p: dict, path: str, elements: dict) -> dict:
        subject = f"row {p.get('title', '')!r}"
        spec: dict = {}
        if isinstance(p.get("title"), str):
            spec["title"] = p["title"]
        spec["collapse"] = bool(p.get("collapsed"))
        if p.get("collapsed") not in (True, False):
            self.report.changed(join(path, "collapsed"), subject, f"comes back as {_dumps(spec['collapse'])}")
        if p.get("repeat"):
            if isinstance(p["repeat"], str):
                spec["repeat"] = {"mode": "variable", "value": p["repeat"]}
            else:
                self.report.lost(join(path, "repeat"), subject, "a repeat names a variable")
        self.extra_keys(p, ROW_KEYS, path, subject, "a v2 row has no such field")
        base = _row_y(p) + ROW_HEIGHT
        items = [self.item(c, join(path, "panels", j), base, elements)
                 for j, c in enumerate(p.get("panels") or [])]
        spec["layout"] = {"kind": "GridLayout", "spec": {"items": items}}
        return {"kind": "RowsLayoutRow", "spec": spec}

    def item(self, p: dict, path: str, base: int, elements: dict) -> dict:
        name = f"panel-{p['id']}"
        subject = _panel_subject(p)
        elements[name] = self.element(p, path, subject)
        pos = p.get("gridPos") if isinstance(p.get("gridPos"), dict) else {}
        spec = {"x": int(pos.get("x", 0)), "y": int(pos.get("y", 0)) - base,
                "width": int(pos.get("w", 0)), "height": int(pos.get("h", 0)),
                "element": {"kind": "ElementReference", "name": name}}
        repeat = p.get("repeat")
        if isinstance(repeat, str) and repeat:
            spec["repeat"] = {"mode": "variable", "value": repeat}
            if p.get("repeatDirection") in ("h", "v"):
                spec["repeat"]["direction"] = p["repeatDirection"]
            elif "repeatDirection" in p:
                self.report.lost(join(path, "repeatDirection"), subject, 'a repeat direction is "h" or "v"')
            if "maxPerRow" in p:
                per_row = p["maxPerRow"]
                if isinstance(per_row, int) and not isinstance(per_row, bool) and per_row > 0:
                    spec["repeat"]["maxPerRow"] = per_row
                else:
                    self.report.lost(join(path, "maxPerRow"), subject, "maxPerRow must be a positive integer")
        else:
            if "repeat" in p:
                self.report.lost(join(path, "repeat"), subject, "a repeat names a variable")
            for k in ("repeatDirection", "maxPerRow"):
                if k in p:
                    self.report.lost(join(path, k), subject,
                                     "no effect without a repeat; v2 holds it only with one")
        return {"kind": "GridLayoutItem", "spec": spec}

    def element(self, p: dict, path: str, subject: str) -> dict:
        if isinstance(p.get("libraryPanel"), dict):
            return self.library_panel(p, path, subject)
        if "libraryPanel" in p:
            self.report.lost(join(path, "libraryPanel"), subject, "a library panel reference is an object")
        spec: dict = {"id": p["id"], "title": p.get("title", "")}
        if p.get("title") == "":
            self.report.changed(join(path, "title"), subject, "an empty title is left out")
        spec["description"] = p.get("description", "")
        if not isinstance(spec["description"], str):
            self.report.lost(join(path, "description"), subject, "a description is a string")
            spec["description"] = ""
        spec["links"] = self.fit_list(self.as_list(p, "links", path, subject), "DataLink", join(path, "links"), subject)
        if "transparent" in p:
            try:
                spec["transparent"] = fit_property(p["transparent"], "PanelSpec", "transparent",
                                                   join(path, "transparent"), self.dropper(subject))
            except NoFit:
                self.report.lost(join(path, "transparent"), subject, "transparent is true or false")
        spec["data"] = {"kind": "QueryGroup", "spec": self.query_group(p, path, subject)}
        spec["vizConfig"] = self.viz_config(p, path, subject)
        return {"kind": "Panel", "spec": spec}

    def library_panel(self, p: dict, path: str, subject: str) -> dict:
        lib = p["libraryPanel"]
        ref = {}
        for k in ("name", "uid"):
            if isinstance(lib.get(k), str):
                ref[k] = lib[k]
            else:
                ref[k] = ""
                self.report.changed(join(path, "libraryPanel", k), subject, 'comes back as ""')
        self.extra_keys(lib, {"name", "uid"}, join(path, "libraryPanel"), subject)
        # normalize_dashboard gives every panel an empty field config; that is no model to lose
        copy = {k: v for k, v in p.items() if not (k == "fieldConfig" and v == {"defaults": {}, "overrides": []})}
        self.extra_keys(copy, LIBRARY_PANEL_KEYS, path, subject,
                        "a library panel's model lives in the library; the dashboard's copy is not kept")
        if "title" not in p:
            self.report.changed(join(path, "title"), subject, 'absent; comes back as ""')
        return {"kind": "LibraryPanel", "spec": {"id": p["id"], "title": p.get("title", ""), "libraryPanel": ref}}

    def fit_list(self, items: list, definition: str, path: str, subject: str) -> list:
        out = []
        for i, x in enumerate(items):
            try:
                out.append(fit(x, definition, join(path, i), self.dropper(subject)))
            except NoFit as exc:
                self.report.lost(join(path, i), subject, f"does not fit the v2 model ({exc})")
        return out

    def query_group(self, p: dict, path: str, subject: str) -> dict:
        queries, refs = [], []
        for i, t in enumerate(p.get("targets") or []):
            query, ref = self.query(t, join(path, "targets", i), subject)
            queries.append(query)
            refs.append(ref)
        expected = F.panel_datasource(refs)
        if expected != p.get("datasource"):
            self.report.changed(join(path, "datasource"), subject,
                                "v2 keeps data sources on queries only; comes back as "
                                f"{_dumps(expected) if expected else 'none'}")
        transformations = []
        for i, t in enumerate(self.as_list(p, "transformations", path, subject)):
            where = join(path, "transformations", i)
            if not isinstance(t, dict):
                self.report.lost(where, subject, "a transformation is an object")
                continue
            tid = t.get("id")
            if not isinstance(tid, str):
                self.report.changed(join(where, "id"), subject, 'comes back as ""')
                tid = ""
            body = {k: v for k, v in t.items() if k != "id"}
            if "options" not in body:
                self.report.changed(join(where, "options"), subject, "absent; comes back as {}")
                body["options"] = {}
            try:
                body = fit(body, "TransformationSpec", where, self.dropper(subject))
            except NoFit as exc:
                self.report.lost(where, subject, f"does not fit the v2 model ({exc})")
                continue
            transformations.append({"kind": "Transformation", "group": tid, "spec": body})
        options: dict = {}
        for k in F.QUERY_OPTIONS:
            if k in p:
                try:
                    options[k] = fit_property(p[k], "QueryOptionsSpec", k, join(path, k), self.dropper(subject))
                except NoFit as exc:
                    self.report.lost(join(path, k), subject, f"{_dumps(p[k])} does not fit the v2 model ({exc})")
        return {"queries": queries, "transformations": transformations, "queryOptions": options}

    def query(self, t: dict, path: str, subject: str) -> tuple[dict, dict | None]:
        group, name = self.datasource(t.get("datasource"), join(path, "datasource"), subject)
        hidden = t.get("hide", False)
        if not isinstance(hidden, bool):
            self.report.changed(join(path, "hide"), subject, f"{_dumps(hidden)} comes back as "
                                f"{'true' if hidden else 'absent'}")
            hidden = bool(hidden)
        query = {"kind": "DataQuery", "group": group, "version": "v0",
                 "spec": {k: v for k, v in t.items() if k not in ("refId", "hide", "datasource")}}
        if name:
            query["datasource"] = {"name": name}
        return {"kind": "PanelQuery", "spec": {"query": query, "refId": t["refId"], "hidden": hidden}}, \
            F.classic_ref(group, name)

    def datasource(self, ds: Any, path: str, subject: str) -> tuple[str, str | None]:
        """A classic data source reference as a DataQuery's group (type) and datasource name (uid)."""
        if ds is None:
            return "", None
        if isinstance(ds, str):
            self.report.changed(path, subject, f"a data source named by a string comes back as {{\"uid\": {ds!r}}}")
            return "", ds
        if not isinstance(ds, dict):
            self.report.lost(path, subject, "a data source reference is an object")
            return "", None
        group = ds.get("type") if isinstance(ds.get("type"), str) else ""
        name = ds.get("uid") if isinstance(ds.get("uid"), str) else None
        back = F.classic_ref(group, name) or {}
        for k in ds:
            if k not in back or back[k] != ds[k]:
                self.report.lost(join(path, k), subject, "a v2 data source reference holds a type and a uid")
        return group, name

    def viz_config(self, p: dict, path: str, subject: str) -> dict:
        plugin = p.get("type", "")
        if not isinstance(plugin, str):
            self.report.lost(join(path, "type"), subject, "a panel type is a string")
            plugin = ""
        options = p.get("options", {})
        if not isinstance(options, dict):
            self.report.lost(join(path, "options"), subject, "v2 panel options are an object")
            options = {}
        options = dict(options)
        unknown = {k: v for k, v in p.items() if k not in F.PANEL_KEYS}
        if unknown and F.ANGULAR_MIGRATION in options:
            self.extra_keys(unknown, (), path, subject, f"no v2 field, and options.{F.ANGULAR_MIGRATION} is taken")
        elif unknown:
            options[F.ANGULAR_MIGRATION] = {"autoMigrateFrom": plugin, "originalOptions": unknown}
            for k in unknown:
                self.report.kept(join(path, k), subject,
                                 f"no v2 field; kept in options.{F.ANGULAR_MIGRATION} as Grafana does")
        source = p.get("fieldConfig", {"defaults": {}, "overrides": []})
        try:
            fc = fit(source, "FieldConfigSource", join(path, "fieldConfig"), self.dropper(subject))
        except NoFit as exc:
            self.report.lost(join(path, "fieldConfig"), subject, f"does not fit the v2 model ({exc})")
            fc = {"defaults": {}, "overrides": []}
        if plugin == "text" and "fieldConfig" in p and fc == {"defaults": {}, "overrides": []}:
            self.report.changed(join(path, "fieldConfig"), subject, "an empty field config is left out on "
                                                                    "the way back")
        return {"kind": "VizConfig", "group": plugin, "version": p.get("pluginVersion", ""),
                "spec": {"options": options, "fieldConfig": fc}}

    # --- variables and annotations ---------------------------------------------------------

    def variables(self, variables: list) -> list:
        out = []
        for i, v in enumerate(variables):
            path = join("templating", "list", i)
            subject = f"variable {v.get('name', '')!r}"
            kind = F.CLASSIC_VARIABLE_KINDS.get(v["type"]) if isinstance(v.get("type"), str) else None
            if kind is None:
                self.report.lost(path, subject, f"variable type {v.get('type')!r} has no v2 kind")
                self.report.changed(join("templating", "list"), "dashboard", "the variables after it move up")
                continue
            out.append(self.variable(v, v["type"], kind, path, subject))
        return out

    def variable(self, v: dict, typ: str, kind: str, path: str, subject: str) -> dict:
        spec: dict = {}
        self.fields(v, spec, F.VARIABLE_FIELDS[typ], path, f"{kind}Spec", subject, VARIABLE_ENUMS)
        known = {f.classic for f in F.VARIABLE_FIELDS[typ]} | F.VARIABLE_SPECIAL.get(typ, {"type"})
        self.extra_keys(v, known, path, subject, f"a v2 {kind} has no such field")
        out = {"kind": kind, "spec": spec}
        if typ == "query":
            group, name = self.datasource(v.get("datasource"), join(path, "datasource"), subject)
            query = v.get("query")
            if isinstance(query, str):
                body = {F.LEGACY_STRING_VALUE: query}
            elif isinstance(query, dict):
                body = dict(query)
                if not query:
                    self.report.changed(join(path, "query"), subject, "an empty query is left out")
            else:
                if "query" in v:
                    self.report.lost(join(path, "query"), subject, "a query is a string or an object")
                body = {}
            spec["query"] = {"kind": "DataQuery", "group": group, "version": "v0", "spec": body}
            if name:
                spec["query"]["datasource"] = {"name": name}
        elif typ in ("adhoc", "groupby"):
            group, name = self.datasource(v.get("datasource"), join(path, "datasource"), subject)
            out = {"kind": kind, "group": group, **({"datasource": {"name": name}} if name else {}), "spec": spec}
        elif typ == "switch":
            options = [o for o in v.get("options") or [] if isinstance(o, dict)]
            values = [str(o.get("value", o.get("text", ""))) for o in options]
            spec["enabledValue"] = values[0] if values and values[0] else "true"
            spec["disabledValue"] = values[1] if len(values) > 1 and values[1] else "false"
            current = v.get("current") if isinstance(v.get("current"), dict) else {}
            spec["current"] = str(current.get("value") or spec["disabledValue"])
            back = F.switch_classic(spec)
            for k in ("current", "options", "query"):
                if v.get(k) != back[k]:
                    self.report.changed(join(path, k), subject, "a v2 switch holds its two values and the current "
                                                                f"one; comes back as {_dumps(back[k])}")
        return out

    def annotations(self, annotations: list) -> list:
        out = []
        for i, a in enumerate(annotations):
            path = join("annotations", "list", i)
            subject = f"annotation {a.get('name', '')!r}"
            spec: dict = {}
            self.fields(a, spec, F.ANNOTATION_FIELDS, path, "AnnotationQuerySpec", subject)
            group, name = self.datasource(a.get("datasource"), join(path, "datasource"), subject)
            target = a.get("target", {})
            if not isinstance(target, dict):
                self.report.lost(join(path, "target"), subject, "a target is an object")
                target = {}
            elif "target" in a and not target:
                self.report.changed(join(path, "target"), subject, "an empty target is left out")
            spec["query"] = {"kind": "DataQuery", "group": group, "version": "v0", "spec": dict(target)}
            if name:
                spec["query"]["datasource"] = {"name": name}
            if "builtIn" in a:
                built_in = a["builtIn"]
                spec["builtIn"] = bool(built_in)
                if built_in not in (0, 1) or isinstance(built_in, bool):
                    self.report.changed(join(path, "builtIn"), subject,
                                        f"{_dumps(built_in)} comes back as {int(bool(built_in))}")
            if "filter" in a:
                try:
                    spec["filter"] = fit(a["filter"], "AnnotationPanelFilter", join(path, "filter"),
                                         self.dropper(subject))
                except NoFit as exc:
                    self.report.lost(join(path, "filter"), subject, f"does not fit the v2 model ({exc})")
            if isinstance(a.get("mappings"), dict):
                spec["mappings"] = self.annotation_mappings(a["mappings"], join(path, "mappings"), subject)
            elif "mappings" in a:
                self.report.lost(join(path, "mappings"), subject, "mappings are an object")
            legacy = {k: v for k, v in a.items() if k not in ANNOTATION_KEYS}
            if legacy:
                spec["legacyOptions"] = legacy
                for k in legacy:
                    self.report.kept(join(path, k), subject, "no v2 field; kept in legacyOptions as Grafana does")
            out.append({"kind": "AnnotationQuery", "spec": spec})
        return out

    def annotation_mappings(self, mappings: dict, path: str, subject: str) -> dict:
        out = {}
        for k, m in mappings.items():
            where = join(path, k)
            if isinstance(m, str):
                out[k] = {"source": "field", "value": m}
                self.report.changed(where, subject, f'comes back as {{"source": "field", "value": {m!r}}}')
                continue
            try:
                out[k] = fit(m, "AnnotationEventFieldMapping", where, self.dropper(subject))
            except NoFit as exc:
                self.report.lost(where, subject, f"does not fit the v2 model ({exc})")
        return out

    def check_positions(self, panels: list, layout: dict) -> None:
        """Name every grid position and grouping the v2 layout will give back differently."""
        placed = flatten(layout, Report("scratch"))
        want = _skeleton_of_placed(placed)
        have = _skeleton_of_panels(panels)
        if [w[0] for w in want] != [h[0] for h in have]:
            self.report.changed("panels", "layout", "the panels' grouping into rows changes: panels below a "
                                                    "collapsed row join it")
            return
        for (_, w_pos, w_children), (_, path, h_pos, h_children, p) in zip(want, have):
            self.compare_pos(path, p, h_pos, w_pos)
            for (c_path, c_pos, c), (_, w_c_pos) in zip(h_children, w_children):
                self.compare_pos(c_path, c, c_pos, w_c_pos)

    def compare_pos(self, path: str, p: dict, have: Any, want: dict) -> None:
        subject = _panel_subject(p) if p.get("type") != "row" else f"row {p.get('title', '')!r}"
        where = join(path, "gridPos")
        if not isinstance(have, dict):
            self.report.changed(where, subject, f"absent; comes back as {_dumps(want)}")
            return
        for k in sorted(set(have) | set(want)):
            if k not in want:
                self.report.lost(join(where, k), subject, "a v2 grid position has x, y, width and height only")
            elif have.get(k) != want[k] or type(have.get(k)) is not type(want[k]):
                reason = ("a row is one unit high and spans the grid" if p.get("type") == "row" and k != "y"
                          else "rows are stacked one below the other and panels placed relative to their row")
                self.report.changed(join(where, k), subject,
                                    f"{_dumps(have.get(k)) if k in have else 'absent'} comes back as {want[k]}: "
                                    f"{reason}")


def _row_y(p: dict) -> int:
    pos = p.get("gridPos") if isinstance(p.get("gridPos"), dict) else {}
    return int(pos.get("y", 0))


def _panel_subject(p: dict) -> str:
    title = p.get("title")
    return f"panel {p.get('id')} {title!r}" if title else f"panel {p.get('id')}"


def _pos(p: Placed) -> dict:
    return {"x": p.x, "y": p.y, "w": p.w, "h": p.h}


def _row_pos(r: Row) -> dict:
    return {"x": 0, "y": r.y, "w": GRID_COLUMNS, "h": ROW_HEIGHT}


def _skeleton_of_placed(placed: list) -> list:
    out = []
    for p in placed:
        if isinstance(p, Row):
            out.append((("row", tuple(c.name for c in p.children)), _row_pos(p),
                        [(c.name, _pos(c)) for c in p.children]))
        else:
            out.append((p.name, _pos(p), []))
    return out


def _skeleton_of_panels(panels: list) -> list:
    out = []
    for i, p in enumerate(panels):
        path = join("panels", i)
        if p.get("type") == "row":
            children = p.get("panels") or []
            out.append((("row", tuple(f"panel-{c['id']}" for c in children)), path, p.get("gridPos"),
                        [(join(path, "panels", j), c.get("gridPos"), c) for j, c in enumerate(children)], p))
        else:
            out.append((f"panel-{p['id']}", path, p.get("gridPos"), [], p))
    return out


__all__ = ["to_v2"]
