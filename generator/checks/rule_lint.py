"""Rule lint: names, severities, annotations, runbooks, `for` from the config, group size, records."""

from __future__ import annotations

import re
from dataclasses import fields

from generator.checks import WARNING, Issue, Location, check
from generator.checks.moved import moved_numbers
from generator.durations import duration
from generator.errors import DefinitionError
from generator.rules import NO_FOR, SEVERITIES, RuleGroup, rule_document, runbook_url

ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
MAX_ALERT_NAME = 40
MAX_RULES_PER_GROUP = 20
#: level:metric:operations (Prometheus naming practice; docs/metrics.md §12).
RECORD_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_]+(?::[a-zA-Z0-9_]+)*$")
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url")


def _loc(rel, g, name) -> Location:
    return Location(file=rel, group=g.name, rule=name)


@check("rule/alert-name")
def alert_name(project):
    """Alert names are CamelCase ([A-Z][A-Za-z0-9]*), at most 40 characters."""
    for rel, g, a in project.alerts():
        if not ALERT_NAME.match(a.name or ""):
            yield Issue(_loc(rel, g, a.name), f"alert name {a.name!r} is not CamelCase (like HighErrorRate)")
        elif len(a.name) > MAX_ALERT_NAME:
            yield Issue(_loc(rel, g, a.name), f"alert name has {len(a.name)} characters (at most {MAX_ALERT_NAME})")


@check("rule/severity")
def severity(project):
    """Every alert has a severity label: critical, warning or info."""
    for rel, g, a in project.alerts():
        doc = rule_document(project.cfg, a)
        value = (doc.get("labels") or {}).get("severity")
        if not value:
            yield Issue(_loc(rel, g, a.name), "alert has no severity (critical, warning or info)")
        elif value not in SEVERITIES:
            yield Issue(_loc(rel, g, a.name), f"severity {value!r} is not one of {', '.join(SEVERITIES)}")


@check("rule/annotations")
def annotations(project):
    """Every alert carries summary, description and runbook_url annotations, none of them empty."""
    for rel, g, a in project.alerts():
        ann = rule_document(project.cfg, a).get("annotations") or {}
        for key in REQUIRED_ANNOTATIONS:
            if not str(ann.get(key) or "").strip():
                yield Issue(_loc(rel, g, a.name), f"alert has no {key} annotation")


@check("rule/summary-style", severity=WARNING)
def summary_style(project):
    """A summary is one static sentence: capitalised, ending in a period, no template variables."""
    for rel, g, a in project.alerts():
        s = (a.summary or "").strip()
        if not s:
            continue  # rule/annotations reports it
        if not s[0].isupper() or not s.endswith("."):
            yield Issue(_loc(rel, g, a.name), f"summary {s!r} should be a capitalised sentence ending in a period")
        if "{{" in s:
            yield Issue(_loc(rel, g, a.name), "summary uses a template; put values in the description")


@check("rule/runbook")
def runbook(project):
    """Every alert has runbook steps, and its runbook_url points at its section of the runbooks page."""
    for rel, g, a in project.alerts():
        expected = runbook_url(project.cfg, a)
        got = (rule_document(project.cfg, a).get("annotations") or {}).get("runbook_url")
        if not (a.runbook or "").strip():
            yield Issue(_loc(rel, g, a.name), (f"alert has no runbook steps: its runbook_url ({expected}) would open "
                                               "an empty section; write Alert(runbook=...)"))
        if got and got != expected:
            yield Issue(_loc(rel, g, a.name), f"runbook_url {got!r} is not the alert's section {expected!r}")


@check("rule/dashboard-link")
def dashboard_link(project):
    """An alert's dashboard (dashboard_url) is a dashboard uid this project defines."""
    uids = {d.get("uid") for _rel, d in project.dashboards}
    for rel, g, a in project.alerts():
        if a.dashboard and a.dashboard not in uids:
            yield Issue(_loc(rel, g, a.name), (f"dashboard {a.dashboard!r} is not defined here (dashboards: "
                                               f"{', '.join(sorted(u for u in uids if u)) or 'none'}): the link in "
                                               "the notification would 404"))


def _for_fields(cfg) -> list[str]:
    return [f.name for f in fields(cfg.thresholds) if f.name.endswith("_for") and f.type in (str, "str")]


def _perturbed(cfg):
    """The config with every Thresholds *_for duration moved to a unique odd value."""
    changes, sentinel = {}, {}
    for i, name in enumerate(_for_fields(cfg)):
        value = duration(3 * 3600 + 17 * 60 + 7 * i + 1)  # e.g. 3h17m1s: nobody writes that by hand
        changes[name] = value
        sentinel[value] = name
    return cfg.with_thresholds(**changes), sentinel


