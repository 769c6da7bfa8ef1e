"""Notifications: contact points, the policy tree and templates through Grafana's
provisioning API, or the whole Alertmanager configuration to Mimir's Alertmanager.

The core renders them as Grafana provisioning YAML under rendered/alerting/, with secrets
as `$VARIABLE` references (`url: $SLACK_WEBHOOK_URL`). Here each reference is filled in
from the environment at send time; the filled-in values are registered with the client so
that no server answer can carry them into an error, and no item detail ever shows settings.

Every name here is the environment's (scope.py: a suffix when two environments share a
stack), and everything written carries the environment's ownership mark (scope.py):

* Each receiver of a rendered contact point is one API contact point (same `name`, its own
  `uid`): POST when the uid is new, PUT by uid when it differs, nothing when it is equal.
  Its settings carry `dashgen_owner`. Grafana answers secure settings as "[REDACTED]";
  those cannot be compared, so a rotated secret in a secure field is only re-sent with
  --force (or with any other change).
* The policy tree is one object. An environment without a suffix owns it, PUT when
  it differs, keeping the branches other environments own (matched on `dashgen_owner`);
  one with a suffix owns only its branch, and leaves the rest of the tree as it is.
* Contact points this environment wrote (provenance `api`, its mark) and no longer renders
  are prune candidates, deleted with --prune after the new tree is in place
  (RetiredContactPoints). No other is ever deleted: one with dashgen's old uid form
  `<name>-<i>-<type>` but no mark (a release before marks, or a look-alike) is listed as
  not dashgen's.
* Notification templates are PUT by name when their text (with the mark on its first line)
  differs, with the version read (Grafana's optimistic concurrency). Templates carrying
  this environment's mark that it no longer renders are pruned like contact points
  (RetiredTemplates); no other template is ever touched.
* `X-Disable-Provenance` is not sent: all of them are locked in the UI (provenance `api`),
  so they cannot drift behind dashgen's back.
* `alerting = "mimir"`: rendered/alerting/alertmanager.yaml, its references filled in, and
  the template files go to Mimir's Alertmanager in one POST (what `mimirtool alertmanager
  load` sends), when what Mimir holds differs.

Grafana 13 deprecates these legacy provisioning endpoints (no removal date) in favour of
`notifications.alerting.grafana.app/v1beta1` receivers, routingtrees and templategroups.
ContactPointAPI, PolicyAPI and TemplateAPI are the only code that knows those paths and
shapes: a second implementation of their methods (fetch_all/same/create/update, fetch/put)
is all a switch needs, the handlers stay; Grafana Cloud serves the legacy endpoints today.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import yaml

from generator import yamlio
from generator.errors import DashgenError
from generator.grafana.client import GrafanaAPIError, GrafanaClient
from generator.grafana.handler import CREATE, FOREIGN, UNCHANGED, UPDATE, Item, Run, Step, done, prune
from generator.grafana.scope import (
    mark_settings, mark_template, policy_branch, route_owner, settings_owner, template_owner,
)
from generator.notifications import MissingSecret, deployable_files, fill, integration_uid, references
from generator.safenames import check_name, check_uid, url_segment

BASE = "/api/v1/provisioning"
REDACTED = "[REDACTED]"


def read_mapping(path: Path) -> dict:
    """A rendered YAML file's top-level mapping; a DashgenError naming the file otherwise."""
    try:
        doc = yamlio.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise DashgenError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise DashgenError(f"{path}: not a YAML mapping")
    return doc


def load_alerting(alerting_dir: Path) -> tuple[list[dict], dict | None] | None:
    """(receivers, policy tree) from rendered/alerting/, or None when it was not rendered."""
    cp_file, pol_file = Path(alerting_dir) / "contact-points.yaml", Path(alerting_dir) / "policies.yaml"
    if not cp_file.exists() and not pol_file.exists():
        return None
    receivers: list[dict] = []
    if cp_file.exists():
        for cp in read_mapping(cp_file).get("contactPoints") or []:
            if not isinstance(cp, dict) or not cp.get("name") or not isinstance(cp.get("receivers") or [], list):
                raise DashgenError(f"{cp_file}: a contact point needs a name and a list of receivers")
            for r in cp.get("receivers") or []:
                if not isinstance(r, dict) or not r.get("uid") or not r.get("type"):
                    raise DashgenError(f"{cp_file}: a receiver of contact point {cp['name']!r} needs a uid and a type")
                check_uid(r["uid"], f"contact point {cp['name']!r} uid", str(cp_file))  # goes into URLs
                receivers.append({"uid": r["uid"], "name": cp["name"], "type": r["type"],
                                  "settings": dict(r.get("settings") or {}),
                                  "disableResolveMessage": bool(r.get("disableResolveMessage", False))})
    policy = None
    if pol_file.exists():
        trees = read_mapping(pol_file).get("policies") or []
        if len(trees) > 1:
            raise DashgenError(f"{pol_file}: one policy tree per organisation, found {len(trees)}")
        if trees:
            policy = {k: v for k, v in trees[0].items() if k != "orgId"}
    return receivers, policy


