"""`dashgen check` on the real project and on scratch copies: exit codes, exclusions, promtool, schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from checks_fixtures import ROOT, cli, findings, project, real_dashboard
from generator.checks import CHECKS, run_report, select
from repo_project import CONFIG


def test_the_real_set_passes_every_check():
    code, out = cli("--root", str(ROOT), "check", "--format", "json")
    report = json.loads(out)
    assert code == 0, out
    assert report["summary"]["errors"] == 0
    assert report["summary"]["excluded"] == 2  # the two last-hour panels, see dashgen-check.toml
    assert report["summary"]["checks"] == len(select(None))
    assert [f for f in report["findings"] if f["check"] != "schema/dashboard"] == []


def test_every_check_is_named_and_documented():
    assert len(CHECKS) == 42  # filled when generator.checks is imported; a new check bumps this
    checks = select(None)
    assert checks == list(CHECKS.values())
    for c in checks:
        family, _, what = c.name.partition("/")
        assert family in {"promql", "catalog", "dashboard", "rule", "promtool", "amtool", "schema"} and what
        assert c.doc.endswith(".") and c.severity in ("error", "warning")
    code, out = cli("--root", str(ROOT), "check", "--list")
    assert code == 0 and all(c.name in out for c in checks)


def test_only_selects_checks_and_unknown_names_are_usage_errors():
    code, out = cli("--root", str(ROOT), "check", "--only", "rule/", "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["checks"] == len([n for n in CHECKS if n.startswith("rule/")])
    code, out = cli("--root", str(ROOT), "check", "--only", "rule/nope")
    assert code == 2 and "unknown check" in out


# --- exclusions ---------------------------------------------------------------------------------

EXCLUDE = """
[[exclude]]
check = "dashboard/rate-interval"
dashboard = "raymontology-business"
panel = "No-result share"
reason = "Last hour on purpose."

[[exclude]]
check = "dashboard/rate-interval"
dashboard = "raymontology-business"
panel = "Share of scores above 0.8"
reason = "Last hour on purpose."
"""


def _run(root: Path, *args: str):
    code, out = cli("--root", str(root), "check", "--only", "dashboard/", "--format", "json", *args)
    return code, (json.loads(out) if out.startswith("{") else out)


def test_without_exclusions_the_fixed_windows_are_errors(project):
    code, report = _run(project)
    assert code == 1
    assert sorted(f["location"]["panel"] for f in report["findings"]) == ["No-result share",
                                                                          "Share of scores above 0.8"]


def test_exclusions_with_reasons_silence_their_findings(project):
    (project / "dashgen-check.toml").write_text(EXCLUDE)
    code, report = _run(project)
    assert code == 0 and report["summary"]["excluded"] == 2


def test_an_exclusion_without_reason_is_a_usage_error(project):
    (project / "dashgen-check.toml").write_text(EXCLUDE.replace('reason = "Last hour on purpose."\n', "", 1))
    code, out = _run(project)
    assert code == 2 and "gives no reason" in out


def test_an_unused_exclusion_is_reported(project):
    stale = '\n[[exclude]]\ncheck = "dashboard/panel-unit"\npanel = "Gone"\nreason = "Panel removed since."\n'
    (project / "dashgen-check.toml").write_text(EXCLUDE + stale)
    code, report = _run(project)
    assert code == 1
    (f,) = report["findings"]
    assert f["check"] == "exclusions/unused" and "dashboard/panel-unit" in f["message"]
    # An exclusion for a check that did not run is not "unused".
    code, report = cli("--root", str(project), "check", "--only", "rule/", "--format", "json")
    assert code == 0


def test_exclusions_file_option(project, tmp_path):
    other = tmp_path / "elsewhere.toml"
    other.write_text(EXCLUDE)
    assert _run(project, "--exclusions", str(other))[0] == 0


# --- rule/for-config ----------------------------------------------------------------------------


def test_a_hard_coded_for_is_caught_even_when_it_equals_the_config(project):
    path = project / "alerts" / "resources.py"
    text = path.read_text()
    assert "for_=t.cpu_for," in text and CONFIG.thresholds.cpu_for == "10m"
    path.write_text(text.replace("for_=t.cpu_for,", 'for_="10m",'))
    report = run_report(project, only=["rule/for-config"])
    assert [(f.location.rule, f.check) for f in report.findings] == [("HighCPUUsage", "rule/for-config")]
    assert "written into the rule" in report.findings[0].message


def test_the_real_rules_read_for_from_the_config():
    assert run_report(ROOT, only=["rule/for-config"]).findings == []


def test_a_hard_coded_alert_threshold_is_caught(project):
    path = project / "alerts" / "resources.py"
    text = path.read_text()
    assert "> {t.cpu_alert:g}" in text
    path.write_text(text.replace("> {t.cpu_alert:g}", "> 0.8"))
    report = run_report(project, only=["rule/threshold-config"])
    assert [(f.location.rule, f.check) for f in report.findings] == [("HighCPUUsage", "rule/threshold-config")]
    assert "0.8" in report.findings[0].message
    assert run_report(ROOT, only=["rule/threshold-config"]).findings == []


def test_an_inline_panel_threshold_equal_to_the_config_is_caught(project):
    path = project / "dashboards" / "system_health.py"
    text = path.read_text()
    assert "p.bad_above(t.cpu_target, t.cpu_alert)" in text and CONFIG.thresholds.cpu_alert == 0.8
    path.write_text(text.replace("p.bad_above(t.cpu_target, t.cpu_alert)", "p.bad_above(t.cpu_target, 0.8)"))
    report = run_report(project, only=["dashboard/thresholds-config"])
    assert [(f.location.panel, f.check) for f in report.findings] == [("CPU", "dashboard/thresholds-config")]
    assert "step 0.8" in report.findings[0].message and "written into the panel" in report.findings[0].message
    assert run_report(ROOT, only=["dashboard/thresholds-config"]).findings == []


# --- promtool -----------------------------------------------------------------------------------


def test_rule_unit_tests_notice_a_moved_threshold():
    """The unit tests are live: raise HighCPUUsage's threshold and its firing test fails."""
    cfg = CONFIG.with_thresholds(cpu_alert=0.95)
    report = run_report(ROOT, cfg, only=["promtool/test-rules"])
    assert [f.location.file for f in report.findings] == ["tests/rules/resources.test.yaml"]
    assert "HighCPUUsage" in report.findings[0].message


