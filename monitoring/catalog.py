"""Raymontology's metric catalog: every series the dashboards and rules may query, declared once.

Application metrics come from the prometheus_client objects in `raymontology_metrics`
(appmetrics/, a small distribution of its own that the backend installs), so the catalog
cannot drift from what the backend exports; exporter metrics are declared here with the
names, types, labels and units of docs/metrics.md. `CATALOG.sel()` (dashgen's
generator.catalog) builds selectors and refuses unknown metrics or labels at render time.
"""

from __future__ import annotations

import raymontology_metrics

from generator.catalog import COUNTER, GAUGE, HISTOGRAM, SUMMARY, Catalog, app_metrics, metric

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
    metric("up", GAUGE, [], "0/1", "Whether the last scrape of the target succeeded.", PROMETHEUS),
    # HTTP (docs/metrics.md §2)
    metric("http_requests_total", COUNTER, ["method", "status", "handler"], "requests",
       "HTTP requests by method, grouped status and route template.", INSTRUMENTATOR),
    metric("http_request_duration_seconds", HISTOGRAM, ["method", "handler"], "s",
       "Request latency per handler, coarse buckets.", INSTRUMENTATOR, (0.1, 0.5, 1.0)),
    metric("http_request_duration_highr_seconds", HISTOGRAM, [], "s",
       "Request latency over all handlers, fine buckets.", INSTRUMENTATOR, HIGHR_BUCKETS),
    metric("http_request_size_bytes", SUMMARY, ["handler"], "bytes", "Request Content-Length.", INSTRUMENTATOR),
    metric("http_response_size_bytes", SUMMARY, ["handler"], "bytes", "Response Content-Length.", INSTRUMENTATOR),
    # Process (docs/metrics.md §3)
    metric("process_cpu_seconds_total", COUNTER, [], "s", "User and system CPU time of the process.", CLIENT),
    metric("process_resident_memory_bytes", GAUGE, [], "bytes", "Resident set size.", CLIENT),
    metric("process_virtual_memory_bytes", GAUGE, [], "bytes", "Virtual memory size.", CLIENT),
    metric("process_start_time_seconds", GAUGE, [], "unix s", "Process start time.", CLIENT),
    metric("process_open_fds", GAUGE, [], "fds", "Open file descriptors.", CLIENT),
    metric("process_max_fds", GAUGE, [], "fds", "File descriptor limit.", CLIENT),
    # PostgreSQL (docs/metrics.md §4)
    metric("pg_up", GAUGE, [], "0/1", "Whether the exporter could connect to PostgreSQL.", PG),
    metric("pg_stat_activity_count", GAUGE, PG_ACTIVITY, "connections", "Sessions by state.", PG),
    metric("pg_stat_activity_max_tx_duration", GAUGE, PG_ACTIVITY, "s", "Age of the oldest open transaction.", PG),
    metric("pg_settings_max_connections", GAUGE, [], "connections", "max_connections setting.", PG),
    metric("pg_settings_superuser_reserved_connections", GAUGE, [], "connections",
       "superuser_reserved_connections setting.", PG),
    metric("pg_database_size_bytes", GAUGE, ["datname"], "bytes", "Database size on disk.", PG),
    metric("pg_stat_database_numbackends", GAUGE, ["datid", "datname"], "connections", "Backends per database.", PG),
    *(
        metric(f"pg_stat_database_{c}", COUNTER, ["datid", "datname"], unit, f"pg_stat_database.{c} (counter, no _total).", PG)
        for c, unit in (
            ("xact_commit", "transactions"), ("xact_rollback", "transactions"), ("deadlocks", "deadlocks"),
            ("blks_read", "blocks"), ("blks_hit", "blocks"), ("temp_bytes", "bytes"),
            ("blk_read_time", "ms"), ("blk_write_time", "ms"),
        )
    ),
    metric("pg_locks_count", GAUGE, ["datname", "mode"], "locks", "Locks by mode.", PG),
    # Redis (docs/metrics.md §5)
    metric("redis_up", GAUGE, [], "0/1", "Whether the exporter could reach Redis.", REDIS),
    metric("redis_memory_used_bytes", GAUGE, [], "bytes", "INFO used_memory.", REDIS),
    metric("redis_memory_used_rss_bytes", GAUGE, [], "bytes", "INFO used_memory_rss.", REDIS),
    metric("redis_memory_max_bytes", GAUGE, [], "bytes", "maxmemory (0 = no limit).", REDIS),
    metric("redis_connected_clients", GAUGE, [], "clients", "Connected clients.", REDIS),
    metric("redis_blocked_clients", GAUGE, [], "clients", "Clients blocked on a list.", REDIS),
    metric("redis_keyspace_hits_total", COUNTER, [], "lookups", "Key lookups that hit.", REDIS),
    metric("redis_keyspace_misses_total", COUNTER, [], "lookups", "Key lookups that missed.", REDIS),
    metric("redis_evicted_keys_total", COUNTER, [], "keys", "Keys evicted by maxmemory.", REDIS),
    metric("redis_commands_processed_total", COUNTER, [], "commands", "Commands processed.", REDIS),
    metric("redis_db_keys", GAUGE, ["db"], "keys", "Keys per database.", REDIS),
    # Celery (docs/metrics.md §6)
    *(
        metric(f"celery_task_{s}_total", COUNTER, CELERY_TASK, "tasks", f"Tasks {s}.", CELERY)
        for s in ("sent", "received", "started", "succeeded", "rejected", "revoked", "retried")
    ),
    metric("celery_task_failed_total", COUNTER, ["name", "hostname", "exception", "queue_name"], "tasks",
       "Tasks failed, by exception class.", CELERY),
    metric("celery_task_runtime", HISTOGRAM, CELERY_TASK, "s", "Task runtime of successful tasks.", CELERY,
       (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)),
    metric("celery_queue_length", GAUGE, ["queue_name"], "messages", "Messages waiting in the broker queue.", CELERY),
    metric("celery_worker_up", GAUGE, ["hostname"], "0/1", "Worker heartbeat seen.", CELERY),
    metric("celery_worker_tasks_active", GAUGE, ["hostname"], "tasks", "Tasks running on the worker.", CELERY),
    metric("celery_active_worker_count", GAUGE, ["queue_name"], "workers", "Workers consuming the queue.", CELERY),
    # Uptime probe (docs/metrics.md §7)
    # Synthetic Monitoring writes the same name with `probe` (location) and `config_version`.
    metric("probe_success", GAUGE, ["probe"], "0/1", "Whether the probe succeeded.", BLACKBOX),
    metric("probe_duration_seconds", GAUGE, [], "s", "Probe duration.", BLACKBOX),
    metric("probe_http_status_code", GAUGE, [], "code", "HTTP status of the probe.", BLACKBOX),
    metric("probe_http_duration_seconds", GAUGE, ["phase"], "s", "Probe time per HTTP phase.", BLACKBOX),
    metric("probe_failed_due_to_regex", GAUGE, [], "0/1", "Body did not match.", BLACKBOX),
)

_UNITS = {"risk_score_distribution": "score"}

#: Units the metric names do not tell.
APP_UNITS = {"risk_score_distribution": "score"}
APP_SOURCE = "Raymontology backend (raymontology_metrics)"

CATALOG = Catalog.of(*EXPORTER_METRICS, *app_metrics(raymontology_metrics.ALL, APP_SOURCE, APP_UNITS))
