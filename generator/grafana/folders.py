"""Folder handler: the configured folder path exists after a run, created level by level.

Each level's uid is derived from the path up to it (`folder_uid`), so a re-run, another
machine or another checkout finds the same folders and never duplicates them, whatever
their titles (titles are not unique from Grafana 11.3 on; grafana-api.md §1, §5).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from generator.grafana.client import GrafanaAPIError, GrafanaClient
from generator.safenames import url_segment

UID_PREFIX = "dashgen-"


def folder_uid(path: tuple[str, ...] | list[str]) -> str:
    """`dashgen-` + 20 hex of sha256 over the path: 28 characters of `[a-z0-9-]`."""
    key = "/".join(p.strip() for p in path)
    return UID_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


@dataclass
class FolderResult:
    path: str  # "Acme/Production"
    uid: str
    action: str  # create | unchanged | update (title or parent fixed)
    done: bool = False  # False in a dry run


class FolderAPI:
    """The folder path is made before any handler runs (every kind lives in it), so it is a
    prelude of upload, not a `Handler`."""

    def __init__(self, client: GrafanaClient):
        self.client = client

    def fetch(self, uid: str) -> dict | None:
        resp = self.client.request("GET", f"/api/folders/{url_segment(uid, 'folder uid')}", ok=(200, 404))
        return self.client.decode(resp) if resp.status_code == 200 else None

    def ensure(self, path: tuple[str, ...], *, dry_run: bool = False) -> tuple[str, list[FolderResult]]:
        """Make `path` exist; return the innermost folder's uid and what was done per level."""
        results: list[FolderResult] = []
        parent = ""
        missing = False
        for depth in range(len(path)):
            title, uid = path[depth], folder_uid(path[: depth + 1])
            shown = "/".join(path[: depth + 1])
            remote = None if missing else self.fetch(uid)
            if remote is None:
                missing = True  # nothing below a missing folder can exist
                if not dry_run:
                    self._create(uid, title, parent, shown)
                results.append(FolderResult(shown, uid, "create", done=not dry_run))
            elif remote.get("title") != title or (remote.get("parentUid") or "") != parent:
                if not dry_run:
                    self._fix(remote, title, parent)
                results.append(FolderResult(shown, uid, "update", done=not dry_run))
            else:
                results.append(FolderResult(shown, uid, "unchanged", done=True))
            parent = uid
        return parent, results

    def _post(self, uid: str, title: str, parent: str) -> None:
        body = {"uid": uid, "title": title}
        if parent:
            body["parentUid"] = parent
        self.client.request("POST", "/api/folders", json_body=body)

    def _create(self, uid: str, title: str, parent: str, shown: str) -> None:
        try:
            self._post(uid, title, parent)
        except GrafanaAPIError as exc:
            if exc.status != 409:  # 409: it exists already (a retry that landed, or a race)
                raise GrafanaAPIError(exc.method, exc.path, exc.status,
                                      f"folder {shown!r} ({uid}): {exc.message}", exc.code, exc.trace_id) from None
            remote = self.fetch(uid)
            if remote is None:
                raise
            if remote.get("title") != title or (remote.get("parentUid") or "") != parent:
                self._fix(remote, title, parent)

    def _fix(self, remote: dict, title: str, parent: str) -> None:
        uid = remote["uid"]
        if remote.get("title") != title:
            self.client.request("PUT", f"/api/folders/{url_segment(uid, 'folder uid')}",
                                json_body={"title": title, "version": remote.get("version"), "overwrite": True})
        if (remote.get("parentUid") or "") != parent:
            self.client.request("POST", f"/api/folders/{url_segment(uid, 'folder uid')}/move", json_body={"parentUid": parent})
