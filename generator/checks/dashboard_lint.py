"""Dashboard lint: identity, layout, house style, data sources, thresholds, windows, variables."""

from __future__ import annotations

import math
import re
from dataclasses import fields

import promql_parser as pp

from generator.checks import WARNING, Issue, Location, check
from generator.checks.exprs import (RANGE_FUNCTIONS, func_name, iter_panels, parse, queries,
                                    unwrap, walk, window_text)
from generator.checks.grafana_units import is_unit, suggestions
from generator.errors import DefinitionError
from generator.panels import GRID_COLUMNS
from generator.templating import used_variables

MAX_UID = 40
UID_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")
DATASOURCE_VARIABLE = "datasource"
#: Range windows a dashboard may use for rate/irate/increase.
ALLOWED_WINDOWS = ("$__rate_interval", "$__range")
NO_UNIT_TYPES = {"row", "text", "news", "dashlist", "alertlist"}


def _loc(rel: str, d: dict, panel: dict | None = None) -> Location:
    return Location(file=rel, dashboard=str(d.get("uid") or ""), panel=(panel or {}).get("title", ""))


def _content_panels(d: dict):
    return [p for p in iter_panels(d) if p.get("type") != "row"]


@check("dashboard/title")
def title(project):
    """Every dashboard has a non-empty title (Grafana answers 400 otherwise)."""
    for rel, d in project.dashboards:
        if not isinstance(d.get("title"), str) or not d["title"].strip():
            yield Issue(_loc(rel, d), "dashboard has no title")


@check("dashboard/uid")
def uid(project):
    """Every dashboard has a uid of at most 40 characters from [a-zA-Z0-9_-]."""
    for rel, d in project.dashboards:
        value = d.get("uid")
        if not value or not isinstance(value, str):
            yield Issue(_loc(rel, d), "dashboard has no uid: every upload would create a new dashboard")
        elif len(value) > MAX_UID:
            yield Issue(_loc(rel, d), f"uid {value!r} has {len(value)} characters; Grafana allows at most {MAX_UID}")
        elif not UID_PATTERN.match(value):
            bad = "".join(sorted({c for c in value if not re.match(r"[a-zA-Z0-9_-]", c)}))
            yield Issue(_loc(rel, d), f"uid {value!r} has characters Grafana refuses: {bad!r} (allowed: a-z A-Z 0-9 _ -)")


@check("dashboard/uid-unique")
def uid_unique(project):
    """No two dashboards share a uid (one would overwrite the other on upload)."""
    seen: dict[str, str] = {}
    for rel, d in project.dashboards:
        value = d.get("uid")
        if not value:
            continue
        if value in seen:
            yield Issue(_loc(rel, d), f"uid {value!r} is already used by {seen[value]}")
        else:
            seen[value] = rel


@check("dashboard/panel-id-unique")
def panel_id_unique(project):
    """Panel ids (rows and their children included) are unique within a dashboard."""
    for rel, d in project.dashboards:
        seen: dict = {}
        for p in iter_panels(d):
            pid = p.get("id")
            if pid is None:
                yield Issue(_loc(rel, d, p), "panel has no id")
            elif pid in seen:
                yield Issue(_loc(rel, d, p), f"panel id {pid} is also used by panel {seen[pid]!r}")
            else:
                seen[pid] = p.get("title", "")


@check("dashboard/refid-unique")
def refid_unique(project):
    """Every target of a panel has its own refId."""
    for rel, d in project.dashboards:
        for p in _content_panels(d):
            seen = set()
            for t in p.get("targets", []):
                ref = t.get("refId")
                if not ref:
                    yield Issue(_loc(rel, d, p), "a target has no refId")
                elif ref in seen:
                    yield Issue(_loc(rel, d, p), f"refId {ref!r} is used by two targets")
                seen.add(ref)


def _box(p: dict):
    g = p.get("gridPos") or {}
    return g.get("x", 0), g.get("y", 0), g.get("w", 0), g.get("h", 0)


