"""Rule groups compared by name, rules by alert or record name."""

from __future__ import annotations

from collections import Counter
from typing import Mapping

from generator.diff.model import Change, _keyed, _text_change, leaves, show

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
