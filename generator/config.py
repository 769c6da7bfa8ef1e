"""The shape of a project's config: the types the tool reads, and their validation.

The values live in the project, never here: `<root>/monitoring/config.py` defines
`CONFIG = Config(...)` with every threshold, job name, plan limit and notification setting
of that project (`dashgen init` writes a small one to start from). The tool reads the
groups it needs by field name (`cfg.notifications`, `cfg.uptime`, `cfg.plan`), and treats
the project's own groups (`cfg.thresholds`, `cfg.jobs`, `cfg.selectors`, `cfg.dashboards`)
as frozen dataclasses it can inspect and vary (`with_thresholds`, the checks that move
every number to find literals), whatever fields they have.

Build functions take a `Config` argument, so tests and other stacks can render with
`dataclasses.replace` or `with_thresholds`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, replace
from typing import Any

from generator.errors import ConfigError


@dataclass(frozen=True)
class Plan:
    """The hosting plan's limits: process metrics need a denominator (memory share, CPU share)."""

    name: str
    memory_limit_bytes: int
    cpu_limit_cores: float


@dataclass(frozen=True)
class Notifications:
    """Where alerts go and when: the receivers' secrets (named, never held), the escalation
    steps, the Slack colours and the template name. Secrets are never here: only the names of
    the environment variables that hold them; `generator.notifications.secrets()` documents
    each variable's format."""

    slack_webhook_env: str  # the Slack incoming-webhook URL
    email_addresses_env: str  # comma-separated e-mail addresses
    sms_webhook_env: str  # an SMS gateway's webhook URL
    # An Alertmanager (alerting = "mimir", or your own) sends e-mail itself: its SMTP relay.
    smtp_smarthost_env: str
    smtp_from_env: str
    smtp_username_env: str
    smtp_password_env: str

    # Escalation: each step is a sibling route with `continue` and this group_wait, so a
    # group whose alerts resolved before its wait ends never reaches that step.
    email_after: str
    slack_after: str
    sms_after: str
    #: How far a critical alert climbs ("email", "slack" or "sms").
    critical_reach: str
    #: (alertname, reach) pairs for alerts that climb further or less far.
    reach_overrides: tuple[tuple[str, str], ...]
    critical_repeat_interval: str  # how often a firing critical reminds
    warning_repeat_interval: str  # how often a firing warning reminds

    # Slack attachment colours by severity, for any other severity, and for resolved alerts.
    slack_colours: tuple[tuple[str, str], ...]
    slack_colour_other: str
    slack_colour_resolved: str

    #: Template group (Grafana) and template file (Alertmanager) name.
    template_name: str

    #: Warnings go to Slack without the escalation steps, after Grafana's and Alertmanager's
    #: default wait, so a burst of one alert arrives as one message.
    warning_group_wait: str = "30s"
    group_by: tuple[str, ...] = ("alertname",)  # one message per alert name (plus Grafana's folder)
    #: A group whose alerts changed is re-sent after this wait (Alertmanager's default).
    group_interval: str = "5m"


#: `dashgen import`: a panel a factory call nearly reproduces is written as that call wrapped
#: in `p.override(call, changes)` when the changes' JSON is at most this share of the panel's
#: JSON; past it the panel stays whole (`p.raw`), which then reads no worse.
IMPORT_OVERRIDE_SHARE = 1 / 3


#: Where a ServiceDown-style alert and the uptime panel read the /health probe (`Uptime.source`).
UPTIME_SOURCES = ("blackbox", "synthetic-monitoring")


@dataclass(frozen=True)
class Uptime:
    """The external /health check and the source the availability alert reads.

    "blackbox" reads probe_success of a self-hosted blackbox_exporter's job; "synthetic-monitoring"
    reads a Grafana Cloud Synthetic Monitoring check's probe_success (one series per probe
    location). The check itself is defined in the project's synthetics/ and rendered per
    environment; its target is the environment's `target_key` in environments.toml.
    """

    source: str  # one of UPTIME_SOURCES
    check_job: str  # SM check `job` = the job label of its metrics
    probes: tuple[str, ...]  # SM public probe names (at least 3, so a majority exists)
    body_regexp: str  # the answer's body must match this (RE2)
    target_key: str = "health_url"  # environments.toml key holding each environment's /health URL
    valid_status_codes: tuple[int, ...] = (200,)
    require_tls: bool = True  # fail when the answer is not TLS
    basic_metrics_only: bool = True  # SM's basic metric set: fewer active series (cost)
    alert_sensitivity: str = "none"  # SM's own predefined alerts off: the project's rules alert

    @property
    def synthetic(self) -> bool:
        """True when the availability alert and the uptime panel read the Synthetic Monitoring check."""
        return self.source == "synthetic-monitoring"

    def __post_init__(self):
        if self.source not in UPTIME_SOURCES:
            raise ValueError(f"uptime source must be one of {', '.join(UPTIME_SOURCES)}, not {self.source!r}")


# --- Service level objectives ------------------------------------------------------------------


