"""The seed's alert rules: names, severities, annotations, thresholds, and promtool's verdict."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from repo_project import CONFIG
from generator.render import render_project

SEED = {
    "ServiceDown": "critical", "HighErrorRate": "critical", "DatabaseConnectionFailed": "critical",
    "HighCPUUsage": "warning", "HighMemoryUsage": "warning", "SlowAPIResponse": "warning",
}


@pytest.fixture(scope="module")
def files(root):
    return render_project(root)


@pytest.fixture(scope="module")
def alerts(files):
    out = {}
    for name, data in files.items():
        if name.startswith("alerts/"):
            for group in yaml.safe_load(data)["groups"]:
                for rule in group["rules"]:
                    if "alert" in rule:
                        assert rule["alert"] not in out, f"duplicate alert {rule['alert']}"
                        out[rule["alert"]] = rule
    return out


def test_seed_alerts_with_their_severities(alerts):
    for name, severity in SEED.items():
        assert alerts[name]["labels"]["severity"] == severity


def test_every_alert_carries_the_annotations(alerts, files):
    runbooks = files["docs/runbooks.md"].decode()
    for name, rule in alerts.items():
        ann = rule["annotations"]
        assert {"summary", "description", "runbook_url", "dashboard_url"} <= set(ann), name
        assert ann["runbook_url"].endswith(f"#{name.lower()}")
        assert f'<a id="{name.lower()}"></a>' in runbooks, f"{name}: runbook anchor missing"
        assert ann["dashboard_url"].startswith(CONFIG.grafana_url + "/d/raymontology-")


def test_seed_thresholds_and_durations(alerts):
    t = CONFIG.thresholds
    assert alerts["HighErrorRate"]["for"] == t.error_ratio_for == "5m"
    assert f"> {t.error_ratio_alert:g}" in alerts["HighErrorRate"]["expr"]
    assert alerts["HighCPUUsage"]["for"] == "10m" and "> 0.8" in alerts["HighCPUUsage"]["expr"]
    assert alerts["HighMemoryUsage"]["for"] == "5m" and "> 0.85" in alerts["HighMemoryUsage"]["expr"]
    assert alerts["SlowAPIResponse"]["for"] == "5m" and alerts["SlowAPIResponse"]["expr"].endswith("> 1")
    assert alerts["DatabaseConnectionFailed"]["for"] == "1m"
    assert "[2m59s999ms]" in alerts["ServiceDown"]["expr"] and "for" not in alerts["ServiceDown"]
    assert alerts["ServiceDown"]["keep_firing_for"] == "2m"


def test_guards_against_no_traffic_and_vanished_targets(files, alerts):
    http = yaml.safe_load(files["alerts/raymontology-http.rules.yaml"])["groups"][0]["rules"]
    ratio = next(r for r in http if r.get("record", "").startswith("raymontology:http_requests_5xx"))
    assert "clamp_min(" in ratio["expr"] and " * 0)" in ratio["expr"]
    assert "absent(" in alerts["DatabaseConnectionFailed"]["expr"]
    assert "absent(" in alerts["RedisDown"]["expr"]
    assert "absent(" in alerts["TargetMissing"]["expr"]


def test_descriptions_show_the_current_value(alerts):
    for name in ("HighErrorRate", "HighCPUUsage", "HighMemoryUsage", "SlowAPIResponse"):
        assert "$value" in alerts[name]["annotations"]["description"], name


def test_promtool_accepts_every_rule_file(root, promtool):
    paths = sorted((root / "rendered" / "alerts").glob("*.rules.yaml"))
    assert paths
    result = subprocess.run([promtool, "check", "rules", *map(str, paths)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(paths)


def test_promtool_rejects_a_broken_rule(tmp_path, promtool):
    """The promtool test is live: an unparsable expression fails."""
    bad = tmp_path / "bad.rules.yaml"
    bad.write_text("groups:\n- name: g\n  rules:\n  - alert: X\n    expr: sum(rate(x[5m])\n")
    result = subprocess.run([promtool, "check", "rules", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0


@pytest.mark.parametrize("n,interval", [(3, 60), (2, 180), (1, 60), (5, 30)])
def test_a_last_checks_window_holds_exactly_n_results_at_every_phase(n, interval):
    """ServiceDown and FrontendDown judge "failed N checks in a row" by a range over the check's
    results: at every phase between checks and evaluations (to the millisecond, Prometheus'
    resolution) and for both range semantics, the range holds exactly the newest n results."""
    from generator.durations import last_checks_window, seconds

    width_ms = round(seconds(last_checks_window(n, interval)) * 1000)
    step = interval * 1000
    for phase in [*range(0, step, 997), step - 2]:  # age of the newest result, in ms
        ages = [phase + k * step for k in range(n + 2)]
        closed = sum(a <= width_ms for a in ages)  # Prometheus 2: [t - w, t]
        half_open = sum(a < width_ms for a in ages)  # Prometheus 3: (t - w, t]
        assert closed == half_open == n, (phase, closed, half_open)
