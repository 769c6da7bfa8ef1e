"""System health: is the Raymontology API up, fast and error-free, and are its processes healthy?

Targets from docs/targets.md §7: 5xx < 0.1 %, mean latency < 200 ms, uptime > 99.9 %, CPU < 70 %,
memory < 85 %. The lines on the panels are the config's numbers.
"""

from generator import panels as p
from generator.catalog import re_
from generator.config import Config

from ..monitoring import queries as q
from ..monitoring.catalog import CATALOG as C

RATE = "$__rate_interval"


def build(cfg: Config):
    handler = re_("handler", "$handler")
    return p.dashboard(
        cfg,
        cfg.dashboards.system_health,
        "Raymontology / System health",
        "Availability, traffic, errors, latency and resources of the FastAPI backend and Celery worker "
        "(docs/targets.md §7 targets).",
        [
            p.row("Service level", *service_level(cfg)),
            p.row("Traffic and errors", *traffic(cfg, handler)),
            p.row("Latency", *latency(cfg, handler)),
            p.row("Endpoints", *endpoints(cfg, handler)),
            p.row("Resources", *resources(cfg)),
            p.row("Celery worker", *worker(cfg)),
        ],
        variables=[
            p.query_variable("job", "Backend job", "label_values(http_requests_total, job)", cfg.jobs.backend),
            p.query_variable("handler", "Handler", 'label_values(http_requests_total{job="$job"}, handler)', "",
                             multi=True),
        ],
        tags=["system-health"],
    )


def service_level(cfg: Config):
    t = cfg.thresholds
    source = (f"Synthetic Monitoring, {len(cfg.uptime.probes)} locations together" if cfg.uptime.synthetic
              else "blackbox")
    frontend = frontend_uptime(cfg)
    w = 5 if frontend else 6  # five stats share the 24 columns (5+5+5+5+4), four take 6 each
    return [
        p.stat("Uptime", f"Share of successful /health probes over the dashboard range ({source}, every "
               f"{t.health_check_interval_seconds} s). Healthy: at least {t.uptime_target:.1%}. Gaps in probing "
               "are skipped, so treat it as optimistic.",
               q.uptime(cfg, "$__range"), "percentunit",
               p.good_above(t.uptime_target), decimals=3, graph=False, w=w),
        *frontend,
        p.stat("5xx ratio (alert window)", f"5xx share over the last {t.error_ratio_window}, exactly as "
               f"HighErrorRate sees it. Healthy: below {t.error_ratio_target:.1%}; the alert fires above "
               f"{t.error_ratio_alert:.0%} for {t.error_ratio_for}.",
               q.recorded(q.error_ratio_record(cfg), "$job"), "percentunit",
               p.bad_above(t.error_ratio_target, t.error_ratio_alert), decimals=2, w=w),
        p.stat("P95 latency (alert window)", f"95th percentile latency over the last {t.latency_window}, as "
               f"SlowAPIResponse sees it. Healthy: well below {t.latency_p95_alert_seconds:g} s.",
               q.recorded(q.p95_record(cfg), "$job"), "s",
               p.bad_above(t.latency_mean_target_seconds, t.latency_p95_alert_seconds), w=w),
        p.stat("Request rate", "Requests per second to the API, scrapes of /metrics excluded. Healthy: "
               "steady, following the daily pattern.",
               q.recorded(q.request_rate_record(cfg), "$job"), "reqps", p.neutral(), w=4 if frontend else 6),
    ]


def frontend_uptime(cfg: Config):
    """The frontend check's uptime beside the API's; only Synthetic Monitoring runs that check."""
    t = cfg.thresholds
    if not cfg.uptime.synthetic:
        return []  # the blackbox prober watches /health alone: no frontend data to show
    return [p.stat("Frontend uptime", f"Share of successful GET / checks of the web app over the dashboard range "
                   f"(Synthetic Monitoring, {len(cfg.uptime.probes)} locations together, every "
                   f"{t.frontend_check_interval_seconds // 60} min). Healthy: at least {t.uptime_target:.1%}; "
                   "FrontendDown fires when a majority of locations fails.",
                   q.frontend_uptime(cfg, "$__range"), "percentunit",
                   p.good_above(t.uptime_target), decimals=3, graph=False, w=5)]


def traffic(cfg: Config, handler: str):
    t = cfg.thresholds
    return [
        p.timeseries("Request rate by status", "Requests per second by status class. Healthy: almost all 2xx; "
                     "4xx are client mistakes, 5xx are ours.",
                     p.target(q.request_rate(cfg, "$job", RATE, handler, by="status"), "{{status}}"),
                     "reqps", p.neutral(), stacked=True, fill=30),
        p.timeseries("5xx error ratio", f"Share of requests answered with 5xx. Healthy: below "
                     f"{t.error_ratio_target:.1%} (docs/targets.md §7); HighErrorRate fires above {t.error_ratio_alert:.0%}.",
                     p.target(q.error_ratio(cfg, "$job", RATE, handler), "5xx ratio"),
                     "percentunit", p.bad_above(t.error_ratio_target, t.error_ratio_alert), min=0),
    ]


