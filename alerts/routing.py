"""Who hears about which alert (docs/targets.md §8 "Action" column; docs/targets.md §3 escalation timing)."""

from generator.config import Config
from generator.notifications import ContactPoint, Integration, Notifications, Route


def build(cfg: Config) -> Notifications:
    n = cfg.notifications
    slack = Integration("slack", {"url": f"${n.slack_webhook_env}", "title": "Raymontology Alert ({{ .CommonLabels.severity }})"})
    email = Integration("email", {"addresses": f"${n.email_addresses_env}", "singleEmail": True})
    sms = Integration("webhook", {"url": f"${n.sms_webhook_env}", "httpMethod": "POST"})
    return Notifications(
        contact_points=(
            ContactPoint("raymontology-slack", (slack,)),                 # warnings: Slack
            ContactPoint("raymontology-email-slack", (email, slack)),     # critical: Email + Slack
            ContactPoint("raymontology-page", (email, slack, sms)),       # ServiceDown: Email + Slack + SMS
        ),
        policy=Route(
            receiver="raymontology-slack",
            group_by=("grafana_folder", "alertname"),
            group_wait=n.warning_group_wait,
            repeat_interval=n.warning_repeat_interval,
            routes=(
                Route("raymontology-page", matchers=(("alertname", "=", "ServiceDown"),),
                      group_wait=n.critical_group_wait, repeat_interval=n.critical_repeat_interval),
                Route("raymontology-email-slack", matchers=(("severity", "=", "critical"),),
                      group_wait=n.critical_group_wait, repeat_interval=n.critical_repeat_interval),
            ),
        ),
        secrets=(n.slack_webhook_env, n.email_addresses_env, n.sms_webhook_env),
    )
