"""Renders the loaded definitions to files, and writes them all-or-nothing.

`iter_files()` produces the output one file at a time (a dashboard's JSON and preview
as soon as it is built, then let go, so memory stays flat however many dashboards there
are); `write_stream()` compares each with the output folder and, from the first one that
differs, writes into a complete sibling folder that is swapped in only when every module
succeeded: on any failure the output folder is untouched. `check_stream()` is the same
comparison writing nothing (`render --check`). `render_project()` and `write_tree()` are
the in-memory forms of the same. Output is byte-stable: sorted JSON keys, fixed YAML key
order, no timestamps, no absolute paths, panel ids in reading order.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from grafanalib import core as g

from generator import notifications, rules, safenames, synthetics
from generator.config import Config
from generator.errors import DashgenError, DefinitionError
from generator.loader import Loaded, load
from generator.normalize import dumps, from_grafanalib, normalize_dashboard
from generator.project import Project, project_of

MAX_UID = safenames.MAX_UID  # the old spelling; the rule lives in generator.safenames


def _key(k) -> str:
    if isinstance(k, str):
        return str.__str__(k)
    if k is True or k is False or k is None:
        return {True: "true", False: "false", None: "null"}[k]
    if isinstance(k, int):
        return int.__repr__(k)
    if isinstance(k, float):
        return json.dumps(float(k))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")


def plain(obj):
    """What `json.loads(json.dumps(obj, cls=DashboardEncoder))` gives, without writing and
    parsing the text: grafanalib objects through their `to_json_data()`, tuples as lists,
    keys as JSON writes them, str/int/float subclasses as the plain values."""
    if isinstance(obj, str):
        return str.__str__(obj)
    if obj is None or obj is True or obj is False:
        return obj
    if isinstance(obj, int):
        return int(int.__repr__(obj))
    if isinstance(obj, float):
        return float.__float__(obj)
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, dict):
        return {_key(k): plain(v) for k, v in obj.items()}
    to_json_data = getattr(obj, "to_json_data", None)
    if to_json_data:
        return plain(to_json_data())
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _fix_grafanalib(d: dict) -> dict:
    """Undo grafanalib's legacy spellings that the generic normaliser cannot know about."""
    for var in d.get("templating", {}).get("list", []):
        current = var.get("current") or {}
        if var.get("type") == "datasource" and not current.get("value"):
            var.pop("current", None)
        elif current.get("value") == "$__all":
            var["current"] = {"text": "All", "value": "$__all"}
        if var.get("type") == "query":
            var["definition"] = var.get("query")
    for panel in d.get("panels", []):
        defaults = panel.get("fieldConfig", {}).get("defaults", {})
        if defaults.get("noValue") == "none":
            del defaults["noValue"]
        if panel.get("type") == "stat":
            defaults.pop("color", None)
    return d


def grafanalib_panel_json(panel) -> dict:
    """One grafanalib panel as `dashboard_json` writes it inside a dashboard (for
    `panels.imported_dashboard`, which mixes factory panels with raw JSON)."""
    raw = plain({"panels": [panel.to_json_data()]})
    return from_grafanalib(_fix_grafanalib(raw))["panels"][0]


def dashboard_json(dash, *, consume: bool = False) -> dict:
    """Clean, current Grafana JSON for a grafanalib Dashboard (or an already-built dict; with
    `consume`, one the caller hands over: its panel list is emptied on the way)."""
    if isinstance(dash, g.Dashboard):
        raw = plain(dash.to_json_data())  # one walk, not JSON text written and parsed again
        del dash  # the objects go while the JSON is cleaned (a big import holds less at once)
        return normalize_dashboard(from_grafanalib(_fix_grafanalib(raw)), consume=True)  # raw is ours
    return normalize_dashboard(dash, consume=consume)


def _check_uid(rel: str, d: dict, seen: dict[str, str]) -> str:
    uid = d.get("uid")
    if not uid or not isinstance(uid, str):
        raise DefinitionError(rel, "dashboard has no uid")
    safenames.check_uid(uid, "dashboard uid", rel, error=DefinitionError)
    if uid in seen:
        raise DefinitionError(rel, f"uid {uid!r} is already used by {seen[uid]}")
    seen[uid] = rel
    return uid


def _check_groups(loaded: Loaded) -> None:
    groups: dict[str, str] = {}
    for rel, grp in loaded.groups:
        if grp.name in groups:
            raise DefinitionError(rel, f"rule group {grp.name!r} is already defined in {groups[grp.name]}")
        groups[grp.name] = rel


def _check_identity(loaded: Loaded, dashboards: list[tuple[str, dict]]) -> None:
    seen: dict[str, str] = {}
    for rel, d in dashboards:
        _check_uid(rel, d, seen)
    _check_groups(loaded)


