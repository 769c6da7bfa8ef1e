"""The FastAPI backend, shaped like Raymontology's: search, company, risk analysis, /health.

Instrumented as the seed does it (`Instrumentator().instrument(app).expose(app)`, all
defaults), plus the catalog's business metrics from raymontology_metrics, which live in
prometheus_client's global registry and so appear on the same /metrics.

Fault switches for the e2e scenarios: GET/POST /admin/faults with
{"error_rate": 0.05, "extra_latency": 1.5, "hold_memory_mb": 0, "hold_connections": 0}.
Errors and latency act on /api/ routes only, inside the instrumentator's middleware, so
they are measured like real ones; the other two hold memory or pool connections.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
import threading
from contextlib import asynccontextmanager

import redis
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from prometheus_fastapi_instrumentator import Instrumentator
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

import raymontology_metrics as appmetrics

from . import db, settings

log = logging.getLogger("raymontology.api")

engine = db.make_engine("api")
cache = redis.Redis.from_url(settings.redis_url(), socket_timeout=0.5, socket_connect_timeout=0.5)


class Faults(BaseModel):
    error_rate: float = 0.0  # share of /api/ requests answered 500
    extra_latency: float = 0.0  # seconds added to every /api/ request
    hold_memory_mb: int = 0  # resident memory the process holds on to
    hold_connections: int = 0  # pool connections checked out and kept


faults = Faults()
_ballast: bytearray | None = None
_held: list = []


def _apply_resource_faults() -> None:
    global _ballast
    mb = faults.hold_memory_mb
    if mb <= 0:
        _ballast = None
    elif _ballast is None or len(_ballast) != mb << 20:
        _ballast = None
        _ballast = bytearray(b"\x01") * (mb << 20)  # written, so it is resident
    while len(_held) > max(faults.hold_connections, 0):
        _held.pop().close()
    while len(_held) < faults.hold_connections:
        try:
            _held.append(engine.connect())
        except SQLAlchemyError:
            break


def _day_key(day: dt.date) -> str:
    return f"active_users:{day.isoformat()}"


def _refresh_active_users(stop: threading.Event) -> None:
    """DAU/WAU/MAU from per-day Redis HyperLogLogs (docs/metrics.md §10), every few seconds."""
    while not stop.wait(3.0):
        today = dt.datetime.now(dt.timezone.utc).date()
        try:
            for window, days in (("1d", 1), ("7d", 7), ("30d", 30)):
                keys = [_day_key(today - dt.timedelta(days=n)) for n in range(days)]
                appmetrics.active_users.labels(window=window).set(cache.pfcount(*keys))
        except redis.RedisError:
            pass  # keep the last values while Redis is away


@asynccontextmanager
async def lifespan(app: FastAPI):
    stop = threading.Event()
    threading.Thread(target=_refresh_active_users, args=(stop,), daemon=True, name="active-users").start()
    yield
    stop.set()
    engine.dispose()


app = FastAPI(title="raymontology (reference stack)", lifespan=lifespan)


@app.middleware("http")
async def inject_faults(request: Request, call_next):
    if request.url.path.startswith("/api/"):
        if faults.extra_latency > 0:
            await asyncio.sleep(faults.extra_latency)
        if faults.error_rate > 0 and random.random() < faults.error_rate:
            return JSONResponse({"detail": "injected fault"}, status_code=500)
    return await call_next(request)


# After the fault middleware, so the instrumentator's middleware wraps it.
Instrumentator().instrument(app).expose(app, endpoint="/metrics")


def current_user(x_user_id: str | None = Header(default=None)) -> str | None:
    if x_user_id:
        try:
            cache.pfadd(_day_key(dt.datetime.now(dt.timezone.utc).date()), x_user_id)
        except redis.RedisError:
            pass
    return x_user_id


def _cache_get(key: str):
    try:
        raw = cache.get(key)
    except redis.RedisError:
        return None
    return json.loads(raw) if raw else None


def _cache_set(key: str, value, ttl: int) -> None:
    try:
        cache.set(key, json.dumps(value), ex=ttl)
    except redis.RedisError:
        pass


@app.get("/health")
def health():
    return {"status": "healthy"}


@app.get("/admin/faults")
def get_faults() -> Faults:
    return faults


@app.post("/admin/faults")
def set_faults(new: Faults) -> Faults:
    for name in Faults.model_fields:
        setattr(faults, name, getattr(new, name))
    _apply_resource_faults()
    log.warning("faults now %s", faults)
    return faults


@app.get("/api/companies/search")
def search_companies(q: str = Query(min_length=2, max_length=50), user=Depends(current_user)):
    key = f"search:{q.lower()}"
    rows = _cache_get(key)
    if rows is None:
        try:
            with engine.connect() as conn:
                result = conn.execute(
                    select(db.companies.c.id, db.companies.c.name, db.companies.c.sector)
                    .where(db.companies.c.name.ilike(f"%{q}%"))
                    .order_by(db.companies.c.name).limit(20)
                )
                rows = [dict(r._mapping) for r in result]
        except SQLAlchemyError:
            appmetrics.company_searches.labels(result="error").inc()
            raise HTTPException(503, "database unavailable")
        _cache_set(key, rows, 30)
    appmetrics.company_searches.labels(result="hit" if rows else "no_results").inc()
    return {"query": q, "results": rows}


@app.get("/api/companies/{company_id}")
def get_company(company_id: int, user=Depends(current_user)):
    try:
        with engine.connect() as conn:
            row = conn.execute(select(db.companies).where(db.companies.c.id == company_id)).first()
    except SQLAlchemyError:
        raise HTTPException(503, "database unavailable")
    if row is None:
        raise HTTPException(404, "company not found")
    return dict(row._mapping)


def _score(fin: list) -> float:
    """A toy risk model: leverage, losses and volatility, squashed into 0..1."""
    leverage = sum(r.debt for r in fin) / sum(r.equity for r in fin)  # equity 0 -> ZeroDivisionError
    margin = sum(r.net_income for r in fin) / sum(r.revenue for r in fin)
    raw = 0.35 * min(leverage, 3.0) / 3.0 + 0.45 * max(0.0, 0.15 - margin) / 0.45 + random.uniform(0.0, 0.35)
    return round(min(max(raw, 0.01), 0.99), 4)


@app.post("/api/companies/{company_id}/risk-analysis")
def analyse(company_id: int, user=Depends(current_user)):
    try:
        with engine.begin() as conn:
            fin = conn.execute(
                select(db.financials).where(db.financials.c.company_id == company_id)
            ).all()
            if not fin:
                raise HTTPException(404, "company not found")
            score = _score(fin)
            conn.execute(db.analyses.insert().values(company_id=company_id, score=score))
    except SQLAlchemyError:
        raise HTTPException(503, "database unavailable")
    appmetrics.risk_analyses.inc()
    appmetrics.risk_scores.observe(score)
    _cache_set(f"risk:{company_id}", {"score": score}, 600)
    return {"company_id": company_id, "risk_score": score, "high_risk": score > 0.8}


@app.get("/api/companies/{company_id}/risk")
def latest_risk(company_id: int, user=Depends(current_user)):
    cached = _cache_get(f"risk:{company_id}")
    if cached is not None:
        return {"company_id": company_id, "risk_score": cached["score"], "cached": True}
    try:
        with engine.connect() as conn:
            score = conn.execute(
                select(db.analyses.c.score).where(db.analyses.c.company_id == company_id)
                .order_by(db.analyses.c.id.desc()).limit(1)
            ).scalar()
    except SQLAlchemyError:
        raise HTTPException(503, "database unavailable")
    if score is None:
        raise HTTPException(404, "no analysis yet")
    return {"company_id": company_id, "risk_score": score, "cached": False}


@app.get("/api/stats")
def stats():
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(db.analyses)).scalar_one()
    return {"analyses": n}
