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


def _findings(d: dict) -> list[list[str]]:
    from generator.checks.schema import (
        DASHBOARD_SCHEMA,
        PROMETHEUS_SCHEMA,
        _dashboard_errors,
        _validator,
        shipped,
    )

    board, target = _validator(shipped(DASHBOARD_SCHEMA)), _validator(shipped(PROMETHEUS_SCHEMA))
    return _dashboard_errors(lambda: board, lambda: target, d)


BOARD = {"schemaVersion": 42, "title": "T", "templating": {"list": []}, "annotations": {"list": []}}


def test_the_check_names_the_key_and_panel_that_fail_not_the_whole_panel():
    """A panel that fails Grafana's panel schema is reported by the key that fails and the
    panel's title (the row panel's branch of the schema is not the one meant)."""
    panel = {"type": "timeseries", "title": "Rate", "id": 1, "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
             "targets": [{"expr": "up", "refId": "A", "datasource": {"type": "prometheus", "uid": "p"}}],
             "description": "x" * 500, "nullPointMode": "null"}
    found = _findings({**BOARD, "panels": [panel]})
    assert found == [["Rate", "panels/0: Additional properties are not allowed ('nullPointMode' was unexpected)"]]
    row = {"type": "row", "title": "R", "id": 2, "collapsed": False, "panels": [], "targets": [{"refId": "A"}],
           "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}}
    assert _findings({**BOARD, "panels": [row]}) == [
        ["R", "panels/0: Additional properties are not allowed ('targets' was unexpected)"]]
    long = _findings({**BOARD, "refresh": {"every": "x" * 400}})
    assert len(long[0][1]) < 200 and "..." in long[0][1]


def test_the_check_accepts_what_grafana_writes_where_the_sdk_schema_is_narrower():
    """Matcher options and override values are any value in Grafana's dashboard kind, a
    variable's query may be the Prometheus editor's object, panel and field links are data
    links, a property with a default may be absent, and the query builder's keys are fine."""
    panel = {"type": "timeseries", "title": "Rate", "id": 1, "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
             "links": [{"title": "Runbook", "url": "https://example.com"}],
             "fieldConfig": {"defaults": {"links": [{"title": "Pod", "url": "/d/x?var-pod=${__field.labels.pod}"}]},
                             "overrides": [{"matcher": {"id": "byName", "options": "errors"},
                                            "properties": [{"id": "unit", "value": "reqps"}]}]},
             "targets": [{"expr": "up", "refId": "A", "datasource": {"type": "prometheus", "uid": "p"},
                          "useBackend": False, "fullMetaSearch": False, "includeNullMetadata": True,
                          "disableTextWrap": False}]}
    variable = {"type": "query", "name": "job", "datasource": {"type": "prometheus", "uid": "p"},
                "query": {"qryType": 1, "query": "label_values(up, job)", "refId": "PrometheusVariableQueryEditor"}}
    board = {**BOARD, "panels": [panel], "templating": {"list": [variable]},
             "links": [{"title": "Docs", "type": "link", "url": "https://example.com", "icon": "doc",
                        "tooltip": "", "tags": []}]}
    assert _findings(board) == []


def test_only_prometheus_queries_are_checked_against_the_prometheus_query_schema():
    loki = {"refId": "A", "expr": '{job="api"}', "queryType": "range", "datasource": {"type": "loki", "uid": "l"}}
    es = {"refId": "B", "query": "level:error", "datasource": {"type": "elasticsearch", "uid": "e"}}
    legacy = {"refId": "C", "expr": "up", "step": 30}  # no data source type to go by: it has PromQL
    panel = {"type": "timeseries", "title": "Logs", "id": 1, "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
             "targets": [loki, es, legacy]}
    assert _findings({**BOARD, "panels": [panel]}) == [
        ["Logs", "target C (root): Additional properties are not allowed ('step' was unexpected)"]]


def test_an_odd_schema_from_schema_dir_is_read_without_a_traceback():
    """--schema-dir may name any folder: definitions of odd shapes are left as they are."""
    from generator.checks.schema import _as_grafana_reads

    odd = {"definitions": {"MatcherConfig": {"properties": {"options": "x"}, "required": ["options", 3]},
                           "Panel": [], "DynamicConfigValue": {"properties": {"value": 1}, "required": ["value"]},
                           "Dataquery": {"properties": []}, "Other": {"properties": {"a": 5}, "required": ["a"]}}}
    got = _as_grafana_reads(odd)
    assert got["definitions"]["MatcherConfig"]["properties"]["options"] == {"description": ""}
    assert got["definitions"]["Other"]["required"] == ["a"]  # no default: still required
    assert _as_grafana_reads([]) == [] and _as_grafana_reads({"definitions": "x"}) == {"definitions": "x"}
