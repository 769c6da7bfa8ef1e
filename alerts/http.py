"""HTTP errors and latency of the FastAPI backend (docs/targets.md §8), with the recording rules they share
with the system-health dashboard."""

from generator.config import Config
from generator.rules import Alert, RuleGroup

from ..monitoring import queries as q


def build(cfg: Config) -> RuleGroup:
    t = cfg.thresholds
    job = cfg.jobs.backend
    return RuleGroup("raymontology-http", [
        *q.records(cfg),  # evaluated first, so the alerts below read this cycle's values
        Alert(
            "HighErrorRate",
            f"{q.recorded(q.error_ratio_record(cfg), job)} > {t.error_ratio_alert:g}\n"
            f"and on (job)\n{q.recorded(q.request_rate_record(cfg), job)} > {t.error_min_request_rate:g}",
            severity="critical",
            for_=t.error_ratio_for,
            summary=f"More than {t.error_ratio_alert:.0%} of API requests fail with 5xx.",
            description=(
                f"{{{{ $value | humanizePercentage }}}} of requests to {{{{ $labels.job }}}} answered 5xx over the last "
                f"{t.error_ratio_window} (alert above {t.error_ratio_alert:.0%}, target below "
                f"{t.error_ratio_target:.1%})."
            ),
            dashboard=cfg.dashboards.system_health,
            runbook="""
1. On the system-health dashboard, "Requests by handler and status" shows which routes fail.
2. Sentry's Issues view has the exceptions with stack traces; `railway logs --service backend | grep ERROR`.
3. If every route fails, check PostgreSQL and Redis (database dashboard) and the last deploy.
""",
        ),
        Alert(
            "SlowAPIResponse",
            f"{q.recorded(q.p95_record(cfg), job)} > {t.latency_p95_alert_seconds:g}",
            severity="warning",
            for_=t.latency_p95_for,
            summary=f"API P95 latency is above {t.latency_p95_alert_seconds:g} s.",
            description=(
                f"P95 latency of {{{{ $labels.job }}}} is {{{{ $value | humanizeDuration }}}} over the last "
                f"{t.latency_window} (alert above {t.latency_p95_alert_seconds:g} s)."
            ),
            dashboard=cfg.dashboards.system_health,
            runbook="""
1. "Slowest endpoints" and "P95 latency by handler" name the slow routes.
2. The database dashboard shows slow queries, pool exhaustion and long transactions.
3. CPU near the plan limit (HighCPUUsage) also slows every request: scale up if so.
""",
        ),
    ])