def _built(rel: str, dash) -> dict:
    try:
        return dashboard_json(dash)
    except Exception as exc:
        raise DefinitionError(rel, f"cannot be turned into dashboard JSON: {type(exc).__name__}: {exc}") from exc


def build_outputs(project: Project | Path, cfg: Config | None = None, *, check_identity: bool = True,
                  cache=None) -> tuple[Loaded, list[tuple[str, dict]]]:
    """Load and build every definition of the project (with `cfg` instead of its config if
    given); the dashboards as normalised JSON.

    With `check_identity`, a missing or duplicate uid or group name raises; `dashgen check`
    turns it off to report those as findings next to everything else. `cache` (a
    generator.cache.ProjectCache) keeps the definitions' bytecode between runs.
    """
    project = project_of(project, cfg)
    loaded = project.definitions if cache is None else load(project.root, project.config, cache=cache)
    dashboards = [(rel, _built(rel, dash)) for rel, dash in loaded.dashboards]
    if check_identity:
        _check_identity(loaded, dashboards)
    return loaded, dashboards


def alerting_files(cfg: Config, rel: str, routing: notifications.AlertRouting, cache=None) -> dict[str, str]:
    """rendered/alerting/: Grafana provisioning files, the template, the Alertmanager config
    (`cache`, a generator.cache.ProjectCache, keeps the YAML text of documents seen before)."""
    header = (f"# Generated by dashgen from {rel}; secrets are $VARIABLE references, "
              "filled in from the environment.\n")
    n = notifications
    safenames.check_name(n.template_file(cfg), "notification template file", "config notifications.template_name")
    return {
        "alerting/contact-points.yaml": rules.dumps(n.contact_points_document(cfg, routing), header, cache),
        "alerting/policies.yaml": rules.dumps(n.policies_document(routing), header, cache),
        "alerting/templates.yaml": rules.dumps(n.templates_document(cfg), header, cache),
        f"alerting/{n.template_file(cfg)}": n.template_text(cfg),
        "alerting/alertmanager.yaml": rules.dumps(n.alertmanager_document(cfg, routing), header, cache),
    }


def iter_files(project: Project | Path, cfg: Config | None = None,
               sources: dict[str, str] | None = None) -> Iterator[tuple[str, bytes]]:
    """Every output file of the project (built with `cfg` instead of its config if given),
    (relative path, bytes), one at a time as it is made; a definition error raises part-way
    (write_stream then leaves the output folder as it was). `sources`, if given, is filled
    with each dashboard's uid -> its definition module (e.g. "dashboards/business.py") as it
    is built: what an upload names as the dashboard's source (grafana.app/sourcePath)."""
    from generator import docs, preview  # jinja2: only a render needs it, not `check`

    project = project_of(project, cfg)
    cfg = project.config
    if "definitions" in project.__dict__:  # built already: leave the project's copy as it is
        loaded = project.definitions
        pending = list(loaded.dashboards)
    else:  # built here, not kept on the project: each dashboard can go once written
        loaded = load(project.root, cfg, cache=project.cache)
        pending, loaded.dashboards = loaded.dashboards, []
    _check_groups(loaded)
    seen: dict[str, str] = {}
    boards = []  # what the docs need of each dashboard, not its JSON
    for i, (rel, dash) in enumerate(pending):
        pending[i] = None  # each grafanalib dashboard is let go once turned into JSON
        d = _built(rel, dash)
        uid = _check_uid(rel, d, seen)
        if sources is not None:
            sources[uid] = rel
        yield f"dashboards/{uid}.json", dumps(d).encode("utf-8")
        svg = preview.dashboard_svg(d, normalized=True, cache=project.cache)  # the layout preview
        yield f"docs/{uid}.svg", svg.encode("utf-8")
        boards.append(docs.board_entry(rel, d))
        del d, dash
    for rel, grp in loaded.groups:
        header = f"# Generated by dashgen from {rel}; edit that file, then run `make dashboards`.\n"
        text = rules.dumps(rules.group_document(cfg, grp), header, project.cache)
        yield f"alerts/{grp.name}.rules.yaml", text.encode("utf-8")
    if loaded.notifications:
        for name, text in alerting_files(cfg, *loaded.notifications, cache=project.cache).items():
            yield name, text.encode("utf-8")
    if loaded.checks:  # targets per environment: environments.toml (no secrets there)
        for name, doc in synthetics.render_checks(loaded.checks, project.environments).items():
            yield name, dumps(doc).encode("utf-8")  # the same byte-stable JSON as the dashboards
    for name, text in docs.render_docs_from(cfg, project.catalog, boards, loaded.groups, loaded.slos,
                                            cache=project.cache).items():
        yield name, text.encode("utf-8")


