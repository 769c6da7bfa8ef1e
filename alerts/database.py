"""PostgreSQL, the application's connection pool, and Redis."""

from generator.config import Config
from generator.rules import Alert, RuleGroup

from ..monitoring.catalog import CATALOG as C


def build(cfg: Config) -> RuleGroup:
    t = cfg.thresholds
    pg, redis = cfg.jobs.postgres, cfg.jobs.redis
    pg_up = C.sel("pg_up", job=pg)
    redis_up = C.sel("redis_up", job=redis)
    return RuleGroup("raymontology-database", [
        Alert(
            "DatabaseConnectionFailed",
            # No data is as bad as a failure here (docs/metrics.md §12): absent() covers a vanished exporter.
            f"{pg_up} == 0 or absent({pg_up})",
            severity="critical",
            for_=t.db_connection_failed_for,
            summary="PostgreSQL cannot be reached.",
            description=(
                f"postgres_exporter ({{{{ $labels.job }}}}) cannot connect to PostgreSQL, or reports nothing, "
                f"for {t.db_connection_failed_for}: every request that needs the database fails."
            ),
            dashboard=cfg.dashboards.database,
            runbook="""
1. Railway: is the PostgreSQL service running, and did its credentials or URL change?
2. Connections used vs max_connections on the database dashboard: a full server refuses new sessions.
3. If only the exporter is down (TargetMissing for the postgres job), the database may be fine.
""",
        ),
        Alert(
            "PostgresConnectionsHigh",
            f"sum({C.sel('pg_stat_activity_count', job=pg)}) / max({C.sel('pg_settings_max_connections', job=pg)})"
            f" > {t.pg_connections_warn:g}",
            severity="warning",
            for_=t.pg_connections_for,
            summary="PostgreSQL is close to max_connections.",
            description=(
                f"{{{{ $value | humanizePercentage }}}} of max_connections are in use (alert above "
                f"{t.pg_connections_warn:.0%})."
            ),
            dashboard=cfg.dashboards.database,
            runbook="""
1. "Connections by state": many `idle in transaction` sessions point at a leak in the app.
2. Check the pool size of every replica: replicas x (pool size + overflow) must fit max_connections.
""",
        ),
        Alert(
            "DbPoolNearlyExhausted",
            # Per pool: every process (API replica, worker) has its own, and one can be exhausted
            # while the others idle.
            f"sum by (job, instance, pool) ({C.sel('raymontology_db_pool_checked_out_connections')})\n/\n"
            f"clamp_min(sum by (job, instance, pool) ({C.sel('raymontology_db_pool_max_connections')}), 1)\n"
            f"> {t.pool_usage_warn:g}",
            severity="warning",
            for_=t.pool_usage_for,
            summary="The application's database pool is almost exhausted.",
            description=(
                "{{ $value | humanizePercentage }} of the SQLAlchemy pool {{ $labels.pool }} of "
                "{{ $labels.job }} ({{ $labels.instance }}), size + overflow, is checked out; requests will "
                "queue for a connection."
            ),
            dashboard=cfg.dashboards.database,
            runbook="""
1. Slow queries hold connections longer: check the slow-query share and the longest transaction.
2. Raise the pool size only if PostgreSQL's max_connections leaves room.
""",
        ),
        Alert(
            "RedisDown",
            f"{redis_up} == 0 or absent({redis_up})",
            severity="critical",
            for_=t.redis_down_for,
            summary="Redis cannot be reached.",
            description=(
                f"redis_exporter ({{{{ $labels.job }}}}) cannot reach Redis, or reports nothing, for "
                f"{t.redis_down_for}: Celery has no broker and the cache is gone."
            ),
            dashboard=cfg.dashboards.database,
            runbook="""
1. Railway: is the Redis service running? Did it restart after running out of memory?
2. Until it is back, Celery tasks (DART crawls) are not queued.
""",
        ),
        Alert(
            "RedisMemoryHigh",
            f"{C.sel('redis_memory_used_bytes', job=redis)} / ({C.sel('redis_memory_max_bytes', job=redis)} > 0)"
            f" > {t.redis_memory_warn:g}",
            severity="warning",
            for_=t.redis_memory_for,
            summary="Redis is close to its maxmemory.",
            description=(
                f"Redis uses {{{{ $value | humanizePercentage }}}} of maxmemory (alert above "
                f"{t.redis_memory_warn:.0%})."
            ),
            dashboard=cfg.dashboards.database,
            runbook="""
1. A growing Celery queue keeps messages in Redis: check the worker.
2. Check key expiry of cached results; raise maxmemory or the plan if the data set really grew.
""",
        ),
    ])
