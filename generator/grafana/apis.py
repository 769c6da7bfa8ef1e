"""Dashboards and folders through Grafana 12/13's resource API (/apis), legacy routes as fallback.

    mode = discover(client)                     # ApiMode: resource API or legacy, and the namespace
    api = dashboard_api(client, mode, manager)  # ResourceDashboardAPI or dashboards.DashboardAPI
    folders = folder_api(client, mode)          # ResourceFolderAPI or folders.FolderAPI

Discovery (two GETs a run): `GET /apis` lists the API groups; when `dashboard.grafana.app` is
there, dashboards go through `/apis/dashboard.grafana.app/<v>/namespaces/<ns>/dashboards`,
with <v> the newest classic version served (v1, else v1beta1, else v0alpha1) and the v2
version (v2, else v2beta1) for dashboards stored as v2; folders go through
`folder.grafana.app` when it is served too, else the legacy folder routes. The namespace is
the `namespace` of `GET /api/frontend/settings` (`stacks-<id>` on Grafana Cloud, `default`
elsewhere). A Grafana without /apis (404), or `DASHGEN_GRAFANA_API=legacy`, uses the legacy
`/api/dashboards` and `/api/folders` routes as before; `DASHGEN_GRAFANA_API=resource` insists
on the resource API (an error when it is not served).

Writes carry `metadata.resourceVersion` as read: a stale one answers 409 Conflict, which the
upload treats like the legacy 412 (GrafanaAPIError.conflict). A create carries none, so a
uid that appeared meanwhile answers 409 AlreadyExists, also a conflict. `--force` writes
without a resourceVersion (an unconditional update).

Every dashboard dashgen writes here carries Grafana's ownership annotations, so Grafana's UI
says it is managed as code: `grafana.app/managedBy` (`kubectl`, the kind Grafana has for a
tool writing through the API), `managerId` (`dashgen-<environment>`), `managerAllowsEdits`
(the environment's `allow_ui_edits`, default true: the drift guard catches UI edits),
`sourcePath` (the file in the repository it comes from: its definition module, e.g.
`dashboards/business.py`, as the caller names it, else its rendered file) and `sourceChecksum` (dashgen's content hash), and the save
message (with dashgen's mark) as `grafana.app/message`, which Grafana keeps as the version's
message. Ownership is *decided* by dashgen's own mark (dashboards.py): an Editor could forge
the annotations (a Grafana CVE of October 2026), so they can only deny ownership (another
manager's name), never grant it.

A dashboard stored as v2 (saved from Grafana 13's dynamic dashboards) reports its stored
version in `status.conversion.storedVersion` when read as v1; it is then read through the v2
API and converted to the classic model offline (generator.dashv2), and `RemoteDashboard.stored_v2`
says so: the upload treats it as changed outside dashgen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from generator.dashv2 import LOST, to_classic, to_v2, validate_v2
from generator.errors import ConfigError, DashgenError
from generator.grafana.client import GrafanaClient
from generator.grafana.dashboards import EMBEDDED, DashboardAPI, RemoteDashboard, content_hash, sent, sent_hash
from generator.grafana.folders import FolderAPI
from generator.normalize import SCHEMA_VERSION, DashboardInputError, normalize_dashboard
from generator.safenames import url_segment

DASH_GROUP = "dashboard.grafana.app"
FOLDER_GROUP = "folder.grafana.app"
CLASSIC_PREFERENCE = ("v1", "v1beta1", "v0alpha1")
V2_PREFERENCE = ("v2", "v2beta1")
FOLDER_PREFERENCE = ("v1", "v1beta1")
#: Versions whose writes raise schemaVersion to the server's latest (docs/grafana-13.md).
MIGRATING = ("v1", "v1beta1")
FOLDER_ANNOTATION = "grafana.app/folder"
MESSAGE = "grafana.app/message"
MANAGED_BY, MANAGER_ID = "grafana.app/managedBy", "grafana.app/managerId"
ALLOWS_EDITS, SOURCE_PATH, SOURCE_CHECKSUM = ("grafana.app/managerAllowsEdits", "grafana.app/sourcePath",
                                              "grafana.app/sourceChecksum")
MANAGER_KIND = "kubectl"
LIST_PAGE = 500
MODES = ("auto", "resource", "legacy")


@dataclass(frozen=True)
class ApiMode:
    """How this stack is spoken to. `dashboards` None: the legacy routes."""

    dashboards: str | None = None  # classic version, e.g. "v1"
    v2: str | None = None  # v2 version, e.g. "v2beta1"
    folders: str | None = None
    namespace: str = "default"

    @property
    def resource(self) -> bool:
        return self.dashboards is not None

    def describe(self) -> str:
        if not self.resource:
            return "legacy /api/dashboards routes"
        return (f"/apis/{DASH_GROUP}/{self.dashboards} in namespace {self.namespace}"
                + ("" if self.folders else ", legacy folder routes"))


LEGACY = ApiMode()


@dataclass(frozen=True)
class Manager:
    """The ownership annotations dashgen writes (see the module doc)."""

    identity: str
    allows_edits: bool = True
    #: uid -> repository-relative file the dashboard comes from; a uid not in it gets no sourcePath
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    def annotations(self, uid: str, checksum: str) -> dict[str, str]:
        notes = {MANAGED_BY: MANAGER_KIND, MANAGER_ID: self.identity,
                 ALLOWS_EDITS: "true" if self.allows_edits else "false"}
        if self.sources.get(uid):
            notes[SOURCE_PATH] = self.sources[uid]
        notes[SOURCE_CHECKSUM] = checksum
        return notes


def manager_for(env, sources: Mapping[str, str] | None = None) -> Manager:
    return Manager(f"dashgen-{env.name}", bool(getattr(env, "allow_ui_edits", True)), dict(sources or {}))


def foreign_manager(annotations: dict, manager: Manager | None) -> str | None:
    """"<kind>:<id>" when the annotations name a manager other than `manager`, else None."""
    kind, ident = annotations.get(MANAGED_BY), annotations.get(MANAGER_ID)
    if not kind or not ident:
        return None
    if manager is not None and (kind, ident) == (MANAGER_KIND, manager.identity):
        return None
    return f"{kind}:{ident}"


def _pick(served: list[str], preference: tuple[str, ...]) -> str | None:
    return next((v for v in preference if v in served), None)


def discover(client: GrafanaClient, environ=None) -> ApiMode:
    """The ApiMode of the stack behind `client` (module doc); DASHGEN_GRAFANA_API overrides."""
    environ = os.environ if environ is None else environ
    wanted = (environ.get("DASHGEN_GRAFANA_API") or "auto").strip().lower()
    if wanted not in MODES:
        raise ConfigError(f"DASHGEN_GRAFANA_API must be one of {', '.join(MODES)}, not {wanted!r}")
    if wanted == "legacy":
        return LEGACY
    resp = client.request("GET", "/apis", ok=(200, 404))
    groups = {}
    if resp.status_code == 200:
        body = client.decode(resp)
        for g in body.get("groups") or []:
            if isinstance(g, dict) and isinstance(g.get("name"), str):
                groups[g["name"]] = [v.get("version") for v in g.get("versions") or [] if isinstance(v, dict)]
    classic = _pick(groups.get(DASH_GROUP, []), CLASSIC_PREFERENCE)
    if classic is None:
        if wanted == "resource":
            raise ConfigError(f"DASHGEN_GRAFANA_API=resource, but {client.display_url} does not serve "
                              f"/apis/{DASH_GROUP} (Grafana 12 or later does)")
        return LEGACY
    settings = client.request("GET", "/api/frontend/settings", ok=(200, 404))
    namespace = "default"
    if settings.status_code == 200:
        ns = client.decode(settings).get("namespace")
        if isinstance(ns, str) and ns:
            namespace = url_segment(ns, "namespace")
    return ApiMode(classic, _pick(groups.get(DASH_GROUP, []), V2_PREFERENCE),
                   _pick(groups.get(FOLDER_GROUP, []), FOLDER_PREFERENCE), namespace)


def dashboard_api(client: GrafanaClient, mode: ApiMode, manager: Manager | None = None,
                  dashboard_format: str = "classic") -> DashboardAPI:
    """The API for `mode`; `dashboard_format = "v2"` writes and reads v2 dashboards, which
    needs the resource API's v2 version (a ConfigError, before anything is written, if not)."""
    if dashboard_format == "v2":
        if not mode.resource or mode.v2 is None:
            raise ConfigError(f"dashboard_format = \"v2\" needs Grafana's /apis/{DASH_GROUP}/v2 (Grafana 12 or later), "
                              f"which {client.display_url} does not serve ({mode.describe()})")
        return ResourceDashboardAPI(client, mode, manager, write_v2=True)
    return ResourceDashboardAPI(client, mode, manager) if mode.resource else DashboardAPI(client)


