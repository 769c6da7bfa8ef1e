"""Synthetic Monitoring checks through the SM API (issue 11), keyed by job + target.

    handler = CheckHandler(GrafanaClient(env.sm_url, env.sm_token, service="Synthetic Monitoring"))
    handler.check_token()                    # GET /api/v1/probe/list; AuthError names SM_TOKEN
    plans = handler.plan(env.name, local)    # one Plan per local check and per stray dashgen check
    handler.apply(plan)                      # add / update / delete

Endpoints (synthetic-monitoring-api-go-client docs/API.md): GET /api/v1/probe/list (probe
names -> ids), GET /api/v1/check/list, POST /api/v1/check/add, POST /api/v1/check/update
(with the check's id and tenantId), DELETE /api/v1/check/delete/{id}.

Rendered checks name their probes; the ids come from the probe list. A check is compared
by `synthetics.comparable()` (no server fields, no defaults). Drift, as for dashboards:
every check dashgen writes carries the label `dashgen=<hash of the rest>`; a remote check
that differs from the code but whose mark still matches its content is dashgen's and
untouched, so it is updated; a mark that no longer matches (edited in the SM UI) or no mark
at all (someone else's check with our job and target) is drift, refused without --force.
Prune: only checks carrying dashgen's mark and this environment's `env` label.

Retries are safe: an add that landed but lost its answer is retried into a 409 (job and
target are unique per tenant), then found by its key and verified; update sends the whole
check; a repeated delete answers 404, which means done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from generator import synthetics as sm
from generator.errors import DashgenError
from generator.grafana.client import GrafanaAPIError, GrafanaClient, auth_error

API = "/api/v1"
SERVICE = "Synthetic Monitoring"


def api_base(url: str) -> str:
    """SM_URL is the regional API host; accept it with the /api/v1 suffix too."""
    url = url.rstrip("/")
    return url[: -len(API)] if url.endswith(API) else url


def key_of(check: dict) -> str:
    return f"{check.get('job')} {check.get('target')}"


@dataclass
class Plan:
    key: str  # "<job> <target>"
    action: str  # create | update | unchanged | drifted | prune | foreign | failed
    want: dict | None = None  # the API body to send (probe ids, dashgen's mark)
    remote: dict | None = None
    detail: str = ""


class CheckHandler:
    def __init__(self, client: GrafanaClient):
        self.client = client
        self._probes: dict[str, int] | None = None

    def check_token(self) -> None:
        try:
            self.probes()
        except GrafanaAPIError as exc:
            err = auth_error(exc, self.client.base_url)
            if err is not exc:
                raise type(err)(str(err).replace("GRAFANA_TOKEN", "SM_TOKEN")) from None
            raise

    def probes(self) -> dict[str, int]:
        if self._probes is None:
            listed = self.client.get_json(f"{API}/probe/list", kind=list)
            self._probes = {p["name"]: p["id"] for p in listed if isinstance(p, dict) and "name" in p}
        return self._probes

    def fetch_all(self) -> dict[str, dict]:
        listed = self.client.get_json(f"{API}/check/list", kind=list)
        return {key_of(c): c for c in listed if isinstance(c, dict)}

    def body(self, check: dict) -> dict:
        """The rendered check as the API takes it: probe ids for names, dashgen's mark added."""
        known = self.probes()
        unknown = [p for p in check.get("probes") or [] if p not in known]
        if unknown:
            raise DashgenError(f"unknown probe location {', '.join(map(repr, unknown))} "
                               f"(this tenant has: {', '.join(sorted(known))})")
        return sm.with_mark({**check, "probes": sorted(known[p] for p in check["probes"])})

    def plan(self, env: str, local: list[dict], remote: dict[str, dict], force: bool) -> list[Plan]:
        plans = []
        for check in local:
            key = key_of(check)
            try:
                want = self.body(check)
            except DashgenError as exc:
                plans.append(Plan(key, "failed", detail=str(exc)))
                continue
            have = remote.get(key)
            if have is None:
                plans.append(Plan(key, "create", want, detail=self._where(want)))
            elif sm.comparable(have) == sm.comparable(want):
                plans.append(Plan(key, "unchanged", want, have, detail=self._where(want)))
            else:
                drift = self.drift(have)
                if drift is None:
                    plans.append(Plan(key, "update", want, have, detail=self._where(want)))
                else:
                    hint = "overwritten (--force)" if force else "not overwritten (use --force)"
                    plans.append(Plan(key, "drifted", want, have, detail=f"{drift}; {hint}"))
        local_keys = {key_of(c) for c in local}
        for key, have in sorted(remote.items()):
            if key in local_keys or sm.label(have, sm.ENV_LABEL) != env or sm.label(have) is None:
                continue  # not dashgen's, or another environment's
            drift = self.drift(have)
            plans.append(Plan(key, "prune" if drift is None else "drifted", None, have,
                              detail="no longer in code" if drift is None else f"no longer in code but {drift}"))
        return plans

    @staticmethod
    def drift(have: dict) -> str | None:
        mark = sm.label(have)
        if mark is None:
            return "not written by dashgen (no dashgen label)"
        if mark != sm.content_hash(have):
            return "changed in Synthetic Monitoring since dashgen wrote it"
        return None

    @staticmethod
    def _where(want: dict) -> str:
        return f"every {want['frequency'] // 1000} s from {len(want['probes'])} probes"

    def apply(self, plan: Plan) -> None:
        """Write what the plan says; raises GrafanaAPIError or DashgenError."""
        if plan.action == "prune":
            try:
                self.client.request("DELETE", f"{API}/check/delete/{plan.remote['id']}", ok=(200,))
            except GrafanaAPIError as exc:
                if exc.status != 404:  # already gone (a retried delete that had landed)
                    raise
            return
        if plan.remote is not None:
            body = {**plan.want, "id": plan.remote["id"], "tenantId": plan.remote["tenantId"]}
            self.client.request("POST", f"{API}/check/update", json_body=body)
            return
        try:
            self.client.request("POST", f"{API}/check/add", json_body=plan.want)
        except GrafanaAPIError as exc:
            if exc.status != 409:
                raise
            now = self.fetch_all().get(plan.key)  # a retried add that had landed, or a race
            if now is None or sm.comparable(now) != sm.comparable(plan.want):
                raise

    @staticmethod
    def diff(plan: Plan) -> str:
        import difflib

        a = json.dumps(sm.comparable(plan.remote), indent=2, sort_keys=True).splitlines(keepends=True) if plan.remote else []
        b = json.dumps(sm.comparable(plan.want), indent=2, sort_keys=True).splitlines(keepends=True) if plan.want else []
        return "".join(difflib.unified_diff(a, b, f"remote/{plan.key}", f"local/{plan.key}", n=2))
