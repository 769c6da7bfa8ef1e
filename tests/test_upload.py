"""Upload scenarios against the Grafana emulator over real HTTP on loopback."""

from __future__ import annotations

import json
import sys
import time
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from grafana_emulator import Profile  # noqa: E402
from grafana_emulator.fixtures import (  # noqa: E402,F401
    EXPIRED_TOKEN, NOROLE_TOKEN, REVOKED_TOKEN, TOKEN, VIEWER_TOKEN, emulator, make_emulator,
)

from generator.cli import main  # noqa: E402
from generator.environments import Environment  # noqa: E402
from generator.grafana.client import AuthError, GrafanaAPIError  # noqa: E402
from generator.normalize import dumps  # noqa: E402
from generator.normalize import normalize_dashboard  # noqa: E402
from generator.grafana.folders import folder_uid  # noqa: E402
from generator.grafana.remote import fetch_remote_dashboards, fetch_remote_rule_groups  # noqa: E402
from generator.grafana.scope import mark_template, unmarked_group  # noqa: E402
from generator.grafana.upload import Local, UploadReport, load_local, upload  # noqa: E402

FOLDER = "Raymontology/Production"
LEAF = folder_uid(("Raymontology", "Production"))
FAST = {"backoff": 0.01, "backoff_cap": 0.05, "timeout": 2.0}


def make_dashboard(i: int, title: str | None = None) -> dict:
    return {
        "uid": f"raymontology-d{i:03d}", "title": title or f"Dashboard {i}", "tags": ["raymontology"],
        "schemaVersion": 41, "editable": True, "time": {"from": "now-6h", "to": "now"}, "refresh": "1m",
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
        "panels": [{"id": 1, "type": "timeseries", "title": "Requests", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
                    "datasource": {"type": "prometheus", "uid": "${datasource}"},
                    "targets": [{"refId": "A", "expr": f"sum(rate(http_requests_total{{i=\"{i}\"}}[$__rate_interval]))"}]}],
    }


def make_group(name: str, expr: str = "up == 0") -> dict:
    return {"name": name, "interval": "1m", "rules": [
        {"alert": f"{name.title()}Down", "expr": expr, "for": "5m",
         "labels": {"severity": "critical"}, "annotations": {"summary": "s", "description": "d", "runbook_url": "u"}}]}


def local_set(n: int = 3, groups=("api", "db")) -> Local:
    return Local({d["uid"]: d for d in (make_dashboard(i) for i in range(n))}, {g: make_group(g) for g in groups})


def normalised(local: Local) -> dict:
    return {uid: normalize_dashboard(d) for uid, d in local.dashboards.items()}


def env_for(emu, token: str = TOKEN, **kw) -> Environment:
    return Environment("production", emu.url, kw.pop("folder", FOLDER), token=token, **kw)


def run(emu, local: Local, **kw) -> UploadReport:
    kw.setdefault("client_options", FAST)
    return upload(env_for(emu, kw.pop("token", TOKEN)), local, commit="abc123", **kw)


def dashboard_posts(emu) -> list[dict]:
    return [json.loads(r["body"]) for r in emu.writes() if r["path"] == "/api/dashboards/db"]


# --- first upload, re-run, one change ------------------------------------------------------------
def test_first_upload_creates_everything_in_the_right_folder(emulator):
    local = local_set()
    report = run(emulator, local)
    assert not report.failed
    assert report.count("create", "dashboard") == 3 and report.count("create", "rule-group") == 2
    top, leaf = emulator.folders[folder_uid(("Raymontology",))], emulator.folders[LEAF]
    assert (top["title"], top["parentUid"]) == ("Raymontology", "")
    assert (leaf["title"], leaf["parentUid"]) == ("Production", top["uid"])
    assert len(emulator.folders) == 2
    for uid, d in emulator.dashboards.items():
        assert d["folderUid"] == LEAF and d["version"] == 1
    for post in dashboard_posts(emulator):  # always uid, folderUid and a message; never folderId
        assert post["dashboard"]["uid"] and post["folderUid"] == LEAF and "folderId" not in post
        assert post["message"].startswith("dashgen ") and "commit abc123" in post["message"]
        assert len(post["message"]) <= 500 and "id" not in post["dashboard"]
    assert set(emulator.converted[LEAF]) == {"api", "db"}  # rules next to the dashboards
    assert emulator.converted[LEAF]["api"]["provenance"] == "converted_prometheus"
    assert all(r["headers"].get("X-Grafana-Alerting-Datasource-UID") == "grafanacloud-prom"
               for r in emulator.requests("POST", "/api/convert"))


def test_a_rerun_with_nothing_changed_makes_zero_writes(emulator):
    local = local_set()
    run(emulator, local)
    emulator.clear_log()
    report = run(emulator, local)
    assert emulator.writes() == []
    assert report.count("unchanged", "dashboard") == 3 and report.count("unchanged", "rule-group") == 2
    assert not report.failed
    assert emulator.requests("GET", "/api/dashboards/uid/raymontology-d000/versions") == []  # no history reads


def test_one_change_makes_one_write(emulator):
    local = local_set()
    run(emulator, local)
    local.dashboards["raymontology-d001"]["title"] = "Renamed"
    emulator.clear_log()
    report = run(emulator, local)
    writes = emulator.writes()
    assert len(writes) == 1 and json.loads(writes[0]["body"])["dashboard"]["title"] == "Renamed"
    assert json.loads(writes[0]["body"])["overwrite"] is False  # drift-safe: the seen version
    assert report.count("update") == 1 and emulator.dashboards["raymontology-d001"]["version"] == 2
    local.groups["db"] = make_group("db", "pg_up == 0")
    emulator.clear_log()
    run(emulator, local)
    assert [(w["method"], w["path"]) for w in emulator.writes()] == \
        [("POST", "/api/convert/prometheus/config/v1/rules/Production")]


# --- drift guard ----------------------------------------------------------------------------------
@pytest.mark.parametrize("profile", [Profile(conflict_status=412, versions_shape="object"),
                                     Profile(conflict_status=409, versions_shape="array")],
                         ids=["legacy-412-object", "newest-409-array"])
def test_a_dashboard_edited_in_the_ui_is_refused_then_overwritten_with_force(profile):
    emu = make_emulator(profile=profile)
    try:
        local = local_set()
        run(emu, local)
        emu.edit_in_ui("raymontology-d001", lambda d: d["panels"][0].update(title="Alice's panel"))
        local.dashboards["raymontology-d002"]["title"] = "Changed in code"
        emu.clear_log()
        report = run(emu, local)
        assert report.failed
        drifted = [i for i in report.items if i.action == "drifted"]
        assert [i.key for i in drifted] == ["raymontology-d001"] and not drifted[0].done
        assert "alice" in drifted[0].detail and "--force" in drifted[0].detail
        assert '-      "title": "Alice\'s panel",' in drifted[0].diff and '+      "title": "Requests",' in drifted[0].diff
        assert drifted[0].diff.startswith("--- remote/raymontology-d001\n+++ local/raymontology-d001")
        # the rest carried on: the other change was written, Alice's edit was not
        assert [json.loads(w["body"])["dashboard"]["uid"] for w in emu.writes()
                if w["path"] == "/api/dashboards/db"] == ["raymontology-d002"]
        assert emu.dashboards["raymontology-d001"]["data"]["panels"][0]["title"] == "Alice's panel"
        report = run(emu, local, force=True)
        assert not report.failed
        assert emu.dashboards["raymontology-d001"]["data"]["panels"][0]["title"] == "Requests"
        emu.clear_log()
        assert not run(emu, local).failed and emu.writes() == []  # converged
    finally:
        emu.stop()


