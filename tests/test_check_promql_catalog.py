"""PromQL and metric-catalog checks, table-driven over single rule expressions and panel queries."""

from __future__ import annotations

import pytest

from checks_fixtures import alert, findings, project, real_dashboard
from generator.checks.exprs import PROBE_TIME, window_text
from datetime import timedelta

RULE_CASES = [
    # (check, expression, number of findings)
    ("promql/parse", 'sum(rate(http_requests_total[5m])', 1),
    ("promql/parse", 'up{job="x"} == 0', 0),
    ("catalog/unknown-metric", "rate(http_request_total[5m])", 1),
    ("catalog/unknown-metric", "raymontology:http_requests:rate5m > 1", 0),  # a recorded series
    ("catalog/unknown-metric", '{__name__=~"http_requests.*"}', 1),  # would catch _created series
    ("catalog/unknown-metric", '{__name__="up", job="x"} == 0', 0),
    ("catalog/unknown-metric", "sum(rate(risk_score_distribution[5m]))", 0),  # histogram-series says why
    ("catalog/unknown-label", 'rate(http_requests_total{route="/x"}[5m])', 1),
    ("catalog/unknown-label", 'rate(http_requests_total{handler="/x", instance="a"}[5m])', 0),
    ("catalog/unknown-label", 'pg_stat_database_deadlocks{datname="railway", datid="1"}', 0),
    ("catalog/histogram-series", "sum(rate(risk_score_distribution[5m]))", 1),
    ("catalog/histogram-series", 'risk_score_distribution_sum{le="1.0"}', 1),
    ("catalog/histogram-series", 'up{le="1"}', 1),
    ("catalog/histogram-series", "sum(rate(risk_score_distribution_bucket[5m]))", 1),  # adds up every bucket
    ("catalog/histogram-series", "sum by (le) (rate(risk_score_distribution_bucket[5m]))", 0),
    ("catalog/histogram-series", 'sum(rate(risk_score_distribution_bucket{le="0.8"}[5m]))', 0),
    ("catalog/histogram-series", "sum(rate(risk_score_distribution_sum[5m])) / sum(rate(risk_score_distribution_count[5m]))", 0),
    ("catalog/le-bound", 'risk_score_distribution_bucket{le="0.8"}', 0),
    ("catalog/le-bound", 'risk_score_distribution_bucket{le="0.75"}', 1),
    ("catalog/le-bound", 'risk_score_distribution_bucket{le="1"}', 1),  # Python exposes 1.0
    ("catalog/le-bound", 'risk_score_distribution_bucket{le=~"1(\\\\.0)?"}', 0),
    ("catalog/le-bound", 'risk_score_distribution_bucket{le=~"0\\\\.7."}', 1),
    ("catalog/le-bound", 'risk_score_distribution_bucket{le="+Inf"}', 0),
    ("catalog/rate-on-gauge", "rate(process_resident_memory_bytes[5m]) > 0", 1),
    ("catalog/rate-on-gauge", "increase(celery_queue_length[1h])", 1),
    ("catalog/rate-on-gauge", "irate(pg_stat_activity_max_tx_duration[5m])", 1),
    ("catalog/rate-on-gauge", "rate(process_resident_memory_bytes[10m:1m])", 1),
    ("catalog/rate-on-gauge", "rate(raymontology:http_requests:rate5m[5m])", 1),
    ("catalog/rate-on-gauge", "rate(process_cpu_seconds_total[5m]) > 0.8", 0),
    ("catalog/rate-on-gauge", "rate(pg_stat_database_deadlocks[5m])", 0),  # a counter without _total
    ("catalog/rate-on-gauge", "rate(http_request_duration_seconds_bucket[5m])", 0),
    ("catalog/rate-on-gauge", "deriv(pg_database_size_bytes[1h])", 0),
    ("catalog/grouping-label", "sum by (handlr) (rate(http_requests_total[5m]))", 1),
    ("catalog/grouping-label", "sum by (handler, status) (rate(http_requests_total[5m]))", 0),
    ("catalog/grouping-label", "sum by (le, job) (rate(risk_score_distribution_bucket[5m]))", 0),
    ("catalog/grouping-label", "sum by (instance) (up)", 0),
    ("catalog/grouping-label", "sum by (job) (raymontology:http_requests:rate5m)", 0),  # recorded: not declared
    ("catalog/grouping-label",
     'sum by (route) (label_replace(rate(http_requests_total[5m]), "route", "$1", "handler", "(.*)"))', 0),
    ("catalog/raw-counter", "sum(http_requests_total)", 1),
    ("catalog/raw-counter", "risk_score_distribution_count > 5", 1),
    ("catalog/raw-counter", "sum(increase(http_requests_total[1h]))", 0),
    ("catalog/raw-counter", "absent(http_requests_total)", 0),
    ("catalog/raw-counter", "count(http_requests_total)", 0),
    ("catalog/raw-counter", "resets(process_cpu_seconds_total[1h])", 0),
    ("catalog/raw-counter", "raymontology:http_requests:rate5m > 1", 0),
    ("catalog/raw-counter", 'up == 0', 0),
    ("catalog/histogram-quantile",
     "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_highr_seconds_bucket[5m])))", 0),
    ("catalog/histogram-quantile",
     "histogram_quantile(0.95, sum without (instance) (rate(http_request_duration_highr_seconds_bucket[5m])))", 0),
    ("catalog/histogram-quantile",
     "histogram_quantile(0.95, sum(rate(http_request_duration_highr_seconds_bucket[5m])))", 1),
    ("catalog/histogram-quantile",
     "histogram_quantile(0.95, sum by (handler) (rate(http_request_duration_seconds_bucket[5m])))", 1),
    ("catalog/histogram-quantile",
     "histogram_quantile(0.95, sum by (le) (http_request_duration_highr_seconds_bucket))", 1),
    ("catalog/histogram-quantile", "histogram_quantile(0.95, rate(http_request_duration_seconds_sum[5m]))", 1),
]


