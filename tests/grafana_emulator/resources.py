"""Grafana 12/13's Kubernetes-style resource API (/apis), over the emulator's one store.

Facts as docs/grafana-13.md gives them, from Grafana's source; (uncertain) marks wording
that was not pinned down.

* Discovery: `GET /apis` (APIGroupList), `GET /apis/<group>` (APIGroup), `GET
  /apis/<group>/<version>` (APIResourceList). `GET /api/frontend/settings` carries the
  `namespace` (`default`, or `stacks-<id>` on Grafana Cloud).
* Dashboards: `/apis/dashboard.grafana.app/<v>/namespaces/<ns>/dashboards[/<name>]`, versions
  v0alpha1, v1beta1, v1 (classic JSON in `spec`) and v2beta1, v2 (elements + layout), all over
  the one store the legacy routes use. A resource is `{apiVersion, kind, metadata: {name,
  namespace, uid, resourceVersion, generation, creationTimestamp, annotations, labels}, spec,
  status}`; the folder is the annotation `grafana.app/folder`; id/uid/version are not in the
  spec. A v1/v1beta1 write raises `schemaVersion` to the latest (42); a v0alpha1 write and a
  legacy save store the JSON as posted (as v0alpha1).
* Reading in the other family converts server-side (here with dashgen's offline converter,
  generator.dashv2, the one piece of dashgen the emulator uses) and says so in
  `status.conversion` `{failed, storedVersion[, error]}`.
* Concurrency: `metadata.resourceVersion` (a global counter) must match on a PUT that sends
  one, else 409 Conflict; a create must not carry one (400). `generation` starts at 1 and rises
  only when the spec or the folder changes; so does the legacy `version`, and a history entry
  (message: the `grafana.app/message` annotation) is written only then.
* Ownership annotations (`grafana.app/managedBy`, `managerId`, ...) are stored as sent. A
  resource with both managedBy and managerId is managed: a write naming another manager is
  403 (uncertain wording). The server sets `grafana.app/createdBy`, `updatedBy`,
  `updatedTimestamp`.
* Folders: `/apis/folder.grafana.app/<v>/namespaces/<ns>/folders[/<name>]`, spec `{title,
  description?}`, parent in the `grafana.app/folder` annotation.
* Errors are Kubernetes `Status` objects: `{"kind": "Status", "apiVersion": "v1", "metadata":
  {}, "status": "Failure", "message", "reason", "details": {name, group, kind}, "code"}`.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

DASH_GROUP = "dashboard.grafana.app"
FOLDER_GROUP = "folder.grafana.app"
CLASSIC = ("v0alpha1", "v1alpha1", "v1beta1", "v1")
V2 = ("v2alpha1", "v2beta1", "v2")
MIGRATING = ("v1beta1", "v1")  # writes through these raise schemaVersion to the latest
FOLDER_ANNOTATION = "grafana.app/folder"
MESSAGE_ANNOTATION = "grafana.app/message"
MANAGED_BY, MANAGER_ID = "grafana.app/managedBy", "grafana.app/managerId"
ALLOWS_EDITS = "grafana.app/managerAllowsEdits"
#: Annotations the server owns: whatever a client sends for them is replaced.
SERVER_ANNOTATIONS = ("grafana.app/createdBy", "grafana.app/updatedBy", "grafana.app/updatedTimestamp")


def _converter():
    """generator.dashv2 (the repository root on sys.path, as in tests and the bench)."""
    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    import generator.dashv2 as dashv2
    return dashv2


class Status(Exception):
    """A Kubernetes Status failure."""

    def __init__(self, code: int, reason: str, message: str, name: str = "", group: str = DASH_GROUP,
                 kind: str = "dashboards"):
        self.status, self.content_type = code, "application/json"
        self.body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
                     "reason": reason, "details": {"name": name, "group": group, "kind": kind} if name else
                     {"group": group, "kind": kind}, "code": code}


def not_found(name: str, group: str = DASH_GROUP, kind: str = "dashboards") -> Status:
    return Status(404, "NotFound", f'{kind}.{group} "{name}" not found', name, group, kind)


def discovery(profile) -> dict:
    """GET /apis: the groups this server serves."""
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group_doc(profile, g)
                                                                   for g in (DASH_GROUP, FOLDER_GROUP)
                                                                   if served(profile, g)]}


def served(profile, group: str) -> tuple[str, ...]:
    return profile.dashboard_versions if group == DASH_GROUP else profile.folder_versions


def group_doc(profile, group: str) -> dict:
    versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in served(profile, group)]
    # Kubernetes lists the preferred version first; Grafana prefers v1 (classic) for dashboards
    preferred = next((v for want in ("v1", "v1beta1") for v in versions if v["version"] == want), versions[0])
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": versions,
            "preferredVersion": preferred}


def resource_list(group: str, version: str) -> dict:
    kind, plural = ("Dashboard", "dashboards") if group == DASH_GROUP else ("Folder", "folders")
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}", "resources": [
        {"name": plural, "singularName": kind.lower(), "namespaced": True, "kind": kind,
         "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]}


class Resources:
    """The /apis routes of one emulator (`emu`): dashboards and folders."""

    def __init__(self, emu):
        self.emu = emu

    # --- routing -------------------------------------------------------------------------
    def route(self, handler, user, method: str, segs: list[str], query: dict, body):
        profile = self.emu.profile
        if not segs:
            return 200, discovery(profile), "application/json"
        group = segs[0]
        if group not in (DASH_GROUP, FOLDER_GROUP) or not served(profile, group):
            raise Status(404, "NotFound", "the server could not find the requested resource", group=group, kind="")
        if len(segs) == 1:
            return 200, group_doc(profile, group), "application/json"
        version = segs[1]
        if version not in served(profile, group):
            raise Status(404, "NotFound", "the server could not find the requested resource", group=group, kind="")
        if len(segs) == 2:
            return 200, resource_list(group, version), "application/json"
        plural = "dashboards" if group == DASH_GROUP else "folders"
        if len(segs) not in (5, 6) or segs[2] != "namespaces" or segs[4] != plural:
            raise Status(404, "NotFound", "the server could not find the requested resource", group=group, kind="")
        ns = segs[3]
        if ns != profile.namespace:  # (uncertain) a token of one stack asking for another namespace
            raise Status(403, "Forbidden", f'{plural}.{group} is forbidden: namespace mismatch', group=group,
                         kind=plural)
        name = segs[5] if len(segs) == 6 else None
        if body is ValueError:
            raise Status(400, "BadRequest", "the body of the request was in an unknown format", group=group,
                         kind=plural)
        if group == DASH_GROUP:
            return self.dashboards(handler, user, method, version, name, query, body)
        return self.folders(handler, user, method, version, name, query, body)

    # --- dashboards ----------------------------------------------------------------------
    def dashboards(self, handler, user, method, version, name, query, body):
        emu = self.emu
        if method == "GET" and name is None:
            handler.need(user, "dashboards:read")
            return 200, self.listing(version, query), "application/json"
        if method == "GET":
            handler.need(user, "dashboards:read")
            record = emu.dashboards.get(name)
            if record is None:
                raise not_found(name)
            return 200, self.dashboard_resource(record, version), "application/json"
        if method == "POST" and name is None:
            handler.need(user, "dashboards:create")
            return 201, self.write_dashboard(user.name, version, None, body), "application/json"
        if method == "PUT" and name is not None:
            handler.need(user, "dashboards:write")
            return 200, self.write_dashboard(user.name, version, name, body), "application/json"
        if method == "DELETE" and name is not None:
            handler.need(user, "dashboards:delete")
            record = emu.dashboards.get(name)
            if record is None:
                raise not_found(name)
            del emu.dashboards[name]
            emu.versions.pop(name, None)
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                         "details": {"name": name, "group": DASH_GROUP, "kind": "dashboards",
                                     "uid": record["k8s_uid"]}}, "application/json"
        raise Status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def listing(self, version: str, query: dict, folders: bool = False) -> dict:
        """Every item, by name, `limit` at a time with a `continue` token (an offset here)."""
        emu = self.emu
        store = emu.folders if folders else emu.dashboards
        names = sorted(store)
        try:
            start = int(query.get("continue", ["0"])[0] or 0)
            limit = int(query.get("limit", ["0"])[0] or 0)
        except ValueError:
            raise Status(400, "BadRequest", "invalid continue or limit") from None
        chosen = names[start:start + limit] if limit > 0 else names[start:]
        items = [self.folder_resource(store[n], version) if folders else self.dashboard_resource(store[n], version)
                 for n in chosen]
        meta = {"resourceVersion": str(emu.resource_version)}
        if limit > 0 and start + limit < len(names):
            meta["continue"] = str(start + limit)
        kind = "FolderList" if folders else "DashboardList"
        group = FOLDER_GROUP if folders else DASH_GROUP
        return {"kind": kind, "apiVersion": f"{group}/{version}", "metadata": meta, "items": items}

    def dashboard_resource(self, record: dict, version: str) -> dict:
        stored = record.get("stored", "v0alpha1")
        status: dict = {}
        if (version in V2) == (stored in V2):
            spec = copy.deepcopy(record["v2spec"] if stored in V2 else self.classic_spec(record))
        else:
            status["conversion"] = {"failed": False, "storedVersion": stored}
            try:
                dashv2 = _converter()
                if version in V2:
                    spec, _ = dashv2.to_v2({**self.classic_spec(record), "uid": record["uid"]})
                else:
                    spec, _ = dashv2.to_classic(record["v2spec"], uid=record["uid"])
                    spec = {k: v for k, v in spec.items() if k not in ("id", "uid", "version")}
            except Exception as exc:  # what Grafana does when its conversion fails: say so, empty spec
                status["conversion"].update(failed=True, error=str(exc)[:200])
                spec = {}
        out = {"apiVersion": f"{DASH_GROUP}/{version}", "kind": "Dashboard", "metadata": self.metadata(record),
               "spec": spec}
        if status:
            out["status"] = status
        return out

    @staticmethod
    def classic_spec(record: dict) -> dict:
        return {k: v for k, v in record["data"].items() if k not in ("id", "uid", "version")}

    def metadata(self, record: dict, folder: str | None = None) -> dict:
        emu = self.emu
        annotations = dict(record.get("annotations") or {})
        annotations.update({"grafana.app/createdBy": f"service-account:{record['createdBy']}",
                            "grafana.app/updatedBy": f"service-account:{record['updatedBy']}",
                            "grafana.app/updatedTimestamp": record["updated"]})
        parent = record.get("folderUid", "") if folder is None else folder
        if parent:
            annotations[FOLDER_ANNOTATION] = parent
        else:
            annotations.pop(FOLDER_ANNOTATION, None)
        return {"name": record["uid"], "namespace": emu.profile.namespace, "uid": record["k8s_uid"],
                "resourceVersion": str(record["rv"]), "generation": record["generation"],
                "creationTimestamp": record["created"], "annotations": annotations,
                "labels": dict(record.get("labels") or {})}

    def check_body(self, body, version: str, name: str | None, group: str = DASH_GROUP,
                   kind: str = "Dashboard", plural: str = "dashboards") -> tuple[dict, dict, str]:
        """(metadata, spec, name) of a write's body, or a 400 Status naming what is wrong."""
        if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict) or \
                not isinstance(body.get("spec"), dict):
            raise Status(400, "BadRequest", f"{kind} must have metadata and spec objects", group=group, kind=plural)
        expected = f"{group}/{version}"
        if body.get("apiVersion", expected) != expected:
            raise Status(400, "BadRequest", f"the API version in the data ({body.get('apiVersion')}) does not match "
                                            f"the expected API version ({expected})", group=group, kind=plural)
        if body.get("kind", kind) != kind:
            raise Status(400, "BadRequest", f"the kind in the data ({body.get('kind')}) does not match the expected "
                                            f"kind ({kind})", group=group, kind=plural)
        meta = body["metadata"]
        given = meta.get("name")
        if name is None:
            if not given and meta.get("generateName"):
                given = f"{meta['generateName']}{self.emu.next_id():08d}"
            if not isinstance(given, str) or not given:
                raise Status(400, "BadRequest", "name or generateName is required", group=group, kind=plural)
            if meta.get("resourceVersion"):
                raise Status(400, "BadRequest", "resourceVersion should not be set on objects to be created",
                             given, group, plural)
        elif given not in (None, name):
            raise Status(400, "BadRequest", f"the name of the object ({given}) does not match the name on the URL "
                                            f"({name})", name, group, plural)
        name = name or given
        from grafana_emulator.server import ApiError, check_uid  # one uid rule for both APIs
        try:
            check_uid(name)
        except ApiError as exc:
            raise Status(400, "BadRequest", exc.body["message"], name, group, plural) from None
        return meta, body["spec"], name

    def write_dashboard(self, user: str, version: str, name: str | None, body) -> dict:
        """A create (`name` None: POST to the collection) or an update (PUT to `name`)."""
        emu = self.emu
        update = name is not None
        meta, spec, name = self.check_body(body, version, name)
        record = emu.dashboards.get(name)
        if update and record is None:
            raise not_found(name)
        if not update and (record is not None or name in emu.folders):
            raise Status(409, "AlreadyExists", f'dashboards.{DASH_GROUP} "{name}" already exists', name)
        if version in V2:
            if not isinstance(spec.get("elements"), dict) or not isinstance(spec.get("layout"), dict):
                raise Status(400, "BadRequest", "spec is not a v2 dashboard: elements and layout are required", name)
        elif "elements" in spec or "layout" in spec:
            raise Status(400, "BadRequest", "dashboard appears to be in v2 format; use the v2 API "
                                            f"(/apis/{DASH_GROUP}/v2/...)", name)
        title = str(spec.get("title") or "").strip()
        if not title:
            raise Status(400, "BadRequest", "Dashboard spec is missing required title property", name)
        annotations = {k: str(v) for k, v in (meta.get("annotations") or {}).items()
                       if k not in SERVER_ANNOTATIONS}
        folder = annotations.pop(FOLDER_ANNOTATION, "")
        if folder and folder not in emu.folders:
            raise Status(400, "BadRequest", "folder not found", name)
        spec = copy.deepcopy(spec)
        spec["title"] = title
        for k in ("id", "uid", "version"):
            spec.pop(k, None)
        if version in MIGRATING and (not isinstance(spec.get("schemaVersion"), int)
                                     or spec["schemaVersion"] < emu.profile.latest_schema):
            spec["schemaVersion"] = emu.profile.latest_schema
        return self._store_dashboard(user, version, name, meta, spec, annotations, folder, record)

    def _store_dashboard(self, user, version, name, meta, spec, annotations, folder, record) -> dict:
        emu = self.emu
        t = emu_now()
        stored = "v0alpha1" if version == "v1alpha1" else version
        if record is None:
            record = {"id": emu.next_id(), "uid": name, "k8s_uid": f"{emu.next_id():08x}-k8s", "version": 0,
                      "generation": 0, "created": t, "createdBy": user, "updated": t, "updatedBy": user,
                      "folderUid": "", "annotations": {}, "labels": {}}
            parent_version, changed = 0, True
        else:
            rv = meta.get("resourceVersion")
            if rv not in (None, "") and str(rv) != str(record["rv"]):
                raise Status(409, "Conflict", f'Operation cannot be fulfilled on dashboards.{DASH_GROUP} "{name}": '
                                              "the object has been modified; please apply your changes to the "
                                              "latest version and try again", name)
            old = record.get("annotations") or {}
            if old.get(MANAGED_BY) and old.get(MANAGER_ID) and \
                    (annotations.get(MANAGED_BY), annotations.get(MANAGER_ID)) != (old[MANAGED_BY], old[MANAGER_ID]):
                raise Status(403, "Forbidden", f"dashboard {name} is managed by {old[MANAGED_BY]}:{old[MANAGER_ID]}; "
                                               "it cannot be changed by another manager (uncertain wording)", name)
            before = record["v2spec"] if record.get("stored") in V2 else self.classic_spec(record)
            changed = before != spec or (record.get("stored") in V2) != (stored in V2) or record["folderUid"] != folder
            parent_version = record["version"]
        if changed:
            record["generation"] += 1
            record["version"] += 1
        message = annotations.pop(MESSAGE_ANNOTATION, "")  # kept in the history entry, not on the object
        record.update(stored=stored, folderUid=folder, annotations=annotations, labels=dict(meta.get("labels") or {}),
                      updated=t, updatedBy=user, rv=emu.next_resource_version())
        if stored in V2:
            record["v2spec"] = spec
            try:
                classic, _ = _converter().to_classic(spec, uid=name)
            except Exception:
                classic = {"title": spec.get("title", name)}
            record["data"] = {**{k: v for k, v in classic.items() if k not in ("id", "uid", "version")},
                              "id": record["id"], "uid": name, "version": record["version"]}
        else:
            record.pop("v2spec", None)
            record["data"] = {**spec, "id": record["id"], "uid": name, "version": record["version"]}
        emu.dashboards[name] = record
        if changed:
            emu.versions.setdefault(name, []).append({
                "id": emu.next_id(), "dashboardId": record["id"], "uid": name, "parentVersion": parent_version,
                "restoredFrom": 0, "version": record["version"], "created": t, "createdBy": user,
                "message": message, "data": copy.deepcopy(record["data"])})
        return self.dashboard_resource(record, version)

    # --- folders -------------------------------------------------------------------------
    def folder_resource(self, f: dict, version: str) -> dict:
        annotations = dict(f.get("annotations") or {})
        annotations.update({"grafana.app/createdBy": f"service-account:{f['createdBy']}",
                            "grafana.app/updatedBy": f"service-account:{f['updatedBy']}",
                            "grafana.app/updatedTimestamp": f["updated"]})
        if f.get("parentUid"):
            annotations[FOLDER_ANNOTATION] = f["parentUid"]
        spec = {"title": f["title"]}
        if f.get("description"):
            spec["description"] = f["description"]
        return {"apiVersion": f"{FOLDER_GROUP}/{version}", "kind": "Folder",
                "metadata": {"name": f["uid"], "namespace": self.emu.profile.namespace, "uid": f"{f['id']:08x}-k8s",
                             "resourceVersion": str(f.setdefault("rv", self.emu.next_resource_version())),
                             "generation": f["version"], "creationTimestamp": f["created"],
                             "annotations": annotations, "labels": {}},
                "spec": spec}

    def folders(self, handler, user, method, version, name, query, body):
        emu = self.emu
        if method == "GET" and name is None:
            handler.need(user, "folders:read")
            return 200, self.listing(version, query, folders=True), "application/json"
        if name is not None and method in ("GET", "PUT", "DELETE") and name not in emu.folders:
            raise not_found(name, FOLDER_GROUP, "folders")
        if method == "GET":
            handler.need(user, "folders:read")
            return 200, self.folder_resource(emu.folders[name], version), "application/json"
        if method == "POST" and name is None:
            handler.need(user, "folders:create")
            meta, spec, name = self.check_body(body, version, None, FOLDER_GROUP, "Folder", "folders")
            if name in emu.folders or name in emu.dashboards:
                raise Status(409, "AlreadyExists", f'folders.{FOLDER_GROUP} "{name}" already exists', name,
                             FOLDER_GROUP, "folders")
            parent = str((meta.get("annotations") or {}).get(FOLDER_ANNOTATION) or "")
            from grafana_emulator.server import ApiError
            try:
                f = emu.create_folder({"uid": name, "title": spec.get("title"), "parentUid": parent}, user.name)
            except ApiError as exc:
                raise Status(exc.status, "BadRequest" if exc.status == 400 else "NotFound",
                             exc.body.get("message", "invalid folder"), name, FOLDER_GROUP, "folders") from None
            f["rv"] = emu.next_resource_version()
            return 201, self.folder_resource(f, version), "application/json"
        if method == "PUT":
            handler.need(user, "folders:write")
            meta, spec, name = self.check_body(body, version, name, FOLDER_GROUP, "Folder", "folders")
            f = emu.folders[name]
            rv = meta.get("resourceVersion")
            if rv not in (None, "") and str(rv) != str(f.get("rv")):
                raise Status(409, "Conflict", f'Operation cannot be fulfilled on folders.{FOLDER_GROUP} "{name}": '
                                              "the object has been modified; please apply your changes to the "
                                              "latest version and try again", name, FOLDER_GROUP, "folders")
            title = str(spec.get("title") or "").strip()
            if not title:
                raise Status(400, "BadRequest", "folder title cannot be empty", name, FOLDER_GROUP, "folders")
            parent = str((meta.get("annotations") or {}).get(FOLDER_ANNOTATION) or "")
            if parent == name:
                raise Status(400, "BadRequest", "folder cannot be parent of itself", name, FOLDER_GROUP, "folders")
            if parent and parent not in emu.folders:
                raise not_found(parent, FOLDER_GROUP, "folders")
            if (title, parent) != (f["title"], f.get("parentUid", "")):
                f.update(title=title, parentUid=parent, version=f["version"] + 1)
            f.update(updated=emu_now(), updatedBy=user.name, rv=emu.next_resource_version())
            return 200, self.folder_resource(f, version), "application/json"
        if method == "DELETE":
            handler.need(user, "folders:delete")
            doomed = [u for u in emu.folders if handler._under(u, name)]
            if any(emu.converted.get(u) for u in doomed) or \
                    any(rec["folderUid"] in doomed for rec in emu.dashboards.values()):
                raise Status(400, "BadRequest", "Folder cannot be deleted: folder is not empty", name,
                             FOLDER_GROUP, "folders")
            for u in doomed:
                emu.folders.pop(u, None)
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                         "details": {"name": name, "group": FOLDER_GROUP, "kind": "folders"}}, "application/json"
        raise Status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                     group=FOLDER_GROUP, kind="folders")


def emu_now() -> str:
    from grafana_emulator.server import now
    return now()