def test_a_dashboard_someone_else_created_with_our_uid_is_not_overwritten(emulator):
    local = local_set(1, groups=())
    run(emulator, local)  # makes the folders
    emulator.save_dashboard({"dashboard": {"uid": "raymontology-d009", "title": "Bob's"}, "folderUid": ""}, "bob")
    local.dashboards["raymontology-d009"] = make_dashboard(9)
    report = run(emulator, local)
    item = next(i for i in report.items if i.key == "raymontology-d009")
    assert item.action == "drifted" and "bob" in item.detail and report.failed
    assert emulator.dashboards["raymontology-d009"]["data"]["title"] == "Bob's"


def test_a_dashboard_moved_in_the_ui_is_moved_back(emulator):
    local = local_set(1, groups=())
    run(emulator, local)
    emulator.dashboards["raymontology-d000"]["folderUid"] = ""
    report = run(emulator, local)
    assert report.count("update") == 1 and emulator.dashboards["raymontology-d000"]["folderUid"] == LEAF


def test_an_answer_lost_after_a_create_converges_without_a_false_drift(emulator):
    emulator.set_faults(paths=r"^/api/dashboards/db$", queue=["reset_after"])
    report = run(emulator, local_set(1, groups=()))
    assert not report.failed and report.count("create", "dashboard") == 1
    assert [e["status"] for e in emulator.requests("POST", "/api/dashboards/db")] == ["reset", 412]
    assert len(emulator.dashboards) == 1 and emulator.dashboards["raymontology-d000"]["version"] == 1


# --- dry run and prune ----------------------------------------------------------------------------
def test_dry_run_prints_the_plan_and_writes_nothing(emulator):
    local = local_set()
    report = run(emulator, local, dry_run=True)
    assert emulator.writes() == [] and not emulator.folders
    assert report.count("create", "dashboard") == 3 and report.count("create", "folder") == 2
    assert report.summary() == "production: 5 to create (dry run: nothing written)"
    run(emulator, local)
    emulator.edit_in_ui("raymontology-d000", lambda d: d.update(title="UI"))
    local.dashboards["raymontology-d001"]["title"] = "new"
    del local.dashboards["raymontology-d002"]
    del local.groups["db"]
    emulator.clear_log()
    report = run(emulator, local, dry_run=True, prune=True)
    assert emulator.writes() == []
    actions = {i.key: i.action for i in report.items}
    assert actions["raymontology-d000"] == "drifted" and actions["raymontology-d001"] == "update"
    assert actions["raymontology-d002"] == "prune" and actions["db"] == "prune" and actions["api"] == "unchanged"
    assert report.summary() == ("production: 1 to update, 1 unchanged, 1 drifted (refused), 2 to prune "
                                "(dry run: nothing written)")
    report = run(emulator, local, dry_run=True, force=True)
    assert not report.failed and "1 to overwrite (--force)" in report.summary() and emulator.writes() == []


def test_prune_deletes_only_what_dashgen_manages(emulator):
    local = local_set(3)
    run(emulator, local)
    emulator.save_dashboard({"dashboard": {"uid": "carols", "title": "Carol's"}, "folderUid": LEAF}, "carol")
    emulator.save_dashboard({"dashboard": {"uid": "elsewhere", "title": "Root"}, "folderUid": ""}, "carol")
    del local.dashboards["raymontology-d002"]
    del local.groups["db"]
    report = run(emulator, local)  # without --prune: listed, not deleted
    assert report.count("prune") == 2 and not report.failed
    assert "raymontology-d002" in emulator.dashboards and "db" in emulator.converted[LEAF]
    emulator.clear_log()
    report = run(emulator, local, prune=True)
    assert not report.failed
    assert "raymontology-d002" not in emulator.dashboards and "db" not in emulator.converted[LEAF]
    assert "carols" in emulator.dashboards and "elsewhere" in emulator.dashboards
    assert next(i for i in report.items if i.key == "carols").action == "foreign"
    assert report.summary() == "production: 3 unchanged, 2 pruned, 1 not managed by dashgen"
    assert sorted((w["method"], w["path"]) for w in emulator.writes()) == [
        ("DELETE", "/api/convert/prometheus/config/v1/rules/Production/db"),
        ("DELETE", "/api/dashboards/uid/raymontology-d002")]


def test_a_removed_dashboard_edited_in_the_ui_is_not_pruned_without_force(emulator):
    local = local_set(2, groups=())
    run(emulator, local)
    emulator.edit_in_ui("raymontology-d001", lambda d: d.update(title="kept by Dave"))
    del local.dashboards["raymontology-d001"]
    report = run(emulator, local, prune=True)
    assert report.failed and "raymontology-d001" in emulator.dashboards
    assert run(emulator, local, prune=True, force=True).count("prune") == 1
    assert "raymontology-d001" not in emulator.dashboards


# --- resilience -------------------------------------------------------------------------------------
def test_faults_on_a_third_of_requests_still_converge_with_nothing_lost_or_duplicated(emulator):
    local = local_set(24, groups=("api", "db", "worker"))
    receivers = [{"uid": f"cp-{i}", "name": f"team-{i}", "type": "slack", "settings": {"url": "$HOOK"},
                  "disableResolveMessage": False} for i in range(3)]
    local.alerting = (receivers, {"receiver": "team-0", "routes": [{"receiver": "team-1"}, {"receiver": "team-2"}]})
    environ = {"HOOK": "https://hooks.example/secret"}
    emulator.set_faults(ratio=1 / 3, kinds=("429", "503", "502", "504", "reset", "reset_after"), retry_after="0")
    report = None
    for attempt in range(8):  # what an operator (or CI) does: run again until it is clean
        try:
            report = run(emulator, local, environ=environ)
        except GrafanaAPIError:  # the token check or a folder ran out of retries: a run-level failure
            continue
        if not report.failed:
            break
    assert report is not None and not report.failed, [i.detail for i in report.items if i.failed]
    assert sum(1 for r in emulator.log if r.get("fault")) > len(emulator.log) / 5  # the faults really happened
    assert any(r.get("fault") == "reset_after" and r["method"] == "POST" for r in emulator.log)
    emulator.set_faults(ratio=0.0)
    assert len(emulator.folders) == 2  # nothing duplicated
    assert set(emulator.dashboards) == set(local.dashboards)
    assert all(d["folderUid"] == LEAF for d in emulator.dashboards.values())
    assert set(emulator.converted[LEAF]) == {"api", "db", "worker"}
    assert sorted(c["uid"] for c in emulator.contact_points.values() if c["uid"].startswith("cp-")) == \
        ["cp-0", "cp-1", "cp-2"]
    assert emulator.policies["routes"] == [{"receiver": "team-1"}, {"receiver": "team-2"}]
    assert fetch_remote_dashboards(env_for(emulator), list(local.dashboards)) == normalised(local)  # nothing lost
    emulator.clear_log()
    assert not run(emulator, local, environ=environ).failed and emulator.writes() == []