def folder_api(client: GrafanaClient, mode: ApiMode) -> FolderAPI:
    return ResourceFolderAPI(client, mode) if mode.folders else FolderAPI(client)


class ResourceDashboardAPI(DashboardAPI):
    """DashboardAPI through /apis; history (the drift guard's version messages) still comes
    from the legacy versions route while a server has it, else from the JSON's mark alone."""

    def __init__(self, client: GrafanaClient, mode: ApiMode, manager: Manager | None = None,
                 write_v2: bool = False):
        super().__init__(client)
        self.mode, self.manager, self.write_v2 = mode, manager, write_v2
        #: the version everything is read and written as: v2 with dashboard_format = "v2"
        self.version = mode.v2 if write_v2 else mode.dashboards
        self._listed: dict[str, dict] = {}  # uid -> resource, from the listing; each used once
        self._asked: set[str] | None = None  # after a listing: uids fetched since (a second fetch GETs)

    def _base(self, version: str | None = None) -> str:
        return f"/apis/{DASH_GROUP}/{version or self.version}/namespaces/{self.mode.namespace}/dashboards"

    def _path(self, uid: str, version: str | None = None) -> str:
        return f"{self._base(version)}/{url_segment(uid, 'dashboard uid')}"

    def as_stored(self, normalised: dict) -> dict:
        """What the server keeps of `normalised`: a v1 write raises schemaVersion to the latest,
        so a dashboard below it would differ from what is read back on every run. As v2, it
        is what reads back: the classic dashboard of its v2 form (checked against the v2 JSON
        schema; a dashboard that does not convert cleanly is refused before any write)."""
        if self.write_v2:
            spec = self._v2_spec(normalised)
            board, _ = to_classic(spec, uid=normalised.get("uid"))
            return normalize_dashboard({k: v for k, v in board.items() if k not in ("id", "version")})
        sv = normalised.get("schemaVersion")
        if self.mode.dashboards in MIGRATING and (not isinstance(sv, int) or sv < SCHEMA_VERSION):
            return normalize_dashboard({**normalised, "schemaVersion": SCHEMA_VERSION})
        return normalised

    @staticmethod
    def _v2_spec(normalised: dict) -> dict:
        uid = normalised.get("uid")
        spec, report = to_v2(normalised)
        errors = validate_v2(spec)
        if errors:
            raise ConfigError(f"dashboard {uid!r}: its v2 form fails Grafana's v2 schema (dashboard_format = \"v2\"): "
                              + "; ".join(errors[:3]))
        lost = [e for e in report.entries if e.kind == LOST]
        if lost:
            raise ConfigError(f"dashboard {uid!r} cannot be uploaded as v2 without loss (dashboard_format = \"v2\"): "
                              + "; ".join(str(e) for e in lost[:3]))
        return spec

    def fetch(self, uid: str, expected: dict | None = None) -> RemoteDashboard | None:
        resource = self._listed.pop(uid, None)
        if self._asked is not None and uid not in self._asked:
            self._asked.add(uid)
            if resource is None:  # not there when listed: absent, without a GET
                return None
        if resource is None:
            resp = self.client.request("GET", self._path(uid), ok=(200, 404))
            if resp.status_code == 404:
                return None
            resource = self.client.decode(resp)
        return self.remote(uid, resource, expected)

    def remote(self, uid: str, resource: dict, expected: dict | None = None) -> RemoteDashboard:
        meta = resource.get("metadata") if isinstance(resource.get("metadata"), dict) else {}
        annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
        status = resource.get("status") if isinstance(resource.get("status"), dict) else {}
        conversion = status.get("conversion") if isinstance(status.get("conversion"), dict) else {}
        stored = str(conversion.get("storedVersion") or "")
        spec = resource.get("spec") if isinstance(resource.get("spec"), dict) else {}
        stored_v2 = stored.startswith("v2") and not self.write_v2
        if self.write_v2:  # read as v2 (whatever it is stored as): the classic model of it
            spec = self._classic_of(uid, spec)
        elif stored_v2:  # read it as stored, convert offline (what is lost is in the report)
            spec = self._read_v2(uid)
        raw = {**spec, "uid": uid}
        embedded = raw.get(EMBEDDED)
        mark = embedded.get("sha256") if isinstance(embedded, dict) else None
        stripped = sent(raw)
        converted = self.write_v2 or stored_v2  # the classic model of a v2 one: not what was sent
        normalised = expected if expected is not None and stripped == expected else normalize_dashboard(stripped)
        generation = meta.get("generation") if isinstance(meta.get("generation"), int) else 0
        return RemoteDashboard(uid=uid, dashboard=normalised, version=generation,
                               folder_uid=str(annotations.get(FOLDER_ANNOTATION) or ""),
                               title=str(raw.get("title", "")), embedded_mark=mark if isinstance(mark, str) else None,
                               lock=str(meta.get("resourceVersion") or "") or None, annotations=dict(annotations),
                               stored_v2=stored_v2, updated_by=str(annotations.get("grafana.app/updatedBy") or ""),
                               stored_hash="" if converted else content_hash(stripped))

    def _read_v2(self, uid: str) -> dict:
        if self.mode.v2 is None:
            raise DashgenError(f"dashboard {uid!r} is stored as v2 but this Grafana serves no v2 dashboard API")
        return self._classic_of(uid, self.client.get_json(self._path(uid, self.mode.v2)).get("spec"))

    @staticmethod
    def _classic_of(uid: str, spec) -> dict:
        try:
            board, _report = to_classic(spec, uid=uid)
        except DashboardInputError as exc:
            raise DashgenError(f"dashboard {uid!r} (stored as v2): cannot convert it to the classic model: {exc}") \
                from None
        return {k: v for k, v in board.items() if k not in ("id", "version")}

    def save(self, dashboard: dict, folder_uid: str, message: str, *, version=None,
             overwrite: bool | None = None) -> dict:
        """`version`: the resourceVersion read (a stale one answers 409); None with
        `overwrite=False`: a create (an existing uid answers 409); None otherwise: --force."""
        uid = dashboard["uid"]
        checksum = sent_hash(dashboard)  # the drift mark: what is sent, not the normaliser's view
        if self.write_v2:  # the mark travels in the message (history) only: v2 has no place for it
            spec = self._v2_spec(dashboard)
        else:
            spec = {k: v for k, v in dashboard.items() if k not in ("id", "uid", "version")}
            spec[EMBEDDED] = {"sha256": checksum}
        annotations = {FOLDER_ANNOTATION: folder_uid, MESSAGE: message} if folder_uid else {MESSAGE: message}
        if self.manager is not None:
            annotations.update(self.manager.annotations(uid, checksum))
        body = {"apiVersion": f"{DASH_GROUP}/{self.version}", "kind": "Dashboard",
                "metadata": {"name": uid, "annotations": annotations}, "spec": spec}
        if version is not None:
            body["metadata"]["resourceVersion"] = str(version)
            return self.client.decode(self.client.request("PUT", self._path(uid), json_body=body))
        if overwrite is False:
            return self.client.decode(self.client.request("POST", self._base(), json_body=body, ok=(200, 201)))
        resp = self.client.request("PUT", self._path(uid), json_body=body, ok=(200, 201, 404))
        if resp.status_code == 404:  # --force on a dashboard deleted meanwhile
            resp = self.client.request("POST", self._base(), json_body=body, ok=(200, 201))
        return self.client.decode(resp)

    def delete(self, uid: str) -> None:
        self.client.request("DELETE", self._path(uid), ok=(200, 202, 404))

    def list_all(self) -> list[dict]:
        """Every dashboard resource of the namespace, page by page."""
        items, token = [], ""
        while True:
            params = {"limit": LIST_PAGE, **({"continue": token} if token else {})}
            page = self.client.get_json(self._base(), params=params)
            items += [i for i in page.get("items") or [] if isinstance(i, dict)]
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                return items

    def prefetch(self) -> None:
        self.in_folder("")

    def in_folder(self, folder_uid: str) -> list[dict]:
        """Search-hit-like {uid, title} for the dashboards directly in `folder_uid`; every
        listed resource is kept for the first fetch of its uid, and a uid not listed is known
        absent on its first fetch (no GET per dashboard)."""
        hits = []
        self._listed.clear()
        items = self.list_all()
        self._asked = set()
        for item in items:
            meta = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
            uid = meta.get("name")
            if not isinstance(uid, str) or not uid:
                continue
            self._listed[uid] = item
            if str((meta.get("annotations") or {}).get(FOLDER_ANNOTATION) or "") == folder_uid:
                hits.append({"uid": uid, "title": str((item.get("spec") or {}).get("title") or uid)})
        return hits


