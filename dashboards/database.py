"""Database: PostgreSQL, the application's connection pool and queries, and Redis.

docs/targets.md §7: connection-pool usage, slow queries (> 1 s), database size, Redis memory.
"""

from generator import panels as p
from generator.config import Config

from ..monitoring.catalog import CATALOG as C

RATE = "$__rate_interval"


def build(cfg: Config):
    return p.dashboard(
        cfg,
        cfg.dashboards.database,
        "Raymontology / Database",
        "PostgreSQL health, connections and storage, the application's SQLAlchemy pool and query times, "
        "and Redis (docs/targets.md §7 database metrics).",
        [
            p.row("PostgreSQL", *postgres(cfg)),
            p.row("Application pool and queries", *pool_and_queries(cfg)),
            p.row("Storage", *storage(cfg)),
            p.row("Redis", *redis(cfg)),
        ],
        variables=[
            p.query_variable("db", "Database", f'label_values(pg_database_size_bytes{{job="{cfg.jobs.postgres}"}}, '
                             "datname)", cfg.selectors.database),
        ],
        tags=["database"],
    )


def postgres(cfg: Config):
    t = cfg.thresholds
    job = cfg.jobs.postgres
    used = f"sum({C.sel('pg_stat_activity_count', job=job)})"
    maximum = f"max({C.sel('pg_settings_max_connections', job=job)})"
    return [
        p.up_stat("PostgreSQL up", "Whether the exporter can connect to PostgreSQL. DatabaseConnectionFailed "
                  f"fires after {t.db_connection_failed_for} down (docs/targets.md §8).", C.sel("pg_up", job=job)),
        p.timeseries("Connections used vs max", "Server sessions (all states) against max_connections. Healthy: "
                     f"below {t.pg_connections_warn:.0%} of the maximum.",
                     [p.target(used, "used"), p.target(maximum, "max_connections")],
                     "short", p.neutral(), w=10, min=0),
        p.timeseries("Connections by state", "Sessions on the selected database by state. Healthy: few "
                     "'idle in transaction'.",
                     p.target(f"sum by (state) ({C.sel('pg_stat_activity_count', job=job, datname='$db')})",
                              "{{state}}"),
                     "short", p.neutral(), w=10, stacked=True, fill=30),
    ]


def pool_and_queries(cfg: Config):
    t = cfg.thresholds
    out = C.sel("raymontology_db_pool_checked_out_connections")
    size = C.sel("raymontology_db_pool_size_connections")
    maximum = C.sel("raymontology_db_pool_max_connections")
    count = C.sel("raymontology_db_query_duration_seconds_count")
    slow_le = repr(float(t.slow_query_seconds))
    fast = C.sel("raymontology_db_query_duration_seconds_bucket", le=slow_le)
    return [
        p.timeseries("Pool checked out vs size", "SQLAlchemy connections in use against the pool size and "
                     "the size plus overflow, per process pool (a sum would hide one exhausted pool). "
                     "Healthy: checked out well below the size.",
                     [p.target(f"sum by (job, pool) ({out})", "{{job}} {{pool}} checked out"),
                      p.target(f"sum by (job, pool) ({size})", "{{job}} {{pool}} size"),
                      p.target(f"sum by (job, pool) ({maximum})", "{{job}} {{pool}} size + overflow")],
                     "short", p.neutral(), w=8, min=0),
        p.stat("Fullest pool usage", "Checked-out share of size plus overflow in the fullest pool (each "
               f"process has its own). Healthy: below {t.pool_usage_warn:.0%}; requests queue for a connection "
               "when it reaches 100 %.",
               f"max(sum by (job, instance, pool) ({out}) / clamp_min(sum by (job, instance, pool) ({maximum}), 1))",
               "percentunit", p.bad_above(t.pool_usage_warn), w=4, h=8, min=0, max=1),
        p.timeseries(f"Slow-query share (> {t.slow_query_seconds:g} s)", "Share of statements slower than "
                     f"{t.slow_query_seconds:g} s (docs/targets.md §7), from the application's query-duration histogram. "
                     f"Healthy: below {t.slow_query_share_warn:.0%}.",
                     p.target(f"1 - sum(rate({fast}[{RATE}])) / clamp_min(sum(rate({count}[{RATE}])), 1e-9)",
                              "slow share"),
                     "percentunit", p.bad_above(t.slow_query_share_warn), w=6, min=0),
        p.timeseries("Query duration P95 by operation", "95th percentile statement time per operation. Healthy: "
                     f"well below {t.slow_query_seconds:g} s.",
                     p.target("histogram_quantile(0.95, sum by (le, operation) (rate("
                              + C.sel("raymontology_db_query_duration_seconds_bucket") + f"[{RATE}])))",
                              "{{operation}}"),
                     "s", p.bad_above(t.slow_query_seconds), w=6, min=0),
        p.stat("Longest open transaction", "Age of the oldest open transaction on the selected database "
               f"(transaction age, not query time). Healthy: below {t.long_transaction_seconds:g} s; long ones "
               "hold locks and block vacuum.",
               f"max({C.sel('pg_stat_activity_max_tx_duration', job=cfg.jobs.postgres, datname='$db')})",
               "s", p.bad_above(t.long_transaction_seconds), w=24, h=4),
    ]


