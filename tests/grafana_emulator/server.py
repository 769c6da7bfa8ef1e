"""An emulator of Grafana's HTTP API over real HTTP on loopback (grafana-api.md §11).

    with GrafanaEmulator(tokens={"glsa_x": Token("dashgen", "Editor")}) as emu:
        requests.get(emu.url + "/api/org", headers={"Authorization": "Bearer glsa_x"})
        emu.log            # every request: method, path, query, headers (tokens redacted), body, status

What it covers, point by point with the reference: auth errors in their real shapes (§2),
health and org (§3), dashboards with versions, 409/412 stale writes and folder placement
(§4), folders with nesting (§5), the Prometheus conversion API (§6), alerting provisioning
with notification templates (§7), the Mimir ruler and Alertmanager (§8), and faults (§9): 429 with Retry-After, 5xx, dropped connections, slow answers, and a 500
that echoes the request (for secret-leak tests): as is (`echo500`), URL-encoded
(`echo500_url`), without URL schemes (`echo500_bare`), or JSON-escaped as Go does it
(`echo500_go`: `\\u0026`, `\\/`).

Synthetic Monitoring API, on the same server under /api/v1/check/... and
/api/v1/probe/list, with its own bearer tokens (`sm_tokens`: token -> tenant id). Shapes
relied on, from grafana/synthetic-monitoring-api-go-client docs/API.md and smapi.go:
GET /api/v1/probe/list -> [probe{id, tenantId, name, latitude, longitude, region, public,
online, labels, created, modified}]; GET /api/v1/check/list -> [check]; GET /api/v1/check/{id};
POST /api/v1/check/add (no id; at least one probe) -> the check with id, tenantId, created,
modified (float seconds); POST /api/v1/check/update (body has id and tenantId) -> the check;
DELETE /api/v1/check/delete/{id} -> {"msg": "check deleted", "checkId": id}; errors as
{"code", "msg", "err"}. Validation as documented: frequency 1 s .. 1 h and timeout 1 s ..
min(frequency, 60 s) in ms (checks.proto; docs/API.md's older 120 s / 10 s limits are not
enforced), at most 5 labels of 1..32 bytes, exactly one settings kind. Assumed, not found
in the sources: a second check with the same job and target answers 409; unknown probe ids
answer 400; a stored check gains server defaults (`noFollowRedirects: false`, empty
`headers`), as a Go API would marshal them.

Profile knobs (§1): conflict_status (412|409), versions_shape ("object"|"array"),
unique_titles (pre-11.3), ruler_available, ruler_limits, max_depth, datasources.

Grafana 12/13 (resources.py, `grafana13()` for a Grafana 13 profile): `resource_api` serves
/apis (dashboard.grafana.app and folder.grafana.app over the same store; off: a Grafana <= 11,
/apis answers 404), `namespace`, the versions served, `latest_schema` (what a v1 write raises
schemaVersion to), `legacy_v2_status` (406, or 200 for newest main, on a legacy GET of a
dashboard stored as v2) and `legacy_dashboards` (False: /api/dashboards and /api/folders
answer 404, their announced removal). Legacy saves are stored as v0alpha1, refuse a v2-shaped
body (400) and a managed dashboard whose manager does not allow edits (400 "Cannot save
provisioned dashboard"). `edit_in_ui_v2` saves as Grafana 13's dynamic dashboards do.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

import yaml

from grafana_emulator.resources import ALLOWS_EDITS, MANAGED_BY, MANAGER_ID, Resources, Status

UID_RE = re.compile(r"^[a-zA-Z0-9\-_]*$")
RESERVED_FOLDER_UIDS = {"general", "sharedwithme"}
CONVERT_PREFIXES = ("/api/convert/prometheus/config/v1/rules", "/api/convert/api/prom/rules")
RULER_PREFIXES = ("/prometheus/config/v1/rules", "/api/prom/config/v1/rules")
ALERTMANAGER_PATH = "/api/v1/alerts"  # Mimir's Alertmanager configuration API (mimirtool alertmanager load/get)
ACCEPTED = {"status": "success", "errorType": "", "error": ""}
RULER_ACCEPTED = {"status": "success", "data": None, "errorType": "", "error": ""}
#: Settings Grafana stores encrypted and answers as "[REDACTED]" (per integration type).
SECURE_SETTINGS = {"slack": {"url", "token"}, "webhook": {"password", "authorization_credentials"},
                   "pagerduty": {"integrationKey"}, "telegram": {"bottoken"}, "email": set(),
                   "teams": {"url"}, "opsgenie": {"apiKey"}}
REQUIRED_SETTINGS = {"slack": ("url", "token"), "webhook": ("url",), "email": ("addresses",),
                     "pagerduty": ("integrationKey",), "teams": ("url",), "telegram": ("bottoken",),
                     "opsgenie": ("apiKey",)}
DEFAULT_POLICY = {"receiver": "grafana-default-email", "group_by": ["grafana_folder", "alertname"]}
DURATION_RE = re.compile(r"^(?:\d+(?:ms|s|m|h|d|w|y))+$")

READ_PERMS = {"orgs:read", "dashboards:read", "folders:read", "alert.rules:read", "alert.provisioning:read"}
WRITE_PERMS = {"dashboards:write", "dashboards:create", "dashboards:delete", "folders:create",
               "folders:write", "folders:delete", "alert.rules:write", "alert.provisioning:write"}
ROLE_PERMS = {"Admin": READ_PERMS | WRITE_PERMS, "Editor": READ_PERMS | WRITE_PERMS,
              "Viewer": READ_PERMS, "None": set()}


@dataclass
class Token:
    """A service-account token: its account name, role, state, and optional explicit perms."""

    name: str = "dashgen"
    role: str = "Editor"
    state: str = "ok"  # ok | expired | revoked
    perms: set[str] | None = None

    def allows(self, perm: str) -> bool:
        return perm in (self.perms if self.perms is not None else ROLE_PERMS[self.role])


@dataclass
class Profile:
    conflict_status: int = 412
    versions_shape: str = "object"  # "object" (12+) or "array" (<= 11)
    unique_titles: bool = False
    ruler_available: bool = True
    ruler_limits: tuple[int, int] = (20, 70)  # rules per group, groups per tenant
    max_depth: int = 4
    single_version_rewrites: bool = False  # does GET versions/{n} also say "Initial save"? (uncertain)
    datasources: set[str] = field(default_factory=lambda: {"grafanacloud-prom"})
    version: str = "12.3.0"
    # Grafana 12/13's resource API (resources.py). Off: a Grafana without /apis (<= 11).
    resource_api: bool = False
    legacy_dashboards: bool = True  # False: /api/dashboards and /api/folders removed (announced)
    namespace: str = "default"  # "stacks-<id>" on Grafana Cloud
    dashboard_versions: tuple[str, ...] = ("v0alpha1", "v1beta1", "v1", "v2beta1", "v2")
    folder_versions: tuple[str, ...] = ("v1beta1",)
    latest_schema: int = 42
    legacy_v2_status: int = 406  # legacy GET of a v2-stored dashboard; newest main converts (200)


def grafana13(**kw) -> Profile:
    """A Grafana 13 (Cloud) profile: /apis served, 409 on a stale legacy save."""
    return Profile(**{"resource_api": True, "version": "13.0.10", "conflict_status": 409, **kw})


@dataclass
class Faults:
    """What goes wrong. `ratio` of matching requests fail with one of `kinds` (seeded RNG);
    `queue` holds faults for the next requests, one each, before the ratio applies."""

    ratio: float = 0.0
    kinds: tuple[str, ...] = ("429", "503", "reset")
    retry_after: str = "0"
    slow_seconds: float = 0.5
    paths: str = ""  # regex; only matching paths get faults ("" = all but /api/health)
    queue: list[str] = field(default_factory=list)  # e.g. ["ok", "reset_after"]: the 2nd request fails
    seed: int = 1234


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class ApiError(Exception):
    def __init__(self, status: int, body, content_type: str = "application/json"):
        self.status, self.body, self.content_type = status, body, content_type


def errutil(status: int, message_id: str, message: str) -> ApiError:
    return ApiError(status, {"message": message, "messageId": message_id, "statusCode": status, "traceID": ""})


def durations_seconds(text: str) -> int:
    total = 0
    for num, unit in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", text):
        total += int(num) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}[unit]
    return int(total)


class GrafanaEmulator:
    def __init__(self, tokens: dict[str, Token] | None = None, *, profile: Profile | None = None,
                 ruler_tokens: dict[str, str] | None = None, latency: float = 0.0):
        self.tokens = tokens if tokens is not None else {"glsa_test_token": Token()}
        self.ruler_tokens = ruler_tokens or {}  # instance id -> access-policy token
        self.profile = profile or Profile()
        self.faults = Faults()
        self.latency = latency
        self.lock = threading.RLock()
        self.log: list[dict] = []
        self.health_failing = False
        self.after_request = None  # callable(log entry), run after a request is handled, before it is answered
        self._ids = iter(range(1, 10**9))
        self.resource_version = 1000  # the last resourceVersion handed out (one counter, as etcd's)
        self.resources = Resources(self)
        self._rng = random.Random(self.faults.seed)
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}
        self.versions: dict[str, list[dict]] = {}
        self.converted: dict[str, dict[str, dict]] = {}  # folder uid -> group name -> record
        self.ruler: dict[str, dict[str, dict[str, dict]]] = {}  # tenant -> ns -> group -> group
        self.contact_points: dict[str, dict] = {"default-email": {
            "uid": "default-email", "name": "grafana-default-email", "type": "email",
            "settings": {"addresses": "<example@email.com>"}, "disableResolveMessage": False, "provenance": ""}}
        self.policies: dict = {**copy.deepcopy(DEFAULT_POLICY), "provenance": ""}
        self.templates: dict[str, dict] = {}  # name -> {name, template, provenance, version}
        self.alertmanager: dict[str, dict] = {}  # tenant -> {template_files, alertmanager_config}
        self.server: ThreadingHTTPServer | None = None
        # Synthetic Monitoring: tokens -> tenant id, public probes, checks by id
        self.sm_tokens: dict[str, int] = {}
        self.sm_probes: list[dict] = [
            {"id": i, "tenantId": 1, "name": name, "latitude": lat, "longitude": lon, "region": region,
             "public": True, "online": True, "onlineChange": 0.0, "labels": [], "created": 0.0, "modified": 0.0}
            for i, (name, lat, lon, region) in enumerate([
                ("Ohio", 39.96, -83.0, "AMER"), ("Oregon", 45.52, -122.68, "AMER"),
                ("NorthVirginia", 38.9, -77.04, "AMER"), ("Frankfurt", 50.11, 8.68, "EMEA"),
                ("London", 51.5, -0.12, "EMEA"), ("Singapore", 1.35, 103.82, "APAC")], start=1)]
        self.sm_checks: dict[int, dict] = {}

    # --- lifecycle -----------------------------------------------------------------------
    def start(self, port: int = 0) -> "GrafanaEmulator":
        emu = self

        class Handler(_Handler):
            emulator = emu

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 64
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         name="grafana-emulator", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # --- helpers for tests ---------------------------------------------------------------
    def set_faults(self, **kw) -> None:
        with self.lock:
            for k, v in kw.items():
                setattr(self.faults, k, v)
            self._rng = random.Random(self.faults.seed)

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    def requests(self, method: str | None = None, path: str = "") -> list[dict]:
        return [r for r in self.log if (method is None or r["method"] == method) and r["path"].startswith(path)]

    def writes(self) -> list[dict]:
        """Requests that reached a handler and could change state (faulted ones excluded)."""
        return [r for r in self.log if r["method"] in ("POST", "PUT", "DELETE", "PATCH") and not r.get("fault")]

    def edit_in_ui(self, uid: str, change, user: str = "alice") -> dict:
        """Save a new version as a person in the UI would: `change(dashboard_json)` edits it."""
        with self.lock:
            dash = copy.deepcopy(self.dashboards[uid]["data"])
            change(dash)
            dash["version"] = self.dashboards[uid]["version"]
            return self.save_dashboard({"dashboard": dash, "folderUid": self.dashboards[uid]["folderUid"],
                                        "message": ""}, user)

    def next_id(self) -> int:
        return next(self._ids)

    def next_resource_version(self) -> int:
        self.resource_version += 1
        return self.resource_version

    def edit_in_ui_v2(self, uid: str, change=lambda spec: None, user: str = "alice") -> dict:
        """Save as Grafana 13's dynamic dashboards do: the dashboard converted to v2,
        `change(v2_spec)` applied, stored as v2 through the v2 API with the manager
        annotations kept (the UI sends back the metadata it read)."""
        with self.lock:
            record = self.dashboards[uid]
            resource = self.resources.dashboard_resource(record, "v2")
            change(resource["spec"])
            annotations = {**resource["metadata"]["annotations"], "grafana.app/saved-from-ui": "13.0.10"}
            meta = {"annotations": annotations, "resourceVersion": resource["metadata"]["resourceVersion"]}
            folder = annotations.pop("grafana.app/folder", "")
            for k in ("grafana.app/createdBy", "grafana.app/updatedBy", "grafana.app/updatedTimestamp"):
                annotations.pop(k, None)
            return self.resources._store_dashboard(user, "v2", uid, meta, resource["spec"], annotations, folder,
                                                   record)

    def edit_check_in_ui(self, check_id: int, change) -> dict:
        """Change a stored SM check as a person in the SM UI would: `change(check)` edits it."""
        with self.lock:
            check = self.sm_checks[check_id]
            change(check)
            check["modified"] = time.time()
            return check

    # --- Synthetic Monitoring --------------------------------------------------------------
    def sm_validate(self, body, tenant: int, update: bool) -> dict:
        def bad(msg: str, code: int = 400):
            raise ApiError(code, {"code": code, "msg": msg, "err": msg})

        if not isinstance(body, dict):
            bad("invalid request body")
        if update:
            if not isinstance(body.get("id"), int) or body["id"] not in self.sm_checks:
                bad("check not found", 404)
            if body.get("tenantId") != tenant or self.sm_checks[body["id"]]["tenantId"] != tenant:
                bad("check not found", 404)
        elif body.get("id"):
            bad("check ID must be empty when adding a check")
        for key in ("job", "target"):
            if not isinstance(body.get(key), str) or not body[key]:
                bad(f"invalid check: {key} is empty")
        freq, timeout = body.get("frequency"), body.get("timeout")
        if not isinstance(freq, int) or not 1000 <= freq <= 3600000:
            bad("invalid check: frequency out of range")
        if not isinstance(timeout, int) or not 1000 <= timeout <= min(freq, 60000):
            bad("invalid check: timeout out of range")
        probes = body.get("probes")
        if not isinstance(probes, list) or not probes:
            bad("invalid check: at least one probe is required")
        known = {p["id"] for p in self.sm_probes}
        if any(p not in known for p in probes):
            bad("invalid check: unknown probe")
        labels = body.get("labels") or []
        if len(labels) > 5 or any(not lab.get("name") or not lab.get("value") or len(lab["name"].encode()) > 32
                                  or len(lab["value"].encode()) > 32 for lab in labels):
            bad("invalid check: invalid label")
        settings = body.get("settings")
        if not isinstance(settings, dict) or len([k for k, v in settings.items() if v is not None]) != 1:
            bad("invalid check: exactly one settings kind is required")
        if "http" in settings and not body["target"].startswith(("http://", "https://")):
            bad("invalid check: target must be an http(s) URL")
        for other in self.sm_checks.values():
            if (other["tenantId"] == tenant and other["job"] == body["job"] and other["target"] == body["target"]
                    and other["id"] != body.get("id")):
                bad("check already exists", 409)
        check = copy.deepcopy(body)
        check.setdefault("enabled", True)
        check.setdefault("basicMetricsOnly", False)
        check.setdefault("alertSensitivity", "none")
        check.setdefault("labels", [])
        if isinstance(settings.get("http"), dict):
            check["settings"]["http"].setdefault("noFollowRedirects", False)
            check["settings"]["http"].setdefault("headers", [])
        return check

    def sm_add(self, body, tenant: int) -> dict:
        check = self.sm_validate(body, tenant, update=False)
        t = time.time()
        check.update({"id": self.next_id(), "tenantId": tenant, "created": t, "modified": t})
        self.sm_checks[check["id"]] = check
        return check

    def sm_update(self, body, tenant: int) -> dict:
        check = self.sm_validate(body, tenant, update=True)
        check.update({"created": self.sm_checks[check["id"]]["created"], "modified": time.time()})
        self.sm_checks[check["id"]] = check
        return check

    # --- folders -------------------------------------------------------------------------
    def folder_depth(self, uid: str) -> int:
        depth = 0
        while uid:
            depth += 1
            uid = self.folders[uid].get("parentUid", "")
        return depth

    def folder_dto(self, f: dict) -> dict:
        out = {"id": f["id"], "uid": f["uid"], "orgId": 1, "title": f["title"],
               "url": f"/dashboards/f/{f['uid']}/{slugify(f['title'])}", "hasAcl": False, "canSave": True,
               "canEdit": True, "canAdmin": True, "canDelete": True, "createdBy": f["createdBy"],
               "created": f["created"], "updatedBy": f["updatedBy"], "updated": f["updated"], "version": f["version"]}
        if f.get("parentUid"):
            out["parentUid"] = f["parentUid"]
            parents, p = [], f["parentUid"]
            while p:
                parents.insert(0, {"uid": p, "title": self.folders[p]["title"]})
                p = self.folders[p].get("parentUid", "")
            out["parents"] = parents
        return out

    def create_folder(self, body: dict, user: str) -> dict:
        title = str(body.get("title") or "").strip()
        if not title:
            raise ApiError(400, {"message": "folder title cannot be empty"})
        uid = str(body.get("uid") or "").strip() or f"f{self.next_id():08d}"
        check_uid(uid)
        if uid.lower() in RESERVED_FOLDER_UIDS:
            raise ApiError(400, {"message": "invalid uid for folder provided"})
        if uid in self.folders or uid in self.dashboards:
            raise ApiError(409, {"message": "a folder/dashboard with the same uid already exists"})
        parent = str(body.get("parentUid") or "")
        if parent == uid:
            raise ApiError(400, {"message": "folder cannot be parent of itself"})
        if parent and parent not in self.folders:
            raise ApiError(404, {"status": "not-found", "message": "folder not found"})
        if parent and self.folder_depth(parent) >= self.profile.max_depth:
            raise ApiError(400, {"messageId": "folder.maximum-depth-reached",
                                 "message": "Maximum nested folder depth reached", "statusCode": 400})
        if self.profile.unique_titles and any(
                f["title"] == title and f.get("parentUid", "") == parent for f in self.folders.values()):
            raise ApiError(409, {"message": "a folder or dashboard in the general folder with the same name already exists"})
        t = now()
        f = {"id": self.next_id(), "uid": uid, "title": title, "parentUid": parent, "version": 1,
             "created": t, "updated": t, "createdBy": user, "updatedBy": user}
        self.folders[uid] = f
        return f

    # --- dashboards ----------------------------------------------------------------------
    def save_dashboard(self, body: dict, user: str) -> dict:
        if not isinstance(body, dict) or not isinstance(body.get("dashboard"), dict):
            raise ApiError(400, {"message": "bad request data"})
        if body.get("isFolder") is True:
            raise ApiError(400, {"message": "Use folders endpoint for saving folders."})
        message = body.get("message") or ""
        if len(message) > 500:
            raise ApiError(400, {"message": "message too long, max 500 characters"})
        dash = copy.deepcopy(body["dashboard"])
        if "elements" in dash or "layout" in dash:
            raise ApiError(400, {"message": "dashboard appears to be in v2 format; use the /apis/dashboard.grafana.app/v2 "
                                            "API to save it"})
        title = str(dash.get("title") or "").strip()
        if not title:
            raise ApiError(400, {"status": "empty-name", "message": "Dashboard title cannot be empty"})
        if len(title) > 5000:
            raise ApiError(400, {"status": "title-too-long",
                                 "message": "Dashboard title cannot contain more than 5 000 characters"})
        uid = dash.get("uid") if isinstance(dash.get("uid"), str) else ""
        uid = uid.strip()
        check_uid(uid)
        did = dash.get("id") if isinstance(dash.get("id"), int) and not isinstance(dash.get("id"), bool) else 0
        version = dash.get("version") if (did or uid) else 0
        folder_uid = str(body.get("folderUid") or "")
        if folder_uid and folder_uid not in self.folders:
            raise ApiError(400, {"message": "folder not found"})
        by_id = None
        if did:
            by_id = next((d for d in self.dashboards.values() if d["id"] == did), None)
            if by_id is None:
                raise ApiError(404, {"status": "not-found", "message": "Dashboard not found"})
        existing = self.dashboards.get(uid) if uid else None
        if by_id and existing and by_id is not existing:
            raise ApiError(400, {"message": "A dashboard with the same uid already exists"})
        existing = existing or by_id
        if uid and uid in self.folders:
            raise ApiError(400, {"message": "Dashboard cannot be changed to a folder"})
        if self.profile.unique_titles and any(
                d["data"]["title"] == title and d["folderUid"] == folder_uid and d is not existing
                for d in self.dashboards.values()):
            raise ApiError(412, {"status": "name-exists",
                                 "message": "A dashboard with the same name in the folder already exists"})
        t = now()
        if existing:
            managed = existing.get("annotations") or {}
            if managed.get(MANAGED_BY) and managed.get(MANAGER_ID) and managed.get(ALLOWS_EDITS) != "true":
                raise ApiError(400, {"message": "Cannot save provisioned dashboard"})
            if version != existing["version"]:
                if body.get("overwrite") is True:
                    version = existing["version"]
                elif self.profile.conflict_status == 409:
                    raise ApiError(409, {"message": "Dashboard already exists. Use overwrite flag to update."})
                else:
                    raise ApiError(412, {"status": "version-mismatch",
                                         "message": "The dashboard has been changed by someone else"})
            parent_version = existing["version"]
            record = existing
            record["version"] += 1
            record["updated"], record["updatedBy"] = t, user
        else:
            uid = uid or f"a{self.next_id():012d}"
            parent_version = 0
            record = {"id": self.next_id(), "uid": uid, "version": 1, "created": t, "createdBy": user,
                      "updated": t, "updatedBy": user, "k8s_uid": f"{self.next_id():08x}-k8s", "generation": 0,
                      "annotations": {}, "labels": {}}
            self.dashboards[uid] = record
        record["generation"] = record.get("generation", 0) + 1
        record["rv"] = self.next_resource_version()
        record["stored"] = "v0alpha1"  # legacy saves are stored as v0alpha1, JSON as posted
        record.pop("v2spec", None)
        dash.update({"id": record["id"], "uid": record["uid"], "version": record["version"], "title": title})
        record["data"] = dash
        record["folderUid"] = folder_uid  # an update without folderUid moves it to the root (§4.1)
        self.versions.setdefault(record["uid"], []).append({
            "id": self.next_id(), "dashboardId": record["id"], "uid": record["uid"], "parentVersion": parent_version,
            "restoredFrom": body.get("_restoredFrom", 0), "version": record["version"], "created": t,
            "createdBy": user, "message": message, "data": copy.deepcopy(dash)})
        slug = slugify(title)
        return {"status": "success", "slug": slug, "version": record["version"], "id": record["id"],
                "uid": record["uid"], "url": f"/d/{record['uid']}/{slug}", "folderUid": folder_uid}

    def dashboard_dto(self, d: dict) -> dict:
        slug = slugify(d["data"]["title"])
        meta = {"type": "db", "canSave": True, "canEdit": True, "canAdmin": True, "canStar": True,
                "canDelete": True, "hasAcl": False, "slug": slug, "url": f"/d/{d['uid']}/{slug}",
                "version": d["version"], "isFolder": False, "expires": "0001-01-01T00:00:00Z",
                "created": d["created"], "updated": d["updated"], "createdBy": d["createdBy"],
                "updatedBy": d["updatedBy"], "provisioned": False, "provisionedExternalId": "",
                "annotationsPermissions": {"dashboard": {"canAdd": True, "canEdit": True, "canDelete": True},
                                           "organization": {"canAdd": True, "canEdit": True, "canDelete": True}}}
        f = self.folders.get(d["folderUid"])
        if f:
            meta.update(folderId=f["id"], folderUid=f["uid"], folderTitle=f["title"],
                        folderUrl=f"/dashboards/f/{f['uid']}/{slugify(f['title'])}")
        else:
            meta.update(folderId=0, folderUid="", folderTitle="General", folderUrl="")
        # a shallow copy is enough: stored JSON is replaced on save, never changed in place
        data = {**d["data"], "id": d["id"], "uid": d["uid"], "version": d["version"]}
        return {"dashboard": data, "meta": meta}

    def version_item(self, v: dict, listing: bool) -> dict:
        item = {k: v[k] for k in ("id", "dashboardId", "uid", "parentVersion", "restoredFrom", "version",
                                  "created", "createdBy", "message")}
        if listing:  # the listing rewrites messages (§4.7)
            if v["restoredFrom"] and v["restoredFrom"] == v["version"]:
                item["message"] = "Initial save (created by migration)"
            elif v["parentVersion"] == 0:
                item["message"] = "Initial save"
            elif v["restoredFrom"] > 0:
                item["message"] = f"Restored from version {v['restoredFrom']}"
        item["data"] = copy.deepcopy(v["data"])
        return item


def echoed(body: str, how: str) -> str:
    """A request body as a careless server puts it into an error: as is, URL-encoded (a form
    or query string), or with every URL's scheme dropped ("bare")."""
    if how == "url":
        return quote(body, safe="")
    if how == "bare":
        return re.sub(r"https?://", "", body)
    return body


