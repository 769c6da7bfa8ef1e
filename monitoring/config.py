"""Raymontology's numbers: every threshold, interval, plan limit, job name and selector, once.

Dashboards and alert rules both read `CONFIG`, so a number changes in exactly one place.
Each value's comment names the seed rule it serves ("docs/targets.md §n", see
docs/targets.md) or the alert/panel that reads it. The types (`Config`, `Plan`,
`Notifications`, `Uptime`) are dashgen's (generator/config.py); the groups below
(`Jobs`, `Thresholds`, `Selectors`, `Dashboards`) are this project's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.config import Config, Notifications, Plan, SLOConfig, Uptime
from generator.durations import duration, last_checks_window

MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(frozen=True)
class Jobs:
    """Prometheus scrape job names (the scrape job names the stack and production use)."""

    backend: str = "raymontology-backend"  # FastAPI /metrics (prometheus-fastapi-instrumentator)
    worker: str = "raymontology-worker"  # Celery task metrics (celery-exporter names)
    postgres: str = "postgres"  # postgres_exporter
    redis: str = "redis"  # redis_exporter
    blackbox: str = "blackbox"  # blackbox_exporter probe of the backend's /health (docs/targets.md §3)
    # The frontend's Synthetic Monitoring check (synthetics/frontend.py, docs/targets.md §3: GET /):
    # its `job` is the job label of its probe_success, which FrontendDown and the frontend uptime panel read.
    frontend_check: str = "raymontology-frontend"


#: Railway plan limits: process metrics need a denominator (docs/metrics.md §9). Memory is
#: binary (MiB/GiB), chosen once per docs/metrics.md §9; confirm the vCPU count against the
#: Railway plan before relying on the CPU percentage. `CONFIG.for_plan("pro")` switches both.
FREE = Plan(
    name="free",
    memory_limit_bytes=512 * MIB,  # docs/targets.md §1: plan memory limit 512 MB (free)
    cpu_limit_cores=1.0,  # seed gap: no CPU limit given; one vCPU assumed for free
)
PRO = Plan(name="pro", memory_limit_bytes=8 * GIB, cpu_limit_cores=8.0)  # docs/targets.md §1: 8 GB (Pro)


@dataclass(frozen=True)
class Thresholds:
    """Every number from the seed, once. Targets feed dashboards, alerts feed rules."""

    # --- HTTP errors -------------------------------------------------------------------
    error_ratio_target: float = 0.001  # docs/targets.md §7: HTTP 5xx error rate < 0.1 % (dashboard line)
    error_ratio_alert: float = 0.01  # docs/targets.md §8 HighErrorRate: 5xx errors > 1 % over 5 min
    error_ratio_window: str = "5m"  # docs/targets.md §8 HighErrorRate: "over 5 min" (rate window)
    error_ratio_for: str = "5m"  # docs/targets.md §8 HighErrorRate: time 5 min
    error_min_request_rate: float = 0.05  # HighErrorRate guard: ignore < 3 req/min (docs/metrics.md §12)

    # --- HTTP latency --------------------------------------------------------------------
    latency_mean_target_seconds: float = 0.2  # docs/targets.md §7: mean response time < 200 ms
    latency_p95_alert_seconds: float = 1.0  # docs/targets.md §8 SlowAPIResponse: P95 latency > 1 s
    latency_p95_for: str = "5m"  # docs/targets.md §8 SlowAPIResponse: time 5 min
    latency_window: str = "5m"  # docs/targets.md §8 SlowAPIResponse: P95 over 5 min (rate window)

    # --- Availability --------------------------------------------------------------------
    uptime_target: float = 0.999  # docs/targets.md §7: uptime > 99.9 %
    health_check_interval_seconds: int = 60  # docs/targets.md §3: health check interval 1 min
    health_check_timeout_seconds: int = 30  # docs/targets.md §3: health check timeout 30 s
    service_down_failed_checks: int = 3  # docs/targets.md §8 ServiceDown: health check fails 3 times
    service_up_recovery_checks: int = 3  # docs/targets.md §3: incident auto-resolves after 3 good checks
    # ServiceDown on Synthetic Monitoring: down when fewer than this share of probe
    # locations still succeed, i.e. a majority fails (one flaky location never pages).
    service_down_location_share: float = 0.5
    scrape_missing_for: str = "3m"  # docs/targets.md §8 ServiceDown: 3 min; also TargetMissing/absent()
    frontend_check_interval_seconds: int = 180  # docs/targets.md §3: the frontend is checked every 3 min
    frontend_check_timeout_seconds: int = 30  # docs/targets.md §3: frontend check timeout 30 s
    frontend_valid_status_codes: tuple[int, ...] = (200,)  # docs/targets.md §3: GET / answers status 200
    # FrontendDown: a majority of locations (service_down_location_share) had no success in this
    # many checks in a row. 2 x 3 min pages within about 6 min (3 checks, as for /health, would be 9);
    # one failed check alone can be a deploy restarting. Resolves after service_up_recovery_checks.
    frontend_down_failed_checks: int = 2

    # --- Resources -----------------------------------------------------------------------
    cpu_target: float = 0.70  # docs/targets.md §7: CPU < 70 % (dashboard line)
    cpu_alert: float = 0.80  # docs/targets.md §8 HighCPUUsage: CPU > 80 % (docs/targets.md §1: consider scaling)
    cpu_for: str = "10m"  # docs/targets.md §8 HighCPUUsage: time 10 min
    memory_target: float = 0.85  # docs/targets.md §7: memory < 85 % (dashboard line)
    memory_alert: float = 0.85  # docs/targets.md §8 HighMemoryUsage: memory > 85 % (docs/targets.md §1)
    memory_for: str = "5m"  # docs/targets.md §8 HighMemoryUsage: time 5 min
    resource_window: str = "5m"  # HighCPUUsage: rate window for process_cpu_seconds_total
    restarts_warn: int = 1  # system-health panel "restarts": any restart in the range is worth a look

    # --- Database ------------------------------------------------------------------------
    db_connection_failed_for: str = "1m"  # docs/targets.md §8 DatabaseConnectionFailed: time 1 min
    slow_query_seconds: float = 1.0  # docs/targets.md §7: slow queries (> 1 s); an le bucket bound
    pg_connections_warn: float = 0.80  # PostgresConnectionsHigh: share of max_connections
    pg_connections_for: str = "10m"  # PostgresConnectionsHigh: sustained, like HighCPUUsage
    pool_usage_warn: float = 0.90  # DbPoolNearlyExhausted; database panel "pool usage" line
    pool_usage_for: str = "5m"  # DbPoolNearlyExhausted
    pg_cache_hit_target: float = 0.99  # database panel "cache hit ratio" line (OLTP rule of thumb)
    long_transaction_seconds: float = 300.0  # database panel "longest transaction" red line
    slow_query_share_warn: float = 0.01  # database panel "slow-query share": 1 % of statements > 1 s
    deadlocks_warn: int = 1  # database panel "deadlocks": any deadlock in the range

    # --- Redis ---------------------------------------------------------------------------
    redis_down_for: str = "1m"  # RedisDown: same urgency as docs/targets.md §8 DatabaseConnectionFailed
    redis_memory_warn: float = 0.90  # RedisMemoryHigh: share of maxmemory (when maxmemory > 0)
    redis_memory_for: str = "5m"  # RedisMemoryHigh

    # --- Celery worker -------------------------------------------------------------------
    celery_failure_ratio_alert: float = 0.05  # CeleryTaskHighFailRate (celery-mixin, docs/metrics.md §12)
    celery_failure_window: str = "10m"  # CeleryTaskHighFailRate: increase window
    celery_failure_for: str = "5m"  # CeleryTaskHighFailRate
    celery_worker_down_for: str = "5m"  # CeleryWorkerDown (docs/metrics.md §12: 5-15 min)
    celery_queue_warn: int = 100  # system-health panel "queue length" line

    # --- Business ------------------------------------------------------------------------
    high_risk_score: float = 0.8  # docs/targets.md §6: risk_score > 0.8 sends a Slack warning
    dart_crawl_stale_seconds: int = 86400  # DartCrawlStale: no successful crawl for 1 day
    dart_crawl_stale_for: str = "10m"  # DartCrawlStale
    dart_success_target: float = 0.95  # business panel "DART crawl success" line

    # --- Service level objectives (slos/; 30-day budgets, see SLO below) ------------------------
    # API availability's objective is 1 - error_ratio_target (99.9 %), uptime's is uptime_target.
    # docs/targets.md §7 mean below 200 ms, served as "99 % of requests within 100 ms": the mean
    # then stays below 200 ms unless the slowest 1 % average above 10.1 s (0.99 x 0.1 + 0.01 x
    # 10.1 = 0.2), which SlowAPIResponse (P95 > 1 s) catches first. 0.1 s is an exposed bucket
    # bound of both HTTP histograms (docs/metrics.md §2); 0.2 s is not.
    slo_latency_threshold_seconds: float = 0.1
    slo_latency_objective: float = 0.99

    @property
    def service_down_window(self) -> str:
        """ServiceDown: a window holding exactly the last N checks (docs/targets.md §8: fails 3 times).

        See `last_checks_window`: 3 checks a minute apart -> 2m59s999ms.
        """
        return last_checks_window(self.service_down_failed_checks, self.health_check_interval_seconds)

    @property
    def service_down_keep_firing(self) -> str:
        """ServiceDown keep_firing_for: resolve after N good checks (docs/targets.md §3), one is implied."""
        return duration((self.service_up_recovery_checks - 1) * self.health_check_interval_seconds)

    @property
    def frontend_down_window(self) -> str:
        """FrontendDown: a window holding exactly the last N frontend checks (`last_checks_window`).

        Rules run every minute, the check every 3: at every evaluation the window holds the last
        N checks, however far the evaluation is from the newest. 2 checks -> 5m59s999ms.
        """
        return last_checks_window(self.frontend_down_failed_checks, self.frontend_check_interval_seconds)

    @property
    def frontend_down_keep_firing(self) -> str:
        """FrontendDown keep_firing_for: resolve after N good frontend checks (docs/targets.md §3)."""
        return duration((self.service_up_recovery_checks - 1) * self.frontend_check_interval_seconds)


@dataclass(frozen=True)
class Selectors:
    """Label values and filters shared by dashboards and rules (docs/metrics.md §11-§12)."""

    # Scrapes of /metrics are counted by the instrumentator; keep them out of traffic panels.
    excluded_handlers: tuple[str, ...] = ("/metrics",)
    database: str = "railway"  # Postgres datname on Railway (docs/metrics.md §14: confirm)
    celery_queue: str = "celery"  # Celery's default queue name
    # environments.toml key holding each environment's frontend URL, the target of the frontend
    # check (synthetics/frontend.py); an environment without it gets no frontend check.
    frontend_target_key: str = "frontend_url"


@dataclass(frozen=True)
class Dashboards:
    """Dashboard uids (prefixed raymontology-, at most 40 characters): dashboards are saved
    under them and alerts' dashboard_url links to them."""

    system_health: str = "raymontology-system-health"
    business: str = "raymontology-business"
    database: str = "raymontology-database"


