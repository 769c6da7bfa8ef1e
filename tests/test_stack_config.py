"""The reference stack's generated configuration, checked offline (no process started).

The e2e suite (`make e2e`) runs the stack itself; these tests pin what it is built from:
the job names come from generator.config, the blackbox module encodes the seed's health
contract, and the stack's rule files differ from rendered/alerts only in the group interval.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from repo_project import CONFIG  # noqa: E402
from stack.run import HEALTH_BODY_REGEXP, Stack  # noqa: E402
from stack.timescale import scaled  # noqa: E402

RULES = REPO / "rendered" / "alerts"


@pytest.fixture
def written(tmp_path):
    st = Stack(rules_dir=RULES, quiet=True)
    st.root = tmp_path
    st.ports = {n: 10000 + i for i, n in enumerate(
        ["postgres", "redis", "app", "worker", "postgres_exporter", "redis_exporter", "blackbox", "prometheus",
         "alertmanager", "sinks"])}
    st._write_configs()
    return st


def test_scrape_jobs_are_the_configured_ones(written):
    prom = yaml.safe_load((written.root / "config" / "prometheus.yml").read_text())
    jobs = {c["job_name"]: c for c in prom["scrape_configs"]}
    assert set(jobs) == set(vars(CONFIG.jobs).values()) | {CONFIG.uptime.check_job}
    probe = jobs[CONFIG.jobs.blackbox]
    assert probe["metrics_path"] == "/probe"
    assert probe["static_configs"][0]["targets"] == [written.health_url]


def test_a_second_probe_job_is_labelled_like_the_synthetic_monitoring_check(written):
    """Issue 11: job = the SM check's job, one target per location with a `probe` label."""
    prom = yaml.safe_load((written.root / "config" / "prometheus.yml").read_text())
    sm = {c["job_name"]: c for c in prom["scrape_configs"]}[CONFIG.uptime.check_job]
    assert [g["labels"]["probe"] for g in sm["static_configs"]] == list(CONFIG.uptime.probes)
    assert all(g["targets"] == [written.health_url] for g in sm["static_configs"])
    assert {"source_labels": ["__param_target"], "target_label": "instance"} in sm["relabel_configs"]


def test_blackbox_module_is_the_seed_health_contract(written):
    module = yaml.safe_load((written.root / "config" / "blackbox.yml").read_text())["modules"]["http_health"]
    assert module["prober"] == "http" and module["timeout"] == "30s"
    assert module["http"]["method"] == "GET" and module["http"]["valid_status_codes"] == [200]
    [regexp] = module["http"]["fail_if_body_not_matches_regexp"]
    assert regexp == HEALTH_BODY_REGEXP
    assert re.search(regexp, '{"status":"healthy"}') and re.search(regexp, '{"status": "healthy"}')
    assert not re.search(regexp, '{"status":"unhealthy"}')


@pytest.mark.skipif(not list(RULES.glob("*.rules.yaml")), reason="rendered/alerts is empty")
def test_stack_rules_differ_only_in_group_interval(written):
    """...and, for the SLO groups, in windows and `for` (the compressed clock, SLO_TIME_SCALE)."""
    from generator.durations import duration, seconds

    assert [p.name for p in written.rule_files] == sorted(p.name for p in RULES.glob("*.rules.yaml"))
    compressed = 0
    for ours in written.rule_files:
        theirs = yaml.safe_load((RULES / ours.name).read_text())
        mine = yaml.safe_load(ours.read_text())
        for a, b in zip(theirs["groups"], mine["groups"], strict=True):
            assert b.pop("interval") == f"{written.scrape_interval}s"
            a.pop("interval", None)
            if a["name"].startswith("raymontology-slo-"):
                compressed += 1
                assert [r.get("record") or r.get("alert") for r in a["rules"]] == [
                    r.get("record") or r.get("alert") for r in b["rules"]]
                for ra, rb in zip(a["rules"], b["rules"]):
                    windows = re.findall(r"\[([0-9a-z]+)\]", ra["expr"])
                    fast = re.findall(r"\[([0-9a-z]+)\]", rb["expr"])
                    assert fast == [duration(max(1, round(seconds(w) / written.slo_time_scale))) for w in windows]
                    if "for" in ra:
                        assert seconds(rb["for"]) == max(1, round(seconds(ra["for"]) / written.slo_time_scale))
                continue
            assert a == b
    assert compressed == len(list(RULES.glob("raymontology-slo-*.rules.yaml")))


def test_stack_alertmanager_is_the_rendered_one_scaled(written):
    """Same tree and receivers as rendered/alerting/alertmanager.yaml; waits / the scale,
    the e2e_case grouping label, e-mail as a webhook to the sink, secrets at the sinks."""
    from stack.run import E2E_CASE_LABEL, NOTIFY_TIME_SCALE

    prom = yaml.safe_load((written.root / "config" / "prometheus.yml").read_text())
    assert prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        f"127.0.0.1:{written.ports['alertmanager']}"]
    ours = yaml.safe_load((written.root / "config" / "alertmanager.yml").read_text())
    theirs = yaml.safe_load((REPO / "rendered" / "alerting" / "alertmanager.yaml").read_text())
    assert NOTIFY_TIME_SCALE == 30
    assert ours["route"]["group_by"] == theirs["route"]["group_by"] + [E2E_CASE_LABEL]
    waits = [(r["receiver"], r["group_wait"], r.get("matchers")) for r in ours["route"]["routes"]]
    assert waits == [("raymontology-email", "0s", ['severity="critical"']),
                     ("raymontology-slack", "10s", ['severity="critical"']),
                     ("raymontology-sms", "30s", ['severity="critical"', 'alertname=~"ServiceDown"']),
                     ("raymontology-slack", "1s", ['severity="warning"'])]
    urls = {r["name"]: (r.get("webhook_configs") or r.get("slack_configs"))[0] for r in ours["receivers"]}
    assert urls["raymontology-email"]["url"] == written.sinks_url + "/email"
    assert urls["raymontology-slack"]["api_url"] == written.sinks_url + "/slack"
    assert urls["raymontology-sms"]["url"] == written.sinks_url + "/sms"
    assert (written.root / "config" / "raymontology.tmpl").read_text() == \
        (REPO / "rendered" / "alerting" / "raymontology.tmpl").read_text()


def test_scaled_divides_every_wait():
    s = scaled(CONFIG, 30).notifications
    assert (s.email_after, s.slack_after, s.sms_after, s.group_interval) == ("0s", "10s", "30s", "10s")
    assert (s.warning_group_wait, s.critical_repeat_interval, s.warning_repeat_interval) == ("1s", "30s", "8m")
    assert s.slack_webhook_env == CONFIG.notifications.slack_webhook_env  # only durations move
