"""Dashboards compared by names: rows by title, panels by (row, title), queries by expression."""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import replace
from typing import Mapping

# The layout helpers live in generator.diff.layout (the render's preview needs them, not the
# diff); QUERY_KEYS and row_names stay importable from here too.
from generator.diff.layout import QUERY_KEYS, _Panel, _query_key, _title, query_text, row_names, rows_and_panels  # noqa: F401
from generator.diff.model import Change, _keyed, _q, _text_change, leaves, show
from generator.units import format_value


def diff_dashboard_sets(old: Mapping[str, dict], new: Mapping[str, dict]) -> list[Change]:
    """Dashboards matched by uid, then by title; the rest added or removed."""
    ob = {d.get("uid") or p: (p, d) for p, d in old.items()}
    nb = {d.get("uid") or p: (p, d) for p, d in new.items()}
    pairs = [(ob[u], nb[u]) for u in sorted(set(ob) & set(nb))]
    gone = {u: ob[u] for u in ob if u not in nb}
    came = {u: nb[u] for u in nb if u not in ob}
    by_title = {d.get("title"): u for u, (_p, d) in came.items()}
    for u in sorted(gone):
        t = gone[u][1].get("title")
        if t in by_title and by_title[t] in came:
            pairs.append((gone.pop(u), came.pop(by_title[t])))
    changes: list[Change] = []
    for (_op, od), (np_, nd) in sorted(pairs, key=lambda x: x[1][0]):
        changes += diff_dashboard(od, nd, np_)
    for u, (p, d) in sorted(came.items()):
        n = sum(1 for _ in rows_and_panels(d)[1])
        changes.append(Change("added", "dashboard", p, d.get("title", u), f"dashboard added ({n} panels)", uid=u))
    for u, (p, d) in sorted(gone.items()):
        changes.append(Change("removed", "dashboard", p, d.get("title", u), "dashboard removed", uid=u))
    return changes


def _row_map(old_rows: dict, new_rows: dict, old_items: list[_Panel], new_items: list[_Panel]) -> dict:
    """old row title -> new row title, recognising renamed rows by the panels they hold."""
    mapping = {t: t for t in old_rows if t in new_rows}
    lost = [t for t in old_rows if t not in new_rows]
    fresh = [t for t in new_rows if t not in old_rows]
    titles_old = {t: {i.title for i in old_items if i.row == t} for t in lost}
    titles_new = {t: {i.title for i in new_items if i.row == t} for t in fresh}
    for t in lost:
        best, score = None, 0.0
        for s in fresh:
            if s in mapping.values():
                continue
            a, b = titles_old[t], titles_new[s]
            overlap = len(a & b) / max(len(a | b), 1)
            if overlap > score:
                best, score = s, overlap
        if best is not None and score >= 0.5:
            mapping[t] = best
    return mapping


UNTITLED_ROW = "(untitled row)"


def _pair_untitled(old_rows: dict, new_rows: dict, old_items: list[_Panel], new_items: list[_Panel]) -> dict:
    """New untitled row name -> the old untitled row's name it continues. Untitled rows are
    named by position ("(untitled row) #2"); inserting one would shift every later name, so
    they are paired by what they hold instead: the same panels (titles and queries) first,
    then the most shared panels (at least half); a new row without a partner gets a name no
    old row has."""
    def untitled(rows: dict) -> list[str]:
        return [k for k in rows if k == UNTITLED_ROW or k.startswith(UNTITLED_ROW + " #")]

    olds, news = untitled(old_rows), untitled(new_rows)
    if not olds or not news:
        return {}

    def content(items: list[_Panel], row: str) -> Counter:
        return Counter((i.title, i.exprs) for i in items if i.row == row)

    oc = {r: content(old_items, r) for r in olds}
    nc = {r: content(new_items, r) for r in news}
    out: dict = {}
    free = list(olds)
    for same in (True, False):
        for n in news:
            if n in out:
                continue
            best, score = None, 0.0
            for o in free:
                if same:
                    if oc[o] == nc[n]:
                        best, score = o, 1.0
                        break
                    continue
                shared = sum((oc[o] & nc[n]).values()) / max(sum((oc[o] | nc[n]).values()), 1)
                if shared > score:
                    best, score = o, shared
            if best is not None and score >= 0.5:
                out[n] = best
                free.remove(best)
    taken = set(old_rows) | set(new_rows)
    k = 1
    for n in news:
        if n not in out:
            while (name := f"(untitled row, new{'' if k == 1 else f' #{k}'})") in taken:
                k += 1
            out[n] = name
            taken.add(name)
    return {n: o for n, o in out.items() if n != o} if any(n != o for n, o in out.items()) else {}