class ResourceFolderAPI(FolderAPI):
    """FolderAPI through folder.grafana.app: the folder dict it hands on keeps the legacy
    keys (uid, title, parentUid) and carries the resourceVersion as `version`."""

    def __init__(self, client: GrafanaClient, mode: ApiMode):
        super().__init__(client)
        self.mode = mode

    def _base(self) -> str:
        return f"/apis/{FOLDER_GROUP}/{self.mode.folders}/namespaces/{self.mode.namespace}/folders"

    def fetch(self, uid: str) -> dict | None:
        resp = self.client.request("GET", f"{self._base()}/{url_segment(uid, 'folder uid')}", ok=(200, 404))
        if resp.status_code == 404:
            return None
        res = self.client.decode(resp)
        meta = res.get("metadata") or {}
        return {"uid": meta.get("name", uid), "title": (res.get("spec") or {}).get("title", ""),
                "parentUid": (meta.get("annotations") or {}).get(FOLDER_ANNOTATION, ""),
                "version": meta.get("resourceVersion")}

    def _body(self, uid: str, title: str, parent: str, rv: str | None = None) -> dict:
        meta: dict = {"name": uid}
        if parent:
            meta["annotations"] = {FOLDER_ANNOTATION: parent}
        if rv:
            meta["resourceVersion"] = rv
        return {"apiVersion": f"{FOLDER_GROUP}/{self.mode.folders}", "kind": "Folder", "metadata": meta,
                "spec": {"title": title}}

    def _post(self, uid: str, title: str, parent: str) -> None:
        self.client.request("POST", self._base(), json_body=self._body(uid, title, parent), ok=(200, 201))

    def _fix(self, remote: dict, title: str, parent: str) -> None:
        uid = remote["uid"]
        self.client.request("PUT", f"{self._base()}/{url_segment(uid, 'folder uid')}",
                            json_body=self._body(uid, title, parent))  # unconditional: the title and parent are ours