def fill_secrets(client: GrafanaClient, value, environ: Mapping[str, str], where: str):
    """`value` with its `$VAR` references filled in from `environ` (MissingSecret names an
    unset one); the values filled in become `client` secrets, kept out of every error."""
    used: list[str] = []
    filled = fill(value, environ, where, used)
    for secret in used:
        client.add_secret(secret)
    return filled


def clean_route(route: dict) -> dict:
    out = {k: v for k, v in route.items() if k != "provenance" and v not in (None, [], {}, "", False)}
    if "routes" in out:
        out["routes"] = [clean_route(r) for r in out["routes"]]
    return out


class ContactPointAPI:
    def __init__(self, client: GrafanaClient, environ: Mapping[str, str] | None = None, owner: str = ""):
        self.client, self.owner = client, owner
        self.environ = os.environ if environ is None else environ

    def prepare(self, receiver: dict) -> dict:
        """The receiver with its references filled in (the values become client secrets) and
        its owner's mark among the settings."""
        where = f"contact point {receiver['name']!r} ({receiver['type']}, uid {receiver['uid']})"
        settings = fill_secrets(self.client, receiver["settings"], self.environ, where)
        return {**receiver, "settings": mark_settings(settings, self.owner) if self.owner else settings}

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
        self.client.request("PUT", f"{BASE}/contact-points/{url_segment(body['uid'], 'contact point uid')}", json_body=body, ok=(200, 202, 204))

    def delete(self, uid: str) -> None:
        """202, also for a uid already gone; 404 from older servers alike.
        Grafana refuses (409) to remove the last integration of a name a policy routes to."""
        self.client.request("DELETE", f"{BASE}/contact-points/{url_segment(uid, 'contact point uid')}", ok=(200, 202, 204, 404))


class PolicyAPI:
    def __init__(self, client: GrafanaClient):
        self.client = client

    def fetch(self) -> dict:
        return clean_route(self.client.get_json(f"{BASE}/policies"))

    @staticmethod
    def desired(remote: dict, tree: dict, owner: str, owns_root: bool) -> dict:
        """What the whole tree should be after this environment's upload. The root owner's
        tree, with the branches other environments own kept in front; or, for an environment
        that owns a branch, `remote` with that branch (first) replaced."""
        routes = [r for r in remote.get("routes") or [] if isinstance(r, dict)]
        if owns_root:
            mine = clean_route(tree)
            kept = [r for r in routes if route_owner(r) not in (None, owner)]
            return {**mine, **({"routes": kept + mine.get("routes", [])} if kept or mine.get("routes") else {})}
        branch = clean_route(policy_branch(tree, owner))
        return {**remote, "routes": [branch] + [r for r in routes if route_owner(r) != owner]}

    def put(self, tree: dict) -> None:
        self.client.request("PUT", f"{BASE}/policies", json_body=tree, ok=(200, 202, 204))