@check("dashboard/grid-bounds")
def grid_bounds(project):
    """Every panel has a gridPos inside the 24-column grid, with positive width and height."""
    for rel, d in project.dashboards:
        for p in iter_panels(d):
            if "gridPos" not in p:
                yield Issue(_loc(rel, d, p), "panel has no gridPos")
                continue
            x, y, w, h = _box(p)
            if w < 1 or h < 1:
                yield Issue(_loc(rel, d, p), f"gridPos w={w} h={h}: width and height must be at least 1")
            if x < 0 or y < 0 or x + w > GRID_COLUMNS:
                yield Issue(_loc(rel, d, p), (f"gridPos x={x} w={w} reaches column {x + w}; the grid has "
                                              f"{GRID_COLUMNS} columns"))


def _overlap(a: dict, b: dict) -> bool:
    ax, ay, aw, ah = _box(a)
    bx, by, bw, bh = _box(b)
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


@check("dashboard/grid-overlap")
def grid_overlap(project):
    """No two panels (rows included) cover the same grid cell."""
    for rel, d in project.dashboards:
        groups = [d.get("panels", [])]
        groups += [p.get("panels", []) for p in d.get("panels", []) if p.get("type") == "row" and p.get("panels")]
        for group in groups:
            placed = [p for p in group if "gridPos" in p]
            for i, j in _overlapping_pairs(placed):
                a, b = placed[i], placed[j]
                yield Issue(_loc(rel, d, b), (f"overlaps panel {a.get('title', '')!r}: "
                                              f"x={_box(b)[0]} y={_box(b)[1]} w={_box(b)[2]} h={_box(b)[3]} vs "
                                              f"x={_box(a)[0]} y={_box(a)[1]} w={_box(a)[2]} h={_box(a)[3]}"))


def _overlapping_pairs(placed: list[dict]) -> list[tuple[int, int]]:
    """(i, j), i < j, for every two panels that overlap, in the order of the all-pairs loop.

    A sweep down the grid: panels sorted by top edge, each compared only with the panels
    still open at that height (bottom edge below its top), so a dashboard of n panels in
    rows costs about n x (panels side by side), not n x n. Boxes with values that are not
    numbers (which grid-bounds and the schema report) take the all-pairs loop."""
    boxes = [_box(p) for p in placed]
    if not all(type(v) in (int, float) for box in boxes for v in box):
        return [(i, j) for i in range(len(placed)) for j in range(i + 1, len(placed))
                if _overlap(placed[i], placed[j])]
    pairs = []
    open_: list[int] = []
    for j in sorted(range(len(boxes)), key=lambda k: (boxes[k][1], k)):
        x, y, w, h = boxes[j]
        open_ = [i for i in open_ if boxes[i][1] + boxes[i][3] > y]
        for i in open_:
            ax, ay, aw, ah = boxes[i]
            if ax < x + w and x < ax + aw and ay < y + h and y < ay + ah:
                pairs.append((min(i, j), max(i, j)))
        open_.append(j)
    return sorted(pairs)