def _alerts_with(project, cfg) -> dict:
    """{(group, alert name): Alert} built from the project's alert modules with `cfg`.

    Only alerts/ is rebuilt: dashboards may refuse an odd config (a threshold that is not
    a bucket bound) and are not what these checks compare. DefinitionError propagates.
    """
    from generator.loader import build_module, module_files, package

    out = {}
    pkg = package(project.root, project.result_cache)
    for path in module_files(project.root, "alerts"):
        _rel, built = build_module(project.root, "alerts", path, cfg, project.result_cache, pkg)
        groups = [built] if isinstance(built, RuleGroup) else built if isinstance(built, (list, tuple)) else []
        for g in groups:
            if isinstance(g, RuleGroup):
                out.update({(g.name, a.name): a for a in g.alerts})
    return out


@check("rule/for-config")
def for_from_config(project):
    """Every alert's `for` is a Thresholds *_for field of the config, never a literal in the rule."""
    # SLO burn alerts are generated (generator.slo): their `for` is SLOConfig.page_for/ticket_for.
    generated = {rel for rel, _s in getattr(project, "slos", [])}
    with_for = [(rel, g, a) for rel, g, a in project.alerts() if a.for_ not in NO_FOR and rel not in generated]
    if not with_for:
        return
    moved_cfg, sentinel = _perturbed(project.cfg)
    try:
        moved = _alerts_with(project, moved_cfg)
    except DefinitionError as exc:
        yield Issue(Location(file=exc.module), f"cannot rebuild the rules with changed *_for durations: {exc.cause}", WARNING)
        return
    moved_for = {key: a.for_ for key, a in moved.items()}
    for rel, g, a in with_for:
        other = moved_for.get((g.name, a.name))
        if other in sentinel:
            continue
        if other == a.for_:
            yield Issue(_loc(rel, g, a.name), (f"for: {a.for_} is written into the rule: read it from a "
                                               "cfg.thresholds.*_for field"))
        else:
            yield Issue(_loc(rel, g, a.name), (f"for: {a.for_} is computed, not a cfg.thresholds.*_for field "
                                               f"(with changed fields it became {other!r})"))


#: Comparison results that are part of the question, not a threshold: "is it down?", "is it set?".
TRIVIAL_BOUNDS = (0.0, 1.0)


def _comparison_numbers(expr: str) -> list[float] | None:
    import promql_parser as pp

    from generator.checks.exprs import walk

    try:
        ast = pp.parse(expr)
    except Exception:
        return None  # promql/parse reports it
    out = []
    for node, _p in walk(ast):
        if isinstance(node, pp.BinaryExpr) and str(node.op) in ("==", "!=", ">", "<", ">=", "<="):
            for side in (node.lhs, node.rhs):
                if isinstance(side, pp.NumberLiteral):
                    out.append(float(side.val))
    return out


@check("rule/threshold-config")
def threshold_from_config(project):
    """Every number an alert compares against comes from the config (0 and 1 aside): it moves when the config does."""
    try:
        moved = _alerts_with(project, moved_numbers(project.cfg, project.catalog))
    except DefinitionError as exc:
        yield Issue(Location(file=exc.module), f"cannot rebuild the rules with changed thresholds: {exc.cause}", WARNING)
        return
    for rel, g, a in project.alerts():
        before = _comparison_numbers(a.expr)
        other = moved.get((g.name, a.name))
        after = _comparison_numbers(other.expr) if other is not None else None
        if before is None or after is None or len(before) != len(after):
            continue
        for old, new in zip(before, after):
            if old == new and old not in TRIVIAL_BOUNDS:
                yield Issue(_loc(rel, g, a.name), (f"the comparison with {old:g} is written into the rule: take the "
                                                   "number from cfg.thresholds so panels and alerts move together"))


@check("rule/group-size")
def group_size(project):
    """A rule group holds at most 20 rules (mixtool; large groups evaluate late)."""
    for rel, g in project.groups:
        if len(g.rules) > MAX_RULES_PER_GROUP:
            yield Issue(Location(file=rel, group=g.name), (f"group has {len(g.rules)} rules; split it "
                                                           f"(at most {MAX_RULES_PER_GROUP})"))


@check("rule/duplicate-alert")
def duplicate_alert(project):
    """No two alerts share a name across all groups (alertname identifies the page and the runbook)."""
    seen: dict[str, str] = {}
    for rel, g, a in project.alerts():
        if a.name in seen:
            yield Issue(_loc(rel, g, a.name), f"alert {a.name} is also defined in {seen[a.name]}")
        else:
            seen[a.name] = f"{rel} (group {g.name})"


@check("rule/record-name")
def record_name(project):
    """Recording rules are named level:metric:operations."""
    for rel, g, r in project.records():
        if not RECORD_NAME.match(r.record or ""):
            yield Issue(_loc(rel, g, r.record), (f"record name {r.record!r} is not level:metric:operations "
                                                 "(like job:http_requests:rate5m)"))
