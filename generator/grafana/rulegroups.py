"""Rule-group handlers: the same Prometheus rule groups to one of two targets.

* `ConvertRuleGroups` (default, `alerting = "grafana"`): Grafana-managed alerting through the
  Prometheus conversion API (`/api/convert/prometheus/config/v1/rules`). One group per POST, YAML body, the
  namespace is the *title* of dashgen's innermost folder, found under its parent (the
  working folder, `X-Grafana-Alerting-Folder-UID`), so rules sit next to the dashboards in a
  folder whose uid dashgen controls. The data source uid comes from the environment.
  `X-Disable-Provenance` is not sent: imported rules are locked in the UI, so they cannot
  drift, and the API keeps their original text, which makes "unchanged" exact.
* `MimirRuleGroups` (`alerting = "mimir"`, older stacks): the Mimir ruler with its own
  host and credentials (instance id + access-policy token, `X-Scope-OrgID`).

Both list every group in their namespace with one GET. Each group dashgen writes carries
its environment's mark (scope.mark_group: an annotation on every alert), so a group there
that is gone from code is pruned only if it carries that mark: another team's group in the
same folder or namespace is listed as not dashgen's and never deleted.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from generator import yamlio
from generator.durations import canonical
from generator.errors import DashgenError
from generator.grafana.client import GrafanaClient
from generator.grafana.handler import CREATE, FOREIGN, UNCHANGED, UPDATE, Item, Run, Step, done, prune
from generator.grafana.scope import group_owner, mark_group
from generator.safenames import check_name, url_segment

CONVERT_BASE = "/api/convert/prometheus/config/v1/rules"
RULER_BASE = "/prometheus/config/v1/rules"
YAML_HEADERS = {"Content-Type": "application/yaml", "Accept": "application/yaml, application/json"}


DURATION_KEYS = ("interval", "for", "keep_firing_for", "query_offset")


def normalize_group(group: dict) -> dict:
    """A group as both targets keep it: no `limit` (never sent), no empty values, durations
    in canonical form and zero `for`/`keep_firing_for` left out (the default)."""

    def clean(v):
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items() if x not in (None, {}, [])}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v

    def durations(d: dict) -> dict:
        out = {k: (canonical(v) if k in DURATION_KEYS and v is not None else v) for k, v in d.items()}
        for k in ("for", "keep_firing_for"):
            if out.get(k) == "0s":
                del out[k]
        return out

    g = durations({k: v for k, v in group.items() if k != "limit"})
    if isinstance(g.get("rules"), list):
        g["rules"] = [durations(r) if isinstance(r, dict) else r for r in g["rules"]]
    return clean(g)


def group_yaml(group: dict) -> str:
    return yaml.safe_dump(normalize_group(group), sort_keys=False, allow_unicode=True)


def load_local_groups(alerts_dir: Path) -> dict[str, dict]:
    """Every group in `<rendered>/alerts/*.rules.yaml`, by name (names are unique)."""
    groups: dict[str, dict] = {}
    for path in sorted(Path(alerts_dir).glob("*.rules.yaml")):
        try:
            doc = yamlio.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise DashgenError(f"{path}: not valid YAML: {exc}") from None
        for g in doc.get("groups") or []:
            name = g.get("name")
            if not name:
                raise DashgenError(f"{path}: a rule group has no name")
            check_name(name, "rule group", str(path))  # it goes into URLs: refused before any request
            if name in groups:
                raise DashgenError(f"{path}: rule group {name!r} is defined twice")
            groups[name] = normalize_group(g)
    return groups


def _parse_namespace(text: str, namespace: str) -> dict[str, dict]:
    try:
        doc = yamlio.safe_load(text) or {}
    except yaml.YAMLError:
        doc = None
    if not isinstance(doc, dict):
        raise DashgenError(f"namespace {namespace!r}: unexpected answer, not a YAML mapping of rule groups")
    return {g["name"]: normalize_group(g) for g in doc.get(namespace) or [] if isinstance(g, dict) and g.get("name")}


class ConvertRuleGroups:
    base = CONVERT_BASE

    def __init__(self, client: GrafanaClient, namespace: str, working_folder_uid: str, datasource_uid: str):
        self.client, self.namespace = client, namespace
        self.headers = {"X-Grafana-Alerting-Datasource-UID": datasource_uid}
        if working_folder_uid:
            self.headers["X-Grafana-Alerting-Folder-UID"] = working_folder_uid
        self.where = f"folder {namespace!r}"

    def _path(self, group: str | None = None) -> str:
        p = f"{self.base}/{url_segment(self.namespace, 'rule namespace')}"
        return p + (f"/{url_segment(group, 'rule group')}" if group else "")

    def fetch_all(self) -> dict[str, dict]:
        resp = self.client.request("GET", self._path(), headers={**self.headers, "Accept": "application/yaml"},
                                   ok=(200, 404))
        return {} if resp.status_code == 404 else _parse_namespace(resp.text, self.namespace)

    def put(self, group: dict) -> None:
        self.client.request("POST", self._path(), data=group_yaml(group).encode(),
                            headers={**self.headers, **YAML_HEADERS}, ok=(200, 202))

    def delete(self, name: str) -> None:
        self.client.request("DELETE", self._path(name), headers=self.headers, ok=(200, 202, 204, 404))


class MimirRuleGroups(ConvertRuleGroups):
    def __init__(self, client: GrafanaClient, namespace: str, tenant: str):
        self.client, self.namespace = client, namespace
        self.headers = {"X-Scope-OrgID": tenant}
        self.where = f"Mimir namespace {namespace!r}"
        # MIMIR_URL may be the bare host (mimirtool's /prometheus prefix) or Cloud's query
        # URL ending in /api/prom (whose ruler lives under /api/prom/config/v1/rules).
        self.base = "/config/v1/rules" if client.base_url.endswith("/api/prom") else RULER_BASE

    def fetch_all(self) -> dict[str, dict]:
        # An empty namespace is 200 `{}`; a 404 means no ruler here (a new stack without
        # data-source-managed alerting), except old Cortex's "no rule groups found".
        resp = self.client.request("GET", self._path(), headers={**self.headers, "Accept": "application/yaml"},
                                   ok=(200, 404))
        if resp.status_code == 404:
            if "no rule groups found" in resp.text:
                return {}
            raise DashgenError(f"no Mimir ruler answers at {self.client.display_url}{self._path()} (404): "
                               f"use alerting = \"grafana\" for this stack")
        return _parse_namespace(resp.text, self.namespace)


class RuleGroups:
    """Handler for the rule groups in dashgen's namespace on `target` (see handler.py).
    Every group is written with the environment's mark; one gone from code is pruned (with
    --prune) only if it carries that mark, any other is listed as someone else's. A group
    of code's name written without the mark (by another tool, or a dashgen before marks)
    is taken over, and the line says so."""

    kind = "rule-group"

    def __init__(self, run: Run, local: dict[str, dict], target: ConvertRuleGroups):
        self.run, self.local, self.target = run, local, target
        self.where = target.where
        self.remote: dict[str, dict] = {}

    def local_keys(self) -> list[str]:
        return sorted(self.local)

    def remote_keys(self) -> list[str]:
        self.remote = {} if self.run.dry_run and self.run.folder_missing else self.target.fetch_all()
        return sorted(self.remote)

    def plan(self, name: str) -> Step:
        group, owner = self.local.get(name), self.run.env.owner
        if group is None:
            marked = group_owner(self.remote[name])
            if marked != owner:
                why = "carries no dashgen mark" if marked is None else f"is marked for {marked!r}"
                return Step(Item(self.kind, name, FOREIGN, done=True,
                                 detail=f"in {self.where} but {why}: not dashgen's here, left alone"))
            return prune(self.kind, name, f"no longer in code, in {self.where}", lambda: self.target.delete(name))
        want = normalize_group(mark_group(group, owner))
        have = self.remote.get(name)
        if have == want:
            return Step(Item(self.kind, name, UNCHANGED, done=True))
        detail = f"{len(group.get('rules') or [])} rules in {self.where}"
        if have is not None and group_owner(have) != owner:
            detail += "; it carried no dashgen mark for this environment: taken over"
        item = Item(self.kind, name, UPDATE if have is not None else CREATE, detail=detail)
        return Step(item, lambda: done(item, self.target.put(want)))
