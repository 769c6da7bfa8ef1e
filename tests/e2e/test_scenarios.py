"""Fault scenarios: each fault makes the matching rendered alert expression true.

Expressions are the rendered ones, evaluated as written through /api/v1/query; the
alert's state comes from the stack's Prometheus, which loads the same rule files
(group interval shortened to the scrape interval). DatabaseConnectionFailed and RedisDown
(`for: 1m`) must reach firing, as their outages fit inside ServiceDown's wait; where `for`
is longer than test time allows (3m-10m), reaching `pending` is the proof, and promtool
unit tests cover the durations. HighCPUUsage (a 5-minute CPU average) and DartCrawlStale
(a day without a crawl) have no scenario here: the selector check and "no alert under
normal traffic" are what the stack proves about them.

Order matters and is the file order: normal traffic first; then the faults that need the
app, whose effects linger in 5-minute windows; the outages last. ServiceDown needs minutes
of failed probes (max_over_time(probe_success[...])), so the other outages and the worker,
PostgreSQL and Redis faults run inside that wait, one after the other, each checked false
before its fault.
"""

from __future__ import annotations

import re
import time

import pytest

from repo_project import QUERIES

from .conftest import wait_for

probe_job = QUERIES.probe_job

pytestmark = pytest.mark.e2e
ACTIVE = {"pending", "firing"}


def alert_states(stack, name: str) -> set[str]:
    return {a["state"] for a in stack.alerts() if a["labels"].get("alertname") == name}


def expr_true(stack, rules, name: str) -> list:
    return stack.query(rules[name]["expr"])