def test_rule_unit_tests_notice_a_dropped_absent_guard(project):
    path = project / "alerts" / "database.py"
    path.write_text(path.read_text().replace('f"{pg_up} == 0 or absent({pg_up})"', 'f"{pg_up} == 0"'))
    report = run_report(project, only=["promtool/test-rules"], tests_dir=ROOT / "tests" / "rules")
    assert [f.location.file for f in report.findings] == ["tests/rules/database.test.yaml"]
    assert "DatabaseConnectionFailed" in report.findings[0].message


def test_promtool_check_rules_rejects_a_bad_template(project):
    path = project / "alerts" / "resources.py"
    path.write_text(path.read_text().replace('"A Raymontology service uses most of its CPU."',
                                             '"A Raymontology service uses {{ .Broken CPU."'))
    report = run_report(project, only=["promtool/check-rules"])
    (f,) = report.findings
    assert f.location.file == "alerts/resources.py" and f.location.group == "raymontology-resources"
    assert "raymontology-resources.rules.yaml" in f.message


def test_every_alert_is_covered_by_rule_tests():
    assert run_report(ROOT, only=["promtool/test-coverage"]).findings == []


def test_coverage_names_the_alert_without_tests(tmp_path):
    tests = tmp_path / "rules"
    shutil.copytree(ROOT / "tests" / "rules", tests)
    for name in ("dart.test.yaml", "dart_restart.test.yaml"):
        (tests / name).unlink()
    report = run_report(ROOT, only=["promtool/test-coverage"], tests_dir=tests)
    assert {(f.location.rule, f.severity) for f in report.findings} == {("DartCrawlStale", "error")}
    assert len(report.findings) == 2  # neither a firing nor a silent case
    firing, silent = report.findings
    # The file to edit, and a test case to paste there, with the alert's series and labels.
    assert "add under `tests:` in tests/rules/worker.test.yaml" in firing.message
    assert "- series: 'raymontology_dart_last_success_timestamp_seconds'" in firing.message
    assert "alertname: DartCrawlStale" in firing.message and "exp_labels: {severity: warning" in firing.message
    assert "exp_alerts: []" in silent.message


