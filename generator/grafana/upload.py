"""Make a Grafana stack match rendered/: plan per item, apply concurrently, report.

    report = upload(env, load_local(root / "rendered"), dry_run=False, force=False, prune=False)
    for item in report.items: ...          # one result per dashboard / rule group / folder
    report.summary(), report.failed        # the CLI prints these and exits 1 when failed

Per dashboard (one worker each, `concurrency` at a time):
    GET it -> absent: create | same content and folder: unchanged (no write) |
    different: read the latest version's mark (see dashboards.py) -> untouched since dashgen
    wrote it: update with the seen version | else drifted: refused with a remote-vs-local diff
    (or overwritten with --force).
A 409/412 on save is checked once more: if what is there now is exactly what we sent (a
retried request that had landed), the item succeeded; otherwise it drifted meanwhile.

Retries: the client retries every call on connection errors, timeouts, 429 and 502/503/504,
writes included, because every dashgen write is keyed and cannot duplicate: a dashboard
save carries its uid (a repeat answers 409/412 and is verified as above), a folder create
its uid (a repeat answers 409 and is fetched), a rule-group POST replaces the group, a
contact point create carries its uid (verified like a dashboard), PUT and DELETE are
idempotent. So a re-run after any failure converges, and so does a run with lost answers.

Ownership, for prune: dashgen manages the dashboards in its own folder (uid derived from
the configured path) that it wrote, i.e. whose recent history holds a version carrying
dashgen's mark; a dashboard there without one is someone else's and is only listed. A
managed dashboard changed since dashgen wrote it is not pruned without --force. Rule
groups: every group in dashgen's namespace (its folder, or its Mimir namespace). Contact
points, templates and the policy tree are never pruned.

Kinds (`only`): dashboards, rules, alerting (templates, contact points and the policy tree;
with `alerting = "mimir"` the Mimir Alertmanager configuration instead). Before anything is
written, every secret the selected alerting needs is looked up: a real run with one missing
raises MissingSecrets (nothing written); a dry run lists them in `report.secrets`.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from generator import __version__
from generator.environments import Environment
from generator.errors import ConfigError, DashgenError
from generator.grafana.client import GrafanaAPIError, GrafanaClient
from generator.grafana.contactpoints import (
    AlertmanagerConfig, ContactPointHandler, MimirAlertmanagerHandler, MissingSecret, PolicyHandler, TemplateHandler,
    clean_route, load_alerting, load_alertmanager, load_templates, secrets_needed,
)
from generator.grafana.dashboards import (
    DashboardHandler, RemoteDashboard, canonical, content_hash, normalize_dashboard, save_message,
)
from generator.grafana.folders import FolderHandler, FolderResult, folder_uid
from generator.grafana.rulegroups import ConvertRuleGroups, MimirRuleGroups, load_local_groups, normalize_group

DEFAULT_CONCURRENCY = 8
KINDS = ("dashboards", "rules", "alerting")  # what `upload --only` can select
FREE_TIER_RULES = 100  # Grafana Cloud Free's limit on Grafana-managed rules
DIFF_LINES = 60

# actions
CREATE, UPDATE, UNCHANGED, DRIFTED, PRUNE, FOREIGN, FAILED = (
    "create", "update", "unchanged", "drifted", "prune", "foreign", "failed")


@dataclass
class Local:
    dashboards: dict[str, dict]  # uid -> normalised dashboard
    groups: dict[str, dict] | None  # group name -> normalised group; None: rules not rendered, left alone
    #: (receivers, policy tree) from rendered/alerting/; None: not rendered, left alone
    alerting: tuple[list[dict], dict | None] | None = None
    normalised: bool = False  # True: dashboards and groups are in canonical form already
    templates: dict[str, str] | None = None  # notification templates by name; None: not rendered
    alertmanager: AlertmanagerConfig | None = None  # for alerting = "mimir"; None: not rendered


@dataclass
class Item:
    kind: str  # dashboard | rule-group | contact-point | policies | folder
    key: str  # uid, group name, contact point name/uid or folder path
    action: str  # create | update | unchanged | drifted | prune | foreign | failed
    done: bool = False  # the write happened (False in a dry run, or when refused)
    detail: str = ""
    diff: str = ""
    forced: bool = False  # drifted, and overwritten (or to be, in a dry run) because of --force

    @property
    def failed(self) -> bool:
        return not self.done and (self.action == FAILED or (self.action == DRIFTED and not self.forced))

    @property
    def label(self) -> str:
        """How the summary counts this item."""
        if self.action == DRIFTED:
            if self.forced:
                return "overwritten (--force)" if self.done else "to overwrite (--force)"
            return "drifted (refused)"
        done, planned = {CREATE: ("created", "to create"), UPDATE: ("updated", "to update"),
                         PRUNE: ("pruned", "to prune")}.get(self.action, (self.action, self.action))
        return done if self.done else planned


SUMMARY_ORDER = ("created", "to create", "updated", "to update", "unchanged", "overwritten (--force)",
                 "to overwrite (--force)", "drifted (refused)", "pruned", "to prune", "foreign", "failed")


@dataclass
class Report:
    env: str
    dry_run: bool
    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: (variable, is it set) for every secret the notifications read, in order
    secrets: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(i.failed for i in self.items)

    def count(self, action: str, kind: str | None = None) -> int:
        return sum(1 for i in self.items if i.action == action and (kind is None or i.kind == kind))

    def summary(self) -> str:
        """One line: counts of every item but folders, e.g. `production: 1 updated, 4 unchanged`."""
        counts = Counter(i.label for i in self.items if i.kind != "folder")
        parts = [f"{counts[label]} {label.replace('foreign', 'not managed by dashgen')}"
                 for label in SUMMARY_ORDER if counts[label]]
        head = f"{self.env}: " + (", ".join(parts) if parts else "nothing to do")
        return head + (" (dry run: nothing written)" if self.dry_run else "")


def load_local(rendered: Path) -> Local:
    """Dashboards and rule groups as rendered (the reviewed, committed output)."""
    rendered = Path(rendered)
    dash_dir = rendered / "dashboards"
    if not dash_dir.is_dir():  # never read "no folder" as "no dashboards": --prune would empty the stack
        raise DashgenError(f"{dash_dir} not found: run `make dashboards` first")
    dashboards = {}
    for path in sorted(dash_dir.glob("*.json")):
        try:
            d = json.loads(path.read_text())
        except ValueError as exc:
            raise DashgenError(f"{path}: not valid JSON: {exc}") from None
        uid = d.get("uid")
        if not uid:
            raise DashgenError(f"{path}: dashboard has no uid")
        dashboards[uid] = normalize_dashboard(d)
    alerts = rendered / "alerts"
    return Local(dashboards, load_local_groups(alerts) if alerts.is_dir() else None,
                 load_alerting(rendered / "alerting"), normalised=True,
                 templates=load_templates(rendered / "alerting"), alertmanager=load_alertmanager(rendered / "alerting"))


class MissingSecrets(ConfigError):
    """A real upload would need environment variables that are not set; nothing was written."""


def parse_only(values) -> tuple[str, ...]:
    """`--only dashboards,rules` (comma-separated, repeatable) -> the kinds, in KINDS order."""
    chosen = {v.strip() for text in values or () for v in text.split(",") if v.strip()}
    unknown = sorted(chosen - set(KINDS))
    if unknown:
        raise ConfigError(f"--only: unknown kind {unknown[0]!r} (choose from {', '.join(KINDS)})")
    return tuple(k for k in KINDS if k in chosen) or KINDS


def git_commit(root: Path | None) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def unified(remote: dict | None, local: dict | None, uid: str) -> str:
    a = canonical(remote).splitlines(keepends=True) if remote is not None else []
    b = canonical(local).splitlines(keepends=True) if local is not None else []
    lines = list(difflib.unified_diff(a, b, f"remote/{uid}", f"local/{uid}", n=2))
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"... ({len(lines) - DIFF_LINES} more diff lines)\n"]
    return "".join(lines)


def client_options_from_env(environ=None) -> dict:
    """Operational knobs: DASHGEN_HTTP_TIMEOUT (read timeout, s), DASHGEN_HTTP_RETRIES,
    DASHGEN_HTTP_BACKOFF (first backoff step, s). Unset means the client's defaults."""
    environ = os.environ if environ is None else environ
    opts: dict = {}
    try:
        if environ.get("DASHGEN_HTTP_TIMEOUT"):
            opts["timeout"] = (min(5.0, float(environ["DASHGEN_HTTP_TIMEOUT"])), float(environ["DASHGEN_HTTP_TIMEOUT"]))
        if environ.get("DASHGEN_HTTP_RETRIES"):
            opts["retries"] = int(environ["DASHGEN_HTTP_RETRIES"])
        if environ.get("DASHGEN_HTTP_BACKOFF"):
            opts["backoff"] = float(environ["DASHGEN_HTTP_BACKOFF"])
    except ValueError as exc:
        raise ConfigError(f"DASHGEN_HTTP_*: {exc}") from None
    return opts


