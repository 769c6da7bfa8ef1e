"""PostgreSQL access: schema, seed data, and the SQLAlchemy pool instrumentation.

The pool gauges and the query-duration histogram are the catalog's own objects
(raymontology_metrics), so the names the dashboards query are the names exported here.
"""

from __future__ import annotations

import random
import time

from sqlalchemy import (
    Column, DateTime, Float, ForeignKey, Integer, MetaData, String, Table, create_engine, event, func,
    select, text,
)
from sqlalchemy.engine import Engine

import raymontology_metrics as appmetrics

from . import settings

metadata = MetaData()

companies = Table(
    "companies", metadata,
    Column("id", Integer, primary_key=True),
    Column("corp_code", String(8), nullable=False, unique=True),
    Column("name", String(200), nullable=False, index=True),
    Column("sector", String(50), nullable=False),
)
financials = Table(
    "financials", metadata,
    Column("company_id", Integer, ForeignKey("companies.id"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("revenue", Float, nullable=False),
    Column("debt", Float, nullable=False),
    Column("equity", Float, nullable=False),
    Column("net_income", Float, nullable=False),
)
disclosures = Table(
    "disclosures", metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", Integer, ForeignKey("companies.id"), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("filed_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)
analyses = Table(
    "risk_analyses", metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", Integer, ForeignKey("companies.id"), nullable=False, index=True),
    Column("score", Float, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

POOL_SIZE = 5
MAX_OVERFLOW = 5
COMPANY_COUNT = 400
#: Every POISON_EVERY-th company has equity 0: its analysis divides by zero (the rare 5xx).
POISON_EVERY = 97

_PREFIXES = ["삼성", "한빛", "대한", "우리", "미래", "동양", "서울", "한국", "태평양", "신한", "Raymon", "Korea"]
_SUFFIXES = ["전자", "화학", "건설", "바이오", "증권", "중공업", "물산", "제약", "Tech", "Holdings"]
SECTORS = ["manufacturing", "finance", "construction", "bio", "it", "retail"]


def company_name(i: int) -> str:
    return f"{_PREFIXES[i % len(_PREFIXES)]}{_SUFFIXES[(i // len(_PREFIXES)) % len(_SUFFIXES)]} {i}"


def make_engine(pool_name: str) -> Engine:
    engine = create_engine(
        settings.database_url(),
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=3,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 2},
    )
    instrument(engine, pool_name)
    return engine


def _operation(statement: str) -> str:
    word = statement.lstrip().split(None, 1)[0].lower() if statement.strip() else ""
    return word if word in appmetrics.QUERY_OPERATIONS else "other"


def instrument(engine: Engine, pool_name: str) -> None:
    """Pool gauges read the QueuePool at scrape time; statements are timed by cursor events."""
    pool = engine.pool
    appmetrics.db_pool_checked_out.labels(pool=pool_name).set_function(pool.checkedout)
    appmetrics.db_pool_checked_in.labels(pool=pool_name).set_function(pool.checkedin)
    appmetrics.db_pool_size.labels(pool=pool_name).set_function(pool.size)
    appmetrics.db_pool_max.labels(pool=pool_name).set(POOL_SIZE + MAX_OVERFLOW)

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("dashgen_query_start", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info["dashgen_query_start"].pop()
        appmetrics.db_query_duration.labels(operation=_operation(statement)).observe(
            time.perf_counter() - started
        )

    @event.listens_for(engine, "handle_error")
    def _error(context):
        stack = context.connection.info.get("dashgen_query_start") if context.connection is not None else None
        if stack:
            stack.pop()


def create_schema_and_seed(engine: Engine) -> None:
    """Tables and a few hundred companies with five years of financials (idempotent)."""
    metadata.create_all(engine)
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(companies)).scalar_one():
            return
        rnd = random.Random(4)
        conn.execute(companies.insert(), [
            {"id": i, "corp_code": f"{i:08d}", "name": company_name(i), "sector": SECTORS[i % len(SECTORS)]}
            for i in range(1, COMPANY_COUNT + 1)
        ])
        rows = []
        for i in range(1, COMPANY_COUNT + 1):
            for year in range(2021, 2026):
                revenue = rnd.uniform(10, 5000)
                rows.append({
                    "company_id": i, "year": year, "revenue": revenue,
                    "debt": rnd.uniform(0, 3000),
                    "equity": 0.0 if i % POISON_EVERY == 0 else rnd.uniform(50, 3000),
                    "net_income": revenue * rnd.uniform(-0.3, 0.25),
                })
        conn.execute(financials.insert(), rows)
        conn.execute(text("ANALYZE"))
