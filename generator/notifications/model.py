"""The routing model: receivers by kind (email, slack, sms) and one route tree, as
alerts/routing.py defines them; both renderers and the escalation read it.
"""

from __future__ import annotations

from dataclasses import dataclass


KINDS = ("email", "slack", "sms")  # the escalation ladder, in order (docs/targets.md §3)


@dataclass(frozen=True)
class Receiver:
    name: str
    kind: str  # email | slack | sms (a webhook to an SMS gateway)


@dataclass(frozen=True)
class Route:
    receiver: str
    matchers: tuple[tuple[str, str, str], ...] = ()  # (label, op, value)
    group_by: tuple[str, ...] = ()
    group_wait: str | None = None
    group_interval: str | None = None
    repeat_interval: str | None = None
    continue_: bool = False
    routes: tuple["Route", ...] = ()


@dataclass(frozen=True)
class AlertRouting:
    """The definition alerts/routing.py returns (formerly named `Notifications`)."""

    receivers: tuple[Receiver, ...]
    policy: Route


def unknown_kind(kind: str) -> str:
    return f"receiver kind {kind!r} is not one of {', '.join(KINDS)}"