def check_uid(uid: str) -> None:
    if not UID_RE.match(uid):
        raise ApiError(400, {"message": "uid contains illegal characters"})
    if len(uid) > 40:
        raise ApiError(400, {"message": "uid too long, max 40 characters"})


# ---------------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stalls
    emulator: GrafanaEmulator
    server_version = "GrafanaEmulator/1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_HEAD(self):
        self.dispatch("HEAD")

    # --- plumbing ------------------------------------------------------------------------
    def send(self, status: int, body=None, content_type: str = "application/json", headers=None):
        if body is None:
            raw = b""
        elif isinstance(body, (bytes, str)):
            raw = body.encode() if isinstance(body, str) else body
        else:
            raw = json.dumps(body).encode()
        self.entry["status"] = status  # before the answer leaves: a test may read the log at once
        self.send_response(status)
        if raw or content_type != "application/json":
            self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout test): nothing to answer

    def drop(self):
        """Close the connection without an answer (a reset, as far as the client can tell)."""
        self.close_connection = True
        self.entry["status"] = "reset"
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def dispatch(self, method: str):
        emu = self.emulator
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        logged_headers = {k: ("[REDACTED]" if k.lower() == "authorization" else v) for k, v in headers.items()}
        self.entry = {"method": method, "path": path, "query": query, "headers": logged_headers,
                      "body": raw.decode("utf-8", "replace"), "status": None}
        if path.startswith("/__emulator/"):  # control endpoints for out-of-process use (bench)
            return self.control(method, path)
        with emu.lock:
            emu.log.append(self.entry)
            fault = self.pick_fault(path)
        if emu.latency:
            time.sleep(emu.latency)
        if fault:
            self.entry["fault"] = fault
            if fault == "slow":
                time.sleep(emu.faults.slow_seconds)
            elif fault == "reset":
                return self.drop()
            elif fault == "429":
                return self.send(429, {"message": "Too Many Requests"}, headers={"Retry-After": emu.faults.retry_after})
            elif fault in ("502", "504"):
                return self.send(int(fault), f"<html><body><h1>{fault} Bad Gateway</h1></body></html>", "text/html")
            elif fault == "503":
                return self.send(503, "<html><head><title>Grafana is loading</title></head><body>Grafana is loading...</body></html>", "text/html")
            elif fault == "html200":  # a captive portal or misrouted proxy answering for Grafana
                return self.send(200, "<html><body>Sign in to the proxy</body></html>", "text/html")
            elif fault.startswith("echo500"):  # echo500[_url|_bare|_go]: how the body is echoed
                how = fault.partition("_")[2]
                body = echoed(raw.decode("utf-8", "replace"), how)
                head = f"request was {method} {self.path} "
                if how:  # the body first, where a shortened error message still shows it
                    echo = {"message": "Internal Server Error", "error": f"{head}body={body} headers={json.dumps(headers)}"}
                else:
                    echo = {"message": "Internal Server Error", "error": f"{head}headers={json.dumps(headers)} body={body}"}
                if fault == "echo500_go":  # Go's encoding/json: & < > as \u0026..., / as \/ (some encoders)
                    text = json.dumps(echo).replace("&", "\\u0026").replace("<", "\\u003c")
                    return self.send(500, text.replace(">", "\\u003e").replace("/", "\\/"))
                return self.send(500, echo)
        try:
            with emu.lock:
                status, body, ctype = self.route(method, path, query, headers, raw)
        except ApiError as exc:
            status, body, ctype = exc.status, exc.body, exc.content_type
        if emu.after_request is not None:  # a test's hook: e.g. someone edits between two calls
            emu.after_request(self.entry)
        if fault == "reset_after":  # the server did the work, the answer is lost
            return self.drop()
        self.send(status, body, ctype)

    def control(self, method: str, path: str):
        emu = self.emulator
        if path == "/__emulator/log" and method == "GET":
            with emu.lock:
                log = [{k: e[k] for k in ("method", "path", "status")} | {"fault": e.get("fault")} for e in emu.log]
            return self.send(200, log)
        if path == "/__emulator/clear" and method == "POST":
            emu.clear_log()
            return self.send(200, {"cleared": True})
        return self.send(404, {"message": "Not Found"})

    def pick_fault(self, path: str) -> str | None:
        f = self.emulator.faults
        if path in ("/api/health", "/healthz"):
            return None
        if f.paths and not re.search(f.paths, path):
            return None
        if f.queue:
            kind = f.queue.pop(0)
            return None if kind == "ok" else kind  # "ok" lets one matching request through
        if f.ratio and self.emulator._rng.random() < f.ratio:
            return self.emulator._rng.choice(f.kinds)
        return None

    # --- auth ----------------------------------------------------------------------------
    def grafana_user(self, headers: dict) -> Token:
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        scheme, _, cred = auth.partition(" ")
        token = None
        if scheme == "Bearer" and cred:
            token = cred.strip()
        elif scheme == "Basic" and cred:
            try:
                user, _, pw = base64.b64decode(cred).decode().partition(":")
            except Exception:
                user, pw = "", ""
            if user == "api_key":
                token = pw
        if token is None:
            raise errutil(401, "auth.unauthorized", "Unauthorized")
        t = self.emulator.tokens.get(token)
        if t is None:
            if not token.startswith("gl"):
                raise errutil(401, "api-key.invalid", "API key does not belong to a service account")
            raise errutil(401, "api-key.invalid", "Invalid API key")
        if t.state == "expired":
            raise errutil(401, "api-key.expired", "Expired API key")
        if t.state == "revoked":
            raise errutil(401, "api-key.revoked", "Revoked API key")
        return t

    @staticmethod
    def need(t: Token, perm: str):
        if not t.allows(perm):
            raise ApiError(403, {"title": "Access denied",
                                 "message": f"You'll need additional permissions to perform this action. Permissions needed: {perm}",
                                 "accessErrorId": "ACE0123456789"})

    # --- routes --------------------------------------------------------------------------
    def route(self, method, path, query, headers, raw):
        emu = self.emulator
        if path in ("/api/health",) and method in ("GET", "HEAD"):
            body = {"database": "failing" if emu.health_failing else "ok", "version": emu.profile.version,
                    "commit": "0000000"}
            return 503 if emu.health_failing else 200, json.dumps(body, indent=2), "application/json; charset=UTF-8"
        if path == "/healthz":
            return 200, "Ok", "text/plain"
        for prefix in RULER_PREFIXES:
            if path == prefix or path.startswith(prefix + "/"):
                return self.ruler(method, path[len(prefix):], headers, raw)
        if path.startswith(("/api/v1/check/", "/api/v1/probe/")):
            return self.synthetic_monitoring(method, path, query, headers, raw)
        if path == ALERTMANAGER_PATH:
            return self.mimir_alertmanager(method, headers, raw)
        user = self.grafana_user(headers)
        if path == "/api/frontend/settings" and method == "GET":
            settings = {"appSubUrl": "", "buildInfo": {"version": emu.profile.version, "commit": "0000000"},
                        "featureToggles": {"kubernetesDashboards": emu.profile.resource_api}}
            if emu.profile.resource_api:
                settings["namespace"] = emu.profile.namespace
            return 200, settings, "application/json"
        body = None  # a JSON body parsed, ValueError when it is not JSON (the YAML routes read `raw`)
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = ValueError
        if path == "/apis" or path.startswith("/apis/"):
            if not emu.profile.resource_api:
                raise ApiError(404, {"message": "Not Found"})
            try:
                return emu.resources.route(self, user, method, [unquote(s) for s in path.strip("/").split("/")[1:]],
                                           query, body)
            except Status as exc:
                raise ApiError(exc.status, exc.body) from None
        if not emu.profile.legacy_dashboards and (path.startswith(("/api/dashboards/", "/api/folders/"))
                                                  or path == "/api/folders"):
            raise ApiError(404, {"message": "Not Found"})
        for prefix in CONVERT_PREFIXES:
            if path == prefix or path.startswith(prefix + "/"):
                return self.convert(user, method, path[len(prefix):], headers, raw)
        segs = [unquote(s) for s in path.strip("/").split("/")]
        if path == "/api/org" and method == "GET":
            self.need(user, "orgs:read")
            return 200, {"id": 1, "name": "Main Org.", "address": {"address1": "", "address2": "", "city": "",
                                                                   "zipCode": "", "state": "", "country": ""}}, "application/json"
        if path == "/api/dashboards/db" and method == "POST":
            self.need(user, "dashboards:write")
            if body is ValueError or body is None:
                raise ApiError(400, {"message": "bad request data"})
            return 200, emu.save_dashboard(body, user.name), "application/json"
        if segs[:3] == ["api", "dashboards", "uid"] and len(segs) >= 4:
            return self.dashboard_uid(user, method, segs[3], segs[4:], query, body)
        if path == "/api/search" and method == "GET":
            self.need(user, "dashboards:read")
            return 200, self.search(query), "application/json"
        if segs[:2] == ["api", "folders"]:
            return self.folders(user, method, segs[2:], query, body)
        if segs[:3] == ["api", "v1", "provisioning"]:
            if body is ValueError:
                raise ApiError(400, {"message": "bad request data"})
            return self.provisioning(user, method, segs[3:], query, headers, body)
        raise ApiError(404, {"message": "Not Found"})

    def synthetic_monitoring(self, method, path, query, headers, raw):
        emu = self.emulator

        def err(code: int, msg: str):
            return ApiError(code, {"code": code, "msg": msg, "err": msg})

        auth = headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme != "Bearer" or token.strip() not in emu.sm_tokens:
            raise err(401, "authentication required" if not token else "invalid authentication token")
        tenant = emu.sm_tokens[token.strip()]
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            raise err(400, "invalid request body") from None
        segs = path.strip("/").split("/")[2:]  # after api/v1
        mine = sorted((c for c in emu.sm_checks.values() if c["tenantId"] == tenant), key=lambda c: c["id"])
        if segs == ["probe", "list"] and method == "GET":
            return 200, emu.sm_probes, "application/json"
        if segs == ["check", "list"] and method == "GET":
            return 200, mine, "application/json"
        if segs == ["check", "query"] and method == "GET":
            job, target = query.get("job", [""])[0], query.get("target", [""])[0]
            hit = next((c for c in mine if c["job"] == job and c["target"] == target), None)
            if hit is None:
                raise err(404, "check not found")
            return 200, hit, "application/json"
        if segs == ["check", "add"] and method == "POST":
            return 200, emu.sm_add(body, tenant), "application/json"
        if segs == ["check", "update"] and method == "POST":
            return 200, emu.sm_update(body, tenant), "application/json"
        if len(segs) == 3 and segs[:2] == ["check", "delete"] and method == "DELETE":
            check = emu.sm_checks.get(int(segs[2])) if segs[2].isdigit() else None
            if check is None or check["tenantId"] != tenant:
                raise err(404, "check not found")
            del emu.sm_checks[check["id"]]
            return 200, {"msg": "check deleted", "checkId": check["id"]}, "application/json"
        if len(segs) == 2 and segs[0] == "check" and segs[1].isdigit() and method == "GET":
            check = emu.sm_checks.get(int(segs[1]))
            if check is None or check["tenantId"] != tenant:
                raise err(404, "check not found")
            return 200, check, "application/json"
        raise err(404, "not found")

    def dashboard_uid(self, user, method, uid, rest, query, body):
        emu = self.emulator
        d = emu.dashboards.get(uid)
        if not rest and method == "GET":
            self.need(user, "dashboards:read")
            if not d:
                raise ApiError(404, {"message": "Dashboard not found"})
            if d.get("stored", "v0alpha1").startswith("v2") and emu.profile.legacy_v2_status == 406:
                p = emu.profile
                raise ApiError(406, {"message": f"dashboard api version not supported, use /apis/dashboard.grafana.app/"
                                                f"{d['stored']}/namespaces/{p.namespace}/dashboards/{uid} instead"})
            return 200, emu.dashboard_dto(d), "application/json"
        if not rest and method == "DELETE":
            self.need(user, "dashboards:delete")
            if uid in emu.folders:
                raise ApiError(400, {"message": "Use folders endpoint for deleting folders."})
            if not d:
                raise ApiError(404, {"message": "Dashboard not found"})
            del emu.dashboards[uid]
            emu.versions.pop(uid, None)
            title = d["data"]["title"]
            return 200, {"title": title, "message": f"Dashboard {title} deleted", "uid": uid}, "application/json"
        if rest and rest[0] == "versions" and method == "GET":
            self.need(user, "dashboards:read")
            if not d:
                raise ApiError(404, {"message": "Dashboard not found"})
            versions = list(reversed(emu.versions.get(uid, [])))
            if len(rest) == 2:
                match = [v for v in versions if str(v["version"]) == rest[1]]
                if not match:
                    raise ApiError(404, {"message": "Dashboard version not found"})
                return 200, emu.version_item(match[0], listing=emu.profile.single_version_rewrites), "application/json"
            start = int(query.get("start", ["0"])[0] or 0)
            limit = int(query.get("limit", ["0"])[0] or 0)
            items = versions[start:]
            if limit > 0:
                items = items[:limit]
            if not items:
                raise ApiError(404, {"message": f"No versions found for dashboardId {d['id']}"})
            items = [emu.version_item(v, listing=True) for v in items]
            if emu.profile.versions_shape == "array":
                return 200, items, "application/json"
            return 200, {"versions": items, "continueToken": ""}, "application/json"
        if rest == ["restore"] and method == "POST":
            self.need(user, "dashboards:write")
            if not d:
                raise ApiError(404, {"message": "Dashboard not found"})
            n = (body or {}).get("version")
            old = next((v for v in emu.versions.get(uid, []) if v["version"] == n), None)
            if old is None:
                raise ApiError(404, {"message": "Dashboard version not found"})
            data = copy.deepcopy(old["data"])
            data["version"] = d["version"]
            return 200, emu.save_dashboard({"dashboard": data, "folderUid": d["folderUid"],
                                            "message": "", "_restoredFrom": n}, user.name), "application/json"
        raise ApiError(404, {"message": "Not Found"})

    def search(self, query):
        emu = self.emulator
        limit = int(query.get("limit", ["1000"])[0])
        if limit > 5000:
            raise ApiError(422, {"message": "Limit is above maximum allowed (5000), use page parameter to access hits beyond limit"})
        page = int(query.get("page", ["1"])[0])
        q = query.get("query", [""])[0].lower()
        tags = query.get("tag", [])
        typ = query.get("type", [""])[0]
        duids = set(query.get("dashboardUIDs", []))
        fuids = set(query.get("folderUIDs", []))
        hits = []
        if typ in ("", "dash-folder") and not tags:
            for f in emu.folders.values():
                if q in f["title"].lower() and (not duids or f["uid"] in duids) and \
                        (not fuids or f.get("parentUid", "") in fuids or ("general" in fuids and not f.get("parentUid"))):
                    hits.append(self.hit(f["uid"], f["id"], f["title"], "dash-folder", [], f.get("parentUid", "")))
        if typ in ("", "dash-db"):
            for d in emu.dashboards.values():
                dtags = d["data"].get("tags") or []
                if q in d["data"]["title"].lower() and all(t in dtags for t in tags) and \
                        (not duids or d["uid"] in duids) and \
                        (not fuids or d["folderUid"] in fuids or ("general" in fuids and not d["folderUid"])):
                    hits.append(self.hit(d["uid"], d["id"], d["data"]["title"], "dash-db", dtags, d["folderUid"]))
        hits.sort(key=lambda h: (h["type"] != "dash-folder", h["title"].lower()))
        return hits[(page - 1) * limit: page * limit]

    def hit(self, uid, id_, title, typ, tags, folder_uid):
        slug = slugify(title)
        url = f"/dashboards/f/{uid}/{slug}" if typ == "dash-folder" else f"/d/{uid}/{slug}"
        h = {"id": id_, "uid": uid, "orgId": 1, "title": title, "uri": f"db/{slug}", "url": url, "slug": "",
             "type": typ, "tags": list(tags), "isStarred": False, "sortMeta": 0}
        f = self.emulator.folders.get(folder_uid) if folder_uid else None
        if f:
            h.update(folderId=f["id"], folderUid=f["uid"], folderTitle=f["title"],
                     folderUrl=f"/dashboards/f/{f['uid']}/{slugify(f['title'])}")
        return h

    def folders(self, user, method, rest, query, body):
        emu = self.emulator
        if body is ValueError:
            raise ApiError(400, {"message": "bad request data"})
        if not rest and method == "GET":
            self.need(user, "folders:read")
            parent = query.get("parentUid", [""])[0]
            items = [f for f in emu.folders.values() if f.get("parentUid", "") == parent]
            out = []
            for f in sorted(items, key=lambda f: f["title"].lower()):
                o = {"id": f["id"], "uid": f["uid"], "title": f["title"]}
                if f.get("parentUid"):
                    o["parentUid"] = f["parentUid"]
                out.append(o)
            return 200, out, "application/json"
        if not rest and method == "POST":
            self.need(user, "folders:create")
            return 200, emu.folder_dto(emu.create_folder(body or {}, user.name)), "application/json"
        uid = rest[0] if rest else ""
        f = emu.folders.get(uid)
        if f is None:
            raise ApiError(404, {"status": "not-found", "message": "folder not found"})
        if len(rest) == 1 and method == "GET":
            self.need(user, "folders:read")
            return 200, emu.folder_dto(f), "application/json"
        if len(rest) == 1 and method == "PUT":
            self.need(user, "folders:write")
            body = body or {}
            if body.get("version") != f["version"] and body.get("overwrite") is not True:
                raise ApiError(412, {"status": "version-mismatch", "message": "the folder has been changed by someone else"})
            title = str(body.get("title") or "").strip()
            if not title:
                raise ApiError(400, {"message": "folder title cannot be empty"})
            f.update(title=title, version=f["version"] + 1, updated=now(), updatedBy=user.name,
                     rv=emu.next_resource_version())
            return 200, emu.folder_dto(f), "application/json"
        if rest[1:] == ["move"] and method == "POST":
            self.need(user, "folders:write")
            parent = str((body or {}).get("parentUid") or "")
            if parent == uid:
                raise ApiError(400, {"message": "folder cannot be parent of itself"})
            if parent and parent not in emu.folders:
                raise ApiError(404, {"status": "not-found", "message": "folder not found"})
            f.update(parentUid=parent, version=f["version"] + 1, rv=emu.next_resource_version())
            return 200, emu.folder_dto(f), "application/json"
        if len(rest) == 1 and method == "DELETE":
            self.need(user, "folders:delete")
            doomed = [u for u in emu.folders if self._under(u, uid)]
            force = query.get("forceDeleteRules", ["false"])[0] == "true"
            if not force and any(emu.converted.get(u) for u in doomed):
                raise ApiError(400, {"message": "folder cannot be deleted: folder contains alert rules"})
            for u in doomed:
                emu.folders.pop(u, None)
                emu.converted.pop(u, None)
            for duid in [d for d, rec in emu.dashboards.items() if rec["folderUid"] in doomed]:
                emu.dashboards.pop(duid)
                emu.versions.pop(duid, None)
            return 200, {"title": f["title"], "message": f"Folder {f['title']} deleted", "id": f["id"]}, "application/json"
        raise ApiError(404, {"message": "Not Found"})

    def _under(self, uid: str, root: str) -> bool:
        while uid:
            if uid == root:
                return True
            uid = self.emulator.folders.get(uid, {}).get("parentUid", "")
        return False

    # --- alerting provisioning (§7): contact points and the policy tree ----------------------
    def provisioning(self, user, method, rest, query, headers, body):
        emu = self.emulator
        hdr = {k.lower() for k in headers}
        requested = "" if "x-disable-provenance" in hdr else "api"

        def check_provenance(stored: str):
            if stored and stored != requested:
                raise ApiError(400, {"message": f"cannot change provenance from '{stored}' to '{requested}'"})

        def redacted(cp: dict) -> dict:
            secure = SECURE_SETTINGS.get(cp["type"], set())
            out = copy.deepcopy(cp)
            out["settings"] = {k: ("[REDACTED]" if k in secure else v) for k, v in cp["settings"].items()}
            return out

        def validate(cp: dict):
            if not isinstance(cp, dict) or not str(cp.get("name") or "").strip():
                raise ApiError(400, {"message": "invalid object specification: name must be specified"})
            if cp.get("type") not in REQUIRED_SETTINGS:
                raise ApiError(400, {"message": f"invalid object specification: unknown type '{cp.get('type')}'"})
            settings = cp.get("settings") or {}
            if not any(settings.get(k) for k in REQUIRED_SETTINGS[cp["type"]]):
                raise ApiError(400, {"message": f"invalid object specification: {' or '.join(REQUIRED_SETTINGS[cp['type']])} must be specified"})
            if cp.get("uid"):
                check_uid(cp["uid"])

        if rest == ["contact-points"] and method == "GET":
            self.need(user, "alert.provisioning:read")
            name = query.get("name", [None])[0]
            return 200, [redacted(cp) for cp in emu.contact_points.values() if name in (None, cp["name"])], "application/json"
        if rest == ["contact-points"] and method == "POST":
            self.need(user, "alert.provisioning:write")
            validate(body)
            uid = body.get("uid") or f"c{emu.next_id():012d}"
            if uid in emu.contact_points:
                raise ApiError(400, {"message": "contact point with the same uid already exists"})
            cp = {"uid": uid, "name": body["name"].strip(), "type": body["type"], "settings": dict(body.get("settings") or {}),
                  "disableResolveMessage": bool(body.get("disableResolveMessage")), "provenance": requested}
            emu.contact_points[uid] = cp
            return 202, redacted(cp), "application/json"
        if len(rest) == 2 and rest[0] == "contact-points" and method == "DELETE":
            # §7: 202 (an unknown uid too: nothing to remove). Removing the last integration
            # of a name the policy tree routes to is refused with errutil 409 (Grafana's
            # ContactPointService.DeleteContactPoint, ErrContactPointReferenced); no
            # provenance check on delete there.
            self.need(user, "alert.provisioning:write")
            cp = emu.contact_points.get(rest[1])
            if cp is not None:
                if cp["name"] in set(route_receivers(emu.policies)) and \
                        sum(1 for c in emu.contact_points.values() if c["name"] == cp["name"]) == 1:
                    raise errutil(409, "alerting.notifications.contact-points.referenced",
                                  "Contact point is currently referenced by a notification policy.")
                del emu.contact_points[rest[1]]
            return 202, {"message": "contactpoint deleted"}, "application/json"
        if len(rest) == 2 and rest[0] == "contact-points" and method == "PUT":
            self.need(user, "alert.provisioning:write")
            cp = emu.contact_points.get(rest[1])
            if cp is None:
                raise ApiError(404, {"message": "contact point not found"})
            check_provenance(cp["provenance"])
            validate(body)
            cp.update(name=body["name"].strip(), type=body["type"], settings=dict(body.get("settings") or {}),
                      disableResolveMessage=bool(body.get("disableResolveMessage")), provenance=requested)
            return 202, {"message": "contactpoint updated"}, "application/json"
        if rest and rest[0] == "templates":
            return self.templates(user, method, rest[1:], body, requested, check_provenance)
        if rest == ["policies"] and method == "GET":
            self.need(user, "alert.provisioning:read")
            return 200, copy.deepcopy(emu.policies), "application/json"
        if rest == ["policies"] and method in ("PUT", "DELETE"):
            self.need(user, "alert.provisioning:write")
            check_provenance(emu.policies.get("provenance", ""))
            if method == "DELETE":
                emu.policies = {**copy.deepcopy(DEFAULT_POLICY), "provenance": ""}
                return 202, {"message": "policies resetted"}, "application/json"
            if not isinstance(body, dict) or not body.get("receiver"):
                raise ApiError(400, {"message": "invalid object specification: root route must have a receiver"})
            names = {c["name"] for c in emu.contact_points.values()}
            for r in route_receivers(body):
                if r not in names:
                    raise ApiError(400, {"message": f"invalid object specification: receiver '{r}' does not exist"})
            emu.policies = {**copy.deepcopy(body), "provenance": requested}
            return 202, {"message": "policies updated"}, "application/json"
        raise ApiError(404, {"message": "Not Found"})

    def templates(self, user, method, rest, body, requested, check_provenance):
        """Notification templates (§7): GET list / by name, PUT by name (optimistic `version`), DELETE."""
        emu = self.emulator
        if not rest and method == "GET":
            self.need(user, "alert.provisioning:read")
            return 200, [copy.deepcopy(t) for _n, t in sorted(emu.templates.items())], "application/json"
        if len(rest) != 1:
            raise ApiError(404, {"message": "Not Found"})
        name, stored = rest[0], emu.templates.get(rest[0])
        if method == "GET":
            self.need(user, "alert.provisioning:read")
            if stored is None:
                return 404, None, "application/json"
            return 200, copy.deepcopy(stored), "application/json"
        self.need(user, "alert.provisioning:write")
        if method == "DELETE":
            if stored is not None:
                check_provenance(stored["provenance"])
                del emu.templates[name]
            return 204, None, "application/json"
        if method != "PUT":
            raise ApiError(404, {"message": "Not Found"})
        if not isinstance(body, dict) or not str(body.get("template") or "").strip():
            raise ApiError(400, {"message": "invalid object specification: template must have content"})
        text = body["template"]
        if text.count("{{") != text.count("}}") or re.search(r"\{\{-?\s*end\b", text) is None and "define" in text:
            raise ApiError(400, {"message": f"invalid object specification: template: {name}: unexpected EOF"})
        if stored is not None:
            check_provenance(stored["provenance"])
            if body.get("version") and body["version"] != stored["version"]:
                raise ApiError(409, {"message": "provided version does not match the current version",
                                     "messageId": "alerting.notifications.templates.conflict"})
        version = f"{emu.next_id():016x}"
        emu.templates[name] = {"name": name, "template": text, "provenance": requested, "version": version}
        return 202, copy.deepcopy(emu.templates[name]), "application/json"

    # --- Mimir Alertmanager (§8) ------------------------------------------------------------
    def mimir_alertmanager(self, method, headers, raw):
        emu = self.emulator
        tenant = self.mimir_tenant(headers)
        if method == "GET":
            if tenant not in emu.alertmanager:
                return 404, "alertmanager storage object not found\n", "text/plain"
            return 200, yaml.safe_dump(emu.alertmanager[tenant], sort_keys=False), "application/yaml"
        if method == "DELETE":
            emu.alertmanager.pop(tenant, None)
            return 200, None, "text/plain"
        if method != "POST":
            return 404, "404 page not found\n", "text/plain"
        try:
            doc = yaml.safe_load(raw.decode())
            assert isinstance(doc, dict)
            config = yaml.safe_load(doc.get("alertmanager_config") or "")
        except Exception as exc:
            return 400, f"error marshalling YAML Alertmanager config: {exc}\n", "text/plain"
        bad = validate_alertmanager(config, doc.get("template_files") or {})
        if bad:
            return 400, f"error validating Alertmanager config: {bad}\n", "text/plain"
        emu.alertmanager[tenant] = {"template_files": dict(doc.get("template_files") or {}),
                                    "alertmanager_config": doc["alertmanager_config"]}
        return 201, None, "text/plain"

    def mimir_tenant(self, headers):
        """The tenant of a Mimir request (basic auth instance id:token); ApiError 401 if none."""
        emu = self.emulator
        hdr = {k.lower(): v for k, v in headers.items()}
        auth = hdr.get("authorization", "")
        scheme, _, cred = auth.partition(" ")
        try:
            user, _, pw = base64.b64decode(cred).decode().partition(":") if scheme == "Basic" else ("", "", "")
        except Exception:
            user, pw = "", ""
        if not user or emu.ruler_tokens.get(user) != pw:
            raise ApiError(401, "authentication required\n", "text/plain")
        return hdr.get("x-scope-orgid") or user

    # --- conversion API (§6) ------------------------------------------------------------
    def convert(self, user, method, rest, headers, raw):
        emu = self.emulator
        segs = [unquote(s) for s in rest.strip("/").split("/")] if rest.strip("/") else []
        hdr = {k.lower(): v for k, v in headers.items()}
        working = hdr.get("x-grafana-alerting-folder-uid", "")
        if working and working not in emu.folders:
            raise ApiError(404, {"status": "not-found", "message": "folder not found"})

        def namespace(title: str, create: bool):
            for f in emu.folders.values():
                if f["title"] == title and f.get("parentUid", "") == working:
                    return f
            if not create:
                return None
            self.need(user, "folders:create")
            return emu.create_folder({"title": title, "parentUid": working}, user.name)

        def dump(obj) -> str:
            return yaml.safe_dump(obj, sort_keys=False)

        if method == "GET":
            self.need(user, "alert.rules:read")
            if not segs:
                out = {}
                for fuid, groups in emu.converted.items():
                    if groups:
                        out.setdefault(emu.folders[fuid]["title"], []).extend(g["group"] for g in groups.values())
                return 200, dump(out) if out else "{}\n", "application/yaml"
            f = namespace(segs[0], create=False)
            if f is None:
                return 404, None, "application/json"
            groups = emu.converted.get(f["uid"], {})
            if len(segs) == 1:
                return 200, dump({segs[0]: [g["group"] for g in groups.values()]}) if groups else "{}\n", "application/yaml"
            g = groups.get(segs[1])
            if g is None:
                raise ApiError(404, {"message": "Rule group not found"})
            return 200, dump(g["group"]), "application/yaml"
        if method == "POST" and len(segs) == 1:
            self.need(user, "alert.rules:write")
            ds = hdr.get("x-grafana-alerting-datasource-uid", "").strip()
            if not ds:
                raise errutil(400, "alerting.datasourceUIDHeaderMissing",
                              "Missing datasource UID header: X-Grafana-Alerting-Datasource-UID")
            if ds not in emu.profile.datasources:
                raise errutil(404, "alerting.datasourceNotFound", f"failed to get datasource: data source not found: {ds}")
            for h in ("X-Grafana-Alerting-Alert-Rules-Paused", "X-Grafana-Alerting-Recording-Rules-Paused"):
                v = hdr.get(h.lower())
                if v is not None and v not in ("true", "false", "1", "0", "t", "f", "TRUE", "FALSE", "True", "False"):
                    raise errutil(400, "alerting.invalidHeaderValue", f"Invalid value for header {h}: must be 'true' or 'false'")
            try:
                group = yaml.safe_load(raw.decode())
            except Exception:
                raise errutil(400, "alerting.invalidRequest", "failed to parse rule group: invalid YAML or JSON")
            validate_group(group, grafana=True)
            f = namespace(segs[0], create=True)
            groups = emu.converted.setdefault(f["uid"], {})
            prov = "none" if "x-disable-provenance" in hdr else "converted_prometheus"
            groups[group["name"]] = {"group": group, "provenance": prov, "datasource": ds}
            return 202, ACCEPTED, "application/json"
        if method == "DELETE" and segs:
            self.need(user, "alert.rules:write")
            f = namespace(segs[0], create=False)
            if f is None:
                return 404, None, "application/json"
            groups = emu.converted.get(f["uid"], {})
            if len(segs) == 1:
                groups.clear()
                return 202, ACCEPTED, "application/json"
            if segs[1] not in groups:
                return 404, None, "application/json"
            del groups[segs[1]]
            return 202, ACCEPTED, "application/json"
        raise ApiError(404, {"message": "Not Found"})

    # --- Mimir ruler (§8) ----------------------------------------------------------------
    def ruler(self, method, rest, headers, raw):
        emu = self.emulator
        if not emu.profile.ruler_available:
            return 404, "404 page not found\n", "text/plain"
        tenant = self.mimir_tenant(headers)
        if not tenant:
            raise ApiError(400, {"status": "error", "errorType": "bad_data", "error": "no valid org id found"})
        segs = [unquote(s) for s in rest.strip("/").split("/")] if rest.strip("/") else []
        store = emu.ruler.setdefault(tenant, {})

        def dump(obj):
            return yaml.safe_dump(obj, sort_keys=False)

        if method == "GET":
            if not segs:
                return 200, dump({ns: list(g.values()) for ns, g in store.items() if g}) if any(store.values()) else "{}\n", "application/yaml"
            groups = store.get(segs[0], {})
            if len(segs) == 1:
                return 200, dump({segs[0]: list(groups.values())}) if groups else "{}\n", "application/yaml"
            if segs[1] not in groups:
                return 404, "group does not exist\n", "text/plain"
            return 200, dump(groups[segs[1]]), "application/yaml"
        if method == "POST" and len(segs) == 1:
            try:
                group = yaml.safe_load(raw.decode())
                assert isinstance(group, dict)
            except Exception:
                return 400, "unable to decode rule group\n", "text/plain"
            if not group.get("name"):
                return 400, "invalid rules configuration: rule group name must not be empty\n", "text/plain"
            if not group.get("rules"):
                return 400, f"invalid rules configuration: rule group '{group['name']}' has no rules\n", "text/plain"
            try:
                validate_group(group, grafana=False)
            except ApiError as exc:
                return 400, exc.body.get("message", "invalid") + "\n", "text/plain"
            per_group, per_tenant = emu.profile.ruler_limits
            if len(group["rules"]) > per_group:
                return 400, f"per-user rules per rule group limit (limit: {per_group} actual: {len(group['rules'])}) exceeded\n", "text/plain"
            total = sum(len(g) for g in store.values()) + (0 if group["name"] in store.get(segs[0], {}) else 1)
            if total > per_tenant:
                return 400, f"per-user rule groups limit (limit: {per_tenant} actual: {total}) exceeded\n", "text/plain"
            store.setdefault(segs[0], {})[group["name"]] = remarshal(group)
            return 202, RULER_ACCEPTED, "application/json"
        if method == "DELETE" and segs:
            if segs[0] not in store:
                return 404, "group namespace does not exist\n", "text/plain"
            if len(segs) == 1:
                del store[segs[0]]
                return 202, RULER_ACCEPTED, "application/json"
            if segs[1] not in store[segs[0]]:
                return 404, "group does not exist\n", "text/plain"
            del store[segs[0]][segs[1]]
            if not store[segs[0]]:
                del store[segs[0]]
            return 202, RULER_ACCEPTED, "application/json"
        return 404, "404 page not found\n", "text/plain"


