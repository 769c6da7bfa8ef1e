"""Read-only access to what an environment's stack holds, normalised like rendered output.

For `dashgen pull` and `dashgen diff --env`:

    fetch_remote_dashboards(env, ["acme-business"])   # {uid: normalised dashboard}
    fetch_remote_rule_groups(env)                              # {group name: normalised group}
    fetch_remote_checks(env, local_checks)                     # {rendered path: SM check}, None: SM_* unset

A uid that is not on the server is absent from the result (callers report it). Dashboards are
read through Grafana's resource API where it is served (apis.py); one stored as v2 (saved from
Grafana 13's dynamic dashboards) comes back converted to the classic model offline. The token
is checked first, so a bad token raises AuthError rather than a 401 per dashboard. Uids are
rendered/'s: an environment with a suffix is asked for its own copy, given back in rendered
form (scope.unscoped_dashboard); rule groups come back without dashgen's ownership mark.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import requests

from generator import yamlio
from generator.environments import Environment
from generator.errors import DashgenError
from generator.grafana import scope
from generator.grafana.apis import dashboard_api, discover
from generator.grafana.rulegroups import normalize_group
from generator.normalize import normalize_dashboard
from generator.grafana.smchecks import SERVICE, connect
from generator.grafana.upload import DEFAULT_CONCURRENCY, client_options_from_env, make_client, make_rule_target


def fetch_remote_dashboards(env: Environment, uids, *, session: requests.Session | None = None,
                            concurrency: int = DEFAULT_CONCURRENCY, client_options: dict | None = None,
                            ) -> dict[str, dict]:
    return _fetch_dashboards(env, uids, session=session, concurrency=concurrency, client_options=client_options)[0]


def _fetch_dashboards(env: Environment, uids, *, session: requests.Session | None = None,
                      concurrency: int = DEFAULT_CONCURRENCY, client_options: dict | None = None):
    """(fetch_remote_dashboards' result, the DashboardAPI used)."""
    opts = client_options_from_env() if client_options is None else client_options
    client = make_client(env, session, concurrency, **opts)
    client.check_token()
    handler = dashboard_api(client, discover(client))
    uids = list(dict.fromkeys(uids))
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        found = list(pool.map(handler.fetch, [scope.dashboard_uid(uid, env) for uid in uids]))
    for r in found:
        if r is not None and r.unreadable:
            raise DashgenError(f"dashboard {r.uid!r} is stored as v2 and cannot be read through the legacy route: "
                               f"{r.unreadable}; unset DASHGEN_GRAFANA_API=legacy so dashgen reads it through /apis")
    return {uid: scope.unscoped_dashboard(r.dashboard, env) for uid, r in zip(uids, found) if r is not None}, handler


def fetch_remote_rule_groups(env: Environment, *, session: requests.Session | None = None,
                             client_options: dict | None = None) -> dict[str, dict]:
    opts = client_options_from_env() if client_options is None else client_options
    client = make_client(env, session, **opts)
    client.check_token()
    return {name: normalize_group(scope.unmarked_group(g, env.owner))
            for name, g in make_rule_target(env, client, session, **opts).fetch_all().items()}


def fetch_remote_checks(env: Environment, local_checks: list[dict], *, session: requests.Session | None = None,
                        client_options: dict | None = None) -> dict[str, dict] | None:
    """dashgen's Synthetic Monitoring checks of `env` (and any with a local check's job and
    target), by the path the rendered check has (synthetics/<env>/<job>.json), probes by name.
    None when SM_URL or SM_TOKEN is not set."""
    if env.sm_missing:
        return None
    opts = client_options_from_env() if client_options is None else client_options
    out: dict[str, dict] = {}
    for check in connect(env, session, **opts).environment_checks(env.name, local_checks):
        path, n = f"synthetics/{env.name}/{check.get('job')}.json", 1
        while path in out:  # one job, several targets: each is shown
            n += 1
            path = f"synthetics/{env.name}/{check.get('job')}#{n}.json"
        out[path] = check
    return out


def remote_and_local_trees(env: Environment, local: dict[str, bytes], *,
                           session: requests.Session | None = None) -> tuple[dict, dict, list[str]]:
    """What `diff --env` compares: Grafana's dashboards and rule groups (and the environment's
    Synthetic Monitoring checks), and the local ones, keyed like rendered/ files and normalised
    the same way on both sides; plus notes on what was not compared."""
    dashboards = {p: v for p, v in local.items() if p.startswith("dashboards/") and p.endswith(".json")}
    uids = [json.loads(v)["uid"] for v in dashboards.values()]
    found, api = _fetch_dashboards(env, uids, session=session)
    remote: dict = {f"dashboards/{uid}.json": d for uid, d in found.items()}
    for name, group in fetch_remote_rule_groups(env, session=session).items():
        remote[f"alerts/{name}.rules.yaml"] = {"groups": [normalize_group(group)]}
    new: dict = dict(dashboards)
    for p, v in dashboards.items():  # as Grafana keeps it: a v1 write raises an old schemaVersion
        board = normalize_dashboard(json.loads(v))
        if api.as_stored(board) != board:
            new[p] = api.as_stored(board)
    for p, v in local.items():  # rule groups as the environment has them (its dashboard links)
        if p.startswith("alerts/") and p.endswith(".rules.yaml"):
            try:
                doc = yamlio.safe_load(v)
            except yamlio.YAMLError as exc:
                raise DashgenError(f"rendered/{p}: not valid YAML: {exc}") from None
            new[p] = {"groups": [normalize_group(scope.unmarked_group(scope.rule_group(g, env, uids), env.owner))
                                 for g in doc.get("groups") or []]}
    checks = {p: json.loads(v) for p, v in local.items() if p.startswith(f"synthetics/{env.name}/")}
    found = fetch_remote_checks(env, list(checks.values()), session=session)
    if found is None:
        return remote, new, [f"{SERVICE} checks not compared: {' and '.join(env.sm_missing)} not set"]
    remote.update(found)
    new.update(checks)
    return remote, new, []