def test_retry_after_is_honoured(emulator):
    emulator.set_faults(queue=["429"], retry_after="1")
    t0 = time.monotonic()
    report = run(emulator, local_set(1, groups=()))
    assert time.monotonic() - t0 >= 1.0 and not report.failed
    assert emulator.log[0]["status"] == 429 and emulator.log[1]["path"] == "/api/org"


def test_other_4xx_are_not_retried(emulator):
    local = Local({"bad uid!": {"uid": "bad uid!", "title": "T"}}, None)
    report = run(emulator, local)
    item = next(i for i in report.items if i.kind == "dashboard")
    assert item.action == "failed" and "uid contains illegal characters" in item.detail and "'bad uid!'" in item.detail
    assert len(emulator.requests("POST", "/api/dashboards/db")) == 1


def test_every_request_has_a_timeout(emulator):
    emulator.set_faults(queue=["slow"] * 3, slow_seconds=1.0)
    t0 = time.monotonic()
    with pytest.raises(GrafanaAPIError, match="timed out after 3 attempts"):
        run(emulator, local_set(1), client_options={**FAST, "timeout": 0.2, "retries": 2})
    assert time.monotonic() - t0 < 2.0


def test_bounded_concurrency(emulator):
    emulator.latency = 0.02
    seen, active, lock = [], [0], __import__("threading").Lock()
    handler = emulator.server.RequestHandlerClass
    original = handler.dispatch

    def counting(self, method):
        with lock:
            active[0] += 1
            seen.append(active[0])
        try:
            original(self, method)
        finally:
            with lock:
                active[0] -= 1

    handler.dispatch = counting
    run(emulator, local_set(40, groups=()), concurrency=4)
    assert max(seen) <= 4 and max(seen) >= 3


# --- auth and configuration -------------------------------------------------------------------------
@pytest.mark.parametrize("token,fragment", [
    ("glsa_unknownunknownunknownunknownunk_00000000", "invalid"),
    (EXPIRED_TOKEN, "expired"),
    (REVOKED_TOKEN, "revoked"),
    (NOROLE_TOKEN, "lacks a permission: orgs:read"),
])
def test_a_bad_token_is_named_before_anything_else(emulator, token, fragment):
    with pytest.raises(AuthError, match=fragment) as info:
        run(emulator, local_set(), token=token)
    assert token not in str(info.value)
    assert [r["path"] for r in emulator.log] == ["/api/org"]


def test_a_token_without_write_permission_names_it(emulator):
    with pytest.raises(GrafanaAPIError, match="Permissions needed: folders:create"):
        run(emulator, local_set(), token=VIEWER_TOKEN)


# --- CLI -------------------------------------------------------------------------------------------
ENV_TOML = """
[production]
grafana_url = "https://raymontology.grafana.net"
folder = "Raymontology/Production"
datasource_uid = "grafanacloud-prom"
alerting = "grafana"
health_url = "https://raymontology-backend.up.railway.app/health"
frontend_url = "https://raymontology-frontend.up.railway.app/"

[staging]
grafana_url = "https://raymontology.grafana.net"
suffix = "-staging"
folder = "Raymontology/Staging"
"""


@pytest.fixture
def synthetic(tmp_path):
    """A synthetic project (the core's `project` fixture copies the real one)."""
    (tmp_path / "environments.toml").write_text(ENV_TOML)
    (tmp_path / "dashboards").mkdir()
    (tmp_path / "alerts").mkdir()
    shutil.copytree(Path(__file__).resolve().parent.parent / "monitoring", tmp_path / "monitoring",
                    ignore=shutil.ignore_patterns("__pycache__"))  # its config names the secrets
    write_rendered(tmp_path, local_set())
    return tmp_path


def write_rendered(root: Path, local: Local) -> None:
    dash = root / "rendered" / "dashboards"
    alerts = root / "rendered" / "alerts"
    for d in (dash, alerts):
        d.mkdir(parents=True, exist_ok=True)
        for f in d.iterdir():
            f.unlink()
    for uid, d in local.dashboards.items():
        (dash / f"{uid}.json").write_text(dumps(normalize_dashboard(d)))
    for name, g in (local.groups or {}).items():
        (alerts / f"{name}.rules.yaml").write_text(yaml.safe_dump({"groups": [g]}, sort_keys=False))


def cli(project, emu, *args, token=TOKEN):
    env = {"GRAFANA_URL": emu.url if emu else "", "GRAFANA_TOKEN": token, "DASHGEN_HTTP_BACKOFF": "0.01"}
    if args[:1] == ("upload",) and not any((project / "dashboards").glob("*.py")):
        args = (*args, "--as-rendered")  # a synthetic project: rendered/ without the code that renders it
    return CliRunner().invoke(main, ["--root", str(project), *args], env=env)


def test_cli_upload_prints_a_result_per_item_and_a_summary(synthetic, emulator):
    r = cli(synthetic, emulator, "upload", "--env", "production")
    assert r.exit_code == 0, r.output
    assert r.stdout.count("create    dashboard     raymontology-d") == 3
    assert r.stdout.strip().splitlines()[-1] == "production: 5 created"
    r = cli(synthetic, emulator, "upload", "--env", "production")
    assert r.exit_code == 0 and r.stdout.strip().splitlines()[-1] == "production: 5 unchanged"
    emulator.edit_in_ui("raymontology-d000", lambda d: d.update(title="UI"))
    r = cli(synthetic, emulator, "upload", "--env", "production", "--dry-run")
    assert r.exit_code == 1 and "DRIFTED" in r.stderr and '-  "title": "UI",' in r.stderr
    assert "(dry run: nothing written)" in r.stdout
    r = cli(synthetic, emulator, "upload", "--env", "production", "--force")
    assert r.exit_code == 0 and "1 overwritten (--force)" in r.stdout


def test_load_local_reads_rendered_files(synthetic):
    local = load_local(synthetic / "rendered")
    assert local.dashboards == normalised(local_set()) and local.groups == local_set().groups


@pytest.mark.parametrize("name, text", [
    ("contact-points.yaml", "contactPoints: [\n  - x: {\n"),
    ("contact-points.yaml", "contactPoints:\n  - name: a\n    receivers: [x]\n"),
    ("policies.yaml", "- not a mapping\n"),
    ("templates.yaml", "templates: [just-a-name]\n"),
    ("alertmanager.yaml", "[1, 2]\n"),
])
def test_a_broken_rendered_alerting_file_is_one_error_naming_it(synthetic, name, text):
    from generator.errors import DashgenError

    alerting = synthetic / "rendered" / "alerting"
    alerting.mkdir(parents=True, exist_ok=True)
    (alerting / name).write_text(text)
    with pytest.raises(DashgenError, match=f"alerting/{name}: "):
        load_local(synthetic / "rendered")


