"""The routing table, proven by Alertmanager's own router: `amtool config routes test`.

Each row is a label set and the receivers it must reach (docs/targets.md §8 Action column). The
configuration is the rendered one with placeholder secrets, so this is what Mimir's or your
own Alertmanager runs. Timing (docs/targets.md §3 escalation) is asserted on the route tree's waits.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from generator.checks.amtool import write_config
from repo_project import CONFIG
from generator.errors import DashgenError
from generator.loader import load
from generator.notifications import escalation_routes

EMAIL, SLACK, SMS = "raymontology-email", "raymontology-slack", "raymontology-sms"

# (labels, expected receivers in order): every seed alert, then the unknowns.
TABLE = [
    ({"alertname": "ServiceDown", "severity": "critical"}, [EMAIL, SLACK, SMS]),
    ({"alertname": "FrontendDown", "severity": "critical"}, [EMAIL, SLACK, SMS]),  # the site does not load
    ({"alertname": "HighErrorRate", "severity": "critical"}, [EMAIL, SLACK]),
    ({"alertname": "DatabaseConnectionFailed", "severity": "critical"}, [EMAIL, SLACK]),
    ({"alertname": "HighCPUUsage", "severity": "warning"}, [SLACK]),
    ({"alertname": "HighMemoryUsage", "severity": "warning"}, [SLACK]),
    ({"alertname": "SlowAPIResponse", "severity": "warning"}, [SLACK]),
    ({"alertname": "SomethingNew", "severity": "warning"}, [SLACK]),
    ({"alertname": "SomethingNew", "severity": "critical"}, [EMAIL, SLACK]),
    ({"alertname": "ServiceDownstream", "severity": "critical"}, [EMAIL, SLACK]),  # regex is anchored
    ({"alertname": "NoSeverity"}, [SLACK]),
]


def _config(tmp: Path, cfg=CONFIG) -> Path:
    routing = load(Path(__file__).resolve().parent.parent, cfg).notifications[1]
    return write_config(cfg, routing, tmp)


def _route(amtool: str, config: Path, labels: dict) -> list[str]:
    out = subprocess.run([amtool, "config", "routes", "test", f"--config.file={config}",
                          *(f"{k}={v}" for k, v in labels.items())], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().split(",")


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    return _config(tmp_path_factory.mktemp("am"))


@pytest.mark.parametrize("labels,expected", TABLE, ids=[r[0]["alertname"] + "-" + r[0].get("severity", "none")
                                                          for r in TABLE])
def test_routes(amtool, config, labels, expected):
    assert _route(amtool, config, labels) == expected


def test_every_rendered_alert_is_routed_by_its_severity(amtool, config, root):
    want = {"critical": [EMAIL, SLACK], "warning": [SLACK]}
    routed = []
    for path in sorted((root / "rendered" / "alerts").glob("*.yaml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                labels = {"alertname": rule["alert"], **rule["labels"]}
                expected = want[labels["severity"]] + ([SMS] if rule["alert"] in ("ServiceDown", "FrontendDown") else [])
                assert _route(amtool, config, labels) == expected, rule["alert"]
                routed.append(rule["alert"])
    assert {"ServiceDown", "FrontendDown"} <= set(routed) and len(routed) >= 10, routed  # the rendered rules were really read


def test_escalation_waits_follow_the_config(config):
    routes = yaml.safe_load(config.read_text())["route"]["routes"]
    waits = [(r["receiver"], r["group_wait"], r.get("continue", False)) for r in routes]
    # docs/targets.md §3: e-mail at 0 min, Slack added at 5 min, SMS at 15 min; each step continues to the next.
    assert waits == [(EMAIL, "0s", True), (SLACK, "5m", True), (SMS, "15m", False), (SLACK, "30s", False)]


def test_reach_is_config(amtool, tmp_path):
    n = CONFIG.notifications
    cfg = replace(CONFIG, notifications=replace(n, critical_reach="email",
                                                 reach_overrides=(("ServiceDown", "sms"), ("HighErrorRate", "slack"))))
    config = _config(tmp_path, cfg)
    assert _route(amtool, config, {"alertname": "DatabaseConnectionFailed", "severity": "critical"}) == [EMAIL]
    assert _route(amtool, config, {"alertname": "HighErrorRate", "severity": "critical"}) == [EMAIL, SLACK]
    assert _route(amtool, config, {"alertname": "ServiceDown", "severity": "critical"}) == [EMAIL, SLACK, SMS]


def test_unknown_step_is_a_clear_error():
    cfg = replace(CONFIG, notifications=replace(CONFIG.notifications, critical_reach="pager"))
    with pytest.raises(DashgenError, match="monitoring/config.py: escalation step 'pager' is not one of email"):
        escalation_routes(cfg, {"email": "e", "slack": "s", "sms": "p"})
