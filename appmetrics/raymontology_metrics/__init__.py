"""Raymontology's own metrics, as prometheus_client objects the backend imports.

    pip install ./appmetrics          # from a dashgen checkout; needs only prometheus-client
    from raymontology_metrics import risk_analyses, risk_scores
    risk_analyses.inc(); risk_scores.observe(0.75)

This package is its own small distribution (appmetrics/pyproject.toml), so the backend
gets these objects without dashgen's dependencies; dashgen's wheel ships it too.

Names, labels and buckets follow docs/metrics.md §10: the seed's two names
stay as they are, everything new is prefixed `raymontology_`, no user, company or query
labels. The metric catalog (`generator.catalog`) reads these objects (`ALL`), so the dashboards
and rules can only query what the application really exports.

Importing this module registers the metrics in prometheus_client's default registry,
which is what the instrumentator's /metrics serves. `create(registry)` builds a fresh
set for tests or a second registry.
"""

from __future__ import annotations

from types import SimpleNamespace

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    # the metrics, registered in prometheus_client's default registry on import
    "risk_analyses", "risk_scores", "company_searches", "dart_crawls", "dart_last_success", "active_users",
    "db_pool_checked_out", "db_pool_checked_in", "db_pool_size", "db_pool_max", "db_query_duration",
    "ALL",
    # a fresh set in another registry (tests), and the label values and buckets they use
    "create", "RISK_SCORE_BUCKETS", "QUERY_DURATION_BUCKETS", "SEARCH_RESULTS", "CRAWL_RESULTS",
    "ACTIVE_USER_WINDOWS", "QUERY_OPERATIONS",
]

#: 0.8 is the seed's high-risk line (docs/targets.md §6), so it must be a bucket bound.
RISK_SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
#: 1.0 is the seed's slow-query line (docs/targets.md §7), so it must be a bucket bound.
QUERY_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

SEARCH_RESULTS = ("hit", "no_results", "error")
CRAWL_RESULTS = ("success", "failure")
ACTIVE_USER_WINDOWS = ("1d", "7d", "30d")
QUERY_OPERATIONS = ("select", "insert", "update", "delete", "other")


def create(registry: CollectorRegistry | None = REGISTRY) -> SimpleNamespace:
    """Build every application metric, registered in `registry`.

    Counters and histograms with a fixed label set start with every child at zero: a
    series that first appears at 1 is never counted by rate() or increase(), so the first
    failed search or crawl would otherwise be invisible (found by the reference stack).
    """
    m = _build(registry)
    for result in SEARCH_RESULTS:
        m.company_searches.labels(result=result)
    for result in CRAWL_RESULTS:
        m.dart_crawls.labels(result=result)
    for operation in QUERY_OPERATIONS:
        m.db_query_duration.labels(operation=operation)
    return m


def _build(registry: CollectorRegistry | None) -> SimpleNamespace:
    r = registry
    return SimpleNamespace(
        risk_analyses=Counter("risk_analysis_total", "Total risk analyses performed", registry=r),
        risk_scores=Histogram(
            "risk_score_distribution", "Distribution of risk scores", buckets=RISK_SCORE_BUCKETS, registry=r
        ),
        company_searches=Counter(
            "raymontology_company_searches_total", "Company searches by outcome.", ["result"], registry=r
        ),
        dart_crawls=Counter(
            "raymontology_dart_crawls_total", "DART crawl units by outcome, one per unit (not per retry).",
            ["result"], registry=r,
        ),
        dart_last_success=Gauge(
            "raymontology_dart_last_success_timestamp_seconds",
            "Unix time of the last successful DART crawl.", registry=r,
        ),
        active_users=Gauge(
            "raymontology_active_users", "Distinct users active in the trailing window.", ["window"],
            multiprocess_mode="max", registry=r,
        ),
        db_pool_checked_out=_pool_gauge(
            "checked_out_connections", "Connections checked out of the SQLAlchemy pool.", "sum", r),
        db_pool_checked_in=_pool_gauge("checked_in_connections", "Idle connections held by the SQLAlchemy pool.",
                                       "sum", r),
        db_pool_size=_pool_gauge("size_connections", "Configured SQLAlchemy pool size.", "max", r),
        db_pool_max=_pool_gauge("max_connections", "Pool size plus max overflow.", "max", r),
        db_query_duration=Histogram(
            "raymontology_db_query_duration_seconds", "Database statement duration by operation.",
            ["operation"], buckets=QUERY_DURATION_BUCKETS, registry=r,
        ),
    )


def _pool_gauge(suffix: str, doc: str, multiprocess_mode: str, registry) -> Gauge:
    """One `raymontology_db_pool_<suffix>` gauge, labelled by pool: checked-out and idle
    connections add up across worker processes (sum), the configured sizes do not (max)."""
    return Gauge(f"raymontology_db_pool_{suffix}", doc, ["pool"], multiprocess_mode=multiprocess_mode,
                 registry=registry)


_default = create(REGISTRY)
risk_analyses = _default.risk_analyses
risk_scores = _default.risk_scores
company_searches = _default.company_searches
dart_crawls = _default.dart_crawls
dart_last_success = _default.dart_last_success
active_users = _default.active_users
db_pool_checked_out = _default.db_pool_checked_out
db_pool_checked_in = _default.db_pool_checked_in
db_pool_size = _default.db_pool_size
db_pool_max = _default.db_pool_max
db_query_duration = _default.db_query_duration
#: Every metric above, in one tuple: what the metric catalog reads.
ALL = tuple(vars(_default).values())
