"""Schema: dashboards validate against Grafana's published dashboard JSON schema.

The schemas ship with the tool as package data (generator/schemas/: Apache-2.0 files copied
byte for byte from grafana-foundation-sdk, each listed with its checksum in PROVENANCE), so the
check runs in every clone and every user's CI. `--schema-dir` (or DASHGEN_SCHEMA_DIR) may name
another folder, e.g. to try a newer schema. The schema is stricter than the server, so a failure
here is about dashgen's output, not about what Grafana would accept (Grafana itself only insists
on a title and a well-formed uid). Prometheus targets are validated against the query schema too.

Where the SDK's schema is narrower than Grafana's own dashboard kind (values the kind leaves
open, data links typed as dashboard links, required properties that have a default), the check
reads it as Grafana does (`_as_grafana_reads`), so a dashboard Grafana wrote is not reported
for what Grafana writes; the tests validate our own output against the unchanged schema. A
panel that fails is reported by the key that fails and the panel's title, never as the whole
panel's JSON.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

from generator.checks import Issue, Location, cached, check
from generator.checks.exprs import iter_panels
from generator.errors import ConfigError
from generator.normalize import prometheus_targets

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

    return jsonschema.Draft7Validator(_as_grafana_reads(json.loads(data)))


#: Values Grafana's dashboard kind leaves open that the SDK's JSON schema renders too narrowly,
#: as (definition, property, what Grafana's CUE says): a field matcher's `options` and an
#: override property's `value` are `_` (any value: byName takes a string, a unit is a string),
#: a variable's `query` is `string | {...}` (an open object: the Prometheus editor saves
#: {qryType: 1, query: "...", refId: "..."}), which the SDK renders as an object of objects.
#: Panel links and a field's data links are data links ({title, url, targetBlank}, what the
#: link editors write), which the SDK types as dashboard links (icon, tooltip, tags required).
_DATA_LINKS = {"type": "array", "items": {"type": "object", "properties": {
    "title": {"type": "string"}, "url": {"type": "string"}, "targetBlank": {"type": "boolean"}}}}
_OPEN_VALUES = (
    ("MatcherConfig", "options", {}),
    ("DynamicConfigValue", "value", {}),
    ("VariableModel", "query", {"oneOf": [{"type": "string"}, {"type": "object"}]}),
    ("Panel", "links", _DATA_LINKS),
    ("FieldConfig", "links", _DATA_LINKS),
)
#: Keys the Prometheus query builder (its metrics browser) saves on every query it touched,
#: which the query schema does not list.
_QUERY_BUILDER_KEYS = ("disableTextWrap", "fullMetaSearch", "includeNullMetadata", "useBackend")


def _as_grafana_reads(schema: dict) -> dict:
    """The schema as Grafana reads a dashboard: the open values of _OPEN_VALUES as its CUE has
    them, a property with a default not required (Grafana fills the default in), and the
    query builder's keys allowed on a Prometheus query."""
    defs = schema.get("definitions") if isinstance(schema, dict) else None
    if not isinstance(defs, dict):
        return schema
    for name, prop, open_value in _OPEN_VALUES:
        definition = defs.get(name)
        props = definition.get("properties") if isinstance(definition, dict) else None
        if isinstance(props, dict) and prop in props:
            old = props[prop] if isinstance(props[prop], dict) else {}
            props[prop] = {**open_value, "description": old.get("description", "")}
    for definition in defs.values():
        props = definition.get("properties") if isinstance(definition, dict) else None
        if isinstance(props, dict) and isinstance(definition.get("required"), list):
            definition["required"] = [r for r in definition["required"] if not (
                isinstance(r, str) and isinstance(props.get(r), dict) and "default" in props[r])]
    query = defs.get("Dataquery")
    if isinstance(query, dict) and isinstance(query.get("properties"), dict):
        query["properties"].update({k: {"type": "boolean"} for k in _QUERY_BUILDER_KEYS})
    return schema


def _path(error) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(root)"


def _explained(error) -> list:
    """The errors that say why `error` failed. For an anyOf/oneOf ("not valid under any of the
    given schemas") those of the branch that was meant: not one whose `type` the value does not
    have (a row panel's for a time series), then the one the value is least far from
    (`_weight`); recursively."""
    if not error.context:
        return [error]
    branches: dict = {}
    for c in error.context:
        branches.setdefault(c.relative_schema_path[0] if c.relative_schema_path else 0, []).append(c)
    meant = [errs for errs in branches.values() if not any(list(c.relative_path)[:1] == ["type"] for c in errs)]
    best = min(meant or list(branches.values()), key=lambda errs: sum(map(_weight, errs)))
    return [x for c in best for x in _explained(c)]


def _weight(error) -> int:
    """How far a value is from a schema branch: an unexpected key each, else one per error."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = (error.schema.get("properties") or {}) if isinstance(error.schema, dict) else {}
        return max(1, sum(1 for k in error.instance if k not in known))
    return 1


def _message(error) -> str:
    """The error's message with a long value cut short (never a whole panel)."""
    text = error.message
    shown = repr(error.instance)
    if len(shown) > 80 and shown in text:
        text = text.replace(shown, shown[:60] + "...", 1)
    return text if len(text) <= 300 else text[:297] + "..."


def _panel_title(d: dict, path: list) -> str:
    """The title of the (innermost) panel a JSON path is in, or ""."""
    title, node = "", d
    for i, key in enumerate(path):
        node = node.get(key) if isinstance(node, dict) else (
            node[key] if isinstance(node, list) and isinstance(key, int) and key < len(node) else None)
        if isinstance(node, dict) and i > 0 and path[i - 1] == "panels":
            title = str(node.get("title", ""))
    return title


def _dashboard_errors(board, target, d: dict) -> list[list[str]]:
    """[panel title or "", message] for one dashboard, as the check reports them."""
    out = []
    errors = [x for e in board().iter_errors(d) for x in _explained(e)]
    errors.sort(key=lambda e: list(map(str, e.absolute_path)))
    for e in errors[:MAX_PER_DASHBOARD]:
        out.append([_panel_title(d, list(e.absolute_path)), f"{_path(e)}: {_message(e)}"])
    if len(errors) > MAX_PER_DASHBOARD:
        out.append(["", f"... and {len(errors) - MAX_PER_DASHBOARD} more schema errors"])
    if target() is not None:
        for p in iter_panels(d):
            for t in prometheus_targets(p):
                for e in (x for err in target().iter_errors(t) for x in _explained(err)):
                    out.append([str(p.get("title", "")), f"target {t.get('refId', '?')} {_path(e)}: {_message(e)}"])
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
