"""The Grafana provisioning documents: contact-points.yaml, policies.yaml, templates.yaml
(what `upload` sends through the provisioning API when `alerting = "grafana"`).
"""

from __future__ import annotations

from generator.config import Config
from generator.errors import DashgenError
from generator.notifications.model import AlertRouting, unknown_kind
from generator.notifications.route_tree import route_doc
from generator.notifications.template import template_text, tmpl


ORG_ID = 1


def grafana_integration(cfg: Config, kind: str) -> tuple[str, dict]:
    """(Grafana integration type, settings) for one receiver kind."""
    n = cfg.notifications
    if kind == "email":
        return "email", {"addresses": f"${n.email_addresses_env}", "singleEmail": True,
                         "subject": tmpl(cfg, "title"), "message": tmpl(cfg, "text")}
    if kind == "slack":  # `color` is a template since Grafana 11.6
        return "slack", {"url": f"${n.slack_webhook_env}", "title": tmpl(cfg, "slack.title"),
                         "text": tmpl(cfg, "slack.text"), "color": tmpl(cfg, "slack.color")}
    if kind == "sms":
        return "webhook", {"url": f"${n.sms_webhook_env}", "httpMethod": "POST"}
    raise DashgenError(unknown_kind(kind))


def _grafana_matchers(ms) -> tuple[str, list]:
    return "object_matchers", [list(m) for m in ms]


def integration_uid(name: str, index: int, type_: str) -> str:
    """The uid dashgen gives integration `index` of contact point `name`, in every release:
    upload recognises the contact points it wrote by it (contactpoints.owned)."""
    return f"{name}-{index}-{type_}"[:40]


def contact_points_document(cfg: Config, routing: AlertRouting) -> dict:
    """One contact point per receiver, one integration each. Uids keep the `<name>-<i>-<type>`
    form of earlier releases: Grafana joins integrations by contact-point name, so a new uid
    for an existing name would add a second Slack integration instead of updating it."""
    points = []
    for rec in routing.receivers:
        type_, settings = grafana_integration(cfg, rec.kind)
        points.append({"orgId": ORG_ID, "name": rec.name, "receivers": [
            {"uid": integration_uid(rec.name, 0, type_), "type": type_, "settings": settings,
             "disableResolveMessage": False}]})
    return {"apiVersion": 1, "contactPoints": points}


def policies_document(routing: AlertRouting) -> dict:
    return {"apiVersion": 1, "policies": [{"orgId": ORG_ID, **route_doc(routing.policy, _grafana_matchers,
                                                                          root_group_by=("grafana_folder",))}]}


def templates_document(cfg: Config) -> dict:
    return {"apiVersion": 1, "templates": [
        {"orgId": ORG_ID, "name": cfg.notifications.template_name, "template": template_text(cfg)}]}
