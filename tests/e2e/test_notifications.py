"""Notifications through a real Alertmanager running dashgen's configuration (stack-scaled).

Alerts are posted to the stack's Alertmanager as Prometheus posts them, each with its own
`e2e_case` label (the stack's copy groups by it, so real alerts from the fault scenarios
never share their groups). The webhook sinks record what e-mail, Slack and SMS would get.
With the stack's scale of 30, docs/targets.md §3's steps (0 min, 5 min, 15 min) are 0 s, 10 s, 30 s.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from generator.durations import seconds
from stack.timescale import scaled

from .conftest import wait_for

pytestmark = pytest.mark.e2e
SLACK_WAIT_SLACK = 6.0  # Alertmanager's timers and the sinks' answers, on 2 busy cores


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _alert(name: str, severity: str, case: str, start: datetime, end: datetime) -> dict:
    return {"labels": {"alertname": name, "severity": severity, "e2e_case": case},
            "annotations": {"summary": f"e2e case {case}", "description": f"{name} posted by the e2e test.",
                            "runbook_url": "https://example.invalid/runbook#" + name.lower()},
            "startsAt": _iso(start), "endsAt": _iso(end)}


def _mine(stack, case: str) -> list[dict]:
    return [r for r in stack.received() if case in json.dumps(r["body"])]


def _first(records: list[dict], sink: str, status: str = "firing") -> dict | None:
    for r in records:
        if r["sink"] != sink:
            continue
        body = r["body"]
        if sink == "slack":
            text = json.dumps(body)
            if (status == "firing") == ("[FIRING" in text):
                return r
        elif body.get("status") == status:
            return r
    return None


def test_escalation_timeline_and_slack_colours(stack, report):
    n = scaled(stack.config, stack.notify_time_scale).notifications
    slack_after, sms_after = seconds(n.slack_after), seconds(n.sms_after)
    run = uuid.uuid4().hex[:8]
    down, warn, early = f"{run}-down", f"{run}-warn", f"{run}-early"
    start = datetime.now(timezone.utc)
    t0 = time.time()
    later = start + timedelta(minutes=10)
    stack.post_alerts([_alert("ServiceDown", "critical", down, start, later),
                       _alert("HighCPUUsage", "warning", warn, start, later),
                       _alert("HighErrorRate", "critical", early, start, later)])
    time.sleep(slack_after / 3)
    stack.post_alerts([_alert("HighErrorRate", "critical", early, start, datetime.now(timezone.utc))])

    got = wait_for(lambda: _first(_mine(stack, down), "sms"), timeout=sms_after + SLACK_WAIT_SLACK, interval=0.5)
    assert got, f"ServiceDown never reached SMS within {sms_after + SLACK_WAIT_SLACK:.0f}s: {_mine(stack, down)}"
    records = _mine(stack, down)
    email, slack, sms = (_first(records, s) for s in ("email", "slack", "sms"))
    assert email and slack, records
    at = {k: r["time"] - t0 for k, r in (("email", email), ("slack", slack), ("sms", sms))}
    # docs/targets.md §3: e-mail at once, Slack after its wait, SMS after its wait, in that order.
    assert at["email"] < 3, at
    assert slack_after - 1 <= at["slack"] < slack_after + SLACK_WAIT_SLACK, at
    assert sms_after - 1 <= at["sms"] < sms_after + SLACK_WAIT_SLACK, at
    attachment = slack["body"]["attachments"][0]
    assert attachment["color"] == "#ff0000", attachment  # docs/targets.md §6: critical/error red
    assert "Raymontology Alert (CRITICAL): ServiceDown" in attachment["title"], attachment
    assert f"e2e case {down}" in attachment["text"] and "|runbook>" in attachment["text"], attachment

    # A warning reaches Slack only, without the critical 5-minute step, in the warning colour.
    records = _mine(stack, warn)
    warn_slack = _first(records, "slack")
    assert warn_slack and warn_slack["time"] - t0 < slack_after, records
    assert warn_slack["body"]["attachments"][0]["color"] == "#ff9900"
    assert not [r for r in records if r["sink"] != "slack"], records

    # Resolved before the Slack step: e-mail heard of it (firing, then resolved), Slack never.
    records = _mine(stack, early)
    assert _first(records, "email"), records
    assert not [r for r in records if r["sink"] in ("slack", "sms")], records

    # Resolving ServiceDown turns its Slack message green.
    stack.post_alerts([_alert("ServiceDown", "critical", down, start, datetime.now(timezone.utc))])
    resolved = wait_for(lambda: _first(_mine(stack, down), "slack", "resolved"),
                        timeout=seconds(n.group_interval) + SLACK_WAIT_SLACK, interval=0.5)
    assert resolved and resolved["body"]["attachments"][0]["color"] == "#36a64f", _mine(stack, down)
    report["scenarios"].append(
        f"{'notifications':<28} -> ServiceDown: e-mail {at['email']:.1f}s, Slack {at['slack']:.1f}s, "
        f"SMS {at['sms']:.1f}s (scale 1/{stack.notify_time_scale:g}); warning Slack only; "
        f"resolved-early never on Slack; colours red/orange/green")
