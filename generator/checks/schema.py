"""Schema: dashboards validate against Grafana's published dashboard JSON schema.

The schemas ship with the tool as package data (generator/schemas/: Apache-2.0 files copied
byte for byte from grafana-foundation-sdk, each listed with its checksum in PROVENANCE), so the
check runs in every clone and every user's CI. `--schema-dir` (or DASHGEN_SCHEMA_DIR) may name
another folder, e.g. to try a newer schema. The schema is stricter than the server, so a failure
here is about dashgen's output, not about what Grafana would accept (Grafana itself only insists
on a title and a well-formed uid). Prometheus targets are validated against the query schema too.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

from generator.checks import Issue, Location, check
from generator.checks.exprs import iter_panels
from generator.errors import ConfigError

ENV = "DASHGEN_SCHEMA_DIR"
DASHBOARD_SCHEMA = "dashboard.jsonschema.json"
PROMETHEUS_SCHEMA = "prometheus.jsonschema.json"
MAX_PER_DASHBOARD = 20


def shipped(name: str) -> bytes:
    """A schema file as shipped in the tool's package data (generator/schemas/)."""
    return resources.files("generator").joinpath("schemas", name).read_bytes()


def schema_dir(explicit: Path | None = None, root: Path | None = None) -> Path | None:
    """A folder that overrides the shipped schemas: the explicit option, else $DASHGEN_SCHEMA_DIR,
    else None (the schemas shipped with the tool). `root` is accepted for old callers and unused.

    A folder that is named but lacks the dashboard schema is a usage error.
    """
    value = explicit if explicit is not None else (os.environ.get(ENV) or None)
    if value is None:
        return None
    folder = Path(value)
    if not (folder / DASHBOARD_SCHEMA).is_file():
        raise ConfigError(f"schema folder {folder} has no {DASHBOARD_SCHEMA} (set --schema-dir or {ENV} "
                          "to a folder holding Grafana's dashboard schema, or unset both to use the "
                          "schemas shipped with dashgen)")
    return folder


def _schema(folder: Path | None, name: str) -> dict | None:
    """The schema `name` from the override folder, or the shipped copy when no folder is named.
    None when an override folder lacks it (only the dashboard schema is required there)."""
    if folder is None:
        return json.loads(shipped(name))
    path = folder / name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _validator(schema: dict | None):
    import jsonschema

    return jsonschema.Draft7Validator(schema) if schema is not None else None


def _path(error) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(root)"


@check("schema/dashboard")
def dashboard_schema(project):
    """Every dashboard (and each Prometheus target) validates against Grafana's dashboard JSON schema."""
    folder = project.schema_dir
    board = _validator(_schema(folder, DASHBOARD_SCHEMA))
    target = _validator(_schema(folder, PROMETHEUS_SCHEMA))
    for rel, d in project.dashboards:
        loc = Location(file=rel, dashboard=str(d.get("uid") or ""))
        errors = sorted(board.iter_errors(d), key=lambda e: list(map(str, e.absolute_path)))
        for e in errors[:MAX_PER_DASHBOARD]:
            yield Issue(loc, f"{_path(e)}: {e.message}")
        if len(errors) > MAX_PER_DASHBOARD:
            yield Issue(loc, f"... and {len(errors) - MAX_PER_DASHBOARD} more schema errors")
        if target is None:
            continue
        for p in iter_panels(d):
            for t in p.get("targets", []):
                for e in target.iter_errors(t):
                    yield Issue(Location(file=rel, dashboard=loc.dashboard, panel=p.get("title", "")),
                                f"target {t.get('refId', '?')} {_path(e)}: {e.message}")