def prom_duration_string(text: str) -> str:
    """How Prometheus' model.Duration prints a duration (Mimir re-marshals stored groups)."""
    ms = sum(int(n) * {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000, "w": 604800000,
                       "y": 31536000000}[u] for n, u in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", text))
    if ms == 0:
        return "0s"
    out = ""
    for unit, size, exact in (("y", 31536000000, True), ("w", 604800000, True), ("d", 86400000, False),
                              ("h", 3600000, False), ("m", 60000, False), ("s", 1000, False), ("ms", 1, False)):
        if exact and ms % size:
            continue
        if ms // size:
            out += f"{ms // size}{unit}"
            ms %= size
    return out


def remarshal(group: dict) -> dict:
    """A group as the Mimir ruler gives it back: durations re-printed, zero `for` dropped."""
    g = copy.deepcopy(group)
    for d in [g, *(r for r in g.get("rules") or [] if isinstance(r, dict))]:
        for k in ("interval", "for", "keep_firing_for", "query_offset"):
            if k in d:
                d[k] = prom_duration_string(str(d[k]))
                if d[k] == "0s" and k in ("for", "keep_firing_for"):
                    del d[k]
    return g


def validate_alertmanager(config, template_files: dict) -> str:
    """What Mimir refuses (grafana-api.md §8): an empty config, `*_file` secrets, template
    names with a path separator, a route to an undefined receiver, a URL without a scheme."""
    if not isinstance(config, dict) or not config:
        return "configuration provided is empty, if you'd like to remove your configuration please use the delete configuration endpoint"
    for name in template_files:
        if "/" in name:
            return f"template file name '{name}' is not not valid"

    def walk(obj):
        if isinstance(obj, dict):
            for k, v in obj.items():
                if isinstance(k, str) and k.endswith("_file") and k != "template_files":
                    return f"{k} is not allowed in Alertmanager configuration"
                if k in ("url", "api_url") and isinstance(v, str) and not re.match(r"^https?://[^/]+", v):
                    return 'unsupported scheme "" for URL'
                found = walk(v)
                if found:
                    return found
        elif isinstance(obj, list):
            for v in obj:
                found = walk(v)
                if found:
                    return found
        return ""

    found = walk(config)
    if found:
        return found
    names = {r.get("name") for r in config.get("receivers") or []}
    for r in route_receivers(config.get("route") or {}):
        if r not in names:
            return f'undefined receiver "{r}" used in route'
    return ""


def route_receivers(route: dict):
    if route.get("receiver"):
        yield route["receiver"]
    for child in route.get("routes") or []:
        yield from route_receivers(child)


def validate_group(group, *, grafana: bool) -> None:
    """The §10 checks both targets apply, plus Grafana's own (no `limit`, 10 s interval base)."""

    def bad(msg):
        return errutil(400, "alerting.invalidRuleGroup", msg) if grafana else ApiError(400, {"message": msg})

    if not isinstance(group, dict):
        raise bad("invalid rule group: expected a mapping")
    if not group.get("name"):
        raise bad("Groupname must not be empty")
    unknown = set(group) - {"name", "interval", "query_offset", "evaluation_delay", "limit", "labels",
                            "rules", "source_tenants", "align_evaluation_time_on_interval"}
    if unknown:
        raise bad(f"field {sorted(unknown)[0]} not found in type rulefmt.RuleGroup")
    if grafana and "limit" in group:
        raise bad("limit is not supported")
    interval = group.get("interval")
    if interval is not None:
        if not DURATION_RE.match(str(interval)):
            raise bad(f"invalid interval {interval!r}")
        if grafana and (durations_seconds(str(interval)) <= 0 or durations_seconds(str(interval)) % 10):
            raise bad(f"rule evaluation interval {durations_seconds(str(interval))} should be multiple of the base interval of 10 seconds")
    errors = []
    for i, rule in enumerate(group.get("rules") or []):
        if not isinstance(rule, dict):
            errors.append(f"rule {i}: not a mapping")
            continue
        if ("alert" in rule) == ("record" in rule):
            errors.append("only one of 'record' and 'alert' must be set" if "alert" in rule
                          else "one of 'record' or 'alert' must be set")
        if not rule.get("expr"):
            errors.append("field 'expr' must be set in rule")
        if "record" in rule:
            for k in ("annotations", "for", "keep_firing_for"):
                if k in rule:
                    errors.append(f"invalid field '{k}' in recording rule")
        for k in ("for", "keep_firing_for"):
            if k in rule and not DURATION_RE.match(str(rule[k])):
                errors.append(f"invalid duration {rule[k]!r} in field '{k}'")
    if errors:
        raise bad(", ".join(errors))