#: Where alerts go and when (docs/targets.md §8 "Action" column, §3 escalation, §6 Slack).
#: Secrets are never here: only the names of the environment variables that hold them;
#: `dashgen alertmanager --help` and generator.notifications.secrets() give each one's format.
NOTIFICATIONS = Notifications(
    slack_webhook_env="SLACK_WEBHOOK_URL",  # docs/targets.md §6: the app's Slack webhook
    email_addresses_env="RAYMONTOLOGY_ALERT_EMAILS",  # docs/targets.md §3: e-mail at once
    sms_webhook_env="RAYMONTOLOGY_SMS_WEBHOOK_URL",  # docs/targets.md §8 ServiceDown: SMS (paid plans)
    # An Alertmanager (alerting = "mimir", or your own) sends e-mail itself: its SMTP relay.
    smtp_smarthost_env="RAYMONTOLOGY_SMTP_SMARTHOST",
    smtp_from_env="RAYMONTOLOGY_SMTP_FROM",
    smtp_username_env="RAYMONTOLOGY_SMTP_USERNAME",
    smtp_password_env="RAYMONTOLOGY_SMTP_PASSWORD",
    # --- escalation (docs/targets.md §3: 0 min e-mail, 5 min + Slack, 15 min + SMS) ---------
    email_after="0s",  # docs/targets.md §3 escalation: e-mail at 0 min
    slack_after="5m",  # docs/targets.md §3 escalation: Slack joins at 5 min
    sms_after="15m",  # docs/targets.md §3 escalation: SMS joins at 15 min
    critical_reach="slack",  # docs/targets.md §8 Action: "Email + Slack" for criticals
    # docs/targets.md §8 ServiceDown: "Email + Slack + SMS"; FrontendDown (the site does not load) likewise.
    reach_overrides=(("ServiceDown", "sms"), ("FrontendDown", "sms")),
    # Warnings go to Slack only (docs/targets.md §8), after the default 30 s wait (warning_group_wait).
    critical_repeat_interval="15m",  # docs/targets.md §3: the escalation period; a firing critical reminds as often
    warning_repeat_interval="4h",  # warnings are "monitor" (docs/targets.md §8): a reminder per half day
    # --- Slack colours (docs/targets.md §6 send_slack_alert) --------------------------------
    slack_colours=(("info", "#36a64f"), ("warning", "#ff9900"), ("error", "#ff0000"), ("critical", "#ff0000")),
    slack_colour_other="#808080",  # docs/targets.md §6: any other level
    slack_colour_resolved="#36a64f",  # resolved: green, the seed's info colour
    template_name="raymontology",  # Grafana template group and Alertmanager template file name
)


