"""Raymontology's PromQL shared by panels and rules, written once and parameterised.

A dashboard passes `job="$job"` and `window="$__rate_interval"`; a rule passes the
literal job from the config and the seed's window. Either way the expression has the
same shape, and every selector goes through the metric catalog. Recording rules for the
queries that panels and alerts share are declared here too (`records()`).
"""

from __future__ import annotations

import re

from generator.catalog import Matcher, eq, ne, nre, re_
from generator.config import Config
from generator.rules import Record

from .catalog import CATALOG as C


_REGEX_META = re.compile(r"([.^$*+?{}\[\]\\|()])")


def regex_union(values) -> str:
    """Values as a RE2 alternation, metacharacters escaped (dashes need none)."""
    return "|".join(_REGEX_META.sub(r"\\\1", v) for v in values)


def _handler_filter(cfg: Config) -> Matcher:
    handlers = cfg.selectors.excluded_handlers
    return ne("handler", handlers[0]) if len(handlers) == 1 else nre("handler", regex_union(handlers))


def handler_filter(cfg: Config) -> Matcher:
    """The matcher that keeps the excluded handlers (scrapes of /metrics) out of HTTP series."""
    return _handler_filter(cfg)


def http_requests(cfg: Config, job: str, *matchers: Matcher) -> str:
    """http_requests_total for `job`, without scrapes of /metrics (docs/metrics.md §11.1)."""
    return C.sel("http_requests_total", _handler_filter(cfg), *matchers, job=job)


def request_rate(cfg: Config, job: str, window: str, *matchers: Matcher, by: str = "") -> str:
    by_clause = f" by ({by}) " if by else ""
    return f"sum{by_clause}(rate({http_requests(cfg, job, *matchers)}[{window}]))"


def error_ratio(cfg: Config, job: str, window: str, *matchers: Matcher, by: str = "") -> str:
    """5xx share of requests; 0 (not NaN) with traffic but no 5xx, nothing without traffic."""
    errors = request_rate(cfg, job, window, re_("status", "5.."), *matchers, by=by)
    total = request_rate(cfg, job, window, *matchers, by=by)
    zero = "vector(0)" if not by else f"{total} * 0"
    return f"({errors} or {zero})\n/\nclamp_min({total}, 1e-9)"


def mean_latency(cfg: Config, job: str, window: str, *matchers: Matcher) -> str:
    s = C.sel("http_request_duration_seconds_sum", _handler_filter(cfg), *matchers, job=job)
    c = C.sel("http_request_duration_seconds_count", _handler_filter(cfg), *matchers, job=job)
    return f"sum(rate({s}[{window}]))\n/\nsum(rate({c}[{window}]))"


def p95_latency(job: str, window: str, by: str = "") -> str:
    """P95 from the high-resolution histogram: the coarse one tops out at 1 s (docs/metrics.md §0.2)."""
    b = C.sel("http_request_duration_highr_seconds_bucket", job=job)
    return f"histogram_quantile(0.95, sum by ({', '.join(filter(None, [by, 'le']))}) (rate({b}[{window}])))"


def cpu_usage(cfg: Config, job_matcher: Matcher, window: str) -> str:
    """CPU seconds per second as a share of the plan's cores (docs/metrics.md §9)."""
    sel = C.sel("process_cpu_seconds_total", job_matcher)
    return f"sum by (job) (rate({sel}[{window}])) / {cfg.plan.cpu_limit_cores:g}"


def memory_usage(cfg: Config, job_matcher: Matcher) -> str:
    """Resident memory as a share of the plan's memory (docs/metrics.md §9)."""
    sel = C.sel("process_resident_memory_bytes", job_matcher)
    return f"sum by (job) ({sel}) / {cfg.plan.memory_limit_bytes}"


def app_jobs(cfg: Config) -> Matcher:
    """Matcher for the backend and worker processes."""
    return re_("job", regex_union([cfg.jobs.backend, cfg.jobs.worker]))


def probe_job(cfg: Config) -> str:
    """The job label of the /health probe's series, from the configured source."""
    return cfg.uptime.check_job if cfg.uptime.synthetic else cfg.jobs.blackbox


def probe_success(cfg: Config) -> str:
    return C.sel("probe_success", job=probe_job(cfg))


def service_down(cfg: Config) -> str:
    """ServiceDown (docs/targets.md §8: the health check fails 3 times), per target.

    Each probe location is failing when it had no success in the last N checks
    (`service_down_window`). blackbox: one prober, so every series failing is down.
    Synthetic Monitoring: one series per location (`probe` label); down when the share of
    locations still succeeding is below a half, i.e. a majority fails, so one flaky
    location never pages. The value is that share.
    """
    per_location = f"max_over_time({probe_success(cfg)}[{cfg.thresholds.service_down_window}])"
    if cfg.uptime.synthetic:
        return f"avg by (instance) ({per_location}) < {cfg.thresholds.service_down_location_share:g}"
    return f"max by (instance) ({per_location}) == 0"


def uptime(cfg: Config, window: str) -> str:
    """Share of successful /health checks over `window` (all probe locations together)."""
    ratio = f"avg_over_time({probe_success(cfg)}[{window}])"
    return f"avg by (instance) ({ratio})" if cfg.uptime.synthetic else ratio


# Recording rules (level:metric:operations, docs/metrics.md §12); names carry their window.


def request_rate_record(cfg: Config) -> str:
    return f"raymontology:http_requests:rate{cfg.thresholds.error_ratio_window}"


def error_ratio_record(cfg: Config) -> str:
    return f"raymontology:http_requests_5xx:ratio_rate{cfg.thresholds.error_ratio_window}"


def p95_record(cfg: Config) -> str:
    return f"raymontology:http_request_duration_seconds:p95_rate{cfg.thresholds.latency_window}"


def records(cfg: Config) -> list[Record]:
    """Recording rules the seed's HTTP alerts and their dashboard panels share."""
    job, t = cfg.jobs.backend, cfg.thresholds
    return [
        Record(request_rate_record(cfg), request_rate(cfg, job, t.error_ratio_window, by="job")),
        Record(error_ratio_record(cfg), error_ratio(cfg, job, t.error_ratio_window, by="job")),
        Record(p95_record(cfg), p95_latency(job, t.latency_window, by="job")),
    ]


def recorded(name: str, job: str) -> str:
    return f"{name}{{{eq('job', job)}}}"
