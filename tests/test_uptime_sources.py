"""Issue 11: the uptime check as code, and ServiceDown / the uptime panel on either source.

The default source (Synthetic Monitoring) is proven by tests/rules/availability.test.yaml
through `dashgen check`; the blackbox source by tests/rules/blackbox/*.test.yaml, run here
against the rules rendered with that source.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from generator import rules, synthetics
from generator.checks.promtool import without_annotations

from repo_project import CONFIG
from generator.errors import DefinitionError
from generator.loader import load
from generator.render import render_project

BLACKBOX = replace(CONFIG, uptime=replace(CONFIG.uptime, source="blackbox"))
ROOT_RULES = Path(__file__).resolve().parent / "rules"


def _alert(files: dict, name: str) -> dict:
    for path, data in files.items():
        if path.startswith("alerts/"):
            for group in yaml.safe_load(data)["groups"]:
                for rule in group["rules"]:
                    if rule.get("alert") == name:
                        return rule
    raise AssertionError(name)


def _uptime_expr(files: dict) -> str:
    dash = json.loads(files["dashboards/raymontology-system-health.json"])
    panels = [p for row in dash["panels"] for p in [row, *row.get("panels", [])]]
    return next(p for p in panels if p.get("title") == "Uptime")["targets"][0]["expr"]


@pytest.fixture(scope="module")
def both(root):
    return render_project(root), render_project(root, BLACKBOX)


def test_the_source_moves_service_down_the_uptime_panel_and_the_check(both):
    sm, bb = both
    assert _alert(sm, "ServiceDown")["expr"] == (
        'avg by (instance) (max_over_time(probe_success{job="raymontology-health"}[2m59s999ms])) < 0.5')
    assert _alert(bb, "ServiceDown")["expr"] == (
        'max by (instance) (max_over_time(probe_success{job="blackbox"}[2m59s999ms])) == 0')
    assert _uptime_expr(sm) == 'avg by (instance) (avg_over_time(probe_success{job="raymontology-health"}[$__range]))'
    assert _uptime_expr(bb) == 'avg_over_time(probe_success{job="blackbox"}[$__range])'
    # TargetMissing watches the prober it relies on: the blackbox exporter, or the SM check's series.
    assert 'absent(probe_success{job="raymontology-health"})' in _alert(sm, "TargetMissing")["expr"]
    assert 'absent(up{job="blackbox"})' in _alert(bb, "TargetMissing")["expr"]
    assert "blackbox" not in _alert(sm, "TargetMissing")["expr"]
    # The SM check exists only when ServiceDown reads it (blackbox costs no SM executions).
    assert [n for n in sm if n.startswith("synthetics/")] == ["synthetics/production/raymontology-frontend.json",
                                                              "synthetics/production/raymontology-health.json"]
    assert not [n for n in bb if n.startswith("synthetics/")]


def test_the_rendered_check_is_the_seed_contract_in_the_sm_shape(both):
    check = json.loads(both[0]["synthetics/production/raymontology-health.json"])
    t = CONFIG.thresholds
    assert check["job"] == CONFIG.uptime.check_job
    assert check["target"] == "https://raymontology-backend.up.railway.app/health"  # environments.toml
    assert check["frequency"] == t.health_check_interval_seconds * 1000 == 60000  # ms
    assert check["timeout"] == t.health_check_timeout_seconds * 1000 == 30000
    assert len(check["probes"]) >= 3 and check["enabled"] is True
    assert {"name": "env", "value": "production"} in check["labels"]
    http = check["settings"]["http"]
    assert http["method"] == "GET" and http["validStatusCodes"] == [200] and http["failIfNotSSL"] is True
    assert http["failIfBodyNotMatchesRegexp"] == [CONFIG.uptime.body_regexp]
    assert set(check) == {"job", "target", "frequency", "timeout", "enabled", "probes", "labels",
                          "basicMetricsOnly", "alertSensitivity", "settings"}


def _panel_titles(files: dict) -> list[str]:
    dash = json.loads(files["dashboards/raymontology-system-health.json"])
    return [p.get("title") for row in dash["panels"] for p in [row, *row.get("panels", [])]]


def test_the_frontend_check_is_the_plans_get_slash_every_3_minutes(both):
    """docs/targets.md §3: GET / on the frontend every 3 min, 30 s timeout, status 200, per
    environment that sets frontend_url (production only, as for health_url)."""
    check = json.loads(both[0]["synthetics/production/raymontology-frontend.json"])
    assert check["job"] == CONFIG.jobs.frontend_check == "raymontology-frontend"
    assert check["target"] == "https://raymontology-frontend.up.railway.app/"  # environments.toml
    assert check["frequency"] == 180000 and check["timeout"] == 30000  # ms
    assert check["probes"] == list(CONFIG.uptime.probes) and check["enabled"] is True
    http = check["settings"]["http"]
    assert http["method"] == "GET" and http["validStatusCodes"] == [200] and http["failIfNotSSL"] is True
    assert http["failIfBodyNotMatchesRegexp"] == []  # any page answering 200 is up
    assert not [n for n in both[0] if n.startswith("synthetics/staging/")]


def test_frontend_down_and_its_uptime_panel_follow_the_source(both):
    sm, bb = both
    assert _alert(sm, "FrontendDown")["expr"] == (
        'avg by (instance) (max_over_time(probe_success{job="raymontology-frontend"}[5m59s999ms])) < 0.5')
    assert _alert(sm, "FrontendDown")["labels"]["severity"] == "critical"
    assert 'absent(probe_success{job="raymontology-frontend"})' in _alert(sm, "TargetMissing")["expr"]
    titles = _panel_titles(sm)
    assert titles[titles.index("Uptime") + 1] == "Frontend uptime"  # next to the API's uptime
    # The blackbox prober watches /health only: no frontend check, alert or panel to read it.
    with pytest.raises(AssertionError):
        _alert(bb, "FrontendDown")
    assert "Frontend uptime" not in _panel_titles(bb) and "frontend" not in _alert(bb, "TargetMissing")["expr"]


def test_frontend_down_is_routed_like_service_down(both):
    for name in ("alerting/policies.yaml", "alerting/alertmanager.yaml"):
        assert b"FrontendDown|ServiceDown" in both[0][name]


def test_an_environment_may_name_check_targets_but_not_other_unknown_keys(tmp_path):
    from generator.environments import load_environment
    from generator.errors import ConfigError

    base = '[production]\ngrafana_url = "https://g.example"\nfolder = "F"\n'
    (tmp_path / "environments.toml").write_text(base + 'frontend_url = "https://app.example/"\n')
    assert load_environment(tmp_path, "production", {"GRAFANA_TOKEN": "t"}).folder == "F"
    (tmp_path / "environments.toml").write_text(base + 'frontend = "https://app.example/"\n')
    with pytest.raises(ConfigError, match="unknown keys frontend"):
        load_environment(tmp_path, "production", {"GRAFANA_TOKEN": "t"})


def test_the_body_regexp_matches_the_seed_body_and_nothing_else():
    import re

    rx = re.compile(CONFIG.uptime.body_regexp)
    assert rx.search('{"status":"healthy","db":"ok"}') and rx.search('{"status": "healthy"}')
    assert not rx.search('{"status":"unhealthy"}') and not rx.search('{"status":"degraded"}')


def test_an_unknown_source_is_refused():
    with pytest.raises(ValueError, match="synthetic-monitoring"):
        replace(CONFIG.uptime, source="pingdom")


@pytest.mark.parametrize("change, fragment", [
    ({"timeout_seconds": 90}, "timeout 90 s"),
    ({"frequency_seconds": 0}, "frequency 0 s"),
    ({"probes": ()}, "probes"),
    ({"probes": ("Ohio", "Ohio")}, "probes"),
    ({"labels": {"a": "1", "b": "2", "c": "3", "d": "4"}}, "at most 3 labels"),
    ({"labels": {"x": "y" * 33}}, "1..32 bytes"),
    ({"alert_sensitivity": "loud"}, "alert_sensitivity"),
])
def test_a_check_the_sm_api_would_refuse_is_a_definition_error(change, fragment):
    base = synthetics.HttpCheck(job="j", target_key="health_url", frequency_seconds=60, timeout_seconds=30,
                                probes=("Ohio", "Oregon", "Frankfurt"))
    with pytest.raises(DefinitionError, match=fragment):
        synthetics.render_checks([("synthetics/x.py", replace(base, **change))],
                                 {"production": {"health_url": "https://x.example/health"}})


def test_plain_http_targets_are_refused_when_tls_is_required():
    check = synthetics.HttpCheck(job="j", target_key="health_url", frequency_seconds=60, timeout_seconds=30,
                                 probes=("Ohio",))
    with pytest.raises(DefinitionError, match="must be https"):
        synthetics.render_checks([("synthetics/x.py", check)], {"staging": {"health_url": "http://x.example/health"}})


def test_a_check_module_returning_something_else_names_the_file(tmp_path):
    for kind in ("monitoring", "dashboards", "alerts", "synthetics"):
        (tmp_path / kind).mkdir()
        (tmp_path / kind / "__init__.py").write_text("")
    (tmp_path / "synthetics" / "bad.py").write_text("def build(cfg):\n    return {'job': 'x'}\n")
    with pytest.raises(DefinitionError, match="synthetics/bad.py: build"):
        load(tmp_path, CONFIG)


def test_comparable_ignores_server_fields_defaults_order_and_the_mark(root):
    doc = json.loads((root / "rendered" / "synthetics" / "production" / "raymontology-health.json").read_text())
    remote = synthetics.with_mark({**doc, "id": 7, "tenantId": 3, "created": 1.5, "modified": 2.5,
                                   "probes": list(reversed(doc["probes"])),
                                   "settings": {"http": {**doc["settings"]["http"], "noFollowRedirects": False,
                                                         "headers": []}}})
    assert synthetics.comparable(remote) == synthetics.comparable(doc)
    assert synthetics.label(remote) == synthetics.content_hash(doc)
    changed = {**doc, "frequency": 120000}
    assert synthetics.content_hash(changed) != synthetics.content_hash(doc)


def test_promtool_blackbox_source_rule_tests(root, promtool, tmp_path):
    """tests/rules/blackbox/*.test.yaml against the availability group rendered with source=blackbox."""
    loaded = load(root, BLACKBOX)
    for _rel, group in loaded.groups:
        doc = without_annotations(rules.group_document(BLACKBOX, group))
        (tmp_path / f"{group.name}.rules.yaml").write_text(rules.dumps(doc))
    tests = sorted((root / "tests" / "rules" / "blackbox").glob("*.test.yaml"))
    assert tests
    for t in tests:
        shutil.copyfile(t, tmp_path / t.name)
    res = subprocess.run([promtool, "test", "rules", *(t.name for t in tests)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    # ... and the same tests fail against the SM-shaped rules: they prove the source matters.
    for _rel, group in load(root, CONFIG).groups:
        doc = without_annotations(rules.group_document(CONFIG, group))
        (tmp_path / f"{group.name}.rules.yaml").write_text(rules.dumps(doc))
    res = subprocess.run([promtool, "test", "rules", *(t.name for t in tests)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0


def test_the_check_job_comes_only_from_the_config(root):
    cfg = replace(CONFIG, uptime=replace(CONFIG.uptime, check_job="api-health-x", probes=("London", "Ohio", "Oregon")))
    files = render_project(root, cfg)
    assert "synthetics/production/api-health-x.json" in files
    assert json.loads(files["synthetics/production/api-health-x.json"])["probes"] == ["London", "Ohio", "Oregon"]
    assert 'job="api-health-x"' in _alert(files, "ServiceDown")["expr"]
    assert 'job="api-health-x"' in _uptime_expr(files)
    assert not any(b'job=\\"raymontology-health\\"' in data or b'job="raymontology-health"' in data
                   for data in files.values())


def test_sm_url_follows_the_token_rules(tmp_path):
    from generator.environments import load_environment
    from generator.errors import ConfigError

    (tmp_path / "environments.toml").write_text(
        '[production]\ngrafana_url = "https://g.example"\nfolder = "F"\nsm_url = "http://sm.example"\n')
    with pytest.raises(ConfigError, match="plain http"):
        load_environment(tmp_path, "production", {"GRAFANA_TOKEN": "t"})
    env = load_environment(tmp_path, "production", {"GRAFANA_TOKEN": "t", "SM_URL": "https://sm.example/",
                                                    "SM_TOKEN": "glsm_secret"})
    assert env.sm_url == "https://sm.example" and env.sm_missing == [] and "glsm_secret" not in repr(env)
    env = load_environment(tmp_path, "production", {"GRAFANA_TOKEN": "t", "SM_URL": "https://sm.example"})
    assert env.sm_missing == ["SM_TOKEN"]


def test_switching_to_blackbox_is_one_config_line_and_check_passes(root, promtool):
    """`Uptime.source = "blackbox"` and nothing else: every offline check passes, the rule tests
    of tests/rules/blackbox/ run instead of the Synthetic Monitoring ones, and no SM check is
    rendered (the README's "Uptime probe" says what to run instead)."""
    from generator.checks import run_report

    report = run_report(root, BLACKBOX)
    assert report.errors == [], [str(f) for f in report.errors]
    from generator.checks import load_project
    from generator.checks.promtool import test_files, test_path

    for cfg, source_file, other in ((BLACKBOX, "tests/rules/blackbox/availability.test.yaml",
                                     "tests/rules/synthetic-monitoring/availability.test.yaml"),
                                    (CONFIG, "tests/rules/synthetic-monitoring/availability.test.yaml",
                                     "tests/rules/blackbox/availability.test.yaml")):
        proj = load_project(root, cfg, tests_dir=root / "tests" / "rules")
        names = [test_path(proj, f) for f in test_files(proj)]
        assert source_file in names and other not in names and "tests/rules/database.test.yaml" in names
    assert not [k for k in render_project(root, BLACKBOX) if k.startswith("synthetics/")]


def test_a_failing_source_test_is_named_by_its_folder(project, promtool):
    """A broken case in the source's folder is reported with its path under tests/rules/."""
    from generator.checks import run_report

    tests = project / "tests" / "rules"
    shutil.copytree(ROOT_RULES, tests)
    path = tests / "blackbox" / "availability.test.yaml"
    path.write_text(path.read_text().replace("{severity: critical,", "{severity: info,", 1))
    report = run_report(project, BLACKBOX, only=["promtool/test-rules"], tests_dir=tests)
    assert [f.location.file for f in report.errors] == ["tests/rules/blackbox/availability.test.yaml"]


def test_switching_literally_as_the_readme_says(project, promtool):
    """The README's one line, changed in a copy of the project; then `dashgen render` and
    `dashgen check` (what `make dashboards` and the check run) pass, SM check gone."""
    from click.testing import CliRunner

    from generator.cli import main

    shutil.copytree(ROOT_RULES, project / "tests" / "rules")
    shutil.copyfile(ROOT_RULES.parents[1] / "dashgen-check.toml", project / "dashgen-check.toml")
    config = project / "monitoring" / "config.py"
    text = config.read_text()
    assert text.count('source="synthetic-monitoring",') == 1
    config.write_text(text.replace('source="synthetic-monitoring",', 'source="blackbox",'))
    r = CliRunner().invoke(main, ["--root", str(project), "render"])
    assert r.exit_code == 0, r.output
    assert not list((project / "rendered").glob("synthetics/*/*.json"))
    assert 'job=\\"blackbox\\"' in (project / "rendered" / "dashboards" / "raymontology-system-health.json").read_text()
    r = CliRunner().invoke(main, ["--root", str(project), "check"])
    assert r.exit_code == 0, r.output
