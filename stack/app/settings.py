"""Settings from the environment; stack.run sets them for each process."""

from __future__ import annotations

import os


def database_url() -> str:
    return os.environ.get("RAYMON_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/railway")


def redis_url() -> str:
    return os.environ.get("RAYMON_REDIS_URL", "redis://127.0.0.1:6379/0")


def worker_metrics_port() -> int:
    return int(os.environ.get("RAYMON_WORKER_METRICS_PORT", "9808"))


def crawl_interval_seconds() -> float:
    """How often the worker's embedded scheduler enqueues a DART crawl."""
    return float(os.environ.get("RAYMON_CRAWL_INTERVAL", "0.5"))


def faults_dir() -> str | None:
    """Where stack.run drops fault switches for the worker (files holding a number)."""
    return os.environ.get("RAYMON_FAULTS_DIR")


def fault(name: str) -> float:
    d = faults_dir()
    if not d:
        return 0.0
    try:
        with open(os.path.join(d, name)) as f:
            return float(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0.0
