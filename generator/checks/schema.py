"""Schema: dashboards validate against Grafana's published dashboard JSON schema.

The schema files stay outside the repository (../shared/schemas, Apache-2.0 data from
grafana-foundation-sdk): the folder comes from `--schema-dir`, else DASHGEN_SCHEMA_DIR, else
`shared/schemas` beside the project root (`<root>/../shared/schemas`) when it holds the schema. The
schema is stricter than the server (see its README), so a failure here is about dashgen's
output, not about what Grafana would accept. Prometheus targets are validated against the
query schema as well. Without a schema folder the check reports one warning and skips.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from generator.checks import WARNING, Issue, Location, cached, check
from generator.checks.exprs import iter_panels
from generator.errors import ConfigError

ENV = "DASHGEN_SCHEMA_DIR"
DASHBOARD_SCHEMA = "dashboard.jsonschema.json"
PROMETHEUS_SCHEMA = "prometheus.jsonschema.json"
MAX_PER_DASHBOARD = 20


#: Where the schemas sit relative to the project root when nothing names them.
BESIDE_ROOT = Path("..") / "shared" / "schemas"


def schema_dir(explicit: Path | None = None, root: Path | None = None) -> Path | None:
    """The schema folder: the explicit option, else $DASHGEN_SCHEMA_DIR, else
    `<root>/../shared/schemas` if it holds the dashboard schema, else None.

    A folder that is named but lacks the dashboard schema is a usage error.
    """
    value = explicit if explicit is not None else (os.environ.get(ENV) or None)
    if value is None:
        beside = (Path(root) / BESIDE_ROOT).resolve() if root is not None else None
        return beside if beside is not None and (beside / DASHBOARD_SCHEMA).is_file() else None
    folder = Path(value)
    if not (folder / DASHBOARD_SCHEMA).is_file():
        raise ConfigError(f"schema folder {folder} has no {DASHBOARD_SCHEMA} (set --schema-dir or {ENV} "
                          "to the folder holding Grafana's dashboard schema, e.g. ../shared/schemas)")
    return folder


def _validator(folder: Path, name: str):
    import jsonschema

    schema = json.loads((folder / name).read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


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
    if folder is None:
        yield Issue(Location(), f"skipped: no schema folder (none at {BESIDE_ROOT} beside the project; set {ENV} "
                    "or --schema-dir to the folder holding dashboard.jsonschema.json); "
                    "dashboards were not validated against Grafana's schema", WARNING)
        return
    # The answers per dashboard are cached (generator.checks.cached) by the schema files, the
    # jsonschema release, this module's code and the dashboard's JSON: a warm run builds no validator.
    board_bytes = (folder / DASHBOARD_SCHEMA).read_bytes()
    target_file = folder / PROMETHEUS_SCHEMA
    target_bytes = target_file.read_bytes() if target_file.is_file() else b""
    validators: dict = {}

    def board():
        if "board" not in validators:
            validators["board"] = _validator(folder, DASHBOARD_SCHEMA)
        return validators["board"]

    def target():
        if "target" not in validators:
            validators["target"] = _validator(folder, PROMETHEUS_SCHEMA) if target_bytes else None
        return validators["target"]

    parts = (board_bytes, target_bytes, _jsonschema_version(), Path(__file__).read_bytes())
    for rel, d in project.dashboards:
        uid = str(d.get("uid") or "")
        text = json.dumps(d, sort_keys=True, ensure_ascii=False)
        found = cached(project, "schema", (*parts, text), lambda d=d: _dashboard_errors(board, target, d), _valid)
        for panel, message in found:
            yield Issue(Location(file=rel, dashboard=uid, panel=panel), message)


def _jsonschema_version() -> str:
    """Which jsonschema validates, without importing it (or reading package metadata, which
    took longer than the cached check): its files' identity, which an upgrade changes."""
    import importlib.util

    from generator.cache import tool_identity

    spec = importlib.util.find_spec("jsonschema")
    folder = Path(spec.origin).parent if spec is not None and spec.origin else None
    if folder is None:
        return ""
    return "\0".join(tool_identity(str(folder / name)) for name in ("__init__.py", "validators.py", "_keywords.py")
                      if (folder / name).is_file())
