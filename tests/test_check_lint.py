"""Dashboard and rule lint: each check on a small mutation of a real dashboard or a one-alert group."""

from __future__ import annotations

import pytest

from checks_fixtures import alert, findings, project, real_dashboard
from generator.rules import Record, RuleGroup

DS = {"type": "prometheus", "uid": "${datasource}"}


def _panels(d):
    return [p for p in d["panels"] if p.get("type") != "row"]


def test_real_dashboards_are_clean_on_every_dashboard_check():
    boards = [real_dashboard(u) for u in ("raymontology-system-health", "raymontology-business",
                                          "raymontology-database")]
    proj = project(boards)
    from generator.checks import CHECKS

    names = [n for n in CHECKS if n.startswith("dashboard/") and n != "dashboard/rate-interval"]
    assert len(names) == DASHBOARD_CHECKS  # the registry is filled on import, not on first use
    for name in names:
        assert findings(name, proj) == [], name


#: dashboard/ checks but rate-interval (which the real set needs exclusions for).
DASHBOARD_CHECKS = 15


# Each mutation breaks exactly one thing; the check must say so.
def _uid_long(d): d["uid"] = "raymontology-" + "x" * 40
def _uid_chars(d): d["uid"] = "raymontology/system health"
def _uid_missing(d): del d["uid"]
def _no_title(d): d["title"] = " "
def _dup_panel_id(d): _panels(d)[1]["id"] = _panels(d)[0]["id"]
def _dup_ref_id(d):
    p = _panels(d)[0]
    p["targets"] = [dict(p["targets"][0]), dict(p["targets"][0])]
