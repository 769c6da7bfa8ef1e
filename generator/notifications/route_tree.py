"""A route tree as a document, shared by the Grafana and the Alertmanager renderers (each
writes its own matcher syntax).
"""

from __future__ import annotations

from generator.notifications.model import Route


def route_doc(r: Route, matchers, root_group_by: tuple[str, ...] = ()) -> dict:
    """A route tree as a dict; `matchers(r.matchers)` gives the (key, value) of the matchers."""
    doc: dict = {"receiver": r.receiver}
    if r.group_by:
        doc["group_by"] = list(root_group_by) + list(r.group_by)
    if r.matchers:
        key, value = matchers(r.matchers)
        doc[key] = value
    for key, value in (("group_wait", r.group_wait), ("group_interval", r.group_interval),
                       ("repeat_interval", r.repeat_interval)):
        if value:
            doc[key] = value
    if r.continue_:
        doc["continue"] = True
    if r.routes:
        doc["routes"] = [route_doc(c, matchers) for c in r.routes]
    return doc
