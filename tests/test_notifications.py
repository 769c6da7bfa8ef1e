"""Routing follows the seed's Action column, and no secret ever reaches rendered/."""

from __future__ import annotations

import yaml

from conftest import dashgen
from generator.render import render_project

CANARY = "https://hooks.slack.com/services/T000/B000/canary-secret-4b1d"


def _receivers(files):
    cps = yaml.safe_load(files["alerting/contact-points.yaml"])["contactPoints"]
    return {cp["name"]: sorted(r["type"] for r in cp["receivers"]) for cp in cps}


def test_seed_actions_become_routes(root):
    files = render_project(root)
    receivers = _receivers(files)
    policy = yaml.safe_load(files["alerting/policies.yaml"])["policies"][0]
    by_matcher = {tuple(r["object_matchers"][0]): r["receiver"] for r in policy["routes"]}
    # docs/targets.md §8: ServiceDown -> Email + Slack + SMS; other critical -> Email + Slack; warnings -> Slack.
    assert receivers[by_matcher[("alertname", "=", "ServiceDown")]] == ["email", "slack", "webhook"]
    assert receivers[by_matcher[("severity", "=", "critical")]] == ["email", "slack"]
    assert receivers[policy["receiver"]] == ["slack"]
    assert policy["routes"][0]["object_matchers"] == [["alertname", "=", "ServiceDown"]], "most specific first"


def test_secrets_are_references_never_values(project):
    env = {"SLACK_WEBHOOK_URL": CANARY, "RAYMONTOLOGY_ALERT_EMAILS": "oncall-canary@example.com",
           "RAYMONTOLOGY_SMS_WEBHOOK_URL": CANARY + "-sms"}
    result = dashgen("--root", str(project), "render", env=env)
    assert result.returncode == 0, result.stderr
    for path in (project / "rendered").rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "canary" not in text, path
    assert "$SLACK_WEBHOOK_URL" in (project / "rendered" / "alerting" / "contact-points.yaml").read_text()
    assert "canary" not in result.stdout + result.stderr