def seconds(duration: str | None) -> float:
    """A Prometheus duration ("1m", "90s", "1h30m") in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|[smhdwy])", duration or "0s"))


def prove(stack, rules, report, name: str, fault: str, started: float, timeout: float,
          want_firing: bool = False, fire_within: float = 0.0) -> None:
    """The alert's expression becomes true, then its rule reaches pending (or firing).

    With `fire_within`, an alert whose `for` fits in that many seconds must also fire.
    """
    rule = rules.get(name)
    assert rule, f"no alerting rule named {name} in rendered/alerts"
    result = wait_for(lambda: expr_true(stack, rules, name), timeout=timeout)
    assert result, f"{fault}: {name} expression never became true in {timeout:.0f}s:\n  {rule['expr']}"
    t_true = time.monotonic() - started
    want = {"firing"} if want_firing else ACTIVE
    states = wait_for(lambda: alert_states(stack, name) & want, timeout=3 * stack.scrape_interval + 5, interval=0.5)
    if states and fire_within and seconds(rule.get("for")) + 2 * stack.scrape_interval <= fire_within:
        states = wait_for(lambda: alert_states(stack, name) & {"firing"},
                          timeout=seconds(rule.get("for")) + 3 * stack.scrape_interval + 5, interval=0.5)
    t_state = time.monotonic() - started
    report["scenarios"].append(
        f"{fault:<28} -> {name:<25} expr true after {t_true:5.1f}s; state {sorted(states or alert_states(stack, name))}"
        f" after {t_state:5.1f}s (for: {rule.get('for', '0s')}); value {result[0]['value'][1]}"
    )
    assert states, f"{fault}: {name} expression is true but the alert is {alert_states(stack, name) or 'inactive'}"


def assert_rules_healthy(stack, rules):
    loaded = stack.rules()
    assert {r["name"] for r in loaded if r["type"] == "alerting"} == set(rules), "Prometheus loaded other alerts"
    bad = [f"{r['group']}/{r['name']}: {r.get('health')}: {r.get('lastError')}" for r in loaded
           if r.get("health") != "ok"]
    assert not bad, "rules failing to evaluate on real data:\n  " + "\n  ".join(bad)


def test_no_alert_expression_true_under_normal_traffic(stack, rules, report):
    assert_rules_healthy(stack, rules)
    # The stack's baseline 5xx (stack/app/db.py POISON_EVERY: about 0.2 % of requests) is above
    # the plan's 0.1 % error budget: an SLO ticket may see it, which is what tickets are for.
    # Pages, and every other alert, must stay silent.
    tickets = {n for n, r in rules.items() if (r.get("labels") or {}).get("slo_tier") == "ticket"}
    for attempt in range(2):
        true_now = {name: r for name in sorted(set(rules) - tickets) if (r := expr_true(stack, rules, name))}
        assert not true_now, "alert expressions true under normal traffic:\n" + "\n".join(
            f"  {name}: {rules[name]['expr']}\n    -> {res[:3]}" for name, res in true_now.items())
        active = {a["labels"]["alertname"]: a["state"] for a in stack.alerts()
                  if a["labels"]["alertname"] not in tickets}
        assert not active, f"alerts active under normal traffic: {active}"
        time.sleep(stack.scrape_interval)
    def value(expr):
        res = stack.query(expr)
        return f"{float(res[0]['value'][1]):.4g}" if res else "none"

    report["scenarios"].append(
        f"{'normal traffic':<28} -> no alert expression true ({len(rules)} alerts); "
        f"5xx ratio {value('max(raymontology:http_requests_5xx:ratio_rate5m)')}, "
        f"P95 {value('max(raymontology:http_request_duration_seconds:p95_rate5m)')} s, "
        f"req/s {value('sum(raymontology:http_requests:rate5m)')}")


def test_five_percent_5xx_fires_high_error_rate(stack, rules, report):
    started = time.monotonic()
    stack.set_faults(error_rate=0.05)
    try:
        prove(stack, rules, report, "HighErrorRate", "5 % of requests fail (5xx)", started, timeout=60)
    finally:
        stack.set_faults()


def test_latency_above_one_second_fires_slow_api_response(stack, rules, report):
    started = time.monotonic()
    stack.set_faults(extra_latency=1.5)
    try:
        prove(stack, rules, report, "SlowAPIResponse", "+1.5 s latency on /api/", started, timeout=60)
    finally:
        stack.set_faults()


def test_memory_above_85_percent_fires_high_memory_usage(stack, rules, report):
    """RSS above 85 % of the plan's memory (generator.config: plan.memory_limit_bytes)."""
    target_mb = int(stack.config.plan.memory_limit_bytes * (stack.config.thresholds.memory_alert + 0.05)) >> 20
    started = time.monotonic()
    stack.set_faults(hold_memory_mb=target_mb)
    try:
        prove(stack, rules, report, "HighMemoryUsage", f"backend holds {target_mb} MiB", started, timeout=30)
    finally:
        stack.set_faults()


def test_exhausted_pool_fires_db_pool_nearly_exhausted(stack, rules, report):
    """The backend's pool exhausted while the worker's is idle (first run: the rule summed every
    pool and read 50 %; now per job, instance and pool)."""
    from stack.app.db import MAX_OVERFLOW, POOL_SIZE

    started = time.monotonic()
    stack.set_faults(hold_connections=POOL_SIZE + MAX_OVERFLOW)
    try:
        prove(stack, rules, report, "DbPoolNearlyExhausted", "backend pool exhausted", started, timeout=15)
    finally:
        stack.set_faults()


