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

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Mapping

from generator.config import Config
from generator.durations import duration, is_duration, seconds
from generator.errors import ConfigError, DashgenError, DefinitionError

ORG_ID = 1
KINDS = ("email", "slack", "sms")  # the escalation ladder, in order (docs/targets.md §3)
# Upper-case names only: `$labels`, `$value` in Go templates are not environment references.
REF_RE = re.compile(r"\$(?:\{([A-Z_][A-Z0-9_]*)\}|([A-Z_][A-Z0-9_]*))")


class MissingSecret(ConfigError):
    """A `$VARIABLE` the notifications refer to is not set: a configuration error (exit 2)."""


@dataclass(frozen=True)
class Receiver:
    name: str
    kind: str  # email | slack | sms (a webhook to an SMS gateway)


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
class AlertRouting:
    """The definition alerts/routing.py returns (formerly named `Notifications`)."""

    receivers: tuple[Receiver, ...]
    policy: Route


# --- secrets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    env: str
    format: str
    placeholder: str  # a valid value of the right shape, for offline checks (never sent)


def secrets(cfg: Config) -> dict[str, Secret]:
    """Every variable the rendered files may refer to, with its format (README "Secrets")."""
    n = cfg.notifications
    return {s.env: s for s in (
        Secret(n.slack_webhook_env, "a Slack incoming-webhook URL (https://hooks.slack.com/services/...)",
               "https://hooks.slack.com/services/T000/B000/placeholder"),
        Secret(n.email_addresses_env, "e-mail addresses separated by commas (a@x.com,b@y.com); "
               "Grafana also takes semicolons, Alertmanager does not", "oncall@example.invalid"),
        Secret(n.sms_webhook_env, "the https URL of an SMS gateway's webhook (receives Alertmanager's "
               "webhook JSON with a POST)", "https://sms.example.invalid/hook"),
        Secret(n.smtp_smarthost_env, "Alertmanager only: the SMTP relay as host:port (smtp.example.com:587)",
               "smtp.example.invalid:587"),
        Secret(n.smtp_from_env, "Alertmanager only: the sender address (alerts@example.com)",
               "alerts@example.invalid"),
        Secret(n.smtp_username_env, "Alertmanager only: the SMTP login", "alerts"),
        Secret(n.smtp_password_env, "Alertmanager only: the SMTP password", "placeholder"),
    )}


#: The only fields whose values may refer to environment variables: where a secret goes
#: (Grafana contact-point settings, Alertmanager receivers and its global SMTP settings). A
#: reference anywhere else (a receiver's name, a title) would copy a secret into a place
#: that is shown, logged and not encrypted, so it is refused.
SECRET_FIELDS = frozenset({
    "url", "api_url", "addresses", "to", "token", "password", "authorization_credentials",
    "smtp_smarthost", "smtp_from", "smtp_auth_username", "smtp_auth_password", "smtp_auth_secret",
})


class ReferenceOutsideSecretField(ConfigError):
    """A `$VAR` in a field that is not a secret field (exit 2; nothing is filled in or sent)."""