def test_cli_refuses_a_missing_rendered_folder_rather_than_pruning_everything(synthetic, emulator):
    import shutil

    shutil.rmtree(synthetic / "rendered")
    r = cli(synthetic, emulator, "upload", "--env", "production", "--prune")
    assert r.exit_code == 1 and "make dashboards" in r.stderr and emulator.writes() == []


def test_cli_unknown_environment_and_missing_token_exit_2(synthetic, emulator):
    r = cli(synthetic, emulator, "upload", "--env", "nope")
    assert r.exit_code == 2 and "unknown environment 'nope' (known: production, staging)" in r.stderr
    r = cli(synthetic, emulator, "upload", "--env", "production", token="")
    assert r.exit_code == 2 and "GRAFANA_TOKEN is not set" in r.stderr
    r = cli(synthetic, emulator, "upload", "--env", "production", token=EXPIRED_TOKEN)
    assert r.exit_code == 2 and "GRAFANA_TOKEN has expired" in r.stderr
    assert emulator.writes() == []


def test_plain_http_is_refused_for_anything_but_loopback(synthetic):
    r = CliRunner().invoke(main, ["--root", str(synthetic), "upload", "--env", "production"],
                           env={"GRAFANA_URL": "http://grafana.example.com", "GRAFANA_TOKEN": TOKEN})
    assert r.exit_code == 2 and "plain http" in r.stderr


def test_pull_writes_dashboards_normalised_exactly_like_rendered_output(synthetic, emulator, tmp_path):
    cli(synthetic, emulator, "upload", "--env", "production")
    out = tmp_path / "pulled"
    r = cli(synthetic, emulator, "pull", "--env", "production", "--out", str(out), "raymontology-d001")
    assert r.exit_code == 0, r.output
    rendered = (synthetic / "rendered" / "dashboards" / "raymontology-d001.json").read_text()
    assert (out / "raymontology-d001.json").read_text() == rendered
    r = cli(synthetic, emulator, "pull", "--env", "production", "raymontology-d000", "missing")
    assert r.exit_code == 1 and "'missing' not found" in r.stderr
    assert r.stdout == (synthetic / "rendered" / "dashboards" / "raymontology-d000.json").read_text()


def test_fetch_remote_rule_groups_returns_what_was_uploaded(emulator):
    local = local_set()
    run(emulator, local)
    assert fetch_remote_rule_groups(env_for(emulator)) == local.groups


# --- Mimir ruler -------------------------------------------------------------------------------------
def test_alerting_mimir_sends_the_same_groups_to_the_ruler():
    emu = make_emulator(ruler_tokens={"4242": "glc_rulerCanary"})
    try:
        env = Environment("old", emu.url, FOLDER, token=TOKEN, alerting="mimir", mimir_url=emu.url,
                          mimir_user="4242", mimir_token="glc_rulerCanary")
        local = local_set(1)
        assert not upload(env, local, client_options=FAST).failed
        stored = emu.ruler["4242"]["dashgen-old"]
        assert {n: unmarked_group(g, FOLDER) for n, g in stored.items()} == local.groups and not emu.converted
        assert all(r["annotations"]["dashgen_owner"] == FOLDER for g in stored.values() for r in g["rules"])
        emu.clear_log()
        assert upload(env, local, client_options=FAST).count("unchanged", "rule-group") == 2
        assert emu.writes() == []
        assert all(r["headers"]["X-Scope-OrgID"] == "4242" for r in emu.requests(path="/prometheus/"))
        del local.groups["db"]
        assert upload(env, local, prune=True, client_options=FAST).count("prune", "rule-group") == 1
        assert list(emu.ruler["4242"]["dashgen-old"]) == ["api"]
        cloud_style = Environment("old", emu.url, FOLDER, token=TOKEN, alerting="mimir", mimir_url=emu.url + "/api/prom",
                                  mimir_user="4242", mimir_token="glc_rulerCanary")
        emu.clear_log()
        assert upload(cloud_style, local, client_options=FAST).count("unchanged", "rule-group") == 1
        assert emu.requests("GET", "/api/prom/config/v1/rules/dashgen-old")
        odd = Local({}, {"odd": {"name": "odd", "interval": "60s", "rules": [
            {"alert": "X", "expr": "up == 0", "for": "90s", "keep_firing_for": "0s"}]}})
        upload(env, odd, client_options=FAST)
        assert emu.ruler["4242"]["dashgen-old"]["odd"]["rules"][0] == {
            "alert": "X", "expr": "up == 0", "for": "1m30s", "annotations": {"dashgen_owner": FOLDER}}
        emu.clear_log()
        assert upload(env, odd, client_options=FAST).count("unchanged", "rule-group") == 1  # no rewrite every run
        assert emu.writes() == []
        emu.profile.ruler_available = False  # a new stack: no data-source-managed alerting
        report = upload(env, local, client_options=FAST)
        item = next(i for i in report.items if i.kind == "rule-group")
        assert report.failed and "no Mimir ruler answers" in item.detail and "glc_rulerCanary" not in item.detail
    finally:
        emu.stop()


# --- secrets ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["401", "403", "echo500", "timeout", "reset"])
def test_the_token_never_appears_in_output_or_errors(synthetic, emulator, fault, tmp_path, monkeypatch):
    token = TOKEN
    if fault == "401":
        token = "glsa_CanaryUnknownCanaryUnknownCanar_12345678"
    elif fault == "403":
        token = VIEWER_TOKEN
    elif fault == "echo500":
        emulator.set_faults(paths=r"^/api/dashboards/db$", queue=["echo500"])
    elif fault == "timeout":
        emulator.set_faults(paths=r"^/api/dashboards/uid/", queue=["slow"] * 20, slow_seconds=0.6)
    elif fault == "reset":
        emulator.set_faults(paths=r"^/api/dashboards/uid/", queue=["reset"] * 20)
    monkeypatch.setenv("DASHGEN_HTTP_TIMEOUT", "0.3")
    monkeypatch.setenv("DASHGEN_HTTP_RETRIES", "1")
    monkeypatch.setenv("DASHGEN_HTTP_BACKOFF", "0.01")
    r = cli(synthetic, emulator, "upload", "--env", "production", token=token)
    r2 = cli(synthetic, emulator, "pull", "--env", "production", "--out", str(tmp_path / "p"), "raymontology-d000",
             token=token)
    assert r.exit_code != 0, r.output
    if fault == "echo500":
        assert '"Authorization": "Bearer [REDACT' in r.stderr  # the echo arrived, scrubbed, then shortened  # the echo was there, and scrubbed
    for text in (r.stdout, r.stderr, r2.stdout, r2.stderr, repr(r.exception), repr(r2.exception)):
        assert token not in text
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert token not in f.read_text()


