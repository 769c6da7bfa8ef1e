"""The plan's external uptime check (docs/targets.md §3): GET /health every minute from several locations.

One Synthetic Monitoring check per environment whose environments.toml sets `health_url`;
ServiceDown and the uptime panel read its probe_success when config.Uptime.source is
"synthetic-monitoring" (alerts/availability.py).
"""

from generator.config import Config
from generator.synthetics import HttpCheck


def build(cfg: Config) -> list[HttpCheck]:
    t, u = cfg.thresholds, cfg.uptime
    if not u.synthetic:
        return []  # blackbox: production runs its own prober (README "Uptime probe"); no SM cost
    return [HttpCheck(
        job=u.check_job,
        target_key=u.target_key,
        frequency_seconds=t.health_check_interval_seconds,  # docs/targets.md §3: every 1 min
        timeout_seconds=t.health_check_timeout_seconds,  # docs/targets.md §3: 30 s
        probes=u.probes,
        method="GET",
        valid_status_codes=u.valid_status_codes,  # docs/targets.md §3: 200
        fail_if_body_not_matches=(u.body_regexp,),  # docs/targets.md §3: "status":"healthy"
        fail_if_not_ssl=u.require_tls,
        labels={"service": cfg.jobs.backend},
        basic_metrics_only=u.basic_metrics_only,
        alert_sensitivity=u.alert_sensitivity,
    )]