def test_the_coverage_skeleton_is_a_test_promtool_runs(tmp_path):
    """Pasted into the file it names, with its values filled in, the skeleton passes promtool."""
    import subprocess

    import yaml

    from generator import rules
    from generator.checks import load_project
    from generator.checks.promtool import promtool_path, skeleton, without_annotations

    proj = load_project(ROOT, tests_dir=tmp_path)
    rel, group, alert = next((r, g, a) for r, g, a in proj.alerts() if a.name == "DartCrawlStale")
    head, body = skeleton(proj, group, alert, firing=False).split("\n", 1)
    assert head.startswith("create tests/rules/worker.test.yaml with `rule_files: [raymontology-worker.rules.yaml]`")
    doc = {"rule_files": ["raymontology-worker.rules.yaml"], "evaluation_interval": "1m",
           "tests": yaml.safe_load(body.replace("'0x", "'9999999999x"))}
    assert doc["tests"][0]["alert_rule_test"][0] == {"eval_time": "15m", "alertname": "DartCrawlStale",
                                                     "exp_alerts": []}
    (tmp_path / "raymontology-worker.rules.yaml").write_text(
        rules.dumps(without_annotations(rules.group_document(proj.cfg, group))))
    (tmp_path / "worker.test.yaml").write_text(yaml.safe_dump(doc))
    run = subprocess.run([promtool_path(proj), "test", "rules", "worker.test.yaml"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_rule_tests_at_all_is_a_warning(project):
    report = run_report(project, only=["promtool/test-coverage"])
    (f,) = report.findings
    assert f.severity == "warning" and "no rule unit tests" in f.message


def test_missing_promtool_is_a_usage_error():
    code, out = cli("--root", str(ROOT), "check", "--only", "promtool/check-rules", env={"PATH": "/nonexistent"})
    assert code == 2 and "promtool is not installed" in out


# --- schema -------------------------------------------------------------------------------------


def test_dashboards_validate_against_grafanas_schema(schema_dir):
    assert run_report(ROOT, only=["schema/dashboard"], schema_dir=schema_dir).findings == []


def test_schema_finds_a_legacy_key(schema_dir):
    d = real_dashboard()
    d["rows"] = []
    d["panels"][1]["targets"][0]["step"] = 10
    proj = project([d])
    proj.schema_dir = schema_dir
    messages = [f.message for f in findings("schema/dashboard", proj)]
    assert any("rows" in m for m in messages) and any("step" in m for m in messages)


def test_schema_folder_from_option_or_environment(schema_dir):
    code, out = cli("--root", str(ROOT), "check", "--only", "schema/", "--schema-dir", str(schema_dir))
    assert code == 0 and "skipped" not in out
    code, out = cli("--root", str(ROOT), "check", "--only", "schema/", env={"DASHGEN_SCHEMA_DIR": str(schema_dir)})
    assert code == 0 and "skipped" not in out


def test_the_schema_folder_beside_the_project_is_found_without_settings(schema_dir, tmp_path):
    """`dashgen check` run by hand finds shared/schemas next to the project, as make does."""
    shutil.copytree(schema_dir, tmp_path / "shared" / "schemas")
    shutil.copytree(ROOT / "dashboards", tmp_path / "project" / "dashboards")
    shutil.copytree(ROOT / "alerts", tmp_path / "project" / "alerts")
    shutil.copytree(ROOT / "monitoring", tmp_path / "project" / "monitoring")
    code, out = cli("--root", str(tmp_path / "project"), "check", "--only", "schema/", env={"DASHGEN_SCHEMA_DIR": ""})
    assert code == 0 and "skipped" not in out


def test_without_a_schema_folder_the_check_skips_with_a_warning(project):
    code, out = cli("--root", str(project), "check", "--only", "schema/", env={"DASHGEN_SCHEMA_DIR": ""})
    assert code == 0 and "warning: [schema/dashboard]" in out and "skipped" in out


def test_a_wrong_schema_folder_is_a_usage_error(tmp_path):
    code, out = cli("--root", str(ROOT), "check", "--schema-dir", str(tmp_path))
    assert code == 2 and "dashboard.jsonschema.json" in out


def test_subprocess_cli_exit_codes(tmp_path):
    from conftest import dashgen

    assert dashgen("check").returncode == 0
    result = dashgen("--root", str(ROOT / "tests" / "fixtures" / "broken" / "rate_on_gauge"), "check")
    assert result.returncode == 1 and "[catalog/rate-on-gauge]" in result.stdout