def _strings(value, path: str = "", field: str | None = None):
    """(path, field name, string) for every string in a document, depth first."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k), str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]", field)
    elif isinstance(value, str):
        yield path, field, value


def references(value, where: str = "the notifications") -> list[str]:
    """The `$VAR` names in a document's secret fields, in order of appearance, each once.
    ReferenceOutsideSecretField names the first reference found in any other field."""
    found: list[str] = []
    for path, field, text in _strings(value):
        names = [m.group(1) or m.group(2) for m in REF_RE.finditer(text)]
        if names and field not in SECRET_FIELDS:
            raise ReferenceOutsideSecretField(
                f"{where}: {path} refers to ${names[0]}, but only secret fields "
                f"({', '.join(sorted(SECRET_FIELDS))}) take environment variables")
        found += names
    return list(dict.fromkeys(found))


def missing(names, environ: Mapping[str, str]) -> list[str]:
    """The variables among `names` that `environ` leaves unset or empty."""
    return [n for n in names if not environ.get(n)]


def fill(value, environ: Mapping[str, str], where: str, used: list[str] | None = None):
    """`value` with every `$VAR` / `${VAR}` in its secret fields (SECRET_FIELDS, at any depth)
    taken from `environ`; a reference in any other field raises ReferenceOutsideSecretField.

    The values used are appended to `used` (so a client can scrub them from any answer).
    A variable that is unset or empty raises MissingSecret naming it, never its value."""
    references(value, where)  # refuses a reference outside the secret fields before filling any
    used = [] if used is None else used

    def walk(v, field: str | None):
        if isinstance(v, dict):
            return {k: walk(x, str(k)) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, field) for x in v]
        if not isinstance(v, str) or field not in SECRET_FIELDS:
            return v
        return REF_RE.sub(one, v)

    def one(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        if not environ.get(name):
            raise MissingSecret(f"{where}: environment variable {name} is not set")
        used.append(environ[name])
        return environ[name]

    return walk(value, None)


def placeholders(cfg: Config) -> dict[str, str]:
    """Stand-in values of the right shape, for amtool and the routing tests (never uploaded)."""
    return {name: s.placeholder for name, s in secrets(cfg).items()}


# --- escalation -------------------------------------------------------------------------------


def escalation_routes(cfg: Config, receivers: Mapping[str, str]) -> tuple[Route, ...]:
    """Sibling routes for critical alerts, one per escalation step (docs/targets.md §3).

    Every step matches `severity=critical` (plus the alert names allowed that far, for steps
    beyond `critical_reach`), waits its `*_after` as group_wait and continues to the next, so
    an alert still firing when a step's wait ends reaches that step's receiver too, and a
    group resolved before then never does. `receivers` maps kind -> receiver name.
    """
    n = cfg.notifications
    after = {"email": n.email_after, "slack": n.slack_after, "sms": n.sms_after}
    reach = {kind: i for i, kind in enumerate(KINDS)}
    for kind in (n.critical_reach, *(r for _a, r in n.reach_overrides)):
        if kind not in reach:
            raise DashgenError(f"monitoring/config.py: escalation step {kind!r} is not one of {', '.join(KINDS)}")
    routes = []
    for kind in KINDS:
        matchers: tuple[tuple[str, str, str], ...] = (("severity", "=", "critical"),)
        if reach[kind] > reach[n.critical_reach]:
            names = sorted(a for a, r in n.reach_overrides if reach[r] >= reach[kind])
            if not names:
                continue
            matchers += (("alertname", "=~", "|".join(names)),)
        routes.append(Route(receivers[kind], matchers=matchers, group_wait=after[kind],
                            repeat_interval=n.critical_repeat_interval, continue_=True))
    routes[-1] = replace(routes[-1], continue_=False)
    return tuple(routes)


def scaled(cfg: Config, factor: float) -> Config:
    """The config with every notification wait and interval divided by `factor` (the
    reference stack's time scale; whole seconds, at least 1 s where it was not 0)."""
    n = cfg.notifications

    def s(value: str) -> str:
        secs = seconds(value)
        return duration(max(1, round(secs / factor)) if secs else 0)

    waits = [f.name for f in fields(n) if isinstance(getattr(n, f.name), str) and is_duration(getattr(n, f.name))]
    return replace(cfg, notifications=replace(n, **{f: s(getattr(n, f)) for f in waits}))


# --- the notification template ---------------------------------------------------------------

_overlay = []


def _env():
    """Go templates use {{ }}, so the jinja2 source uses [[ ]] and [% %] (docs' environment
    otherwise). Made on first use: importing this module (the loader does) needs no jinja2."""
    if not _overlay:
        from generator.docs import _env as docs_env

        _overlay.append(docs_env.overlay(variable_start_string="[[", variable_end_string="]]",
                                         block_start_string="[%", block_end_string="%]",
                                         comment_start_string="[#", comment_end_string="#]"))
    return _overlay[0]


def template_text(cfg: Config) -> str:
    n = cfg.notifications
    return _env().get_template("notifications.tmpl.j2").render(
        name=n.template_name, title=cfg.name, colours=n.slack_colours, other=n.slack_colour_other,
        resolved=n.slack_colour_resolved)


def tmpl(cfg: Config, part: str) -> str:
    """A setting that calls one part of the notification template, e.g. `slack.color`."""
    return '{{ template "%s.%s" . }}' % (cfg.notifications.template_name, part)


# --- Grafana provisioning documents -----------------------------------------------------------


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
    raise DashgenError(_unknown_kind(kind))


def _unknown_kind(kind: str) -> str:
    return f"receiver kind {kind!r} is not one of {', '.join(KINDS)}"


def _route_doc(r: Route, matchers, root_group_by: tuple[str, ...] = ()) -> dict:
    """A route tree as a dict; `matchers(r.matchers)` gives the (key, value) of the matchers."""
    doc: dict = {"receiver": r.receiver}
    if r.group_by:
        doc["group_by"] = list(root_group_by) + list(r.group_by)
    if r.matchers:
        key, value = matchers(r.matchers)
        doc[key] = value
    for key, value in (("group_wait", r.group_wait), ("group_interval", r.group_interval),
                       ("repeat_interval", r.repeat_interval)):
        if value:
            doc[key] = value
    if r.continue_:
        doc["continue"] = True
    if r.routes:
        doc["routes"] = [_route_doc(c, matchers) for c in r.routes]
    return doc


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
    return {"apiVersion": 1, "policies": [{"orgId": ORG_ID, **_route_doc(routing.policy, _grafana_matchers,
                                                                          root_group_by=("grafana_folder",))}]}


def templates_document(cfg: Config) -> dict:
    return {"apiVersion": 1, "templates": [
        {"orgId": ORG_ID, "name": cfg.notifications.template_name, "template": template_text(cfg)}]}


# --- Alertmanager configuration ----------------------------------------------------------------


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
    raise DashgenError(_unknown_kind(rec.kind))


def template_file(cfg: Config) -> str:
    return f"{cfg.notifications.template_name}.tmpl"


def alertmanager_document(cfg: Config, routing: AlertRouting) -> dict:
    n = cfg.notifications
    doc: dict = {}
    if any(r.kind == "email" for r in routing.receivers):
        doc["global"] = {"smtp_smarthost": f"${n.smtp_smarthost_env}", "smtp_from": f"${n.smtp_from_env}",
                         "smtp_auth_username": f"${n.smtp_username_env}",
                         "smtp_auth_password": f"${n.smtp_password_env}"}
    doc["route"] = _route_doc(routing.policy, _am_matchers)
    doc["receivers"] = [_am_receiver(cfg, r) for r in routing.receivers]
    doc["templates"] = [template_file(cfg)]
    return doc


def check_routing(routing: AlertRouting, rel: str) -> None:
    """Every receiver has a known kind, every route names a defined receiver, and receiver
    names are unique (at load time, so the error names the definition file)."""
    for r in routing.receivers:
        if r.kind not in KINDS:
            raise DefinitionError(rel, f"receiver {r.name!r}: {_unknown_kind(r.kind)}")
    names = [r.name for r in routing.receivers]
    dupes = sorted({x for x in names if names.count(x) > 1})
    if dupes:
        raise DefinitionError(rel, f"receiver {dupes[0]!r} is defined twice")

    def walk(r: Route) -> None:
        if r.receiver not in names:
            raise DefinitionError(rel, f"route names receiver {r.receiver!r}, which is not defined "
                                       f"(defined: {', '.join(names)})")
        for c in r.routes:
            walk(c)

    walk(routing.policy)


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
                       used: list[str] | None = None) -> dict[str, str]:
    """`deployable_files` of what render writes to rendered/alerting/ for `cfg` and `routing`
    (the amtool check and the test stack, which scales `cfg`, build it without rendered/)."""
    return deployable_files(alertmanager_document(cfg, routing), {template_file(cfg): template_text(cfg)},
                            environ, used)


