"""The semantic text form of a rendered file, for `git diff` and `git log -p` (git textconv).

A dashboard becomes one block per variable, row and panel; every panel's header line names
its row and title (so git's hunk header says which panel a change is in), and its body lists
type, place in its row, unit, thresholds (in the panel's unit), queries and every other
setting as `path: value` lines. Ids, versions and key order are gone (the file first goes
through `normalize_dashboard`), and positions are relative to the row, so inserting a panel
above does not rewrite every panel below. A rule file becomes one block per group, alert and
recording rule. Anything else, or anything that does not parse, passes through unchanged;
only what cannot be read safely (a dashboard nested too deep, a rule file with YAML aliases)
is refused, with an error naming the file. The semantic text is shown in a terminal, so
control characters and bidi overrides from titles and queries are escaped (terminal.py).
"""

from __future__ import annotations

import json
from typing import Any

from generator import yamlio
from generator.diff import leaves, query_text, row_names, rows_and_panels, steps_text
from generator.diff.dashboards import _query_key
from generator.dashv2 import API_GROUP, is_v2
from generator.errors import ConfigError, DashgenError
from generator.normalize import MAX_JSON_DEPTH, DashboardInputError, dashboard_of, normalize_dashboard
from generator.normalize import NotJSONValue
from generator.normalize import loads as strict_loads
from generator.terminal import printable


_SCALARS = {True: "true", False: "false"}


def _value(v: Any) -> str:
    if isinstance(v, str):
        return v.replace("\n", "\n    ")
    if isinstance(v, bool):
        return _SCALARS[v]
    if type(v) is int:  # the common cases without json.dumps (same text)
        return str(v)
    return json.dumps(v, sort_keys=True, ensure_ascii=False)


def _flat(d: dict) -> dict:
    """Nested dicts as dotted keys, for `path: value` lines."""
    return {p: n for p, _o, n in leaves({}, d)}


def dashboard_text(d: dict) -> str:
    d = normalize_dashboard(d)
    out = [f'dashboard "{d.get("title", "")}"', f"  uid: {d.get('uid', '')}"]
    rest = {k: v for k, v in d.items() if k not in ("title", "uid", "panels", "templating", "schemaVersion")}
    for k, v in sorted(rest.items()):
        if isinstance(v, dict) and k != "time":
            for p, n in sorted(_flat(v).items()):
                out.append(f"  {k}.{p}: {_value(n)}")
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            out.extend(f"  {k}: {_value(x)}" for x in v)
        else:
            out.append(f"  {k}: {_value(v)}")
    for var in d.get("templating", {}).get("list", []):
        name = var.get("name", "?")
        out += [f"variable ${name}", f"  name: {name}", f"  type: {var.get('type', '')}",
                f"  label: {var.get('label', '')}"]
        shown = ("name", "type", "label")
        out.extend(f"  {p}: {_value(n)}" for p, n in sorted(_flat({k: v for k, v in var.items()
                                                                    if k not in shown}).items()))
    rows, items = rows_and_panels(d)
    by_row: dict = {}
    for i in items:
        by_row.setdefault(i.row, []).append(i)
    out.extend(_panel_lines(i) for i in by_row.get(None, []))
    for r, name in zip(rows, row_names(rows)):
        out.append(f'row "{name}"' + (" (collapsed)" if r.get("collapsed") else ""))
        for p, n in sorted(_flat({k: v for k, v in r.items() if k not in ("id", "panels", "gridPos", "title", "type", "collapsed")}).items()):
            out.append(f"  {p}: {_value(n)}")
        out.extend(_panel_lines(i) for i in by_row.get(name, []))
    return "\n".join(out) + "\n"


def _panel_lines(i) -> str:
    """One panel's block: its header, then three lines that change only with the header (so a
    change further down is always below it and git names this panel in the hunk header)."""
    p = i.panel
    x, y = i.rel
    y = y - 1 if i.row is not None else y  # 0 = the first line under the row's header
    w, h = i.size
    where = f"{i.row} / {i.title}" if i.row else i.title
    out = [f'panel "{where}"', f"  row: {i.row if i.row is not None else '(top)'}", f"  title: {i.title}",
           f"  type: {p.get('type', '')}", f"  position: x={x} y={y} in row, {w}x{h}"]
    fc = p.get("fieldConfig") or {}
    defaults = dict(fc.get("defaults") or {})
    unit = defaults.pop("unit", None)
    if unit:
        out.append(f"  unit: {unit}")
    th = defaults.pop("thresholds", None)
    if th:
        out.append(f"  thresholds ({th.get('mode', 'absolute')}): {steps_text(th.get('steps') or [], unit)}")
    if p.get("description"):
        out.append(f"  description: {_value(p['description'])}")
    for t in p.get("targets", []):
        ref = t.get("refId", "?")
        key = _query_key(t)
        out.append(f"  query {ref}: {_value(query_text(t))}")
        for k, v in sorted(_flat({k: v for k, v in t.items() if k not in (key, "refId")}).items()):
            out.append(f"  query {ref} {k}: {_value(v)}")
    for k, v in sorted(_flat(defaults).items()):
        out.append(f"  field {k}: {_value(v)}")
    for o in fc.get("overrides") or []:
        out.append(f"  override: {_value(o)}")
    for k, v in sorted(_flat(p.get("options") or {}).items()):
        out.append(f"  option {k}: {_value(v)}")
    done = {"id", "title", "gridPos", "type", "description", "targets", "fieldConfig", "options"}
    for k, v in sorted(_flat({k: v for k, v in p.items() if k not in done}).items()):
        out.append(f"  {k}: {_value(v)}")
    return "\n".join(out)


