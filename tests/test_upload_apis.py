"""Upload, pull and diff through Grafana 13's resource API (/apis), against the emulator over
real HTTP, next to the same scenarios on a legacy-only Grafana."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from grafana_emulator import Profile, grafana13  # noqa: E402
from grafana_emulator.fixtures import TOKEN, make_emulator  # noqa: E402
from test_upload import ENV_TOML, FAST, LEAF, SECRETS, cli, env_for, local_set, make_dashboard, normalised, run  # noqa: E402,E501
from test_upload import synthetic  # noqa: E402,F401  (a fixture)

from generator.errors import DashgenError  # noqa: E402
from generator.grafana.apis import LEGACY, ApiMode, ResourceDashboardAPI, discover  # noqa: E402
from generator.grafana.client import GrafanaClient  # noqa: E402
from generator.grafana.remote import fetch_remote_dashboards, remote_and_local_trees  # noqa: E402
from generator.grafana.upload import Local, load_local  # noqa: E402
from generator.normalize import normalize_dashboard  # noqa: E402

MODES = {
    "grafana13": lambda: grafana13(namespace="stacks-4242"),
    "grafana13-no-legacy-routes": lambda: grafana13(legacy_dashboards=False),
    "grafana11-legacy-only": lambda: Profile(),
}
APIS = "/apis/dashboard.grafana.app/"


def board(i: int, **kw) -> dict:
    return {**make_dashboard(i, **kw), "schemaVersion": 42}


def local42(n: int = 3, **kw) -> Local:
    return Local({d["uid"]: d for d in (board(i) for i in range(n))}, {"api": local_set().groups["api"]}, **kw)


@pytest.fixture(params=list(MODES))
def emu(request):
    e = make_emulator(profile=MODES[request.param]())
    e.mode = request.param
    yield e
    e.stop()


@pytest.fixture
def g13():
    e = make_emulator(profile=grafana13())
    yield e
    e.stop()


def dashboard_writes(emu) -> list[dict]:
    return [r for r in emu.writes() if r["path"].startswith((APIS, "/api/dashboards"))]


def test_discovery_picks_the_resource_api_and_the_namespace():
    for profile, want in [(grafana13(namespace="stacks-4242"), ApiMode("v1", "v2", "v1beta1", "stacks-4242")),
                          (grafana13(dashboard_versions=("v0alpha1", "v1beta1", "v2beta1"), folder_versions=()),
                           ApiMode("v1beta1", "v2beta1", None, "default")),
                          (Profile(), LEGACY)]:
        e = make_emulator(profile=profile)
        try:
            client = GrafanaClient(e.url, TOKEN, **FAST)
            assert discover(client, {}) == want
            assert discover(client, {"DASHGEN_GRAFANA_API": "legacy"}) == LEGACY
        finally:
            e.stop()


def test_first_upload_then_a_no_op_then_one_change_in_every_mode(emu):
    local = local42()
    first = run(emu, local)
    assert not first.failed and first.count("create", "dashboard") == 3
    resource = emu.mode != "grafana11-legacy-only"
    posts = dashboard_writes(emu)
    assert len(posts) == 3 and all(r["path"].startswith(APIS) == resource for r in posts)
    if resource:  # the folders too went through folder.grafana.app
        assert any(r["path"].startswith("/apis/folder.grafana.app/") for r in emu.writes())
        assert not any(r["path"].startswith(("/api/folders", "/api/dashboards")) for r in emu.writes())
    emu.clear_log()
    again = run(emu, local)
    assert not again.failed and again.count("unchanged", "dashboard") == 3 and emu.writes() == []
    emu.clear_log()
    local.dashboards["raymontology-d001"] = board(1, title="Renamed")
    third = run(emu, local)
    assert not third.failed and third.count("update", "dashboard") == 1 and len(emu.writes()) == 1
    assert emu.dashboards["raymontology-d001"]["data"]["title"] == "Renamed"
    assert emu.dashboards["raymontology-d001"]["folderUid"] == LEAF


def test_resource_writes_carry_the_ownership_annotations_and_the_mark(g13):
    run(g13, local42(1, sources={"raymontology-d000": "dashboards/d000.py"}))
    body = json.loads(dashboard_writes(g13)[0]["body"])
    meta = body["metadata"]
    assert body["apiVersion"] == "dashboard.grafana.app/v1" and meta["name"] == "raymontology-d000"
    assert "resourceVersion" not in meta  # a create carries none
    notes = meta["annotations"]
    assert notes["grafana.app/managedBy"] == "kubectl" and notes["grafana.app/managerId"] == "dashgen-production"
    assert notes["grafana.app/managerAllowsEdits"] == "true"
    assert notes["grafana.app/sourcePath"] == "dashboards/d000.py"
    assert notes["grafana.app/folder"] == LEAF and "dashgen-sha256=" in notes["grafana.app/message"]
    assert "uid" not in body["spec"] and body["spec"]["__dashgen"]["sha256"] == notes["grafana.app/sourceChecksum"]
    stored = g13.dashboards["raymontology-d000"]["annotations"]
    assert stored["grafana.app/managedBy"] == "kubectl"  # what Grafana's UI shows as "managed"


SOURCES = {"raymontology-business": "dashboards/business.py", "raymontology-database": "dashboards/database.py",
           "raymontology-system-health": "dashboards/system_health.py",
           "raymontology-slos": "slos/"}  # generated over every SLO module: the folder


def source_paths(emu) -> dict[str, str]:
    return {uid: rec["annotations"].get("grafana.app/sourcePath") for uid, rec in emu.dashboards.items()}


def test_source_path_names_the_definition_module_and_a_rerun_writes_nothing(project, g13, monkeypatch):
    """`dashgen upload` renders the project before uploading, so it knows which module defines
    each dashboard: Grafana's UI then names the file in this repository that manages it. The
    annotation is no part of the plan's comparison: a re-run with nothing changed writes nothing."""
    (project / "environments.toml").write_text(ENV_TOML)
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    r = cli(project, g13, "upload", "--env", "production")
    assert r.exit_code == 0, r.output
    assert source_paths(g13) == SOURCES
    assert all((project / path).exists() for path in SOURCES.values())
    g13.clear_log()
    for flags in ([], ["--as-rendered"]):  # the fallback's other sourcePath does not make it an update either
        r = cli(project, g13, "upload", "--env", "production", *flags)
        assert r.exit_code == 0 and g13.writes() == [], r.output
        assert r.stdout.count("unchanged dashboard ") == len(SOURCES) and source_paths(g13) == SOURCES
    r = cli(project, g13, "upload", "--env", "staging", "--only", "dashboards")  # suffixed uids, same modules
    assert r.exit_code == 0, r.output
    staging = {uid: path for uid, path in source_paths(g13).items() if uid.endswith("-staging")}
    assert staging == {f"{uid}-staging": path for uid, path in SOURCES.items()}


