"""Loads a project under a root and hands its values and definitions to the library.

A project root holds `monitoring/` (`config.py` defines `CONFIG`, `catalog.py` defines
`CATALOG`; shared queries may sit beside them), `dashboards/` and `alerts/` (and
optionally `synthetics/`). The loader imports the root as one private package, so
definitions reach the project's own modules with relative imports
(`from ..monitoring.catalog import CATALOG as C`), and two roots never share a module.

Each module in `<root>/dashboards/` defines `build(cfg) -> Dashboard`; each module in
`<root>/alerts/` defines `build(cfg) -> RuleGroup | list[RuleGroup]`, or (once per project)
`AlertRouting`, the receivers and policy tree; each module in the optional
`<root>/synthetics/` defines `build(cfg) -> HttpCheck | list[HttpCheck]`; each module in the
optional `<root>/slos/` defines `build(cfg) -> SLO | list[SLO]`, from which generator.slo
makes a rule group per SLO and one SLO dashboard. The library never
imports them by name: this loader imports them from the root it is given, under names
private to that root, and turns any failure into a `DefinitionError` naming the file, the
line and the cause.

A process may load a root more than once (`dashgen import` writes a module, then renders):
each load fingerprints the project folders' `.py` files by content, and when that
changed since the modules under the root's private name were imported, they are dropped and
imported again, with a bytecode cache keyed on content (_SourceLoader), not on mtime.

Given the project's result cache (generator.cache, as `dashgen check` does), the bytecode
of each project module is kept there, keyed by a SHA-256 of its path and source and
Python's bytecode magic, and signed: an entry that fails the signature or does not unmarshal
to a code object is ignored and the source compiled. Without one, Python's own `__pycache__`
rules apply (PYTHONDONTWRITEBYTECODE, PYTHONPYCACHEPREFIX).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from grafanalib import core as g

from generator.config import Config
from generator.errors import DefinitionError
from generator.notifications import AlertRouting, check_routing
from generator import slo as slo_lib
from generator.rules import RuleGroup
from generator.safenames import check_name
from generator.synthetics import HttpCheck


@dataclass
class Loaded:
    """Definitions built with one config: (relative module path, object) pairs, sorted."""

    dashboards: list[tuple[str, object]] = field(default_factory=list)
    groups: list[tuple[str, RuleGroup]] = field(default_factory=list)
    notifications: tuple[str, AlertRouting] | None = None
    checks: list[tuple[str, HttpCheck]] = field(default_factory=list)
    slos: list[tuple[str, slo_lib.SLO]] = field(default_factory=list)


PREFIX = "_dashgen_"  # every module this loader imports lives under a name starting so


class _SourceLoader(importlib.machinery.SourceFileLoader):
    """Keys the bytecode cache on the source's content: the "mtime" a `.pyc` records and is
    checked against is 32 bits of the source's SHA-1, so a rewrite of the same size within
    the same second (which the usual mtime/size check passes) is compiled afresh."""

    store = None  # a generator.cache.ProjectCache for this loader's project, if any

    def path_stats(self, path):
        data = Path(path).read_bytes()
        return {"mtime": int.from_bytes(hashlib.sha1(data).digest()[:4], "big"), "size": len(data)}

    def get_code(self, fullname):
        store = self.store
        if store is None:
            return super().get_code(fullname)
        from generator.cache import compiled

        return compiled(store, "bytecode", self.path, self.get_data(self.path), self.source_to_code)


class _DefinitionFinder(importlib.abc.MetaPathFinder):
    """Finds `<package>.<name>` for the packages this loader made (the definition modules,
    their `_helpers` and subpackages, relative imports included), with _SourceLoader."""

    dirs: dict[str, Path] = {}  # package name -> its folder

    def find_spec(self, fullname, path=None, target=None):
        parent, _, leaf = fullname.rpartition(".")
        folder = self.dirs.get(parent)
        if folder is None:
            return None
        return _spec(fullname, folder / leaf)


_stores: dict[str, object] = {}  # top package name -> its project's cache (or None)


def _loader(name: str, path: Path) -> _SourceLoader:
    loader = _SourceLoader(name, str(path))
    loader.store = _stores.get(name.partition(".")[0])
    return loader


def _spec(name: str, base: Path):
    """The spec of module `base.py` or package `base/` (an `__init__.py` optional) as `name`."""
    if base.is_dir():
        _DefinitionFinder.dirs[name] = base
        init = base / "__init__.py"
        if not init.exists():
            spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
            spec.submodule_search_locations = [str(base)]
            return spec
        return importlib.util.spec_from_file_location(name, init, loader=_loader(name, init),
                                                      submodule_search_locations=[str(base)])
    file = base.with_name(base.name + ".py")
    if not file.is_file():
        return None
    return importlib.util.spec_from_file_location(name, file, loader=_loader(name, file))


_FINDER = _DefinitionFinder()
_fingerprints: dict[str, str] = {}  # package name -> content fingerprint of its folder when imported


#: The folders of a project root the loader imports from (their .py files are fingerprinted).
PROJECT_DIRS = ("monitoring", "dashboards", "alerts", "synthetics", "slos")


def _sources(folder: str):
    """The .py files under `folder` (os.walk: pathlib's rglob took most of a warm check's
    fingerprinting), each as (path relative to the folder's parent, absolute path)."""
    base = os.path.dirname(folder)
    for top, dirs, files in os.walk(folder):
        dirs.sort()
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in sorted(files):
            if name.endswith(".py"):
                full = os.path.join(top, name)
                yield os.path.relpath(full, base).replace(os.sep, "/"), full


def _fingerprint(root: Path) -> str:
    h = hashlib.sha1()
    for kind in PROJECT_DIRS:
        for rel, full in _sources(os.path.join(root, kind)):
            with open(full, "rb") as f:
                h.update(rel.encode() + b"\0" + f.read() + b"\0")
    return h.hexdigest()


_snapshots: dict[str, str] = {}  # str(root) -> its fingerprint, while `snapshot(root)` is open


@contextlib.contextmanager
def snapshot(root: Path):
    """Within, the project at `root` is fingerprinted once, on entry: one `dashgen check` reads
    the definitions as they were when it started, instead of fingerprinting every folder again
    for each check that rebuilds modules (six times a run). Files changed inside are seen at
    the next run (or the next snapshot); nesting keeps the outer snapshot."""
    key = str(root)
    if key in _snapshots:
        yield
        return
    _snapshots[key] = _fingerprint(root)
    try:
        yield
    finally:
        _snapshots.pop(key, None)


def _package(root: Path, cache=None) -> str:
    """The private package name of the project `root`, imported afresh when its files changed."""
    name = f"{PREFIX}{hashlib.sha1(str(root).encode()).hexdigest()[:10]}"
    _stores[name] = cache
    fingerprint = _snapshots.get(str(root)) or _fingerprint(root)
    if name in sys.modules and _fingerprints.get(name) == fingerprint:
        return name
    for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[loaded]
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    _DefinitionFinder.dirs[name] = root
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = [str(root)]
    sys.modules[name] = importlib.util.module_from_spec(spec)
    _fingerprints[name] = fingerprint
    return name


def package(root: Path, cache=None) -> str:
    """The private package the project `root` is imported under, (re)imported as needed; hand
    it to `build_module` when building many modules, so the folders are fingerprinted once
    (fingerprinting per module read n files n times: 1,000 dashboards took 34 s, not 8)."""
    return _package(root, cache)


def import_module(root: Path, dotted: str, rel: str, cache=None, package: str | None = None):
    """`<root>/<dotted as a path>` imported under the root's private package; any failure is a
    DefinitionError naming `rel`."""
    package = package or _package(root, cache)
    path = root / (dotted.replace(".", "/") + ".py")
    try:
        return importlib.import_module(f"{package}.{dotted}")
    except Exception as exc:  # any import failure of a project module is reported, not raised raw
        raise DefinitionError(rel, f"{_where(exc, path)}import failed: {type(exc).__name__}: {exc}") from exc


def module_files(root: Path, kind: str) -> list[Path]:
    return sorted(p for p in (root / kind).glob("*.py") if not p.name.startswith("_"))


def _where(exc: BaseException, path: Path) -> str:
    """`line N` of the definition file where the exception passed, if it did."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    if frames:
        return f"line {frames[-1].lineno}: "
    return ""


def build_module(root: Path, kind: str, path: Path, cfg: Config, cache=None, package: str | None = None,
                 ) -> tuple[str, object]:
    """(relative path, what `build(cfg)` returned) for one definition module of `<root>/<kind>/`;
    any failure is a DefinitionError naming the file (the checks rebuild modules one by one)."""
    rel = path.relative_to(root).as_posix()
    module = import_module(root, f"{kind}.{path.stem}", rel, cache, package)
    build = getattr(module, "build", None)
    if not callable(build):
        raise DefinitionError(rel, "defines no build(cfg) function")
    try:
        return rel, build(cfg)
    except Exception as exc:
        raise DefinitionError(rel, f"{_where(exc, path)}build(cfg) failed: {type(exc).__name__}: {exc}") from exc


def load(root: Path, cfg: Config, cache=None) -> Loaded:
    """Import and build every definition; the first failure raises DefinitionError.
    `cache` (generator.cache.ProjectCache) keeps the modules' bytecode between runs."""
    loaded = Loaded()
    pkg = _package(root, cache)  # fingerprinted once for the whole load
    for path in module_files(root, "dashboards"):
        rel, dash = build_module(root, "dashboards", path, cfg, cache, pkg)
        if not isinstance(dash, (g.Dashboard, dict)):
            raise DefinitionError(rel, f"build(cfg) returned {type(dash).__name__}, expected a grafanalib Dashboard")
        loaded.dashboards.append((rel, dash))
    for path in module_files(root, "alerts"):
        rel, groups = build_module(root, "alerts", path, cfg, cache, pkg)
        if isinstance(groups, AlertRouting):
            check_routing(groups, rel)
            if loaded.notifications is not None:
                raise DefinitionError(rel, f"notifications are already defined in {loaded.notifications[0]}")
            loaded.notifications = (rel, groups)
            continue
        groups = [groups] if isinstance(groups, RuleGroup) else groups
        if not isinstance(groups, (list, tuple)) or not all(isinstance(x, RuleGroup) for x in groups):
            raise DefinitionError(rel, "build(cfg) must return a RuleGroup, a list of them, or AlertRouting")
        for grp in groups:  # the name becomes rendered/alerts/<name>.rules.yaml
            check_name(grp.name, "rule group", rel, error=DefinitionError)
        loaded.groups.extend((rel, grp) for grp in groups)
    for path in module_files(root, "synthetics"):
        rel, checks = build_module(root, "synthetics", path, cfg, cache, pkg)
        checks = [checks] if isinstance(checks, HttpCheck) else checks
        if not isinstance(checks, (list, tuple)) or not all(isinstance(c, HttpCheck) for c in checks):
            raise DefinitionError(rel, "build(cfg) must return an HttpCheck or a list of them")
        for c in checks:  # the job becomes rendered/synthetics/<env>/<job>.json
            check_name(c.job, "check job", rel, error=DefinitionError)
        loaded.checks.extend((rel, c) for c in checks)
    seen: dict[str, str] = {}
    for path in module_files(root, "slos"):
        rel, slos = build_module(root, "slos", path, cfg, cache, pkg)
        slos = [slos] if isinstance(slos, slo_lib.SLO) else slos
        if not isinstance(slos, (list, tuple)) or not all(isinstance(s, slo_lib.SLO) for s in slos):
            raise DefinitionError(rel, "build(cfg) must return an SLO or a list of them")
        for s in slos:
            slo_lib.validate(s, cfg, rel)
            for key in (s.name, s.alert_name):
                if key in seen:
                    raise DefinitionError(rel, f"SLO {s.name!r}: {key!r} is already used by an SLO in {seen[key]}")
                seen[key] = rel
            loaded.slos.append((rel, s))
            loaded.groups.append((rel, slo_lib.rule_group(cfg, s)))
    if loaded.slos:  # one generated dashboard over every SLO
        loaded.dashboards.append(("slos/", slo_lib.dashboard(cfg, [s for _rel, s in loaded.slos])))
    return loaded
