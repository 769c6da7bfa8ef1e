"""Re-importing a dashboard into the module that already defines it: a patch, not a rewrite.

When a dashboard made by a dashgen module was edited in the Grafana UI, adopting the edit
should change only what changed. `plan_patch` compares what the module renders today with
the incoming dashboard (both normalised) value by value:

- a value written once as a literal in the module (a title, a number, a unit) is rewritten
  in place, through `pysrc` (the one escaping path), so loops, helpers, docstrings and the
  rest of the code stay as they are;
- a value that comes from the config (a threshold, a selector) is not touched: the change is
  reported as "the UI changed X, which is config field Y: change it there", since the number
  lives in exactly one place;
- anything else (a panel added or removed, a key that appeared, a value built by code or
  written several times) cannot be patched safely and is reported; the caller then refuses to
  overwrite the module (a whole rewrite needs --force).

The patched module is built again and must render the incoming dashboard exactly, or nothing
is patched. Nothing here writes files but the one temporary module built for that check.
"""

from __future__ import annotations

import ast
import difflib
import os
import re
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path

from generator.config import Config
from generator.importer.pysrc import flat, literal


@dataclass
class Patch:
    source: str  # the module as it would be written (the old source when nothing applies)
    edits: list[str] = field(default_factory=list)  # "path: old -> new" rewritten in place
    config: list[str] = field(default_factory=list)  # changes that belong in the config
    config_paths: list[str] = field(default_factory=list)  # their JSON paths
    blocked: list[str] = field(default_factory=list)  # changes no in-place edit can make

    @property
    def applies(self) -> bool:
        return not self.blocked and bool(self.edits)


def _changes(a, b, path: str = "") -> tuple[list[tuple[str, object, object]], list[str]]:
    """(scalar changes as (path, old, new), structural changes) from a to b."""
    scalars, structure = [], []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            p = f"{path}.{k}" if path else str(k)
            if k not in a:
                structure.append(f"{p} added")
            elif k not in b:
                structure.append(f"{p} removed")
            elif a[k] != b[k]:
                s, t = _changes(a[k], b[k], p)
                scalars += s
                structure += t
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            structure.append(f"{path}: {len(a)} -> {len(b)} items")
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                if x != y:
                    s, t = _changes(x, y, f"{path}[{i}]")
                    scalars += s
                    structure += t
    elif isinstance(a, (dict, list)) or isinstance(b, (dict, list)) or type(a) is not type(b) and not (
            isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool)
            and not isinstance(b, bool)):
        structure.append(f"{path or '(dashboard)'} changed kind")
    else:
        scalars.append((path, a, b))
    return scalars, structure


def config_fields(cfg: Config, value, prefix: str = "cfg") -> list[str]:
    """The config fields (dotted, e.g. cfg.thresholds.high_risk_score) holding `value`."""
    out = []
    for f in fields(cfg):
        v = getattr(cfg, f.name)
        if is_dataclass(v) and not isinstance(v, type):
            out += config_fields(v, value, f"{prefix}.{f.name}")
        elif type(v) is type(value) and v == value:
            out.append(f"{prefix}.{f.name}")
    return out


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _constants(tree: ast.AST, value) -> list[ast.Constant]:
    skip = _docstrings(tree)
    in_fstring = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    return [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and id(n) not in skip
            and id(n) not in in_fstring and type(n.value) is type(value) and n.value == value]


def _offsets(source: str) -> list[int]:
    out, pos = [0], 0
    for line in source.splitlines(keepends=True):
        pos += len(line)
        out.append(pos)
    return out


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_PANEL_PATH = re.compile(r"panels\[(\d+)\](?:\.panels\[(\d+)\])?(?:\.(.+))?")


def _panel_at(dashboard: dict, path: str) -> tuple[dict | None, str]:
    """The panel a JSON path ("panels[3].panels[1].options.x") is in, and the rest of the path."""
    m = _PANEL_PATH.fullmatch(path) or _PANEL_PATH.match(path)
    if not m:
        return None, path
    try:
        panel = dashboard["panels"][int(m.group(1))]
        if m.group(2) is not None:
            panel = panel["panels"][int(m.group(2))]
    except (KeyError, IndexError, TypeError):
        return None, path
    return (panel if isinstance(panel, dict) else None), m.group(3) or ""


def _where(path: str, dashboard: dict) -> str:
    """A JSON path with the panel it is in named by title: 'panel "Errors" (panels[3]...)'."""
    panel, _rest = _panel_at(dashboard, path)
    return path if panel is None else f'panel {panel.get("title", "")!r} {path}'


