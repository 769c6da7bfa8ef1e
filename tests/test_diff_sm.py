"""`dashgen diff --env` compares the Synthetic Monitoring checks too (the emulator's SM
endpoints over loopback HTTP): named by job, only when SM_URL and SM_TOKEN are set."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from grafana_emulator.fixtures import emulator  # noqa: E402,F401
from test_sm_upload import SM_TOKEN, TARGET, cli, rendered_check  # noqa: E402

from generator import synthetics as sm  # noqa: E402
from generator.diff import diff_trees, format_text  # noqa: E402

PATH = "synthetics/production/raymontology-health.json"
SECRETS = {"SLACK_WEBHOOK_URL": "https://hooks.slack.example/x", "RAYMONTOLOGY_ALERT_EMAILS": "ops@example.org",
           "RAYMONTOLOGY_SMS_WEBHOOK_URL": "https://sms.example/x"}


@pytest.fixture
def emu(emulator):
    emulator.sm_tokens[SM_TOKEN] = 42
    return emulator


@pytest.fixture
def synced(project, emu, monkeypatch):
    """The project uploaded to the emulator, SM check included."""
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    r = cli(project, emu, "upload", "--env", "production", SM_URL=emu.url, SM_TOKEN=SM_TOKEN)
    assert r.exit_code == 0, r.output
    [check] = [c for c in emu.sm_checks.values() if c["job"] == "raymontology-health"]  # the frontend's too
    return check


def diff_env(project, emu, **env):
    return cli(project, emu, "diff", "--env", "production", **env)


def with_sm(project, emu):
    return diff_env(project, emu, SM_URL=emu.url, SM_TOKEN=SM_TOKEN)


def test_checks_compare_by_job_field_by_field_added_and_removed(root):
    check = rendered_check(root)
    slower = {**check, "frequency": 120000, "probes": ["Ohio", "Oregon"]}
    changes = diff_trees({PATH: json.dumps(check)}, {PATH: json.dumps(slower)})
    assert [(c.target, c.parent, c.message) for c in changes] == [
        ("check", "raymontology-health", "frequency 60000 -> 120000"),
        ("check", "raymontology-health", 'probes ["Frankfurt", "Ohio", "Oregon"] -> ["Ohio", "Oregon"]'),
    ]
    assert format_text(changes).startswith(f"check raymontology-health ({PATH})\n  frequency 60000 -> 120000\n")
    [added] = diff_trees({}, {PATH: json.dumps(check)})
    assert (added.kind, added.message) == ("added", f"check added ({TARGET}, every 60 s from 3 probes)")
    [removed] = diff_trees({PATH: json.dumps(check)}, {})
    assert (removed.kind, removed.parent) == ("removed", "raymontology-health")
    # the server's fields and dashgen's mark are not changes
    remote = {**sm.with_mark(check), "id": 7, "tenantId": 42, "created": 1.5, "modified": 2.5}
    assert diff_trees({PATH: remote}, {PATH: json.dumps(check)}) == []


def test_diff_env_shows_an_sm_edit_by_check_job(project, emu, synced):
    r = with_sm(project, emu)
    assert r.exit_code == 0 and "not compared" not in r.stderr, r.output
    synced["frequency"] = 120000  # edited in the SM UI
    r = with_sm(project, emu)
    assert r.exit_code == 1, r.output
    assert f"check raymontology-health ({PATH})\n  frequency 120000 -> 60000\n" in r.stdout
    assert SM_TOKEN not in r.output


def test_diff_env_shows_a_missing_check_as_added_and_a_stray_one_as_removed(project, emu, synced):
    stray = copy.deepcopy(synced)
    stray.update(id=999, job="old-health", labels=[*synced["labels"]])
    emu.sm_checks[999] = sm.with_mark(stray)
    someone_elses = {**copy.deepcopy(synced), "id": 998, "job": "not-ours", "labels": []}
    emu.sm_checks[998] = someone_elses
    del emu.sm_checks[synced["id"]]
    r = with_sm(project, emu)
    assert r.exit_code == 1, r.output
    heads = [ln for ln in r.stdout.splitlines() if ln.startswith("check ")]
    assert heads == ["check old-health (synthetics/production/old-health.json)", f"check raymontology-health ({PATH})"]
    assert "  check removed (" in r.stdout and "  check added (" in r.stdout
    assert "not-ours" not in r.stdout  # not dashgen's: never compared


def test_without_sm_variables_one_note_and_no_sm_request(project, emu, synced, monkeypatch):
    monkeypatch.delenv("SM_URL", raising=False)
    monkeypatch.delenv("SM_TOKEN", raising=False)
    synced["frequency"] = 120000
    emu.clear_log()
    r = diff_env(project, emu)
    assert r.exit_code == 0, r.output
    assert r.stderr.count("note: Synthetic Monitoring checks not compared: SM_URL and SM_TOKEN not set") == 1
    assert not [x for x in emu.log if x["path"].startswith(("/api/v1/check/", "/api/v1/probe/"))]


def test_a_bad_sm_token_is_a_config_error(project, emu, synced):
    r = diff_env(project, emu, SM_URL=emu.url, SM_TOKEN="glsm_bad")
    assert r.exit_code == 2 and "SM_TOKEN" in r.stderr and "glsm_bad" not in r.output