def rules_text(doc: dict) -> str:
    out = []
    for g in doc.get("groups") or []:
        out.append(f"group {g.get('name', '?')}")
        for k, v in sorted(_flat({k: v for k, v in g.items() if k not in ("name", "rules")}).items()):
            out.append(f"  {k}: {_value(v)}")
        for r in g.get("rules") or []:
            kind = "alert" if "alert" in r else "record"
            out.append(f"{kind} {r.get(kind, '?')}" + (f"  (group {g.get('name')})" if kind == "alert" else ""))
            # three lines that change only with the header: git's hunk header names this rule
            out += [f"  group: {g.get('name', '?')}", f"  {kind}: {r.get(kind, '?')}", f"  kind: {kind}"]
            out.append(f"  expr: {_value(r.get('expr', ''))}")
            for k in ("for", "keep_firing_for"):
                if k in r:
                    out.append(f"  {k}: {_value(r[k])}")
            for k, v in (r.get("labels") or {}).items():
                out.append(f"  label {k}: {_value(v)}")
            for k, v in (r.get("annotations") or {}).items():
                out.append(f"  annotation {k}: {_value(v)}")
            done = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
            for k, v in sorted(_flat({k: v for k, v in r.items() if k not in done}).items()):
                out.append(f"  {k}: {_value(v)}")
    return "\n".join(out) + "\n"


def textconv(data: bytes, name: str | None = None) -> bytes:
    """The semantic form of a rendered file's bytes; other content comes back unchanged.

    The kind is taken from the content, not the name: git hands textconv temporary files.
    A dashboard resource or a v2 dashboard (a Grafana 13 export) is shown as the classic
    dashboard it converts to (generator.dashv2), so it diffs against the rendered file.
    Content that is not a dashboard or rule file (not UTF-8, not JSON/YAML, another shape)
    passes through. This never fails, since git aborts the whole `git diff` when a textconv
    does: a dashboard or rule file it cannot model (wrong types, nested deeper than the limit,
    YAML anchors or aliases, which are never expanded) comes back as its raw text (control
    characters escaped) under a one-line warning naming `name` and the problem.
    """
    try:
        return _semantic(data, name)
    except (DashgenError, ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
        problem = " ".join(str(exc).split()) or type(exc).__name__
        head = f"# dashgen textconv: {name or 'this file'} cannot be shown semantically ({problem}); raw text follows\n"
        return printable(head).encode("utf-8") + printable(data.decode("utf-8", errors="replace")).encode("utf-8")


def _semantic(data: bytes, name: str | None) -> bytes:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            doc = strict_loads(text)
        except RecursionError:
            raise DashboardInputError("", f"nested too deep to read (limit {MAX_JSON_DEPTH} levels)", name) from None
        except NotJSONValue as exc:  # JSON but for NaN/Infinity: a broken dashboard, not some other text
            raise DashboardInputError("", f"not JSON: {exc}", name) from None
        except ValueError:
            return data
        if isinstance(doc, dict) and ({"panels", "rows", "uid"} & set(doc) or isinstance(doc.get("dashboard"), dict)
                                      or is_v2(doc) or str(doc.get("apiVersion", "")).startswith(API_GROUP + "/")):
            return printable(dashboard_text(dashboard_of(doc, check=False))).encode("utf-8")
        return data
    if "groups:" in text:
        try:
            doc = yamlio.safe_load(text)
        except yamlio.NotAccepted as exc:  # an alias bomb: refused, never expanded
            raise ConfigError(f"{exc}") from None
        except yamlio.YAMLError:
            return data
        if isinstance(doc, dict) and isinstance(doc.get("groups"), list):
            return printable(rules_text(doc)).encode("utf-8")
    return data
