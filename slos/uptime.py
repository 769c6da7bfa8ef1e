"""Uptime: the share of successful /health checks (docs/targets.md §3 check, §7: uptime > 99.9 %)."""

from generator.config import Config
from generator.slo import SLO, ProbeSLI

from ..monitoring import queries as q


def build(cfg: Config) -> SLO:
    s = cfg.slo
    job = q.probe_job(cfg)
    if cfg.uptime.synthetic:  # one series per Synthetic Monitoring location
        series = tuple(f'probe_success{{job="{job}", instance="https://backend.example/health", probe="{p}"}}'
                       for p in cfg.uptime.probes)
        source = f"the Synthetic Monitoring check from {len(cfg.uptime.probes)} locations"
    else:
        series = (f'probe_success{{job="{job}", instance="https://backend.example/health"}}',)
        source = "the blackbox prober"
    return SLO(
        name="uptime",
        alert_name="Uptime",
        title="Uptime",
        description=(f"Share of successful GET /health checks ({source}, every "
                     f"{cfg.thresholds.health_check_interval_seconds} s). Objective {cfg.thresholds.uptime_target:.1%} "
                     "(docs/targets.md §7)."),
        objective=cfg.thresholds.uptime_target,
        period=s.period,
        sli=ProbeSLI(success=q.probe_success(cfg), test_series=series),
        runbook="""
2. ServiceDown fires when the check fails 3 times in a row; a burn without it means short or partial outages:
   the system-health "Uptime" panel and the check's locations show whether one location or all fail.
3. `railway logs --service backend` around the failed checks: restarts, slow start-up, failing dependencies
   (PostgreSQL and Redis alerts).
""",
    )
