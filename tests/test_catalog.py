"""The catalog knows exactly what the app and exporters emit, and refuses the rest."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

import raymontology_metrics as appmetrics
from dataclasses import replace

from generator.catalog import Catalog, CatalogError, Matcher, app_metrics, eq, ne, nre, re_
from repo_project import CATALOG, CATALOG_MODULE, CONFIG, QUERIES


def test_business_metrics_from_the_app_objects():
    m = CATALOG.metric("risk_score_distribution_bucket")
    assert m.type == "histogram" and m.le_values[-3:] == ("0.9", "1.0", "+Inf") and "0.8" in m.le_values
    assert CATALOG.metric("raymontology_company_searches_total").labels == ("result",)
    assert CATALOG.metric("raymontology_db_query_duration_seconds_sum").buckets[7] == 1.0


def test_exposed_names_match_the_catalog():
    """What prometheus_client really writes is what the catalog declares."""
    registry = CollectorRegistry()
    app = appmetrics.create(registry)
    app.company_searches.labels(result="hit").inc()
    app.risk_scores.observe(0.75)
    app.active_users.labels(window="1d").set(3)
    m = CATALOG_MODULE
    cat = Catalog.of(*m.EXPORTER_METRICS, *app_metrics(vars(app).values(), m.APP_SOURCE, m.APP_UNITS))
    exposed = {line.split("{")[0].split(" ")[0] for line in generate_latest(registry).decode().splitlines()
               if line and not line.startswith("#")}
    exposed = {n for n in exposed if not n.endswith("_created")}
    assert exposed <= set(cat.series_names())
    assert 'le="0.8"' in generate_latest(registry).decode()


def test_selector_builder_validates_names_and_labels():
    assert CATALOG.sel("http_requests_total", ne("handler", "/metrics"), job="x") == \
        'http_requests_total{job="x", handler!="/metrics"}'
    assert CATALOG.sel("up") == "up"
    with pytest.raises(CatalogError, match="unknown metric"):
        CATALOG.sel("http_request_total")
    with pytest.raises(CatalogError, match="no label 'stauts'"):
        CATALOG.sel("http_requests_total", re_("stauts", "5.."))
    with pytest.raises(CatalogError, match="no label 'le'"):
        CATALOG.sel("http_request_duration_seconds_sum", le="1.0")


def test_label_children_start_at_zero():
    """The first failure must be countable: its series exists (at 0) before it happens."""
    registry = CollectorRegistry()
    appmetrics.create(registry)
    text = generate_latest(registry).decode()
    for line in ('raymontology_company_searches_total{result="error"} 0.0',
                 'raymontology_dart_crawls_total{result="failure"} 0.0',
                 'raymontology_db_query_duration_seconds_count{operation="delete"} 0.0'):
        assert line in text, line


def test_matchers_are_data_written_as_promql_only_in_the_selector():
    m = nre("handler", '/metrics|/a"b')
    assert (m.label, m.op, m.value) == ("handler", "!~", '/metrics|/a"b')
    assert str(m) == 'handler!~"/metrics|/a\\"b"'
    assert [x.op for x in (eq("a", "1"), ne("a", "1"), re_("a", "1"), nre("a", "1"))] == ["=", "!=", "=~", "!~"]
    with pytest.raises(CatalogError, match="operator"):
        Matcher("a", "==", "1")
    with pytest.raises(CatalogError, match="not a Matcher"):
        CATALOG.sel("http_requests_total", 'handler!~"/x"')  # a string is not read as a label


def test_several_excluded_handlers_render_as_one_regex_matcher():
    """Two or more excluded handlers used to crash: the `!~` matcher's text was read as a label name."""
    cfg = replace(CONFIG, selectors=replace(CONFIG.selectors, excluded_handlers=("/metrics", "/health", "/docs.json")))
    text = QUERIES.http_requests(cfg, "api")
    assert text == 'http_requests_total{job="api", handler!~"/metrics|/health|/docs\\\\.json"}'
    assert "handler!~" in QUERIES.mean_latency(cfg, "api", "5m")
    with pytest.raises(CatalogError, match="no label 'route'"):
        CATALOG.sel("http_requests_total", nre("route", "/a|/b"))


def test_several_excluded_handlers_render_the_whole_project(project):
    from generator.render import render_project

    cfg = replace(CONFIG, selectors=replace(CONFIG.selectors, excluded_handlers=("/metrics", "/health")))
    files = render_project(project, cfg)
    board = files["dashboards/raymontology-system-health.json"].decode()
    assert 'handler!~\\"/metrics|/health\\"' in board
    assert 'handler!=\\"/metrics\\"' not in board