SECRETS = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/CanarySlackSecret",
           "RAYMONTOLOGY_ALERT_EMAILS": "oncall-canary@raymontology.example",
           "RAYMONTOLOGY_SMS_WEBHOOK_URL": "https://sms.example/hook?key=CanarySmsSecret"}


def test_the_real_rendered_project_round_trips(project, emulator, monkeypatch):
    """The core's rendered/ (dashboards, the seed's rule groups, contact points, policies)."""
    (project / "environments.toml").write_text(ENV_TOML)
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    r = cli(project, emulator, "upload", "--env", "production")
    assert r.exit_code == 0, r.output
    n_dash = len(list((project / "rendered" / "dashboards").glob("*.json")))
    assert len(emulator.dashboards) == n_dash >= 3 and "raymontology-system-health" in emulator.dashboards
    assert emulator.converted[LEAF]
    slack = emulator.contact_points["raymontology-slack-0-slack"]
    assert slack["settings"]["url"] == SECRETS["SLACK_WEBHOOK_URL"] and slack["provenance"] == "api"
    assert emulator.templates["raymontology"]["provenance"] == "api"
    assert emulator.policies["receiver"] == "raymontology-slack" and emulator.policies["routes"]
    for secret in SECRETS.values():
        assert secret not in r.output
    emulator.clear_log()
    r = cli(project, emulator, "upload", "--env", "production")
    assert r.exit_code == 0 and emulator.writes() == [], r.output
    r = cli(project, emulator, "pull", "--env", "production", "raymontology-business")
    assert r.stdout == (project / "rendered" / "dashboards" / "raymontology-business.json").read_text()
    r = cli(project, emulator, "diff", "--env", "production")
    assert r.exit_code == 0, r.output
    assert "not what the code renders" not in r.output  # rendered/ is current: no stale note


def test_a_missing_secret_fails_before_any_write_and_the_dry_run_lists_it(project, emulator, monkeypatch):
    (project / "environments.toml").write_text(ENV_TOML)
    for k, v in SECRETS.items():
        if k != "RAYMONTOLOGY_SMS_WEBHOOK_URL":
            monkeypatch.setenv(k, v)
    monkeypatch.delenv("RAYMONTOLOGY_SMS_WEBHOOK_URL", raising=False)
    r = cli(project, emulator, "upload", "--env", "production")
    assert r.exit_code == 2, r.output
    assert "RAYMONTOLOGY_SMS_WEBHOOK_URL, which is not set; nothing was written" in r.stderr
    assert "--only dashboards,rules" in r.stderr
    assert emulator.log == []  # not even the token check: the run stopped before any request
    r = cli(project, emulator, "upload", "--env", "production", "--dry-run")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    listed = lines[lines.index("a real run reads these secrets from the environment:") + 1:][:3]
    assert [line.split()[:2] for line in listed] == [
        ["RAYMONTOLOGY_ALERT_EMAILS", "set"], ["SLACK_WEBHOOK_URL", "set"], ["RAYMONTOLOGY_SMS_WEBHOOK_URL", "NOT"]]
    assert "comma" in listed[0] and "SMS gateway" in listed[2]
    assert emulator.writes() == []
    for secret in SECRETS.values():
        assert secret not in r.output
    r = cli(project, emulator, "upload", "--env", "production", "--only", "dashboards,rules")
    assert r.exit_code == 0, r.output
    assert emulator.dashboards and emulator.converted[LEAF]
    assert not [w for w in emulator.writes() if "/provisioning/" in w["path"]]
    assert cli(project, emulator, "upload", "--env", "production", "--only", "nonsense").exit_code == 2


def test_contact_points_never_show_their_secrets(project, emulator, monkeypatch):
    (project / "environments.toml").write_text(ENV_TOML)
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    emulator.set_faults(paths=r"^/api/v1/provisioning/contact-points", queue=["echo500"])
    r = cli(project, emulator, "upload", "--env", "production", "--only", "alerting")
    assert r.exit_code == 1 and "[REDACTED]" in r.stderr  # the server echoed the secret; it was scrubbed
    for secret in SECRETS.values():
        assert secret not in r.output
    assert not emulator.dashboards  # --only alerting
    r = cli(project, emulator, "upload", "--env", "production")  # converges
    assert r.exit_code == 0, r.output
    emulator.clear_log()
    rotated = "https://hooks.slack.com/services/T000/B000/RotatedSecret"
    monkeypatch.setenv("SLACK_WEBHOOK_URL", rotated)
    r = cli(project, emulator, "upload", "--env", "production")  # a redacted field cannot be compared
    assert emulator.writes() == []
    r = cli(project, emulator, "upload", "--env", "production", "--force")
    assert r.exit_code == 0 and emulator.contact_points["raymontology-slack-0-slack"]["settings"]["url"] == rotated
    assert rotated not in r.output


def seed_old_notifications(emu, marked: bool = True) -> None:
    """Contact points production's dashgen wrote and no longer renders (those of the release
    before one contact point per channel, `git show c297626:rendered/alerting/contact-points.yaml`,
    carrying production's mark when `marked`), plus look-alikes that are not dashgen's:
    dashgen's uid form made in the UI (provenance none), provenance `api` with another uid
    form (another tool), a second integration under dashgen's name with dashgen's uid form
    but no mark, and staging's (another environment on the stack)."""
    def cp(uid, name, type_, provenance="api", owner=FOLDER if marked else None):
        settings = {"slack": {"url": "https://hooks.slack.com/old"}, "email": {"addresses": "old@x.com"},
                    "webhook": {"url": "https://sms.example/old"}}[type_]
        if owner:
            settings["dashgen_owner"] = owner
        emu.contact_points[uid] = {"uid": uid, "name": name, "type": type_, "settings": settings,
                                   "disableResolveMessage": False, "provenance": provenance}
    cp("raymontology-slack-0-slack", "raymontology-slack", "slack")
    for i, type_ in enumerate(("email", "slack")):
        cp(f"raymontology-email-slack-{i}-{type_}", "raymontology-email-slack", type_)
    for i, type_ in enumerate(("email", "slack", "webhook")):
        cp(f"raymontology-page-{i}-{type_}", "raymontology-page", type_)
    cp("oncall-0-slack", "oncall", "slack", provenance="", owner=None)
    cp("c000000000042", "raymontology-terraform", "email", owner=None)
    cp("raymontology-slack-1-slack", "raymontology-slack", "slack", owner=None)  # named like ours
    cp("raymontology-slack-staging-0-slack", "raymontology-slack-staging", "slack", owner="Raymontology/Staging")
    emu.policies = {"receiver": "raymontology-slack", "provenance": "api", "routes": [
        {"receiver": "raymontology-page", "object_matchers": [["alertname", "=", "ServiceDown"]]},
        {"receiver": "raymontology-email-slack", "object_matchers": [["severity", "=", "critical"]]},
        {"receiver": "oncall", "object_matchers": [["team", "=", "oncall"]]}]}


