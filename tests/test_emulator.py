"""The Grafana emulator's fidelity to Grafana's HTTP API as the real server behaves.

These tests speak raw HTTP (requests) to the emulator, so they pin the contract the upload
client is tested against: exact status codes and the server's exact wording.
"""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import pytest
import requests
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from grafana_emulator import Profile  # noqa: E402
from grafana_emulator.fixtures import (  # noqa: E402,F401
    EXPIRED_TOKEN, REVOKED_TOKEN, TOKEN, VIEWER_TOKEN, emulator, make_emulator,
)

AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONVERT = "/api/convert/prometheus/config/v1/rules"


def call(emu, method, path, token=TOKEN, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update(kw.pop("headers", {}))
    return requests.request(method, emu.url + path, headers=headers, timeout=5, **kw)


def save(emu, dashboard, **kw):
    return call(emu, "POST", "/api/dashboards/db", json={"dashboard": dashboard, **kw})


# --- auth, health and org ---------------------------------------------------------------
def test_health_needs_no_auth_and_org_needs_a_token(emulator):
    r = requests.get(emulator.url + "/api/health", timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert set(r.json()) == {"database", "version", "commit"} and r.json()["database"] == "ok"
    assert "\n" in r.text  # indented
    assert requests.head(emulator.url + "/api/health", timeout=5).status_code == 200
    emulator.health_failing = True
    failing = requests.get(emulator.url + "/api/health", timeout=5)
    assert failing.status_code == 503 and failing.json()["database"] == "failing"
    assert requests.get(emulator.url + "/healthz", timeout=5).text == "Ok"
    org = call(emulator, "GET", "/api/org")
    assert org.status_code == 200
    assert org.json() == {"id": 1, "name": "Main Org.", "address": {"address1": "", "address2": "", "city": "",
                                                                 "zipCode": "", "state": "", "country": ""}}


@pytest.mark.parametrize("token,status,body", [
    (None, 401, {"message": "Unauthorized", "messageId": "auth.unauthorized", "statusCode": 401, "traceID": ""}),
    ("glsa_unknownunknownunknownunknownunk_00000000", 401,
     {"message": "Invalid API key", "messageId": "api-key.invalid", "statusCode": 401, "traceID": ""}),
    (EXPIRED_TOKEN, 401, {"message": "Expired API key", "messageId": "api-key.expired", "statusCode": 401, "traceID": ""}),
    (REVOKED_TOKEN, 401, {"message": "Revoked API key", "messageId": "api-key.revoked", "statusCode": 401, "traceID": ""}),
    ("oldstyleapikey", 401, {"message": "API key does not belong to a service account",
                             "messageId": "api-key.invalid", "statusCode": 401, "traceID": ""}),
])
def test_auth_errors_have_their_real_shapes(emulator, token, status, body):
    r = call(emulator, "GET", "/api/org", token=token)
    assert (r.status_code, r.json()) == (status, body)


def test_unknown_api_route_without_credentials_is_401_before_routing(emulator):
    assert call(emulator, "GET", "/api/no-such-thing", token=None).status_code == 401
    assert call(emulator, "GET", "/api/no-such-thing").json() == {"message": "Not Found"}


def test_basic_auth_with_api_key_user_is_accepted(emulator):
    cred = base64.b64encode(f"api_key:{TOKEN}".encode()).decode()
    r = requests.get(emulator.url + "/api/org", headers={"Authorization": f"Basic {cred}"}, timeout=5)
    assert r.status_code == 200


def test_rbac_denial_is_403_with_the_permission_named(emulator):
    r = call(emulator, "POST", "/api/dashboards/db", token=VIEWER_TOKEN, json={"dashboard": {"uid": "a", "title": "A"}})
    assert r.status_code == 403
    body = r.json()
    assert body["title"] == "Access denied"
    assert body["message"] == ("You'll need additional permissions to perform this action. "
                               "Permissions needed: dashboards:write")
    assert re.fullmatch(r"ACE\d{10}", body["accessErrorId"])


# --- dashboards ---------------------------------------------------------------------------
def test_create_then_every_save_increments_the_version(emulator):
    r = save(emulator, {"uid": "abc", "title": "My Dash", "id": None}, folderUid="", message="first")
    assert r.status_code == 200
    assert r.json() == {"status": "success", "slug": "my-dash", "version": 1, "id": r.json()["id"],
                        "uid": "abc", "url": "/d/abc/my-dash", "folderUid": ""}
    again = save(emulator, {"uid": "abc", "title": "My Dash", "version": 1}, folderUid="")
    assert again.json()["version"] == 2  # identical content, still a new version
    got = call(emulator, "GET", "/api/dashboards/uid/abc").json()
    assert got["dashboard"]["version"] == 2 and got["dashboard"]["id"] == r.json()["id"]
    assert got["meta"]["folderTitle"] == "General" and got["meta"]["folderId"] == 0
    assert got["meta"]["type"] == "db" and got["meta"]["isFolder"] is False


def test_title_is_trimmed_and_written_back(emulator):
    save(emulator, {"uid": "t", "title": "  Padded  "})
    assert call(emulator, "GET", "/api/dashboards/uid/t").json()["dashboard"]["title"] == "Padded"


@pytest.mark.parametrize("conflict,body", [
    (412, {"status": "version-mismatch", "message": "The dashboard has been changed by someone else"}),
    (409, {"message": "Dashboard already exists. Use overwrite flag to update."}),
])
def test_stale_or_missing_version_without_overwrite_is_refused(conflict, body):
    emu = make_emulator(profile=Profile(conflict_status=conflict))
    try:
        save(emu, {"uid": "abc", "title": "A"})
        save(emu, {"uid": "abc", "title": "A", "version": 1})
        stale = save(emu, {"uid": "abc", "title": "A", "version": 1})
        assert (stale.status_code, stale.json()) == (conflict, body)
        missing = save(emu, {"uid": "abc", "title": "A"})
        assert missing.status_code == conflict
        forced = save(emu, {"uid": "abc", "title": "A", "version": 1}, overwrite=True)
        assert forced.status_code == 200 and forced.json()["version"] == 3
        current = save(emu, {"uid": "abc", "title": "A", "version": 3})
        assert current.status_code == 200 and current.json()["version"] == 4
    finally:
        emu.stop()


def test_update_without_folder_uid_moves_the_dashboard_to_the_root(emulator):
    call(emulator, "POST", "/api/folders", json={"uid": "f1", "title": "Team"})
    save(emulator, {"uid": "d", "title": "D"}, folderUid="f1")
    assert call(emulator, "GET", "/api/dashboards/uid/d").json()["meta"]["folderUid"] == "f1"
    save(emulator, {"uid": "d", "title": "D", "version": 1})
    meta = call(emulator, "GET", "/api/dashboards/uid/d").json()["meta"]
    assert meta["folderUid"] == "" and meta["folderTitle"] == "General"


@pytest.mark.parametrize("payload,body", [
    ({"dashboard": {"uid": "x", "title": ""}}, {"status": "empty-name", "message": "Dashboard title cannot be empty"}),
    ({"dashboard": {"uid": "x", "title": "t" * 5001}},
     {"status": "title-too-long", "message": "Dashboard title cannot contain more than 5 000 characters"}),
    ({"dashboard": {"uid": "x", "title": "T"}, "message": "m" * 501}, {"message": "message too long, max 500 characters"}),
    ({"dashboard": {"uid": "a b", "title": "T"}}, {"message": "uid contains illegal characters"}),
    ({"dashboard": {"uid": "u" * 41, "title": "T"}}, {"message": "uid too long, max 40 characters"}),
    ({"dashboard": {"uid": "x", "title": "T"}, "folderUid": "nope"}, {"message": "folder not found"}),
    ({"dashboard": {"uid": "x", "title": "T"}, "isFolder": True}, {"message": "Use folders endpoint for saving folders."}),
    ({"nodashboard": {}}, {"message": "bad request data"}),
])
def test_save_validation_uses_the_exact_strings(emulator, payload, body):
    r = call(emulator, "POST", "/api/dashboards/db", json=payload)
    assert (r.status_code, r.json()) == (400, body)


def test_unknown_id_is_404_and_get_delete_of_unknown_uid_too(emulator):
    r = save(emulator, {"id": 999, "title": "T"})
    assert (r.status_code, r.json()) == (404, {"status": "not-found", "message": "Dashboard not found"})
    for method in ("GET", "DELETE"):
        r = call(emulator, method, "/api/dashboards/uid/missing")
        assert (r.status_code, r.json()) == (404, {"message": "Dashboard not found"})


def test_delete_answers_title_and_uid(emulator):
    save(emulator, {"uid": "gone", "title": "My Dash"})
    r = call(emulator, "DELETE", "/api/dashboards/uid/gone")
    assert r.json() == {"title": "My Dash", "message": "Dashboard My Dash deleted", "uid": "gone"}
    call(emulator, "POST", "/api/folders", json={"uid": "fold", "title": "F"})
    r = call(emulator, "DELETE", "/api/dashboards/uid/fold")
    assert (r.status_code, r.json()) == (400, {"message": "Use folders endpoint for deleting folders."})


@pytest.mark.parametrize("shape", ["object", "array"])
def test_versions_list_shapes_and_message_rewriting(shape):
    emu = make_emulator(profile=Profile(versions_shape=shape))
    try:
        save(emu, {"uid": "v", "title": "V"}, message="created by dashgen")
        save(emu, {"uid": "v", "title": "V2", "version": 1}, message="second")
        body = call(emu, "GET", "/api/dashboards/uid/v/versions").json()
        if shape == "object":
            assert set(body) == {"versions", "continueToken"} and body["continueToken"] == ""
            items = body["versions"]
        else:
            assert isinstance(body, list)
            items = body
        assert [v["version"] for v in items] == [2, 1]  # newest first
        assert items[0]["message"] == "second" and items[0]["parentVersion"] == 1
        assert items[1]["message"] == "Initial save" and items[1]["parentVersion"] == 0
        assert items[0]["createdBy"] == "sa-dashgen"
        assert set(items[0]) == {"id", "dashboardId", "uid", "parentVersion", "restoredFrom", "version",
                                 "created", "createdBy", "message", "data"}
        one = call(emu, "GET", "/api/dashboards/uid/v/versions/1").json()
        assert one["message"] == "created by dashgen" and one["data"]["title"] == "V"
        limited = call(emu, "GET", "/api/dashboards/uid/v/versions", params={"limit": 1}).json()
        assert len(limited["versions"] if shape == "object" else limited) == 1
        restored = call(emu, "POST", "/api/dashboards/uid/v/restore", json={"version": 1}).json()
        assert restored["version"] == 3
        top = call(emu, "GET", "/api/dashboards/uid/v/versions", params={"limit": 1}).json()
        top = top["versions"][0] if shape == "object" else top[0]
        assert top["message"] == "Restored from version 1" and top["restoredFrom"] == 1
    finally:
        emu.stop()


def test_search_orders_folders_first_and_omits_folder_keys_at_root(emulator):
    call(emulator, "POST", "/api/folders", json={"uid": "zf", "title": "Zeta"})
    save(emulator, {"uid": "b", "title": "beta", "tags": ["x"]}, folderUid="zf")
    save(emulator, {"uid": "a", "title": "Alpha"})
    hits = call(emulator, "GET", "/api/search").json()
    assert [h["uid"] for h in hits] == ["zf", "a", "b"]
    root = hits[1]
    assert "folderUid" not in root and root["tags"] == [] and root["type"] == "dash-db"
    assert hits[2]["folderUid"] == "zf" and hits[2]["folderTitle"] == "Zeta" and hits[2]["uri"] == "db/beta"
    assert [h["uid"] for h in call(emulator, "GET", "/api/search", params={"folderUIDs": "zf"}).json()] == ["b"]
    assert [h["uid"] for h in call(emulator, "GET", "/api/search", params={"tag": "x"}).json()] == ["b"]
    r = call(emulator, "GET", "/api/search", params={"limit": 5001})
    assert (r.status_code, r.json()) == (422, {"message": "Limit is above maximum allowed (5000), use page parameter to access hits beyond limit"})


# --- folders ------------------------------------------------------------------------------
def test_folders_nest_share_the_uid_namespace_and_stop_at_depth_four(emulator):
    parent = ""
    for i in range(4):
        r = call(emulator, "POST", "/api/folders", json={"uid": f"l{i}", "title": f"L{i}", "parentUid": parent})
        assert r.status_code == 200 and r.json()["version"] == 1
        parent = f"l{i}"
    got = call(emulator, "GET", "/api/folders/l3").json()
    assert got["parentUid"] == "l2" and [p["uid"] for p in got["parents"]] == ["l0", "l1", "l2"]
    assert got["url"] == "/dashboards/f/l3/l3"
    deep = call(emulator, "POST", "/api/folders", json={"uid": "l4", "title": "L4", "parentUid": "l3"})
    assert (deep.status_code, deep.json()) == (400, {"messageId": "folder.maximum-depth-reached",
                                                     "message": "Maximum nested folder depth reached", "statusCode": 400})
    dup = call(emulator, "POST", "/api/folders", json={"uid": "l0", "title": "Other"})
    assert (dup.status_code, dup.json()) == (409, {"message": "a folder/dashboard with the same uid already exists"})
    save(emulator, {"uid": "dash", "title": "D"})
    assert call(emulator, "POST", "/api/folders", json={"uid": "dash", "title": "X"}).status_code == 409
    orphan = call(emulator, "POST", "/api/folders", json={"title": "X", "parentUid": "nope"})
    assert (orphan.status_code, orphan.json()) == (404, {"status": "not-found", "message": "folder not found"})
    assert call(emulator, "POST", "/api/folders", json={"uid": "general", "title": "G"}).json() == \
        {"message": "invalid uid for folder provided"}
    assert call(emulator, "POST", "/api/folders", json={"title": " "}).json() == {"message": "folder title cannot be empty"}
    assert [f["uid"] for f in call(emulator, "GET", "/api/folders").json()] == ["l0"]  # root level only
    assert [f["uid"] for f in call(emulator, "GET", "/api/folders", params={"parentUid": "l0"}).json()] == ["l1"]
    missing = call(emulator, "GET", "/api/folders/nope")
    assert (missing.status_code, missing.json()) == (404, {"status": "not-found", "message": "folder not found"})


def test_folder_put_honours_version_and_delete_cascades(emulator):
    call(emulator, "POST", "/api/folders", json={"uid": "team", "title": "Team"})
    stale = call(emulator, "PUT", "/api/folders/team", json={"title": "Team 2", "version": 7})
    assert (stale.status_code, stale.json()) == (412, {"status": "version-mismatch",
                                                       "message": "the folder has been changed by someone else"})
    ok = call(emulator, "PUT", "/api/folders/team", json={"title": "Team 2", "version": 1})
    assert ok.json()["version"] == 2 and ok.json()["title"] == "Team 2"
    save(emulator, {"uid": "inside", "title": "I"}, folderUid="team")
    r = call(emulator, "DELETE", "/api/folders/team")
    assert r.json()["message"] == "Folder Team 2 deleted"
    assert call(emulator, "GET", "/api/dashboards/uid/inside").status_code == 404


# --- conversion API ------------------------------------------------------------------------
GROUP = {"name": "api", "interval": "1m", "rules": [{"alert": "Down", "expr": "up == 0", "for": "5m",
                                                    "labels": {"severity": "critical"}}]}


def post_group(emu, ns, group, headers=None, **kw):
    h = {"Content-Type": "application/yaml", "X-Grafana-Alerting-Datasource-UID": "grafanacloud-prom"}
    h.update(headers or {})
    return call(emu, "POST", f"{CONVERT}/{ns}", data=yaml.safe_dump(group), headers=h, **kw)


def test_convert_api_requires_the_datasource_header(emulator):
    r = call(emulator, "POST", f"{CONVERT}/NS", data=yaml.safe_dump(GROUP), headers={"Content-Type": "application/yaml"})
    assert (r.status_code, r.json()) == (400, {
        "message": "Missing datasource UID header: X-Grafana-Alerting-Datasource-UID",
        "messageId": "alerting.datasourceUIDHeaderMissing", "statusCode": 400, "traceID": ""})
    bad = post_group(emulator, "NS", GROUP, headers={"X-Grafana-Alerting-Alert-Rules-Paused": "maybe"})
    assert bad.json()["message"] == "Invalid value for header X-Grafana-Alerting-Alert-Rules-Paused: must be 'true' or 'false'"


def test_convert_api_creates_the_namespace_folder_under_the_working_folder(emulator):
    assert call(emulator, "GET", CONVERT).text == "{}\n"
    call(emulator, "POST", "/api/folders", json={"uid": "work", "title": "Work"})
    r = post_group(emulator, "Alerts", GROUP, headers={"X-Grafana-Alerting-Folder-UID": "work"})
    assert (r.status_code, r.json()) == (202, {"status": "success", "errorType": "", "error": ""})
    made = [f for f in emulator.folders.values() if f["title"] == "Alerts"]
    assert len(made) == 1 and made[0]["parentUid"] == "work"
    post_group(emulator, "Alerts", GROUP, headers={"X-Grafana-Alerting-Folder-UID": "work"})
    assert len([f for f in emulator.folders.values() if f["title"] == "Alerts"]) == 1  # found by title
    hdr = {"X-Grafana-Alerting-Folder-UID": "work"}
    listed = yaml.safe_load(call(emulator, "GET", f"{CONVERT}/Alerts", headers=hdr).text)
    assert listed == {"Alerts": [GROUP]}
    assert yaml.safe_load(call(emulator, "GET", f"{CONVERT}/Alerts/api", headers=hdr).text) == GROUP
    missing = call(emulator, "GET", f"{CONVERT}/Alerts/nope", headers=hdr)
    assert (missing.status_code, missing.json()) == (404, {"message": "Rule group not found"})
    unknown_ns = call(emulator, "GET", f"{CONVERT}/Nope", headers=hdr)
    assert unknown_ns.status_code == 404 and unknown_ns.content == b""
    gone = call(emulator, "DELETE", f"{CONVERT}/Alerts/api", headers=hdr)
    assert (gone.status_code, gone.json()) == (202, {"status": "success", "errorType": "", "error": ""})
    again = call(emulator, "DELETE", f"{CONVERT}/Alerts/api", headers=hdr)
    assert again.status_code == 404 and again.content == b""


@pytest.mark.parametrize("group,fragment", [
    ({**GROUP, "limit": 5}, "limit"),
    ({**GROUP, "interval": "15s"}, "multiple of the base interval of 10 seconds"),
    ({"name": "g", "rules": [{"alert": "A", "record": "b", "expr": "up"}]}, "only one of 'record' and 'alert' must be set"),
    ({"name": "g", "rules": [{"alert": "A"}]}, "field 'expr' must be set in rule"),
    ({"name": "g", "rules": [{"record": "a:b", "expr": "up", "for": "1m"}]}, "invalid field 'for' in recording rule"),
])
def test_convert_api_applies_rule_file_checks(emulator, group, fragment):
    r = post_group(emulator, "NS", group)
    assert r.status_code == 400 and fragment in r.json()["message"]


# --- Mimir ruler ---------------------------------------------------------------------------
def test_mimir_ruler_contract():
    emu = make_emulator(ruler_tokens={"12345": "glc_ruler"})
    emu.profile.ruler_limits = (1, 2)
    try:
        base = emu.url + "/prometheus/config/v1/rules"
        auth = ("12345", "glc_ruler")
        assert requests.get(base, auth=("12345", "wrong"), timeout=5).status_code == 401
        assert requests.get(base, auth=auth, timeout=5).text == "{}\n"
        r = requests.post(base + "/ns", data=yaml.safe_dump(GROUP), auth=auth, timeout=5,
                          headers={"Content-Type": "application/yaml", "X-Scope-OrgID": "12345"})
        assert (r.status_code, r.json()) == (202, {"status": "success", "data": None, "errorType": "", "error": ""})
        assert yaml.safe_load(requests.get(base + "/ns/api", auth=auth, timeout=5).text) == GROUP
        assert requests.get(emu.url + "/api/prom/config/v1/rules/ns/api", auth=auth, timeout=5).status_code == 200
        missing = requests.get(base + "/ns/nope", auth=auth, timeout=5)
        assert (missing.status_code, missing.text) == (404, "group does not exist\n")
        two = {**GROUP, "rules": GROUP["rules"] * 2}
        r = requests.post(base + "/ns", data=yaml.safe_dump(two), auth=auth, timeout=5)
        assert r.text == "per-user rules per rule group limit (limit: 1 actual: 2) exceeded\n"
        empty = requests.post(base + "/ns", data=yaml.safe_dump({"name": "e", "rules": []}), auth=auth, timeout=5)
        assert empty.text == "invalid rules configuration: rule group 'e' has no rules\n"
        assert requests.delete(base + "/ns/api", auth=auth, timeout=5).status_code == 202
        nsgone = requests.delete(base + "/ns", auth=auth, timeout=5)
        assert (nsgone.status_code, nsgone.text) == (404, "group namespace does not exist\n")
    finally:
        emu.stop()


# --- faults, request log -------------------------------------------------------------------
def test_faults_and_the_request_log(emulator):
    emulator.set_faults(queue=["429", "503", "reset", "echo500"], retry_after="7")
    r = call(emulator, "GET", "/api/org")
    assert (r.status_code, r.headers["Retry-After"], r.json()) == (429, "7", {"message": "Too Many Requests"})
    r = call(emulator, "GET", "/api/org")
    assert r.status_code == 503 and "Grafana is loading" in r.text and r.headers["Content-Type"] == "text/html"
    with pytest.raises(requests.ConnectionError):
        call(emulator, "GET", "/api/org")
    r = call(emulator, "GET", "/api/org")
    assert r.status_code == 500 and TOKEN in r.text  # the echo a client must never repeat
    assert call(emulator, "GET", "/api/org").status_code == 200
    assert [e["status"] for e in emulator.log] == [429, 503, "reset", 500, 200]
    assert all(e["headers"]["Authorization"] == "[REDACTED]" for e in emulator.log)
    assert all(TOKEN not in repr(e) for e in emulator.log)


def test_latency_and_slow_faults_delay_answers():
    import time

    emu = make_emulator(latency=0.05)
    try:
        t0 = time.monotonic()
        call(emu, "GET", "/api/org")
        assert time.monotonic() - t0 >= 0.05
        emu.set_faults(queue=["slow"], slow_seconds=0.3)
        t0 = time.monotonic()
        with pytest.raises(requests.Timeout):
            requests.get(emu.url + "/api/org", headers=AUTH, timeout=0.15)
        assert time.monotonic() - t0 < 0.3
    finally:
        emu.stop()


# --- provisioning: contact points and policies ----------------------------------------------
def test_contact_points_redact_secure_settings_and_answer_202(emulator):
    base = "/api/v1/provisioning/contact-points"
    cp = {"uid": "cp1", "name": "team", "type": "slack", "settings": {"url": "https://hooks/secret", "title": "t"}}
    r = call(emulator, "POST", base, json=cp)
    assert r.status_code == 202 and r.json()["settings"] == {"url": "[REDACTED]", "title": "t"}
    assert r.json()["provenance"] == "api"
    listed = [c for c in call(emulator, "GET", base).json() if c["uid"] == "cp1"]
    assert listed[0]["settings"]["url"] == "[REDACTED]"
    assert call(emulator, "GET", base, params={"name": "team"}).json()[0]["uid"] == "cp1"
    r = call(emulator, "PUT", f"{base}/cp1", json={**cp, "settings": {"url": "https://hooks/new"}})
    assert (r.status_code, r.json()) == (202, {"message": "contactpoint updated"})
    unlock = call(emulator, "PUT", f"{base}/cp1", json=cp, headers={"X-Disable-Provenance": "true"})
    assert (unlock.status_code, unlock.json()) == (400, {"message": "cannot change provenance from 'api' to ''"})
    bad = call(emulator, "POST", base, json={"name": "x", "type": "slack", "settings": {}})
    assert bad.status_code == 400
    r = call(emulator, "DELETE", f"{base}/cp1")
    assert (r.status_code, r.json()) == (202, {"message": "contactpoint deleted"})
    assert "cp1" not in emulator.contact_points
    r = call(emulator, "DELETE", f"{base}/cp1")  # gone already: nothing to remove, still 202
    assert (r.status_code, r.json()) == (202, {"message": "contactpoint deleted"})


def test_deleting_the_last_integration_of_a_routed_contact_point_is_refused_409(emulator):
    base = "/api/v1/provisioning/contact-points"
    for uid in ("team-0-slack", "team-1-email"):
        kind = uid.rsplit("-", 1)[1]
        settings = {"url": "https://hooks/x"} if kind == "slack" else {"addresses": "a@x.com"}
        body = {"uid": uid, "name": "team", "type": kind, "settings": settings}
        assert call(emulator, "POST", base, json=body).status_code == 202
    assert call(emulator, "PUT", "/api/v1/provisioning/policies", json={"receiver": "team"}).status_code == 202
    assert call(emulator, "DELETE", f"{base}/team-0-slack").status_code == 202  # another integration keeps the name
    r = call(emulator, "DELETE", f"{base}/team-1-email")
    assert r.status_code == 409 and r.json()["messageId"] == "alerting.notifications.contact-points.referenced"
    assert "team-1-email" in emulator.contact_points
    assert call(emulator, "PUT", "/api/v1/provisioning/policies",
                json={"receiver": "grafana-default-email"}).status_code == 202
    assert call(emulator, "DELETE", f"{base}/team-1-email").status_code == 202  # no policy names it any more
    assert "team-1-email" not in emulator.contact_points


def test_policy_tree_is_one_object_replaced_by_put(emulator):
    base = "/api/v1/provisioning/policies"
    assert call(emulator, "GET", base).json()["receiver"] == "grafana-default-email"
    missing = call(emulator, "PUT", base, json={"receiver": "nobody"})
    assert (missing.status_code, missing.json()) == (
        400, {"message": "invalid object specification: receiver 'nobody' does not exist"})
    tree = {"receiver": "grafana-default-email", "routes": [{"receiver": "grafana-default-email",
                                                            "object_matchers": [["severity", "=", "critical"]]}]}
    r = call(emulator, "PUT", base, json=tree)
    assert (r.status_code, r.json()) == (202, {"message": "policies updated"})
    got = call(emulator, "GET", base).json()
    assert got["routes"] == tree["routes"] and got["provenance"] == "api"


def test_the_emulator_runs_in_the_foreground_on_a_given_port():
    import os
    import socket
    import subprocess

    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    # stdin closed from the start (as under nohup or in CI): the emulator keeps serving.
    proc = subprocess.Popen([sys.executable, "-m", "grafana_emulator", "--token", TOKEN, "--port", str(port)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, env=env)
    try:
        url = proc.stdout.readline().strip()
        assert url == f"http://127.0.0.1:{port}"
        assert proc.poll() is None
        assert requests.get(url + "/api/org", headers=AUTH, timeout=5).status_code == 200
        log = requests.get(url + "/__emulator/log", timeout=5).json()
        assert log == [{"method": "GET", "path": "/api/org", "status": 200, "fault": None}]
        requests.post(url + "/__emulator/clear", timeout=5)
        assert requests.get(url + "/__emulator/log", timeout=5).json() == []
        # A second one on the same port says so and exits 2.
        busy = subprocess.run([sys.executable, "-m", "grafana_emulator", "--token", TOKEN, "--port", str(port)],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=30)
        assert busy.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in busy.stderr
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


# --- the emulator answers with Grafana's own wording ---------------------------------------------
#: Every server string the emulator answers with, as Grafana (and Mimir) word it: clients match on them.
PINNED = [
    "Invalid API key", "Expired API key", "Revoked API key", "API key does not belong to a service account",
    "api-key.invalid", "api-key.expired", "api-key.revoked", "auth.unauthorized",
    "You'll need additional permissions to perform this action. Permissions needed: <evaluator>",
    "bad request data", "Dashboard title cannot be empty", "Dashboard title cannot contain more than 5 000 characters",
    "message too long, max 500 characters", "uid contains illegal characters", "uid too long, max 40 characters",
    "folder not found", "Dashboard not found", "A dashboard with the same uid already exists",
    "Dashboard cannot be changed to a folder", "The dashboard has been changed by someone else",
    "Dashboard already exists. Use overwrite flag to update.",
    "A dashboard with the same name in the folder already exists", "Use folders endpoint for saving folders.",
    "Use folders endpoint for deleting folders.", "Limit is above maximum allowed (5000), use page parameter to access hits beyond limit",
    "folder title cannot be empty", "invalid uid for folder provided", "a folder/dashboard with the same uid already exists",
    "folder cannot be parent of itself", "Maximum nested folder depth reached", "the folder has been changed by someone else",
    "Missing datasource UID header: X-Grafana-Alerting-Datasource-UID", "alerting.datasourceUIDHeaderMissing",
    "Invalid value for header <name>: must be 'true' or 'false'", "Rule group not found", "Initial save",
    "Initial save (created by migration)", "group does not exist", "group namespace does not exist",
    "unable to decode rule group", "invalid rules configuration: rule group name must not be empty",
    "invalid rules configuration: rule group '<g>' has no rules",
    "per-user rules per rule group limit (limit: %d actual: %d) exceeded",
    "per-user rule groups limit (limit: %d actual: %d) exceeded", "no valid org id found",
    "only one of 'record' and 'alert' must be set", "one of 'record' or 'alert' must be set",
    "field 'expr' must be set in rule", "invalid field '<f>' in recording rule", "Groupname must not be empty",
    "contactpoint updated", "contactpoint deleted", "policies updated", "Too Many Requests",
]


def test_the_emulator_answers_with_every_pinned_string():
    source = (Path(__file__).parent / "grafana_emulator" / "server.py").read_text()
    templated = {"<evaluator>": "{perm}", "<name>": "{h}", "<g>": "{group['name']}", "<f>": "{k}",
                 "%d actual: %d": "{per_group} actual: {len(group['rules'])}"}
    absent = []
    for s in PINNED:
        if s.startswith("per-user rule groups limit"):
            s = "per-user rule groups limit (limit: {per_tenant} actual: {total}) exceeded"
        for placeholder, code in templated.items():
            s = s.replace(placeholder, code)
        if s not in source:
            absent.append(s)
    assert not absent, f"the emulator does not answer with: {absent}"


# --- notification templates ---------------------------------------------------------------
def test_templates_put_by_name_with_optimistic_version(emulator):
    base = "/api/v1/provisioning/templates"
    assert call(emulator, "GET", f"{base}/team").status_code == 404
    text = '{{ define "team.title" }}{{ .Status }}{{ end }}'
    r = call(emulator, "PUT", f"{base}/team", json={"template": text})
    assert r.status_code == 202 and r.json()["template"] == text and r.json()["provenance"] == "api"
    version = r.json()["version"]
    got = call(emulator, "GET", f"{base}/team").json()
    assert got == {"name": "team", "template": text, "provenance": "api", "version": version}
    assert [t["name"] for t in call(emulator, "GET", base).json()] == ["team"]
    stale = call(emulator, "PUT", f"{base}/team", json={"template": text + " ", "version": "0" * 16})
    assert stale.status_code == 409
    ok = call(emulator, "PUT", f"{base}/team", json={"template": text + " ", "version": version})
    assert ok.status_code == 202 and ok.json()["version"] != version
    bad = call(emulator, "PUT", f"{base}/team", json={"template": '{{ define "x" }}{{ .Status }'})
    assert bad.status_code == 400
    unlock = call(emulator, "PUT", f"{base}/team", json={"template": text}, headers={"X-Disable-Provenance": "true"})
    assert (unlock.status_code, unlock.json()) == (400, {"message": "cannot change provenance from 'api' to ''"})
    assert call(emulator, "DELETE", f"{base}/team").status_code == 204
    assert call(emulator, "GET", f"{base}/team").status_code == 404


# --- Mimir Alertmanager -------------------------------------------------------------------
def test_mimir_alertmanager_contract():
    emu = make_emulator(ruler_tokens={"12345": "glc_am"})
    try:
        url, auth = emu.url + "/api/v1/alerts", ("12345", "glc_am")
        assert requests.get(url, auth=("12345", "wrong"), timeout=5).status_code == 401
        assert requests.get(url, auth=auth, timeout=5).status_code == 404
        config = "route:\n  receiver: a\nreceivers:\n- name: a\n  webhook_configs:\n  - url: https://x.example/\n"
        body = {"template_files": {"t.tmpl": '{{ define "t" }}x{{ end }}'}, "alertmanager_config": config}
        r = requests.post(url, data=yaml.safe_dump(body), auth=auth, timeout=5)
        assert (r.status_code, r.text) == (201, "")
        assert yaml.safe_load(requests.get(url, auth=auth, timeout=5).text) == body
        for bad, why in (
            ({**body, "alertmanager_config": ""}, "configuration provided is empty"),
            ({**body, "alertmanager_config": config.replace("url: https://x.example/", "url_file: /x")}, "url_file"),
            ({**body, "template_files": {"a/b.tmpl": "x"}}, "a/b.tmpl"),
            ({**body, "alertmanager_config": config.replace("receiver: a", "receiver: b")}, 'undefined receiver "b"'),
            ({**body, "alertmanager_config": config.replace("https://x.example/", "$SMS_URL")}, "unsupported scheme"),
        ):
            r = requests.post(url, data=yaml.safe_dump(bad), auth=auth, timeout=5)
            assert r.status_code == 400 and r.text.startswith("error validating Alertmanager config: ") and why in r.text
        assert requests.delete(url, auth=auth, timeout=5).status_code == 200
        assert requests.get(url, auth=auth, timeout=5).status_code == 404
    finally:
        emu.stop()
