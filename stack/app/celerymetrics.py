"""Celery task metrics under danihodovic/celery-exporter's names (docs/metrics.md §6).

The real exporter listens to Celery events from a separate process; here the worker
records the same series from Celery's in-process signals and serves them on its own
/metrics (scrape job raymontology-worker), next to the DART business metrics. Names,
types and labels follow the exporter: counters `celery_task_<state>_total{name,
hostname, queue_name}` (`failed` adds `exception`, a class name), the histograms
`celery_task_runtime` (successful tasks, default buckets) and `celery_task_queue_wait_time`
(sent -> started), gauges `celery_queue_length{queue_name}`, `celery_worker_up{hostname}`,
`celery_worker_tasks_active{hostname}`, `celery_active_worker_count{queue_name}` and
`celery_active_process_count{queue_name}`.
"""

from __future__ import annotations

import threading
import time

import redis
from celery import signals
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily

TASK_LABELS = ["name", "hostname", "queue_name"]
STATES = ("sent", "received", "started", "succeeded", "rejected", "revoked", "retried")
counters = {
    state: Counter(f"celery_task_{state}_total", f"Tasks {state}.", TASK_LABELS) for state in STATES
}
failed = Counter("celery_task_failed_total", "Tasks failed.", ["name", "hostname", "exception", "queue_name"])
runtime = Histogram("celery_task_runtime", "Task runtime (successful tasks).", TASK_LABELS)
queue_wait = Histogram(
    "celery_task_queue_wait_time", "Time from sent to started.", TASK_LABELS
)
worker_up = Gauge("celery_worker_up", "Worker alive.", ["hostname"])
tasks_active = Gauge("celery_worker_tasks_active", "Tasks executing now.", ["hostname"])
active_workers = Gauge("celery_active_worker_count", "Workers consuming the queue.", ["queue_name"])
active_processes = Gauge("celery_active_process_count", "Pool processes consuming the queue.", ["queue_name"])

SENT_AT_HEADER = "x_dashgen_sent_at"
_state = threading.local()
_started: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()
hostname = "celery@unknown"


class QueueLengthCollector:
    """celery_queue_length{queue_name}: LLEN of the Redis list behind each queue, at scrape time."""

    def __init__(self, redis_url: str, queues: list[str]):
        self.client = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.queues = queues

    def collect(self):
        family = GaugeMetricFamily("celery_queue_length", "Messages waiting in the queue.", labels=["queue_name"])
        try:
            for q in self.queues:
                family.add_metric([q], float(self.client.llen(q)))
        except redis.RedisError:
            return  # broker unreachable: no sample, as the exporter gives none
        yield family


def _queue(request) -> str:
    info = getattr(request, "delivery_info", None) or {}
    return info.get("routing_key") or "celery"


def install(app, redis_url: str, queues: list[str], concurrency: int) -> None:
    REGISTRY.register(QueueLengthCollector(redis_url, queues))

    @signals.before_task_publish.connect(weak=False)
    def _stamp(headers=None, **kw):
        if headers is not None:
            headers[SENT_AT_HEADER] = time.time()

    @signals.after_task_publish.connect(weak=False)
    def _sent(sender=None, routing_key=None, **kw):
        counters["sent"].labels(sender, hostname, routing_key or "celery").inc()

    @signals.worker_ready.connect(weak=False)
    def _ready(sender=None, **kw):
        worker_up.labels(hostname).set(1)
        tasks_active.labels(hostname).set(0)
        for q in queues:
            active_workers.labels(q).set(1)
            active_processes.labels(q).set(concurrency)

    @signals.worker_shutting_down.connect(weak=False)
    def _down(**kw):
        worker_up.labels(hostname).set(0)

    @signals.task_received.connect(weak=False)
    def _received(request=None, **kw):
        counters["received"].labels(request.task_name, hostname, _queue(request)).inc()

    @signals.task_prerun.connect(weak=False)
    def _prerun(task_id=None, task=None, **kw):
        q = _queue(task.request)
        counters["started"].labels(task.name, hostname, q).inc()
        tasks_active.labels(hostname).inc()
        sent_at = getattr(task.request, SENT_AT_HEADER, None)
        if sent_at is None and isinstance(task.request.headers, dict):
            sent_at = task.request.headers.get(SENT_AT_HEADER)
        if sent_at is not None and not task.request.eta:
            queue_wait.labels(task.name, hostname, q).observe(max(0.0, time.time() - float(sent_at)))
        with _lock:
            _started[task_id] = (time.perf_counter(), q)

    @signals.task_postrun.connect(weak=False)
    def _postrun(task_id=None, **kw):
        tasks_active.labels(hostname).dec()

    def _finish(task_id):
        with _lock:
            return _started.pop(task_id, (None, "celery"))

    @signals.task_success.connect(weak=False)
    def _success(sender=None, **kw):
        t0, q = _finish(sender.request.id)
        counters["succeeded"].labels(sender.name, hostname, q).inc()
        if t0 is not None:
            runtime.labels(sender.name, hostname, q).observe(time.perf_counter() - t0)

    @signals.task_failure.connect(weak=False)
    def _failure(sender=None, task_id=None, exception=None, **kw):
        _, q = _finish(task_id)
        failed.labels(sender.name, hostname, type(exception).__name__, q).inc()

    @signals.task_retry.connect(weak=False)
    def _retry(sender=None, request=None, **kw):
        _, q = _finish(request.id)
        counters["retried"].labels(sender.name, hostname, q).inc()

    @signals.task_revoked.connect(weak=False)
    def _revoked(request=None, **kw):
        counters["revoked"].labels(request.task_name, hostname, _queue(request)).inc()

    @signals.task_rejected.connect(weak=False)
    def _rejected(message=None, **kw):
        name = (getattr(message, "headers", None) or {}).get("task", "unknown")
        counters["rejected"].labels(name, hostname, "celery").inc()