def diff_dashboard(old: dict, new: dict, path: str) -> list[Change]:
    """Changes between two normalised dashboards with the same identity."""
    uid = new.get("uid", "")
    title = new.get("title") or uid
    out: list[Change] = []

    def add(kind, target, message, **kw):
        out.append(Change(kind, target, path, title, message, uid=uid, **kw))

    # Dashboard-level settings.
    if old.get("uid") != new.get("uid"):
        add("changed", "dashboard", f"uid {show(old.get('uid'))} -> {show(new.get('uid'))}", field="uid",
            old=old.get("uid"), new=new.get("uid"))
    skip = {"panels", "templating", "uid", "id", "version", "schemaVersion"}
    for k in sorted((set(old) | set(new)) - skip):
        a, b = old.get(k), new.get(k)
        if a == b:
            continue
        if k == "tags" and isinstance(a, list) and isinstance(b, list):
            more = [t if isinstance(t, str) else show(t) for t in b if t not in a]
            less = [t if isinstance(t, str) else show(t) for t in a if t not in b]
            msg = "; ".join(x for x in (more and f"tags added: {', '.join(more)}",
                                        less and f"tags removed: {', '.join(less)}") if x) or "tags reordered"
            add("changed", "dashboard", msg, field="tags", old=a, new=b)
        elif k in ("title", "description"):
            msg, segs = _text_change(k, a, b)
            add("changed", "dashboard", msg, field=k, old=a, new=b, marked=segs)
        else:
            for p, o, n in leaves(a, b, k):
                add("changed", "dashboard", _text_change(p, o, n)[0], field=p, old=o, new=n)

    # Template variables, by name.
    def name_of(v) -> str:
        name = v.get("name", "?") if isinstance(v, dict) else v
        return name if isinstance(name, str) else show(name)

    ov = _keyed(old.get("templating", {}).get("list", []), name_of)
    nv = _keyed(new.get("templating", {}).get("list", []), name_of)
    for name in sorted(set(ov) | set(nv)):
        a, b = ov.get(name), nv.get(name)
        if a is None:
            add("added", "variable", f"variable ${name} added ({b.get('type', '?')})", name=f"${name}")
            continue
        if b is None:
            add("removed", "variable", f"variable ${name} removed", name=f"${name}")
            continue
        volatile = {"options"} if b.get("type") == "query" else set()  # refreshed by Grafana
        for p, o, n in leaves({k: v for k, v in a.items() if k not in volatile},
                              {k: v for k, v in b.items() if k not in volatile}):
            label = "default selection" if p.startswith("current") else p
            msg, segs = _text_change(label, o, n)
            add("changed", "variable", msg, name=f"${name}", field=p, old=o, new=n, marked=segs)

    # Rows, by title (renames recognised by their panels).
    old_rows_l, old_items = rows_and_panels(old)
    new_rows_l, new_items = rows_and_panels(new)
    old_rows = _keyed(old_rows_l, _title)
    new_rows = _keyed(new_rows_l, _title)
    renamed = _pair_untitled(old_rows, new_rows, old_items, new_items)
    if renamed:
        new_rows = {renamed.get(k, k): v for k, v in new_rows.items()}
        new_items = [replace(i, row=renamed.get(i.row, i.row)) for i in new_items]
    rmap = _row_map(old_rows, new_rows, old_items, new_items)
    for t, s in sorted(rmap.items()):
        if t != s:
            add("renamed", "row", f"row renamed {_q(t)} -> {_q(s)}", row=s, field="title", old=t, new=s)
        a, b = old_rows[t], new_rows[s]
        if bool(a.get("collapsed")) != bool(b.get("collapsed")):
            add("changed", "row", "row collapsed" if b.get("collapsed") else "row expanded", row=s,
                field="collapsed", old=a.get("collapsed"), new=b.get("collapsed"))
        ignore = {"id", "panels", "gridPos", "title", "collapsed"}
        for p, o, n in leaves({k: v for k, v in a.items() if k not in ignore},
                              {k: v for k, v in b.items() if k not in ignore}):
            add("changed", "row", _text_change(p, o, n)[0], row=s, field=p, old=o, new=n)
    # Row order: rows whose position among the surviving rows changed.
    kept_old = [rmap[t] for t in old_rows if t in rmap]
    kept_new = [s for s in new_rows if s in rmap.values()]
    if kept_old != kept_new:
        sm = difflib.SequenceMatcher(None, kept_old, kept_new, autojunk=False)
        stable = {kept_old[b.a + i] for b in sm.get_matching_blocks() for i in range(b.size)}
        for s in kept_new:
            if s not in stable:
                before = kept_new.index(s)
                where = f"after row {_q(kept_new[before - 1])}" if before else "to the top"
                add("moved", "row", f"row moved {where} (row {kept_old.index(s) + 1} -> {before + 1})", row=s,
                    field="position", old=kept_old.index(s) + 1, new=before + 1)
    for t in old_rows:
        if t not in rmap:
            n = sum(1 for i in old_items if i.row == t)
            add("removed", "row", f"row removed (with {n} panels)" if n else "row removed", row=t)
    for s in new_rows:
        if s not in rmap.values():
            add("added", "row", "row added", row=s)

    # Panels, by (row, title).
    inv = {s: t for t, s in rmap.items()}

    def okey(i: _Panel):  # old panels keyed in the new row names
        return (rmap.get(i.row, i.row), i.title)

    op = _keyed(old_items, okey)
    np_ = _keyed(new_items, lambda i: (i.row, i.title))
    pairs = [(k, k) for k in op if k in np_]
    lost = [k for k in op if k not in np_]
    fresh = [k for k in np_ if k not in op]

    def claim(test) -> None:
        for k in list(lost):
            cands = [f for f in fresh if test(op[k], np_[f])]
            if len(cands) == 1:
                pairs.append((k, cands[0]))
                lost.remove(k)
                fresh.remove(cands[0])

    claim(lambda a, b: a.title == b.title)  # moved to another row
    claim(lambda a, b: a.exprs and a.exprs == b.exprs and okey(a)[0] == b.row)  # renamed, same queries
    claim(lambda a, b: a.exprs and a.exprs == b.exprs)  # renamed and moved
    claim(lambda a, b: okey(a)[0] == b.row and a.panel.get("type") == b.panel.get("type")
          and a.rel == b.rel)  # renamed in place, queries changed too

    order = {k: i for i, k in enumerate(np_)}
    for ok, nk in sorted(pairs, key=lambda kk: order[kk[1]]):
        _panel_changes(op[ok], np_[nk], add, inv)
    for k in fresh:
        i = np_[k]
        add("added", "panel", added_panel_text(i), row=i.row, name=i.title, new=i.panel.get("type"))
    for k in lost:
        i = op[k]
        add("removed", "panel", f"panel removed ({i.panel.get('type', '?')})", row=k[0], name=i.title,
            old=i.panel.get("type"))
    return out