class ContactPoints:
    """Handler for contact points, one per rendered receiver, keyed `name/uid` (see
    handler.py). Pruning is RetiredContactPoints' (after the policies). --force re-sends
    every one, which is how a rotated secret in a redacted field reaches Grafana."""

    kind = "contact-point"
    where = "Grafana alerting"

    def __init__(self, run: Run, receivers: list[dict]):
        self.run, self.api = run, ContactPointAPI(run.client, run.environ, run.env.owner)
        self.receivers = {f"{r['name']}/{r['uid']}": r for r in receivers}
        self.remote: dict[str, dict] = {}

    def local_keys(self) -> list[str]:
        return list(self.receivers)  # rendered order

    def remote_keys(self) -> list[str]:
        self.remote = self.api.fetch_all() if self.receivers else {}
        return []

    def plan(self, key: str) -> Step:
        r = self.receivers[key]
        current = self.remote.get(r["uid"])
        try:
            body = self.api.prepare(r)
        except MissingSecret as exc:  # a dry run plans what a real run (with the secret) writes
            if not self.run.dry_run:
                raise
            return Step(Item(self.kind, key, UPDATE if current is not None else CREATE, detail=f"{r['type']}; {exc}"))
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
    """Handler for the notification policy tree (see handler.py): the whole tree, but for
    other environments' branches, or this environment's branch only (PolicyAPI.desired).
    Runs after ContactPoints, whose names the tree refers to."""

    kind = "policies"
    where = "Grafana alerting"

    def __init__(self, run: Run, tree: dict | None):
        self.run, self.tree, self.api = run, tree, PolicyAPI(run.client)
        self.key = "notification policy tree" if run.env.owns_policy_root else \
            f"notification policy branch {run.env.owner!r}"

    def local_keys(self) -> list[str]:
        return [] if self.tree is None else [self.key]

    def remote_keys(self) -> list[str]:
        return []

    def plan(self, key: str) -> Step:
        env = self.run.env
        remote = self.api.fetch()
        want = clean_route(self.api.desired(remote, self.tree, env.owner, env.owns_policy_root))
        if remote == want:
            return Step(Item(self.kind, key, UNCHANGED, done=True))
        kept = sum(1 for r in want.get("routes") or [] if route_owner(r) not in (None, env.owner))
        detail = f"receiver {self.tree.get('receiver')!r}" + (
            f"; {kept} branch(es) of other environments kept" if kept and env.owns_policy_root else "")
        item = Item(self.kind, key, UPDATE, detail=detail)
        return Step(item, lambda: done(item, self.api.put(want)))


def route_receivers(route: dict | None) -> set[str]:
    """Every receiver name a policy tree routes to."""
    if not route:
        return set()
    names = {route["receiver"]} if route.get("receiver") else set()
    return names.union(*(route_receivers(r) for r in route.get("routes") or []))


def owned(cp: dict, owner: str) -> bool:
    """A contact point `owner` (an environment) wrote: provenance `api` (dashgen never sends
    X-Disable-Provenance) and its mark among the settings."""
    return cp.get("provenance") == "api" and settings_owner(cp) == owner


def looks_like_dashgens(cp: dict, max_integrations: int = 10) -> bool:
    """Provenance `api` and dashgen's uid form `<name>-<i>-<type>`, but no mark at all: what
    a dashgen release before marks wrote, or a look-alike. Never deleted, only listed."""
    name, type_, uid = cp.get("name") or "", cp.get("type") or "", cp.get("uid") or ""
    return cp.get("provenance") == "api" and settings_owner(cp) is None and bool(name and type_) and \
        any(integration_uid(name, i, type_) == uid for i in range(max_integrations))


class RetiredContactPoints:
    """Handler for contact points this environment wrote (`owned`) that it no longer
    renders, keyed `name/uid` like ContactPoints: prune candidates, deleted with --prune.
    Runs after NotificationPolicies, so the tree that named them has been replaced by then.
    One whose name a policy still routes to (the rendered tree, and in a real run Grafana's,
    in case its update failed) and that no rendered integration carries is kept: Grafana
    would refuse the delete (409). Deletes go one at a time: each rewrites Grafana's whole
    Alertmanager configuration, guarded by its hash. Unmarked ones of dashgen's old uid form
    are listed as not dashgen's (`looks_like_dashgens`); other environments' are skipped."""

    kind = "contact-point"
    where = "Grafana alerting"

    def __init__(self, run: Run, receivers: list[dict], tree: dict | None):
        self.run, self.tree = run, tree
        self.api, self.policies = ContactPointAPI(run.client, run.environ), PolicyAPI(run.client)
        self.rendered_uids = {r["uid"] for r in receivers}
        self.rendered_names = {r["name"] for r in receivers}
        self.candidates: dict[str, dict] = {}
        self.lookalikes: set[str] = set()
        self.routed: set[str] = set()
        self.lock = threading.Lock()

    def local_keys(self) -> list[str]:
        return []

    def remote_keys(self) -> list[str]:
        retired = {f"{cp['name']}/{uid}": cp for uid, cp in self.api.fetch_all().items()
                   if uid not in self.rendered_uids}
        self.candidates = {k: cp for k, cp in retired.items() if owned(cp, self.run.env.owner)}
        self.lookalikes = {k for k, cp in retired.items() if looks_like_dashgens(cp)}
        if self.candidates:
            self.routed = route_receivers(self.tree)
            if self.tree is None or not self.run.dry_run:
                self.routed |= route_receivers(self.policies.fetch())
        return sorted(set(self.candidates) | self.lookalikes)

    def plan(self, key: str) -> Step:
        if key in self.lookalikes:
            return Step(Item(self.kind, key, FOREIGN, done=True,
                             detail="dashgen's uid form but no dashgen mark (an earlier dashgen, or someone "
                                    "else's): left alone; delete it in Grafana if it is an old one of yours"))
        cp = self.candidates[key]
        if cp["name"] in self.routed and cp["name"] not in self.rendered_names:
            return Step(Item(self.kind, key, UNCHANGED, done=True,
                             detail=f"{cp['type']}; no longer rendered, kept: a notification policy routes to it"))
        return prune(self.kind, key, f"{cp['type']}; no longer rendered", lambda: self._delete(cp["uid"]))

    def _delete(self, uid: str) -> None:
        with self.lock:
            self.api.delete(uid)