#: The external /health check (docs/targets.md §3) and the source ServiceDown reads. Frequency
#: and timeout are `Thresholds.health_check_interval_seconds` / `_timeout_seconds`; the check
#: is defined in synthetics/, its target is each environment's `health_url` (environments.toml).
UPTIME = Uptime(
    # ServiceDown / uptime panel: "blackbox" reads probe_success{job=<jobs.blackbox>} (a
    # self-hosted blackbox_exporter, as in the stack); "synthetic-monitoring" reads the SM
    # check's probe_success{job=<check_job>, probe=<location>} and needs a majority of locations.
    source="synthetic-monitoring",
    check_job="raymontology-health",  # SM check `job` = the job label of its metrics
    # At least 3 public probe locations, so a majority exists and one flaky location
    # never pages; SM public probe names (Testing & synthetics > Probes), spread over 2 continents.
    probes=("Ohio", "Oregon", "Frankfurt"),
    body_regexp='"status"\\s*:\\s*"healthy"',  # docs/targets.md §3: body contains "status":"healthy"
    valid_status_codes=(200,),  # docs/targets.md §3: expected status 200
    require_tls=True,  # docs/targets.md §3: the check is https://; fail if the answer is not TLS
)


#: How the SLOs under slos/ become rules, tests and a dashboard: the SRE workbook's 30-day
#: windows and tiers (generator/config.py SLOConfig defaults: page on 2 % of the budget in 1 h
#: or 5 % in 6 h, ticket on 10 % in 3 days), Raymontology's record prefix and dashboard uid.
SLO = SLOConfig(
    record_level="raymontology",  # raymontology:slo_error:ratio_rate<window>{slo="<name>"}
    dashboard_uid="raymontology-slos",
)


CONFIG = Config(
    name="Raymontology",
    tag="raymontology",  # every dashboard carries it: the link bar and ownership use it
    uid_prefix="raymontology-",
    jobs=Jobs(),
    plan=FREE,
    plans=(PRO,),
    thresholds=Thresholds(),
    selectors=Selectors(),
    notifications=NOTIFICATIONS,
    dashboards=Dashboards(),
    uptime=UPTIME,
    slo=SLO,
    #: Rules and annotations link here; dashboards never hard-code it.
    grafana_url="https://raymontology.grafana.net",
    #: runbook_url = <base>#<alertname lower-case>; rendered/docs/runbooks.md holds the anchors.
    runbook_base_url="https://github.com/raymontology/dashgen/blob/main/rendered/docs/runbooks.md",
    rule_interval="1m",  # rule evaluation interval for every group (Grafana needs a multiple of 10 s)
    time_from="now-6h",  # default dashboard time range
    refresh="1m",  # default dashboard refresh
)
