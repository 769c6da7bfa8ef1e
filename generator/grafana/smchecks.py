"""Synthetic Monitoring checks through the SM API, keyed by job + target.

    api = CheckAPI(GrafanaClient(env.sm_url, env.sm_token, service="Synthetic Monitoring"))
    api.check_token()                         # GET /api/v1/probe/list; AuthError names SM_TOKEN
    SyntheticChecks(run, checks, api)         # the upload Handler (handler.py) for this kind

Endpoints (synthetic-monitoring-api-go-client docs/API.md): GET /api/v1/probe/list (probe
names -> ids), GET /api/v1/check/list, POST /api/v1/check/add, POST /api/v1/check/update
(with the check's id and tenantId), DELETE /api/v1/check/delete/{id}.

Rendered checks name their probes; the ids come from the probe list. A check is compared
by `synthetics.comparable()` (the check fields only, no defaults). Drift, as for
dashboards: every check dashgen writes carries the label `dashgen=<hash of the rest>`; a
remote check that differs from the code but whose mark still matches its content is
dashgen's and untouched, so it is updated; a mark that no longer matches (edited in the SM
UI) or no mark at all (someone else's check with our job and target) is drift, refused
without --force. Prune candidates: only checks carrying dashgen's mark and this
environment's `env` label; one edited since dashgen wrote it goes only with --force.

Retries are safe: an add that landed but lost its answer is retried into a 409 (job and
target are unique per tenant), then found by its key and verified; update sends the whole
check; a repeated delete answers 404, which means done.
"""

from __future__ import annotations

import difflib
import json

from generator import synthetics as sm
from generator.errors import DashgenError
from generator.grafana.client import AuthError, GrafanaAPIError, GrafanaClient
from generator.grafana.handler import CREATE, DRIFTED, UNCHANGED, UPDATE, Item, Run, Step, done, drifted, prune
from generator.safenames import url_segment

API = "/api/v1"
SERVICE = "Synthetic Monitoring"


def api_base(url: str) -> str:
    """SM_URL is the regional API host; accept it with the /api/v1 suffix too."""
    url = url.rstrip("/")
    return url[: -len(API)] if url.endswith(API) else url


def connect(env, session=None, **client_options) -> CheckAPI:
    """The SM API of `env` (SM_URL, SM_TOKEN set), its token checked first."""
    api = CheckAPI(GrafanaClient(api_base(env.sm_url), env.sm_token, session=session, service=SERVICE,
                                 **client_options))
    api.check_token()
    return api


def key_of(check: dict) -> str:
    return f"{check.get('job')} {check.get('target')}"


class CheckAPI:
    def __init__(self, client: GrafanaClient):
        self.client = client
        self._probes: dict[str, int] | None = None

    def check_token(self) -> None:
        try:
            self.probes()
        except GrafanaAPIError as exc:
            if exc.status in (401, 403):
                raise AuthError(f"{self.client.display_url}: SM_TOKEN was refused by {SERVICE} "
                                f"({exc.status}: {exc.message}); create an access token in Testing & "
                                "synthetics > Synthetics > Config") from None
            raise

    def probes(self) -> dict[str, int]:
        if self._probes is None:
            listed = self.client.get_json(f"{API}/probe/list", kind=list)
            self._probes = {p["name"]: p["id"] for p in listed if isinstance(p, dict) and "name" in p}
        return self._probes

    def fetch_all(self) -> dict[str, dict]:
        listed = self.client.get_json(f"{API}/check/list", kind=list)
        return {key_of(c): c for c in listed if isinstance(c, dict)}

    def environment_checks(self, env: str, local: list[dict]) -> list[dict]:
        """The remote checks dashgen compares for `env`: its own (mark and env label) and any
        with a local check's job and target, probe ids given back as names, sorted by key."""
        names = {i: n for n, i in self.probes().items()}
        keys = {key_of(c) for c in local}
        return [{**c, "probes": [names.get(p, str(p)) for p in c.get("probes") or []]}
                for k, c in sorted(self.fetch_all().items()) if k in keys or ours(c, env)]

    def body(self, check: dict) -> dict:
        """The rendered check as the API takes it: probe ids for names, dashgen's mark added."""
        known = self.probes()
        unknown = [p for p in check.get("probes") or [] if p not in known]
        if unknown:
            raise DashgenError(f"unknown probe location {', '.join(map(repr, unknown))} "
                               f"(this tenant has: {', '.join(sorted(known))})")
        return sm.with_mark({**check, "probes": sorted(known[p] for p in check["probes"])})

    def add(self, want: dict) -> None:
        try:
            self.client.request("POST", f"{API}/check/add", json_body=want)
        except GrafanaAPIError as exc:
            if exc.status != 409:
                raise
            now = self.fetch_all().get(key_of(want))  # a retried add that had landed, or a race
            if now is None or sm.comparable(now) != sm.comparable(want):
                raise

    def update(self, want: dict, have: dict) -> None:
        self.client.request("POST", f"{API}/check/update",
                            json_body={**want, "id": have["id"], "tenantId": have["tenantId"]})

    def delete(self, have: dict) -> None:
        """404: already gone (a retried delete that had landed), which is done too."""
        self.client.request("DELETE", f"{API}/check/delete/{url_segment(have['id'], 'check id')}", ok=(200, 404))


