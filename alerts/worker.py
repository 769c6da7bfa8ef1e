"""The Celery worker and the DART crawls it runs."""

from generator.config import Config
from generator.durations import duration
from generator.rules import Alert, RuleGroup

from ..monitoring.catalog import CATALOG as C


def build(cfg: Config) -> RuleGroup:
    t = cfg.thresholds
    job = cfg.jobs.worker
    w = t.celery_failure_window
    failed = f"sum by (name) (increase({C.sel('celery_task_failed_total', job=job)}[{w}]))"
    ok = f"sum by (name) (increase({C.sel('celery_task_succeeded_total', job=job)}[{w}]))"
    worker_up = C.sel("celery_worker_up", job=job)
    last = C.sel("raymontology_dart_last_success_timestamp_seconds")
    # A restart resets the gauge to 0, so look back over twice the limit for the newest success.
    lookback = duration(2 * t.dart_crawl_stale_seconds)
    return RuleGroup("raymontology-worker", [
        Alert(
            "CeleryTaskHighFailRate",
            f"{failed}\n/\n({failed} + {ok})\n> {t.celery_failure_ratio_alert:g}",
            severity="warning",
            for_=t.celery_failure_for,
            summary="A Celery task fails too often.",
            description=(
                f"{{{{ $value | humanizePercentage }}}} of {{{{ $labels.name }}}} runs failed over the last {w} "
                f"(alert above {t.celery_failure_ratio_alert:.0%})."
            ),
            dashboard=cfg.dashboards.system_health,
            runbook="""
1. The exception class is a label of celery_task_failed_total: see which error dominates.
2. For DART tasks, the DART Open API may be failing or rate-limiting (docs/targets.md §5 "DART API error" logs).
""",
        ),
        Alert(
            "CeleryWorkerDown",
            f"{worker_up} == 0 or absent({worker_up})",
            severity="warning",
            for_=t.celery_worker_down_for,
            summary="No Celery worker is consuming tasks.",
            # The absent() branch has no hostname label: say "no worker" rather than "from ".
            description=(
                "{{ if $labels.hostname }}No heartbeat from worker {{ $labels.hostname }}"
                "{{ else }}No Celery worker reports at all{{ end }}"
                f" for {t.celery_worker_down_for}."
            ),
            dashboard=cfg.dashboards.system_health,
            runbook="""
1. Railway: is the worker service running? `railway logs --service worker`.
2. RedisDown also stops every worker: check the broker first.
""",
        ),
        Alert(
            "DartCrawlStale",
            f"time() - max(max_over_time({last}[{lookback}])) > {t.dart_crawl_stale_seconds}\n"
            f"or absent_over_time({last}[{lookback}])",
            severity="warning",
            for_=t.dart_crawl_stale_for,
            summary="DART data is getting stale.",
            description=(
                f"The last successful DART crawl was {{{{ $value | humanizeDuration }}}} ago (alert above "
                f"{t.dart_crawl_stale_seconds // 3600} h): risk analyses use old disclosures."
            ),
            dashboard=cfg.dashboards.business,
            runbook="""
1. "DART crawls" on the business dashboard: are crawls failing or not running at all?
2. Failing: CeleryTaskHighFailRate and the worker logs name the error (API key, quota, DART outage).
3. Not running: check the scheduler (Celery beat) and CeleryWorkerDown.
""",
        ),
    ])