def legacy_unit(p: dict) -> str | None:
    """The unit an old graph or singlestat panel keeps outside fieldConfig (its left y axis'
    `format`, or `format`), as Grafana's graph/singlestat migrations carry it over; "short" is
    their default and means no unit."""
    if p.get("type") == "graph":
        axes = p.get("yaxes")
        unit = axes[0].get("format") if isinstance(axes, list) and axes and isinstance(axes[0], dict) else None
    elif p.get("type") == "singlestat":
        unit = p.get("format")
    else:
        return None
    return unit if isinstance(unit, str) and unit not in ("", "short") else None


def added_panel_text(i: _Panel) -> str:
    """"panel added (type, at x y, w x h)" and, one per line, its unit, thresholds and queries."""
    p, g = i.panel, i.pos
    lines = [f"panel added ({p.get('type', '?')}, at x={g.get('x', 0)} y={g.get('y', 0)}, "
             f"{g.get('w', 0)}x{g.get('h', 0)})"]
    defaults = (p.get("fieldConfig") or {}).get("defaults") or {}
    unit = defaults.get("unit") or legacy_unit(p)
    if unit:
        lines.append(f"unit: {unit}")
    steps = (defaults.get("thresholds") or {}).get("steps") or []
    if steps:
        lines.append(f"thresholds: {steps_text(steps, unit)}")
    for t in p.get("targets") or []:
        lines.append(f"{_target_label(t)}: {query_text(t)}")
    return "\n".join(lines)


def _pos(i: _Panel) -> str:
    p = i.pos
    return f"x={p.get('x', 0)} y={p.get('y', 0)}"


