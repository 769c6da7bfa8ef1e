"""Offline conversion between Grafana's classic dashboard JSON and the v2 dashboard model.

Grafana 13 can store a dashboard as v2 (`elements` + `layout`, typed variables, served under
/apis/dashboard.grafana.app/v2); dashgen renders, reviews and diffs the classic model. This
package converts between the two without a server:

    spec, report = to_v2(classic)          # classic dashboard -> v2 spec
    board, report = to_classic(spec)       # v2 spec -> classic dashboard
    is_v2(obj)                             # a v2 spec, a v2 resource or a Grafana 13 v2 export?
    board, report = load_any(obj)          # whatever it is, as a classic dashboard
    resource, report = to_v2_resource(classic, namespace="default")
    errors = validate_v2(spec)             # against the shipped v2 JSON schema

Every report names, by path and panel / variable / row, whatever the other model cannot hold
(report.losses; see generator.dashv2.report); nothing is dropped silently. Inputs are treated
as hostile: a shape that cannot be read raises generator.normalize.DashboardInputError naming
the JSON path. docs/v2-dashboards.md says what maps to what and what is lost.
"""

from __future__ import annotations

from typing import Any

from generator.dashv2.classic_to_v2 import to_v2
from generator.dashv2.report import CHANGED, KEPT, LOST, Entry, Report
from generator.dashv2.schema import schema_errors
from generator.dashv2.v2_to_classic import to_classic
from generator.normalize import DashboardInputError, dashboard_of

API_GROUP = "dashboard.grafana.app"
#: The API version dashgen writes v2 dashboards as.
V2_API_VERSION = f"{API_GROUP}/v2"
#: Versions whose spec is the v2 model (elements + layout); the others hold classic JSON.
V2_VERSIONS = ("v2", "v2beta1", "v2alpha1")
CLASSIC_VERSIONS = ("v0alpha1", "v1alpha1", "v1beta1", "v1")


def _resource_version(obj: dict) -> str | None:
    """The version of a dashboard resource `{apiVersion, kind, metadata, spec}`, else None."""
    api = obj.get("apiVersion")
    if not isinstance(obj.get("spec"), dict) or not isinstance(api, str) or not api.startswith(f"{API_GROUP}/"):
        return None
    if obj.get("kind", "Dashboard") != "Dashboard":
        return None
    return api.split("/", 1)[1]


def _is_v2_spec(obj: Any) -> bool:
    return isinstance(obj, dict) and "elements" in obj and "layout" in obj


def is_v2(obj: Any) -> bool:
    """Whether `obj` is a v2 dashboard: a bare v2 spec, or a dashboard resource (what the /apis
    routes answer and what Grafana 13 exports) whose spec is one."""
    if not isinstance(obj, dict):
        return False
    version = _resource_version(obj)
    if version is not None:
        return version in V2_VERSIONS or _is_v2_spec(obj["spec"])
    return _is_v2_spec(obj)


def load_any(obj: Any) -> tuple[dict, Report]:
    """The classic dashboard in `obj`, whatever its form: a classic dashboard, the legacy API's
    `{"dashboard": ..., "meta": ...}` envelope, a classic (v0/v1) resource or any v2 form.
    The uid of a resource is its metadata.name. The report is empty unless `obj` was v2."""
    if isinstance(obj, dict):
        version = _resource_version(obj)
        name = (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), dict) else None
        name = name if isinstance(name, str) and name else None
        if version is not None and (version in V2_VERSIONS or _is_v2_spec(obj["spec"])):
            return to_classic(obj["spec"], uid=name)
        if version is not None:
            board = dict(obj["spec"])
            if name and not board.get("uid"):
                board["uid"] = name
            return board, Report("classic")
        if _is_v2_spec(obj):
            return to_classic(obj)
    return dashboard_of(obj), Report("classic")


def to_v2_resource(classic: dict, namespace: str | None = None,
                   api_version: str = V2_API_VERSION) -> tuple[dict, Report]:
    """A v2 dashboard resource for the /apis routes: the spec of `to_v2`, the uid as
    metadata.name (left out when the dashboard has none), the namespace when given."""
    spec, report = to_v2(classic)
    metadata: dict = {}
    uid = classic.get("uid") if isinstance(classic, dict) else None
    if isinstance(uid, str) and uid:
        metadata["name"] = uid
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": "Dashboard", "metadata": metadata, "spec": spec}, report


def validate_v2(spec: Any) -> list[str]:
    """Why `spec` is not a valid v2 dashboard spec by the shipped JSON schema (one
    `path: message` line per error, at most 20); empty when it is valid."""
    return schema_errors(spec)


__all__ = [
    "API_GROUP", "CHANGED", "CLASSIC_VERSIONS", "KEPT", "LOST", "V2_API_VERSION", "V2_VERSIONS",
    "DashboardInputError", "Entry", "Report", "is_v2", "load_any", "to_classic", "to_v2", "to_v2_resource",
    "validate_v2",
]
