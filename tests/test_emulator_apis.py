"""The emulator's Grafana 12/13 resource API (/apis), over raw HTTP: the facts docs/grafana-13.md gives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from grafana_emulator import Profile, grafana13  # noqa: E402
from grafana_emulator.fixtures import TOKEN, VIEWER_TOKEN, make_emulator  # noqa: E402

NS = "stacks-123456"
DASH = f"/apis/dashboard.grafana.app/v1/namespaces/{NS}/dashboards"
FOLDERS = f"/apis/folder.grafana.app/v1beta1/namespaces/{NS}/folders"


@pytest.fixture
def emu():
    e = make_emulator(profile=grafana13(namespace=NS))
    yield e
    e.stop()


def call(emu, method, path, token=TOKEN, **kw):
    return requests.request(method, emu.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=5, **kw)


def resource(name, title="Board", version="v1", folder="", **meta):
    annotations = {"grafana.app/folder": folder} if folder else {}
    return {"apiVersion": f"dashboard.grafana.app/{version}", "kind": "Dashboard",
            "metadata": {"name": name, "annotations": annotations, **meta},
            "spec": {"title": title, "schemaVersion": 41, "panels": [
                {"id": 1, "type": "stat", "title": "Up", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 4},
                 "targets": [{"refId": "A", "expr": "up"}]}]}}


def test_discovery_lists_both_groups_and_the_namespace(emu):
    groups = {g["name"]: g for g in call(emu, "GET", "/apis").json()["groups"]}
    assert set(groups) == {"dashboard.grafana.app", "folder.grafana.app"}
    assert [v["version"] for v in groups["dashboard.grafana.app"]["versions"]] == \
        ["v0alpha1", "v1beta1", "v1", "v2beta1", "v2"]
    one = call(emu, "GET", "/apis/dashboard.grafana.app").json()
    assert one["kind"] == "APIGroup" and one["preferredVersion"]["version"] == "v1"
    assert call(emu, "GET", "/api/frontend/settings").json()["namespace"] == NS
    assert call(emu, "GET", "/apis/dashboard.grafana.app/v9").status_code == 404


def test_a_grafana_without_the_resource_api_answers_404_and_no_namespace():
    e = make_emulator(profile=Profile())
    try:
        assert call(e, "GET", "/apis").status_code == 404
        assert call(e, "GET", "/apis/dashboard.grafana.app").status_code == 404
        assert "namespace" not in call(e, "GET", "/api/frontend/settings").json()
    finally:
        e.stop()


def test_create_read_update_delete_with_resource_versions(emu):
    created = call(emu, "POST", DASH, json=resource("abc"))
    assert created.status_code == 201
    meta = created.json()["metadata"]
    assert meta["name"] == "abc" and meta["namespace"] == NS and meta["generation"] == 1
    assert created.json()["spec"]["schemaVersion"] == 42  # a v1 write raises it to the latest
    assert "uid" not in created.json()["spec"] and "id" not in created.json()["spec"]
    # a create must not carry a resourceVersion; an existing name is AlreadyExists
    again = call(emu, "POST", DASH, json=resource("abd", resourceVersion="5"))
    assert again.status_code == 400 and "resourceVersion should not be set" in again.json()["message"]
    dup = call(emu, "POST", DASH, json=resource("abc"))
    assert dup.status_code == 409 and dup.json()["reason"] == "AlreadyExists"
    # an update with the read resourceVersion succeeds; the same one again is stale: 409 Conflict
    body = resource("abc", "Board 2", resourceVersion=meta["resourceVersion"])
    updated = call(emu, "PUT", f"{DASH}/abc", json=body)
    assert updated.status_code == 200 and updated.json()["metadata"]["generation"] == 2
    stale = call(emu, "PUT", f"{DASH}/abc", json=body)
    assert stale.status_code == 409 and stale.json()["reason"] == "Conflict"
    assert "the object has been modified" in stale.json()["message"] and stale.json()["kind"] == "Status"
    # the same spec again: a new resourceVersion, the same generation, no new history entry
    rv = updated.json()["metadata"]["resourceVersion"]
    same = call(emu, "PUT", f"{DASH}/abc", json=resource("abc", "Board 2", resourceVersion=rv))
    assert same.json()["metadata"]["generation"] == 2 and same.json()["metadata"]["resourceVersion"] != rv
    assert len(emu.versions["abc"]) == 2
    # one store: the legacy route sees the same dashboard
    legacy = call(emu, "GET", "/api/dashboards/uid/abc").json()
    assert legacy["dashboard"]["title"] == "Board 2" and legacy["meta"]["version"] == 2
    assert call(emu, "DELETE", f"{DASH}/abc").json()["status"] == "Success"
    gone = call(emu, "GET", f"{DASH}/abc")
    assert gone.status_code == 404 and gone.json()["message"] == 'dashboards.dashboard.grafana.app "abc" not found'


def test_the_message_annotation_becomes_the_history_message(emu):
    body = resource("abc")
    body["metadata"]["annotations"]["grafana.app/message"] = "dashgen 1 dashgen-sha256=" + "a" * 32
    call(emu, "POST", DASH, json=body)
    one = call(emu, "GET", "/api/dashboards/uid/abc/versions/1").json()
    assert one["message"].endswith("a" * 32)
    assert "grafana.app/message" not in call(emu, "GET", f"{DASH}/abc").json()["metadata"]["annotations"]


def test_a_v2_body_to_v1_and_a_v1_body_to_v2_are_refused(emu):
    bad = resource("abc")
    bad["spec"].update(elements={}, layout={"kind": "GridLayout", "spec": {"items": []}})
    assert call(emu, "POST", DASH, json=bad).status_code == 400
    legacy = call(emu, "POST", "/api/dashboards/db", json={"dashboard": {"title": "x", "elements": {}, "layout": {}}})
    assert legacy.status_code == 400 and legacy.json()["message"].startswith("dashboard appears to be in v2 format")
    v2 = resource("abc", version="v2")
    r = call(emu, "POST", DASH.replace("/v1/", "/v2/"), json=v2)
    assert r.status_code == 400


def test_a_dashboard_saved_as_v2_answers_406_on_the_legacy_route_and_converts_on_v1(emu):
    call(emu, "POST", DASH, json=resource("abc"))
    emu.edit_in_ui_v2("abc", lambda spec: spec.update(title="Edited in 13"))
    legacy = call(emu, "GET", "/api/dashboards/uid/abc")
    assert legacy.status_code == 406
    assert legacy.json()["message"] == ("dashboard api version not supported, use /apis/dashboard.grafana.app/v2/"
                                        f"namespaces/{NS}/dashboards/abc instead")
    v1 = call(emu, "GET", f"{DASH}/abc").json()
    assert v1["status"]["conversion"]["storedVersion"] == "v2" and v1["spec"]["title"] == "Edited in 13"
    v2 = call(emu, "GET", DASH.replace("/v1/", "/v2/") + "/abc").json()
    assert "status" not in v2 and set(v2["spec"]) >= {"elements", "layout"}
    assert v2["metadata"]["annotations"]["grafana.app/saved-from-ui"]
    newest = make_emulator(profile=grafana13(legacy_v2_status=200))
    try:  # newest Grafana main converts instead
        call(newest, "POST", "/apis/dashboard.grafana.app/v1/namespaces/default/dashboards", json=resource("abc"))
        newest.edit_in_ui_v2("abc")
        assert call(newest, "GET", "/api/dashboards/uid/abc").status_code == 200
    finally:
        newest.stop()


def test_a_manager_cannot_be_replaced_and_edits_follow_managerAllowsEdits(emu):
    body = resource("abc")
    body["metadata"]["annotations"].update({"grafana.app/managedBy": "kubectl", "grafana.app/managerId": "dashgen"})
    rv = call(emu, "POST", DASH, json=body).json()["metadata"]["resourceVersion"]
    other = resource("abc", resourceVersion=rv)
    other["metadata"]["annotations"].update({"grafana.app/managedBy": "terraform", "grafana.app/managerId": "tf"})
    assert call(emu, "PUT", f"{DASH}/abc", json=other).status_code == 403
    with pytest.raises(Exception):  # edits not allowed: a legacy (UI) save is refused
        emu.edit_in_ui("abc", lambda d: d.update(title="x"))
    refused = call(emu, "POST", "/api/dashboards/db", json={"dashboard": {"uid": "abc", "title": "x"}, "overwrite": True})
    assert refused.status_code == 400 and refused.json()["message"] == "Cannot save provisioned dashboard"


def test_listing_pages_with_continue_and_the_namespace_is_checked(emu):
    for i in range(5):
        call(emu, "POST", DASH, json=resource(f"d{i}"))
    first = call(emu, "GET", DASH, params={"limit": 2}).json()
    assert [i["metadata"]["name"] for i in first["items"]] == ["d0", "d1"] and first["metadata"]["continue"]
    names = []
    token = ""
    while True:
        page = call(emu, "GET", DASH, params={"limit": 2, "continue": token}).json()
        names += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
    assert names == [f"d{i}" for i in range(5)]
    assert call(emu, "GET", DASH.replace(NS, "default")).status_code == 403


def test_folders_through_folder_grafana_app(emu):
    top = call(emu, "POST", FOLDERS, json={"metadata": {"name": "top"}, "spec": {"title": "Top"}})
    assert top.status_code == 201
    child = call(emu, "POST", FOLDERS, json={"metadata": {"name": "kid", "annotations": {"grafana.app/folder": "top"}},
                                             "spec": {"title": "Kid"}})
    assert child.json()["metadata"]["annotations"]["grafana.app/folder"] == "top"
    assert call(emu, "GET", "/api/folders/kid").json()["parentUid"] == "top"  # one store
    rv = child.json()["metadata"]["resourceVersion"]
    renamed = call(emu, "PUT", f"{FOLDERS}/kid", json={"metadata": {"name": "kid", "resourceVersion": rv,
                                                                    "annotations": {"grafana.app/folder": "top"}},
                                                       "spec": {"title": "Kid 2"}})
    assert renamed.status_code == 200 and emu.folders["kid"]["title"] == "Kid 2"
    assert call(emu, "PUT", f"{FOLDERS}/kid", json={"metadata": {"name": "kid", "resourceVersion": rv},
                                                    "spec": {"title": "x"}}).status_code == 409
    dup = call(emu, "POST", FOLDERS, json={"metadata": {"name": "kid"}, "spec": {"title": "Again"}})
    assert dup.status_code == 409


def test_legacy_routes_can_be_switched_off_and_viewers_cannot_write():
    e = make_emulator(profile=grafana13(legacy_dashboards=False))
    try:
        assert call(e, "GET", "/api/dashboards/uid/abc").status_code == 404
        assert call(e, "POST", "/api/dashboards/db", json={"dashboard": {"title": "x"}}).status_code == 404
        assert call(e, "GET", "/api/folders").status_code == 404
        base = "/apis/dashboard.grafana.app/v1/namespaces/default/dashboards"
        assert call(e, "POST", base, json=resource("abc")).status_code == 201
        assert call(e, "POST", base, token=VIEWER_TOKEN, json=resource("abd")).status_code == 403
    finally:
        e.stop()