def _panel_changes(a: _Panel, b: _Panel, add, inv: dict) -> None:
    """Reports (through `add`) the changes inside one matched pair of panels."""
    at = dict(row=b.row, name=b.title)
    if a.title != b.title:
        add("renamed", "panel", f"panel renamed {_q(a.title)} -> {_q(b.title)}", field="title",
            old=a.title, new=b.title, **at)
    if inv.get(b.row, b.row) != a.row:
        add("moved", "panel", f"moved from row {_q(a.row)} to row {_q(b.row)} ({_pos(a)} -> {_pos(b)})",
            field="gridPos", old=a.pos, new=b.pos, **at)
    elif a.rel != b.rel:
        add("moved", "panel", f"moved from {_pos(a)} to {_pos(b)}", field="gridPos", old=a.pos, new=b.pos, **at)
    if a.size != b.size:
        add("changed", "panel", f"resized from {a.size[0]}x{a.size[1]} to {b.size[0]}x{b.size[1]} (w x h)",
            field="gridPos", old=a.pos, new=b.pos, **at)

    pa, pb = a.panel, b.panel
    if {**pa, "id": 0, "gridPos": 0} == {**pb, "id": 0, "gridPos": 0}:
        return  # nothing else differs (most panels of a big dashboard): skip the field walk
    if pa.get("type") != pb.get("type"):
        add("changed", "panel", f"type {pa.get('type')} -> {pb.get('type')}", field="type",
            old=pa.get("type"), new=pb.get("type"), **at)
    if pa.get("description") != pb.get("description"):
        msg, segs = _text_change("description", pa.get("description"), pb.get("description"))
        add("changed", "panel", msg, field="description", old=pa.get("description"), new=pb.get("description"),
            marked=segs, **at)
    _target_changes(pa.get("targets", []), pb.get("targets", []), add, at)

    fa, fb = pa.get("fieldConfig") or {}, pb.get("fieldConfig") or {}
    da, db = dict(fa.get("defaults") or {}), dict(fb.get("defaults") or {})
    ua, ub = da.pop("unit", None) or legacy_unit(pa), db.pop("unit", None) or legacy_unit(pb)
    if ua != ub:
        add("changed", "panel", f"unit {ua or '(none)'} -> {ub or '(none)'}", field="unit", old=ua, new=ub, **at)
    _threshold_changes(da.pop("thresholds", None), db.pop("thresholds", None), ua, ub, add, at)
    for key in ("min", "max"):
        if da.get(key) != db.get(key):
            o, n = da.get(key), db.get(key)
            add("changed", "panel", f"{key} {format_value(o, ua) if o is not None else '(auto)'} -> "
                f"{format_value(n, ub) if n is not None else '(auto)'}", field=key, old=o, new=n, **at)
        da.pop(key, None), db.pop(key, None)
    for p, o, n in leaves(da, db):
        add("changed", "panel", _text_change(p, o, n)[0], field=f"fieldConfig.defaults.{p}", old=o, new=n, **at)
    _override_changes(fa.get("overrides") or [], fb.get("overrides") or [], add, at)

    for p, o, n in leaves(pa.get("options") or {}, pb.get("options") or {}):
        add("changed", "panel", _text_change(f"option {p}", o, n)[0], field=f"options.{p}", old=o, new=n, **at)
    done = {"id", "title", "gridPos", "type", "description", "targets", "fieldConfig", "options"}
    for p, o, n in leaves({k: v for k, v in _without_legacy_unit(pa).items() if k not in done},
                          {k: v for k, v in _without_legacy_unit(pb).items() if k not in done}):
        add("changed", "panel", _text_change(p, o, n)[0], field=p, old=o, new=n, **at)


def _without_legacy_unit(p: dict) -> dict:
    """The panel without the field `legacy_unit` read (the unit line reports it)."""
    if p.get("type") == "graph" and isinstance(p.get("yaxes"), list) and p["yaxes"] \
            and isinstance(p["yaxes"][0], dict) and "format" in p["yaxes"][0]:
        first = {k: v for k, v in p["yaxes"][0].items() if k != "format"}
        return {**p, "yaxes": [first, *p["yaxes"][1:]]}
    if p.get("type") == "singlestat" and "format" in p:
        return {k: v for k, v in p.items() if k != "format"}
    return p


def _target_label(t: dict) -> str:
    legend = t.get("legendFormat")
    return f"query {t.get('refId', '?')}" + (f" ({legend})" if legend else "")