@pytest.mark.parametrize("check, expr, count", RULE_CASES,
                         ids=[f"{c}:{e[:50]}" for c, e, _n in RULE_CASES])
def test_rule_expressions(check, expr, count):
    got = findings(check, project(rules=[alert(expr)]))
    assert len(got) == count, got
    for f in got:
        assert f.check == check and f.severity == "error"
        assert f.location.rule == "TestAlert" and f.location.file == "alerts/test.py"


def test_the_real_recording_rules_are_clean():
    proj = project()
    for name in ("promql/parse", "catalog/unknown-metric", "catalog/unknown-label", "catalog/histogram-series",
                 "catalog/rate-on-gauge", "catalog/histogram-quantile", "catalog/raw-counter",
                 "catalog/grouping-label"):
        assert findings(name, proj) == []


def _board_with(expr: str, variables=()) -> dict:
    d = real_dashboard()
    panel = next(p for p in d["panels"] if p.get("type") == "timeseries")
    panel["targets"] = [{"expr": expr, "refId": "A", "datasource": {"type": "prometheus", "uid": "${datasource}"}}]
    d["templating"]["list"].extend(variables)
    return d


PANEL_CASES = [
    # Grafana's macros and variables are substituted before parsing.
    ("promql/parse", 'sum(rate(http_requests_total{job="$job", handler=~"$handler"}[$__rate_interval]))', 0),
    ("promql/parse", 'sum(rate(http_requests_total{job="${job}"}[${__rate_interval}])) * $__range_s', 0),
    ("promql/parse", "sum(rate(http_requests_total[$__rate_interval]) by (job)", 1),
    ("promql/parse", 'sum(rate(http_requests_total{job="$undefined_var"}[$__rate_interval]))', 0),  # inside quotes
    ("promql/parse", "sum(rate(http_requests_total[$undefined_window]))", 1),
    ("catalog/unknown-label", 'sum(rate(http_requests_total{job="$job", route="$handler"}[$__rate_interval]))', 1),
]


@pytest.mark.parametrize("check, expr, count", PANEL_CASES, ids=[f"{c}:{e[:50]}" for c, e, _n in PANEL_CASES])
def test_panel_queries(check, expr, count):
    got = findings(check, project([_board_with(expr)]))
    assert len(got) == count, got
    for f in got:
        assert f.location.dashboard == "raymontology-system-health" and f.location.panel


def test_multi_value_variable_expands_to_an_alternation():
    d = _board_with('sum(rate(http_requests_total{job="$job", handler=~"$handler"}[$__rate_interval]))')
    handler = next(v for v in d["templating"]["list"] if v["name"] == "handler")
    handler.update(current={"text": ["/a", "/b.c"], "value": ["/a", "/b.c"]})
    assert findings("promql/parse", project([d])) == []


def test_probe_macros_map_back_to_their_names():
    assert window_text(timedelta(seconds=PROBE_TIME.rate_interval_seconds)) == "$__rate_interval"
    assert window_text(timedelta(seconds=PROBE_TIME.range_seconds)) == "$__range"
    assert window_text(timedelta(seconds=PROBE_TIME.interval_seconds)) == "$__interval"
    assert window_text(timedelta(minutes=5)) == "5m"


def test_queries_of_other_data_sources_are_not_checked_as_promql():
    """A Loki query has an `expr` too, in LogQL: neither promql/parse nor the catalog checks
    read it; a query with no data source type to go by is PromQL when it has an `expr`."""
    d = real_dashboard()
    panel = next(p for p in d["panels"] if p.get("targets"))
    loki = {"refId": "Z", "expr": '{job="raymontology-backend"} |= "error" | json', "queryType": "range",
            "datasource": {"type": "loki", "uid": "logs"}}
    untyped = {"refId": "Y", "expr": "sum(rate(no_such_metric_total[5m])) by (", "datasource": "Prometheus"}
    panel["targets"] = [*panel["targets"], loki, untyped]
    parse = findings("promql/parse", project([d]))
    assert [f.location.panel for f in parse] == [panel["title"]]  # the untyped one only
    assert "no_such_metric_total" in parse[0].message and "json" not in parse[0].message