def test_as_rendered_names_the_rendered_file(project, g13, monkeypatch):
    """--as-rendered loads no definitions: the rendered file is the source Grafana shows."""
    (project / "environments.toml").write_text(ENV_TOML)
    r = cli(project, g13, "upload", "--env", "staging", "--only", "dashboards", "--as-rendered")
    assert r.exit_code == 0, r.output
    assert source_paths(g13) == {f"{uid}-staging": f"rendered/dashboards/{uid}.json" for uid in SOURCES}
    local = load_local(project / "rendered", {"raymontology-business": "dashboards/business.py"})
    assert local.sources["raymontology-business"] == "dashboards/business.py"
    assert local.sources["raymontology-database"] == "rendered/dashboards/raymontology-database.json"


def test_a_lower_schema_version_does_not_churn_through_v1(g13):
    local = local_set(2)  # schemaVersion 41: a v1 write raises it to 42
    assert not run(g13, local).failed
    g13.clear_log()
    again = run(g13, local)
    assert again.count("unchanged", "dashboard") == 2 and g13.writes() == []


def test_a_ui_edit_is_drift_and_force_writes_ours_back(emu):
    local = local42(2)
    run(emu, local)
    if emu.mode == "grafana13-no-legacy-routes":
        emu.profile.legacy_dashboards = True  # the UI's save; the client still cannot use these routes
        emu.edit_in_ui("raymontology-d000", lambda d: d.update(title="UI"))
        emu.profile.legacy_dashboards = False
    else:
        emu.edit_in_ui("raymontology-d000", lambda d: d.update(title="UI"))
    emu.clear_log()
    report = run(emu, local)
    assert report.failed and report.count("drifted", "dashboard") == 1 and emu.writes() == []
    forced = run(emu, local, force=True)
    assert not forced.failed and emu.dashboards["raymontology-d000"]["data"]["title"] == "Dashboard 0"


