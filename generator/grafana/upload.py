"""Make a Grafana stack match rendered/: plan per item, apply concurrently, report.

    report = upload(env, load_local(root / "rendered"), dry_run=False, force=False, prune=False)
    for item in report.items: ...          # one result per dashboard / rule group / folder
    report.summary(), report.failed        # the CLI prints these and exits 1 when failed

Kinds are handlers (handler.py: dashboards.Dashboards, rulegroups.RuleGroups,
contactpoints.Templates, ContactPoints, NotificationPolicies, RetiredContactPoints and
RetiredTemplates, or MimirAlertmanager), run in that order after the folder path exists; this module knows no
kind: for each handler it lists the server once, plans every key (code's, then the server's
others as prune candidates) and applies the writes, `concurrency` at a time. Each handler's
docstring says how it plans.

Retries: the client retries every call on connection errors, timeouts, 429 and 502/503/504,
writes included, because every dashgen write is keyed and cannot duplicate: a dashboard
save carries its uid (a repeat answers 409/412 and is verified, see dashboards.Dashboards), a folder create
its uid (a repeat answers 409 and is fetched), a rule-group POST replaces the group, a
contact point create carries its uid (verified like a dashboard), PUT and DELETE are
idempotent. So a re-run after any failure converges, and so does a run with lost answers.

What is uploaded is rendered/ as the environment names it (`scoped`, scope.py): with a
`suffix`, its own dashboard uids, contact-point and template names, and a policy branch, so
two environments live on one stack without touching each other's objects.

Ownership, for prune: only what carries the environment's mark (scope.py lists them per
kind) is ever deleted. Dashboards: those in the environment's folder whose history or JSON
holds dashgen's hash; one changed since dashgen wrote it is not pruned without --force.
Rule groups in its folder (or Mimir namespace), contact points and templates: those marked
`dashgen_owner = <its folder path>`; contact points once the new policy tree is in place.
The policy tree and folders are never deleted. Synthetic Monitoring checks (smchecks.py,
its own API at SM_URL): those carrying dashgen's mark and the environment's label; the kind
is skipped, with a warning, when SM_URL or SM_TOKEN is not set. Anything else is listed
as not dashgen's, never touched.

Kinds (`only`): dashboards, rules, alerting (templates, contact points and the policy tree;
with `alerting = "mimir"` the Mimir Alertmanager configuration instead), synthetics. Before
anything is written, every secret the selected alerting needs is looked up: a real run with
one missing raises MissingSecrets (nothing written); a dry run lists them in `report.secrets`.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import requests

from generator import envvars
from generator.environments import Environment
from generator.errors import ConfigError, DashgenError
from generator.grafana.client import AuthError, GrafanaClient
from generator.grafana import scope
from generator.grafana.contactpoints import (
    AlertmanagerConfig, ContactPoints, MimirAlertmanager, MimirAlertmanagerAPI, NotificationPolicies,
    RetiredContactPoints, RetiredTemplates, Templates, load_alerting, load_alertmanager, load_templates,
    secrets_needed,
)
from generator.grafana.dashboards import Dashboards, normalize_dashboard
from generator.grafana.apis import LEGACY, dashboard_api, discover, folder_api
from generator.grafana.folders import FolderResult, folder_uid
from generator.grafana.handler import CREATE, FAILED, PRUNE, Handler, Item, Run
from generator.grafana.rulegroups import (
    ConvertRuleGroups, MimirRuleGroups, RuleGroups, load_local_groups, normalize_group,
)
from generator.grafana.smchecks import SERVICE, CheckAPI, SyntheticChecks, connect
from generator.notifications import missing
from generator.safenames import check_name, check_uid

DEFAULT_CONCURRENCY = 8
KINDS = ("dashboards", "rules", "alerting", "synthetics")  # what `upload --only` can select
FREE_TIER_RULES = 100  # Grafana Cloud Free's limit on Grafana-managed rules


@dataclass
class Local:
    dashboards: dict[str, dict]  # uid -> normalised dashboard
    groups: dict[str, dict] | None  # group name -> normalised group; None: rules not rendered, left alone
    #: (receivers, policy tree) from rendered/alerting/; None: not rendered, left alone
    alerting: tuple[list[dict], dict | None] | None = None
    normalised: bool = False  # True: dashboards and groups are in canonical form already
    #: environment -> Synthetic Monitoring checks from rendered/synthetics/<env>/; None: not rendered
    checks: dict[str, list[dict]] | None = None
    templates: dict[str, str] | None = None  # notification templates by name; None: not rendered
    alertmanager: AlertmanagerConfig | None = None  # for alerting = "mimir"; None: not rendered
    #: dashboard uid -> the repository file it comes from (grafana.app/sourcePath on a resource-API
    #: write): its definition module when the caller knows it, else its rendered file
    sources: dict[str, str] = field(default_factory=dict)


SUMMARY_ORDER = ("created", "to create", "updated", "to update", "unchanged", "overwritten (--force)",
                 "to overwrite (--force)", "drifted (refused)", "pruned", "to prune", "not managed by dashgen",
                 "failed")


@dataclass
class UploadReport:
    env: str
    dry_run: bool
    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: (variable, is it set) for every secret the notifications read, in order
    secrets: list[tuple[str, bool]] = field(default_factory=list)
    api: str = ""  # how dashboards and folders were spoken to (apis.ApiMode.describe)

    @property
    def failed(self) -> bool:
        return any(i.failed for i in self.items)

    def count(self, action: str, kind: str | None = None) -> int:
        return sum(1 for i in self.items if i.action == action and (kind is None or i.kind == kind))

    def summary(self) -> str:
        """One line: counts of every item but folders, e.g. `production: 1 updated, 4 unchanged`."""
        counts = Counter(i.label for i in self.items if i.kind != "folder")
        parts = [f"{counts[label]} {label}" for label in SUMMARY_ORDER if counts[label]]
        head = f"{self.env}: " + (", ".join(parts) if parts else "nothing to do")
        return head + (" (dry run: nothing written)" if self.dry_run else "")


def load_local(rendered: Path, sources: dict[str, str] | None = None) -> Local:
    """Dashboards and rule groups as rendered (the reviewed, committed output). `sources`:
    uid -> definition module, from the project the caller loaded (the library never loads it);
    a dashboard it does not name is sourced from its rendered file, `<rendered>/dashboards/<file>`."""
    rendered = Path(rendered)
    dash_dir = rendered / "dashboards"
    if not dash_dir.is_dir():  # never read "no folder" as "no dashboards": --prune would empty the stack
        raise DashgenError(f"{dash_dir} not found: run `make dashboards` first")
    dashboards, origin = {}, {}
    for path in sorted(dash_dir.glob("*.json")):
        d = read_json(path)
        uid = d.get("uid") if isinstance(d, dict) else None
        if not uid:
            raise DashgenError(f"{path}: dashboard has no uid")
        check_uid(uid, "dashboard uid", str(path))  # it goes into URLs: refused before any request
        dashboards[uid] = normalize_dashboard(d)
        origin[uid] = (sources or {}).get(uid) or f"{rendered.name}/dashboards/{path.name}"
    alerts = rendered / "alerts"
    return Local(dashboards, load_local_groups(alerts) if alerts.is_dir() else None,
                 load_alerting(rendered / "alerting"), normalised=True, checks=load_local_checks(rendered / "synthetics"),
                 templates=load_templates(rendered / "alerting"), alertmanager=load_alertmanager(rendered / "alerting"),
                 sources=origin)


def read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise DashgenError(f"{path}: not valid JSON: {exc}") from None


def load_local_checks(folder: Path) -> dict[str, list[dict]] | None:
    """rendered/synthetics/<env>/<job>.json by environment; None when the folder is absent."""
    if not folder.is_dir():
        return None
    checks: dict[str, list[dict]] = {}
    for path in sorted(folder.glob("*/*.json")):
        doc = read_json(path)
        if not isinstance(doc, dict) or not doc.get("job") or not doc.get("target"):
            raise DashgenError(f"{path}: a Synthetic Monitoring check needs a job and a target")
        check_name(doc["job"], "check job", str(path))
        checks.setdefault(path.parent.name, []).append(doc)
    return checks


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


def client_options_from_env(environ=None) -> dict:
    """Operational knobs: DASHGEN_HTTP_TIMEOUT (seconds one attempt may take in all, from
    connecting to the last byte of the answer; also the read timeout), DASHGEN_HTTP_RETRIES,
    DASHGEN_HTTP_BACKOFF (first backoff step, s). Unset means the client's defaults; a value
    that is not a sane number is a ConfigError naming the variable."""
    environ = os.environ if environ is None else environ
    opts: dict = {}
    timeout = envvars.number(environ, "DASHGEN_HTTP_TIMEOUT", float, above=0, most=3600)
    if timeout is not None:
        opts["timeout"], opts["deadline"] = (min(5.0, timeout), timeout), timeout
    retries = envvars.number(environ, "DASHGEN_HTTP_RETRIES", int, least=0, most=20)
    if retries is not None:
        opts["retries"] = retries
    backoff = envvars.number(environ, "DASHGEN_HTTP_BACKOFF", float, least=0, most=300)
    if backoff is not None:
        opts["backoff"] = backoff
    return opts


def make_client(env: Environment, session: requests.Session | None = None, concurrency: int = DEFAULT_CONCURRENCY,
                **kw) -> GrafanaClient:
    return GrafanaClient(env.grafana_url, env.token, session=session, pool_size=max(concurrency, 4), **kw)


def make_alertmanager_api(env: Environment, session: requests.Session | None = None, environ=None,
                          **kw) -> MimirAlertmanagerAPI:
    client = GrafanaClient(env.mimir_alertmanager_url, env.mimir_token, basic_user=env.mimir_user, session=session,
                           service="Mimir Alertmanager", **kw)
    return MimirAlertmanagerAPI(client, env.mimir_user, environ)


def make_rule_target(env: Environment, client: GrafanaClient,
                     session: requests.Session | None = None, **kw):
    namespace = env.folder_path[-1]
    if env.alerting == "mimir":
        ruler = GrafanaClient(env.mimir_url, env.mimir_token, basic_user=env.mimir_user, session=session,
                              service="Mimir ruler", **kw)
        return MimirRuleGroups(ruler, env.mimir_namespace or f"dashgen-{env.name}", env.mimir_user)
    working = folder_uid(env.folder_path[:-1]) if len(env.folder_path) > 1 else ""  # the leaf's parent
    return ConvertRuleGroups(client, namespace, working, env.datasource_uid)


def handlers(run: Run, local: Local, rule_target: ConvertRuleGroups | None, kinds: tuple[str, ...] = KINDS,
             alertmanager: MimirAlertmanagerAPI | None = None, sm: CheckAPI | None = None) -> list[Handler]:
    """The kinds an upload syncs, in order (templates, then the contact points that call
    them, then the policies that name those, then the contact points no policy names any more)."""
    out: list[Handler] = [Dashboards(run, local.dashboards, local.sources)] if "dashboards" in kinds else []
    if "rules" in kinds and rule_target is not None and local.groups is not None:
        out.append(RuleGroups(run, local.groups, rule_target))
    if "synthetics" in kinds and sm is not None:
        out.append(SyntheticChecks(run, (local.checks or {}).get(run.env.name, []), sm))
    if "alerting" not in kinds:
        return out
    if run.env.alerting == "mimir":
        if alertmanager is not None and local.alertmanager is not None:
            out.append(MimirAlertmanager(run, local.alertmanager, alertmanager))
        return out
    if local.templates:
        out.append(Templates(run, local.templates))
    if local.alerting is not None:
        receivers, tree = local.alerting
        out += [ContactPoints(run, receivers), NotificationPolicies(run, tree),
                RetiredContactPoints(run, receivers, tree)]
    if local.templates is not None:  # rendered (even if empty): the marked ones not rendered go
        out.append(RetiredTemplates(run, local.templates))
    return out


def scoped(local: Local, env: Environment) -> Local:
    """`local` (normalised) as environment `env` names it on its stack (scope.py)."""
    uids = set(local.dashboards)
    dashboards, sources = local.dashboards, local.sources
    if env.suffix:
        dashboards = {d["uid"]: normalize_dashboard(d) for d in (scope.dashboard(x, env, uids)
                                                                 for x in local.dashboards.values())}
        sources = {scope.dashboard_uid(uid, env): path for uid, path in local.sources.items()}
    groups = None if local.groups is None else \
        {name: normalize_group(scope.rule_group(g, env, uids)) for name, g in local.groups.items()}
    alerting = local.alerting
    if alerting is not None:
        receivers, tree = alerting
        names = list(local.templates or {})
        alerting = (scope.rename_references(scope.receivers(receivers, env), names, env),
                    None if tree is None else scope.policy_tree(tree, receivers, env))
    templates = None if local.templates is None else scope.templates(local.templates, env)
    return replace(local, dashboards=dashboards, groups=groups, alerting=alerting, templates=templates,
                   sources=sources)


def sync(h: Handler, run: Run, pool: ThreadPoolExecutor) -> list[Item]:
    """The one plan/apply loop (handler.py): list once, then plan and apply every key."""
    local = h.local_keys()
    try:
        remote = h.remote_keys()
    except AuthError:
        raise
    except DashgenError as exc:
        return [Item(h.kind, key, FAILED, detail=f"{h.kind} {key!r} in {h.where}: listing failed: {exc}")
                for key in local] or [Item(h.kind, "(listing)", FAILED, detail=f"listing {h.where}: {exc}")]
    known = set(local)

    def one(key: str) -> Item:
        try:
            step = h.plan(key)
            if step.write is None:
                return step.item
            if step.item.action == PRUNE and not run.prune:
                step.item.detail += " (use --prune to delete)"
                return step.item
            return step.item if run.dry_run else step.write()
        except AuthError:
            raise
        except DashgenError as exc:
            return Item(h.kind, key, FAILED, detail=f"{h.kind} {key!r} in {h.where}: {exc}")

    return list(pool.map(one, local + [k for k in remote if k not in known]))


def run_upload(run: Run, local: Local, rule_target: ConvertRuleGroups | None, concurrency: int,
               kinds: tuple[str, ...] = KINDS, alertmanager: MimirAlertmanagerAPI | None = None,
               sm: CheckAPI | None = None) -> UploadReport:
    report = UploadReport(run.env.name, run.dry_run)
    if "dashboards" in kinds or "rules" in kinds:  # the notifications live outside the folder
        folders = folder_api(run.client, run.apis or LEGACY)
        run.folder_uid, folder_results = folders.ensure(run.env.folder_path, dry_run=run.dry_run)
        run.folder_missing = any(r.action == CREATE for r in folder_results)
        report.items += [folder_item(r) for r in folder_results]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="dashgen-upload") as pool:
        for h in handlers(run, local, rule_target, kinds, alertmanager, sm):
            report.items += sync(h, run, pool)
    return report


def folder_item(r: FolderResult) -> Item:
    return Item("folder", r.path, r.action, done=r.done, detail=r.uid)


def make_sm_api(env: Environment, local: Local, session: requests.Session | None = None,
                **kw) -> tuple[CheckAPI | None, str]:
    """(api, "") when SM can be synced (its token checked), (None, why not) when it is
    skipped. Nothing rendered for SM: (None, ""), SM is left alone."""
    if local.checks is None:
        return None, ""
    mine = local.checks.get(env.name, [])
    if env.sm_missing:
        if not mine:
            return None, ""
        return None, (f"{SERVICE}: {' and '.join(env.sm_missing)} not set: {len(mine)} check(s) in "
                      f"rendered/synthetics/{env.name}/ not synced (set them to sync; see README \"Uptime probe\")")
    return connect(env, session, **kw), ""


def upload(env: Environment, local: Local, *, session: requests.Session | None = None, dry_run: bool = False,
           force: bool = False, prune: bool = False, concurrency: int = DEFAULT_CONCURRENCY,
           commit: str = "unknown", client_options: dict | None = None, environ=None,
           only: tuple[str, ...] = KINDS) -> UploadReport:
    """Sync `local` (the kinds in `only`) to the environment's stack. Raises MissingSecrets
    (a real run without a secret the notifications need: nothing written), AuthError (bad
    token) or GrafanaAPIError (folders could not be made); every other failure is an item."""
    opts = client_options_from_env() if client_options is None else client_options
    environ = os.environ if environ is None else environ
    needed = secrets_needed(local.alerting[0] if local.alerting else None, local.alertmanager, env.alerting) \
        if "alerting" in only else []
    unset = missing(needed, environ)
    if unset and not dry_run:
        one = len(unset) == 1
        raise MissingSecrets(
            f"the notifications need {', '.join(unset)}, which {'is' if one else 'are'} not set; nothing was "
            f"written. Set {'it' if one else 'them'} (see README \"Secrets\"), or upload the rest with "
            f"--only {','.join(k for k in only if k != 'alerting') or 'dashboards,rules'}")
    if not local.normalised:
        local = replace(local, dashboards={uid: normalize_dashboard(d) for uid, d in local.dashboards.items()},
                        groups=None if local.groups is None else {n: normalize_group(g) for n, g in local.groups.items()},
                        normalised=True)
    local = scoped(local, env)  # before any request: a uid too long with the suffix is exit 2
    client = make_client(env, session, concurrency, **opts)
    client.check_token()
    target = make_rule_target(env, client, session, **opts)
    am_api = make_alertmanager_api(env, session, environ, **opts) \
        if env.alerting == "mimir" and "alerting" in only else None
    sm, sm_note = make_sm_api(env, local, session, **opts) if "synthetics" in only else (None, "")
    apis = discover(client, environ) if "dashboards" in only or "rules" in only else LEGACY
    if "dashboards" in only and env.dashboard_format != "classic":  # refused before anything is written
        api = dashboard_api(client, apis, None, env.dashboard_format)
        for d in local.dashboards.values():
            api.as_stored(d)
    run = Run(env, client, dry_run=dry_run, force=force, prune=prune, commit=commit, environ=environ, apis=apis)
    report = run_upload(run, local, target, concurrency, only, am_api, sm)
    report.secrets = [(name, bool(environ.get(name))) for name in needed]
    report.api = apis.describe() if "dashboards" in only or "rules" in only else ""
    if sm_note:
        report.warnings.append(sm_note)
    n_rules = sum(len(g.get("rules") or []) for g in (local.groups or {}).values())
    if env.alerting == "grafana" and n_rules > FREE_TIER_RULES:
        report.warnings.append(f"{n_rules} Grafana-managed alert rules: Grafana Cloud Free allows at most "
                               f"{FREE_TIER_RULES}")
    return report