@check("dashboard/panel-unit")
def panel_unit(project):
    """Every data panel sets a unit (fieldConfig.defaults.unit); "none" is a unit, blank is not."""
    for rel, d in project.dashboards:
        for p in _content_panels(d):
            if p.get("type") in NO_UNIT_TYPES:
                continue
            unit = ((p.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
            if not unit:
                yield Issue(_loc(rel, d, p), "panel has no unit: say what the number is (s, bytes, percentunit, none...)")


def _field_config(p: dict, prop: str):
    """(where, value) of field-config property `prop`: the panel's default, then each override's."""
    fc = p.get("fieldConfig") or {}
    yield prop, (fc.get("defaults") or {}).get(prop)
    for o in fc.get("overrides") or []:
        for setting in o.get("properties") or []:
            if setting.get("id") == prop:
                yield f"override {prop}", setting.get("value")


def _units(p: dict):
    for where, unit in _field_config(p, "unit"):
        if isinstance(unit, str) and unit:
            yield where, unit


@check("dashboard/unit-known")
def unit_known(project):
    """Every unit is one of Grafana's unit ids (or a custom `suffix:`/`prefix:`... unit); others show as text."""
    for rel, d in project.dashboards:
        for p in _content_panels(d):
            for where, unit in _units(p):
                if not is_unit(unit):
                    close = suggestions(unit)
                    hint = f"did you mean {' or '.join(close)}?" if close else "see Grafana's unit picker"
                    yield Issue(_loc(rel, d, p), (f"{where} {unit!r} is not a Grafana unit id, so Grafana would print "
                                                  f"it after the number; {hint} (a custom text unit is 'suffix:{unit}')"))


def _sections(d: dict) -> list[tuple[str, list[dict]]]:
    """(row title, its panels) in layout order; panels above the first row have the title ""."""
    out: list[tuple[str, list[dict]]] = [("", [])]
    for p in d.get("panels", []):
        if p.get("type") == "row":
            out.append((p.get("title", ""), list(p.get("panels") or [])))
        else:
            out[-1][1].append(p)
    return [(title, panels) for title, panels in out if panels]


def _first_gap(panels: list[dict]) -> tuple[int, int, int] | None:
    """(y, first empty column, last empty column) of the first hole in the band the panels span."""
    boxes = [_box(p) for p in panels if "gridPos" in p]
    if not boxes:
        return None
    top, bottom = min(y for _x, y, _w, _h in boxes), max(y + h for _x, y, _w, h in boxes)
    for y in range(top, bottom):
        covered = [False] * GRID_COLUMNS
        for x, by, w, h in boxes:
            if by <= y < by + h:
                for c in range(max(x, 0), min(x + w, GRID_COLUMNS)):
                    covered[c] = True
        if not all(covered):
            first = covered.index(False)
            last = first
            while last + 1 < GRID_COLUMNS and not covered[last + 1]:
                last += 1
            return y, first, last
    return None


@check("dashboard/row-gap")
def row_gap(project):
    """Every row's panels fill the 24 columns of the band they span: no empty hole beside or between them."""
    for rel, d in project.dashboards:
        for title, panels in _sections(d):
            gap = _first_gap(panels)
            if gap is not None:
                y, first, last = gap
                where = f"row {title!r}" if title else "the panels above the first row"
                yield Issue(_loc(rel, d), (f"{where} leaves columns {first}-{last} empty at y={y} "
                                           f"({last - first + 1} of {GRID_COLUMNS}): widen a panel or start a new row"))


@check("dashboard/panel-description")
def panel_description(project):
    """Every panel has a title and a description saying what it shows and what healthy looks like."""
    for rel, d in project.dashboards:
        for p in _content_panels(d):
            if not (p.get("title") or "").strip():
                yield Issue(_loc(rel, d, p), "panel has no title")
            if not (p.get("description") or "").strip():
                yield Issue(_loc(rel, d, p), "panel has no description")


def _is_ds_var(ds, names: set[str]) -> bool:
    uid_ = ds.get("uid") if isinstance(ds, dict) else ds
    if not isinstance(uid_, str):
        return False
    used = used_variables(uid_)
    return bool(used) and used <= names and uid_.strip().startswith(("$", "[["))


@check("dashboard/datasource-variable")
def datasource_variable(project):
    """Queries go through the `datasource` template variable (type datasource, Prometheus), never a fixed uid."""
    for rel, d in project.dashboards:
        variables = d.get("templating", {}).get("list", [])
        ds_vars = {v.get("name") for v in variables if v.get("type") == "datasource"}
        var = next((v for v in variables if v.get("name") == DATASOURCE_VARIABLE), None)
        if var is None or var.get("type") != "datasource" or var.get("query") != "prometheus":
            yield Issue(_loc(rel, d), (f"dashboard needs a template variable {DATASOURCE_VARIABLE!r} of type "
                                       "datasource with query prometheus"))
        for p in _content_panels(d):
            targets = p.get("targets", [])
            if not targets:
                continue
            if not _is_ds_var(p.get("datasource"), ds_vars):
                yield Issue(_loc(rel, d, p), (f"panel data source {p.get('datasource')!r} is not the "
                                              f"${{{DATASOURCE_VARIABLE}}} variable"))
            for t in targets:
                if "datasource" in t and not _is_ds_var(t["datasource"], ds_vars):
                    yield Issue(_loc(rel, d, p), (f"target {t.get('refId', '?')} data source {t['datasource']!r} is not "
                                                  f"the ${{{DATASOURCE_VARIABLE}}} variable"))


def config_numbers(cfg) -> list[float]:
    """Every number the config holds for dashboards: thresholds, plan limits, SLO numbers."""
    out = []
    slo = getattr(cfg, "slo", None)
    tiers = [*slo.page_tiers, *slo.ticket_tiers] if slo is not None else []
    for obj in (cfg.thresholds, cfg.plan, *([slo] if slo is not None else []), *tiers):
        for f in fields(obj):
            v = getattr(obj, f.name)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append(float(v))
    return out


def _queries_up_down(project, panel: dict, d: dict) -> bool:
    """Whether the panel queries a 0/1 health series (up, pg_up, probe_success, ...)."""
    ids = project.__dict__.get("_up_down_panels")
    if ids is None:  # one pass over the selectors, so a check asking per panel stays linear in panels
        ids = {id(use.query.panel) for use in project.selector_uses
               if use.query.panel is not None and use.hit is not None and use.hit[0].unit == "0/1"}
        project.__dict__["_up_down_panels"] = ids
    return id(panel) in ids


def _steps(p: dict):
    for where, thresholds in _field_config(p, "thresholds"):
        if isinstance(thresholds, dict):
            yield where, thresholds.get("steps") or []


def _moved_dashboards(project, only: set[str] | None = None) -> tuple[dict[str, dict], list[tuple[str, str]]]:
    """{definition file: dashboard JSON} built with every config number moved (see
    checks/moved.py), and the (file, why) of modules that refused the moved config; with
    `only`, just those definition files are rebuilt."""
    from generator.checks.moved import moved_numbers
    from generator.loader import build_module, module_files, package
    from generator.render import dashboard_json

    cfg = moved_numbers(project.cfg, project.catalog)
    built, refused = {}, []
    pkg = package(project.root, project.result_cache)
    for path in module_files(project.root, "dashboards"):
        rel = path.relative_to(project.root).as_posix()
        if only is not None and rel not in only:
            continue
        try:
            built[rel] = dashboard_json(build_module(project.root, "dashboards", path, cfg, project.result_cache, pkg)[1])
        except DefinitionError as exc:
            refused.append((rel, exc.cause))
        except Exception as exc:  # dashboard_json on an odd object: the load check reports it
            refused.append((rel, f"{type(exc).__name__}: {exc}"))
    return built, refused


def _panel_steps(d: dict) -> dict:
    """{(panel index, step list index, step index): (where, value, color)} of every numeric threshold step."""
    return {(i, k, j): (where, s.get("value"), s.get("color"))
            for i, p in enumerate(_content_panels(d)) for k, (where, steps) in enumerate(_steps(p))
            for j, s in enumerate(steps)
            if isinstance(s.get("value"), (int, float)) and not isinstance(s.get("value"), bool)}


@check("dashboard/thresholds-config")
def thresholds_config(project):
    """Every threshold step value is read from the config (Thresholds or Plan): it equals a config number and moves with it; 0/1 only on up/down stats."""
    allowed = config_numbers(project.cfg)
    # Only dashboards with a numeric step are rebuilt (a build is the costly part at scale).
    moved, refused = _moved_dashboards(project, {rel for rel, d in project.dashboards if _panel_steps(d)})
    for rel, why in refused:
        if any(r == rel for r, _d in project.dashboards):
            yield Issue(Location(file=rel), f"cannot rebuild with changed thresholds to find literals: {why}", WARNING)
    for rel, d in project.dashboards:
        other = moved.get(rel)
        after = _panel_steps(other) if other is not None and other.get("uid") == d.get("uid") else {}
        panels = _content_panels(d)
        for key, (where, v, color) in _panel_steps(d).items():
            p = panels[key[0]]
            if v in (0, 1) and _queries_up_down(project, p, d):
                continue
            if not any(math.isclose(v, a, rel_tol=1e-9, abs_tol=1e-12) for a in allowed):
                yield Issue(_loc(rel, d, p), (f"{where} step {v:g} ({color}) is not a config value: "
                                              "take it from cfg.thresholds so panels and alerts move together"))
            elif key in after and after[key][1] == v:
                yield Issue(_loc(rel, d, p), (f"{where} step {v:g} ({color}) equals a config value but is written "
                                              "into the panel (it stayed put when the config moved): read it from "
                                              "cfg.thresholds so panels and alerts move together"))



@check("dashboard/rate-interval")
def rate_interval(project):
    """rate(), irate() and increase() in dashboards use [$__rate_interval] (or [$__range] for range totals)."""
    for q in queries(project):
        if q.kind != "panel":
            continue
        ast, _ = parse(project, q.text)
        if ast is None:
            continue
        for node, _parents in walk(ast):
            fn = func_name(node)
            if fn not in RANGE_FUNCTIONS or not node.args:
                continue
            arg = unwrap(node.args[0])
            if not isinstance(arg, pp.MatrixSelector):
                continue
            w = window_text(arg.range)
            if w in ALLOWED_WINDOWS:
                continue
            why = ("it can hold fewer than two samples, and then the panel is empty" if w == "$__interval"
                   else "a fixed window is blind to the scrape interval and the zoom level")
            yield Issue(q.loc, f"{fn}() over [{w}]: use [$__rate_interval] ({why})")


def _variable_refs(d: dict):
    """(variable name, panel or None) for every place a dashboard refers to a variable."""
    for v in d.get("templating", {}).get("list", []):
        query = v.get("query")
        if isinstance(query, dict):
            query = query.get("query", "")
        texts = [query if isinstance(query, str) and v.get("type") == "query" else "",
                 (v.get("datasource") or {}).get("uid", "") if isinstance(v.get("datasource"), dict) else ""]
        for text in texts:
            for name in used_variables(text or ""):
                yield name, None
    for p in iter_panels(d):
        texts = [p.get("title", ""), p.get("repeat", "")]
        ds = p.get("datasource")
        texts.append(ds.get("uid", "") if isinstance(ds, dict) else ds or "")
        for t in p.get("targets", []):
            texts.append(t.get("expr", ""))
            tds = t.get("datasource")
            texts.append(tds.get("uid", "") if isinstance(tds, dict) else tds or "")
        for text in texts:
            for name in used_variables(text if isinstance(text, str) else ""):
                yield name, p
        if p.get("repeat"):
            yield p["repeat"], p


@check("dashboard/variables-defined")
def variables_defined(project):
    """Every variable a query, title or data source refers to is defined in the dashboard's templating."""
    for rel, d in project.dashboards:
        defined = {v.get("name") for v in d.get("templating", {}).get("list", [])}
        reported = set()
        for name, panel in _variable_refs(d):
            if name.startswith("__") or name in defined:
                continue
            key = (name, (panel or {}).get("title"))
            if key not in reported:
                reported.add(key)
                yield Issue(_loc(rel, d, panel), f"${name} is used but not defined in the dashboard's templating")


@check("dashboard/variables-used")
def variables_used(project):
    """Every template variable the dashboard defines is used somewhere (queries, titles, data sources)."""
    for rel, d in project.dashboards:
        used = {name for name, _p in _variable_refs(d)}
        for v in d.get("templating", {}).get("list", []):
            name = v.get("name")
            if name and name not in used:
                yield Issue(_loc(rel, d), f"variable ${name} is defined but nothing uses it")
