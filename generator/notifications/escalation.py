"""Escalation: the sibling routes that take a critical alert from e-mail to Slack to SMS
as it keeps firing (docs/targets.md §3), built from the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from generator.config import Config
from generator.errors import DashgenError
from generator.notifications.model import KINDS, Route


def escalation_routes(cfg: Config, receivers: Mapping[str, str]) -> tuple[Route, ...]:
    """Sibling routes for critical alerts, one per escalation step (docs/targets.md §3).

    Every step matches `severity=critical` (plus the alert names allowed that far, for steps
    beyond `critical_reach`), waits its `*_after` as group_wait and continues to the next, so
    an alert still firing when a step's wait ends reaches that step's receiver too, and a
    group resolved before then never does. `receivers` maps kind -> receiver name.
    """
    n = cfg.notifications
    after = {"email": n.email_after, "slack": n.slack_after, "sms": n.sms_after}
    reach = {kind: i for i, kind in enumerate(KINDS)}
    for kind in (n.critical_reach, *(r for _a, r in n.reach_overrides)):
        if kind not in reach:
            raise DashgenError(f"monitoring/config.py: escalation step {kind!r} is not one of {', '.join(KINDS)}")
    routes = []
    for kind in KINDS:
        matchers: tuple[tuple[str, str, str], ...] = (("severity", "=", "critical"),)
        if reach[kind] > reach[n.critical_reach]:
            names = sorted(a for a, r in n.reach_overrides if reach[r] >= reach[kind])
            if not names:
                continue
            matchers += (("alertname", "=~", "|".join(names)),)
        routes.append(Route(receivers[kind], matchers=matchers, group_wait=after[kind],
                            repeat_interval=n.critical_repeat_interval, continue_=True))
    routes[-1] = replace(routes[-1], continue_=False)
    return tuple(routes)
