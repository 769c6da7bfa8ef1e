"""Semantic diff of rendered trees: what a reviewer needs to know, in a reviewer's words.

Both sides are trees of rendered files (`{"dashboards/<uid>.json": bytes | dict, ...}`,
paths relative to rendered/), whether they come from the current code, a git ref, the files
on disk or a Grafana stack. Every dashboard goes through `normalize_dashboard` first, so ids,
versions, panel id renumbering and key order can never show up as a change.

Changes are keyed by names, never by array index:

- dashboards by uid (falling back to title when a uid changes), rows by title, panels by
  (row, title) - a panel whose title changed is recognised by its queries or its place;
- rule groups by name, rules by alert or record name (plus severity when a name repeats).

`diff_trees()` returns a list of `Change` records; `format_text`, `format_markdown` and
`format_json` turn them into a terminal report, a pull-request comment and data for tools.
"""

from __future__ import annotations

import difflib
import html
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass
from dataclasses import field as _field
from typing import Any, Iterable, Mapping

import yaml

from generator.errors import ConfigError, DashgenError
from generator.normalize import normalize_dashboard
from generator.units import format_value, number

#: Files derived entirely from the dashboards and rules (the diff already covers them).
DERIVED = re.compile(r"^docs/(catalog\.md|[^/]+\.svg)$")
MAX_VALUE = 160  # characters of a value quoted in a message


@dataclass(frozen=True)
class Change:
    """One difference, located by names."""

    kind: str  # added | removed | changed | moved | renamed
    target: str  # dashboard | row | panel | variable | group | alert | record | file
    file: str  # path relative to rendered/ (the new side's, when both exist)
    parent: str  # dashboard title or rule group name: what the change belongs to
    message: str  # what changed, in a reviewer's words (without the location)
    uid: str = ""  # dashboard uid, when a dashboard
    row: str | None = None
    name: str | None = None  # panel title, variable, alert or record name
    field: str | None = None  # e.g. "query A", "threshold", "unit", "for", "labels.severity"
    old: Any = None
    new: Any = None
    marked: tuple = _field(default=(), compare=False)  # word diff: (("=" | "-" | "+", text), ...)

    @property
    def location(self) -> str:
        parts = [p for p in (self.row, self.name) if p]
        return " / ".join(parts)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["marked"] = [list(seg) for seg in self.marked]
        d["location"] = self.location
        return d


# --- word diff --------------------------------------------------------------------------

_TOKEN = re.compile(
    r'\s+|"(?:[^"\\]|\\.)*"|[A-Za-z_:][A-Za-z0-9_:]*|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?[a-z]*|.',
    re.S,
)


def word_diff(old: str, new: str) -> tuple:
    """Segments (op, text) marking what changed between two strings, token by token."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    segs: list[list] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if segs and segs[-1][0] == op:
            segs[-1][1] += text
        else:
            segs.append([op, text])

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            add("=", "".join(a[i1:i2]))
        else:
            add("-", "".join(a[i1:i2]))
            add("+", "".join(b[j1:j2]))
    return _fold_spaces(segs)


def _fold_spaces(segs: list[list]) -> tuple:
    """`[-a-]{+b+} [-c-]{+d+}` reads better as `[-a c-]{+b d+}`: fold lone spaces between changes."""
    def run_at(i: int) -> dict:
        ops: dict = {}
        while i < len(segs) and segs[i][0] != "=":
            ops.setdefault(segs[i][0], []).append(segs[i][1])
            i += 1
        return ops

    out: list[list] = []
    i = 0
    while i < len(segs):
        op, text = segs[i]
        if op == "=" and not text.strip() and out:
            before, after = _tail(out), run_at(i + 1)
            if set(before) == set(after) == {"-", "+"}:
                while out and out[-1][0] != "=":
                    out.pop()
                n = sum(len(v) for v in after.values())
                out.append(["-", before["-"][0] + text + "".join(after["-"])])
                out.append(["+", before["+"][0] + text + "".join(after["+"])])
                i += 1 + n
                continue
        out.append([op, text])
        i += 1
    return tuple((op, text) for op, text in out)


def _tail(out: list[list]) -> dict:
    ops: dict = {}
    for op, text in reversed(out):
        if op == "=":
            break
        ops.setdefault(op, []).insert(0, text)
    return {k: ["".join(v)] for k, v in ops.items()}


def marked_text(segs: Iterable) -> str:
    """git's --word-diff=plain notation: [-old-]{+new+}."""
    out = []
    for op, text in segs:
        out.append(text if op == "=" else f"[-{text}-]" if op == "-" else f"{{+{text}+}}")
    return "".join(out)


