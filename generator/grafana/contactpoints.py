"""Contact points and the notification policy tree, through the provisioning API (§7).

The core renders them as Grafana provisioning YAML under rendered/alerting/, with secrets
as `$VARIABLE` references (`url: $SLACK_WEBHOOK_URL`). Here each reference is filled in
from the environment at send time; the filled-in values are registered with the client so
that no server answer can carry them into an error, and no item detail ever shows settings.

* Each receiver of a rendered contact point is one API contact point (same `name`, its own
  `uid`): POST when the uid is new, PUT by uid when it differs, nothing when it is equal.
  Grafana answers secure settings as "[REDACTED]"; those cannot be compared, so a rotated
  secret in a secure field is only re-sent with --force (or with any other change).
* The policy tree is one object (§12.7): dashgen owns all of it, PUT when it differs.
* `X-Disable-Provenance` is not sent: both are locked in the UI (provenance `api`), so they
  cannot drift behind dashgen's back.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping

import yaml

from generator.errors import DashgenError
from generator.grafana.client import GrafanaAPIError, GrafanaClient
from generator.grafana.handler import CREATE, UNCHANGED, UPDATE, Item, Run, Step, done

BASE = "/api/v1/provisioning"
REDACTED = "[REDACTED]"
# Upper-case names only: `$labels`, `$value` in Go templates are not environment references.
REF_RE = re.compile(r"\$(?:\{([A-Z_][A-Z0-9_]*)\}|([A-Z_][A-Z0-9_]*))")


class MissingSecret(DashgenError):
    pass


def load_alerting(alerting_dir: Path) -> tuple[list[dict], dict | None] | None:
    """(receivers, policy tree) from rendered/alerting/, or None when it was not rendered."""
    cp_file, pol_file = Path(alerting_dir) / "contact-points.yaml", Path(alerting_dir) / "policies.yaml"
    if not cp_file.exists() and not pol_file.exists():
        return None
    receivers: list[dict] = []
    if cp_file.exists():
        doc = yaml.safe_load(cp_file.read_text()) or {}
        for cp in doc.get("contactPoints") or []:
            for r in cp.get("receivers") or []:
                if not r.get("uid"):
                    raise DashgenError(f"{cp_file}: a receiver of contact point {cp.get('name')!r} has no uid")
                receivers.append({"uid": r["uid"], "name": cp["name"], "type": r["type"],
                                  "settings": dict(r.get("settings") or {}),
                                  "disableResolveMessage": bool(r.get("disableResolveMessage", False))})
    policy = None
    if pol_file.exists():
        doc = yaml.safe_load(pol_file.read_text()) or {}
        trees = doc.get("policies") or []
        if len(trees) > 1:
            raise DashgenError(f"{pol_file}: one policy tree per organisation, found {len(trees)}")
        if trees:
            policy = {k: v for k, v in trees[0].items() if k != "orgId"}
    return receivers, policy


def resolve(value, environ: Mapping[str, str], where: str, used: list[str]):
    """Fill `$VAR` / `${VAR}` references in string values (recursively) from `environ`."""
    if isinstance(value, dict):
        return {k: resolve(v, environ, where, used) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, environ, where, used) for v in value]
    if not isinstance(value, str):
        return value

    def fill(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        if not environ.get(name):
            raise MissingSecret(f"{where}: environment variable {name} is not set")
        used.append(environ[name])
        return environ[name]

    return REF_RE.sub(fill, value)


def clean_route(route: dict) -> dict:
    out = {k: v for k, v in route.items() if k != "provenance" and v not in (None, [], {}, "", False)}
    if "routes" in out:
        out["routes"] = [clean_route(r) for r in out["routes"]]
    return out


class ContactPointAPI:
    def __init__(self, client: GrafanaClient, environ: Mapping[str, str] | None = None):
        self.client = client
        self.environ = os.environ if environ is None else environ

    def prepare(self, receiver: dict) -> dict:
        """The receiver with its references filled in; the values become client secrets."""
        used: list[str] = []
        where = f"contact point {receiver['name']!r} ({receiver['type']}, uid {receiver['uid']})"
        body = {**receiver, "settings": resolve(receiver["settings"], self.environ, where, used)}
        for value in used:
            self.client.add_secret(value)
        return body

    def fetch_all(self) -> dict[str, dict]:
        return {cp["uid"]: cp for cp in self.client.get_json(f"{BASE}/contact-points", list)
                if isinstance(cp, dict) and cp.get("uid")}

    @staticmethod
    def same(remote: dict, local: dict, *, compare_secrets: bool = False) -> bool:
        if (remote.get("name"), remote.get("type"), bool(remote.get("disableResolveMessage"))) != \
                (local["name"], local["type"], local["disableResolveMessage"]):
            return False
        rs, ls = remote.get("settings") or {}, local["settings"]
        if set(rs) != set(ls):
            return False
        return all(rs[k] == ls[k] or (rs[k] == REDACTED and not compare_secrets) for k in ls)

    def create(self, body: dict) -> None:
        self.client.request("POST", f"{BASE}/contact-points", json_body=body, ok=(200, 201, 202))

    def update(self, body: dict) -> None:
        self.client.request("PUT", f"{BASE}/contact-points/{body['uid']}", json_body=body, ok=(200, 202, 204))


class PolicyAPI:
    def __init__(self, client: GrafanaClient):
        self.client = client

    def fetch(self) -> dict:
        return clean_route(self.client.get_json(f"{BASE}/policies"))

    def put(self, tree: dict) -> None:
        self.client.request("PUT", f"{BASE}/policies", json_body=tree, ok=(200, 202, 204))


class ContactPoints:
    """Handler for contact points, one per rendered receiver, keyed `name/uid` (see
    handler.py). Never pruned. --force re-sends every one, which is how a rotated secret in
    a redacted field reaches Grafana."""

    kind = "contact-point"
    where = "Grafana alerting"

    def __init__(self, run: Run, receivers: list[dict]):
        self.run, self.api = run, ContactPointAPI(run.client, run.environ)
        self.receivers = {f"{r['name']}/{r['uid']}": r for r in receivers}
        self.remote: dict[str, dict] = {}

    def local_keys(self) -> list[str]:
        return list(self.receivers)  # rendered order

    def remote_keys(self) -> list[str]:
        self.remote = self.api.fetch_all() if self.receivers else {}
        return []

    def plan(self, key: str) -> Step:
        r = self.receivers[key]
        body = self.api.prepare(r)
        current = self.remote.get(r["uid"])
        if current is not None and not self.run.force and self.api.same(current, body):
            return Step(Item(self.kind, key, UNCHANGED, done=True, detail=r["type"]))
        item = Item(self.kind, key, UPDATE if current is not None else CREATE, detail=r["type"])
        return Step(item, lambda: done(item, self.api.update(body) if current is not None else self._create(body)))

    def _create(self, body: dict) -> None:
        try:
            self.api.create(body)
        except GrafanaAPIError as exc:  # a retried create that had landed?
            if exc.status not in (400, 409) or not self.api.same(self.api.fetch_all().get(body["uid"]) or {}, body):
                raise


class NotificationPolicies:
    """Handler for the notification policy tree: one object, all dashgen's (see handler.py).
    Runs after ContactPoints, whose names the tree refers to."""

    kind = "policies"
    where = "Grafana alerting"
    KEY = "notification policy tree"

    def __init__(self, run: Run, tree: dict | None):
        self.tree, self.api = tree, PolicyAPI(run.client)

    def local_keys(self) -> list[str]:
        return [] if self.tree is None else [self.KEY]

    def remote_keys(self) -> list[str]:
        return []

    def plan(self, key: str) -> Step:
        if self.api.fetch() == clean_route(self.tree):
            return Step(Item(self.kind, key, UNCHANGED, done=True))
        item = Item(self.kind, key, UPDATE, detail=f"root receiver {self.tree.get('receiver')!r}")
        return Step(item, lambda: done(item, self.api.put(self.tree)))
