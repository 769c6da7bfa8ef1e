"""Adopting a dashboard into a project: what `dashgen import` and `dashgen pull` need around
the importer (recorded series, which module owns a uid, safe writing, the pull hint)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from generator.errors import ConfigError, DashgenError


def recorded_series(root: Path) -> frozenset:
    """Series the project's recording rules write: queries may use them like metrics."""
    from generator.project import Project

    try:
        loaded = Project(root).definitions
    except DashgenError:  # a broken project only loses the distinction, not the import
        return frozenset()
    return frozenset(r.record for _rel, g in loaded.groups for r in g.records)


def module_for_uid(root: Path, uid: str) -> str | None:
    """The definition file (`dashboards/x.py`) that renders the dashboard `uid`, if any."""
    from generator.render import build_outputs

    try:
        _loaded, dashboards = build_outputs(root, check_identity=False)
    except DashgenError:
        return None
    return next((rel for rel, d in dashboards if d.get("uid") == uid), None)


def default_module(root: Path, uid: str) -> str:
    """Where an imported dashboard goes: the module that renders its uid, else one named after it."""
    rel = module_for_uid(root, uid)
    if rel:
        return rel
    prefix = ""
    try:
        from generator.project import Project

        prefix = Project(root).config.uid_prefix
    except DashgenError:  # a broken project only loses the shorter name
        pass
    name = re.sub(r"[^a-z0-9]+", "_", uid.lower().removeprefix(prefix.lower())).strip("_") or "imported"
    return f"dashboards/{'d_' + name if name[0].isdigit() else name}.py"


def write_module(path: Path, source: str, *, force: bool = False) -> None:
    """Write the module whole (a temporary file renamed into place); an existing file only with force."""
    if path.exists() and not force:
        raise ConfigError(f"{path} exists: pass --force to replace it")
    if path.suffix != ".py":
        raise ConfigError(f"{path}: the module needs a .py name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(source)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DashgenError(f"cannot write {path}: {exc}") from exc


def pull_hint(root: Path, env_name: str, uid: str, pulled_text: str) -> str | None:
    """The import command to suggest when the pulled dashboard differs from rendered/ (drift)
    or is not managed here at all; None when it is what the project renders."""
    rendered = root / "rendered" / "dashboards" / f"{uid}.json"
    if rendered.is_file() and rendered.read_text(encoding="utf-8") == pulled_text:
        return None
    why = "differs from rendered/ (edited in Grafana?)" if rendered.is_file() else "is not managed by this project"
    module = default_module(root, uid)
    return (f"{uid} in {env_name} {why}; adopt it as code with: "
            f"dashgen import --env {env_name} {uid} --out {module}" + (" --force" if (root / module).exists() else ""))