def test_outages(stack, rules, report):
    """App down -> ServiceDown, which needs minutes of failed probes. Meanwhile, one at a time,
    each checked false first: the app's scrape target missing -> TargetMissing; failing tasks ->
    CeleryTaskHighFailRate; the worker stopped -> CeleryWorkerDown; most PostgreSQL connections
    taken -> PostgresConnectionsHigh; Redis nearly full -> RedisMemoryHigh; PostgreSQL stopped ->
    DatabaseConnectionFailed (fires); Redis stopped -> RedisDown (fires)."""
    import psycopg
    import redis

    def step(name: str, fault: str, start, undo, **kw) -> None:
        assert not expr_true(stack, rules, name), f"{name} true before its fault"
        started = time.monotonic()
        start()
        try:
            prove(stack, rules, report, name, fault, started, **kw)
        finally:
            undo()

    app_stopped, app_stopped_wall = time.monotonic(), time.time()
    stack.stop_app()
    try:
        prove(stack, rules, report, "TargetMissing", "app stopped", app_stopped, timeout=20)

        step("CeleryTaskHighFailRate", "half the parse tasks fail", lambda: stack.set_worker_faults(parse_fail_rate=0.5),
             stack.set_worker_faults, timeout=45)

        step("CeleryWorkerDown", "worker stopped", stack.stop_worker, stack.start_worker, timeout=20)

        held: list = []
        pg_max = int(float(stack.query(f'max(pg_settings_max_connections{{job="{stack.config.jobs.postgres}"}})')[0]["value"][1]))
        share = stack.config.thresholds.pg_connections_warn + 0.05

        def take_connections():
            dsn = f"host=127.0.0.1 port={stack.ports['postgres']} user=postgres dbname={stack.config.selectors.database}"
            held.extend(psycopg.connect(dsn) for _ in range(int(pg_max * share)))

        def release_connections():
            while held:
                held.pop().close()

        step("PostgresConnectionsHigh", f"{int(pg_max * share)} of {pg_max} connections taken", take_connections,
             release_connections, timeout=20)

        client = redis.Redis(port=stack.ports["redis"])
        maxmemory = int(client.config_get("maxmemory")["maxmemory"])
        chunk = 1 << 20

        def fill_redis():
            target = int(maxmemory * (stack.config.thresholds.redis_memory_warn + 0.04))
            n = 0
            while client.info("memory")["used_memory"] < target:
                client.set(f"dashgen:ballast:{n}", b"\x01" * chunk)
                n += 1

        def empty_redis():
            keys = list(client.scan_iter("dashgen:ballast:*"))
            if keys:
                client.delete(*keys)

        step("RedisMemoryHigh", "Redis filled above 90 %", fill_redis, empty_redis, timeout=20)

        step("DatabaseConnectionFailed", "PostgreSQL stopped", stack.stop_postgres, stack.start_postgres,
             timeout=30, fire_within=70)

        step("RedisDown", "Redis stopped", stack.stop_redis, stack.start_redis, timeout=30, fire_within=70)

        # ServiceDown's window is N failed checks at the seed's 1-minute interval.
        prove(stack, rules, report, "ServiceDown", "app stopped", app_stopped, timeout=240, want_firing=True)
        # The rule reads the configured source: with Synthetic Monitoring, the stack's second
        # blackbox job labelled like the SM check (one series per `probe` location).
        series = stack.query(f"probe_success{{job=\"{probe_job(stack.config)}\"}}[5m]")
        assert series, f"no probe_success for job {probe_job(stack.config)!r}"
        last_ok = max(float(t) for s in series for t, v in s["values"] if v == "1")
        report["scenarios"].append(f"{'':<28}    last successful probe {last_ok - app_stopped_wall:+.1f}s from the app stop")
        # Prometheus sends the firing alert to the stack's Alertmanager, which e-mails at once.
        mailed = wait_for(lambda: [r for r in stack.received() if r["sink"] == "email" and r["time"] > app_stopped_wall
                                   and r["body"].get("status") == "firing" and "e2e_case" not in r["body"]["commonLabels"]
                                   and r["body"]["commonLabels"].get("alertname") == "ServiceDown"],
                          timeout=20, interval=0.5)
        assert mailed, "the firing ServiceDown never reached the e-mail sink through Prometheus and Alertmanager"
        report["scenarios"].append(f"{'':<28}    e-mailed through Alertmanager {mailed[0]['time'] - app_stopped_wall:.1f}s "
                                   "after the app stop")
        assert_rules_healthy(stack, rules)
    finally:
        stack.start_app()
