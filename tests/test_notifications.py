"""Receivers, template and escalation follow the seed, and no secret ever reaches rendered/."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from conftest import dashgen
from generator import notifications as n
from generator.checks import run_report
from repo_project import CONFIG
from generator.errors import DashgenError, DefinitionError
from generator.render import render_project

CANARY = "https://hooks.slack.com/services/T000/B000/canary-secret-4b1d"


def test_one_contact_point_per_step(root):
    files = render_project(root)
    cps = yaml.safe_load(files["alerting/contact-points.yaml"])["contactPoints"]
    assert {cp["name"]: [r["type"] for r in cp["receivers"]] for cp in cps} == {
        "raymontology-email": ["email"], "raymontology-slack": ["slack"], "raymontology-sms": ["webhook"]}
    slack = next(cp for cp in cps if cp["name"] == "raymontology-slack")["receivers"][0]["settings"]
    assert slack["color"] == '{{ template "raymontology.slack.color" . }}'


def test_grafana_tree_escalates_like_alertmanager(root):
    files = render_project(root)
    policy = yaml.safe_load(files["alerting/policies.yaml"])["policies"][0]
    am = yaml.safe_load(files["alerting/alertmanager.yaml"])["route"]
    assert policy["group_by"] == ["grafana_folder"] + am["group_by"]
    assert [(r["receiver"], r["group_wait"], r.get("continue", False)) for r in policy["routes"]] == \
        [(r["receiver"], r["group_wait"], r.get("continue", False)) for r in am["routes"]]
    assert policy["routes"][2]["object_matchers"] == [["severity", "=", "critical"], ["alertname", "=~", "FrontendDown|ServiceDown"]]


def test_template_carries_the_seed_colours_and_links(root):
    text = render_project(root)["alerting/raymontology.tmpl"].decode()
    for severity, colour in (("info", "#36a64f"), ("warning", "#ff9900"), ("error", "#ff0000"),
                             ("critical", "#ff0000")):
        assert f'eq .CommonLabels.severity "{severity}" }}}}{colour}' in text
    assert '{{ if eq .Status "resolved" }}#36a64f' in text and "#808080" in text
    for part in (".Annotations.summary", ".Annotations.description", ".Annotations.runbook_url",
                 ".Annotations.dashboard_url", "{{ range .Alerts }}", "Raymontology Alert ("):
        assert part in text
    templates = yaml.safe_load(render_project(root)["alerting/templates.yaml"])["templates"]
    assert templates == [{"orgId": 1, "name": "raymontology", "template": text}]


def test_colours_come_from_the_config(root):
    cfg = replace(CONFIG, notifications=replace(CONFIG.notifications, slack_colour_other="#123456"))
    assert "#123456" in n.template_text(cfg) and "#808080" not in n.template_text(cfg)


def test_amtool_check_rejects_a_bad_configuration(root):
    cfg = replace(CONFIG, notifications=replace(CONFIG.notifications, slack_after="soon"))
    findings = run_report(root, cfg, only=["amtool/check-config"]).findings
    assert len(findings) == 1 and "soon" in findings[0].message, findings
    assert run_report(root, only=["amtool/check-config"]).findings == []


def test_route_to_undefined_receiver_names_the_file():
    routing = n.AlertRouting((n.Receiver("a", "slack"),), n.Route("b"))
    with pytest.raises(DefinitionError, match="alerts/routing.py.*receiver 'b'"):
        n.check_routing(routing, "alerts/routing.py")


def test_fill_names_the_missing_variable_never_a_value():
    used: list[str] = []
    doc = {"url": "$SLACK_WEBHOOK_URL", "t": "{{ $labels.x }}"}
    assert n.fill(doc, {"SLACK_WEBHOOK_URL": CANARY}, "here", used) == {"url": CANARY, "t": "{{ $labels.x }}"}
    assert used == [CANARY]
    with pytest.raises(n.MissingSecret, match="here: environment variable SLACK_WEBHOOK_URL is not set"):
        n.fill(doc, {}, "here")
    assert n.references(n.alertmanager_document(CONFIG, n.AlertRouting((n.Receiver("e", "email"),), n.Route("e")))) \
        == ["RAYMONTOLOGY_SMTP_SMARTHOST", "RAYMONTOLOGY_SMTP_FROM", "RAYMONTOLOGY_SMTP_USERNAME",
            "RAYMONTOLOGY_SMTP_PASSWORD", "RAYMONTOLOGY_ALERT_EMAILS"]


def test_secrets_are_references_never_values(project):
    env = {"SLACK_WEBHOOK_URL": CANARY, "RAYMONTOLOGY_ALERT_EMAILS": "oncall-canary@example.com",
           "RAYMONTOLOGY_SMS_WEBHOOK_URL": CANARY + "-sms"}
    result = dashgen("--root", str(project), "render", env=env)
    assert result.returncode == 0, result.stderr
    for path in (project / "rendered").rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "canary" not in text, path
    for name in ("contact-points.yaml", "alertmanager.yaml"):
        assert "$SLACK_WEBHOOK_URL" in (project / "rendered" / "alerting" / name).read_text()
    assert "canary" not in result.stdout + result.stderr


def test_dashgen_alertmanager_writes_a_deployable_config_or_names_what_is_missing(project, tmp_path):
    out = tmp_path / "am"
    env = {name: "" for name in n.secrets(CONFIG)}
    result = dashgen("--root", str(project), "alertmanager", "--out", str(out), env=env)
    assert result.returncode == 2 and "SLACK_WEBHOOK_URL" in result.stderr and not out.exists()
    env = {name: s.placeholder for name, s in n.secrets(CONFIG).items()}
    env["SLACK_WEBHOOK_URL"] = CANARY
    result = dashgen("--root", str(project), "alertmanager", "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    config = out / "alertmanager.yml"
    assert (config.stat().st_mode & 0o777) == 0o600
    assert yaml.safe_load(config.read_text())["receivers"][1]["slack_configs"][0]["api_url"] == CANARY
    assert (out / "raymontology.tmpl").read_text() == (project / "rendered" / "alerting" / "raymontology.tmpl").read_text()
    assert "canary" not in result.stdout + result.stderr


def test_write_private_files_are_owner_only_and_a_bad_folder_is_one_error(tmp_path):
    paths = n.write_private({"alertmanager.yml": "route: {}\n", "x.tmpl": "t"}, tmp_path / "am")
    assert [p.name for p in paths] == ["alertmanager.yml", "x.tmpl"]
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in paths)
    (tmp_path / "file").write_text("")
    with pytest.raises(DashgenError, match="cannot write .*file/am"):
        n.write_private({"a": "b"}, tmp_path / "file" / "am")


def test_an_unknown_receiver_kind_names_the_definition_file():
    routing = n.AlertRouting((n.Receiver("a", "pager"),), n.Route("a"))
    with pytest.raises(DefinitionError, match="alerts/who.py.*receiver 'a': receiver kind 'pager' is not one of"):
        n.check_routing(routing, "alerts/who.py")


def test_the_deployable_config_is_one_build_whether_from_rendered_files_or_the_definitions(root):
    """`dashgen alertmanager` (rendered/alerting/) and the amtool check / test stack (the
    definitions) get the same files, through notifications.deployable_files."""
    from generator.grafana.contactpoints import deployable_alertmanager
    from generator.loader import load

    env = {**n.placeholders(CONFIG), "SLACK_WEBHOOK_URL": CANARY}
    from_rendered = deployable_alertmanager(root / "rendered" / "alerting", env)
    assert from_rendered == n.alertmanager_files(CONFIG, load(root, CONFIG).notifications[1], env)
    assert list(from_rendered) == ["alertmanager.yml", "raymontology.tmpl"] and CANARY in from_rendered["alertmanager.yml"]


def test_deployable_files_names_every_unset_variable_at_once(root):
    config = {"receivers": [{"name": "a", "slack_configs": [{"api_url": "$SLACK_WEBHOOK_URL"}]},
                            {"name": "b", "webhook_configs": [{"url": "${RAYMONTOLOGY_SMS_WEBHOOK_URL}"}]}]}
    with pytest.raises(n.MissingSecret, match="variables SLACK_WEBHOOK_URL, RAYMONTOLOGY_SMS_WEBHOOK_URL are not set"):
        n.deployable_files(config, {}, {})
    with pytest.raises(n.MissingSecret, match="variable RAYMONTOLOGY_SMS_WEBHOOK_URL is not set"):
        n.deployable_files(config, {}, {"SLACK_WEBHOOK_URL": CANARY})
    used: list[str] = []
    files = n.deployable_files(config, {"t.tmpl": "x"}, {"SLACK_WEBHOOK_URL": CANARY, "RAYMONTOLOGY_SMS_WEBHOOK_URL": "https://sms.example/x"}, used)
    assert used == [CANARY, "https://sms.example/x"] and files["t.tmpl"] == "x"
    assert yaml.safe_load(files["alertmanager.yml"])["receivers"][1]["webhook_configs"][0]["url"] == "https://sms.example/x"


def test_the_package_is_split_by_concern_and_the_stack_helper_lives_in_stack():
    """Routing model, secrets, escalation, template, two renderers, validation and file
    writing are modules of their own; the stack's time scale is not part of the tool."""
    import importlib

    for concern in ("model", "secrets", "escalation", "template", "grafana", "alertmanager", "validate", "files"):
        importlib.import_module(f"generator.notifications.{concern}")
    assert not hasattr(n, "scaled")
    assert set(n.__all__) <= set(dir(n))