def marked_html(segs: Iterable) -> str:
    out = []
    for op, text in segs:
        t = html.escape(text, quote=False)
        out.append(t if op == "=" else f"<del>{t}</del>" if op == "-" else f"<ins>{t}</ins>")
    return "".join(out)


# --- values -------------------------------------------------------------------------------


def show(value: Any) -> str:
    """A value quoted in a message: strings as they are, the rest as compact JSON."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        text = value if value else '""'
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = number(value)
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."


def _q(title: str | None) -> str:
    """A title quoted in a message ("(top)" for panels above the first row)."""
    return f'"{title}"' if title is not None else "(top)"


def leaves(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted path, old, new) for every differing leaf; lists compare as whole values."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{k}" if path else str(k)
            if k not in old:
                out.append((sub, None, new[k]))
            elif k not in new:
                out.append((sub, old[k], None))
            else:
                out.extend(leaves(old[k], new[k], sub))
        return out
    if isinstance(old, list) and isinstance(new, list) and old != new:
        key = _list_key(old, new)
        if key:
            a, b = {str(x[key]): x for x in old}, {str(x[key]): x for x in new}
            out = []
            for k in [*a, *(k for k in b if k not in a)]:
                out.extend(leaves(a.get(k), b.get(k), f"{path}[{k}]"))
            return out
        if len(old) == len(new) and all(isinstance(x, dict) for x in old + new):
            out = []
            for n, (x, y) in enumerate(zip(old, new), 1):  # order matters here (e.g. policy routes)
                out.extend(leaves(x, y, f"{path}#{n}"))
            return out
    return [] if old == new else [(path, old, new)]


def _list_key(old: list, new: list) -> str | None:
    """A field naming each element of both lists (uid, name, title), if there is one."""
    for key in ("uid", "name", "title", "receiver"):
        for items in (old, new):
            if not all(isinstance(x, dict) and isinstance(x.get(key), (str, int)) for x in items):
                break
            if len({str(x[key]) for x in items}) != len(items):
                break
        else:
            return key
    return None


def _text_change(label: str, old: Any, new: Any) -> tuple[str, tuple]:
    """A message for a changed text-like value, with the changed part marked when useful."""
    short = all(isinstance(v, str) and len(v) <= 40 and not any(c.isspace() for c in v) for v in (old, new))
    if isinstance(old, str) and isinstance(new, str) and old and new and not short:
        segs = word_diff(old, new)
        return f"{label} changed: {marked_text(segs)}", segs
    if old is None:
        return f"{label} set to {show(new)}", ()
    if new is None:
        return f"{label} removed (was {show(old)})", ()
    return f"{label} {show(old)} -> {show(new)}", ()


# --- trees ---------------------------------------------------------------------------------


def parse_file(path: str, data: Any) -> Any:
    """bytes/str -> parsed JSON or YAML for the file kinds dashgen understands; else text."""
    if not isinstance(data, (bytes, str)):
        return data
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    try:
        if path.endswith(".json"):
            return json.loads(text)
        if path.endswith((".yaml", ".yml")):
            return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError):
        pass
    return text


def file_kind(path: str, doc: Any) -> str:
    if isinstance(doc, dict) and path.startswith("dashboards/") and path.endswith(".json"):
        return "dashboard"
    if isinstance(doc, dict) and isinstance(doc.get("groups"), list) and path.startswith("alerts/"):
        return "rules"
    return "file"


def diff_trees(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every semantic change from tree `old` to tree `new` (paths relative to rendered/)."""
    olds = {p: parse_file(p, v) for p, v in old.items()}
    news = {p: parse_file(p, v) for p, v in new.items()}
    changes: list[Change] = []

    old_dash = {p: normalize_dashboard(d) for p, d in olds.items() if file_kind(p, d) == "dashboard"}
    new_dash = {p: normalize_dashboard(d) for p, d in news.items() if file_kind(p, d) == "dashboard"}
    changes += diff_dashboard_sets(old_dash, new_dash)

    old_groups = _groups({p: d for p, d in olds.items() if file_kind(p, d) == "rules"})
    new_groups = _groups({p: d for p, d in news.items() if file_kind(p, d) == "rules"})
    changes += diff_rule_groups(old_groups, new_groups)

    for path in sorted(set(olds) | set(news)):
        if DERIVED.match(path):
            continue
        a, b = olds.get(path), news.get(path)
        if file_kind(path, a if a is not None else b) != "file":
            continue  # covered above
        changes += _file_changes(path, a, b)
    return changes


