"""Loads the definitions under a project root and hands them to the library.

Each module in `<root>/dashboards/` defines `build(cfg) -> Dashboard`; each module in
`<root>/alerts/` defines `build(cfg) -> RuleGroup | list[RuleGroup]`, or (once per project)
`AlertRouting`, the receivers and policy tree; each module in the optional
`<root>/synthetics/` defines `build(cfg) -> HttpCheck | list[HttpCheck]`. The library never
imports them by name: this loader imports them from the root it is given, under names
private to that root (so two roots never share a module), and turns any failure into a
`DefinitionError` naming the file, the line and the cause.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from grafanalib import core as g

from generator.config import Config
from generator.errors import DefinitionError
from generator.notifications import AlertRouting, check_routing
from generator.rules import RuleGroup
from generator.synthetics import HttpCheck


@dataclass
class Loaded:
    """Definitions built with one config: (relative module path, object) pairs, sorted."""

    dashboards: list[tuple[str, object]] = field(default_factory=list)
    groups: list[tuple[str, RuleGroup]] = field(default_factory=list)
    notifications: tuple[str, AlertRouting] | None = None
    checks: list[tuple[str, HttpCheck]] = field(default_factory=list)


def _package(root: Path, kind: str):
    pkg_dir = root / kind
    name = f"_dashgen_{kind}_{hashlib.sha1(str(root).encode()).hexdigest()[:10]}"
    if name in sys.modules:
        return name
    init = pkg_dir / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        name, init if init.exists() else None, submodule_search_locations=[str(pkg_dir)]
    )
    if spec is None:  # pragma: no cover - only without an __init__ on odd importers
        raise DefinitionError(f"{kind}/", "cannot be imported as a package")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if init.exists():
        spec.loader.exec_module(module)
    return name


def module_files(root: Path, kind: str) -> list[Path]:
    return sorted(p for p in (root / kind).glob("*.py") if not p.name.startswith("_"))


def _where(exc: BaseException, path: Path) -> str:
    """`line N` of the definition file where the exception passed, if it did."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    if frames:
        return f"line {frames[-1].lineno}: "
    return ""


def _call_build(root: Path, kind: str, path: Path, cfg: Config):
    rel = path.relative_to(root).as_posix()
    package = _package(root, kind)
    try:
        module = importlib.import_module(f"{package}.{path.stem}")
    except Exception as exc:  # any import failure of a definition is reported, not raised raw
        raise DefinitionError(rel, f"{_where(exc, path)}import failed: {type(exc).__name__}: {exc}") from exc
    build = getattr(module, "build", None)
    if not callable(build):
        raise DefinitionError(rel, "defines no build(cfg) function")
    try:
        return rel, build(cfg)
    except Exception as exc:
        raise DefinitionError(rel, f"{_where(exc, path)}build(cfg) failed: {type(exc).__name__}: {exc}") from exc


def load(root: Path, cfg: Config) -> Loaded:
    """Import and build every definition; the first failure raises DefinitionError."""
    loaded = Loaded()
    for path in module_files(root, "dashboards"):
        rel, dash = _call_build(root, "dashboards", path, cfg)
        if not isinstance(dash, (g.Dashboard, dict)):
            raise DefinitionError(rel, f"build(cfg) returned {type(dash).__name__}, expected a grafanalib Dashboard")
        loaded.dashboards.append((rel, dash))
    for path in module_files(root, "alerts"):
        rel, groups = _call_build(root, "alerts", path, cfg)
        if isinstance(groups, AlertRouting):
            check_routing(groups, rel)
            if loaded.notifications is not None:
                raise DefinitionError(rel, f"notifications are already defined in {loaded.notifications[0]}")
            loaded.notifications = (rel, groups)
            continue
        groups = [groups] if isinstance(groups, RuleGroup) else groups
        if not isinstance(groups, (list, tuple)) or not all(isinstance(x, RuleGroup) for x in groups):
            raise DefinitionError(rel, "build(cfg) must return a RuleGroup, a list of them, or AlertRouting")
        loaded.groups.extend((rel, grp) for grp in groups)
    for path in module_files(root, "synthetics"):
        rel, checks = _call_build(root, "synthetics", path, cfg)
        checks = [checks] if isinstance(checks, HttpCheck) else checks
        if not isinstance(checks, (list, tuple)) or not all(isinstance(c, HttpCheck) for c in checks):
            raise DefinitionError(rel, "build(cfg) must return an HttpCheck or a list of them")
        loaded.checks.extend((rel, c) for c in checks)
    return loaded
