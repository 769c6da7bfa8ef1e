"""Label and annotation values cannot inject Slack control sequences (<!channel>, <url|text>).

Rendered by Alertmanager's own template engine: `amtool template render` (Debian's
prometheus-alertmanager) runs rendered/alerting/raymontology.tmpl on hostile alert data.
Grafana renders the same file with the same Go text/template engine and the same
`reReplaceAll` function, so what holds here holds for the Grafana contact points too.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from generator.render import render_project

HOSTILE = {
    "labels": {"alertname": "Evil<!channel>", "severity": "critical", "team": "<@U024BE7LH>"},
    "annotations": {
        "summary": "disk & <!channel> <https://evil.example/phish|Reset your password>",
        "description": "a > b <!here|here> <!subteam^S123>",
        "runbook_url": "https://evil.example/x|click <!everyone>",
        "dashboard_url": "https://raymontology.grafana.net/d/raymontology-business?a=1&b=2",
    },
}


def alert_data(tmp_path, alerts: list[dict], common: dict) -> str:
    """amtool's --template.data: a notification's data as Alertmanager marshals it."""
    data = {"receiver": "raymontology-slack", "status": "firing", "externalURL": "http://alertmanager",
            "alerts": [{"status": "firing", "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                        "generatorURL": "", "fingerprint": f"{i:016x}", **a} for i, a in enumerate(alerts)],
            "groupLabels": {}, "commonLabels": common, "commonAnnotations": {}}
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data))
    return str(path)


@pytest.fixture(scope="module")
def template_file(root, tmp_path_factory):
    path = tmp_path_factory.mktemp("tmpl") / "raymontology.tmpl"
    path.write_bytes(render_project(root)["alerting/raymontology.tmpl"])
    return path


def render(amtool: str, template_file, data: str, name: str) -> str:
    out = subprocess.run([amtool, "template", "render", f"--template.glob={template_file}",
                          f"--template.data={data}", f'--template.text={{{{ template "{name}" . }}}}'],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_slack_text_and_title_escape_every_label_and_annotation(amtool, template_file, tmp_path):
    data = alert_data(tmp_path, [HOSTILE], {"alertname": "Evil<!channel>", "severity": "critical&<x>"})
    text = render(amtool, template_file, data, "raymontology.slack.text")
    title = render(amtool, template_file, data, "raymontology.slack.title")
    for out in (text, title):
        assert "<!" not in out and "<@" not in out
    # the only < and > left are dashgen's own two links, and their targets cannot close them early
    assert text.count("<") == 2 and text.count(">") == 2
    assert "*Evil&lt;!channel&gt;*" in text
    assert "disk &amp; &lt;!channel&gt; &lt;https://evil.example/phish|Reset your password&gt;" in text
    assert "<https://evil.example/x%7Cclick &lt;!everyone&gt;|runbook>" in text
    assert "<https://raymontology.grafana.net/d/raymontology-business?a=1&amp;b=2|dashboard>" in text
    assert title == "[FIRING:1] Raymontology Alert (CRITICAL&amp;&lt;X&gt;): Evil&lt;!channel&gt;"


def test_plain_values_pass_through_unchanged(amtool, template_file, tmp_path):
    calm = {"labels": {"alertname": "ServiceDown", "severity": "critical"},
            "annotations": {"summary": "backend down", "description": "no scrape for 1m",
                            "runbook_url": "https://docs.example/runbooks#servicedown"}}
    data = alert_data(tmp_path, [calm], {"alertname": "ServiceDown", "severity": "critical"})
    assert render(amtool, template_file, data, "raymontology.slack.text") == \
        "*ServiceDown*: backend down no scrape for 1m <https://docs.example/runbooks#servicedown|runbook>\n"
    assert render(amtool, template_file, data, "raymontology.slack.text") == \
        render(amtool, template_file, data, "raymontology.text")


def test_the_email_text_is_not_slack_escaped(amtool, template_file, tmp_path):
    """E-mail bodies are escaped by the mailer's HTML template (Grafana) or are plain text
    (Alertmanager): Slack's entities there would show up literally."""
    data = alert_data(tmp_path, [HOSTILE], {"alertname": "Evil<!channel>", "severity": "critical"})
    assert "disk & <!channel>" in render(amtool, template_file, data, "raymontology.text")


def test_every_slack_integration_uses_the_escaping_templates(root):
    files = render_project(root)
    cps = yaml.safe_load(files["alerting/contact-points.yaml"])["contactPoints"]
    slack = [r["settings"] for cp in cps for r in cp["receivers"] if r["type"] == "slack"]
    am = yaml.safe_load(files["alerting/alertmanager.yaml"])
    slack += [c for r in am["receivers"] for c in r.get("slack_configs") or []]
    assert len(slack) == 2
    for settings in slack:
        assert settings["title"] == '{{ template "raymontology.slack.title" . }}'
        assert settings["text"] == '{{ template "raymontology.slack.text" . }}'
