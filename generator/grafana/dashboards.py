"""Dashboard handler: get, save, delete, search and version history, by uid only.

Remote dashboards are compared with local ones after `normalize_dashboard`, the same
function that writes rendered/, so "unchanged" means exactly "renders to the same file".

Drift guard (how dashgen knows a dashboard was changed in Grafana since it last wrote it):
every save carries a version message `dashgen <version> commit <sha> dashgen-sha256=<h>`,
where <h> is the hash of the dashboard JSON exactly as dashgen sent it (without `id` and
`version`, which the server sets). Later, when the remote content differs from the local
one, the latest version's message is read: if it carries a mark and the JSON Grafana stores
(it keeps what was posted) still hashes to it, nobody has touched the dashboard since, and the update
goes ahead with Grafana's own optimistic lock (the seen `version`, `overwrite:false`, so an
edit in between answers 409/412). Otherwise (a UI save, a restore, another tool, no mark)
the dashboard has drifted and is not overwritten without --force.

The mark is a hash of the JSON as sent, not of the normaliser's view of it, so a newer
dashgen whose normaliser reads the same stored JSON differently sees no drift. (Marks written
before this were the hash of the normalised dashboard, which is the same JSON dashgen sent, so
they verify the same way; the normalised view's hash is accepted as well, for a server that
adds a field to what it stores.)

The version listing rewrites the first version's message to "Initial save", so for a dashboard still at its first version the single-version endpoint is read
instead. Both shapes of the listing (bare array, `{"versions": [...]}`) are accepted.

Whether the single-version endpoint rewrites too is not pinned down, so the same hash also
travels inside the saved JSON as `"__dashgen": {"sha256": <h>}` (Grafana stores dashboard
JSON as posted). It is read first, stripped before normalising (so it never shows in a
comparison, a diff or `pull`), and survives a UI save in some Grafana versions but not in
others (Scenes rebuilds the JSON); either way it is compared with the content, so a UI edit
that kept it is still drift. When it is absent, the version history decides.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field

from generator import __version__
from generator.grafana.client import GrafanaAPIError, GrafanaClient
from generator.grafana.handler import (
    CREATE, DRIFTED, FOREIGN, PRUNE, UNCHANGED, UPDATE, Item, Run, Step, done, drifted, prune,
)
from generator.normalize import dumps, normalize_dashboard
from generator.safenames import url_segment

MARK = "dashgen-sha256="
EMBEDDED = "__dashgen"  # top-level key carrying {"sha256": <hash>} in the saved JSON
MARK_RE = re.compile(re.escape(MARK) + r"([0-9a-f]{16,64})")


DIFF_LINES = 60


def unified(remote: dict | None, local: dict | None, uid: str) -> str:
    """remote-vs-local diff of two normalised dashboards as rendered files, at most DIFF_LINES."""
    a = dumps(remote).splitlines(keepends=True) if remote is not None else []
    b = dumps(local).splitlines(keepends=True) if local is not None else []
    lines = list(difflib.unified_diff(a, b, f"remote/{uid}", f"local/{uid}", n=2))
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"... ({len(lines) - DIFF_LINES} more diff lines)\n"]
    return "".join(lines)


#: Top-level fields the server sets on what it stores; never part of the mark.
SERVER_SET = ("id", "version", EMBEDDED)


def content_hash(dashboard: dict) -> str:
    return hashlib.sha256(json.dumps(dashboard, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


def sent(dashboard: dict) -> dict:
    """The dashboard JSON as posted (and as Grafana stores it), minus the server-set fields."""
    return {k: v for k, v in dashboard.items() if k not in SERVER_SET}


def sent_hash(dashboard: dict) -> str:
    """The drift mark: the hash of what dashgen sends, independent of the normaliser."""
    return content_hash(sent(dashboard))


def save_message(dashboard: dict, tool_version: str, commit: str) -> str:
    return f"dashgen {tool_version} commit {commit} {MARK}{sent_hash(dashboard)}"[:500]


def recorded_hash(message: str | None) -> str | None:
    m = MARK_RE.search(message or "")
    return m.group(1) if m else None


def _uid_path(uid: str, *rest) -> str:
    """/api/dashboards/uid/<uid>[/<rest>...]: each part one percent-encoded segment, never '..'."""
    return "/".join(["/api/dashboards/uid", url_segment(uid, "dashboard uid"),
                     *(url_segment(part, "dashboard path part") for part in rest)])


@dataclass
class RemoteDashboard:
    uid: str
    dashboard: dict  # normalised
    version: int
    folder_uid: str
    title: str
    embedded_mark: str | None = None  # the hash dashgen put in the JSON, if it is still there
    lock: int | str | None = None  # what a drift-safe write sends back: version, or resourceVersion
    annotations: dict = field(default_factory=dict)  # metadata.annotations (resource API)
    stored_v2: bool = False  # Grafana keeps it as a v2 dashboard (saved from dynamic dashboards)
    updated_by: str = ""  # grafana.app/updatedBy, when the server says
    unreadable: str = ""  # why `dashboard` could not be read (legacy 406 of a v2 dashboard)
    stored_hash: str = ""  # sent_hash of the JSON as Grafana stores it (before normalising)

    def hashes(self) -> set[str]:
        """What a dashgen mark must equal for the content to be as dashgen sent it."""
        return {self.stored_hash, content_hash(self.dashboard)} - {""}


@dataclass
class VersionInfo:
    version: int
    message: str
    created_by: str
    created: str

    @property
    def mark(self) -> str | None:
        return recorded_hash(self.message)


class DashboardAPI:
    def __init__(self, client: GrafanaClient):
        self.client = client

    def as_stored(self, normalised: dict) -> dict:
        """What the server keeps of `normalised` (the legacy routes keep it as posted)."""
        return normalised

    def prefetch(self) -> None:
        """Read what plan will fetch in one go where the API allows it (the resource API's list)."""

    def fetch(self, uid: str, expected: dict | None = None) -> RemoteDashboard | None:
        """The remote dashboard, normalised. `expected` (a normalised dashboard) is a fast
        path: when the stored JSON is exactly it plus server-set fields, as after dashgen's
        own save, normalising is skipped (normalize is idempotent, so the result is equal)."""
        resp = self.client.request("GET", _uid_path(uid), ok=(200, 404, 406))
        if resp.status_code == 404:
            return None
        if resp.status_code == 406:  # stored as v2: only the /apis routes can read it
            why = str((self.client.decode(resp) if resp.text.strip().startswith("{") else {}).get("message")
                      or "dashboard api version not supported")
            return RemoteDashboard(uid=uid, dashboard={}, version=0, folder_uid="", title=uid, stored_v2=True,
                                   unreadable=f"Grafana answered 406 ({self.client.scrub(why)[:200]})")
        body = self.client.decode(resp)
        raw, meta = body.get("dashboard") or {}, body.get("meta") or {}
        version = raw.get("version") if isinstance(raw.get("version"), int) else meta.get("version", 0)
        embedded = raw.get(EMBEDDED)
        mark = embedded.get("sha256") if isinstance(embedded, dict) else None
        stripped = sent(raw)
        normalised = expected if expected is not None and stripped == expected else normalize_dashboard(stripped)
        return RemoteDashboard(uid=uid, dashboard=normalised, version=version or 0,
                               folder_uid=meta.get("folderUid") or "", title=raw.get("title", ""),
                               embedded_mark=mark if isinstance(mark, str) else None, lock=version or 0,
                               stored_hash=content_hash(stripped))

    def _versions(self, uid: str, limit: int) -> list[dict]:
        """The newest `limit` versions, newest first; [] when the dashboard is gone."""
        resp = self.client.request("GET", _uid_path(uid, "versions"), params={"limit": limit}, ok=(200, 404))
        if resp.status_code == 404:
            return []
        body = self.client.decode(resp, (dict, list))
        return sorted(body.get("versions", []) if isinstance(body, dict) else body,
                      key=lambda v: v.get("version", 0), reverse=True)

    def _posted(self, uid: str, v: dict) -> dict:
        """`v` with the message that was posted: the listing says "Initial save" for a first
        version whatever was posted; the single-version endpoint does not."""
        if v.get("parentVersion", 0) == 0 and not recorded_hash(v.get("message")):
            one = self.client.request("GET", _uid_path(uid, "versions", v["version"]), ok=(200, 404))
            if one.status_code == 200:
                v = {**v, "message": self.client.decode(one).get("message", v.get("message"))}
        return v

    @staticmethod
    def _info(v: dict) -> VersionInfo:
        return VersionInfo(int(v.get("version", 0)), str(v.get("message") or ""), str(v.get("createdBy") or "?"),
                           str(v.get("created") or ""))

    def latest_version(self, uid: str) -> VersionInfo | None:
        versions = self._versions(uid, 1)
        return self._info(self._posted(uid, versions[0])) if versions else None

    def last_mark(self, uid: str, limit: int = 50) -> VersionInfo | None:
        """The newest of the last `limit` versions that dashgen wrote (carries its mark)."""
        for v in self._versions(uid, limit):
            v = self._posted(uid, v)
            if recorded_hash(v.get("message")):
                return self._info(v)
        return None

    def save(self, dashboard: dict, folder_uid: str, message: str, *, version: int | None,
             overwrite: bool | None = None) -> dict:
        """Create or update. With `version` the save is drift-safe (`overwrite:false`: a
        conflict raises 409/412); without it, the save overwrites (`--force`), unless
        `overwrite=False`: a create that refuses to clobber (a uid that appeared meanwhile
        answers 409/412)."""
        body = sent(dashboard)
        body[EMBEDDED] = {"sha256": content_hash(body)}
        if version is not None:
            body["version"] = version
        payload = {"dashboard": body, "folderUid": folder_uid, "message": message,
                   "overwrite": version is None if overwrite is None else overwrite}
        return self.client.decode(self.client.request("POST", "/api/dashboards/db", json_body=payload))

    def delete(self, uid: str) -> None:
        """404: already gone (a retried delete that had landed), which is done too."""
        self.client.request("DELETE", _uid_path(uid), ok=(200, 404))

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


class Dashboards:
    """Handler for the dashboards in dashgen's folder (see handler.py).

    Plan per dashboard: absent -> create | same content and folder -> unchanged |
    different -> untouched since dashgen wrote it (the mark, above): update with the seen
    version | else drifted: refused with a remote-vs-local diff (or overwritten with --force).
    A 409/412 on save is checked once more: if what is there now is exactly what we sent (a
    retried request that had landed), the item succeeded; otherwise it drifted meanwhile.

    Prune candidates are the dashboards directly in dashgen's folder: deleted only if
    dashgen wrote them (their history or JSON carries dashgen's hash, which covers the uid,
    so a "Save as" copy never qualifies) and nobody changed them since (else --force)."""

    kind = "dashboard"

    def __init__(self, run: Run, local: dict[str, dict], sources: dict[str, str] | None = None):
        from generator.grafana.apis import LEGACY, dashboard_api, manager_for  # apis builds on this module
        self.run = run
        self.manager = manager_for(run.env, sources)  # sources: uid -> file, for grafana.app/sourcePath
        self.api = dashboard_api(run.client, run.apis or LEGACY, self.manager,
                                 getattr(run.env, "dashboard_format", "classic"))
        self.local = {uid: self.api.as_stored(d) for uid, d in local.items()}
        self.where = f"folder {run.env.folder!r}"
        self.titles: dict[str, str] = {}

    def local_keys(self) -> list[str]:
        return sorted(self.local)

    def remote_keys(self) -> list[str]:
        if self.run.folder_missing:  # nothing can be in a folder just made; the rest may be elsewhere
            self.api.prefetch()
            hits = []
        else:
            hits = self.api.in_folder(self.run.folder_uid)
        self.titles = {h["uid"]: h.get("title", h["uid"]) for h in hits}
        return [h["uid"] for h in hits]

    def plan(self, uid: str) -> Step:
        local = self.local.get(uid)
        if local is None:
            return self._plan_prune(uid)
        run, title = self.run, local.get("title", uid)
        remote = self.api.fetch(uid, expected=local)
        message = save_message(local, __version__, run.commit)
        if remote is None:  # a create refuses to clobber: a uid that appeared meanwhile is a conflict
            item = Item(self.kind, uid, CREATE, detail=title)
            return Step(item, lambda: self._save(item, local, message, None, overwrite=False))
        if remote.stored_v2:  # saved from Grafana 13's dynamic dashboards: someone edited it there
            by = f" by {remote.updated_by}" if remote.updated_by else ""
            what = f"saved as a v2 dashboard in Grafana{by} (dynamic dashboards): changed outside dashgen"
            if remote.unreadable:
                what += f"; {remote.unreadable}"
            return drifted(self.kind, uid, f"{title}: {what}",
                           unified(remote.dashboard if not remote.unreadable else None, local, uid), run.force,
                           lambda item: self._save(item, local, message, None),
                           hint="use --force to write dashgen's version back, or `dashgen pull` to adopt the change")
        if remote.dashboard == local and remote.folder_uid == run.folder_uid:
            return Step(Item(self.kind, uid, UNCHANGED, done=True, detail=title))
        if remote.dashboard == local:  # only moved: nothing of anyone's content is lost
            item = Item(self.kind, uid, UPDATE, detail=f"{title}: moved back into {run.env.folder}")
            return Step(item, lambda: self._save(item, local, message, remote.lock))
        drift = self._drift(uid, remote)
        if drift is None:
            item = Item(self.kind, uid, UPDATE, detail=title)
            return Step(item, lambda: self._save(item, local, message, remote.lock))
        return drifted(self.kind, uid, f"{title}: {drift}", unified(remote.dashboard, local, uid), run.force,
                       lambda item: self._save(item, local, message, None),
                       hint="use --force, or `dashgen pull` to adopt the change")

    def _plan_prune(self, uid: str) -> Step:
        title = self.titles.get(uid, uid)
        remote = self.api.fetch(uid)
        if remote is None:
            return Step(Item(self.kind, uid, PRUNE, done=True, detail=f"{title}: already gone"))
        managed, untouched, why = self._provenance(uid, remote)
        if not managed:
            return Step(Item(self.kind, uid, FOREIGN, done=True, detail=f"{title}: in dashgen's folder but {why}; "
                                                                        f"left alone"))
        if not untouched and not self.run.force:
            return Step(Item(self.kind, uid, DRIFTED, detail=f"{title}: no longer in code but {why}; not pruned "
                                                             f"(use --force)", diff=unified(remote.dashboard, None, uid)))
        return prune(self.kind, uid, f"{title}: no longer in code", lambda: self.api.delete(uid))

    def _drift(self, uid: str, remote: RemoteDashboard) -> str | None:
        """None if the content is as dashgen last wrote it, else who changed it and how."""
        managed, untouched, why = self._provenance(uid, remote)
        return None if managed and untouched else why

    def _provenance(self, uid: str, remote: RemoteDashboard) -> tuple[bool, bool, str]:
        """(dashgen wrote it, its content is what dashgen last wrote, why not).

        The newest readable mark in the history decides (a restore of an older dashgen
        version is a change); the mark embedded in the JSON stands in when the history
        shows none (the first version's message, where a server rewrites it)."""
        from generator.grafana.apis import foreign_manager
        other = foreign_manager(remote.annotations, self.manager)
        if other is not None:  # another tool's; annotations never make a dashboard dashgen's (a forged
            return False, False, f"managed by {other} (its grafana.app/managedBy annotation)"  # one: CVE)
        if remote.stored_v2:  # dashgen's mark did not survive the conversion: its history decides
            ours = self.api.last_mark(uid) is not None
            return ours, False, ("saved as a v2 dashboard in Grafana: changed outside dashgen" if ours else
                                 "saved as a v2 dashboard in Grafana and not written by dashgen")
        content = remote.hashes()
        info = self.api.latest_version(uid)
        last = info if info is not None and info.mark else self.api.last_mark(uid)
        if last is not None:
            if last.mark in content:
                return True, True, ""
            if last is info:
                return True, False, f"content differs from what dashgen wrote in version {info.version}"
            return True, False, (f"changed in Grafana by {info.created_by} "
                                 f"(version {info.version}, {info.created or 'unknown time'})")
        if remote.embedded_mark is not None and remote.embedded_mark in content:
            return True, True, ""
        who = f"latest version {info.version} by {info.created_by}" if info else "no version history"
        return False, False, f"not written by dashgen ({who})"

    def _save(self, item: Item, local: dict, message: str, version: int | None,
              overwrite: bool | None = None) -> Item:
        try:
            self.api.save(local, self.run.folder_uid, message, version=version, overwrite=overwrite)
        except GrafanaAPIError as exc:
            if not exc.conflict:
                raise
            return self._after_conflict(item.key, local, exc)
        return done(item)

    def _after_conflict(self, uid: str, local: dict, exc: GrafanaAPIError) -> Item:
        """409/412: done already (a retried request had landed), or changed meanwhile."""
        title = local.get("title", uid)
        remote = self.api.fetch(uid)
        if remote is not None and remote.dashboard == local and remote.folder_uid == self.run.folder_uid:
            info = self.api.latest_version(uid)
            mark = info.mark if info is not None else remote.embedded_mark  # no history: the JSON's mark
            if mark == sent_hash(local):
                return Item(self.kind, uid, UPDATE if remote.version > 1 else CREATE, done=True, detail=title)
        diff = unified(remote.dashboard if remote else None, local, uid)
        return Item(self.kind, uid, DRIFTED,
                    detail=f"{title}: changed in Grafana while uploading ({exc.status}); not overwritten", diff=diff)