def make_client(env: Environment, session: requests.Session | None = None, concurrency: int = DEFAULT_CONCURRENCY,
                **kw) -> GrafanaClient:
    return GrafanaClient(env.grafana_url, env.token, session=session, pool_size=max(concurrency, 4), **kw)


def make_alertmanager_target(env: Environment, session: requests.Session | None = None, environ=None,
                             **kw) -> MimirAlertmanagerHandler:
    client = GrafanaClient(env.mimir_alertmanager_url, env.mimir_token, basic_user=env.mimir_user, session=session, **kw)
    return MimirAlertmanagerHandler(client, env.mimir_user, environ)


def make_rule_target(env: Environment, client: GrafanaClient, folder_uids: list[str],
                     session: requests.Session | None = None, **kw):
    namespace = env.folder_path[-1]
    if env.alerting == "mimir":
        ruler = GrafanaClient(env.mimir_url, env.mimir_token, basic_user=env.mimir_user, session=session, **kw)
        return MimirRuleGroups(ruler, env.mimir_namespace or f"dashgen-{env.name}", env.mimir_user)
    working = folder_uids[-2] if len(folder_uids) > 1 else ""
    return ConvertRuleGroups(client, namespace, working, env.datasource_uid)


class Uploader:
    def __init__(self, env: Environment, client: GrafanaClient, *, dry_run: bool, force: bool, prune: bool,
                 commit: str, rule_target=None, environ=None, kinds: tuple[str, ...] = KINDS,
                 alertmanager_target: MimirAlertmanagerHandler | None = None):
        self.env, self.client = env, client
        self.kinds = kinds
        self.alertmanager_target = alertmanager_target
        self.dry_run, self.force, self.prune = dry_run, force, prune
        self.dashboards = DashboardHandler(client)
        self.folders = FolderHandler(client)
        self.commit = commit
        self.rule_target = rule_target
        self.environ = environ
        self.folder_uid = ""
        self._folder_missing = False

    # --- dashboards ----------------------------------------------------------------------
    def sync_dashboard(self, uid: str, local: dict) -> Item:
        try:
            return self._sync_dashboard(uid, local)
        except GrafanaAPIError as exc:
            return Item("dashboard", uid, FAILED, detail=f"dashboard {uid!r}: {exc}")

    def _sync_dashboard(self, uid: str, local: dict) -> Item:
        title = local.get("title", uid)
        remote = self.dashboards.fetch(uid, expected=local)
        message = save_message(local, __version__, self.commit)
        if remote is None:
            if not self.dry_run:
                try:
                    self.dashboards.create(local, self.folder_uid, message)
                except GrafanaAPIError as exc:
                    if not exc.conflict:
                        raise
                    return self._after_conflict(uid, local, title, exc)
            return Item("dashboard", uid, CREATE, done=not self.dry_run, detail=title)
        if remote.dashboard == local and remote.folder_uid == self.folder_uid:
            return Item("dashboard", uid, UNCHANGED, done=True, detail=title)
        if remote.dashboard == local:  # only moved: nothing of anyone's content is lost
            return self._write(uid, local, message, remote.version, UPDATE, f"{title}: moved back into {self.env.folder}")
        drift = self._drift(uid, remote)
        if drift is None:
            return self._write(uid, local, message, remote.version, UPDATE, title)
        diff = unified(remote.dashboard, local, uid)
        if self.force:
            return self._write(uid, local, message, None, DRIFTED, f"{title}: {drift}; overwritten (--force)", diff,
                               forced=True)
        return Item("dashboard", uid, DRIFTED, detail=f"{title}: {drift}; not overwritten (use --force, or "
                                                      f"`dashgen pull` to adopt the change)", diff=diff)

    def _drift(self, uid: str, remote: RemoteDashboard) -> str | None:
        """None if the content is as dashgen last wrote it, else who changed it and how."""
        managed, untouched, why = self._provenance(uid, remote)
        return None if managed and untouched else why

    def _provenance(self, uid: str, remote: RemoteDashboard) -> tuple[bool, bool, str]:
        """(dashgen wrote it, its content is what dashgen last wrote, why not).

        The newest readable mark in the history decides (a restore of an older dashgen
        version is a change); the mark embedded in the JSON stands in when the history
        shows none (the first version's message, where a server rewrites it)."""
        content = content_hash(remote.dashboard)
        info = self.dashboards.latest_version(uid)
        last = info if info is not None and info.mark else self.dashboards.last_mark(uid)
        if last is not None:
            if last.mark == content:
                return True, True, ""
            if last is info:
                return True, False, f"content differs from what dashgen wrote in version {info.version}"
            return True, False, (f"changed in Grafana by {info.created_by} "
                                 f"(version {info.version}, {info.created or 'unknown time'})")
        if remote.embedded_mark is not None and remote.embedded_mark == content:
            return True, True, ""
        who = f"latest version {info.version} by {info.created_by}" if info else "no version history"
        return False, False, f"not written by dashgen ({who})"

    def _write(self, uid, local, message, version, action, detail, diff="", forced=False) -> Item:
        if self.dry_run:
            return Item("dashboard", uid, action, done=False, detail=detail, diff=diff, forced=forced)
        try:
            self.dashboards.save(local, self.folder_uid, message, version=version)
        except GrafanaAPIError as exc:
            if not exc.conflict:
                raise
            return self._after_conflict(uid, local, local.get("title", uid), exc)
        return Item("dashboard", uid, action, done=True, detail=detail, diff=diff, forced=forced)

    def _after_conflict(self, uid: str, local: dict, title: str, exc: GrafanaAPIError) -> Item:
        """409/412: done already (a retried request had landed), or changed meanwhile."""
        remote = self.dashboards.fetch(uid)
        if remote is not None and remote.dashboard == local and remote.folder_uid == self.folder_uid:
            info = self.dashboards.latest_version(uid)
            if info is not None and info.mark == content_hash(local):
                return Item("dashboard", uid, UPDATE if remote.version > 1 else CREATE, done=True, detail=title)
        diff = unified(remote.dashboard if remote else None, local, uid)
        return Item("dashboard", uid, DRIFTED,
                    detail=f"{title}: changed in Grafana while uploading ({exc.status}); not overwritten", diff=diff)

    def prune_dashboard(self, hit: dict) -> Item:
        """A dashboard in dashgen's folder that is not in code: dashgen's to delete only if
        dashgen wrote it (its history or JSON carries dashgen's hash, which covers the uid,
        so a "Save as" copy never qualifies) and nobody changed it since (else --force)."""
        uid, title = hit["uid"], hit.get("title", hit["uid"])
        try:
            remote = self.dashboards.fetch(uid)
            if remote is None:
                return Item("dashboard", uid, PRUNE, done=True, detail=f"{title}: already gone")
            managed, untouched, why = self._provenance(uid, remote)
            if not managed:
                return Item("dashboard", uid, FOREIGN, done=True,
                            detail=f"{title}: in dashgen's folder but {why}; left alone")
            if not untouched and not self.force:
                return Item("dashboard", uid, DRIFTED, detail=f"{title}: no longer in code but {why}; "
                                                              f"not pruned (use --force)",
                            diff=unified(remote.dashboard, None, uid))
            if not self.prune or self.dry_run:
                return Item("dashboard", uid, PRUNE, detail=f"{title}: no longer in code"
                            + ("" if self.prune else " (use --prune to delete)"))
            self.dashboards.delete(uid)
            return Item("dashboard", uid, PRUNE, done=True, detail=f"{title}: deleted (no longer in code)")
        except GrafanaAPIError as exc:
            return Item("dashboard", uid, FAILED, detail=f"dashboard {uid!r} (prune): {exc}")

    # --- rule groups ---------------------------------------------------------------------
    def sync_groups(self, local: dict[str, dict], pool: ThreadPoolExecutor) -> list[Item]:
        target = self.rule_target
        try:
            remote = target.fetch_all() if not (self.dry_run and self._folder_missing) else {}
        except DashgenError as exc:
            return [Item("rule-group", name, FAILED, detail=f"rule group {name!r} in {target.where}: {exc}")
                    for name in local]

        def one(name: str) -> Item:
            group = local.get(name)
            try:
                if group is None:
                    if not self.prune or self.dry_run:
                        return Item("rule-group", name, PRUNE, detail="no longer in code"
                                    + ("" if self.prune else " (use --prune to delete)"))
                    target.delete(name)
                    return Item("rule-group", name, PRUNE, done=True, detail=f"deleted from {target.where}")
                if remote.get(name) == group:
                    return Item("rule-group", name, UNCHANGED, done=True)
                action = UPDATE if name in remote else CREATE
                if not self.dry_run:
                    target.put(group)
                return Item("rule-group", name, action, done=not self.dry_run,
                            detail=f"{len(group.get('rules') or [])} rules in {target.where}")
            except GrafanaAPIError as exc:
                return Item("rule-group", name, FAILED, detail=f"rule group {name!r} in {target.where}: {exc}")

        names = sorted(local) + sorted(set(remote) - set(local))
        return list(pool.map(one, names))

    # --- contact points and the policy tree ------------------------------------------------
    def sync_templates(self, templates: dict[str, str]) -> list[Item]:
        """Notification templates by name, before the contact points that call them."""
        handler, items = TemplateHandler(self.client), []
        for name, text in sorted(templates.items()):
            try:
                remote = handler.fetch(name)
                if remote is not None and remote.get("template") == text:
                    items.append(Item("template", name, UNCHANGED, done=True))
                    continue
                if not self.dry_run:
                    handler.put(name, text, (remote or {}).get("version"))
                items.append(Item("template", name, CREATE if remote is None else UPDATE, done=not self.dry_run,
                                  detail=f"{len(text.splitlines())} lines"))
            except GrafanaAPIError as exc:
                items.append(Item("template", name, FAILED, detail=f"notification template {name!r}: {exc}"))
        return items

    def sync_alertmanager(self, local: AlertmanagerConfig) -> list[Item]:
        """alerting = "mimir": the whole Alertmanager configuration, when Mimir's differs."""
        target = self.alertmanager_target
        key = f"tenant {target.tenant}"
        try:
            remote = target.fetch()
            try:
                body = target.prepare(local)
            except MissingSecret as exc:
                if not self.dry_run:
                    raise
                return [Item("alertmanager", key, CREATE if remote is None else UPDATE, detail=str(exc))]
            if target.same(remote, body):
                return [Item("alertmanager", key, UNCHANGED, done=True)]
            if not self.dry_run:
                target.put(body)
            return [Item("alertmanager", key, CREATE if remote is None else UPDATE, done=not self.dry_run,
                         detail=f"{len(local.config.get('receivers') or [])} receivers, "
                                f"{len(local.template_files)} template files at {target.client.base_url}")]
        except DashgenError as exc:
            return [Item("alertmanager", key, FAILED, detail=f"Mimir Alertmanager: {exc}")]

    def sync_notifications(self, receivers: list[dict], policy: dict | None) -> list[Item]:
        """Contact points first (the tree names them), then the tree. --force re-sends every
        contact point, which is how a rotated secret in a redacted field reaches Grafana."""
        handler = ContactPointHandler(self.client, self.environ)
        try:
            remote = handler.fetch_all() if receivers else {}
        except GrafanaAPIError as exc:
            return [Item("contact-point", "(all)", FAILED, detail=f"listing contact points: {exc}")]
        items = []
        for r in receivers:
            key = f"{r['name']}/{r['uid']}"
            try:
                body = handler.prepare(r)
                current = remote.get(r["uid"])
                if current is not None and not self.force and handler.same(current, body):
                    items.append(Item("contact-point", key, UNCHANGED, done=True, detail=r["type"]))
                    continue
                if not self.dry_run:
                    if current is not None:
                        handler.update(body)
                    else:
                        try:
                            handler.create(body)
                        except GrafanaAPIError as exc:  # a retried create that had landed?
                            if exc.status not in (400, 409) or not handler.same(handler.fetch_all().get(r["uid"]) or {}, body):
                                raise
                items.append(Item("contact-point", key, UPDATE if current is not None else CREATE,
                                  done=not self.dry_run, detail=r["type"]))
            except MissingSecret as exc:  # a dry run plans the write a real run (with the secret) makes
                action = (UPDATE if r["uid"] in remote else CREATE) if self.dry_run else FAILED
                items.append(Item("contact-point", key, action, detail=f"{r['type']}; {exc}" if self.dry_run else str(exc)))
            except DashgenError as exc:
                items.append(Item("contact-point", key, FAILED, detail=f"contact point {key!r}: {exc}"))
        if policy is not None:
            ph = PolicyHandler(self.client)
            try:
                if ph.fetch() == clean_route(policy):
                    items.append(Item("policies", "notification policy tree", UNCHANGED, done=True))
                else:
                    if not self.dry_run:
                        ph.put(policy)
                    items.append(Item("policies", "notification policy tree", UPDATE, done=not self.dry_run,
                                      detail=f"root receiver {policy.get('receiver')!r}"))
            except GrafanaAPIError as exc:
                items.append(Item("policies", "notification policy tree", FAILED, detail=f"notification policies: {exc}"))
        return items

    # --- all -----------------------------------------------------------------------------
    def run(self, local: Local, concurrency: int) -> Report:
        report = Report(self.env.name, self.dry_run)
        items: list[Item] = []
        if "dashboards" in self.kinds or "rules" in self.kinds:
            self.folder_uid, folder_results = self.folders.ensure(self.env.folder_path, dry_run=self.dry_run)
            self._folder_missing = any(r.action == CREATE for r in folder_results)
            report.items += [folder_item(r) for r in folder_results]
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="dashgen-upload") as pool:
            if "dashboards" in self.kinds:
                hits_future = pool.submit(lambda: [] if self._folder_missing else self.dashboards.in_folder(self.folder_uid))
                items += list(pool.map(lambda kv: self.sync_dashboard(*kv), sorted(local.dashboards.items())))
                try:
                    strays = [h for h in hits_future.result() if h["uid"] not in local.dashboards]
                    items += list(pool.map(self.prune_dashboard, strays))
                except GrafanaAPIError as exc:
                    items.append(Item("dashboard", "(prune)", FAILED, detail=f"listing folder {self.env.folder!r}: {exc}"))
            if "rules" in self.kinds and self.rule_target is not None and local.groups is not None:
                items += self.sync_groups(local.groups, pool)
        if "alerting" in self.kinds:
            if self.env.alerting == "mimir":
                if local.alertmanager is not None and self.alertmanager_target is not None:
                    items += self.sync_alertmanager(local.alertmanager)
            else:
                if local.templates:
                    items += self.sync_templates(local.templates)
                if local.alerting is not None:
                    items += self.sync_notifications(*local.alerting)
        report.items += items
        return report


