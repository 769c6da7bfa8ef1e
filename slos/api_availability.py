"""API availability: the share of API requests not answered with a 5xx (docs/targets.md §7: 5xx < 0.1 %)."""

from generator.catalog import nre
from generator.config import Config
from generator.slo import SLO, RequestSLI

from ..monitoring import queries as q


def build(cfg: Config) -> SLO:
    job = cfg.jobs.backend
    series = 'http_requests_total{{job="{job}", instance="backend:8000", method="GET", handler="/api/companies", status="{s}"}}'
    return SLO(
        name="api-availability",
        alert_name="ApiAvailability",
        title="API availability",
        description=(f"Share of API requests to {job} not answered with a 5xx (scrapes of /metrics excluded). "
                     f"Objective {1 - cfg.thresholds.error_ratio_target:.1%}: the plan's 5xx rate below "
                     f"{cfg.thresholds.error_ratio_target:.1%} (docs/targets.md §7)."),
        objective=1 - cfg.thresholds.error_ratio_target,
        period=cfg.slo.period,
        sli=RequestSLI(
            good=q.http_requests(cfg, job, nre("status", "5..")),
            total=q.http_requests(cfg, job),
            test_series=((series.format(job=job, s="2xx"), "good"), (series.format(job=job, s="5xx"), "bad")),
        ),
        runbook="""
2. "Requests by handler and status" on the system-health dashboard names the failing routes; HighErrorRate
   fires as well when more than 1 % fail.
3. Sentry's Issues view has the exceptions; `railway logs --service backend | grep ERROR`.
4. Failing everywhere: check PostgreSQL and Redis (database dashboard) and the last deploy; roll back if the
   burn started with a release.
""",
    )