def _file_changes(path: str, a: Any, b: Any) -> list[Change]:
    if a is None:
        return [Change("added", "file", path, path, "file added")]
    if b is None:
        return [Change("removed", "file", path, path, "file removed")]
    if a == b:
        return []
    if isinstance(a, (dict, list)) and isinstance(b, (dict, list)):
        return [
            Change("changed", "file", path, path, _text_change(p or "content", o, n)[0], field=p, old=o, new=n)
            for p, o, n in leaves(a, b)
        ]
    al = (a if isinstance(a, str) else json.dumps(a)).splitlines()
    bl = (b if isinstance(b, str) else json.dumps(b)).splitlines()
    # Markdown: say which section changed (the nearest heading above the change).
    counts: dict[str, list[int]] = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, al, bl, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        heading = next((ln.lstrip("#").strip() for ln in reversed(bl[: max(j1, 1)]) if ln.startswith("#")), "")
        c = counts.setdefault(heading, [0, 0])
        c[0] += j2 - j1
        c[1] += i2 - i1
    return [
        Change("changed", "file", path, path, f"text changed (+{plus} -{minus} lines)", name=heading or None)
        for heading, (plus, minus) in counts.items()
    ]


# --- dashboards ------------------------------------------------------------------------------


@dataclass
class _Panel:
    row: str | None
    title: str
    panel: dict
    row_y: int

    @property
    def pos(self) -> dict:
        return self.panel.get("gridPos") or {}

    @property
    def rel(self) -> tuple:
        """Position inside its row: moving a row or resizing one above moves nothing here."""
        p = self.pos
        return p.get("x", 0), p.get("y", 0) - self.row_y

    @property
    def size(self) -> tuple:
        return self.pos.get("w", 0), self.pos.get("h", 0)

    @property
    def exprs(self) -> tuple:
        return tuple(t.get("expr", "") for t in self.panel.get("targets", []))


def _title(p: dict) -> str:
    t = (p.get("title") or "").strip()
    return t or f"(untitled {p.get('type', 'panel')})"


def layout(d: dict) -> tuple[list[dict], list[_Panel]]:
    """The rows and the panels of a normalised dashboard, each panel with its row."""
    rows: list[dict] = []
    items: list[_Panel] = []
    row, row_y = None, 0
    for p in d.get("panels", []):
        if p.get("type") == "row":
            row, row_y = _title(p), (p.get("gridPos") or {}).get("y", 0)
            rows.append(p)
            for c in p.get("panels", []):
                items.append(_Panel(row, _title(c), c, row_y))
            continue
        items.append(_Panel(row, _title(p), p, row_y))
    return rows, items