def ours(check: dict, env: str) -> bool:
    """Written by dashgen for environment `env` (its prune candidates there)."""
    return sm.label(check) is not None and sm.label(check, sm.ENV_LABEL) == env


def drift(have: dict) -> str | None:
    """None if `have` is as dashgen last wrote it, else why not."""
    mark = sm.label(have)
    if mark is None:
        return "not written by dashgen (no dashgen label)"
    if mark != sm.content_hash(have):
        return "changed in Synthetic Monitoring since dashgen wrote it"
    return None


def diff(have: dict | None, want: dict | None, key: str) -> str:
    def lines(doc):
        return json.dumps(sm.comparable(doc), indent=2, sort_keys=True).splitlines(keepends=True) if doc else []

    return "".join(difflib.unified_diff(lines(have), lines(want), f"remote/{key}", f"local/{key}", n=2))


class SyntheticChecks:
    """The Handler for SM checks of one environment (handler.py)."""

    kind = "sm-check"
    where = SERVICE

    def __init__(self, run: Run, local: list[dict], api: CheckAPI):
        self.run, self.api = run, api
        self.local = {key_of(c): c for c in local}
        self.remote: dict[str, dict] = {}

    def local_keys(self) -> list[str]:
        return sorted(self.local)

    def remote_keys(self) -> list[str]:
        self.remote = self.api.fetch_all()
        env = self.run.env.name
        return sorted(k for k, c in self.remote.items() if k in self.local or ours(c, env))

    def plan(self, key: str) -> Step:
        check, have = self.local.get(key), self.remote.get(key)
        if check is None:
            return self._stray(key, have)
        want = self.api.body(check)
        where = f"every {want['frequency'] // 1000} s from {len(want['probes'])} probes"
        if have is None:
            item = Item(self.kind, key, CREATE, detail=where)
            return Step(item, lambda: done(item, self.api.add(want)))
        if sm.comparable(have) == sm.comparable(want):
            return Step(Item(self.kind, key, UNCHANGED, done=True, detail=where))
        why = drift(have)
        if why is None:
            item = Item(self.kind, key, UPDATE, detail=where)
            return Step(item, lambda: done(item, self.api.update(want, have)))
        return drifted(self.kind, key, why, diff(have, want, key), self.run.force,
                       lambda item: done(item, self.api.update(want, have)))

    def _stray(self, key: str, have: dict) -> Step:
        why = drift(have)
        if why is not None and not self.run.force:
            return Step(Item(self.kind, key, DRIFTED, detail=f"no longer in code but {why}; not pruned (use --force)",
                             diff=diff(have, None, key)))
        return prune(self.kind, key, "no longer in code", lambda: self.api.delete(have))
