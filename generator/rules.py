"""Prometheus alerting and recording rules as data, rendered to promtool-valid YAML.

Alert modules build `RuleGroup`s of `Alert` and `Record`; `group_document()` adds the
annotations every alert carries (runbook_url, dashboard_url) in one pass, so no module
can forget them, and `dumps()` writes them with a fixed key order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import yaml

from generator.config import Config

SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class Alert:
    name: str  # CamelCase alertname
    expr: str
    severity: str
    summary: str  # a static sentence ending in a period
    description: str  # may use {{ $value }} and {{ $labels.x }}
    for_: str = "0m"
    keep_firing_for: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    dashboard: str | None = None  # uid the alert's dashboard_url points at
    runbook: str = ""  # Markdown steps, rendered into rendered/docs/runbooks.md

    @property
    def anchor(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Record:
    record: str  # level:metric:operations
    expr: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple
    interval: str | None = None  # None: the config's rule_interval

    def __init__(self, name: str, rules: Iterable, interval: str | None = None):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "rules", tuple(rules))
        object.__setattr__(self, "interval", interval)

    @property
    def alerts(self) -> list[Alert]:
        return [r for r in self.rules if isinstance(r, Alert)]

    @property
    def records(self) -> list[Record]:
        return [r for r in self.rules if isinstance(r, Record)]


def _clean(expr: str) -> str:
    """Multi-line expressions keep their lines; trailing spaces go."""
    lines = [ln.rstrip() for ln in expr.strip("\n").splitlines()]
    indent = min((len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()), default=0)
    return "\n".join(ln[indent:] for ln in lines)


def runbook_url(cfg: Config, alert: Alert) -> str:
    return f"{cfg.runbook_base_url}#{alert.anchor}"


def dashboard_url(cfg: Config, uid: str) -> str:
    return f"{cfg.grafana_url.rstrip('/')}/d/{uid}"


#: `for` values that mean "fire at once": no `for:` is written, and no wait is tested for.
NO_FOR = (None, "", "0", "0s", "0m")


def rule_document(cfg: Config, rule) -> dict:
    if isinstance(rule, Record):
        doc = {"record": rule.record, "expr": _clean(rule.expr)}
        if rule.labels:
            doc["labels"] = dict(rule.labels)
        return doc
    doc = {"alert": rule.name, "expr": _clean(rule.expr)}
    if rule.for_ not in NO_FOR:
        doc["for"] = rule.for_
    if rule.keep_firing_for:
        doc["keep_firing_for"] = rule.keep_firing_for
    doc["labels"] = {"severity": rule.severity, **rule.labels}
    annotations = {
        "summary": rule.summary,
        "description": rule.description,
        "runbook_url": runbook_url(cfg, rule),
    }
    if rule.dashboard:
        annotations["dashboard_url"] = dashboard_url(cfg, rule.dashboard)
    doc["annotations"] = annotations
    return doc


def group_document(cfg: Config, group: RuleGroup) -> dict:
    return {
        "groups": [
            {
                "name": group.name,
                "interval": group.interval or cfg.rule_interval,
                "rules": [rule_document(cfg, r) for r in group.rules],
            }
        ]
    }


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dumps(document: dict, header: str = "", cache=None) -> str:
    """`document` as YAML after `header`. Given a project cache (generator.cache.ProjectCache,
    as `dashgen render` passes), the text of a document seen before is taken from it: PyYAML's
    emitter was a tenth of a render, for the same rule files every time."""
    key = _document_key(document) if cache is not None else None
    if key is not None:
        hit = cache.get(_YAML_KIND, key)
        if hit is not None:
            try:
                return header + hit.decode("utf-8", "surrogatepass")
            except UnicodeDecodeError:
                pass
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000,
                     default_flow_style=False)
    if key is not None:
        cache.put(_YAML_KIND, key, body.encode("utf-8", "surrogatepass"))
    return header + body


_YAML_KIND = "yaml"  # the project cache's folder for dumped documents
_dumper_id: list[bytes] = []  # what else decides the text: this module's code, PyYAML's and Python's versions


class _Uncacheable(Exception):
    pass


def _document_key(document) -> str | None:
    """A SHA-256 of everything the YAML text depends on: the document as a typed tree (exact
    types only: str, int, float, bool, None, dict, list), this module's source, PyYAML's and
    Python's versions; None (dump it afresh) for anything else, or a dict or list that
    appears twice (PyYAML writes anchors for those)."""
    import hashlib
    import sys
    from pathlib import Path

    if not _dumper_id:
        _dumper_id.append(hashlib.sha256(Path(__file__).read_bytes()).digest()
                          + f"\0{yaml.__version__}\0{sys.version}".encode())
    h = hashlib.sha256(_dumper_id[0])
    seen: set[int] = set()

    def walk(obj) -> None:
        t = type(obj)
        if t is str:
            b = obj.encode("utf-8", "surrogatepass")
            h.update(b"s%d:" % len(b) + b)
        elif obj is None or t is bool or t is int or t is float:
            r = repr(obj).encode()
            h.update(b"%s%d:" % (t.__name__.encode(), len(r)) + r)
        elif t is dict or t is list:
            if id(obj) in seen:
                raise _Uncacheable
            seen.add(id(obj))
            h.update(b"%s%d:" % (t.__name__.encode(), len(obj)))
            for item in (obj.items() if t is dict else obj):
                if t is dict:
                    walk(item[0])
                    walk(item[1])
                else:
                    walk(item)
        else:
            raise _Uncacheable

    try:
        walk(document)
    except (_Uncacheable, RecursionError):
        return None
    return h.hexdigest()