def test_a_stale_resource_version_is_a_conflict_reported_like_412(g13):
    local = local42(1)
    run(g13, local)
    local.dashboards["raymontology-d000"] = board(0, title="Ours")

    def someone_saves(entry):  # between our read and our write, someone saves in the UI
        if entry["method"] == "GET" and entry["path"].startswith(APIS) and entry["path"].endswith("/dashboards") \
                and not getattr(someone_saves, "done", False):
            someone_saves.done = True
            g13.edit_in_ui("raymontology-d000", lambda d: d.update(title="Theirs"))

    g13.after_request = someone_saves
    report = run(g13, local)
    item = next(i for i in report.items if i.kind == "dashboard")
    assert item.action == "drifted" and "changed in Grafana while uploading (409)" in item.detail
    assert g13.dashboards["raymontology-d000"]["data"]["title"] == "Theirs"


def test_a_v2_saved_dashboard_is_changed_outside_dashgen_then_forced_back(g13):
    local = local42(2)
    run(g13, local)
    g13.edit_in_ui_v2("raymontology-d001", lambda spec: spec.update(title="Dynamic"))
    g13.clear_log()
    report = run(g13, local)
    item = next(i for i in report.items if i.key == "raymontology-d001")
    assert item.action == "drifted" and "saved as a v2 dashboard in Grafana" in item.detail
    assert "changed outside dashgen" in item.detail and g13.writes() == []
    assert any(r["path"].startswith(APIS + "v2/") for r in g13.log)  # read as stored
    forced = run(g13, local, force=True)
    assert not forced.failed and g13.dashboards["raymontology-d001"]["stored"] == "v1"
    remote = fetch_remote_dashboards(env_for(g13), list(local.dashboards), client_options=FAST)
    assert remote == normalised(local)  # a re-read equals rendered/


def test_cli_names_the_v2_dashboard_exits_1_and_writes_nothing(synthetic, g13):  # noqa: F811
    assert cli(synthetic, g13, "upload", "--env", "production").exit_code == 0
    g13.edit_in_ui_v2("raymontology-d002", lambda spec: spec.update(title="Dynamic"))
    g13.clear_log()
    r = cli(synthetic, g13, "upload", "--env", "production")
    assert r.exit_code == 1 and "raymontology-d002" in r.stderr and "v2 dashboard" in r.stderr
    assert g13.writes() == []
    pulled = cli(synthetic, g13, "pull", "--env", "production", "--out", str(synthetic / "pulled"), "raymontology-d002")
    assert pulled.exit_code == 0, pulled.output
    assert json.loads((synthetic / "pulled" / "raymontology-d002.json").read_text())["title"] == "Dynamic"
    rendered = {f"dashboards/{p.name}": p.read_bytes() for p in (synthetic / "rendered" / "dashboards").iterdir()}
    remote, local, _ = remote_and_local_trees(env_for(g13), rendered)  # what `diff --env` compares
    key = "dashboards/raymontology-d002.json"
    assert remote[key]["title"] == "Dynamic"  # read through v2, converted offline
    assert cli(synthetic, g13, "upload", "--env", "production", "--force").exit_code == 0
    remote, local, _ = remote_and_local_trees(env_for(g13), rendered)
    for k, v in local.items():  # a v1 write raised schemaVersion 41 to 42: compared as stored, equal
        if k.startswith("dashboards/"):
            assert remote[k] == (v if isinstance(v, dict) else normalize_dashboard(json.loads(v))), k