def storage(cfg: Config):
    t = cfg.thresholds
    job = cfg.jobs.postgres
    size = C.sel("pg_database_size_bytes", job=job, datname="$db")
    hit = f"sum(rate({C.sel('pg_stat_database_blks_hit', job=job, datname='$db')}[{RATE}]))"
    read = f"sum(rate({C.sel('pg_stat_database_blks_read', job=job, datname='$db')}[{RATE}]))"
    return [
        p.timeseries("Database size", "Size on disk of the selected database. Healthy: growing slowly and "
                     "predictably.", p.target(f"sum({size})", "{{datname}}"), "bytes", p.neutral(), w=6, min=0),
        p.timeseries("Growth per day", "Size trend over the last 6 hours, projected to a day. Healthy: steady; "
                     "a jump means a bulk load or bloat.",
                     p.target(f"deriv({size}[6h]) * 86400", "growth per day"), "bytes", p.neutral(), w=6),
        p.stat("Deadlocks", "Deadlocks on the selected database in the dashboard range. Healthy: none.",
               f"round(sum(increase({C.sel('pg_stat_database_deadlocks', job=job, datname='$db')}[$__range])))",
               "short", p.bad_above(t.deadlocks_warn), w=6, h=8, graph=False),
        p.timeseries("Cache hit ratio", "Share of block reads served from shared buffers. Healthy: at least "
                     f"{t.pg_cache_hit_target:.0%} for an OLTP workload.",
                     p.target(f"{hit} / clamp_min({hit} + {read}, 1e-9)", "hit ratio"),
                     "percentunit", p.good_above(t.pg_cache_hit_target), w=6, max=1),
    ]


def redis(cfg: Config):
    t = cfg.thresholds
    job = cfg.jobs.redis
    used = C.sel("redis_memory_used_bytes", job=job)
    maximum = C.sel("redis_memory_max_bytes", job=job)
    hits = f"sum(rate({C.sel('redis_keyspace_hits_total', job=job)}[{RATE}]))"
    misses = f"sum(rate({C.sel('redis_keyspace_misses_total', job=job)}[{RATE}]))"
    return [
        p.up_stat("Redis up", "Whether the exporter can reach Redis (the Celery broker and cache). RedisDown "
                  f"fires after {t.redis_down_for}.", C.sel("redis_up", job=job)),
        p.timeseries("Redis memory used vs max", f"Memory used against maxmemory (drawn only when a limit is set). "
                     f"Healthy: below {t.redis_memory_warn:.0%} of the limit; at the limit Redis evicts or "
                     "refuses writes.",
                     [p.target(f"sum({used})", "used"), p.target(f"sum({maximum} > 0)", "maxmemory")],
                     "bytes", p.neutral(), w=8, min=0),
        p.timeseries("Connected clients", "Client connections to Redis (API, worker, exporter). Healthy: steady.",
                     p.target(f"sum({C.sel('redis_connected_clients', job=job)})", "clients"),
                     "short", p.neutral(), w=6, min=0),
        p.timeseries("Keyspace hit ratio", "Share of key lookups that found the key. Low values mean the cache "
                     "is not helping.", p.target(f"{hits} / clamp_min({hits} + {misses}, 1e-9)", "hit ratio"),
                     "percentunit", p.neutral(), w=6, min=0, max=1),
    ]
