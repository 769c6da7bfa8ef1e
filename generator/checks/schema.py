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

from generator.checks import Issue, Location, cached, check
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


def _schema_bytes(folder: Path | None, name: str) -> bytes:
    """The schema `name` from the override folder, or the shipped copy when no folder is named.
    Empty when an override folder lacks it (only the dashboard schema is required there)."""
    if folder is None:
        return shipped(name)
    path = folder / name
    return path.read_bytes() if path.is_file() else b""


def _validator(data: bytes):
    import jsonschema

    return jsonschema.Draft7Validator(json.loads(data))


def _path(error) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(root)"


def _dashboard_errors(board, target, d: dict) -> list[list[str]]:
    """[panel title or "", message] for one dashboard, as the check reports them."""
    out = []
    errors = sorted(board().iter_errors(d), key=lambda e: list(map(str, e.absolute_path)))
    for e in errors[:MAX_PER_DASHBOARD]:
        out.append(["", f"{_path(e)}: {e.message}"])
    if len(errors) > MAX_PER_DASHBOARD:
        out.append(["", f"... and {len(errors) - MAX_PER_DASHBOARD} more schema errors"])
    if target() is not None:
        for p in iter_panels(d):
            for t in p.get("targets", []):
                for e in target().iter_errors(t):
                    out.append([str(p.get("title", "")), f"target {t.get('refId', '?')} {_path(e)}: {e.message}"])
    return out


def _valid(value) -> bool:
    return isinstance(value, list) and all(
        isinstance(x, list) and len(x) == 2 and all(isinstance(y, str) for y in x) for x in value)


@check("schema/dashboard")
def dashboard_schema(project):
    """Every dashboard (and each Prometheus target) validates against Grafana's dashboard JSON schema."""
    folder = project.schema_dir
    # The answers per dashboard are cached (generator.checks.cached) by the schema files, the
    # jsonschema release, this module's code and the dashboard's JSON: a warm run builds no validator.
    board_bytes = _schema_bytes(folder, DASHBOARD_SCHEMA)
    target_bytes = _schema_bytes(folder, PROMETHEUS_SCHEMA)
    validators: dict = {}

    def board():
        if "board" not in validators:
            validators["board"] = _validator(board_bytes)
        return validators["board"]

    def target():
        if "target" not in validators:
            validators["target"] = _validator(target_bytes) if target_bytes else None
        return validators["target"]

    parts = (board_bytes, target_bytes, _jsonschema_version(), Path(__file__).read_bytes())
    for rel, d in project.dashboards:
        uid = str(d.get("uid") or "")
        text = json.dumps(d, sort_keys=True, ensure_ascii=False)
        found = cached(project, "schema", (*parts, text), lambda d=d: _dashboard_errors(board, target, d), _valid)
        for panel, message in found:
            yield Issue(Location(file=rel, dashboard=uid, panel=panel), message)


def _jsonschema_version() -> str:
    """Which jsonschema validates, without importing it: its files' identity."""
    from generator.cache import package_identity

    return package_identity("jsonschema", ("__init__.py", "validators.py", "_keywords.py"))