def test_forged_annotations_never_make_a_dashboard_dashgens(g13):
    local = local42(1)
    run(g13, local)
    forged = {"apiVersion": "dashboard.grafana.app/v1", "kind": "Dashboard", "metadata": {
        "name": "someone-elses", "annotations": {"grafana.app/folder": LEAF, "grafana.app/managedBy": "kubectl",
                                                 "grafana.app/managerId": "dashgen-production"}},
        "spec": {"title": "Not ours", "schemaVersion": 42, "panels": []}}
    g13.resources.write_dashboard("mallory", "v1", None, forged)
    report = run(g13, local, prune=True, force=True)
    item = next(i for i in report.items if i.key == "someone-elses")
    assert item.action == "foreign" and "someone-elses" in g13.dashboards
    other = {**forged, "metadata": {**forged["metadata"], "name": "terraforms",
                                    "annotations": {**forged["metadata"]["annotations"],
                                                    "grafana.app/managedBy": "terraform",
                                                    "grafana.app/managerId": "tf-stack"}}}
    g13.resources.write_dashboard("tf", "v1", None, other)
    report = run(g13, local, prune=True, force=True)
    item = next(i for i in report.items if i.key == "terraforms")
    assert item.action == "foreign" and "managed by terraform:tf-stack" in item.detail


def test_prune_through_the_resource_api_deletes_only_dashgens(g13):
    local = local42(3)
    run(g13, local)
    del local.dashboards["raymontology-d002"]
    report = run(g13, local, prune=True)
    assert report.count("prune", "dashboard") == 1 and "raymontology-d002" not in g13.dashboards
    assert any(r["method"] == "DELETE" and r["path"].startswith(APIS) for r in g13.log)


# --- dashboard_format = "v2" ---------------------------------------------------------------------
def test_v2_format_uploads_v2_validated_and_a_rerun_writes_nothing(g13):
    import dataclasses

    from generator.grafana.upload import upload

    env = dataclasses.replace(env_for(g13), dashboard_format="v2")
    local = local42(2)
    first = upload(env, local, commit="abc123", client_options=FAST)
    assert not first.failed and first.count("create", "dashboard") == 2
    body = json.loads(dashboard_writes(g13)[0]["body"])
    assert body["apiVersion"] == "dashboard.grafana.app/v2" and set(body["spec"]) >= {"elements", "layout"}
    assert all(g13.dashboards[u]["stored"] == "v2" for u in local.dashboards)
    g13.clear_log()
    again = upload(env, local, commit="abc123", client_options=FAST)
    assert again.count("unchanged", "dashboard") == 2 and g13.writes() == []
    g13.edit_in_ui_v2("raymontology-d000", lambda spec: spec.update(title="Dynamic"))
    drift = upload(env, local, commit="abc123", client_options=FAST)
    assert drift.failed and drift.count("drifted", "dashboard") == 1 and drift.count("unchanged", "dashboard") == 1
    classic = env_for(g13)  # the same stack read as classic: our dashboards, converted back
    as_v2 = ResourceDashboardAPI(None, ApiMode("v1", "v2"), write_v2=True)  # what v2 keeps of it
    assert fetch_remote_dashboards(classic, ["raymontology-d001"], client_options=FAST) == \
        {"raymontology-d001": as_v2.as_stored(normalised(local)["raymontology-d001"])}


def test_v2_format_needs_the_v2_api_and_refuses_before_writing():
    import dataclasses

    from generator.errors import ConfigError
    from generator.grafana.upload import upload

    e = make_emulator(profile=Profile())
    try:
        env = dataclasses.replace(env_for(e), dashboard_format="v2")
        with pytest.raises(ConfigError, match="needs Grafana's /apis/dashboard.grafana.app/v2"):
            upload(env, local42(1), commit="abc123", client_options=FAST)
        assert e.writes() == []
    finally:
        e.stop()


def test_allow_ui_edits_false_is_written_and_grafana_refuses_ui_saves(g13):
    import dataclasses

    from generator.grafana.upload import upload

    env = dataclasses.replace(env_for(g13), allow_ui_edits=False)
    upload(env, local42(1), commit="abc123", client_options=FAST)
    assert g13.dashboards["raymontology-d000"]["annotations"]["grafana.app/managerAllowsEdits"] == "false"
    with pytest.raises(Exception, match="Cannot save provisioned dashboard"):
        g13.edit_in_ui("raymontology-d000", lambda d: d.update(title="x"))