def _target_changes(ta: list, tb: list, add, at: dict) -> None:
    """Queries matched by expression, then by legend, then in order; refIds are renumbered."""
    left, right = list(range(len(ta))), list(range(len(tb)))
    pairs = []

    def claim(test) -> None:
        for i in list(left):
            cands = [j for j in right if test(ta[i], tb[j])]
            if cands:
                pairs.append((i, cands[0]))
                left.remove(i)
                right.remove(cands[0])

    claim(lambda x, y: query_text(x) == query_text(y) and x.get("legendFormat") == y.get("legendFormat"))
    claim(lambda x, y: query_text(x) == query_text(y))
    claim(lambda x, y: x.get("legendFormat") and x.get("legendFormat") == y.get("legendFormat"))
    for i, j in zip(list(left), list(right)):
        pairs.append((i, j))
        left.remove(i)
        right.remove(j)
    for i, j in sorted(pairs, key=lambda p: p[1]):
        x, y = ta[i], tb[j]
        label = _target_label(y)
        key = _query_key(y) or _query_key(x)
        if key and x.get(key) != y.get(key):
            msg, segs = _text_change(label, x.get(key), y.get(key))
            add("changed", "panel", msg, field=f"{label}.{key}", old=x.get(key), new=y.get(key),
                marked=segs, **at)
        ignore = {key, "refId", "datasource"}
        for p, o, n in leaves({k: v for k, v in x.items() if k not in ignore},
                              {k: v for k, v in y.items() if k not in ignore}):
            add("changed", "panel", _text_change(f"{label} {p}", o, n)[0], field=f"{label}.{p}", old=o, new=n, **at)
        if x.get("datasource") != y.get("datasource"):
            add("changed", "panel", f"{label} data source {show(x.get('datasource'))} -> {show(y.get('datasource'))}",
                field=f"{label}.datasource", old=x.get("datasource"), new=y.get("datasource"), **at)
    for j in right:
        add("added", "panel", f"{_target_label(tb[j])} added: {query_text(tb[j])}", field="targets",
            new=query_text(tb[j]), **at)
    for i in left:
        add("removed", "panel", f"query removed: {query_text(ta[i])}", field="targets",
            old=query_text(ta[i]), **at)


def steps_text(steps: list, unit: str | None) -> str:
    return ", ".join(
        f"{s.get('color')} from {format_value(s.get('value'), unit)}" if s.get("value") is not None
        else f"{s.get('color')} base"
        for s in steps
    )


def _threshold_changes(a: dict | None, b: dict | None, ua, ub, add, at: dict) -> None:
    sa, sb = (a or {}).get("steps") or [], (b or {}).get("steps") or []
    if (a or {}).get("mode") != (b or {}).get("mode") and a and b:
        add("changed", "panel", f"threshold mode {a.get('mode')} -> {b.get('mode')}", field="thresholds.mode",
            old=a.get("mode"), new=b.get("mode"), **at)
    if sa == sb:
        return
    if len(sa) == len(sb) and [s.get("color") for s in sa] == [s.get("color") for s in sb]:
        for x, y in zip(sa, sb):
            if x.get("value") != y.get("value"):
                add("changed", "panel", f"threshold {y.get('color')} {format_value(x.get('value'), ua)} -> "
                    f"{format_value(y.get('value'), ub)}", field="threshold", old=x.get("value"), new=y.get("value"), **at)
            # equal values need no line, even when the unit changed (the unit line says it)
        return
    add("changed", "panel", f"thresholds {steps_text(sa, ua) or '(none)'} -> {steps_text(sb, ub) or '(none)'}",
        field="thresholds", old=sa, new=sb, **at)


def _matcher(o) -> str:
    m = o.get("matcher") if isinstance(o, dict) else None
    if not isinstance(m, dict):
        return show(o)  # not an override Grafana writes: named by its whole value
    opts = m.get("options", "")
    return f"{m.get('id', '?')}={opts if isinstance(opts, str) else show(opts)}"


def _properties(o) -> dict:
    """An override's properties as {id: value}; a property that is not {id, value} by its place."""
    props = o.get("properties") if isinstance(o, dict) else None
    if not isinstance(props, list):
        return {"properties": props} if props is not None else {}
    return {(p.get("id") if isinstance(p, dict) and isinstance(p.get("id"), str) else f"[{i}]"):
            (p.get("value") if isinstance(p, dict) else p) for i, p in enumerate(props)}


def _override_changes(oa: list, ob: list, add, at: dict) -> None:
    oa, ob = (x if isinstance(x, list) else [x] for x in (oa, ob))
    ka, kb = _keyed(oa, _matcher), _keyed(ob, _matcher)
    for k in sorted(set(ka) | set(kb)):
        if k not in ka:
            add("added", "panel", f"override for {k} added: {show(_properties(kb[k]))}", field="overrides",
                new=kb[k], **at)
        elif k not in kb:
            add("removed", "panel", f"override for {k} removed", field="overrides", old=ka[k], **at)
        elif ka[k] != kb[k]:
            for p, o, n in leaves(_properties(ka[k]), _properties(kb[k])):
                add("changed", "panel", _text_change(f"override for {k}: {p}", o, n)[0],
                    field=f"overrides.{k}.{p}", old=o, new=n, **at)