def render_project(project: Project | Path, cfg: Config | None = None) -> dict[str, bytes]:
    """Every output file of the project (built with `cfg` instead of its config if given),
    relative path -> bytes, built in memory (sorted by path)."""
    files: dict[str, bytes] = {}
    for name, data in iter_files(project, cfg):
        if name in files:
            raise DashgenError(f"render: {name} would be written twice")
        files[name] = data
    return dict(sorted(files.items()))


def _existing_names(out: Path) -> set[str]:
    if not out.is_dir():
        return set()
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def _same(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def check_stream(items: Iterable[tuple[str, bytes]], out: Path) -> tuple[int, list[tuple[str, str]]]:
    """(files produced, (file, why) for every one `write_stream` would change), writing
    nothing and holding one file at a time."""
    tree = safenames.TreeNames("render")
    have = _existing_names(out)
    produced: set[str] = set()
    stale = []
    for name, data in items:
        tree.add(name)
        if name in produced:
            raise DashgenError(f"render: {name} would be written twice")
        produced.add(name)
        if name not in have:
            stale.append((name, "missing"))
        elif not _same(out / name, data):
            stale.append((name, "differs"))
    stale += [(name, "no longer produced") for name in have - produced]
    return len(produced), sorted(stale)


def write_stream(items: Iterable[tuple[str, bytes]], out: Path) -> tuple[int, list[str]]:
    """Replace `out` with exactly the files `items` yields, all at once: (files produced,
    the changed names, sorted). Nothing is written while every file matches `out`; from the
    first difference a staging folder beside `out` receives each file as it comes (the
    matching ones before it copied from `out`), and is swapped in at the end. Every name is
    checked (generator.safenames) before it is written; on any failure, a definition error
    part-way included, the staging folder is removed and `out` is untouched."""
    tree = safenames.TreeNames("render")
    out_given = out
    out = out.resolve()
    have = _existing_names(out)
    produced: list[str] = []
    done: set[str] = set()
    changed: list[str] = []
    staging: Path | None = None

    def stage(name: str, data: bytes | None) -> None:
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if data is None:
            shutil.copyfile(out / name, path)  # the same bytes as produced (compared)
        else:
            path.write_bytes(data)

    try:
        for name, data in items:
            tree.add(name)
            if name in done:
                raise DashgenError(f"render: {name} would be written twice")
            done.add(name)
            produced.append(name)
            same = name in have and _same(out / name, data)
            if not same:
                changed.append(name)
                if staging is None:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
                    for earlier in produced[:-1]:
                        stage(earlier, None)
            if staging is not None:
                stage(name, data)
        changed += sorted(have - done)
        if not changed:
            return len(produced), []
        if staging is None:  # only removals: the staging folder gets the files kept
            out.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
            for name in produced:
                stage(name, None)
        os.chmod(staging, 0o755)
        _swap(staging, out)
    except BaseException as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, (OSError, ValueError)):  # ValueError: a name the OS refuses (NUL)
            raise DashgenError(f"cannot write {out_given.resolve()}: {exc}") from exc
        raise
    return len(produced), sorted(changed)


def _swap(staging: Path, out: Path) -> None:
    """Put the complete `staging` folder in place of `out` (two renames; the old tree kept
    aside until the new one is in, and put back if that fails)."""
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        try:
            os.rename(out, old / "tree")
        except BaseException:
            old.rmdir()
            raise
        try:
            os.rename(staging, out)
        except BaseException:
            os.rename(old / "tree", out)  # put the previous tree back (kept in `old` if that fails)
            old.rmdir()
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, out)


def _existing(out: Path) -> dict[str, bytes]:
    if not out.is_dir():
        return {}
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def stale_files(files: dict[str, bytes], out: Path) -> list[tuple[str, str]]:
    """(file, why) for every file that `write_tree` would change."""
    have = _existing(out)
    stale = []
    for name in sorted(set(files) | set(have)):
        if name not in have:
            stale.append((name, "missing"))
        elif name not in files:
            stale.append((name, "no longer produced"))
        elif have[name] != files[name]:
            stale.append((name, "differs"))
    return stale


def write_tree(files: dict[str, bytes], out: Path) -> list[str]:
    """Replace `out` with exactly `files`, all at once; returns the changed names.

    Every name must be a relative path of safe names (generator.safenames), checked before
    anything is written; on any failure the staging folder is removed and `out` is untouched."""
    safenames.check_tree(files, "render")
    return write_stream(files.items(), out)[1]
