"""Contact points and the notification policy tree, rendered as Grafana provisioning YAML.

The seed's "Action" column (docs/targets.md §8) is routing, not rule content: critical alerts go to
e-mail and Slack (ServiceDown also to SMS), warnings to Slack. Secrets never reach
rendered/: settings hold `$VARIABLE` references that Grafana's file provisioning expands
from its environment, and that `upload` fills in from the environment at send time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ORG_ID = 1


@dataclass(frozen=True)
class Integration:
    type: str  # email | slack | webhook
    settings: dict[str, object]  # string values may be "$ENV_VAR" references, never secrets


@dataclass(frozen=True)
class ContactPoint:
    name: str
    integrations: tuple[Integration, ...]


@dataclass(frozen=True)
class Route:
    receiver: str
    matchers: tuple[tuple[str, str, str], ...] = ()  # (label, op, value)
    group_by: tuple[str, ...] = ()
    group_wait: str | None = None
    group_interval: str | None = None
    repeat_interval: str | None = None
    continue_: bool = False
    routes: tuple["Route", ...] = ()


@dataclass(frozen=True)
class Notifications:
    contact_points: tuple[ContactPoint, ...]
    policy: Route
    secrets: tuple[str, ...] = field(default=())  # env variable names the settings refer to


def _route_doc(r: Route) -> dict:
    doc: dict = {"receiver": r.receiver}
    if r.group_by:
        doc["group_by"] = list(r.group_by)
    if r.matchers:
        doc["object_matchers"] = [list(m) for m in r.matchers]
    for key, value in (("group_wait", r.group_wait), ("group_interval", r.group_interval),
                       ("repeat_interval", r.repeat_interval)):
        if value:
            doc[key] = value
    if r.continue_:
        doc["continue"] = True
    if r.routes:
        doc["routes"] = [_route_doc(c) for c in r.routes]
    return doc


def _uid(name: str, i: int, type_: str) -> str:
    return f"{name}-{i}-{type_}"[:40]


def contact_points_document(n: Notifications) -> dict:
    return {
        "apiVersion": 1,
        "contactPoints": [
            {
                "orgId": ORG_ID,
                "name": cp.name,
                "receivers": [
                    {"uid": _uid(cp.name, i, integ.type), "type": integ.type, "settings": dict(integ.settings),
                     "disableResolveMessage": False}
                    for i, integ in enumerate(cp.integrations)
                ],
            }
            for cp in n.contact_points
        ],
    }


def policies_document(n: Notifications) -> dict:
    return {"apiVersion": 1, "policies": [{"orgId": ORG_ID, **_route_doc(n.policy)}]}
