"""The Alertmanager configuration: the same tree and receivers as alertmanager.yaml (for
`alerting = "mimir"` or your own Alertmanager), and its deployable, filled-in form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from generator.config import Config
from generator.errors import DashgenError
from generator.notifications.model import AlertRouting, Receiver, unknown_kind
from generator.notifications.route_tree import route_doc
from generator.notifications.secrets import MissingSecret, fill, missing, references
from generator.notifications.template import template_file, template_text, tmpl


def _am_matcher(m: tuple[str, str, str]) -> str:
    label, op, value = m
    return f"{label}{op}{json.dumps(value)}"  # a double-quoted value, escaped


def _am_matchers(ms) -> tuple[str, list]:
    return "matchers", [_am_matcher(m) for m in ms]


def _am_receiver(cfg: Config, rec: Receiver) -> dict:
    n = cfg.notifications
    if rec.kind == "email":
        return {"name": rec.name, "email_configs": [{
            "to": f"${n.email_addresses_env}", "send_resolved": True,
            "headers": {"Subject": tmpl(cfg, "title")}, "text": tmpl(cfg, "text")}]}
    if rec.kind == "slack":
        return {"name": rec.name, "slack_configs": [{
            "api_url": f"${n.slack_webhook_env}", "send_resolved": True, "title": tmpl(cfg, "slack.title"),
            "text": tmpl(cfg, "slack.text"), "color": tmpl(cfg, "slack.color")}]}
    if rec.kind == "sms":
        return {"name": rec.name, "webhook_configs": [{"url": f"${n.sms_webhook_env}", "send_resolved": True}]}
    raise DashgenError(unknown_kind(rec.kind))


def alertmanager_document(cfg: Config, routing: AlertRouting) -> dict:
    n = cfg.notifications
    doc: dict = {}
    if any(r.kind == "email" for r in routing.receivers):
        doc["global"] = {"smtp_smarthost": f"${n.smtp_smarthost_env}", "smtp_from": f"${n.smtp_from_env}",
                         "smtp_auth_username": f"${n.smtp_username_env}",
                         "smtp_auth_password": f"${n.smtp_password_env}"}
    doc["route"] = route_doc(routing.policy, _am_matchers)
    doc["receivers"] = [_am_receiver(cfg, r) for r in routing.receivers]
    doc["templates"] = [template_file(cfg)]
    return doc


def deployable_files(config: dict, template_files: Mapping[str, str], environ: Mapping[str, str],
                     used: list[str] | None = None) -> dict[str, str]:
    """A deployable Alertmanager configuration from the rendered one (alertmanager.yaml's
    document, with `$VAR` references, and its template files): {file name: text}, every
    reference filled from `environ`. MissingSecret names every unset variable at once.
    Write the files into one folder and point Alertmanager at alertmanager.yml; the templates
    are found beside it."""
    from generator.rules import dumps

    unset = missing(references(config, "alertmanager.yaml"), environ)
    if unset:
        raise MissingSecret(f"alertmanager.yaml: environment variable{'s' if len(unset) > 1 else ''} "
                            f"{', '.join(unset)} {'are' if len(unset) > 1 else 'is'} not set")
    return {"alertmanager.yml": dumps(fill(config, environ, "alertmanager.yaml", used)), **template_files}


def alertmanager_files(cfg: Config, routing: AlertRouting, environ: Mapping[str, str],
                       used: list[str] | None = None, cache=None) -> dict[str, str]:
    """`deployable_files` of what render writes to rendered/alerting/ for `cfg` and `routing`
    (the amtool check and the test stack, which scales `cfg`, build it without rendered/);
    `cache` keeps the template's text (notifications.template.template_text)."""
    return deployable_files(alertmanager_document(cfg, routing), {template_file(cfg): template_text(cfg, cache)},
                            environ, used)
