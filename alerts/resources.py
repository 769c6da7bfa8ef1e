"""CPU and memory of the backend and worker processes against the Railway plan (docs/targets.md §1, §8)."""

from generator.config import Config
from generator.rules import Alert, RuleGroup

from ..monitoring import queries as q


def build(cfg: Config) -> RuleGroup:
    t = cfg.thresholds
    jobs = q.app_jobs(cfg)
    return RuleGroup("raymontology-resources", [
        Alert(
            "HighCPUUsage",
            f"{q.cpu_usage(cfg, jobs, t.resource_window)} > {t.cpu_alert:g}",
            severity="warning",
            for_=t.cpu_for,
            summary="A Raymontology service uses most of its CPU.",
            description=(
                f"{{{{ $labels.job }}}} uses {{{{ $value | humanizePercentage }}}} of its {cfg.plan.cpu_limit_cores:g} "
                f"vCPU (alert above {t.cpu_alert:.0%} for {t.cpu_for}; target below {t.cpu_target:.0%})."
            ),
            dashboard=cfg.dashboards.system_health,
            runbook="""
1. docs/targets.md §1: at 80 % CPU consider scaling up the Railway service.
2. Look for a traffic spike (request rate) or a hot endpoint (slowest endpoints) first.
3. For the worker, check whether a DART crawl backlog is being worked off (queue length).
""",
        ),
        Alert(
            "HighMemoryUsage",
            f"{q.memory_usage(cfg, jobs)} > {t.memory_alert:g}",
            severity="warning",
            for_=t.memory_for,
            summary="A Raymontology service uses most of its memory.",
            description=(
                f"{{{{ $labels.job }}}} uses {{{{ $value | humanizePercentage }}}} of the plan's "
                f"{cfg.plan.memory_limit_bytes // (1024 * 1024)} MiB (alert above {t.memory_alert:.0%} for "
                f"{t.memory_for})."
            ),
            dashboard=cfg.dashboards.system_health,
            runbook="""
1. docs/targets.md §1: at 85 % memory optimisation is needed; the process is killed at the plan limit.
2. A steady climb since the last deploy is a leak: compare with the previous release.
3. Restart the service to buy time, then profile; or move to a larger plan.
""",
        ),
    ])