def _keyed(items: Iterable, key) -> dict:
    """Items by key; a repeated key gets " #2", " #3" (reading order) so nothing is lost."""
    out: dict = {}
    seen: Counter = Counter()
    for it in items:
        k = key(it)
        seen[k] += 1
        if seen[k] > 1:
            k = (*k[:-1], f"{k[-1]} #{seen[k]}") if isinstance(k, tuple) else f"{k} #{seen[k]}"
        out[k] = it
    return out


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
        n = sum(1 for _ in layout(d)[1])
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
            more, less = [t for t in b if t not in a], [t for t in a if t not in b]
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
    ov = _keyed(old.get("templating", {}).get("list", []), lambda v: v.get("name", "?"))
    nv = _keyed(new.get("templating", {}).get("list", []), lambda v: v.get("name", "?"))
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
    old_rows_l, old_items = layout(old)
    new_rows_l, new_items = layout(new)
    old_rows = _keyed(old_rows_l, _title)
    new_rows = _keyed(new_rows_l, _title)
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
        p = i.pos
        add("added", "panel", f"panel added ({i.panel.get('type', '?')}, at x={p.get('x', 0)} y={p.get('y', 0)}, "
            f"{p.get('w', 0)}x{p.get('h', 0)})", row=i.row, name=i.title, new=i.panel.get("type"))
    for k in lost:
        i = op[k]
        add("removed", "panel", f"panel removed ({i.panel.get('type', '?')})", row=k[0], name=i.title,
            old=i.panel.get("type"))
    return out


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
    ua, ub = da.pop("unit", None), db.pop("unit", None)
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
    for p, o, n in leaves({k: v for k, v in pa.items() if k not in done},
                          {k: v for k, v in pb.items() if k not in done}):
        add("changed", "panel", _text_change(p, o, n)[0], field=p, old=o, new=n, **at)


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

    claim(lambda x, y: x.get("expr") == y.get("expr") and x.get("legendFormat") == y.get("legendFormat"))
    claim(lambda x, y: x.get("expr") == y.get("expr"))
    claim(lambda x, y: x.get("legendFormat") and x.get("legendFormat") == y.get("legendFormat"))
    for i, j in zip(list(left), list(right)):
        pairs.append((i, j))
        left.remove(i)
        right.remove(j)
    for i, j in sorted(pairs, key=lambda p: p[1]):
        x, y = ta[i], tb[j]
        label = _target_label(y)
        if x.get("expr") != y.get("expr"):
            msg, segs = _text_change(label, x.get("expr"), y.get("expr"))
            add("changed", "panel", msg, field=f"{label}.expr", old=x.get("expr"), new=y.get("expr"),
                marked=segs, **at)
        ignore = {"expr", "refId", "datasource"}
        for p, o, n in leaves({k: v for k, v in x.items() if k not in ignore},
                              {k: v for k, v in y.items() if k not in ignore}):
            add("changed", "panel", _text_change(f"{label} {p}", o, n)[0], field=f"{label}.{p}", old=o, new=n, **at)
        if x.get("datasource") != y.get("datasource"):
            add("changed", "panel", f"{label} data source {show(x.get('datasource'))} -> {show(y.get('datasource'))}",
                field=f"{label}.datasource", old=x.get("datasource"), new=y.get("datasource"), **at)
    for j in right:
        add("added", "panel", f"{_target_label(tb[j])} added: {tb[j].get('expr', '')}", field="targets",
            new=tb[j].get("expr"), **at)
    for i in left:
        add("removed", "panel", f"query removed: {ta[i].get('expr', '')}", field="targets",
            old=ta[i].get("expr"), **at)


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


def _matcher(o: dict) -> str:
    m = o.get("matcher") or {}
    return f"{m.get('id', '?')}={m.get('options', '')}"


