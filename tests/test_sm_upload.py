"""Issue 11: upload syncs the Synthetic Monitoring check through the SM API (the emulator's
SM endpoints over real HTTP on loopback): keyed by job + target, idempotent, drift refused,
retries safe, secrets scrubbed, --dry-run, and skipped with a note when SM_* is unset."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from grafana_emulator.fixtures import TOKEN, emulator  # noqa: E402,F401

from generator import synthetics as sm  # noqa: E402
from generator.cli import main  # noqa: E402
from generator.environments import Environment  # noqa: E402
from generator.grafana.client import AuthError, GrafanaAPIError  # noqa: E402
from generator.grafana.upload import Local, upload  # noqa: E402

SM_TOKEN = "glsm_CanarySmCanarySmCanarySm_0123456789abcdef"
FAST = {"backoff": 0.01, "backoff_cap": 0.05, "timeout": 2.0}
TARGET = "https://raymontology-backend.up.railway.app/health"


@pytest.fixture
def emu(emulator):
    emulator.sm_tokens[SM_TOKEN] = 42
    return emulator


def rendered_check(root: Path) -> dict:
    return json.loads((root / "rendered" / "synthetics" / "production" / "raymontology-health.json").read_text())


def local_with(*checks: dict, env: str = "production") -> Local:
    return Local({}, None, None, normalised=True, checks={env: list(checks)})


def env_for(emu, name: str = "production", sm_token: str = SM_TOKEN, sm_url: str | None = None) -> Environment:
    return Environment(name, emu.url, "Raymontology/Production", token=TOKEN,
                       sm_url=emu.url if sm_url is None else sm_url, sm_token=sm_token)


def run(emu, local: Local, env: Environment | None = None, **kw):
    return upload(env or env_for(emu), local, commit="abc", client_options=FAST, **kw)


def sm_writes(emu) -> list[dict]:
    return [r for r in emu.writes() if r["path"].startswith("/api/v1/check/")]


def items(report) -> list:
    return [i for i in report.items if i.kind == "sm-check"]


def test_first_upload_adds_the_check_with_probe_ids_then_a_rerun_writes_nothing(emu, root):
    check = rendered_check(root)
    report = run(emu, local_with(check))
    assert [(i.action, i.done) for i in items(report)] == [("create", True)], report.items
    [stored] = emu.sm_checks.values()
    names = {p["id"]: p["name"] for p in emu.sm_probes}
    assert sorted(names[i] for i in stored["probes"]) == sorted(check["probes"])
    assert stored["job"] == "raymontology-health" and stored["target"] == TARGET and stored["tenantId"] == 42
    assert stored["frequency"] == 60000 and stored["timeout"] == 30000
    assert sm.label(stored) == sm.content_hash(stored)  # dashgen's mark
    assert sm.label(stored, "env") == "production"
    emu.clear_log()
    report = run(emu, local_with(check))
    assert [i.action for i in items(report)] == ["unchanged"] and sm_writes(emu) == []


def test_a_change_in_code_is_one_update_of_the_same_check(emu, root):
    check = rendered_check(root)
    run(emu, local_with(check))
    [cid] = emu.sm_checks
    emu.clear_log()
    report = run(emu, local_with({**check, "frequency": 120000}))
    assert [i.action for i in items(report)] == ["update"]
    assert [r["path"] for r in sm_writes(emu)] == ["/api/v1/check/update"]
    assert list(emu.sm_checks) == [cid] and emu.sm_checks[cid]["frequency"] == 120000


def test_an_edit_in_the_sm_ui_is_drift_refused_then_overwritten_with_force(emu, root):
    check = rendered_check(root)
    run(emu, local_with(check))
    [cid] = emu.sm_checks
    emu.edit_check_in_ui(cid, lambda c: c.update(frequency=300000))
    emu.clear_log()
    report = run(emu, local_with(check))
    [item] = items(report)
    assert item.action == "drifted" and item.failed and "changed in Synthetic Monitoring" in item.detail
    assert '"frequency": 300000' in item.diff and sm_writes(emu) == []
    report = run(emu, local_with(check), force=True)
    [item] = items(report)
    assert item.action == "drifted" and item.forced and item.done and not report.failed
    assert emu.sm_checks[cid]["frequency"] == 60000


def test_someone_elses_check_with_our_job_and_target_is_not_overwritten(emu, root):
    check = rendered_check(root)
    emu.sm_add({**copy.deepcopy(check), "probes": [1], "labels": []}, 42)  # created in the UI
    report = run(emu, local_with(check))
    [item] = items(report)
    assert item.action == "drifted" and "not written by dashgen" in item.detail and report.failed
    assert sm_writes(emu) == []


def test_dry_run_plans_and_writes_nothing(emu, root):
    report = run(emu, local_with(rendered_check(root)), dry_run=True)
    assert [(i.action, i.done) for i in items(report)] == [("create", False)]
    assert sm_writes(emu) == [] and not emu.sm_checks
    assert "dry run" in report.summary()


def test_prune_deletes_only_dashgen_checks_of_this_environment(emu, root):
    check = rendered_check(root)
    other = {**check, "job": "raymontology-old"}
    staging = {**check, "target": "https://staging.example/health",
               "labels": [{"name": "env", "value": "staging"}]}
    run(emu, local_with(check, other))
    run(emu, local_with(staging, env="staging"), env_for(emu, "staging"))
    emu.sm_add({**copy.deepcopy(check), "job": "someone-else", "probes": [1], "labels": []}, 42)
    assert len(emu.sm_checks) == 4
    report = run(emu, local_with(check))
    assert [(i.key, i.action, i.done) for i in items(report) if i.action == "prune"] == [
        (f"raymontology-old {TARGET}", "prune", False)]
    assert "--prune" in next(i.detail for i in items(report) if i.action == "prune")
    report = run(emu, local_with(check), prune=True)
    assert [i.key for i in items(report) if i.action == "prune" and i.done] == [f"raymontology-old {TARGET}"]
    assert sorted(c["job"] for c in emu.sm_checks.values()) == ["raymontology-health", "raymontology-health",
                                                                "someone-else"]


def test_an_unknown_probe_location_fails_the_item_naming_it(emu, root):
    check = {**rendered_check(root), "probes": ["Ohio", "Atlantis"]}
    report = run(emu, local_with(check))
    [item] = items(report)
    assert item.failed and "'Atlantis'" in item.detail and "Frankfurt" in item.detail


def test_faults_on_sm_requests_converge_without_duplicates(emu, root):
    check = rendered_check(root)
    emu.set_faults(ratio=0.4, kinds=("429", "503", "reset", "reset_after"), paths="^/api/v1/(check|probe)/")
    report = None
    for _ in range(10):
        try:
            report = run(emu, local_with(check, {**check, "job": "second"}))
        except GrafanaAPIError:  # the token check ran out of retries: a run-level failure, run again
            continue
        if not report.failed:
            break
    assert report is not None and not report.failed
    assert any(r.get("fault") for r in emu.log)
    emu.set_faults(ratio=0.0)
    assert sorted(c["job"] for c in emu.sm_checks.values()) == ["raymontology-health", "second"]
    emu.clear_log()
    assert not run(emu, local_with(check, {**check, "job": "second"})).failed and sm_writes(emu) == []


def test_a_bad_sm_token_is_named_before_anything_is_written(emu, root):
    with pytest.raises(AuthError, match="SM_TOKEN") as exc:
        run(emu, local_with(rendered_check(root)), env_for(emu, sm_token="glsm_wrong_token_0000"))
    assert "glsm_wrong" not in str(exc.value)
    assert emu.writes() == []


def cli(project: Path, emu, *args, **env):
    base = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": TOKEN, "DASHGEN_HTTP_BACKOFF": "0.01"}
    return CliRunner().invoke(main, ["--root", str(project), *args], env={**base, **env})


def test_cli_without_sm_variables_skips_the_check_with_a_note(project, emu, monkeypatch):
    for k in ("SM_URL", "SM_TOKEN", "SLACK_WEBHOOK_URL", "RAYMONTOLOGY_ALERT_EMAILS", "RAYMONTOLOGY_SMS_WEBHOOK_URL"):
        monkeypatch.delenv(k, raising=False)
    r = cli(project, emu, "upload", "--env", "production", "--dry-run")
    assert "SM_URL and SM_TOKEN not set" in r.stderr and "rendered/synthetics/production/" in r.stderr
    assert not [x for x in emu.log if x["path"].startswith("/api/v1/check/")]


def test_cli_syncs_the_rendered_check_and_never_prints_the_sm_token(project, emu, monkeypatch):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.example/x")
    monkeypatch.setenv("RAYMONTOLOGY_ALERT_EMAILS", "ops@example.org")
    monkeypatch.setenv("RAYMONTOLOGY_SMS_WEBHOOK_URL", "https://sms.example/x")
    emu.set_faults(queue=["echo500"], paths="^/api/v1/check/add")  # a 500 that echoes the request
    r = cli(project, emu, "upload", "--env", "production", SM_URL=emu.url, SM_TOKEN=SM_TOKEN)
    assert SM_TOKEN not in r.output
    assert r.exit_code == 1 and "FAILED" in r.stderr and "sm-check" in r.stderr
    r = cli(project, emu, "upload", "--env", "production", SM_URL=emu.url + "/api/v1/", SM_TOKEN=SM_TOKEN)
    assert r.exit_code == 0, r.output
    # the check whose add failed (the /health or the frontend one, whichever went first) is created now
    assert "create    sm-check      raymontology-" in r.stdout
    assert sorted(c["job"] for c in emu.sm_checks.values()) == ["raymontology-frontend", "raymontology-health"]
    r = cli(project, emu, "upload", "--env", "production", SM_URL=emu.url, SM_TOKEN=SM_TOKEN)
    assert r.exit_code == 0 and f"unchanged sm-check      raymontology-health {TARGET}" in r.stdout
    r = cli(project, emu, "upload", "--env", "production", SM_URL=emu.url, SM_TOKEN="glsm_bad")
    assert r.exit_code == 2 and "SM_TOKEN" in r.stderr and "glsm_bad" not in r.output


def test_the_emulator_sm_endpoints_answer_in_the_documented_shapes(emu, root):
    import requests

    h = {"Authorization": f"Bearer {SM_TOKEN}"}
    r = requests.get(emu.url + "/api/v1/check/list", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert r.status_code == 401 and set(r.json()) == {"code", "msg", "err"}
    probes = requests.get(emu.url + "/api/v1/probe/list", headers=h, timeout=5).json()
    assert {"id", "name", "region", "public", "online"} <= set(probes[0])
    body = {**rendered_check(root), "probes": [probes[0]["id"]]}
    added = requests.post(emu.url + "/api/v1/check/add", json=body, headers=h, timeout=5).json()
    assert {"id", "tenantId", "created", "modified"} <= set(added) and added["tenantId"] == 42
    dup = requests.post(emu.url + "/api/v1/check/add", json=body, headers=h, timeout=5)
    assert dup.status_code == 409
    too_slow = requests.post(emu.url + "/api/v1/check/add", headers=h, timeout=5,
                             json={**body, "job": "x", "timeout": 61000, "frequency": 120000})
    assert too_slow.status_code == 400 and "timeout" in too_slow.json()["msg"]
    no_id = requests.post(emu.url + "/api/v1/check/update", json=body, headers=h, timeout=5)
    assert no_id.status_code == 404
    q = requests.get(emu.url + "/api/v1/check/query", params={"job": body["job"], "target": body["target"]},
                     headers=h, timeout=5)
    assert q.json()["id"] == added["id"]
    gone = requests.delete(emu.url + f"/api/v1/check/delete/{added['id']}", headers=h, timeout=5).json()
    assert gone == {"msg": "check deleted", "checkId": added["id"]}
    assert requests.delete(emu.url + f"/api/v1/check/delete/{added['id']}", headers=h, timeout=5).status_code == 404


def test_only_selects_the_synthetics_kind(emu, root):
    """`--only dashboards` leaves SM alone; `--only synthetics` syncs the check and nothing else."""
    local = local_with(rendered_check(root))
    local.dashboards = {"raymontology-only": {"uid": "raymontology-only", "title": "Only", "panels": []}}
    report = run(emu, local, only=("dashboards",))
    assert not items(report) and not sm_writes(emu)
    assert [i.action for i in report.items if i.kind == "dashboard"] == ["create"]
    report = run(emu, local, only=("synthetics",))
    assert [i.action for i in items(report)] == ["create"] and len(sm_writes(emu)) == 1
    assert not [i for i in report.items if i.kind in ("dashboard", "folder")]