# --- notification templates (Grafana) --------------------------------------------------------


def load_templates(alerting_dir: Path) -> dict[str, str] | None:
    """{name: template text} from rendered/alerting/templates.yaml, or None when not rendered."""
    path = Path(alerting_dir) / "templates.yaml"
    if not path.exists():
        return None
    out: dict[str, str] = {}
    for t in read_mapping(path).get("templates") or []:
        if not isinstance(t, dict) or not t.get("name") or not isinstance(t.get("template"), str):
            raise DashgenError(f"{path}: every template needs a name and a template text")
        out[t["name"]] = t["template"]
    return out


class TemplateAPI:
    def __init__(self, client: GrafanaClient):
        self.client = client

    def fetch(self, name: str) -> dict | None:
        """{name, template, provenance, version}, or None when Grafana has no such template."""
        resp = self.client.request("GET", f"{BASE}/templates/{url_segment(name, 'template')}", ok=(200, 404))
        return None if resp.status_code == 404 else self.client.decode(resp)

    def put(self, name: str, text: str, version: str | None) -> None:
        body = {"template": text, **({"version": version} if version else {})}
        self.client.request("PUT", f"{BASE}/templates/{url_segment(name, 'template')}", json_body=body, ok=(200, 202, 204))

    def fetch_all(self) -> list[dict]:
        return [t for t in self.client.get_json(f"{BASE}/templates", list) if isinstance(t, dict)]

    def delete(self, name: str) -> None:
        """204; 404 from a server where it is gone already (a retried delete) is done too."""
        self.client.request("DELETE", f"{BASE}/templates/{url_segment(name, 'template')}", ok=(200, 202, 204, 404))


# --- Mimir's Alertmanager ----------------------------------------------------------------------

ALERTMANAGER_PATH = "/api/v1/alerts"


@dataclass
class AlertmanagerConfig:
    """rendered/alerting/alertmanager.yaml (with `$VAR` references) and its template files."""

    config: dict
    template_files: dict[str, str] = field(default_factory=dict)

    def references(self) -> list[str]:
        return references(self.config, "alertmanager.yaml")


def load_alertmanager(alerting_dir: Path) -> AlertmanagerConfig | None:
    path = Path(alerting_dir) / "alertmanager.yaml"
    if not path.exists():
        return None
    config = read_mapping(path)
    files = {}
    for name in config.get("templates") or []:
        t = Path(alerting_dir) / check_name(name, "template file", str(path))
        if not t.is_file():
            raise DashgenError(f"{path}: template {name!r} must be a file beside it in {alerting_dir}")
        files[name] = t.read_text()
    return AlertmanagerConfig(config, files)


class MimirAlertmanagerAPI:
    """The tenant's whole Alertmanager configuration: one GET, one POST when it differs."""

    def __init__(self, client: GrafanaClient, tenant: str, environ: Mapping[str, str] | None = None):
        self.client, self.tenant = client, tenant
        self.environ = os.environ if environ is None else environ
        self.headers = {"X-Scope-OrgID": tenant}

    def prepare(self, local: AlertmanagerConfig) -> dict:
        """The body Mimir takes: the config as a YAML string with its references filled in."""
        config = fill_secrets(self.client, local.config, self.environ, "alertmanager.yaml")
        return {"template_files": dict(local.template_files),
                "alertmanager_config": yaml.safe_dump(config, sort_keys=False, allow_unicode=True)}

    def fetch(self) -> dict | None:
        resp = self.client.request("GET", ALERTMANAGER_PATH, headers={**self.headers, "Accept": "application/yaml"},
                                   ok=(200, 404))
        if resp.status_code == 404:
            return None
        try:
            doc = yamlio.safe_load(resp.text) or {}
        except yaml.YAMLError:
            raise DashgenError(f"Mimir Alertmanager at {self.client.display_url}: unreadable answer to GET") from None
        return doc if isinstance(doc, dict) else None

    @staticmethod
    def same(remote: dict | None, body: dict) -> bool:
        if remote is None:
            return False
        try:
            remote_config = yamlio.safe_load(remote.get("alertmanager_config") or "")
        except yaml.YAMLError:
            return False
        return remote_config == yamlio.safe_load(body["alertmanager_config"]) and \
            (remote.get("template_files") or {}) == body["template_files"]

    def put(self, body: dict) -> None:
        self.client.request("POST", ALERTMANAGER_PATH, data=yaml.safe_dump(body, sort_keys=False, allow_unicode=True),
                            headers={**self.headers, "Content-Type": "application/yaml"}, ok=(200, 201, 202))


