"""v2 dashboard spec -> classic dashboard JSON, with a report of what the classic model cannot hold.

Reads the v2 spec (dashboard.grafana.app/v2) and its predecessor v2beta1 (transformations
spelled `{kind: <id>, spec: {id, ...}}`), and the v2alpha1 spelling of data sources and
visualisations (`{kind: <type>}`, data source references beside the query). The layout is laid
out on the classic grid as generator.dashv2.layout describes; what the grid cannot show is
reported. The result is a classic dashboard; pass it through normalize_dashboard like any other.
"""

from __future__ import annotations

from typing import Any

from generator.dashv2 import fields as F
from generator.dashv2.layout import GRID_COLUMNS, ROW_HEIGHT, Placed, Row, flatten
from generator.dashv2.report import Report, join
from generator.normalize import SCHEMA_VERSION, DashboardInputError, check_depth

_BACK = {name: {v: k for k, v in table.items()} for name, table in
         (("hide", F.VARIABLE_HIDE), ("refresh", F.VARIABLE_REFRESH), ("sort", F.VARIABLE_SORT))}
_CURSOR_BACK = {v: k for k, v in F.CURSOR_SYNC.items()}
_TYPE_NAMES = {str: "a string", list: "a list", bool: "true or false", dict: "an object"}
SPEC_KEYS = {"title", "cursorSync", "timeSettings", "links", "elements", "layout", "variables", "annotations",
             "revision"} | {f.v2 for f in F.DASHBOARD_FIELDS}
PANEL_SPEC_KEYS = {"id", "title", "description", "links", "transparent", "data", "vizConfig"}
ANNOTATION_SPEC_KEYS = {"query", "datasource", "builtIn", "filter", "mappings", "legacyOptions"} | {
    f.v2 for f in F.ANNOTATION_FIELDS}


def to_classic(spec: dict, uid: str | None = None) -> tuple[dict, Report]:
    """The classic dashboard of a v2 spec (`uid`, the resource's metadata.name, is set when
    given), and the report of what the classic model could not hold.

    Raises generator.normalize.DashboardInputError (with the JSON path) for a spec whose shape
    cannot be read: not an object, an unknown layout kind, a layout item naming no element."""
    if not isinstance(spec, dict):
        raise DashboardInputError("", "a v2 dashboard spec must be a JSON object")
    check_depth(spec)
    conv = _ToClassic(spec, Report("v2 -> classic"))
    board = conv.dashboard()
    if uid:
        board["uid"] = uid
    return board, conv.report