@dataclass(frozen=True)
class BurnTier:
    """One multi-window burn-rate condition: the error ratio over both windows is above
    `factor` times the error budget (1 - objective). `factor` x long window / period is the
    share of the budget burnt when it fires (14.4 x 1h / 30d = 2 %)."""

    factor: float
    long_window: str
    short_window: str  # about long / 12: resets the alert soon after the burn stops


@dataclass(frozen=True)
class SLOConfig:
    """How a project's SLOs (slos/) become rules, tests and a dashboard (generator/slo.py):
    the period, the recorded windows, the burn-rate tiers (SRE workbook defaults for a 30-day
    budget) and how pages and tickets are labelled. The objectives themselves are the project's
    (its slos/ read them from its own config). Change a value and run `make dashboards`:
    alerts, tests and panels move together."""

    period: str = "30d"  # the budget period every objective is measured over
    # Error-ratio recording windows: every tier's windows, plus the period (added by the generator).
    windows: tuple[str, ...] = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
    # SRE workbook, 30-day budget: page on 2 % of the budget in 1 h or 5 % in 6 h.
    page_tiers: tuple[BurnTier, ...] = (BurnTier(14.4, "1h", "5m"), BurnTier(6, "6h", "30m"))
    # Ticket on 10 % of the budget in 3 days. (A 3x 1d + 2h tier would fire no sooner: at a 3x
    # burn the 3d window reaches 1x after one day as well.)
    ticket_tiers: tuple[BurnTier, ...] = (BurnTier(1, "3d", "6h"),)
    page_severity: str = "critical"  # pages escalate like every critical alert
    ticket_severity: str = "warning"  # tickets go to Slack only, like every warning
    page_for: str = "2m"  # a page condition must hold this long (one blip of 5xx never pages)
    ticket_for: str = "15m"
    record_level: str = "slo"  # recording rules: <level>:slo_error:ratio_rate<window>
    dashboard_uid: str = "slos"  # the generated SLO dashboard (a project sets its own)
    dashboard_time_from: str = "now-7d"  # the SLO dashboard's default range
    budget_remaining_warn: float = 0.25  # SLO dashboard: budget left below a quarter is red
    exhaustion_warn_seconds: int = 3 * 86400  # SLO dashboard: budget gone within 3 days at this burn is red


_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
#: A project name goes into Markdown headings and notification templates as it is.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._'-]{0,63}$")


@dataclass(frozen=True)
class Config:
    """A project's config. `thresholds`, `jobs`, `selectors` and `dashboards` are the project's
    own frozen dataclasses (any fields); the other groups have the types above."""

    #: The project's name as people read it: dashboard link bar, docs titles, notifications.
    name: str
    #: Tag every dashboard of the project carries: the link bar and ownership use it.
    tag: str
    thresholds: Any
    jobs: Any
    selectors: Any
    dashboards: Any  # dashboard uids (alerts' dashboard_url links to them)
    plan: Plan
    notifications: Notifications
    uptime: Uptime
    #: Rules and annotations link here; dashboards never hard-code it.
    grafana_url: str
    #: runbook_url = <base>#<alertname lower-case>; rendered/docs/runbooks.md holds the anchors.
    runbook_base_url: str
    #: Rule evaluation interval for every group (Grafana needs a multiple of 10 s).
    rule_interval: str
    #: Default dashboard time range and refresh.
    time_from: str
    refresh: str
    #: Other plans `for_plan(name)` switches to (both limits together).
    plans: tuple[Plan, ...] = ()
    #: A prefix the project's uids share, left out of the module names `dashgen import` picks.
    uid_prefix: str = ""
    #: How the SLOs under slos/ become rules, tests and a dashboard.
    slo: SLOConfig = SLOConfig()

    def __post_init__(self):
        for group in ("thresholds", "jobs", "selectors", "dashboards"):
            value = getattr(self, group)
            if not (dataclasses.is_dataclass(value) and not isinstance(value, type)):
                raise ConfigError(f"config {group} must be a dataclass instance, not {type(value).__name__}")
        for group, kind in (("plan", Plan), ("notifications", Notifications), ("uptime", Uptime),
                            ("slo", SLOConfig)):
            if not isinstance(getattr(self, group), kind):
                raise ConfigError(f"config {group} must be a generator.config.{kind.__name__}, "
                                  f"not {type(getattr(self, group)).__name__}")
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ConfigError(f"config name {self.name!r} must be 1-64 letters, digits, spaces or . _ ' -")
        if not isinstance(self.tag, str) or not _TAG.match(self.tag):
            raise ConfigError(f"config tag {self.tag!r} must be 1-40 lower-case letters, digits, - or _")

    def with_thresholds(self, **changes) -> "Config":
        return replace(self, thresholds=replace(self.thresholds, **changes))

    def for_plan(self, name: str) -> "Config":
        plans = {p.name: p for p in (self.plan, *self.plans)}
        if name not in plans:
            raise ConfigError(f"unknown plan {name!r} (known: {', '.join(sorted(plans))})")
        return replace(self, plan=plans[name])
