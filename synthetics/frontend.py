"""The plan's frontend check (docs/targets.md §3): GET / on the frontend every 3 minutes, 30 s
timeout, status 200, from the same locations as the /health check.

One Synthetic Monitoring check per environment whose environments.toml sets `frontend_url`
(config.Selectors.frontend_target_key); FrontendDown (alerts/availability.py) and the system-health
"Frontend uptime" stat read its probe_success when config.Uptime.source is
"synthetic-monitoring". With the blackbox source no check is rendered, as for /health.
"""

from generator.config import Config
from generator.synthetics import HttpCheck


def build(cfg: Config) -> list[HttpCheck]:
    t, u = cfg.thresholds, cfg.uptime
    if not u.synthetic:
        return []  # blackbox: the self-hosted prober has no frontend target (README "Uptime probe")
    return [HttpCheck(
        job=cfg.jobs.frontend_check,
        target_key=cfg.selectors.frontend_target_key,
        frequency_seconds=t.frontend_check_interval_seconds,  # docs/targets.md §3: every 3 min
        timeout_seconds=t.frontend_check_timeout_seconds,  # docs/targets.md §3: 30 s
        probes=u.probes,
        method="GET",
        valid_status_codes=t.frontend_valid_status_codes,  # docs/targets.md §3: 200
        fail_if_not_ssl=u.require_tls,
        labels={"service": "frontend"},
        basic_metrics_only=u.basic_metrics_only,
        alert_sensitivity=u.alert_sensitivity,
    )]
