"""The v2 dashboard JSON schema shipped as package data: provenance, checksum, and the validator."""

from __future__ import annotations

import hashlib
from pathlib import Path

import jsonschema
import pytest

from generator.dashv2 import schema as v2schema
from generator.dashv2 import validate_v2

SCHEMAS = Path(__file__).resolve().parents[1] / "generator" / "schemas"
REQUIRED = {"file", "repository", "path", "commit", "licence", "sha256", "size"}


def provenance() -> dict[str, dict[str, str]]:
    """generator/schemas/PROVENANCE as {file: {key: value}}."""
    blocks: dict[str, dict[str, str]] = {}
    text = (SCHEMAS / "PROVENANCE").read_text(encoding="utf-8")
    for chunk in text.split("\n\n"):
        lines = [ln for ln in chunk.splitlines() if ln.strip() and not ln.startswith("#")]
        if not lines:
            continue
        entry = dict(ln.split(": ", 1) for ln in lines)
        blocks[entry["file"]] = entry
    return blocks


def test_every_shipped_data_file_has_a_provenance_entry_whose_checksum_matches():
    entries = provenance()
    files = {p.name for p in SCHEMAS.iterdir() if p.name != "PROVENANCE"}
    assert files and files == set(entries), "every file in generator/schemas is listed in PROVENANCE, and only those"
    for name, entry in entries.items():
        assert REQUIRED <= set(entry), f"{name}: PROVENANCE lacks {REQUIRED - set(entry)}"
        data = (SCHEMAS / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{name} is not the recorded copy"
        assert len(data) == int(entry["size"]), name
        assert len(entry["commit"]) == 40 and entry["licence"].startswith("Apache-2.0")


def test_the_package_reads_the_shipped_file():
    assert v2schema.schema_text() == (SCHEMAS / v2schema.SCHEMA_FILE).read_bytes()
    assert "Dashboard" in v2schema.published_schema()["definitions"]


def test_the_any_value_places_are_objects_in_the_published_schema():
    """The four places read as "any value" really are narrowed to objects in the file as
    published: when the SDK fixes them, this test says the relaxation can go."""
    defs = v2schema.published_schema()["definitions"]
    for place in v2schema.ANY_VALUE_PLACES:
        node = defs
        for key in place:
            node = node[key]
        assert node.get("type") == "object", place


def _override_spec(value) -> dict:
    return {"title": "t", "cursorSync": "Off", "preload": False, "tags": [], "links": [], "annotations": [],
            "variables": [], "timeSettings": {"from": "now-6h", "to": "now", "autoRefresh": "",
                                              "autoRefreshIntervals": [], "hideTimepicker": False,
                                              "fiscalYearStartMonth": 0},
            "elements": {"panel-1": {"kind": "Panel", "spec": {
                "id": 1, "title": "p", "description": "", "links": [],
                "data": {"kind": "QueryGroup", "spec": {"queries": [], "transformations": [], "queryOptions": {}}},
                "vizConfig": {"kind": "VizConfig", "group": "timeseries", "version": "", "spec": {
                    "options": {}, "fieldConfig": {"defaults": {}, "overrides": [
                        {"matcher": {"id": "byName", "options": "errors"},
                         "properties": [{"id": "unit", "value": value}]}]}}}}}},
            "layout": {"kind": "GridLayout", "spec": {"items": []}}}


def test_an_override_value_that_is_a_string_is_valid_although_the_published_schema_says_object():
    spec = _override_spec("bytes")
    strict = jsonschema.Draft7Validator({"$ref": "#/definitions/Dashboard",
                                         "definitions": v2schema.published_schema()["definitions"]})
    assert list(strict.iter_errors(spec)), "the published schema rejects a string override value"
    assert validate_v2(spec) == []


@pytest.mark.parametrize("breakage, where", [
    (lambda s: s.pop("layout"), "(root)"),
    (lambda s: s.__setitem__("cursorSync", "Sometimes"), "cursorSync"),
    (lambda s: s["elements"]["panel-1"]["spec"].__setitem__("colour", "red"), "elements/panel-1/spec"),
    (lambda s: s["timeSettings"].__setitem__("weekStart", ""), "timeSettings/weekStart"),
])
def test_validate_v2_names_what_is_wrong(breakage, where):
    spec = _override_spec("bytes")
    breakage(spec)
    errors = validate_v2(spec)
    assert errors and errors[0].startswith(where + ":"), errors


def test_fit_keeps_what_the_definition_holds_and_names_the_rest():
    dropped = []
    step = v2schema.fit({"value": None, "color": "red", "index": 0}, "Threshold", "steps[0]",
                        lambda p, r: dropped.append(p))
    assert step == {"value": None, "color": "red"} and dropped == ["steps[0].index"]
    with pytest.raises(v2schema.NoFit):
        v2schema.fit({"color": 3}, "Threshold", "x", lambda p, r: None)
    mapping = v2schema.fit({"type": "special", "options": {"match": "null", "result": {"text": "N/A"}}},
                           "ValueMapping", "m", lambda p, r: dropped.append(p))
    assert mapping["options"]["match"] == "null" and dropped == ["steps[0].index"]