def latency(cfg: Config, handler: str):
    t = cfg.thresholds
    return [
        p.timeseries("Mean latency", f"Mean response time (sum over count of the request histogram). "
                     f"Healthy: below {t.latency_mean_target_seconds * 1000:g} ms (docs/targets.md §7).",
                     p.target(q.mean_latency(cfg, "$job", RATE, handler), "mean"),
                     "s", p.bad_above(t.latency_mean_target_seconds), min=0),
        p.timeseries("P95 latency", f"95th percentile over all handlers, from the high-resolution histogram. "
                     f"Healthy: below {t.latency_p95_alert_seconds:g} s; SlowAPIResponse fires above it for "
                     f"{t.latency_p95_for}.",
                     p.target(q.p95_latency("$job", RATE), "p95"),
                     "s", p.bad_above(t.latency_p95_alert_seconds), min=0),
        p.timeseries("P95 latency by handler", "95th percentile per route from the coarse histogram, whose top "
                     f"bucket is 1 s: a line at 1 s means \"1 s or slower\". Healthy: every route below "
                     f"{t.latency_p95_alert_seconds:g} s.",
                     p.target(
                         "histogram_quantile(0.95, sum by (le, handler) (rate("
                         + C.sel("http_request_duration_seconds_bucket", handler, job="$job") + f"[{RATE}])))",
                         "{{handler}}"),
                     "s", p.bad_above(t.latency_p95_alert_seconds), w=24, min=0),
    ]


def endpoints(cfg: Config, handler: str):
    t = cfg.thresholds
    count = C.sel("http_request_duration_seconds_count", handler, job="$job")
    total = C.sel("http_request_duration_seconds_sum", handler, job="$job")
    return [
        p.timeseries("Requests by handler and status", "Requests per second per route and status class. "
                     "Healthy: traffic where you expect it, no route dominated by 4xx or 5xx.",
                     p.target(q.request_rate(cfg, "$job", RATE, handler, by="handler, status"),
                              "{{handler}} {{status}}"),
                     "reqps", p.neutral(), w=24),
        p.table("Slowest endpoints", "The ten routes with the highest mean latency over the dashboard range. "
                f"Healthy: every mean below {t.latency_mean_target_seconds * 1000:g} ms.",
                p.target(f"topk(10, sum by (handler) (rate({total}[$__range])) / "
                         f"sum by (handler) (rate({count}[$__range])))", instant=True, fmt="table"),
                "s", p.bad_above(t.latency_mean_target_seconds), w=12,
                columns={"handler": "Handler", "Value": "Mean latency"}, sort_by="Mean latency"),
        p.table("Busiest endpoints", "The ten routes with the most requests over the dashboard range. "
                "Healthy: the search and analysis routes on top, no unexpected route.",
                p.target(f"topk(10, sum by (handler) (increase({count}[$__range])))", instant=True, fmt="table"),
                "short", p.neutral(), w=12,
                columns={"handler": "Handler", "Value": "Requests"}, sort_by="Requests"),
    ]


def resources(cfg: Config):
    t = cfg.thresholds
    jobs = q.app_jobs(cfg)
    return [
        p.timeseries("CPU", f"CPU time per second as a share of the plan's {cfg.plan.cpu_limit_cores:g} vCPU, per "
                     f"service. Healthy: below {t.cpu_target:.0%} (docs/targets.md §7); HighCPUUsage fires above "
                     f"{t.cpu_alert:.0%} for {t.cpu_for}.",
                     p.target(q.cpu_usage(cfg, jobs, RATE), "{{job}}"),
                     "percentunit", p.bad_above(t.cpu_target, t.cpu_alert), w=9, min=0),
        p.timeseries("Memory", f"Resident memory as a share of the plan's "
                     f"{cfg.plan.memory_limit_bytes // (1024 * 1024)} MiB, per service. Healthy: below "
                     f"{t.memory_target:.0%} (docs/targets.md §7); HighMemoryUsage fires above {t.memory_alert:.0%} "
                     f"for {t.memory_for}.",
                     p.target(q.memory_usage(cfg, jobs), "{{job}}"),
                     "percentunit", p.bad_above(t.memory_target, t.memory_alert), w=9, min=0),
        p.stat("Restarts", "Process restarts in the dashboard range, per service. Healthy: none outside deploys.",
               p.target("sum by (job) (changes(" + C.sel("process_start_time_seconds", jobs) + "[$__range]))",
                        "{{job}}"),
               "short", p.bad_above(t.restarts_warn), w=6, h=8, graph=False),
    ]


def worker(cfg: Config):
    t = cfg.thresholds
    job = cfg.jobs.worker
    ok = C.sel("celery_task_succeeded_total", job=job)
    failed = C.sel("celery_task_failed_total", job=job)
    return [
        p.timeseries("Task throughput", "Celery tasks finished per second, by task and outcome. Healthy: crawls "
                     "and analyses completing steadily.",
                     [p.target(f"sum by (name) (rate({ok}[{RATE}]))", "{{name}} succeeded"),
                      p.target(f"sum by (name) (rate({failed}[{RATE}]))", "{{name}} failed")],
                     "ops", p.neutral(), w=8),
        p.timeseries("Task failure ratio", f"Failed share of finished tasks. Healthy: below "
                     f"{t.celery_failure_ratio_alert:.0%}; CeleryTaskHighFailRate fires above it.",
                     p.target(f"sum(rate({failed}[{RATE}])) / clamp_min(sum(rate({failed}[{RATE}])) + "
                              f"sum(rate({ok}[{RATE}])), 1e-9)", "failure ratio"),
                     "percentunit", p.bad_above(t.celery_failure_ratio_alert), w=8, min=0),
        p.timeseries("Queue length", f"Messages waiting in the broker per queue. Healthy: near zero; a growing "
                     f"backlog above {t.celery_queue_warn} means workers cannot keep up.",
                     p.target("sum by (queue_name) (" + C.sel("celery_queue_length", job=job) + ")",
                              "{{queue_name}}"),
                     "short", p.bad_above(t.celery_queue_warn), w=8, min=0),
    ]
