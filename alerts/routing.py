"""Who hears about which alert (docs/targets.md §8 "Action" column; docs/targets.md §3 escalation timing).

Critical alerts climb the escalation ladder: e-mail at once, Slack after 5 minutes, SMS after
15 minutes (ServiceDown only), each step only while the alert still fires. Warnings go to
Slack. Anything else (an alert without a known severity) goes to Slack too, so nothing is
dropped. The waits and how far each alert climbs live in monitoring/config.py.
"""

from generator.config import Config
from generator.notifications import AlertRouting, Receiver, Route, escalation_routes


def build(cfg: Config) -> AlertRouting:
    n = cfg.notifications
    email = Receiver("raymontology-email", "email")
    slack = Receiver("raymontology-slack", "slack")
    sms = Receiver("raymontology-sms", "sms")
    warnings = Route(slack.name, matchers=(("severity", "=", "warning"),), group_wait=n.warning_group_wait,
                     repeat_interval=n.warning_repeat_interval)
    return AlertRouting(
        receivers=(email, slack, sms),
        policy=Route(
            slack.name,
            group_by=n.group_by,
            group_wait=n.warning_group_wait,
            group_interval=n.group_interval,
            repeat_interval=n.warning_repeat_interval,
            routes=(*escalation_routes(cfg, {"email": email.name, "slack": slack.name, "sms": sms.name}), warnings),
        ),
    )