OLD_UIDS = {"raymontology-email-slack-0-email", "raymontology-email-slack-1-slack", "raymontology-page-0-email",
            "raymontology-page-1-slack", "raymontology-page-2-webhook"}
NOT_OURS = {"oncall-0-slack", "c000000000042", "raymontology-slack-1-slack", "raymontology-slack-staging-0-slack"}


def test_contact_points_this_environment_wrote_and_no_longer_renders_are_pruned_after_the_new_policy_tree(
        project, emulator, monkeypatch):
    (project / "environments.toml").write_text(ENV_TOML)
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    seed_old_notifications(emulator)
    r = cli(project, emulator, "upload", "--env", "production", "--only", "alerting", "--dry-run", "--prune")
    assert r.exit_code == 0, r.output
    assert sum("prune" in line and "contact-point" in line for line in r.stdout.splitlines()) == 5
    assert emulator.writes() == []
    r = cli(project, emulator, "upload", "--env", "production", "--only", "alerting")  # no --prune: listed only
    assert r.exit_code == 0, r.output
    listed = [line for line in r.stdout.splitlines() if "(use --prune to delete)" in line]
    assert sorted(line.split()[2].split("/")[1] for line in listed) == sorted(OLD_UIDS)
    assert OLD_UIDS <= set(emulator.contact_points) and "5 to prune" in r.stdout
    assert emulator.policies["receiver"] == "raymontology-slack"  # the new tree is in place
    emulator.clear_log()
    r = cli(project, emulator, "upload", "--env", "production", "--only", "alerting", "--prune")
    assert r.exit_code == 0, r.output
    assert "5 pruned" in r.stdout and "1 not managed by dashgen" in r.stdout
    assert not OLD_UIDS & set(emulator.contact_points)
    assert NOT_OURS | {"raymontology-slack-0-slack"} <= set(emulator.contact_points)
    assert [w["method"] for w in emulator.writes()] == ["DELETE"] * 5
    emulator.clear_log()
    r = cli(project, emulator, "upload", "--env", "production", "--only", "alerting", "--prune")
    assert r.exit_code == 0 and emulator.writes() == [], r.output


def test_contact_points_without_the_mark_are_never_pruned(project, emulator, monkeypatch):
    """A contact point named like ours (dashgen's uid form, provenance api) that another tool
    made, or that a dashgen before marks wrote, is listed, never deleted."""
    (project / "environments.toml").write_text(ENV_TOML)
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    seed_old_notifications(emulator, marked=False)
    r = cli(project, emulator, "upload", "--env", "production", "--only", "alerting", "--prune")
    assert r.exit_code == 0, r.output
    foreign = [line for line in r.stdout.splitlines() if line.startswith("foreign ")]
    assert sorted(line.split()[2].split("/")[1] for line in foreign) == sorted(OLD_UIDS | {"raymontology-slack-1-slack"})
    assert all("no dashgen mark" in line for line in foreign)
    assert OLD_UIDS | NOT_OURS <= set(emulator.contact_points)
    assert not [w for w in emulator.writes() if w["method"] == "DELETE"]
    # the one we render was taken over: it carries the mark now
    assert emulator.contact_points["raymontology-slack-0-slack"]["settings"]["dashgen_owner"] == FOLDER


def test_the_policy_tree_is_replaced_before_a_retired_contact_point_is_deleted(project, emulator, monkeypatch):
    (project / "environments.toml").write_text(ENV_TOML)
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    seed_old_notifications(emulator)
    r = cli(project, emulator, "upload", "--env", "production", "--only", "alerting", "--prune")
    assert r.exit_code == 0, r.output  # in the other order Grafana answers 409 (still referenced)
    writes = [(w["method"], w["path"].rsplit("/", 1)[-1]) for w in emulator.writes()]
    deletes = [i for i, (method, _) in enumerate(writes) if method == "DELETE"]
    assert writes.index(("PUT", "policies")) < deletes[0] and len(deletes) == 5
    assert not OLD_UIDS & set(emulator.contact_points)


def test_a_retired_contact_point_a_policy_still_routes_to_is_kept(emulator):
    """policies.yaml not rendered: Grafana's tree stays, so what it names stays."""
    seed_old_notifications(emulator)
    receivers = [{"uid": "raymontology-slack-0-slack", "name": "raymontology-slack", "type": "slack",
                  "settings": {"url": "https://hooks.slack.com/old"}, "disableResolveMessage": False}]
    local = Local({}, None, (receivers, None))
    report = run(emulator, local, prune=True, only=("alerting",))
    assert not report.failed, [i.detail for i in report.items if i.failed]
    kept = {i.key.split("/")[1] for i in report.items if "a notification policy routes to it" in i.detail}
    assert kept == OLD_UIDS and OLD_UIDS <= set(emulator.contact_points)
    assert not [w for w in emulator.writes() if w["method"] == "DELETE"]


def test_templates_are_synced_by_name_and_left_alone_when_equal(project, emulator, monkeypatch):
    (project / "environments.toml").write_text(ENV_TOML)
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    text = (project / "rendered" / "alerting" / "raymontology.tmpl").read_text()
    emulator.templates["someone-elses"] = {"name": "someone-elses", "template": "x", "provenance": "", "version": "1"}
    r = cli(project, emulator, "upload", "--env", "production", "--only", "alerting")
    assert r.exit_code == 0, r.output
    assert "create    template      raymontology" in r.stdout
    assert emulator.templates["raymontology"]["template"] == mark_template(text, FOLDER)
    assert emulator.templates["someone-elses"]["template"] == "x"  # never touched, never pruned
    puts = emulator.requests("PUT", "/api/v1/provisioning/templates/raymontology")
    posts = [w["path"] for w in emulator.writes()]
    assert posts.index(puts[0]["path"]) < min(i for i, p in enumerate(posts) if "contact-points" in p)
    emulator.templates["raymontology"]["template"] = "changed elsewhere"
    version = emulator.templates["raymontology"]["version"]
    emulator.clear_log()
    r = cli(project, emulator, "upload", "--env", "production", "--only", "alerting")
    assert r.exit_code == 0 and emulator.templates["raymontology"]["template"] == mark_template(text, FOLDER)
    assert "taken over" in r.stdout  # it had lost dashgen's mark
    assert json.loads(emulator.requests("PUT", "/api/v1/provisioning/templates/raymontology")[0]["body"])["version"] == version