def _override_changes(oa: list, ob: list, add, at: dict) -> None:
    ka, kb = _keyed(oa, _matcher), _keyed(ob, _matcher)
    for k in sorted(set(ka) | set(kb)):
        if k not in ka:
            add("added", "panel", f"override for {k} added: {show(kb[k].get('properties'))}", field="overrides",
                new=kb[k], **at)
        elif k not in kb:
            add("removed", "panel", f"override for {k} removed", field="overrides", old=ka[k], **at)
        elif ka[k] != kb[k]:
            pa = {p.get("id"): p.get("value") for p in ka[k].get("properties", [])}
            pb = {p.get("id"): p.get("value") for p in kb[k].get("properties", [])}
            for p, o, n in leaves(pa, pb):
                add("changed", "panel", _text_change(f"override for {k}: {p}", o, n)[0],
                    field=f"overrides.{k}.{p}", old=o, new=n, **at)


# --- rule groups ---------------------------------------------------------------------------


def _groups(files: Mapping[str, dict]) -> dict[str, tuple[str, dict]]:
    out = {}
    for path in sorted(files):
        for g in files[path].get("groups") or []:
            if isinstance(g, dict):
                out[str(g.get("name", path))] = (path, g)
    return out


def _rule_key(r: dict) -> str:
    if "alert" in r:
        return str(r["alert"])
    return str(r.get("record", "?"))


def _keyed_rules(rules: list) -> dict[str, dict]:
    names = Counter(_rule_key(r) for r in rules)

    def key(r):
        k = _rule_key(r)
        sev = (r.get("labels") or {}).get("severity")
        return f"{k} ({sev})" if names[k] > 1 and sev else k

    return _keyed(rules, key)


def diff_rule_groups(old: Mapping[str, tuple[str, dict]], new: Mapping[str, tuple[str, dict]]) -> list[Change]:
    """Rule groups by name, rules by alert or record name; a rule that changed group is "moved"."""
    out: list[Change] = []
    old_rules = {n: _keyed_rules(g.get("rules") or []) for n, (_p, g) in old.items()}
    new_rules = {n: _keyed_rules(g.get("rules") or []) for n, (_p, g) in new.items()}
    gone = Counter(k for n, rs in old_rules.items() for k in rs if k not in new_rules.get(n, {}))
    came = Counter(k for n, rs in new_rules.items() for k in rs if k not in old_rules.get(n, {}))
    moved = {k for k in gone if gone[k] == 1 and came[k] == 1}
    origin = {k: n for n, rs in old_rules.items() for k in rs if k in moved and k not in new_rules.get(n, {})}

    for name in sorted(set(old) | set(new)):
        if name not in old:
            path, g = new[name]
            out.append(Change("added", "group", path, name, f"rule group added ({len(g.get('rules') or [])} rules)"))
        elif name not in new:
            path, g = old[name]
            out.append(Change("removed", "group", path, name, f"rule group removed ({len(g.get('rules') or [])} rules)"))
        path = (new.get(name) or old[name])[0]

        def add(kind, target, message, _path=path, _name=name, **kw):
            out.append(Change(kind, target, _path, _name, message, **kw))

        if name in old and name in new:
            ga, gb = old[name][1], new[name][1]
            for p, o, n in leaves({k: v for k, v in ga.items() if k not in ("rules", "name")},
                                  {k: v for k, v in gb.items() if k not in ("rules", "name")}):
                add("changed", "group", f"{p} {show(o)} -> {show(n)}", field=p, old=o, new=n)
        ra, rb = old_rules.get(name, {}), new_rules.get(name, {})
        if name not in new:
            continue  # its rules are reported with the group's removal, or where they moved
        for key in rb:
            if key in ra:
                continue
            r = rb[key]
            target = "alert" if "alert" in r else "record"
            if key in moved:
                add("moved", target, f"{target} moved from group {origin[key]}", name=key, field="group",
                    old=origin[key], new=name)
                _rule_changes(old_rules[origin[key]][key], r, key, add)
            elif name in old:
                extra = (f" ({(r.get('labels') or {}).get('severity')}" + (f", for {r['for']})" if r.get("for") else ")")
                         if target == "alert" else "")
                add("added", target, f"{target} added{extra}: {r.get('expr', '')}", name=key, new=r.get("expr"))
        for key in ra:
            if key not in rb and key not in moved:
                target = "alert" if "alert" in ra[key] else "record"
                add("removed", target, f"{target} removed", name=key, old=ra[key].get("expr"))
        for key in rb:
            if key in ra:
                _rule_changes(ra[key], rb[key], key, add)
    return out


