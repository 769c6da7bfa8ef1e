"""Grafana's v2 dashboard JSON schema, shipped as package data, and shaping values to it.

`generator/schemas/dashboardv2.jsonschema.json` is a byte-for-byte copy of the schema the
grafana-foundation-sdk publishes (see `generator/schemas/PROVENANCE`). The SDK generates it
from Grafana's CUE kinds, and in four places it turns CUE's "any value" (`_`) into "an object":
a field override property's `value`, a matcher's and a transformation's `options`, and the
values of an annotation's `legacyOptions`. Grafana stores strings, numbers and lists there
(`{"id": "unit", "value": "bytes"}` is the most common override there is), so `definitions()`
reads those four as "any value"; everything else is used as published.

`fit` shapes a classic value to a v2 definition: it keeps what the definition has a place
for and hands each key or list item it drops to the caller, so the converter can name it.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

SCHEMA_FILE = "dashboardv2.jsonschema.json"

#: (definition, key, ...) of the places the published schema narrows CUE's `_` to an object.
ANY_VALUE_PLACES = (
    ("DynamicConfigValue", "properties", "value"),
    ("MatcherConfig", "properties", "options"),
    ("TransformationSpec", "properties", "options"),
    ("AnnotationQuerySpec", "properties", "legacyOptions", "additionalProperties"),
)


def schema_text() -> bytes:
    """The shipped schema file's bytes."""
    return resources.files("generator").joinpath("schemas", SCHEMA_FILE).read_bytes()


@functools.cache
def published_schema() -> dict:
    """The schema exactly as the SDK publishes it."""
    return json.loads(schema_text())


@functools.cache
def definitions() -> dict:
    """The schema's definitions, with the ANY_VALUE_PLACES read as any value."""
    defs = copy.deepcopy(published_schema()["definitions"])
    for place in ANY_VALUE_PLACES:
        node = defs
        for key in place[:-1]:
            node = node[key]
        node[place[-1]] = {}
    return defs


@functools.cache
def _validator():
    import jsonschema

    return jsonschema.Draft7Validator({"$ref": "#/definitions/Dashboard", "definitions": definitions()})


def schema_errors(spec: Any, limit: int = 20) -> list[str]:
    """Why `spec` is not a valid v2 dashboard spec, one `path: message` line per error (at most
    `limit`); an empty list when it is valid."""
    from jsonschema.exceptions import best_match

    out = []
    for error in sorted(_validator().iter_errors(spec), key=lambda e: [str(p) for p in e.absolute_path]):
        while error.context:  # "not valid under any of the given schemas": say which part is wrong,
            # in the branch of the kind the value says it is
            wrong_kind = {e.schema_path[0] for e in error.context
                          if e.validator == "const" and list(e.relative_path) == ["kind"]}
            error = best_match([e for e in error.context if e.schema_path[0] not in wrong_kind] or error.context)
        out.append(f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message[:300]}")
    return out[:limit]


# --- shaping a value to a definition ---------------------------------------------------------


class NoFit(Exception):
    """The value cannot take the definition's shape at all (wrong type, a required key missing)."""


_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
}

Drop = Callable[[str, str], None]


def fit(value: Any, definition: str, path: str, drop: Drop) -> Any:
    """`value` shaped to `definitions()[definition]`: object keys and list items the definition
    has no place for are left out and passed to `drop(path, reason)`; `path` is where `value`
    sits in the input (extended with report.join). Raises NoFit when nothing of it fits (and
    then reports no part of it: the caller names the whole value)."""
    return _fit_whole(value, {"$ref": f"#/definitions/{definition}"}, path, drop)


def _fit_whole(value: Any, node: dict, path: str, drop: Drop) -> Any:
    dropped: list = []
    shaped = _fit(value, node, path, lambda p, r: dropped.append((p, r)))
    for p, r in dropped:
        drop(p, r)
    return shaped


def fit_property(value: Any, definition: str, key: str, path: str, drop: Drop) -> Any:
    """`value` shaped to property `key` of `definitions()[definition]` (see fit)."""
    return _fit_whole(value, definitions()[definition]["properties"][key], path, drop)


def fits(value: Any, definition: str) -> bool:
    """Whether `value` takes the definition's shape without leaving anything out."""
    dropped: list = []
    try:
        fit(value, definition, "", lambda p, r: dropped.append(p))
    except NoFit:
        return False
    return not dropped


def _resolve(node: dict) -> dict:
    defs = definitions()
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[1]]
    return node


def _fit(value: Any, node: dict, path: str, drop: Drop) -> Any:
    from generator.dashv2.report import join

    node = _resolve(node)
    if not node:
        return value
    for key in ("oneOf", "anyOf"):
        if key in node:
            return _fit_branches(value, node[key], path, drop)
    for sub in node.get("allOf", ()):
        value = _fit(value, sub, path, drop)
    if "const" in node and value != node["const"]:
        raise NoFit(f"must be {node['const']!r}")
    if "enum" in node and value not in node["enum"]:
        raise NoFit(f"{value!r} is not one of {node['enum']}")
    kind = node.get("type")
    if kind and not _TYPES[kind](value):
        raise NoFit(f"must be a{'n' if kind[0] in 'aeiou' else ''} {kind}")
    if isinstance(value, dict) and (kind == "object" or "properties" in node):
        props, extra = node.get("properties", {}), node.get("additionalProperties", True)
        required = node.get("required", ())
        out = {}
        for k, v in value.items():
            sub_path = join(path, k)
            sub = props.get(k, extra if isinstance(extra, dict) else None)
            if sub is None:
                if extra is False:
                    drop(sub_path, "the v2 model has no such field")
                else:
                    out[k] = v
                continue
            try:
                out[k] = _fit(v, sub, sub_path, drop)
            except NoFit as exc:
                if k in required:
                    raise
                drop(sub_path, f"does not fit the v2 model ({exc})")
        missing = [k for k in required if k not in out]
        if missing:
            raise NoFit(f"lacks {', '.join(missing)}")
        return out
    if isinstance(value, list) and "items" in node:
        out_list = []
        for i, v in enumerate(value):
            try:
                out_list.append(_fit(v, node["items"], join(path, i), drop))
            except NoFit as exc:
                drop(join(path, i), f"does not fit the v2 model ({exc})")
        return out_list
    return value


def _fit_branches(value: Any, branches: list, path: str, drop: Drop) -> Any:
    """The branch that takes the value with the fewest drops; a branch whose defaults say what
    the value is (a value mapping's `type`) wins a tie."""
    best = None
    for branch in branches:
        dropped: list = []
        try:
            shaped = _fit(value, branch, path, lambda p, r, d=dropped: d.append((p, r)))
        except NoFit:
            continue
        score = (_default_mismatches(value, branch), len(dropped))
        if best is None or score < best[0]:
            best = (score, shaped, dropped)
        if score == (0, 0):
            break
    if best is None:
        raise NoFit("fits none of the v2 shapes for it")
    for p, r in best[2]:
        drop(p, r)
    return best[1]


def _default_mismatches(value: Any, branch: dict) -> int:
    node = _resolve(branch)
    if not isinstance(value, dict):
        return 0
    props = node.get("properties", {})
    return sum(1 for k, p in props.items() if "default" in p and k in value and value[k] != p["default"]
               and k == "type")


__all__ = [
    "ANY_VALUE_PLACES",
    "SCHEMA_FILE",
    "NoFit",
    "definitions",
    "fit",
    "fit_property",
    "fits",
    "published_schema",
    "schema_errors",
    "schema_text",
]