def test_alerting_mimir_sends_the_alertmanager_configuration(root):
    from generator.grafana.contactpoints import load_alertmanager
    from generator.grafana.upload import MissingSecrets

    emu = make_emulator(ruler_tokens={"4242": "glc_amCanary"})
    try:
        env = Environment("old", emu.url, FOLDER, token=TOKEN, alerting="mimir", mimir_url=emu.url + "/api/prom",
                          mimir_user="4242", mimir_token="glc_amCanary", mimir_alertmanager_url=emu.url)
        local = load_local(root / "rendered")
        assert local.alertmanager == load_alertmanager(root / "rendered" / "alerting")
        environ = {**SECRETS, "RAYMONTOLOGY_SMTP_SMARTHOST": "smtp.example.com:587",
                   "RAYMONTOLOGY_SMTP_FROM": "alerts@example.com", "RAYMONTOLOGY_SMTP_USERNAME": "alerts",
                   "RAYMONTOLOGY_SMTP_PASSWORD": "SmtpCanary"}
        with pytest.raises(MissingSecrets, match="RAYMONTOLOGY_SMTP_PASSWORD"):
            upload(env, local, client_options=FAST, environ={k: v for k, v in environ.items() if "PASSWORD" not in k})
        assert emu.log == [] and not emu.alertmanager
        report = upload(env, local, client_options=FAST, environ=environ, only=("alerting",))
        assert not report.failed and report.count("create", "alertmanager") == 1, [i.detail for i in report.items]
        stored = emu.alertmanager["4242"]
        config = yaml.safe_load(stored["alertmanager_config"])
        assert config["receivers"][1]["slack_configs"][0]["api_url"] == SECRETS["SLACK_WEBHOOK_URL"]
        assert config["global"]["smtp_auth_password"] == "SmtpCanary"
        assert stored["template_files"] == {"raymontology.tmpl": (root / "rendered" / "alerting" / "raymontology.tmpl").read_text()}
        assert all(r["headers"]["X-Scope-OrgID"] == "4242" for r in emu.requests(path="/api/v1/alerts"))
        assert len(emu.contact_points) == 1  # Grafana's own default only: Mimir's Alertmanager notifies
        emu.clear_log()
        assert upload(env, local, client_options=FAST, environ=environ, only=("alerting",)).count("unchanged", "alertmanager") == 1
        assert emu.writes() == []
        emu.set_faults(paths=r"^/api/v1/alerts", queue=["echo500"])
        report = upload(env, local, client_options=FAST, environ={**environ, "RAYMONTOLOGY_SMTP_PASSWORD": "NewCanary"},
                        only=("alerting",))
        assert report.failed and "NewCanary" not in " ".join(i.detail for i in report.items)
    finally:
        emu.stop()


# --- edge cases of the drift guard, folders and contact points -------------------------------------
def test_a_ui_save_that_changed_nothing_is_not_drift(emulator):
    local = local_set(1, groups=())
    run(emulator, local)
    emulator.edit_in_ui("raymontology-d000", lambda d: None)  # "Save" without a change: version 2, no mark
    local.dashboards["raymontology-d000"]["title"] = "Changed in code"
    report = run(emulator, local)
    assert not report.failed and report.count("update", "dashboard") == 1


def test_a_normaliser_change_is_not_drift(emulator, monkeypatch):
    """A newer dashgen whose normaliser reads the stored JSON differently (here it drops the
    tags) still recognises its own last upload: the mark is the hash of what was sent."""
    from generator.grafana import dashboards as handler
    from generator.grafana import upload as uploading

    local = local_set(1, groups=())
    local.dashboards["raymontology-d000"]["tags"] = ["dashgen"]
    run(emulator, local)
    old = handler.normalize_dashboard

    def newer(d):
        return {k: v for k, v in old(d).items() if k != "tags"}

    monkeypatch.setattr(handler, "normalize_dashboard", newer)
    monkeypatch.setattr(uploading, "normalize_dashboard", newer)
    local.dashboards["raymontology-d000"]["title"] = "Changed in code"
    emulator.clear_log()
    report = run(emulator, local)
    item = next(i for i in report.items if i.kind == "dashboard")
    assert item.action == "update" and not report.failed, item
    stored = emulator.dashboards["raymontology-d000"]["data"]
    assert stored["title"] == "Changed in code" and "tags" not in stored
    # ...and a real edit in Grafana after that is still drift under the new normaliser.
    emulator.edit_in_ui("raymontology-d000", lambda d: d.update(title="UI"))
    local.dashboards["raymontology-d000"]["title"] = "Changed again"
    item = next(i for i in run(emulator, local).items if i.kind == "dashboard")
    assert item.action == "drifted"


