"""Synthetic Monitoring checks as code: the definition kind under synthetics/ and its rendering.

    # synthetics/backend_health.py
    def build(cfg) -> HttpCheck: ...

A check names the environments.toml key that holds its target (`health_url`), so one
definition yields one check per environment that sets the key, rendered to
`rendered/synthetics/<environment>/<job>.json` in the Synthetic Monitoring API's check shape
(synthetic-monitoring-api-go-client docs/API.md, agent checks.proto): `frequency` and
`timeout` in milliseconds, `labels` as name/value pairs, `settings.http`. Only `probes`
differs: it holds probe *names*, which upload resolves to the tenant's probe ids
(GET /api/v1/probe/list), since ids are not known offline.

`comparable()` is what upload compares and hashes: the fields of the check shape only (not
id, tenantId, created, modified), without dashgen's mark label and without empty values (the
API may fill in defaults such as `noFollowRedirects: false`), so an unchanged check compares
equal.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from generator.errors import DefinitionError

#: Label dashgen adds at upload time: a hash of the check as dashgen wrote it (drift, ownership).
MARK_LABEL = "dashgen"
#: Label every rendered check carries: the environment it belongs to (prune stays inside it).
ENV_LABEL = "env"
#: The check fields dashgen writes and compares; the server's own (id, tenantId, created,
#: modified) and any it may add are ignored.
CHECK_KEYS = ("job", "target", "frequency", "timeout", "enabled", "probes", "labels", "basicMetricsOnly",
              "alertSensitivity", "settings")
MAX_FREQUENCY_SECONDS = 3600  # SM API: a check runs at least once an hour
MAX_TIMEOUT_SECONDS = 60  # SM API: and times out within a minute (and within its frequency)
MAX_LABELS = 5  # SM API: at most 5 labels per check
MAX_LABEL_BYTES = 32  # SM API: names and values at most 32 bytes, never empty
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS")
SENSITIVITIES = ("none", "low", "medium", "high")


@dataclass(frozen=True)
class HttpCheck:
    """One HTTP check; `target_key` names the environments.toml key holding its URL."""

    job: str
    target_key: str
    frequency_seconds: int
    timeout_seconds: int
    probes: tuple[str, ...]
    method: str = "GET"
    valid_status_codes: tuple[int, ...] = (200,)
    fail_if_body_not_matches: tuple[str, ...] = ()
    fail_if_not_ssl: bool = True
    labels: dict[str, str] = field(default_factory=dict)
    basic_metrics_only: bool = True
    alert_sensitivity: str = "none"
    enabled: bool = True


def validate(check: HttpCheck, where: str) -> None:
    """Raise DefinitionError for anything the SM API would refuse (docs/API.md, checks.proto)."""
    def bad(why: str):
        raise DefinitionError(where, f"check {check.job!r}: {why}")

    if not check.job:
        bad("job is empty")
    if not 1 <= check.frequency_seconds <= MAX_FREQUENCY_SECONDS:
        bad(f"frequency {check.frequency_seconds} s is outside 1 s .. {MAX_FREQUENCY_SECONDS} s")
    if not 1 <= check.timeout_seconds <= min(check.frequency_seconds, MAX_TIMEOUT_SECONDS):
        bad(f"timeout {check.timeout_seconds} s is outside 1 s .. min(frequency, {MAX_TIMEOUT_SECONDS} s)")
    if not check.probes or len(set(check.probes)) != len(check.probes):
        bad("probes must name at least one location, each once")
    if check.method not in METHODS:
        bad(f"method {check.method!r} is not one of {', '.join(METHODS)}")
    if check.alert_sensitivity not in SENSITIVITIES:
        bad(f"alert_sensitivity {check.alert_sensitivity!r} is not one of {', '.join(SENSITIVITIES)}")
    if len(check.labels) + 2 > MAX_LABELS:  # + the env label and, at upload, the mark
        bad(f"at most {MAX_LABELS - 2} labels (dashgen adds {ENV_LABEL!r} and {MARK_LABEL!r})")
    if ENV_LABEL in check.labels or MARK_LABEL in check.labels:
        bad(f"labels {ENV_LABEL!r} and {MARK_LABEL!r} are dashgen's")
    for name, value in check.labels.items():
        if not name or not value or len(name.encode()) > MAX_LABEL_BYTES or len(value.encode()) > MAX_LABEL_BYTES:
            bad(f"label {name!r}={value!r}: names and values are 1..{MAX_LABEL_BYTES} bytes")


def check_document(check: HttpCheck, target: str, env: str, where: str = "synthetics/") -> dict:
    """The SM API body for `check` aimed at `target` in environment `env` (probes by name)."""
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DefinitionError(where, f"check {check.job!r}: target {target!r} for {env} is not an http(s) URL")
    if check.fail_if_not_ssl and parts.scheme != "https":
        raise DefinitionError(where, f"check {check.job!r}: target {target!r} for {env} must be https:// "
                                     "(the check fails when the answer is not TLS)")
    labels = {**check.labels, ENV_LABEL: env}
    if len(env.encode()) > MAX_LABEL_BYTES:
        raise DefinitionError(where, f"environment name {env!r} is longer than {MAX_LABEL_BYTES} bytes")
    return {
        "job": check.job,
        "target": target,
        "frequency": check.frequency_seconds * 1000,
        "timeout": check.timeout_seconds * 1000,
        "enabled": check.enabled,
        "probes": list(check.probes),
        "labels": [{"name": k, "value": v} for k, v in sorted(labels.items())],
        "basicMetricsOnly": check.basic_metrics_only,
        "alertSensitivity": check.alert_sensitivity,
        "settings": {"http": {
            "method": check.method,
            "ipVersion": "V4",
            "validStatusCodes": list(check.valid_status_codes),
            "failIfNotSSL": check.fail_if_not_ssl,
            "failIfBodyNotMatchesRegexp": list(check.fail_if_body_not_matches),
        }},
    }


def render_checks(loaded: list[tuple[str, HttpCheck]], environments: dict[str, dict]) -> dict[str, dict]:
    """rendered/ path -> check document, for every check and environment that sets its target key."""
    out: dict[str, dict] = {}
    seen: dict[str, str] = {}
    for rel, check in loaded:
        validate(check, rel)
        if check.job in seen:
            raise DefinitionError(rel, f"check job {check.job!r} is already defined in {seen[check.job]}")
        seen[check.job] = rel
        for env, table in sorted(environments.items()):
            target = table.get(check.target_key)
            if target:
                out[f"synthetics/{env}/{check.job}.json"] = check_document(check, str(target), env, rel)
    return out


def _prune_empty(value):
    if isinstance(value, dict):
        kept = {k: _prune_empty(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", [], {}, False, 0)}
    if isinstance(value, list):
        return [_prune_empty(v) for v in value]
    return value


def comparable(check: dict) -> dict:
    """The check as dashgen compares it: the CHECK_KEYS fields, no mark, no empty values,
    sorted lists where order carries no meaning (probes, labels)."""
    doc = {k: check[k] for k in CHECK_KEYS if k in check}
    doc["labels"] = sorted((lab for lab in doc.get("labels") or [] if lab.get("name") != MARK_LABEL),
                           key=lambda lab: (lab.get("name", ""), lab.get("value", "")))
    doc["probes"] = sorted(doc.get("probes") or [])
    return _prune_empty(doc)


def content_hash(check: dict) -> str:
    """16 hex digits (fits a 32-byte label value) of the comparable check."""
    text = json.dumps(comparable(check), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def with_mark(check: dict) -> dict:
    """`check` plus dashgen's mark label (the hash of everything else)."""
    labels = [lab for lab in check.get("labels") or [] if lab.get("name") != MARK_LABEL]
    return {**check, "labels": labels + [{"name": MARK_LABEL, "value": content_hash(check)}]}


def label(check: dict, name: str = MARK_LABEL) -> str | None:
    """The value of label `name` (default: dashgen's mark), or None."""
    for lab in check.get("labels") or []:
        if lab.get("name") == name:
            return lab.get("value")
    return None