def write_private(files: Mapping[str, str], folder: Path) -> list[Path]:
    """Write {file name: text} into `folder`, each file readable by its owner only, since a
    filled-in Alertmanager configuration holds secrets; the paths written.

    Each file is written to a new temporary file (mode 0600, created exclusively) beside it
    and renamed over the old one once every file is written, so an old file's mode never
    carries over and a failure leaves the old files as they were. Symbolic links are refused,
    as the folder itself (name the folder it points to instead) and as a file in it: the
    secrets go exactly where named, not where a link leads. A new folder is made 0700."""
    folder = Path(folder)
    if folder.is_symlink():
        raise DashgenError(f"{folder} is a symbolic link: refused for files holding secrets "
                           f"(give the folder it points to, {os.path.realpath(folder)})")
    temps: list[tuple[str, Path]] = []
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for name in files:
            path = folder / name
            if path.is_symlink():
                raise DashgenError(f"{path} is a symbolic link: refused, the secrets would be written where "
                                   f"it points; remove it first")
            if path.exists() and not path.is_file():
                raise DashgenError(f"{path} exists and is not a regular file")
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".new")  # 0600, O_EXCL
            temps.append((tmp, folder / name))
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, path in temps:
            os.replace(tmp, path)  # replaces a link put there meanwhile, never writes through it
    except OSError as exc:
        raise DashgenError(f"cannot write {folder}: {exc.strerror or exc}") from exc
    finally:
        for tmp, _path in temps:
            if os.path.lexists(tmp):
                os.unlink(tmp)
    return [folder / name for name in files]
