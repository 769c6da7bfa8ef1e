"""Secrets: the `$VARIABLE` references notification settings carry instead of values, their
formats, and filling them in from the environment at send time (never into rendered/).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from generator.config import Config
from generator.errors import ConfigError


# Upper-case names only: `$labels`, `$value` in Go templates are not environment references.
REF_RE = re.compile(r"\$(?:\{([A-Z_][A-Z0-9_]*)\}|([A-Z_][A-Z0-9_]*))")


class MissingSecret(ConfigError):
    """A `$VARIABLE` the notifications refer to is not set: a configuration error (exit 2)."""


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