def plan_patch(source: str, current: dict, incoming: dict, cfg: Config) -> Patch:
    """The in-place edits that turn the module (`source`, rendering `current`) into one that
    renders `incoming` (both normalised dashboards); see the module docstring."""
    scalars, structure = _changes(current, incoming)
    patch = Patch(source, blocked=list(structure))
    tree = ast.parse(source)
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    starts = _offsets(source)
    spans: dict[tuple[int, int], tuple[str, object]] = {}
    for path, old, new in scalars:
        hits = _constants(tree, old)
        named = config_fields(cfg, old)
        used = [n for n in named if n.rsplit(".", 1)[-1] in names]  # the fields the module names
        named = used or named
        if named and not hits:
            patch.config_paths.append(path)
            patch.config.append(f"the UI changed {_where(path, incoming)} from {_short(old)} to {_short(new)}, which is config "
                                f"field {' or '.join(n.removeprefix('cfg.') for n in named)}: change it there")
            continue
        if len(hits) != 1:
            why = "it is built by code (not one literal)" if not hits else f"it is written {len(hits)} times"
            patch.blocked.append(f"{path}: {_short(old)} -> {_short(new)} ({why})")
            continue
        node = hits[0]
        span = (starts[node.lineno - 1] + node.col_offset, starts[node.end_lineno - 1] + node.end_col_offset)
        if span in spans and spans[span][1] != new:
            patch.blocked.append(f"{path}: {_short(old)} -> {_short(new)} (the literal also gives {spans[span][0]})")
            continue
        spans[span] = (path, new)
        patch.edits.append(f"{path}: {_short(old)} -> {_short(new)}")
    inserts = _keyword_inserts(tree, source, starts, incoming, patch)
    text = source
    edits = [(a, b, flat(literal(new))) for (a, b), (_path, new) in spans.items()] + inserts
    for a, b, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:a] + replacement + text[b:]
    patch.source = text
    return patch


def _keyword_inserts(tree: ast.AST, source: str, starts: list[int], incoming: dict, patch: Patch) -> list:
    """A setting the UI added to a panel that a factory keyword writes (P.KEYWORD_PATHS:
    noValue, orientation, a colour, ...) as that keyword added to the panel's call, when one
    call in the module has the panel's title as its first argument and takes the keyword.
    Returns the insertions as (start, end, text); what it adds leaves `patch.blocked`."""
    from generator import panels as P
    from generator.importer.factories import takes_keyword

    by_path = {".".join(path): kw for kw, path in P.KEYWORD_PATHS.items()}
    calls: dict[int, tuple[ast.Call, list[tuple[str, object]]]] = {}
    for entry in list(patch.blocked):
        if not entry.endswith(" added"):
            continue
        panel, rest = _panel_at(incoming, entry.removesuffix(" added"))
        kw = by_path.get(rest) if panel is not None else None
        if kw is None:
            continue
        value = panel
        for k in rest.split("."):
            value = value.get(k) if isinstance(value, dict) else None
        call = _call_for(tree, panel.get("title"))
        if call is None or not takes_keyword(call.func.attr, kw) or any(k.arg == kw for k in call.keywords):
            continue
        calls.setdefault(id(call), (call, []))[1].append((kw, value))
        patch.blocked.remove(entry)
        patch.edits.append(f"{entry.removesuffix(' added')}: added as {kw}={_short(value)}")
    out = []
    for call, added in calls.values():
        close = starts[call.end_lineno - 1] + call.end_col_offset - 1  # the call's ")"
        line_start = source.rfind("\n", 0, close) + 1
        last = (call.keywords or call.args)[-1]
        words = [f"{kw}={flat(literal(v))}" for kw, v in added]
        before = source[:close].rstrip()
        if source[line_start:close].strip() == "" and last.lineno != call.end_lineno:  # ")" on its own line
            out.append((line_start, line_start, "".join(f"{' ' * last.col_offset}{w},\n" for w in words)))
        else:  # after "(" or the last argument (keeping a trailing comma a trailing comma)
            sep, trail = (" ", ",") if before.endswith(",") else ("", "") if before.endswith("(") else (", ", "")
            out.append((close, close, sep + ", ".join(words) + trail))
    return out


def _call_for(tree: ast.AST, title) -> ast.Call | None:
    """The one `p.<factory>(title, ...)` call of the module with this literal title."""
    if not isinstance(title, str):
        return None
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and isinstance(n.func.value, ast.Name) and n.func.value.id == "p" and n.args
             and isinstance(n.args[0], ast.Constant) and n.args[0].value == title]
    return found[0] if len(found) == 1 else None


def unified(old: str, new: str, name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}"))


def render_candidate(root: Path, module: Path, source: str, cfg: Config) -> dict:
    """What `source`, put in place of `module` (a file of <root>/dashboards/), renders: built
    from a temporary sibling file (removed again) so relative imports and helpers resolve."""
    from generator.loader import build_module
    from generator.render import dashboard_json

    tmp = module.with_name(f"_dashgen_reimport_{os.getpid()}_{module.stem}.py")
    try:
        tmp.write_text(source, encoding="utf-8")
        _rel, dash = build_module(root, "dashboards", tmp, cfg)
        return dashboard_json(dash)
    finally:
        tmp.unlink(missing_ok=True)
