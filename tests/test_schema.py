"""Every rendered dashboard validates against Grafana's published dashboard schema."""

from __future__ import annotations

import json

import jsonschema

from generator.render import build_outputs


def test_dashboards_validate_against_grafana_schema(root, schema_dir):
    schema = json.loads((schema_dir / "dashboard.jsonschema.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    _loaded, boards = build_outputs(root)
    assert boards
    for rel, d in boards:
        errors = sorted(validator.iter_errors(d), key=lambda e: list(e.absolute_path))
        assert not errors, f"{rel}: " + "; ".join(f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5])


def test_schema_catches_a_legacy_key(schema_dir):
    """The validator is live: grafanalib's legacy `rows` key is rejected."""
    schema = json.loads((schema_dir / "dashboard.jsonschema.json").read_text())
    bad = {"schemaVersion": 42, "templating": {"list": []}, "annotations": {"list": []}, "rows": []}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(bad))
