"""Who hears about which alert, rendered for Grafana and for Alertmanager from one definition.

`alerts/routing.py` returns an `AlertRouting`: receivers by kind (email, slack, sms) and one
route tree, whose escalation steps (docs/targets.md §3) `escalation_routes()` builds from the config.
From it dashgen renders, under rendered/alerting/:

* `contact-points.yaml`, `policies.yaml`, `templates.yaml`: Grafana provisioning files
  (what `upload` sends through the provisioning API when `alerting = "grafana"`);
* `<template_name>.tmpl`: the notification template (Go template text, rendered with jinja2
  from generator/templates/notifications.tmpl.j2): Slack colour, title, one line per alert;
* `alertmanager.yaml`: the same tree and receivers as an Alertmanager configuration (for
  `alerting = "mimir"`, uploaded to Mimir's Alertmanager, or for your own Alertmanager).

Secrets never reach rendered/: settings hold `$VARIABLE` references (`secrets()` documents each
one's format), filled in from the environment at send time by `fill()`; an Alertmanager of
your own takes them through `envsubst`.
"""

from generator.notifications.alertmanager import alertmanager_document, alertmanager_files, deployable_files
from generator.notifications.escalation import escalation_routes
from generator.notifications.files import write_private
from generator.notifications.grafana import (
    ORG_ID, contact_points_document, grafana_integration, integration_uid, policies_document, templates_document,
)
from generator.notifications.model import KINDS, AlertRouting, Receiver, Route
from generator.notifications.secrets import (
    REF_RE, SECRET_FIELDS, MissingSecret, ReferenceOutsideSecretField, Secret, fill, missing, placeholders,
    references, secrets,
)
from generator.notifications.template import template_file, template_text, tmpl
from generator.notifications.validate import check_routing

__all__ = [
    "KINDS", "ORG_ID", "REF_RE", "SECRET_FIELDS", "AlertRouting", "MissingSecret", "Receiver",
    "ReferenceOutsideSecretField", "Route", "Secret", "alertmanager_document", "alertmanager_files",
    "check_routing", "contact_points_document", "deployable_files", "escalation_routes", "fill",
    "grafana_integration", "integration_uid", "missing", "placeholders", "policies_document", "references",
    "secrets", "template_file", "template_text", "templates_document", "tmpl", "write_private",
]
