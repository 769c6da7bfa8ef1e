"""Is the service reachable at all: the health probe and every scrape target."""

from generator.config import Config
from generator.rules import Alert, RuleGroup

from ..monitoring import queries as q
from ..monitoring.catalog import CATALOG as C


def build(cfg: Config) -> RuleGroup:
    t, sm = cfg.thresholds, cfg.uptime.synthetic
    jobs = [cfg.jobs.backend, cfg.jobs.worker, cfg.jobs.postgres, cfg.jobs.redis]
    if not sm:
        jobs.append(cfg.jobs.blackbox)  # the self-hosted prober is scraped like any exporter
    missing = [f"absent({C.sel('up', job=j)})" for j in jobs]
    if sm:  # SM pushes its results: no `up`, so a check that reports nothing shows as absent
        missing.append(f"absent({q.probe_success(cfg)})")
        missing.append(f"absent({q.frontend_probe_success(cfg)})")
    where = (f"from a majority of the {len(cfg.uptime.probes)} Synthetic Monitoring locations (only "
             "{{ $value | humanizePercentage }} of them still succeed)" if sm else "from the blackbox prober")
    return RuleGroup("raymontology-availability", [
        Alert(
            "ServiceDown",
            # docs/targets.md §8: 3 failed one-minute checks = no successful probe in the last 3 minutes.
            q.service_down(cfg),
            severity="critical",
            summary="The Raymontology API fails its health check.",
            description=(
                f"GET /health on {{{{ $labels.instance }}}} has failed {t.service_down_failed_checks} checks in a "
                f"row (checked every {t.health_check_interval_seconds} s) {where}: users cannot reach the API."
            ),
            keep_firing_for=t.service_down_keep_firing,
            dashboard=cfg.dashboards.system_health,
            runbook="""
1. Open the backend's Railway service: is the latest deploy healthy, is the service running?
2. `railway logs --service backend | grep ERROR` for crash loops, failed migrations or missing settings.
3. If PostgreSQL or Redis alerts fire too, fix those first: /health fails when its dependencies do.
4. Roll back to the last good deploy if the failure started with a release.
""",
        ),
        *([frontend_down(cfg)] if sm else []),  # the blackbox prober has no frontend target
        Alert(
            "TargetMissing",
            f"{C.sel('up', q.re_('job', q.regex_union(jobs)))} == 0 or {' or '.join(missing)}",
            severity="warning",
            for_=t.scrape_missing_for,
            summary="Prometheus cannot scrape a Raymontology target.",
            description=(
                "Job {{ $labels.job }} ({{ $labels.instance }}) has not been scraped successfully (or, for a "
                "Synthetic Monitoring check, has reported no result) for "
                f"{t.scrape_missing_for}: its panels are empty and its alerts cannot fire."
            ),
            dashboard=cfg.dashboards.system_health,
            runbook="""
1. Check that the target is running and that its `/metrics` answers (docs/targets.md §10: the backend exposes
   `/metrics` in production only).
2. Check the scraper (Grafana Alloy or the hosted scrape job) and its credentials.
3. An exporter down (postgres, redis, blackbox) hides the health of what it watches: treat it as urgent.
4. For the Synthetic Monitoring check's job: is the check in Testing & synthetics > Synthetics, enabled,
   and on its probes? `make upload ENV=production` with SM_URL and SM_TOKEN set recreates it.
""",
        ),
    ])


def frontend_down(cfg: Config) -> Alert:
    """The frontend's GET / check (synthetics/frontend.py) fails from a majority of locations.

    Synthetic Monitoring only: the blackbox source's self-hosted prober watches /health alone,
    so with it there is no frontend check, no FrontendDown and no frontend uptime panel.
    """
    t = cfg.thresholds
    return Alert(
        "FrontendDown",
        # a majority of locations had no success in the last frontend_down_failed_checks checks
        q.frontend_down(cfg),
        severity="critical",
        summary="The Raymontology web app does not load.",
        description=(
            f"GET {{{{ $labels.instance }}}} has failed {t.frontend_down_failed_checks} checks in a row (checked "
            f"every {t.frontend_check_interval_seconds // 60} min) "
            f"from a majority of the {len(cfg.uptime.probes)} Synthetic Monitoring locations (only "
            "{{ $value | humanizePercentage }} of them still succeed): users cannot open the site."
        ),
        keep_firing_for=t.frontend_down_keep_firing,
        dashboard=cfg.dashboards.system_health,
        runbook="""
1. Open the frontend's Railway service: is the latest deploy healthy, is the service running?
2. `railway logs --service frontend` for a failed build, a crash loop or a missing setting.
3. If ServiceDown fires too, the backend is the likelier cause: fix it first.
4. Open the URL yourself: a TLS or DNS error points at the domain settings, a 404 at the build output.
5. Roll back to the last good deploy if the failure started with a release.
""",
    )
