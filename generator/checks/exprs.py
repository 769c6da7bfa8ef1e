"""Every PromQL expression of a project, expanded as Grafana would, parsed once, and walked.

Panel queries are expanded with `generator.templating.expand` under a probe time context
whose macros have odd, recognisable values (68 s for `$__rate_interval`), so a check can
tell from a parsed range which macro, if any, produced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Iterator

import promql_parser as pp

from generator.catalog import Metric
from generator.normalize import prometheus_targets
from generator.templating import TimeContext, expand

#: Macros resolve to values no one writes by hand: 26 s, 68 s, 25207 s.
PROBE_TIME = TimeContext(range_seconds=7 * 3600 + 7, scrape_interval_seconds=17, max_data_points=1000)
MACRO_SECONDS = {
    PROBE_TIME.rate_interval_seconds: "$__rate_interval",
    PROBE_TIME.interval_seconds: "$__interval",
    PROBE_TIME.range_seconds: "$__range",
}
RANGE_FUNCTIONS = {"rate", "irate", "increase"}


@dataclass(frozen=True)
class Query:
    """One expression: where it comes from, as written, and as the server receives it."""

    loc: object  # generator.checks.Location
    raw: str
    text: str  # expanded (panels) or as written (rules)
    kind: str  # "panel" | "rule" | "record"
    panel: dict | None = None
    dashboard: dict | None = None


def iter_panels(dashboard: dict) -> Iterator[dict]:
    """Every panel, rows' children included (rows themselves too)."""
    for p in dashboard.get("panels", []):
        yield p
        if p.get("type") == "row":
            yield from p.get("panels", [])


def queries(project) -> list[Query]:
    """Every panel target and rule expression of the project (`project.queries`, built once)."""
    return project.queries


def project_queries(project) -> list[Query]:
    """Every panel target and rule expression of the project, in reading order."""
    from generator.checks import Location

    out = []
    for rel, d in project.dashboards:
        for p in iter_panels(d):
            for t in prometheus_targets(p):
                raw = t.get("expr")
                if not isinstance(raw, str) or t.get("hide"):
                    continue
                loc = Location(file=rel, dashboard=str(d.get("uid", "")), panel=p.get("title", ""))
                out.append(Query(loc, raw, expand(raw, d, time=PROBE_TIME), "panel", p, d))
    for rel, g, r in project.records():
        out.append(Query(Location(file=rel, group=g.name, rule=r.record), r.expr, r.expr, "record"))
    for rel, g, a in project.alerts():
        out.append(Query(Location(file=rel, group=g.name, rule=a.name), a.expr, a.expr, "rule"))
    return out


def parse(project, text: str):
    """(ast, None) or (None, parser message); each text parsed once per project."""
    cache = project.parsed_texts
    if text not in cache:
        try:
            cache[text] = (pp.parse(text), None)
        except Exception as exc:  # promql-parser raises ValueError with the parser's message
            cache[text] = (None, str(exc) or type(exc).__name__)
    return cache[text]


def parsed(project) -> Iterator[tuple[Query, object]]:
    """(query, ast) for every query that parses."""
    for q in queries(project):
        ast, _err = parse(project, q.text)
        if ast is not None:
            yield q, ast


@dataclass(frozen=True)
class SelectorUse:
    """One vector selector of a query, its ancestors, its literal metric name and what the
    project's catalog declares for that series (None: unknown, recorded or nameless)."""

    query: Query
    selector: pp.VectorSelector
    parents: tuple
    name: str | None
    hit: tuple[Metric, tuple[str, ...]] | None

    @property
    def loc(self):
        return self.query.loc


def lookup(project, vs: pp.VectorSelector) -> tuple[str | None, tuple[Metric, tuple[str, ...]] | None]:
    """(literal metric name, the catalog's (metric, labels) for it or None) of a selector."""
    name = metric_name(vs)
    return name, project.catalog.lookup(name) if name else None


def project_selectors(project) -> list[SelectorUse]:
    """Every vector selector of every query that parses (`project.selector_uses`, built once)."""
    out = []
    for q, ast in parsed(project):
        for vs, parents in selectors(ast):
            out.append(SelectorUse(q, vs, parents, *lookup(project, vs)))
    return out


# --- AST walking ---------------------------------------------------------------------------


def children(node) -> list:
    if isinstance(node, pp.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, pp.Call):
        return list(node.args)
    if isinstance(node, pp.AggregateExpr):
        return [x for x in (node.param, node.expr) if x is not None]
    if isinstance(node, pp.MatrixSelector):
        return [node.vector_selector]
    if isinstance(node, (pp.SubqueryExpr, pp.ParenExpr, pp.UnaryExpr)):
        return [node.expr]
    return []


def walk(node, parents: tuple = ()) -> Iterator[tuple[object, tuple]]:
    """(node, ancestors outermost first), depth first."""
    yield node, parents
    for c in children(node):
        yield from walk(c, parents + (node,))


def selectors(ast) -> Iterator[tuple[pp.VectorSelector, tuple]]:
    for node, parents in walk(ast):
        if isinstance(node, pp.VectorSelector):
            yield node, parents


def metric_name(vs: pp.VectorSelector) -> str | None:
    if vs.name:
        return vs.name
    for m in vs.matchers.matchers:
        if m.name == "__name__" and m.op == pp.MatchOp.Equal:
            return m.value
    return None


def matchers(vs: pp.VectorSelector) -> list:
    out = [m for m in vs.matchers.matchers if m.name != "__name__"]
    for group in vs.matchers.or_matchers or []:
        out.extend(m for m in group if m.name != "__name__")
    return out


def op_text(m) -> str:
    for op, text in ((pp.MatchOp.Equal, "="), (pp.MatchOp.NotEqual, "!="), (pp.MatchOp.Re, "=~"),
                     (pp.MatchOp.NotRe, "!~")):
        if m.op == op:
            return text
    return str(m.op)


def unwrap(node):
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def func_name(node) -> str | None:
    return node.func.name if isinstance(node, pp.Call) else None


def window_text(td: timedelta) -> str:
    """A range as the dashboard author wrote it: the macro's name when a macro produced it."""
    s = td.total_seconds()
    if s in MACRO_SECONDS:
        return MACRO_SECONDS[s]
    return pp.display_duration(td)