class Templates:
    """Handler for notification templates, keyed by name (see handler.py). Runs before the
    contact points that call them. Each is written with the environment's mark on its first
    line; an update sends the version it read (Grafana's optimistic concurrency)."""

    kind = "template"
    where = "Grafana alerting"

    def __init__(self, run: Run, templates: dict[str, str]):
        self.templates, self.api, self.owner = templates, TemplateAPI(run.client), run.env.owner

    def local_keys(self) -> list[str]:
        return sorted(self.templates)

    def remote_keys(self) -> list[str]:
        return []

    def plan(self, name: str) -> Step:
        text, remote = mark_template(self.templates[name], self.owner), self.api.fetch(name)
        if remote is not None and remote.get("template") == text:
            return Step(Item(self.kind, name, UNCHANGED, done=True))
        detail = f"{len(text.splitlines())} lines"
        if remote is not None and template_owner(remote.get("template") or "") != self.owner:
            detail += "; it carried no dashgen mark for this environment: taken over"
        item = Item(self.kind, name, CREATE if remote is None else UPDATE, detail=detail)
        return Step(item, lambda: done(item, self.api.put(name, text, (remote or {}).get("version"))))


class RetiredTemplates:
    """Handler for templates carrying this environment's mark that it no longer renders
    (a renamed template, a changed suffix): prune candidates, deleted with --prune after
    the contact points that called them were updated. Other templates are never touched."""

    kind = "template"
    where = "Grafana alerting"

    def __init__(self, run: Run, templates: dict[str, str]):
        self.run, self.rendered, self.api = run, set(templates), TemplateAPI(run.client)

    def local_keys(self) -> list[str]:
        return []

    def remote_keys(self) -> list[str]:
        return sorted(t["name"] for t in self.api.fetch_all()
                      if t.get("name") not in self.rendered and template_owner(t.get("template") or "") == self.run.env.owner)

    def plan(self, name: str) -> Step:
        return prune(self.kind, name, "no longer rendered", lambda: self.api.delete(name))


class MimirAlertmanager:
    """Handler for `alerting = "mimir"`: the tenant's whole Alertmanager configuration (one
    key), written when what Mimir holds differs from the rendered one, secrets filled in."""

    kind = "alertmanager"

    def __init__(self, run: Run, local: AlertmanagerConfig, api: MimirAlertmanagerAPI):
        self.run, self.local, self.api = run, local, api
        self.where = f"Mimir Alertmanager at {api.client.display_url}"

    def local_keys(self) -> list[str]:
        return [f"tenant {self.api.tenant}"]

    def remote_keys(self) -> list[str]:
        return []

    def plan(self, key: str) -> Step:
        remote = self.api.fetch()
        action = CREATE if remote is None else UPDATE
        try:
            body = self.api.prepare(self.local)
        except MissingSecret as exc:
            if not self.run.dry_run:
                raise
            return Step(Item(self.kind, key, action, detail=str(exc)))
        if self.api.same(remote, body):
            return Step(Item(self.kind, key, UNCHANGED, done=True))
        item = Item(self.kind, key, action, detail=f"{len(self.local.config.get('receivers') or [])} receivers, "
                                                  f"{len(self.local.template_files)} template files")
        return Step(item, lambda: done(item, self.api.put(body)))


def deployable_alertmanager(alerting_dir: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """{file name: text} for an Alertmanager of your own from rendered/alerting/
    (notifications.deployable_files: MissingSecret names every unset variable)."""
    local = load_alertmanager(alerting_dir)
    if local is None:
        raise DashgenError(f"{Path(alerting_dir) / 'alertmanager.yaml'} not found: run `make dashboards` first")
    return deployable_files(local.config, local.template_files, environ)


def secrets_needed(receivers: list[dict] | None, alertmanager: AlertmanagerConfig | None, mode: str) -> list[str]:
    """The environment variables a real upload of the notifications will read, in order."""
    if mode == "mimir":
        return alertmanager.references() if alertmanager is not None else []
    return references(receivers or [], "contact-points.yaml")  # names included: only settings may refer
