"""Validation of a routing definition at load time, so the error names the definition file.
"""

from __future__ import annotations

from generator.errors import DefinitionError
from generator.notifications.model import KINDS, AlertRouting, Route, unknown_kind


def check_routing(routing: AlertRouting, rel: str) -> None:
    """Every receiver has a known kind, every route names a defined receiver, and receiver
    names are unique (at load time, so the error names the definition file)."""
    for r in routing.receivers:
        if r.kind not in KINDS:
            raise DefinitionError(rel, f"receiver {r.name!r}: {unknown_kind(r.kind)}")
    names = [r.name for r in routing.receivers]
    dupes = sorted({x for x in names if names.count(x) > 1})
    if dupes:
        raise DefinitionError(rel, f"receiver {dupes[0]!r} is defined twice")

    def walk(r: Route) -> None:
        if r.receiver not in names:
            raise DefinitionError(rel, f"route names receiver {r.receiver!r}, which is not defined "
                                       f"(defined: {', '.join(names)})")
        for c in r.routes:
            walk(c)

    walk(routing.policy)
