"""One config drives both sides: a changed number moves the panel line and the alert together."""

from __future__ import annotations

import json
from dataclasses import replace

import yaml


from repo_project import CONFIG
from generator.render import render_project


def _panel(files, uid, title):
    d = json.loads(files[f"dashboards/{uid}.json"])
    return next(p for p in d["panels"] if p["title"] == title)


def _alert(files, name):
    for fname, data in files.items():
        if fname.startswith("alerts/"):
            for rule in yaml.safe_load(data)["groups"][0]["rules"]:
                if rule.get("alert") == name:
                    return rule
    raise KeyError(name)


def _steps(panel):
    return [s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def test_cpu_alert_threshold_moves_panel_and_rule_together(root):
    before = render_project(root)
    after = render_project(root, CONFIG.with_thresholds(cpu_alert=0.9))
    assert _steps(_panel(before, "raymontology-system-health", "CPU")) == [None, 0.7, 0.8]
    assert _steps(_panel(after, "raymontology-system-health", "CPU")) == [None, 0.7, 0.9]
    assert _alert(before, "HighCPUUsage")["expr"].endswith("> 0.8")
    assert _alert(after, "HighCPUUsage")["expr"].endswith("> 0.9")


def test_error_ratio_alert_moves_everything_that_reads_it(root):
    after = render_project(root, CONFIG.with_thresholds(error_ratio_alert=0.02))
    assert _steps(_panel(after, "raymontology-system-health", "5xx error ratio")) == [None, 0.001, 0.02]
    rule = _alert(after, "HighErrorRate")
    assert "> 0.02" in rule["expr"]
    assert "2%" in rule["annotations"]["summary"]


def test_plan_change_moves_the_denominator(root):
    after = render_project(root, CONFIG.for_plan("pro"))
    assert str(8 * 1024**3) in _alert(after, "HighMemoryUsage")["expr"]
    assert "/ 8 > 0.8" in _alert(after, "HighCPUUsage")["expr"]


def test_job_names_come_only_from_the_config(root):
    cfg = replace(CONFIG, jobs=replace(CONFIG.jobs, backend="api-x", worker="worker-x", postgres="pg-x", redis="redis-x",
                                     blackbox="probe-x"),
                  uptime=replace(CONFIG.uptime, source="blackbox"))  # the blackbox job is read only then
    files = render_project(root, cfg)
    text = b"".join(data for name, data in files.items() if not name.startswith("docs/")).decode()
    # Rule group names are names, not selectors ("raymontology-worker" is both a group and a job).
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("- name:"))
    for default in ("raymontology-backend", "raymontology-worker", 'job="postgres"', 'job="redis"',
                    'job="blackbox"'):
        assert default not in text, default
    assert 'job="api-x"' in text and 'job="probe-x"' in text


def test_a_dashboard_uid_moves_its_file_and_every_alert_link(root):
    cfg = replace(CONFIG, dashboards=replace(CONFIG.dashboards, system_health="raymontology-health-v2"))
    files = render_project(root, cfg)
    assert "dashboards/raymontology-health-v2.json" in files
    assert "dashboards/raymontology-system-health.json" not in files
    assert _alert(files, "HighErrorRate")["annotations"]["dashboard_url"].endswith("/d/raymontology-health-v2")
    assert all(b"/d/raymontology-system-health" not in data for name, data in files.items()
               if name.startswith("alerts/"))
    # The file is not only renamed: the dashboard inside carries the new uid.
    assert json.loads(files["dashboards/raymontology-health-v2.json"])["uid"] == "raymontology-health-v2"