def _rule_changes(a: dict, b: dict, key: str, add) -> None:
    target = "alert" if "alert" in b else "record"
    at = dict(name=key)
    if a.get("expr") != b.get("expr"):
        msg, segs = _text_change("expr", a.get("expr"), b.get("expr"))
        add("changed", target, msg, field="expr", old=a.get("expr"), new=b.get("expr"), marked=segs, **at)
    for k in ("for", "keep_firing_for"):
        o, n = a.get(k), b.get(k)
        if o != n:
            add("changed", target, f"{k} {o or '0m'} -> {n or '0m'}", field=k, old=o, new=n, **at)
    la, lb = a.get("labels") or {}, b.get("labels") or {}
    for p, o, n in leaves(la, lb):
        if p == "severity":
            add("changed", target, f"severity {o or '(none)'} -> {n or '(none)'}", field="labels.severity",
                old=o, new=n, **at)
        elif o is None:
            add("changed", target, f"label {p}={n} added", field=f"labels.{p}", old=o, new=n, **at)
        elif n is None:
            add("changed", target, f"label {p}={o} removed", field=f"labels.{p}", old=o, new=n, **at)
        else:
            add("changed", target, f"label {p} {o} -> {n}", field=f"labels.{p}", old=o, new=n, **at)
    aa, ab = a.get("annotations") or {}, b.get("annotations") or {}
    for p, o, n in leaves(aa, ab):
        msg, segs = _text_change(f"annotation {p}", o, n)
        if p.endswith("_url") and o and n:
            msg, segs = f"annotation {p} {o} -> {n}", ()
        add("changed", target, msg, field=f"annotations.{p}", old=o, new=n, marked=segs, **at)
    done = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
    for p, o, n in leaves({k: v for k, v in a.items() if k not in done}, {k: v for k, v in b.items() if k not in done}):
        add("changed", target, _text_change(p, o, n)[0], field=p, old=o, new=n, **at)


# --- output ---------------------------------------------------------------------------------


def _heading(c: Change) -> tuple:
    if c.uid or c.file.startswith("dashboards/"):
        return (0, c.parent, f'dashboard "{c.parent}" ({c.uid or c.file})')
    if c.target in ("group", "alert", "record"):
        return (1, c.parent, f"rule group {c.parent} ({c.file})")
    return (2, c.file, f"file {c.file}")


def grouped(changes: Iterable[Change]) -> list[tuple[str, list[Change]]]:
    """Changes under one heading per dashboard, rule group or file, in a stable order."""
    heads: dict[tuple, list[Change]] = {}
    for c in changes:
        heads.setdefault(_heading(c), []).append(c)
    return [(h[2], cs) for h, cs in sorted(heads.items(), key=lambda kv: kv[0][:2])]


def summary(changes: list[Change]) -> str:
    if not changes:
        return "no differences"
    n_heads = len(grouped(changes))
    return f"{len(changes)} change{'s' * (len(changes) != 1)} in {n_heads} item{'s' * (n_heads != 1)}"


def _indent(text: str, prefix: str) -> str:
    return text.replace("\n", "\n" + prefix)


