"""Trees of rendered files: where they come from (disk, git) and how two of them are compared."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any, Mapping

from generator import yamlio
from generator.diff.checks import diff_checks, is_check_path
from generator.diff.dashboards import diff_dashboard_sets
from generator.diff.model import Change, _text_change, leaves
from generator.diff.rules import _groups, diff_rule_groups
from generator.errors import ConfigError, DashgenError
from generator.normalize import DashboardInputError, load_dashboard, normalize_dashboard
from generator.normalize import loads as strict_loads

#: Files derived entirely from the dashboards and rules (the diff already covers them).
DERIVED = re.compile(r"^docs/(catalog\.md|[^/]+\.svg)$")


def is_dashboard_path(path: str) -> bool:
    return path.startswith("dashboards/") and path.endswith(".json")


def parse_file(path: str, data: Any, side: str = "") -> Any:
    """bytes/str -> parsed JSON or YAML for the file kinds dashgen understands; else text.

    A dashboard (dashboards/*.json) must read as one: otherwise DashboardInputError naming the
    file (and `side`, e.g. "old side") and the JSON path.
    """
    if is_dashboard_path(path) and data is not None:
        name = f"{path} ({side})" if side else path
        try:
            doc = load_dashboard(data, name, check=False) if isinstance(data, (bytes, str)) else data
            return normalize_dashboard(doc)
        except DashboardInputError as exc:
            raise exc if exc.file else exc.in_file(name) from None
    if not isinstance(data, (bytes, str)):
        return data
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    try:
        if path.endswith(".json"):
            return strict_loads(text)
        if path.endswith((".yaml", ".yml")):
            return yamlio.safe_load(text)
    except yamlio.NotAccepted as exc:  # an alias bomb is refused, not diffed as text
        raise ConfigError(f"{path}{f' ({side})' if side else ''}: {exc}") from None
    except (ValueError, yamlio.YAMLError):
        pass
    return text


def file_kind(path: str, doc: Any) -> str:
    if isinstance(doc, dict) and is_dashboard_path(path):
        return "dashboard"
    if isinstance(doc, dict) and isinstance(doc.get("groups"), list) and path.startswith("alerts/"):
        return "rules"
    if isinstance(doc, dict) and is_check_path(path):
        return "check"
    return "file"


def diff_trees(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every semantic change from tree `old` to tree `new` (paths relative to rendered/).

    A file that is the same byte for byte on both sides is no change, even one that cannot be
    parsed: it is left out before anything reads it."""
    same = {p for p, v in old.items() if isinstance(v, (bytes, str)) and new.get(p) == v}
    olds = {p: parse_file(p, v, "old side") for p, v in old.items() if p not in same}
    news = {p: parse_file(p, v, "new side") for p, v in new.items() if p not in same}
    changes: list[Change] = []

    old_dash = {p: d for p, d in olds.items() if file_kind(p, d) == "dashboard"}
    new_dash = {p: d for p, d in news.items() if file_kind(p, d) == "dashboard"}
    changes += diff_dashboard_sets(old_dash, new_dash)

    old_groups = _groups({p: d for p, d in olds.items() if file_kind(p, d) == "rules"})
    new_groups = _groups({p: d for p, d in news.items() if file_kind(p, d) == "rules"})
    changes += diff_rule_groups(old_groups, new_groups)

    changes += diff_checks({p: d for p, d in olds.items() if file_kind(p, d) == "check"},
                           {p: d for p, d in news.items() if file_kind(p, d) == "check"})

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
    # Markdown: say which section changed. Each changed line belongs to the nearest heading at or
    # above it on its own side, so a section added after "## A" is named by its own heading.
    counts: dict[str, list[int]] = {}

    def section(lines: list[str], i: int) -> str:
        return next((ln.lstrip("#").strip() for ln in reversed(lines[: i + 1]) if ln.startswith("#")), "")

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, al, bl, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for side, lines, lo, hi in ((0, bl, j1, j2), (1, al, i1, i2)):
            for i in range(lo, hi):
                if lines[i].strip():  # blank lines shift freely between sections
                    counts.setdefault(section(lines, i), [0, 0])[side] += 1
    return [
        Change("changed", "file", path, path, f"text changed (+{plus} -{minus} lines)", name=heading or None)
        for heading, (plus, minus) in counts.items()
    ] or [Change("changed", "file", path, path, "blank lines changed")]


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


def file_tree(name: str, data: bytes, side: str, key: str = "file") -> dict[str, Any]:
    """One file given on the command line as a tree `diff_trees` compares: a dashboard (classic,
    an API envelope, a classic resource or v2, through dashv2.load_any) under dashboards/, a
    Prometheus rule file under alerts/, anything else as a plain file. `name` is only shown."""
    from generator.dashv2 import load_any

    label = f"{name} ({side})"
    text = data.decode("utf-8", errors="replace")
    if name.lower().endswith(".json") or text.lstrip().startswith("{"):
        try:
            doc = load_dashboard(data, label, check=False)
        except DashboardInputError:
            doc = None
        if isinstance(doc, dict) and not isinstance(doc.get("groups"), list):
            try:
                board, _report = load_any(doc)
            except DashboardInputError as exc:
                raise exc if exc.file else exc.in_file(label) from None
            return {f"dashboards/{key}.json": normalize_dashboard(board)}
    try:
        doc = yamlio.safe_load(text)
    except yamlio.NotAccepted as exc:
        raise ConfigError(f"{label}: {exc}") from None
    except yamlio.YAMLError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("groups"), list):
        return {f"alerts/{key}.rules.yaml": data}
    return {name.replace("/", "_"): data}


def diff_files(old_name: str, old: bytes, new_name: str, new: bytes) -> list[Change]:
    """`dashgen diff A B`: two files of the same kind compared like two rendered trees
    (nothing when they are the same byte for byte)."""
    if old == new:
        return []
    key = re.sub(r"[^A-Za-z0-9_.-]+", "_", new_name.replace("\\", "/").rsplit("/", 1)[-1]).split(".")[0] or "file"
    a, b = file_tree(old_name, old, "old side", key), file_tree(new_name, new, "new side", key)
    if set(a) != set(b) and not any(p.startswith(("dashboards/", "alerts/")) for p in a) \
            and not any(p.startswith(("dashboards/", "alerts/")) for p in b):
        b = {next(iter(a)): next(iter(b.values()))}  # two plain files: compared as one
    return diff_trees(a, b)
