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

from generator.checks import WARNING, Issue, Location, check
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


@check("schema/dashboard")
def dashboard_schema(project):
    """Every dashboard (and each Prometheus target) validates against Grafana's dashboard JSON schema."""
    folder = project.schema_dir
    if folder is None:
        yield Issue(Location(), f"skipped: no schema folder (none at {BESIDE_ROOT} beside the project; set {ENV} "
                    "or --schema-dir to the folder holding dashboard.jsonschema.json); "
                    "dashboards were not validated against Grafana's schema", WARNING)
        return
    board = _validator(folder, DASHBOARD_SCHEMA)
    target = _validator(folder, PROMETHEUS_SCHEMA) if (folder / PROMETHEUS_SCHEMA).is_file() else None
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