def _off_grid(d): _panels(d)[0]["gridPos"].update(x=20, w=6)
def _zero_height(d): _panels(d)[0]["gridPos"]["h"] = 0
def _overlap(d): _panels(d)[1]["gridPos"] = dict(_panels(d)[0]["gridPos"])
def _no_unit(d): del _panels(d)[0]["fieldConfig"]["defaults"]["unit"]
def _no_description(d): del _panels(d)[0]["description"]
def _fixed_datasource(d): _panels(d)[0]["datasource"] = {"type": "prometheus", "uid": "grafanacloud-prom"}
def _fixed_target_datasource(d): _panels(d)[0]["targets"][0]["datasource"] = "grafanacloud-prom"
def _no_ds_variable(d): d["templating"]["list"] = [v for v in d["templating"]["list"] if v["name"] != "datasource"]
def _literal_threshold(d):
    p = next(p for p in _panels(d) if p["title"] == "CPU")
    p["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] = 0.75
def _up_down_elsewhere(d):
    p = next(p for p in _panels(d) if p["title"] == "CPU")
    p["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] = 0  # 0/1 only on up/down stats
def _unknown_unit(d): _panels(d)[0]["fieldConfig"]["defaults"]["unit"] = "percentage"
def _unknown_override_unit(d):
    _panels(d)[0]["fieldConfig"]["overrides"] = [{"matcher": {"id": "byName", "options": "x"},
                                                  "properties": [{"id": "unit", "value": "secs"}]}]
def _narrow_panel(d):
    p = next(p for p in _panels(d) if p["title"] == "CPU")
    p["gridPos"]["w"] -= 4
def _stray_panel(d):
    # the README's first "Add a panel" attempt: an 8-wide panel appended below a full row
    last = max(_panels(d), key=lambda p: p["gridPos"]["y"] + p["gridPos"]["h"])
    d["panels"].append({**_panels(d)[0], "id": 999, "title": "New", "gridPos": {
        "x": 0, "y": last["gridPos"]["y"] + last["gridPos"]["h"], "w": 8, "h": 8}})
def _fixed_window(d):
    p = next(p for p in _panels(d) if p["title"] == "Request rate by status")
    p["targets"][0]["expr"] = p["targets"][0]["expr"].replace("$__rate_interval", "5m")
def _interval_window(d):
    p = next(p for p in _panels(d) if p["title"] == "Request rate by status")
    p["targets"][0]["expr"] = p["targets"][0]["expr"].replace("$__rate_interval", "$__interval")
def _undefined_variable(d):
    p = next(p for p in _panels(d) if p["title"] == "Request rate by status")
    p["targets"][0]["expr"] = p["targets"][0]["expr"].replace('job="$job"', 'job="$service"')
def _unused_variable(d):
    d["templating"]["list"].append({"type": "custom", "name": "env", "query": "prod,staging"})


MUTATIONS = [
    ("dashboard/uid", _uid_long, "at most 40"),
    ("dashboard/uid", _uid_chars, "characters Grafana refuses"),
    ("dashboard/uid", _uid_missing, "no uid"),
    ("dashboard/title", _no_title, "no title"),
    ("dashboard/panel-id-unique", _dup_panel_id, "also used by"),
    ("dashboard/refid-unique", _dup_ref_id, "used by two targets"),
    ("dashboard/grid-bounds", _off_grid, "24 columns"),
    ("dashboard/grid-bounds", _zero_height, "at least 1"),
    ("dashboard/grid-overlap", _overlap, "overlaps panel"),
    ("dashboard/panel-unit", _no_unit, "no unit"),
    ("dashboard/unit-known", _unknown_unit, "did you mean percent or percentunit"),
    ("dashboard/unit-known", _unknown_override_unit, "override unit 'secs'"),
    ("dashboard/row-gap", _narrow_panel, "empty"),
    ("dashboard/row-gap", _stray_panel, "columns 8-23 empty"),
    ("dashboard/panel-description", _no_description, "no description"),
    ("dashboard/datasource-variable", _fixed_datasource, "grafanacloud-prom"),
    ("dashboard/datasource-variable", _fixed_target_datasource, "target A"),
    ("dashboard/datasource-variable", _no_ds_variable, "needs a template variable"),
    ("dashboard/thresholds-config", _literal_threshold, "step 0.75"),
    ("dashboard/thresholds-config", _up_down_elsewhere, "step 0 "),
    ("dashboard/rate-interval", _fixed_window, "[5m]"),
    ("dashboard/rate-interval", _interval_window, "fewer than two samples"),
    ("dashboard/variables-defined", _undefined_variable, "$service"),
    ("dashboard/variables-used", _unused_variable, "$env"),
]


@pytest.mark.parametrize("check, mutate, text", MUTATIONS, ids=[f"{c}:{m.__name__}" for c, m, _t in MUTATIONS])
def test_dashboard_mutations(check, mutate, text):
    d = real_dashboard()
    assert findings(check, project([d])) == []
    mutate(d)
    got = findings(check, project([d]))
    assert got, f"{check} missed {mutate.__name__}"
    assert any(text in f.message for f in got), [f.message for f in got]


@pytest.mark.parametrize("query, bad", [
    ("label_values(http_requests_total, job)", False),
    ('label_values(http_requests_total{job="$job"}, handler)', False),
    ("label_values(http_request_total, job)", True),
    ('label_values(http_requests_total{job="$job"}, route)', True),
    ("label_values(job)", False),
])
def test_variable_queries(query, bad):
    d = real_dashboard()
    next(v for v in d["templating"]["list"] if v["name"] == "handler")["query"] = query
    got = findings("catalog/variable-query", project([d]))
    assert bool(got) is bad, got


def test_duplicate_uid_points_at_the_second_dashboard():
    got = findings("dashboard/uid-unique", project([real_dashboard(), real_dashboard()]))
    assert [(f.location.file, f.location.dashboard) for f in got] == [("dashboards/d1.py", "raymontology-system-health")]


def test_up_down_stats_may_use_0_and_1():
    d = real_dashboard("raymontology-database")
    assert any(s.get("value") == 1 for p in _panels(d)
               for s in p["fieldConfig"]["defaults"].get("thresholds", {}).get("steps", []))
    assert findings("dashboard/thresholds-config", project([d])) == []


def test_range_totals_over_the_time_picker_are_allowed():
    # "Busiest endpoints" uses increase(...[$__range]): a total over the selected range.
    assert findings("dashboard/rate-interval", project([real_dashboard()])) == []


# --- rules ------------------------------------------------------------------------------------

RULE_CASES = [
    ("rule/alert-name", alert(name="high_cpu_usage"), "CamelCase"),
    ("rule/alert-name", alert(name="A" + "b" * 40), "at most 40"),
    ("rule/severity", alert(severity=""), "no severity"),
    ("rule/severity", alert(severity="page"), "not one of critical, warning, info"),
    ("rule/annotations", alert(summary=""), "no summary"),
    ("rule/annotations", alert(description=" "), "no description"),
    ("rule/summary-style", alert(summary="cpu is high"), "capitalised sentence"),
    ("rule/summary-style", alert(summary="CPU at {{ $value }}."), "template"),
    ("rule/runbook", alert(runbook=""), "no runbook steps"),
]


@pytest.mark.parametrize("check, rule, text", RULE_CASES, ids=[f"{c}:{i}" for i, (c, _r, _t) in enumerate(RULE_CASES)])
def test_rule_cases(check, rule, text):
    assert findings(check, project(rules=[alert()])) == []
    got = findings(check, project(rules=[rule]))
    assert got and any(text in f.message for f in got), got
    assert got[0].location.group == "test"


def test_alert_dashboard_must_exist():
    proj = project([real_dashboard()], rules=[alert(dashboard="raymontology-system-health")])
    assert findings("rule/dashboard-link", proj) == []
    (f,) = findings("rule/dashboard-link", project([real_dashboard()], rules=[alert(dashboard="raymontology-gone")]))
    assert "raymontology-gone" in f.message and "raymontology-system-health" in f.message


def test_summary_style_is_a_warning():
    (f,) = findings("rule/summary-style", project(rules=[alert(summary="cpu is high")]))
    assert f.severity == "warning"


def test_group_size_and_duplicates():
    big = RuleGroup("big", [alert(name=f"Alert{i}") for i in range(21)])
    assert len(findings("rule/group-size", project(groups=[("alerts/big.py", big)]))) == 1
    ok = RuleGroup("ok", [alert(name=f"Alert{i}") for i in range(20)])
    assert findings("rule/group-size", project(groups=[("alerts/ok.py", ok)])) == []
    groups = [("alerts/a.py", RuleGroup("a", [alert(name="Same")])),
              ("alerts/b.py", RuleGroup("b", [alert(name="Same")]))]
    (f,) = findings("rule/duplicate-alert", project(groups=groups))
    assert f.location.file == "alerts/b.py" and "alerts/a.py" in f.message


@pytest.mark.parametrize("name, bad", [
    ("job:http_requests:rate5m", False),
    ("raymontology:http_requests_5xx:ratio_rate5m", False),
    ("job:http_requests:rate5m:sum", False),
    ("http_requests_rate5m", True),
    ("job:http_requests", True),
    ("job::rate5m", True),
])
def test_record_names(name, bad):
    groups = [("alerts/r.py", RuleGroup("r", [Record(name, "sum(up)")]))]
    assert bool(findings("rule/record-name", project(groups=groups))) is bad


def test_checks_yield_typed_issues_and_a_tuple_is_refused():
    from generator.checks import Check, Issue, Location

    proj = project([real_dashboard()])
    found = findings("catalog/unknown-metric", project([{**real_dashboard(), "panels": [
        {"type": "stat", "title": "X", "id": 1, "gridPos": {"h": 4, "w": 24, "x": 0, "y": 0},
         "targets": [{"refId": "A", "expr": "nosuch_metric_total"}]}]}]))
    assert [f.message.split(":")[0] for f in found] == ["metric nosuch_metric_total is not in the metric catalog (monitoring/catalog.py)"]
    assert Check("x/ok", "", "error", lambda p: [Issue(Location(file="a"), "m", "warning")]).run(proj).__next__() \
        .severity == "warning"
    with pytest.raises(TypeError, match="yielded tuple, not an Issue"):
        list(Check("x/tuple", "", "error", lambda p: [(Location(), "m")]).run(proj))


def test_the_catalog_checks_share_one_selector_walk():
    proj = project([real_dashboard()])
    uses = proj.selector_uses
    assert uses is proj.selector_uses and uses  # built once, on first use
    by_name = {u.name: u for u in uses}
    assert by_name["http_requests_total"].hit[0].type == "counter"
    assert all(u.query in proj.queries for u in uses)
    assert proj.parsed_texts and all(ast is not None for ast, _err in proj.parsed_texts.values())
