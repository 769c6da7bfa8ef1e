"""The metric catalog: every series the dashboards and rules may query, declared once.

Application metrics come from the prometheus_client objects in `raymontology_metrics`
(appmetrics/, a small distribution of its own that the backend installs), so the catalog
cannot drift from what the backend exports; exporter metrics are
declared here with the names, types, labels and units of docs/metrics.md.
`Catalog.sel()` builds selectors and refuses unknown metrics or labels at render time,
so a typo fails the build instead of drawing an empty panel.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from typing import Iterable

from generator.errors import DashgenError

COUNTER, GAUGE, HISTOGRAM, SUMMARY = "counter", "gauge", "histogram", "summary"
#: Labels Prometheus attaches to every scraped series.
TARGET_LABELS = ("job", "instance")
#: Series suffixes of the composite types, and the extra label each one carries.
SUFFIXES = {
    HISTOGRAM: {"_bucket": ("le",), "_sum": (), "_count": ()},
    SUMMARY: {"_sum": (), "_count": ()},
}


class CatalogError(DashgenError):
    pass


@dataclass(frozen=True)
class Metric:
    name: str  # exposition name without histogram suffixes (counters keep _total)
    type: str
    labels: tuple[str, ...]
    unit: str
    help: str
    source: str
    buckets: tuple[float, ...] = ()

    def series(self) -> dict[str, tuple[str, ...]]:
        """Every series name this metric exposes, with the labels each one has."""
        base = self.labels + TARGET_LABELS
        if self.type in SUFFIXES:
            return {self.name + sfx: base + extra for sfx, extra in SUFFIXES[self.type].items()}
        return {self.name: base}

    @property
    def le_values(self) -> tuple[str, ...]:
        """The `le` strings the client exposes (Python writes 1.0, not 1; docs/metrics.md §13.10)."""
        return tuple(repr(float(b)) for b in self.buckets) + ("+Inf",)


def _m(name, type_, labels, unit, help_, source, buckets=()):
    return Metric(name, type_, tuple(labels), unit, help_, source, tuple(buckets))


INSTRUMENTATOR = "prometheus-fastapi-instrumentator 6.1-8.x"
CLIENT = "prometheus_client default collectors"
PG = "postgres_exporter"
REDIS = "redis_exporter"
CELERY = "danihodovic/celery-exporter"
BLACKBOX = "blackbox_exporter"
PROMETHEUS = "Prometheus"
HIGHR_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 7.5, 10, 30, 60)
PG_ACTIVITY = ("datname", "state", "usename", "application_name", "backend_type", "wait_event_type", "wait_event")
CELERY_TASK = ("name", "hostname", "queue_name")

EXPORTER_METRICS = (
    # Prometheus itself (docs/metrics.md §13.7: up/absent companions)
    _m("up", GAUGE, [], "0/1", "Whether the last scrape of the target succeeded.", PROMETHEUS),
    # HTTP (docs/metrics.md §2)
    _m("http_requests_total", COUNTER, ["method", "status", "handler"], "requests",
       "HTTP requests by method, grouped status and route template.", INSTRUMENTATOR),
    _m("http_request_duration_seconds", HISTOGRAM, ["method", "handler"], "s",
       "Request latency per handler, coarse buckets.", INSTRUMENTATOR, (0.1, 0.5, 1.0)),
    _m("http_request_duration_highr_seconds", HISTOGRAM, [], "s",
       "Request latency over all handlers, fine buckets.", INSTRUMENTATOR, HIGHR_BUCKETS),
    _m("http_request_size_bytes", SUMMARY, ["handler"], "bytes", "Request Content-Length.", INSTRUMENTATOR),
    _m("http_response_size_bytes", SUMMARY, ["handler"], "bytes", "Response Content-Length.", INSTRUMENTATOR),
    # Process (docs/metrics.md §3)
    _m("process_cpu_seconds_total", COUNTER, [], "s", "User and system CPU time of the process.", CLIENT),
    _m("process_resident_memory_bytes", GAUGE, [], "bytes", "Resident set size.", CLIENT),
    _m("process_virtual_memory_bytes", GAUGE, [], "bytes", "Virtual memory size.", CLIENT),
    _m("process_start_time_seconds", GAUGE, [], "unix s", "Process start time.", CLIENT),
    _m("process_open_fds", GAUGE, [], "fds", "Open file descriptors.", CLIENT),
    _m("process_max_fds", GAUGE, [], "fds", "File descriptor limit.", CLIENT),
    # PostgreSQL (docs/metrics.md §4)
    _m("pg_up", GAUGE, [], "0/1", "Whether the exporter could connect to PostgreSQL.", PG),
    _m("pg_stat_activity_count", GAUGE, PG_ACTIVITY, "connections", "Sessions by state.", PG),
    _m("pg_stat_activity_max_tx_duration", GAUGE, PG_ACTIVITY, "s", "Age of the oldest open transaction.", PG),
    _m("pg_settings_max_connections", GAUGE, [], "connections", "max_connections setting.", PG),
    _m("pg_settings_superuser_reserved_connections", GAUGE, [], "connections",
       "superuser_reserved_connections setting.", PG),
    _m("pg_database_size_bytes", GAUGE, ["datname"], "bytes", "Database size on disk.", PG),
    _m("pg_stat_database_numbackends", GAUGE, ["datid", "datname"], "connections", "Backends per database.", PG),
    *(
        _m(f"pg_stat_database_{c}", COUNTER, ["datid", "datname"], unit, f"pg_stat_database.{c} (counter, no _total).", PG)
        for c, unit in (
            ("xact_commit", "transactions"), ("xact_rollback", "transactions"), ("deadlocks", "deadlocks"),
            ("blks_read", "blocks"), ("blks_hit", "blocks"), ("temp_bytes", "bytes"),
            ("blk_read_time", "ms"), ("blk_write_time", "ms"),
        )
    ),
    _m("pg_locks_count", GAUGE, ["datname", "mode"], "locks", "Locks by mode.", PG),
    # Redis (docs/metrics.md §5)
    _m("redis_up", GAUGE, [], "0/1", "Whether the exporter could reach Redis.", REDIS),
    _m("redis_memory_used_bytes", GAUGE, [], "bytes", "INFO used_memory.", REDIS),
    _m("redis_memory_used_rss_bytes", GAUGE, [], "bytes", "INFO used_memory_rss.", REDIS),
    _m("redis_memory_max_bytes", GAUGE, [], "bytes", "maxmemory (0 = no limit).", REDIS),
    _m("redis_connected_clients", GAUGE, [], "clients", "Connected clients.", REDIS),
    _m("redis_blocked_clients", GAUGE, [], "clients", "Clients blocked on a list.", REDIS),
    _m("redis_keyspace_hits_total", COUNTER, [], "lookups", "Key lookups that hit.", REDIS),
    _m("redis_keyspace_misses_total", COUNTER, [], "lookups", "Key lookups that missed.", REDIS),
    _m("redis_evicted_keys_total", COUNTER, [], "keys", "Keys evicted by maxmemory.", REDIS),
    _m("redis_commands_processed_total", COUNTER, [], "commands", "Commands processed.", REDIS),
    _m("redis_db_keys", GAUGE, ["db"], "keys", "Keys per database.", REDIS),
    # Celery (docs/metrics.md §6)
    *(
        _m(f"celery_task_{s}_total", COUNTER, CELERY_TASK, "tasks", f"Tasks {s}.", CELERY)
        for s in ("sent", "received", "started", "succeeded", "rejected", "revoked", "retried")
    ),
    _m("celery_task_failed_total", COUNTER, ["name", "hostname", "exception", "queue_name"], "tasks",
       "Tasks failed, by exception class.", CELERY),
    _m("celery_task_runtime", HISTOGRAM, CELERY_TASK, "s", "Task runtime of successful tasks.", CELERY,
       (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)),
    _m("celery_queue_length", GAUGE, ["queue_name"], "messages", "Messages waiting in the broker queue.", CELERY),
    _m("celery_worker_up", GAUGE, ["hostname"], "0/1", "Worker heartbeat seen.", CELERY),
    _m("celery_worker_tasks_active", GAUGE, ["hostname"], "tasks", "Tasks running on the worker.", CELERY),
    _m("celery_active_worker_count", GAUGE, ["queue_name"], "workers", "Workers consuming the queue.", CELERY),
    # Uptime probe (docs/metrics.md §7)
    # Synthetic Monitoring writes the same name with `probe` (location) and `config_version`.
    _m("probe_success", GAUGE, ["probe"], "0/1", "Whether the probe succeeded.", BLACKBOX),
    _m("probe_duration_seconds", GAUGE, [], "s", "Probe duration.", BLACKBOX),
    _m("probe_http_status_code", GAUGE, [], "code", "HTTP status of the probe.", BLACKBOX),
    _m("probe_http_duration_seconds", GAUGE, ["phase"], "s", "Probe time per HTTP phase.", BLACKBOX),
    _m("probe_failed_due_to_regex", GAUGE, [], "0/1", "Body did not match.", BLACKBOX),
)

_UNITS = {"risk_score_distribution": "score"}


def app_metrics(objects: Iterable) -> list[Metric]:
    """Catalog entries read off prometheus_client collectors (type, labels, buckets)."""
    out = []
    for obj in objects:
        type_ = obj._type
        name = obj._name + ("_total" if type_ == COUNTER else "")
        buckets = tuple(b for b in getattr(obj, "_upper_bounds", ()) if b != float("inf"))
        unit = _UNITS.get(obj._name) or ("s" if obj._name.endswith("_seconds") else
                                         "connections" if obj._name.endswith("_connections") else
                                         "unix s" if obj._name.endswith("_timestamp_seconds") else "count")
        out.append(Metric(name, type_, tuple(obj._labelnames), unit, obj._documentation,
                          "Raymontology backend (raymontology_metrics)", buckets))
    return out


@dataclass
class Catalog:
    metrics: dict[str, Metric] = field(default_factory=dict)
    #: series name -> (metric, labels)
    _series: dict[str, tuple[Metric, tuple[str, ...]]] = field(default_factory=dict)

    def add(self, metric: Metric) -> None:
        if metric.name in self.metrics:
            raise CatalogError(f"metric {metric.name} is declared twice in the catalog")
        self.metrics[metric.name] = metric
        for series, labels in metric.series().items():
            self._series[series] = (metric, labels)

    def lookup(self, series: str) -> tuple[Metric, tuple[str, ...]] | None:
        return self._series.get(series)

    def metric(self, series: str) -> Metric:
        hit = self.lookup(series)
        if hit is None:
            raise CatalogError(f"unknown metric {series!r}: not in the metric catalog (generator/catalog.py)")
        return hit[0]

    def sel(self, series: str, *matchers: str, **equals: str) -> str:
        """A validated vector selector: `sel("http_requests_total", ne("handler", "/metrics"), job="$job")`.

        Keyword arguments are equality matchers; positional ones come from eq/ne/re/nre.
        """
        hit = self.lookup(series)
        if hit is None:
            raise CatalogError(f"unknown metric {series!r}: not in the metric catalog (generator/catalog.py)")
        metric, labels = hit
        parts = [eq(k, v) for k, v in equals.items()] + list(matchers)
        for part in parts:
            label = re.split(r"!=|=~|!~|=", part, maxsplit=1)[0]  # `!~` holds no `=`
            if label not in labels:
                raise CatalogError(
                    f"metric {series!r} has no label {label!r} (it has: {', '.join(labels)})"
                )
        return f"{series}{{{', '.join(parts)}}}" if parts else series

    def series_names(self) -> list[str]:
        return sorted(self._series)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def eq(label: str, value: str) -> str:
    return f"{label}={_quote(value)}"


def ne(label: str, value: str) -> str:
    return f"{label}!={_quote(value)}"


def re_(label: str, value: str) -> str:
    return f"{label}=~{_quote(value)}"


def nre(label: str, value: str) -> str:
    return f"{label}!~{_quote(value)}"


def build_catalog(app_objects: Iterable | None = None) -> Catalog:
    """The full catalog: exporter metrics plus the application's own."""
    if app_objects is None:
        import raymontology_metrics

        app_objects = raymontology_metrics.ALL
    cat = Catalog()
    for metric in (*EXPORTER_METRICS, *app_metrics(app_objects)):
        cat.add(metric)
    return cat


CATALOG = build_catalog()
