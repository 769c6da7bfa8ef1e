"""Read-only access to what an environment's stack holds, normalised like rendered output.

For `dashgen pull` and `dashgen diff --env`:

    fetch_remote_dashboards(env, ["raymontology-business"])   # {uid: normalised dashboard}
    fetch_remote_rule_groups(env)                              # {group name: normalised group}

A uid that is not on the server is absent from the result (callers report it). The token
is checked first, so a bad token raises AuthError rather than a 401 per dashboard.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import requests
import yaml

from generator.environments import Environment
from generator.grafana.dashboards import DashboardAPI
from generator.grafana.rulegroups import normalize_group
from generator.grafana.upload import DEFAULT_CONCURRENCY, client_options_from_env, make_client, make_rule_target


def fetch_remote_dashboards(env: Environment, uids, *, session: requests.Session | None = None,
                            concurrency: int = DEFAULT_CONCURRENCY, client_options: dict | None = None,
                            ) -> dict[str, dict]:
    opts = client_options_from_env() if client_options is None else client_options
    client = make_client(env, session, concurrency, **opts)
    client.check_token()
    handler = DashboardAPI(client)
    uids = list(dict.fromkeys(uids))
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        found = list(pool.map(handler.fetch, uids))
    return {uid: r.dashboard for uid, r in zip(uids, found) if r is not None}


def fetch_remote_rule_groups(env: Environment, *, session: requests.Session | None = None,
                             client_options: dict | None = None) -> dict[str, dict]:
    opts = client_options_from_env() if client_options is None else client_options
    client = make_client(env, session, **opts)
    client.check_token()
    return make_rule_target(env, client, session, **opts).fetch_all()


def remote_and_local_trees(env: Environment, local: dict[str, bytes], *,
                           session: requests.Session | None = None) -> tuple[dict, dict]:
    """What `diff --env` compares: Grafana's dashboards and rule groups, and the local ones,
    keyed like rendered/ files and normalised the same way on both sides."""
    dashboards = {p: v for p, v in local.items() if p.startswith("dashboards/") and p.endswith(".json")}
    uids = [json.loads(v)["uid"] for v in dashboards.values()]
    remote: dict = {f"dashboards/{uid}.json": d
                    for uid, d in fetch_remote_dashboards(env, uids, session=session).items()}
    for name, group in fetch_remote_rule_groups(env, session=session).items():
        remote[f"alerts/{name}.rules.yaml"] = {"groups": [normalize_group(group)]}
    new: dict = dict(dashboards)
    for p, v in local.items():
        if p.startswith("alerts/") and p.endswith(".rules.yaml"):
            doc = yaml.safe_load(v)
            new[p] = {"groups": [normalize_group(g) for g in doc.get("groups") or []]}
    return remote, new