def folder_item(r: FolderResult) -> Item:
    return Item("folder", r.path, r.action, done=r.done, detail=r.uid)


def upload(env: Environment, local: Local, *, session: requests.Session | None = None, dry_run: bool = False,
           force: bool = False, prune: bool = False, concurrency: int = DEFAULT_CONCURRENCY,
           commit: str = "unknown", client_options: dict | None = None, environ=None,
           only: tuple[str, ...] = KINDS) -> Report:
    """Sync `local` (the kinds in `only`) to the environment's stack. Raises MissingSecrets
    (a real run without a secret the notifications need: nothing written), AuthError (bad
    token) or GrafanaAPIError (folders could not be made); every other failure is an item."""
    opts = client_options_from_env() if client_options is None else client_options
    environ = os.environ if environ is None else environ
    needed = secrets_needed(local.alerting[0] if local.alerting else None, local.alertmanager, env.alerting) \
        if "alerting" in only else []
    missing = [name for name in needed if not environ.get(name)]
    if missing and not dry_run:
        raise MissingSecrets(
            f"the notifications need {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not set; "
            f"nothing was written. Set {'it' if len(missing) == 1 else 'them'} (see README \"Secrets\"), or upload "
            f"the rest with --only {','.join(k for k in only if k != 'alerting') or 'dashboards,rules'}")
    if not local.normalised:
        local = Local({uid: normalize_dashboard(d) for uid, d in local.dashboards.items()},
                      None if local.groups is None else {n: normalize_group(g) for n, g in local.groups.items()},
                      local.alerting, normalised=True)
    client = make_client(env, session, concurrency, **opts)
    client.check_token()
    folder_uids = [folder_uid(env.folder_path[: i + 1]) for i in range(len(env.folder_path))]
    target = make_rule_target(env, client, folder_uids, session, **opts)
    am_target = make_alertmanager_target(env, session, environ, **opts) \
        if env.alerting == "mimir" and "alerting" in only else None
    uploader = Uploader(env, client, dry_run=dry_run, force=force, prune=prune, commit=commit, rule_target=target,
                        environ=environ, kinds=only, alertmanager_target=am_target)
    report = uploader.run(local, concurrency)
    report.secrets = [(name, bool(environ.get(name))) for name in needed]
    n_rules = sum(len(g.get("rules") or []) for g in (local.groups or {}).values())
    if env.alerting == "grafana" and n_rules > FREE_TIER_RULES:
        report.warnings.append(f"{n_rules} Grafana-managed alert rules: Grafana Cloud Free allows at most "
                               f"{FREE_TIER_RULES} (grafana-api.md §1)")
    return report