def test_a_restore_of_an_older_dashgen_version_is_drift(emulator):
    local = local_set(1, groups=())
    run(emulator, local)
    local.dashboards["raymontology-d000"]["title"] = "v2"
    run(emulator, local)
    import requests

    requests.post(emulator.url + "/api/dashboards/uid/raymontology-d000/restore", json={"version": 1},
                  headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    local.dashboards["raymontology-d000"]["title"] = "v3"
    report = run(emulator, local)
    item = next(i for i in report.items if i.kind == "dashboard")
    assert item.action == "drifted" and emulator.dashboards["raymontology-d000"]["data"]["title"] == "Dashboard 0"


def test_a_duplicate_title_before_11_3_is_a_failure_not_drift():
    emu = make_emulator(profile=Profile(unique_titles=True))
    try:
        local = local_set(2, groups=())
        local.dashboards["raymontology-d001"]["title"] = "Dashboard 0"
        report = run(emu, local)
        failed = [i for i in report.items if i.action == "failed"]
        assert len(failed) == 1 and "A dashboard with the same name in the folder already exists" in failed[0].detail
    finally:
        emu.stop()


def test_folders_renamed_or_moved_in_the_ui_are_put_back_without_duplicates(emulator):
    local = local_set(1)
    run(emulator, local)
    emulator.folders[LEAF]["title"] = "Prod (renamed)"
    emulator.folders[LEAF]["parentUid"] = ""
    report = run(emulator, local)
    assert not report.failed and report.count("update", "folder") == 1
    leaf = emulator.folders[LEAF]
    assert (leaf["title"], leaf["parentUid"]) == ("Production", folder_uid(("Raymontology",)))
    assert len(emulator.folders) == 2
    emulator.clear_log()
    assert not run(emulator, local).failed and emulator.writes() == []


def test_more_rules_than_cloud_free_allows_is_warned_about(emulator):
    local = Local({}, {f"g{i}": make_group(f"g{i}") for i in range(101)})
    report = run(emulator, local)
    assert report.warnings == ["101 Grafana-managed alert rules: Grafana Cloud Free allows at most 100"]
    assert not run(emulator, local_set(1)).warnings


def test_a_contact_point_create_whose_answer_was_lost_converges(emulator):
    receivers = [{"uid": "cp-slack", "name": "team", "type": "slack", "settings": {"url": "$HOOK"},
                  "disableResolveMessage": False}]
    local = Local({}, None, (receivers, {"receiver": "team"}))
    emulator.set_faults(paths=r"^/api/v1/provisioning/contact-points$", queue=["ok", "reset_after"])  # GET, POST
    report = upload(env_for(emulator), local, client_options=FAST, environ={"HOOK": "https://hooks/x"})
    assert not report.failed, [i.detail for i in report.items]
    assert [e["status"] for e in emulator.requests("POST", "/api/v1/provisioning/contact-points")] == ["reset", 400]
    assert emulator.policies["receiver"] == "team"


@pytest.mark.parametrize("rewrites", [False, True], ids=["single-version-raw", "single-version-rewritten"])
def test_dashgen_recognises_its_first_version_whatever_the_history_says(rewrites):
    emu = make_emulator(profile=Profile(single_version_rewrites=rewrites))
    try:
        local = local_set(2, groups=())
        run(emu, local)
        stored = emu.dashboards["raymontology-d000"]["data"]
        assert set(stored["__dashgen"]) == {"sha256"}  # the embedded mark...
        assert "__dashgen" not in fetch_remote_dashboards(env_for(emu), ["raymontology-d000"])["raymontology-d000"]
        local.dashboards["raymontology-d000"]["title"] = "Changed in code"
        report = run(emu, local)  # ...lets the first change after a create go through
        assert not report.failed and report.count("update", "dashboard") == 1
        emu.edit_in_ui("raymontology-d001", lambda d: d.update(title="Alice"))  # a UI edit keeping the key
        local.dashboards["raymontology-d001"]["title"] = "Changed in code too"
        assert run(emu, local).count("drifted") == 1

        def scenes_edit(d):  # a UI that rebuilds the JSON drops unknown keys
            d.pop("__dashgen")
            d["title"] = "Bob"

        emu.edit_in_ui("raymontology-d000", scenes_edit)
        assert run(emu, local).count("drifted") == 2
    finally:
        emu.stop()


def test_a_save_as_copy_in_dashgens_folder_is_never_pruned(emulator):
    local = local_set(1, groups=())
    run(emulator, local)
    copy_ = dict(emulator.dashboards["raymontology-d000"]["data"], uid="copy-of-d000", title="Copy")
    copy_.pop("id"), copy_.pop("version")
    emulator.save_dashboard({"dashboard": copy_, "folderUid": LEAF}, "erin")  # carries __dashgen
    report = run(emulator, local, prune=True, force=True)
    assert next(i for i in report.items if i.key == "copy-of-d000").action == "foreign"
    assert "copy-of-d000" in emulator.dashboards


def test_an_html_page_with_status_200_fails_the_item_without_crashing(emulator):
    emulator.set_faults(paths=r"^/api/dashboards/uid/raymontology-d001$|^/api/convert/", queue=["html200", "html200"])
    report = run(emulator, local_set(2, groups=("api",)))
    failed = {i.key: i.detail for i in report.items if i.action == "failed"}
    assert "unexpected answer: not JSON" in failed["raymontology-d001"]
    assert "not a YAML mapping" in failed["api"]
    assert next(i for i in report.items if i.key == "raymontology-d000").action == "create"


@pytest.mark.parametrize("conflict", [412, 409])
def test_an_edit_between_the_check_and_the_save_is_caught_by_grafanas_lock(conflict):
    emu = make_emulator(profile=Profile(conflict_status=conflict))
    try:
        local = local_set(1, groups=())
        run(emu, local)
        local.dashboards["raymontology-d000"]["title"] = "Changed in code"

        def someone_saves(entry):
            if entry["path"].startswith("/api/dashboards/uid/raymontology-d000/versions") and emu.after_request:
                emu.after_request = None
                emu.edit_in_ui("raymontology-d000", lambda d: d.update(description="typed meanwhile"))

        emu.after_request = someone_saves
        report = run(emu, local)
        item = next(i for i in report.items if i.kind == "dashboard")
        assert item.action == "drifted" and f"changed in Grafana while uploading ({conflict})" in item.detail
        assert '"description": "typed meanwhile"' in item.diff
        assert emu.dashboards["raymontology-d000"]["data"]["description"] == "typed meanwhile"
    finally:
        emu.stop()


def test_diff_env_shows_a_ui_edit_in_reviewer_words(project, emulator, monkeypatch):
    """`dashgen diff --env` against a real (emulated) Grafana: only the UI edit shows, by panel title."""
    (project / "environments.toml").write_text(ENV_TOML)
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    assert cli(project, emulator, "upload", "--env", "production").exit_code == 0

    def raise_target(d):
        panel = next(p for p in d["panels"] if p.get("title") == "5xx error ratio")
        panel["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] = 0.005

    emulator.edit_in_ui("raymontology-system-health", raise_target)
    r = cli(project, emulator, "diff", "--env", "production")
    assert r.exit_code == 1, r.output
    changes = [ln for ln in r.stdout.splitlines() if ln.startswith("  ")]
    assert changes == ["  Traffic and errors / 5xx error ratio: threshold orange 0.5 % -> 0.1 %"], r.stdout
    assert "version" not in r.stdout and "__dashgen" not in r.stdout


def test_a_failed_listing_fails_that_kind_only_and_writes_nothing_of_it(emulator):
    """Every kind is one plan/apply loop: if its one listing fails, each of its items fails by
    name and none of it is written; the other kinds carry on."""
    local = local_set(2, groups=("api",))
    run(emulator, local)
    changed = Local({uid: {**d, "title": d["title"] + " (changed)"} for uid, d in local.dashboards.items()},
                    {"api": make_group("api"), "db": make_group("db")})
    emulator.clear_log()
    emulator.set_faults(paths=r"^/api/search$", queue=["html200"])
    report = run(emulator, changed)
    dashboards = [i for i in report.items if i.kind == "dashboard"]
    assert [(i.key, i.action) for i in dashboards] == [(uid, "failed") for uid in sorted(local.dashboards)]
    assert all("listing failed" in i.detail and "not JSON" in i.detail for i in dashboards)
    assert dashboard_posts(emulator) == []
    assert next(i for i in report.items if i.key == "db").action == "create" and report.failed


def test_upload_refuses_a_stale_rendered_folder_naming_it_and_what_to_run(project, emulator, monkeypatch):
    """A definition edited without `make dashboards`: the upload would send the old output and
    say "unchanged", so it refuses (exit 2) before any request, naming what is stale."""
    (project / "environments.toml").write_text(ENV_TOML)
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    assert cli(project, emulator, "render").exit_code == 0  # current for this environments.toml
    module = project / "dashboards" / "business.py"
    module.write_text(module.read_text().replace('"Raymontology / Business"', '"Raymontology / Sales"'))
    before = {p: p.read_bytes() for p in (project / "rendered").rglob("*") if p.is_file()}
    for flags in (["--dry-run"], []):
        r = cli(project, emulator, "upload", "--env", "production", *flags)
        assert r.exit_code == 2, r.output
        assert "stale: rendered/dashboards/raymontology-business.json (differs)" in r.stderr
        assert "run `make dashboards`" in r.stderr
        assert "unchanged" not in r.output and emulator.requests() == []
    assert before == {p: p.read_bytes() for p in (project / "rendered").rglob("*") if p.is_file()}
    assert cli(project, emulator, "render").exit_code == 0
    r = cli(project, emulator, "upload", "--env", "production", "--dry-run")
    assert r.exit_code == 0 and "stale" not in r.output, r.output
    r = cli(project, emulator, "upload", "--env", "production", "--as-rendered", "--dry-run")
    assert r.exit_code == 0, r.output  # the escape hatch for a rendered/ built elsewhere
