"""Grafana's substitution of variables and macros, as the PromQL check and the stack use it."""

from generator.templating import TimeContext, expand, used_variables

DASH = {"templating": {"list": [
    {"name": "datasource", "type": "datasource"},
    {"name": "job", "type": "query", "current": {"value": "api"}},
    {"name": "handler", "type": "query", "multi": True, "includeAll": True, "allValue": ".*",
     "current": {"value": "$__all"}},
]}}


def test_builtins_follow_grafana():
    t = TimeContext(range_seconds=3600, scrape_interval_seconds=15)
    assert t.interval_seconds == 15 and t.rate_interval_seconds == 60
    t = TimeContext(range_seconds=7 * 86400, scrape_interval_seconds=60)
    assert t.interval_seconds == 605 and t.rate_interval_seconds == 665


def test_variables_and_all():
    assert expand('x{job="$job",h=~"${handler}"}[$__rate_interval]', DASH) == 'x{job="api",h=~".*"}[60s]'
    assert expand('[[job]] $__range', DASH, time=TimeContext(range_seconds=600)) == "api 600s"


def test_multi_values_are_escaped_and_joined():
    out = expand('h=~"$handler"', DASH, overrides={"handler": ["/a.b", "/c"]})
    assert out == 'h=~"(/a\\\\.b|/c)"'


def test_unknown_variables_stay_and_are_listed():
    assert expand("x{a=\"$nope\"}", DASH) == 'x{a="$nope"}'
    assert used_variables("$job ${handler} [[x]] $__range") == {"job", "handler", "x", "__range"}
