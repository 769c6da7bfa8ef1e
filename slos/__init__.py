"""Service level objectives (docs/targets.md §7): one module per SLO, each `build(cfg) -> SLO`.

Rules, burn-rate alerts, their promtool tests and the SLO dashboard are generated from these
by generator/slo.py; the objectives are in monitoring/config.py (`Thresholds`), how they
become rules in its `SLO` (dashgen's `SLOConfig`).
"""
