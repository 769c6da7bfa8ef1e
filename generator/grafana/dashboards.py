"""Dashboard handler: get, save, delete, search and version history, by uid only.

Remote dashboards are compared with local ones after `normalize_dashboard`, the same
function that writes rendered/, so "unchanged" means exactly "renders to the same file".

Drift guard (how dashgen knows a dashboard was changed in Grafana since it last wrote it):
every save carries a version message `dashgen <version> commit <sha> dashgen-sha256=<h>`,
where <h> is the hash of the normalised dashboard written. Later, when the remote content
differs from the local one, the latest version's message is read: if it carries a mark and
the remote content still hashes to it, nobody has touched the dashboard since, and the update
goes ahead with Grafana's own optimistic lock (the seen `version`, `overwrite:false`, so an
edit in between answers 409/412). Otherwise (a UI save, a restore, another tool, no mark)
the dashboard has drifted and is not overwritten without --force.

The version listing rewrites the first version's message to "Initial save" (grafana-api.md
§4.7), so for a dashboard still at its first version the single-version endpoint is read
instead. Both shapes of the listing (bare array, `{"versions": [...]}`) are accepted.

Whether the single-version endpoint rewrites too is not pinned down, so the same hash also
travels inside the saved JSON as `"__dashgen": {"sha256": <h>}` (Grafana stores dashboard
JSON as posted). It is read first, stripped before normalising (so it never shows in a
comparison, a diff or `pull`), and survives a UI save in some Grafana versions but not in
others (Scenes rebuilds the JSON); either way it is compared with the content, so a UI edit
that kept it is still drift. When it is absent, the version history decides.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from generator.grafana.client import GrafanaAPIError, GrafanaClient

from generator.normalize import dumps, normalize_dashboard

MARK = "dashgen-sha256="
EMBEDDED = "__dashgen"  # top-level key carrying {"sha256": <hash>} in the saved JSON
MARK_RE = re.compile(re.escape(MARK) + r"([0-9a-f]{16,64})")


def canonical(d: dict) -> str:
    """The rendered-file text of a dashboard: exactly what `dashgen render` writes."""
    return dumps(d)


def content_hash(normalised: dict) -> str:
    return hashlib.sha256(json.dumps(normalised, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def save_message(normalised: dict, tool_version: str, commit: str) -> str:
    return f"dashgen {tool_version} commit {commit} {MARK}{content_hash(normalised)}"[:500]


def recorded_hash(message: str | None) -> str | None:
    m = MARK_RE.search(message or "")
    return m.group(1) if m else None


@dataclass
class RemoteDashboard:
    uid: str
    dashboard: dict  # normalised
    version: int
    folder_uid: str
    title: str
    embedded_mark: str | None = None  # the hash dashgen put in the JSON, if it is still there


@dataclass
class VersionInfo:
    version: int
    message: str
    created_by: str
    created: str

    @property
    def mark(self) -> str | None:
        return recorded_hash(self.message)


class DashboardHandler:
    kind = "dashboard"

    def __init__(self, client: GrafanaClient):
        self.client = client

    def fetch(self, uid: str, expected: dict | None = None) -> RemoteDashboard | None:
        """The remote dashboard, normalised. `expected` (a normalised dashboard) is a fast
        path: when the stored JSON is exactly it plus server-set fields, as after dashgen's
        own save, normalising is skipped (normalize is idempotent, so the result is equal)."""
        resp = self.client.request("GET", f"/api/dashboards/uid/{uid}", ok=(200, 404))
        if resp.status_code == 404:
            return None
        body = self.client.decode(resp)
        raw, meta = body.get("dashboard") or {}, body.get("meta") or {}
        version = raw.get("version") if isinstance(raw.get("version"), int) else meta.get("version", 0)
        embedded = raw.get(EMBEDDED)
        mark = embedded.get("sha256") if isinstance(embedded, dict) else None
        stripped = {k: v for k, v in raw.items() if k not in ("id", "version", EMBEDDED)}
        normalised = expected if expected is not None and stripped == expected else normalize_dashboard(stripped)
        return RemoteDashboard(uid=uid, dashboard=normalised, version=version or 0,
                               folder_uid=meta.get("folderUid") or "", title=raw.get("title", ""),
                               embedded_mark=mark if isinstance(mark, str) else None)

    def latest_version(self, uid: str) -> VersionInfo | None:
        resp = self.client.request("GET", f"/api/dashboards/uid/{uid}/versions", params={"limit": 1}, ok=(200, 404))
        if resp.status_code == 404:
            return None
        body = self.client.decode(resp, (dict, list))
        items = body.get("versions", []) if isinstance(body, dict) else body
        if not items:
            return None
        top = max(items, key=lambda v: v.get("version", 0))
        if top.get("parentVersion", 0) == 0 and not recorded_hash(top.get("message")):
            # the listing says "Initial save" whatever was posted; the single version does not
            one = self.client.request("GET", f"/api/dashboards/uid/{uid}/versions/{top['version']}", ok=(200, 404))
            if one.status_code == 200:
                top = {**top, "message": self.client.decode(one).get("message", top.get("message"))}
        return VersionInfo(int(top.get("version", 0)), str(top.get("message") or ""),
                           str(top.get("createdBy") or "?"), str(top.get("created") or ""))

    def last_mark(self, uid: str, limit: int = 50) -> VersionInfo | None:
        """The newest of the last `limit` versions that dashgen wrote (carries its mark)."""
        resp = self.client.request("GET", f"/api/dashboards/uid/{uid}/versions", params={"limit": limit}, ok=(200, 404))
        if resp.status_code == 404:
            return None
        body = self.client.decode(resp, (dict, list))
        items = sorted(body.get("versions", []) if isinstance(body, dict) else body,
                       key=lambda v: v.get("version", 0), reverse=True)
        for v in items:
            if recorded_hash(v.get("message")) is None and v.get("parentVersion", 0) == 0:
                one = self.client.request("GET", f"/api/dashboards/uid/{uid}/versions/{v['version']}", ok=(200, 404))
                if one.status_code == 200:
                    v = {**v, "message": self.client.decode(one).get("message", "")}
            if recorded_hash(v.get("message")):
                return VersionInfo(int(v.get("version", 0)), str(v["message"]), str(v.get("createdBy") or "?"),
                                   str(v.get("created") or ""))
        return None

    def save(self, dashboard: dict, folder_uid: str, message: str, *, version: int | None) -> dict:
        """Create or update. With `version` the save is drift-safe (`overwrite:false`: a
        conflict raises 409/412); without it, the save overwrites (`--force`, or a create)."""
        body = {k: v for k, v in dashboard.items() if k != "id"}
        body[EMBEDDED] = {"sha256": content_hash(dashboard)}
        if version is not None:
            body["version"] = version
        else:
            body.pop("version", None)
        payload = {"dashboard": body, "folderUid": folder_uid, "message": message,
                   "overwrite": version is None}
        return self.client.decode(self.client.request("POST", "/api/dashboards/db", json_body=payload))

    def create(self, dashboard: dict, folder_uid: str, message: str) -> dict:
        """A create that refuses to clobber: no version, `overwrite:false` (a uid that
        appeared meanwhile answers 409/412)."""
        body = {k: v for k, v in dashboard.items() if k not in ("id", "version")}
        body[EMBEDDED] = {"sha256": content_hash(dashboard)}
        payload = {"dashboard": body, "folderUid": folder_uid, "message": message, "overwrite": False}
        return self.client.decode(self.client.request("POST", "/api/dashboards/db", json_body=payload))

    def delete(self, uid: str) -> None:
        try:
            self.client.request("DELETE", f"/api/dashboards/uid/{uid}")
        except GrafanaAPIError as exc:
            if exc.status != 404:  # already gone (a retried delete that landed): fine
                raise

    def in_folder(self, folder_uid: str) -> list[dict]:
        """Search hits for the dashboards directly in `folder_uid` (every page)."""
        hits, page = [], 1
        while True:
            batch = self.client.get_json("/api/search", list, params={"type": "dash-db", "folderUIDs": folder_uid,
                                                                "limit": 1000, "page": page})
            hits.extend(h for h in batch if (h.get("folderUid") or "") == folder_uid)
            if len(batch) < 1000:
                return hits
            page += 1