def test_our_rendered_dashboards_go_up_as_v2_and_read_back_equal_to_rendered(g13):
    import dataclasses

    from generator.grafana.upload import load_local, upload

    local = load_local(Path(__file__).resolve().parent.parent / "rendered")
    env = dataclasses.replace(env_for(g13), dashboard_format="v2")
    assert not upload(env, local, commit="abc123", client_options=FAST, only=("dashboards",)).failed
    assert fetch_remote_dashboards(env_for(g13), list(local.dashboards), client_options=FAST) == local.dashboards


@pytest.mark.parametrize("line, message", [('dashboard_format = "v3"', "dashboard_format must be one of classic, v2"),
                                           ('allow_ui_edits = "no"', "allow_ui_edits must be true or false")])
def test_environment_settings_are_checked(tmp_path, line, message):
    from generator.environments import load_environment
    from generator.errors import ConfigError

    (tmp_path / "environments.toml").write_text(
        f'[production]\ngrafana_url = "https://x.grafana.net"\nfolder = "A/B"\n{line}\n')
    with pytest.raises(ConfigError, match=message):
        load_environment(tmp_path, "production", {"GRAFANA_TOKEN": TOKEN})
    (tmp_path / "environments.toml").write_text(
        '[production]\ngrafana_url = "https://x.grafana.net"\nfolder = "A/B"\ndashboard_format = "v2"\n'
        'allow_ui_edits = false\n')
    env = load_environment(tmp_path, "production", {"GRAFANA_TOKEN": TOKEN})
    assert (env.dashboard_format, env.allow_ui_edits) == ("v2", False)


def test_forced_legacy_routes_meet_a_v2_dashboard_as_a_406_drift_not_a_crash(g13, monkeypatch):
    local = local42(1)
    run(g13, local)
    g13.edit_in_ui_v2("raymontology-d000")
    g13.clear_log()
    report = run(g13, local, environ={"DASHGEN_GRAFANA_API": "legacy"})
    item = next(i for i in report.items if i.kind == "dashboard")
    assert item.action == "drifted" and "Grafana answered 406" in item.detail and g13.writes() == []
    assert not any(r["path"].startswith("/apis") for r in g13.log)
    monkeypatch.setenv("DASHGEN_GRAFANA_API", "legacy")  # pull says why it cannot read it
    with pytest.raises(DashgenError, match="stored as v2 and cannot be read through the legacy route"):
        fetch_remote_dashboards(env_for(g13), ["raymontology-d000"], client_options=FAST)


@pytest.mark.parametrize("legacy_routes", [True, False])
def test_a_create_whose_answer_was_lost_is_retried_and_verified_not_reported_as_drift(legacy_routes):
    e = make_emulator(profile=grafana13(legacy_dashboards=legacy_routes))
    try:
        e.set_faults(paths=r"^/apis/dashboard\.grafana\.app/v1/namespaces/default/dashboards$",
                     queue=["ok", "reset_after"])  # the listing passes; the first create lands, its answer is lost
        report = run(e, local42(2))
        assert not report.failed and report.count("create", "dashboard") == 2, [i.detail for i in report.items]
        posts = [r for r in e.log if r["method"] == "POST" and r["path"].startswith(APIS)]
        assert len(posts) == 3 and sorted(e.dashboards) == ["raymontology-d000", "raymontology-d001"]
    finally:
        e.stop()


@pytest.mark.parametrize("value", ["v2", "legacy\nresource", "../../api", "x" * 200])
def test_a_nonsense_grafana_api_choice_is_a_usage_error_before_any_write(synthetic, g13, monkeypatch, value):
    monkeypatch.setenv("DASHGEN_GRAFANA_API", value)
    r = cli(synthetic, g13, "upload", "--env", "production")
    assert r.exit_code == 2 and "DASHGEN_GRAFANA_API must be one of" in r.stderr and "Traceback" not in r.output, r.output
    assert g13.writes() == []