def format_text(changes: list[Change]) -> str:
    if not changes:
        return "no differences\n"
    lines = []
    for head, cs in grouped(changes):
        lines.append(head)
        for c in cs:
            where = f"{c.location}: " if c.location else ""
            lines.append("  " + _indent(f"{where}{c.message}", "      "))
        lines.append("")
    lines.append(summary(changes))
    return "\n".join(lines) + "\n"


def _md_message(c: Change) -> str:
    if c.marked:
        label = c.message.split(" changed: ", 1)[0]
        body = marked_html(c.marked).replace("\n", "<br>")
        if (c.field or "").endswith("expr"):  # queries read as code; prose stays prose
            body = f"<code>{body}</code>"
        return f"{html.escape(label, quote=False)} changed: {body}"
    return html.escape(c.message, quote=False).replace("\n", "<br>")


def format_markdown(changes: list[Change], title: str = "dashgen diff") -> str:
    """A pull-request comment: a summary line and one collapsible section per item."""
    if not changes:
        return f"### {title}\n\nNo differences in dashboards or alert rules.\n"
    out = [f"### {title}", "", f"{summary(changes)}.", ""]
    for head, cs in grouped(changes):
        out.append("<details>")
        out.append(f"<summary><b>{html.escape(head, quote=False)}</b>: {len(cs)} change{'s' * (len(cs) != 1)}</summary>")
        out.append("")
        for c in cs:
            where = f"<b>{html.escape(c.location, quote=False)}</b>: " if c.location else ""
            out.append(f"- {where}{_md_message(c)}")
        out.append("")
        out.append("</details>")
        out.append("")
    return "\n".join(out)


def format_json(changes: list[Change]) -> str:
    doc = {"summary": summary(changes), "count": len(changes), "changes": [c.as_dict() for c in changes]}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


FORMATTERS = {"text": format_text, "markdown": format_markdown, "json": format_json}


# --- sources ---------------------------------------------------------------------------------


def tree_from_dir(folder) -> dict[str, bytes]:
    """Every file under `folder` (e.g. rendered/ on disk), by path relative to it."""
    from pathlib import Path

    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _git(root, *args: str, data: bytes | None = None) -> bytes:
    import subprocess

    try:
        proc = subprocess.run(["git", "-C", str(root), *args], input=data, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise ConfigError("git is not installed: diff --against needs it") from exc
    if proc.returncode != 0:
        raise ConfigError(f"git {' '.join(args[:2])} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def tree_from_git(root, ref: str, folder: str = "rendered") -> dict[str, bytes]:
    """The files under `folder` (relative to the project root) as committed at `ref`.

    A ref that predates `folder` gives an empty tree (everything shows as added).
    Raises ConfigError for an unknown ref or a root outside a git repository.
    """
    if ref.startswith("-"):
        raise ConfigError(f"not a git ref: {ref!r}")
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except ConfigError as exc:
        raise ConfigError(f"unknown git ref {ref!r} (or {root} is not in a git repository)") from exc
    prefix = _git(root, "rev-parse", "--show-prefix").decode().strip()
    base = f"{prefix}{folder}/"
    listing = _git(root, "ls-tree", "-r", "-z", "--full-tree", "--name-only", ref, "--", base)
    names = [n for n in listing.decode("utf-8", errors="surrogateescape").split("\0") if n]
    if not names:
        return {}
    batch = "".join(f"{ref}:{n}\n" for n in names).encode("utf-8", errors="surrogateescape")
    raw = _git(root, "cat-file", "--batch", data=batch)
    out: dict[str, bytes] = {}
    pos = 0
    for name in names:
        end = raw.index(b"\n", pos)
        header = raw[pos:end].split()
        if len(header) != 3:
            raise DashgenError(f"git cat-file gave no content for {ref}:{name}")
        size = int(header[2])
        out[name[len(base):]] = raw[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return out
