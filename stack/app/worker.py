"""The Celery worker: DART-crawl-like tasks on the Redis broker, and its own /metrics.

`python -m stack.app.worker` starts the worker (thread pool, one process, so the
metrics live in the process that serves them) with an embedded beat-like scheduler
that enqueues a crawl every RAYMON_CRAWL_INTERVAL seconds.

Choice: the DART business metrics (raymontology_dart_crawls_total,
raymontology_dart_last_success_timestamp_seconds) are counted where the crawls run, in
the worker, and served with the celery_* task metrics on the worker's endpoint, scraped
as job raymontology-worker.
"""

from __future__ import annotations

import itertools
import logging
import random
import socket
import threading
import time
from pathlib import Path

from celery import Celery, signals
from prometheus_client import start_http_server
from sqlalchemy import insert, select

import raymontology_metrics as appmetrics
from generator.project import Project

from . import celerymetrics, db, settings

log = logging.getLogger("raymontology.worker")
QUEUE = Project(Path(__file__).resolve().parents[2]).config.selectors.celery_queue  # monitoring/config.py
CONCURRENCY = 3

app = Celery("raymontology", broker=settings.redis_url())
app.conf.update(
    task_default_queue=QUEUE,
    task_ignore_result=True,
    worker_send_task_events=True,  # what celery-exporter needs in production (docs/metrics.md §6)
    task_send_sent_event=True,
    broker_connection_retry=True,
    broker_connection_retry_on_startup=True,
    broker_connection_max_retries=None,
    broker_transport_options={"socket_timeout": 2, "socket_connect_timeout": 2},
    worker_hijack_root_logger=False,
)

_engine = None
_parse_counter = itertools.count(1)


def engine():
    global _engine
    if _engine is None:
        _engine = db.make_engine("worker")
    return _engine


class DartApiError(Exception):
    """The DART Open API answered with an error (transient)."""


class MalformedFiling(ValueError):
    """A filing the parser cannot read (permanent)."""


@app.task(name="dart.crawl_disclosures", bind=True, max_retries=2, default_retry_delay=0.5)
def crawl_disclosures(self, company_id: int):
    """One crawl unit: fetch a company's new disclosures from "DART" and store them."""
    time.sleep(random.uniform(0.02, 0.25))  # the DART API round trip
    if random.random() < 0.05:
        exc = DartApiError("DART API returned 500")
        if self.request.retries >= self.max_retries:
            appmetrics.dart_crawls.labels(result="failure").inc()
        raise self.retry(exc=exc)
    with engine().begin() as conn:
        exists = conn.execute(select(db.companies.c.id).where(db.companies.c.id == company_id)).first()
        if exists:
            conn.execute(insert(db.disclosures).values(company_id=company_id, kind=random.choice(
                ["annual_report", "quarterly_report", "major_event", "audit_report"])))
    appmetrics.dart_crawls.labels(result="success").inc()
    appmetrics.dart_last_success.set_to_current_time()
    parse_filing.delay(company_id)


@app.task(name="dart.parse_filing")
def parse_filing(company_id: int):
    """Parse the newest filing; one in 40 is malformed (2.5 %, under the 5 % alert line).

    The stack's fault switch `parse_fail_rate` (stack.run.Stack.set_worker_faults) adds more.
    """
    time.sleep(random.uniform(0.005, 0.05))
    if next(_parse_counter) % 40 == 25 or random.random() < settings.fault("parse_fail_rate"):
        raise MalformedFiling(f"cannot parse filing of company {company_id}")
    with engine().connect() as conn:
        conn.execute(select(db.disclosures.c.id).where(db.disclosures.c.company_id == company_id)
                     .order_by(db.disclosures.c.id.desc()).limit(1)).first()


def _scheduler(stop: threading.Event) -> None:
    """Embedded beat: enqueue a crawl of a random company at a fixed interval."""
    interval = settings.crawl_interval_seconds()
    while not stop.wait(interval):
        try:
            crawl_disclosures.apply_async(
                (random.randint(1, db.COMPANY_COUNT),), retry=False,
            )
        except Exception as exc:  # broker down: skip this tick, like beat would log and go on
            log.warning("cannot enqueue crawl: %s", exc)


_stop = threading.Event()


@signals.worker_ready.connect(weak=False)
def _start_scheduler(**kw):
    threading.Thread(target=_scheduler, args=(_stop,), daemon=True, name="dart-scheduler").start()


@signals.worker_shutting_down.connect(weak=False)
def _stop_scheduler(**kw):
    _stop.set()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    nodename = f"worker1@{socket.gethostname()}"
    celerymetrics.hostname = nodename
    celerymetrics.install(app, settings.redis_url(), [QUEUE], CONCURRENCY)
    start_http_server(settings.worker_metrics_port(), addr="127.0.0.1")
    app.worker_main([
        "worker", "--pool=threads", f"--concurrency={CONCURRENCY}", "--loglevel=WARNING",
        "-n", nodename, "-Q", QUEUE, "--without-gossip", "--without-mingle",
    ])


if __name__ == "__main__":
    main()