def _obj(value: Any, path: str, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DashboardInputError(path, f"{what} must be an object")
    return value


def _objs(value: Any, path: str, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise DashboardInputError(path, f"{what} must be a list of objects")
    return value


def _dq(query: Any, outer: Any = None) -> tuple[str, str | None, dict]:
    """A DataQuery's data source type, uid and body; `outer` is a v2alpha1 reference beside it."""
    query = query if isinstance(query, dict) else {}
    if query.get("kind") == "DataQuery" or "group" in query:
        group = query.get("group") if isinstance(query.get("group"), str) else ""
        ds = query.get("datasource") if isinstance(query.get("datasource"), dict) else {}
        name = ds.get("name") if isinstance(ds.get("name"), str) else None
    else:  # v2alpha1: the kind is the data source type
        group, name = (query.get("kind") if isinstance(query.get("kind"), str) else ""), None
    if isinstance(outer, dict):
        group = outer.get("type") if isinstance(outer.get("type"), str) and outer.get("type") else group
        name = outer.get("uid") if isinstance(outer.get("uid"), str) and outer.get("uid") else name
    body = query.get("spec") if isinstance(query.get("spec"), dict) else {}
    return group, name, body


class _ToClassic:
    def __init__(self, spec: dict, report: Report):
        self.spec = spec
        self.report = report
        self.elements = _obj(spec.get("elements"), "elements", "elements")
        self.placed_names: set[str] = set()

    def emit(self, src: dict, dst: dict, table, path: str, subject: str, enums: bool = False) -> None:
        for f in table:
            if f.v2 not in src:
                if f.rule == F.ALWAYS:
                    dst[f.classic] = f.default
                continue
            value = src[f.v2]
            if enums and f.v2 in _BACK:
                if not isinstance(value, str) or value not in _BACK[f.v2]:
                    self.report.lost(join(path, f.v2), subject, f"{value!r} has no classic spelling; "
                                                                f"{f.default!r} is written")
                    value = f.default
                else:
                    value = _BACK[f.v2][value]
            if f.rule == F.UNLESS_DEFAULT and F.is_default(value, f.default):
                continue
            dst[f.classic] = value

    def typed(self, src: dict, types: dict, path: str, subject: str) -> None:
        """Report each of `src`'s fields whose value is not of the type `types` names (the
        caller leaves those out)."""
        for k, kind in types.items():
            if k in src and not isinstance(src[k], kind):
                self.report.lost(join(path, k), subject, f"must be {_TYPE_NAMES[kind]}")

    def unknown(self, src: dict, known, path: str, subject: str) -> None:
        for k in src:
            if k not in known:
                self.report.lost(join(path, k), subject, "the classic model has no such field")

    # --- dashboard -------------------------------------------------------------------------

    def dashboard(self) -> dict:
        spec = self.spec
        d: dict = {"title": spec.get("title", "") if isinstance(spec.get("title"), str) else ""}
        self.emit(spec, d, F.DASHBOARD_FIELDS, "", "dashboard")
        sync = spec.get("cursorSync", "Off")
        if not isinstance(sync, str) or sync not in _CURSOR_BACK:
            self.report.lost("cursorSync", "dashboard", f"{sync!r} has no classic spelling; 0 is written")
        d["graphTooltip"] = _CURSOR_BACK.get(sync, 0) if isinstance(sync, str) else 0
        if isinstance(spec.get("revision"), int):
            d["revision"] = spec["revision"]
        self.time_settings(_obj(spec.get("timeSettings"), "timeSettings", "timeSettings"), d)
        d["links"] = self.links(_objs(spec.get("links"), "links", "links"))
        d["panels"] = self.panels()
        d["templating"] = {"list": self.variables(_objs(spec.get("variables"), "variables", "variables"))}
        d["annotations"] = {"list": self.annotations(_objs(spec.get("annotations"), "annotations", "annotations"))}
        d["schemaVersion"] = SCHEMA_VERSION
        self.unknown(spec, SPEC_KEYS, "", "dashboard")
        return d

    def time_settings(self, ts: dict, d: dict) -> None:
        d["time"] = {k: ts[k] if isinstance(ts.get(k), str) and ts[k] else v for k, v in F.DEFAULT_TIME.items()}
        self.emit(ts, d, F.TIME_FIELDS, "timeSettings", "dashboard")
        picker: dict = {}
        self.emit(ts, picker, F.TIMEPICKER_FIELDS, "timeSettings", "dashboard")
        if picker:
            d["timepicker"] = picker
        known = {"from", "to"} | {f.v2 for f in (*F.TIME_FIELDS, *F.TIMEPICKER_FIELDS)}
        self.unknown(ts, known, "timeSettings", "dashboard")

    def links(self, links: list) -> list:
        out = []
        for i, link in enumerate(links):
            path = join("links", i)
            subject = f"link {link.get('title', '')!r}"
            classic: dict = {}
            self.emit(link, classic, F.LINK_FIELDS, path, subject)
            self.unknown(link, {f.v2 for f in F.LINK_FIELDS}, path, subject)
            out.append(classic)
        return out

    # --- panels ----------------------------------------------------------------------------

    def panels(self) -> list:
        layout = self.spec.get("layout", {"kind": "GridLayout", "spec": {"items": []}})
        placed = flatten(layout, self.report)
        ids = [e["spec"].get("id") for e in self.elements.values()
               if isinstance(e, dict) and isinstance(e.get("spec"), dict)]
        next_row_id = 1 + max([int(i) for i in ids if isinstance(i, (int, float)) and not isinstance(i, bool)],
                              default=0)
        out = []
        for p in placed:
            if isinstance(p, Row):
                row = {"type": "row", "id": next_row_id, "collapsed": p.collapsed,
                       "gridPos": {"x": 0, "y": p.y, "w": GRID_COLUMNS, "h": ROW_HEIGHT},
                       "panels": [self.panel(c) for c in p.children]}
                next_row_id += 1
                if p.title is not None:
                    row["title"] = p.title
                if p.repeat:
                    row["repeat"] = p.repeat
                out.append(row)
            else:
                out.append(self.panel(p))
        for name in self.elements:
            if name not in self.placed_names:
                self.report.lost(join("elements", name), f"element {name!r}",
                                 "not placed in the layout; a classic dashboard holds placed panels only")
        return out

    def panel(self, placed: Placed) -> dict:
        name = placed.name
        element = self.elements.get(name)
        if element is None:
            raise DashboardInputError(join(placed.path, "spec", "element", "name"),
                                      f"refers to element {name!r}, which elements does not have")
        self.placed_names.add(name)
        path = join("elements", name)
        element = _obj(element, path, "an element")
        spec = _obj(element.get("spec"), join(path, "spec"), "an element's spec")
        spec_path = join(path, "spec")
        panel: dict = {"id": spec.get("id") if isinstance(spec.get("id"), (int, float)) else 0,
                       "gridPos": {"x": placed.x, "y": placed.y, "w": placed.w, "h": placed.h}}
        if isinstance(panel["id"], float) and panel["id"].is_integer():
            panel["id"] = int(panel["id"])
        repeat = placed.repeat or {}
        if isinstance(repeat.get("value"), str) and repeat["value"]:
            panel["repeat"] = repeat["value"]
            if repeat.get("direction") in ("h", "v"):
                panel["repeatDirection"] = repeat["direction"]
            if isinstance(repeat.get("maxPerRow"), int):
                panel["maxPerRow"] = repeat["maxPerRow"]
        title = spec.get("title") if isinstance(spec.get("title"), str) else None
        subject = f"element {name!r}" + (f" {title!r}" if title else "")
        if title:
            panel["title"] = title
        self.typed(spec, {"title": str, "description": str, "links": list, "transparent": bool}, spec_path, subject)
        if element.get("kind") == "LibraryPanel":
            ref = _obj(spec.get("libraryPanel"), join(spec_path, "libraryPanel"), "libraryPanel")
            panel["libraryPanel"] = {k: ref[k] for k in ("uid", "name") if k in ref}
            self.unknown(spec, {"id", "title", "libraryPanel"}, spec_path, subject)
            return panel
        if element.get("kind") != "Panel":
            raise DashboardInputError(join(path, "kind"), "an element is a Panel or a LibraryPanel")
        if isinstance(spec.get("description"), str) and spec["description"]:
            panel["description"] = spec["description"]
        if isinstance(spec.get("links"), list) and spec["links"]:
            panel["links"] = spec["links"]
        if isinstance(spec.get("transparent"), bool):
            panel["transparent"] = spec["transparent"]
        self.viz_config(_obj(spec.get("vizConfig"), join(spec_path, "vizConfig"), "vizConfig"), panel,
                        join(spec_path, "vizConfig"), subject)
        data = _obj(spec.get("data"), join(spec_path, "data"), "data")
        self.query_group(_obj(data.get("spec"), join(spec_path, "data", "spec"), "a query group's spec"), panel,
                         join(spec_path, "data", "spec"), subject)
        self.unknown(spec, PANEL_SPEC_KEYS, spec_path, subject)
        self.restore_stashed(panel, spec_path, subject)
        return panel

    def viz_config(self, viz: dict, panel: dict, path: str, subject: str) -> None:
        body = _obj(viz.get("spec"), join(path, "spec"), "vizConfig's spec")
        if viz.get("kind") == "VizConfig" or "group" in viz:
            panel["type"] = viz.get("group", "")
            version = viz.get("version")
        else:  # v2alpha1: the kind is the plugin id
            panel["type"] = viz.get("kind", "")
            version = body.get("pluginVersion")
        if isinstance(version, str) and version:
            panel["pluginVersion"] = version
        options = dict(_obj(body.get("options"), join(path, "spec", "options"), "options"))
        self._stash = options.pop(F.ANGULAR_MIGRATION, None)
        if options:
            panel["options"] = options
        fc = _obj(body.get("fieldConfig"), join(path, "spec", "fieldConfig"), "fieldConfig")
        self.typed(fc, {"defaults": dict, "overrides": list}, join(path, "spec", "fieldConfig"), subject)
        overrides = fc.get("overrides") if isinstance(fc.get("overrides"), list) else []
        for i, o in enumerate(overrides):
            if not isinstance(o, dict):
                self.report.lost(join(path, "spec", "fieldConfig", "overrides", i), subject, "must be an object")
        field_config = {"defaults": fc["defaults"] if isinstance(fc.get("defaults"), dict) else {},
                        "overrides": [o for o in overrides if isinstance(o, dict)]}
        if panel["type"] != "text" or field_config != {"defaults": {}, "overrides": []}:
            panel["fieldConfig"] = field_config

    def restore_stashed(self, panel: dict, path: str, subject: str) -> None:
        """Put back the panel keys kept in options.__angularMigration (Grafana's catch-all)."""
        stash, self._stash = self._stash, None
        if not isinstance(stash, dict):
            return
        where = join(path, "vizConfig", "spec", "options", F.ANGULAR_MIGRATION)
        original = stash.get("originalOptions") if isinstance(stash.get("originalOptions"), dict) else {}
        for k, v in original.items():
            if k in panel or k in F.PANEL_KEYS:
                self.report.lost(join(where, "originalOptions", k), subject,
                                 "clashes with a field the panel already has")
            else:
                panel[k] = v
        source = stash.get("autoMigrateFrom")
        if isinstance(source, str) and source and source != panel.get("type"):
            panel["autoMigrateFrom"] = source

    def query_group(self, data: dict, panel: dict, path: str, subject: str) -> None:
        targets, refs = [], []
        for i, q in enumerate(_objs(data.get("queries"), join(path, "queries"), "queries")):
            qpath = join(path, "queries", i)
            qspec = _obj(q.get("spec"), join(qpath, "spec"), "a query's spec")
            query = qspec.get("query") if isinstance(qspec.get("query"), dict) else {}
            group, name, body = _dq(query, qspec.get("datasource"))
            target = dict(body)
            if F.LEGACY_STRING_VALUE in target:
                target["query"] = target.pop(F.LEGACY_STRING_VALUE)
            if isinstance(qspec.get("refId"), str) and qspec["refId"]:
                target["refId"] = qspec["refId"]
            if qspec.get("hidden") is True:
                target["hide"] = True
            ref = F.classic_ref(group, name)
            if ref:
                target["datasource"] = ref
            refs.append(ref)
            targets.append(target)
            if isinstance(query.get("labels"), dict) and query["labels"]:
                self.report.lost(join(qpath, "spec", "query", "labels"), subject, "classic queries have no labels")
        if targets:
            panel["targets"] = targets
        ds = F.panel_datasource(refs)
        if ds:
            panel["datasource"] = ds
        transformations = []
        for i, t in enumerate(_objs(data.get("transformations"), join(path, "transformations"), "transformations")):
            body = dict(t.get("spec") if isinstance(t.get("spec"), dict) else {})
            tid = body.pop("id", None)
            if t.get("kind") == "Transformation":
                tid = t.get("group", "")
            elif not isinstance(tid, str):  # v2beta1 and v2alpha1: the kind is the transformation id
                tid = t.get("kind", "")
            transformations.append({"id": tid, **body})
        if transformations:
            panel["transformations"] = transformations
        options = _obj(data.get("queryOptions"), join(path, "queryOptions"), "queryOptions")
        for k in F.QUERY_OPTIONS:
            if k in options:
                panel[k] = options[k]
        self.unknown(options, F.QUERY_OPTIONS, join(path, "queryOptions"), subject)
        self.unknown(data, {"queries", "transformations", "queryOptions"}, path, subject)

    # --- variables and annotations ---------------------------------------------------------

    def variables(self, variables: list) -> list:
        out = []
        for i, var in enumerate(variables):
            path = join("variables", i)
            kind = var.get("kind")
            spec = _obj(var.get("spec"), join(path, "spec"), "a variable's spec")
            subject = f"variable {spec.get('name', '')!r}"
            typ = F.VARIABLE_KINDS.get(kind) if isinstance(kind, str) else None
            if typ is None:
                self.report.lost(path, subject, f"variable kind {kind!r} has no classic type")
                continue
            v: dict = {"type": typ}
            self.emit(spec, v, F.VARIABLE_FIELDS[typ], join(path, "spec"), subject, enums=True)
            known = {f.v2 for f in F.VARIABLE_FIELDS[typ]}
            if typ == "query":
                group, name, body = _dq(spec.get("query"), spec.get("datasource"))
                ref = F.classic_ref(group, name)
                if ref:
                    v["datasource"] = ref
                if F.LEGACY_STRING_VALUE in body:
                    v["query"] = body[F.LEGACY_STRING_VALUE]
                elif body:
                    v["query"] = dict(body)
                known |= {"query", "datasource"}
            elif typ in ("adhoc", "groupby"):
                name = (var.get("datasource") or {}).get("name") if isinstance(var.get("datasource"), dict) else None
                ref = F.classic_ref(var.get("group") if isinstance(var.get("group"), str) else "", name)
                if isinstance(spec.get("datasource"), dict):  # v2alpha1
                    ref = {k: spec["datasource"][k] for k in ("type", "uid") if spec["datasource"].get(k)} or None
                    known |= {"datasource"}
                if ref:
                    v["datasource"] = ref
            elif typ == "switch":
                v.update(F.switch_classic(spec))
                known |= {"current", "enabledValue", "disabledValue"}
            self.unknown(spec, known, join(path, "spec"), subject)
            self.unknown(var, {"kind", "spec", "group", "datasource"}, path, subject)
            out.append(v)
        return out

    def annotations(self, annotations: list) -> list:
        out = []
        for i, a in enumerate(annotations):
            path = join("annotations", i)
            spec = _obj(a.get("spec"), join(path, "spec"), "an annotation's spec")
            subject = f"annotation {spec.get('name', '')!r}"
            ann: dict = {}
            self.emit(spec, ann, F.ANNOTATION_FIELDS, join(path, "spec"), subject)
            group, name, body = _dq(spec.get("query"), spec.get("datasource"))
            ref = F.classic_ref(group, name)
            if ref:
                ann["datasource"] = ref
            if body:
                ann["target"] = dict(body)
            if "builtIn" in spec:
                ann["builtIn"] = 1 if spec["builtIn"] else 0
            for k in ("filter", "mappings"):
                if k in spec:
                    ann[k] = spec[k]
            legacy = spec.get("legacyOptions") if isinstance(spec.get("legacyOptions"), dict) else {}
            for k, v in legacy.items():
                if k in ann:
                    self.report.lost(join(path, "spec", "legacyOptions", k), subject,
                                     "clashes with a field the annotation already has")
                else:
                    ann[k] = v
            self.unknown(spec, ANNOTATION_SPEC_KEYS, join(path, "spec"), subject)
            out.append(ann)
        return out


__all__ = ["to_classic"]
